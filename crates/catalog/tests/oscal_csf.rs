//! NIST CSF 2.0 from NIST's OSCAL XML catalog.

use attest_catalog::oscal::parse_csf2_xml;
use attest_domain::framework::Framework;

const CSF: &str = include_str!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/nist-csf-2.0/NIST_CSF_v2.0_catalog.xml"
));

fn csf() -> Framework {
    parse_csf2_xml(CSF).unwrap_or_else(|p| panic!("{p:#?}"))
}

#[test]
fn counts_of_functions_categories_and_subcategories() {
    let fw = csf();
    assert_eq!(
        (
            fw.id.as_str(),
            fw.name.as_str(),
            fw.version.as_str(),
            fw.publisher.as_str()
        ),
        (
            "nist-csf-2.0",
            "NIST Cybersecurity Framework 2.0",
            "2.0",
            "NIST"
        )
    );
    assert_eq!(fw.count_kind("function", false), 6);
    assert_eq!(fw.count_kind("category", false), 22);
    assert_eq!(fw.count_kind("subcategory", false), 106);
    assert_eq!(fw.assessable().count(), 106);
    // CSF 1.1 items that 2.0 withdrew stay, marked.
    assert_eq!(fw.count_kind("category", true), 34);
    assert_eq!(fw.count_kind("subcategory", true), 185);
}

#[test]
fn an_active_subcategory_and_a_withdrawn_one() {
    let fw = csf();
    let gv = fw.requirement("GV").unwrap();
    assert_eq!(
        (gv.title.as_str(), gv.kind.as_str(), gv.assessable),
        ("Govern", "function", false)
    );
    assert!(
        gv.text
            .as_deref()
            .unwrap()
            .starts_with("The organization's cybersecurity risk management strategy")
    );

    let oc = fw.requirement("GV.OC-01").unwrap();
    assert_eq!(
        oc.title,
        "The organizational mission is understood and informs cybersecurity risk management"
    );
    assert_eq!(oc.parent.as_deref(), Some("GV.OC"));
    assert!(oc.assessable && !oc.withdrawn);
    let text = oc.text.as_deref().unwrap();
    assert!(text.starts_with("The organizational mission is understood and informs cybersecurity risk management\n\nExamples:\n- Share the organization's mission (e.g., through vision and mission statements, marketing, and service strategies)"), "{text}");
    assert_eq!(oc.props["label"], "GV.OC-01");
    assert_eq!(
        fw.requirement("GV.OC").unwrap().title,
        "Organizational Context"
    );

    let be = fw.requirement("ID.BE-01").unwrap();
    assert!(be.withdrawn && !be.assessable);
    assert_eq!(
        be.title,
        "The organization’s role in the supply chain is identified and communicated"
    );
    let category = fw.requirement("ID.BE").unwrap();
    assert!(category.withdrawn && category.text.is_none());
}

#[test]
fn broken_xml_is_refused_with_where() {
    let problems = parse_csf2_xml("<catalog>\n<group id=\"GV\">\n</catalog>").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].at.starts_with("line "), "{problems:?}");
    let problems =
        parse_csf2_xml("<catalog><group class=\"function\"><title>X</title></group></catalog>")
            .unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.at == "/catalog/group[1]" && p.message.contains("no id")),
        "{problems:?}"
    );
}
