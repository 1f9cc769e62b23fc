//! A framework that did not come from OSCAL, exported as an OSCAL 1.2.1 catalog and read back.

use std::collections::BTreeMap;

use attest_catalog::oscal::{ATTEST_NS, export_catalog, parse_catalog};
use attest_domain::framework::{Framework, Origin, Requirement};
use serde_json::Value;

const SCHEMA: &[u8] = include_bytes!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/oscal-schemas-1.2.1/oscal_catalog_schema.json"
));

fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_slice(SCHEMA).unwrap();
    let validator =
        jsonschema::validator_for(&schema).expect("the OSCAL 1.2.1 catalog schema compiles");
    validator
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn req(id: &str, parent: Option<&str>, kind: &str, assessable: bool) -> Requirement {
    Requirement {
        id: id.into(),
        parent: parent.map(Into::into),
        kind: kind.into(),
        title: format!("Title of {id}"),
        text: None,
        props: BTreeMap::new(),
        withdrawn: false,
        assessable,
    }
}

/// Controls come before groups at each level, as OSCAL JSON keeps them.
fn small_framework() -> Framework {
    let mut reqs = vec![
        req("X/1", None, "Annex control", true),
        req("4", None, "clause", false),
        req("4.1", Some("4"), "clause", true),
        req("4.1.1", Some("4.1"), "clause", true),
        req("4.1-note", Some("4.1"), "note", false),
        req("A.5", None, "theme", false),
        req("A.5.15", Some("A.5"), "control", true),
        req("CC6", None, "series", false),
        req("CC6.1", Some("CC6"), "criterion", true),
        req("CC6.2", Some("CC6"), "criterion", true),
    ];
    reqs[2].text = Some(
        "The organization shall determine external and internal issues.\n\nSecond paragraph."
            .into(),
    );
    reqs[6].text =
        Some("Rules to control physical and logical access shall be established.".into());
    reqs[6].props = BTreeMap::from([
        ("category".to_string(), "Organizational".to_string()),
        ("points of focus".to_string(), "not a token".to_string()),
        ("ig".to_string(), "1".to_string()),
    ]);
    reqs[9].withdrawn = true;
    Framework {
        id: "test-export".into(),
        name: "A small framework".into(),
        version: "2022".into(),
        publisher: "Attest tests".into(),
        description: "Groups, controls and awkward ids.".into(),
        origin: Origin::Imported {
            format: "yaml".into(),
        },
        profile_of: None,
        requirements: reqs,
    }
}

#[test]
fn export_meets_the_schema() {
    let doc = export_catalog(&small_framework());
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    assert_eq!(doc["catalog"]["metadata"]["oscal-version"], "1.2.1");
}

#[test]
fn the_schema_check_catches_a_bad_id_and_a_missing_title() {
    let mut doc = export_catalog(&small_framework());
    doc["catalog"]["controls"][0]["id"] = "4.1".into();
    doc["catalog"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("title");
    let errors = schema_errors(&doc);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/catalog/controls/0/id")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("/catalog/metadata")),
        "{errors:#?}"
    );
}

#[test]
fn export_then_import_gives_the_same_requirements() {
    let fw = small_framework();
    let doc = export_catalog(&fw);
    let back = parse_catalog(doc.to_string().as_bytes(), &fw.id, fw.origin.clone())
        .unwrap_or_else(|p| panic!("{p:#?}\n{doc:#}"))
        .framework;
    let essentials = |f: &Framework| -> Vec<_> {
        f.requirements
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    r.parent.clone(),
                    r.kind.clone(),
                    r.title.clone(),
                    r.text.clone(),
                    r.withdrawn,
                    r.assessable,
                )
            })
            .collect()
    };
    assert_eq!(essentials(&back), essentials(&fw));
    assert_eq!(
        (
            &back.name,
            &back.version,
            &back.publisher,
            &back.description
        ),
        (&fw.name, &fw.version, &fw.publisher, &fw.description)
    );
    let a515 = back.requirement("A.5.15").unwrap();
    assert_eq!(
        a515.props.get("category").map(String::as_str),
        Some("Organizational")
    );
    assert_eq!(
        a515.props.get("points of focus"),
        None,
        "a prop name that is not a token is left out"
    );
    assert_eq!(a515.props.get("label").map(String::as_str), Some("A.5.15"));
}

#[test]
fn ids_become_tokens_and_keep_the_original() {
    let doc = export_catalog(&small_framework());
    let groups = doc["catalog"]["groups"].as_array().unwrap();
    let clause = &groups[0]["controls"][0];
    assert_eq!(clause["id"], "_4.1");
    let props = clause["props"].as_array().unwrap();
    assert!(
        props
            .iter()
            .any(|p| p["name"] == "attest-id" && p["ns"] == ATTEST_NS && p["value"] == "4.1"),
        "{props:?}"
    );
    assert!(
        props
            .iter()
            .any(|p| p["name"] == "label" && p["value"] == "4.1"),
        "{props:?}"
    );
    assert_eq!(clause["parts"][0]["name"], "statement");
    assert_eq!(
        groups[1]["controls"][0]["id"], "A.5.15",
        "a token stays as it is"
    );
    assert_eq!(doc["catalog"]["controls"][0]["id"], "X_1");
    let withdrawn = &groups[2]["controls"][1];
    assert!(
        withdrawn["props"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "status" && p["value"] == "withdrawn")
    );
}

#[test]
fn two_exports_differ_only_in_last_modified() {
    let fw = small_framework();
    let mut first = export_catalog(&fw);
    std::thread::sleep(std::time::Duration::from_millis(2));
    let mut second = export_catalog(&fw);
    assert_ne!(
        first["catalog"]["metadata"]["last-modified"],
        second["catalog"]["metadata"]["last-modified"]
    );
    for doc in [&mut first, &mut second] {
        doc["catalog"]["metadata"]["last-modified"] = Value::Null;
    }
    assert_eq!(first, second);
    let mut other = fw.clone();
    other.id = "test-export-2".into();
    assert_ne!(
        export_catalog(&other)["catalog"]["uuid"],
        second["catalog"]["uuid"]
    );
}
