//! The built-in catalogs load, their mapping sets check out against them, and search and
//! the crosswalk work over them.

use attest_catalog::registry::Catalogs;
use attest_domain::mapping::Relationship;

#[test]
fn builtins_load_with_the_published_counts() {
    let c = Catalogs::load().unwrap_or_else(|p| panic!("{p:#?}"));
    let count = |id: &str| {
        c.framework(id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .assessable()
            .count()
    };
    assert_eq!(
        c.framework("iso27001-2022")
            .unwrap()
            .count_kind("control", true),
        93
    );
    assert_eq!(
        c.framework("iso27001-2013")
            .unwrap()
            .count_kind("control", true),
        114
    );
    assert_eq!(count("soc2-tsc-2017"), 61);
    assert_eq!(
        c.framework("cis-v8").unwrap().count_kind("safeguard", true),
        153
    );
    let csf = c.framework("nist-csf-2.0").unwrap();
    assert_eq!(
        (
            csf.count_kind("function", false),
            csf.count_kind("category", false),
            csf.count_kind("subcategory", false)
        ),
        (6, 22, 106)
    );
    let sp = c.framework("nist-800-53r5").unwrap();
    assert_eq!(
        (
            sp.count_kind("family", true),
            sp.count_kind("control", true),
            sp.count_kind("enhancement", true)
        ),
        (20, 322, 867)
    );
    for (id, n) in [
        ("low", 149),
        ("moderate", 287),
        ("high", 370),
        ("privacy", 96),
    ] {
        let b = c.framework(&format!("nist-800-53r5-{id}")).unwrap();
        let controls = b
            .requirements
            .iter()
            .filter(|r| r.kind == "control" || r.kind == "enhancement")
            .count();
        assert_eq!(controls, n, "{id}");
        assert_eq!(b.profile_of.as_deref(), Some("nist-800-53r5"));
        assert!(c.oscal_document(&b.id).is_some());
    }
    assert_eq!(c.mappings().sets().len(), 5);
}

#[test]
fn search_and_crosswalk() {
    let c = Catalogs::shared();
    let hits = c.search().search("A.5.15", 10);
    assert!(
        hits.iter()
            .any(|h| h.framework == "iso27001-2022" && h.requirement == "A.5.15"),
        "{hits:?}"
    );
    assert!(!c.search().search("access control", 50).is_empty());
    // ISO 2022 A.5.15 reaches SOC 2 directly and CSF 2.0 through NIST's (reversed) set.
    let edges = c.mappings().edges("iso27001-2022", "A.5.15");
    assert!(
        edges
            .iter()
            .any(|e| e.framework == "soc2-tsc-2017" && e.requirement == "CC6.1")
    );
    assert!(edges.iter().any(|e| e.framework == "nist-csf-2.0"
        && e.reversed
        && e.rel == Relationship::IntersectsWith));
    // SP 800-53 enhancements in NIST's CSV meet the catalog's ids.
    assert!(
        c.mappings()
            .edges("nist-800-53r5", "ac-17.1")
            .iter()
            .any(|e| e.framework == "iso27001-2022")
    );
    // CSF 2.0 and SOC 2 have no set of their own: links derive through ISO/IEC 27001:2022.
    assert!(
        c.mappings()
            .direct_sets("nist-csf-2.0", "soc2-tsc-2017")
            .is_empty()
    );
    let derived = c.mappings().derive("nist-csf-2.0", "soc2-tsc-2017");
    assert!(!derived.is_empty());
    assert!(derived.iter().all(|d| d.pivot_framework == "iso27001-2022"));
}
