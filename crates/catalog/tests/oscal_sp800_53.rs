//! NIST SP 800-53 rev 5 as NIST publishes it: the catalog, its four baselines, the lossless
//! round trip, and the OSCAL 1.2.1 schema.

use std::time::Instant;

use attest_catalog::oscal::{parse_catalog, resolve_profile};
use attest_domain::framework::{Framework, Origin};
use serde_json::Value;

const CATALOG: &[u8] = include_bytes!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/nist-sp800-53r5/NIST_SP-800-53_rev5_catalog.2021-06-08.json"
));
const BASELINES: [(&str, &[u8], usize); 4] = [
    (
        "LOW",
        include_bytes!(concat!(
            env!("ATTEST_NIST_DATA"),
            "/nist-sp800-53r5/NIST_SP-800-53_rev5_LOW-baseline_profile.json"
        )),
        149,
    ),
    (
        "MODERATE",
        include_bytes!(concat!(
            env!("ATTEST_NIST_DATA"),
            "/nist-sp800-53r5/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"
        )),
        287,
    ),
    (
        "HIGH",
        include_bytes!(concat!(
            env!("ATTEST_NIST_DATA"),
            "/nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline_profile.json"
        )),
        370,
    ),
    (
        "PRIVACY",
        include_bytes!(concat!(
            env!("ATTEST_NIST_DATA"),
            "/nist-sp800-53r5/NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json"
        )),
        96,
    ),
];
const SCHEMA: &[u8] = include_bytes!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/oscal-schemas-1.2.1/oscal_catalog_schema.json"
));

fn sp800_53() -> attest_catalog::oscal::OscalCatalog {
    parse_catalog(CATALOG, "nist-sp800-53r5", Origin::BuiltIn)
        .expect("NIST's catalog reads without problems")
}

/// The catalog for the baselines' import: its back-matter resource links to the catalog file.
fn catalog_for(catalog: &Value) -> impl Fn(&str) -> Option<Value> + '_ {
    move |href: &str| {
        href.ends_with("/NIST_SP-800-53_rev5_catalog.json")
            .then(|| catalog.clone())
    }
}

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

fn count_controls(node: &Value) -> usize {
    let list = |field: &str| {
        node.get(field)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    list("controls")
        .iter()
        .map(|c| 1 + count_controls(c))
        .sum::<usize>()
        + list("groups").iter().map(count_controls).sum::<usize>()
}

#[test]
fn catalog_has_every_family_control_and_enhancement() {
    let fw = sp800_53().framework;
    assert_eq!(fw.count_kind("family", true), 20);
    assert_eq!(fw.count_kind("control", true), 322);
    assert_eq!(fw.count_kind("enhancement", true), 867);
    assert_eq!(
        fw.requirements.iter().filter(|r| r.assessable).count(),
        1189
    );
    assert_eq!(fw.requirements.iter().filter(|r| r.withdrawn).count(), 182);
    assert_eq!(fw.assessable().count(), 1189 - 182);
    assert_eq!(
        fw.name,
        "NIST Special Publication 800-53 Revision 5: Security and Privacy Controls for Federal Information Systems and Organizations"
    );
    assert_eq!(
        (fw.version.as_str(), fw.publisher.as_str()),
        ("5.0.1", "Joint Task Force, Interagency Working Group")
    );

    let id = |r: &str| {
        let mut parts = r.splitn(2, '-');
        let (family, rest) = (parts.next().unwrap(), parts.next().unwrap_or(""));
        let (number, enhancement) = rest
            .split_once('.')
            .map_or((rest, None), |(n, e)| (n, Some(e)));
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        family.len() == 2
            && family.chars().all(|c| c.is_ascii_lowercase())
            && digits(number)
            && enhancement.is_none_or(digits)
    };
    for r in fw.requirements.iter().filter(|r| r.kind != "family") {
        assert!(id(&r.id), "`{}` is not like ac-2 or ac-2.1", r.id);
        let parent = fw.requirement(r.parent.as_deref().unwrap()).unwrap();
        assert_eq!(
            parent.kind,
            if r.kind == "enhancement" {
                "control"
            } else {
                "family"
            },
            "{}",
            r.id
        );
    }

    let withdrawn = fw.requirement("ac-2.10").unwrap();
    assert!(withdrawn.withdrawn && withdrawn.text.is_none());
    assert_eq!(withdrawn.props["status"], "withdrawn");
    let ac2 = fw.requirement("ac-2").unwrap();
    assert!(!ac2.withdrawn && ac2.assessable);
    assert_eq!(
        (
            ac2.title.as_str(),
            ac2.parent.as_deref(),
            ac2.props["label"].as_str()
        ),
        ("Account Management", Some("ac"), "AC-2")
    );
    let text = ac2.text.as_deref().unwrap();
    assert!(
        text.starts_with("a. Define and document the types of accounts allowed"),
        "{text}"
    );
    assert!(text.contains("\nc. Require [Assignment: organization-defined prerequisites and criteria] for group and role membership;"), "{text}");
    assert!(
        text.contains("\n  1. Authorized users of the system;\n"),
        "{text}"
    );
    let ac1 = fw.requirement("ac-1").unwrap().text.clone().unwrap();
    assert!(ac1.contains("[Selection (one or more): Organization-level; Mission/business process-level; System-level]"), "{ac1}");
    assert!(ac1.contains("\n    (a) Addresses purpose, scope"), "{ac1}");
}

#[test]
fn catalog_round_trips_losslessly_and_meets_the_1_2_1_schema() {
    let original: Value = serde_json::from_slice(CATALOG).unwrap();
    let parsed = sp800_53();
    assert_eq!(parsed.document, original);
    let errors = schema_errors(&parsed.document);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn baselines_resolve_to_their_controls() {
    let catalog = sp800_53().document;
    for (name, profile, expected) in BASELINES {
        let resolved = resolve_profile(profile, &catalog_for(&catalog))
            .unwrap_or_else(|p| panic!("{name}: {p:#?}"));
        assert_eq!(count_controls(&resolved["catalog"]), expected, "{name}");
        let fw = parse_catalog(
            resolved.to_string().as_bytes(),
            "nist-sp800-53r5-baseline",
            Origin::BuiltIn,
        )
        .unwrap_or_else(|p| panic!("{name}: {p:#?}"))
        .framework;
        assert_eq!(
            fw.assessable().count() + fw.requirements.iter().filter(|r| r.withdrawn).count(),
            expected,
            "{name}"
        );
        assert!(
            fw.name.ends_with(&format!("{name} BASELINE"))
                || fw.name.ends_with(&format!("{name} IMPACT BASELINE")),
            "{}",
            fw.name
        );

        let metadata = &resolved["catalog"]["metadata"];
        assert_eq!(metadata["links"][0]["rel"], "source-profile");
        assert_eq!(metadata["oscal-version"], "1.2.1");
        // Only the resources the chosen controls cite, and the profile itself, stay.
        let resources = resolved["catalog"]["back-matter"]["resources"]
            .as_array()
            .unwrap();
        assert!(resources.len() < 192, "{name}: {}", resources.len());
        let text = resolved.to_string();
        for r in resources {
            assert!(
                text.matches(&format!("#{}", r["uuid"].as_str().unwrap()))
                    .count()
                    >= 1
            );
        }
    }
}

#[test]
fn privacy_baseline_keeps_enhancements_whose_base_control_it_does_not_select() {
    let catalog = sp800_53().document;
    let resolved = resolve_profile(BASELINES[3].1, &catalog_for(&catalog)).unwrap();
    let ac = resolved["catalog"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "ac")
        .unwrap();
    let ids: Vec<&str> = ac["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ac-1", "ac-3.14"]);
}

#[test]
fn resolved_moderate_meets_the_schema_and_round_trips() {
    let catalog = sp800_53().document;
    let resolved = resolve_profile(BASELINES[1].1, &catalog_for(&catalog)).unwrap();
    let errors = schema_errors(&resolved);
    assert!(errors.is_empty(), "{errors:#?}");

    let first = parse_catalog(
        &serde_json::to_vec(&resolved).unwrap(),
        "sp800-53-moderate",
        Origin::BuiltIn,
    )
    .unwrap();
    assert_eq!(first.document, resolved);
    let again: Framework = parse_catalog(
        &serde_json::to_vec(&first.document).unwrap(),
        "sp800-53-moderate",
        Origin::BuiltIn,
    )
    .unwrap()
    .framework;
    assert_eq!(again, first.framework);
    // PM and PT are not allocated to the security baselines, and as-is drops empty groups.
    assert_eq!(first.framework.count_kind("family", true), 18);
    assert!(
        first.framework.requirement("pm").is_none() && first.framework.requirement("pt").is_none()
    );
    assert!(
        first
            .framework
            .requirement("ac-2.1")
            .is_some_and(|r| r.kind == "enhancement" && r.parent.as_deref() == Some("ac-2"))
    );
}

/// Start-up cost: run with `cargo test --release -p attest-catalog -- --nocapture startup_cost`.
#[test]
fn startup_cost() {
    let started = Instant::now();
    let catalog = sp800_53();
    let parsed = started.elapsed();
    for (name, profile, _) in BASELINES {
        resolve_profile(profile, &catalog_for(&catalog.document))
            .unwrap_or_else(|p| panic!("{name}: {p:#?}"));
    }
    println!(
        "SP 800-53: parse {parsed:?}, parse and resolve the four baselines {:?}",
        started.elapsed()
    );
}
