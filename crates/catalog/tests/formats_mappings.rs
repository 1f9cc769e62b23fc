//! The team's mapping sets and NIST's mapping files load and agree with the catalogs.

mod formats_support;

use std::collections::BTreeSet;

use attest_catalog::formats::{
    MappingMeta, check_mapping_set, parse_mapping_csv, parse_mapping_yaml,
};
use attest_domain::mapping::{MappingSet, Relationship};
use formats_support::{
    CSF_11, ISO_2013, ISO_2022, MAP_ISO_2013_2022, MAP_ISO_SOC2, NIST_CSF2_ISO, NIST_CSF11_CSF2,
    NIST_SP800_53_ISO, SOC2, load, of_kind, stub, texts,
};

fn meta(id: &str, source: &str, target: &str) -> MappingMeta {
    MappingMeta {
        id: id.into(),
        name: format!("{source} to {target} (NIST)"),
        source_framework: source.into(),
        target_framework: target.into(),
        authority: "NIST".into(),
        reference: "NIST OLIR / CPRT".into(),
        date: "2024-02-26".into(),
    }
}

fn nist(text: &str, id: &str, source: &str, target: &str) -> MappingSet {
    parse_mapping_csv(text, meta(id, source, target))
        .unwrap_or_else(|p| panic!("{id}: {:#?}", texts(&p)))
}

#[test]
fn iso_2013_to_2022_maps_every_2013_control_and_lists_the_11_new_ones() {
    let set = parse_mapping_yaml(MAP_ISO_2013_2022).unwrap_or_else(|p| panic!("{:#?}", texts(&p)));
    let (old, new) = (load(ISO_2013), load(ISO_2022));
    assert_eq!(
        texts(&check_mapping_set(&set, &old, &new)),
        Vec::<String>::new()
    );

    let mapped: BTreeSet<&str> = set.links.iter().map(|l| l.source.as_str()).collect();
    let controls_2013: BTreeSet<&str> = of_kind(&old, "control")
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(mapped, controls_2013);
    assert_eq!(mapped.len(), 114);

    let new_ones: BTreeSet<&str> = set.new_in_target.iter().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "A.5.7", "A.5.23", "A.5.30", "A.7.4", "A.8.9", "A.8.10", "A.8.11", "A.8.12", "A.8.16",
        "A.8.23", "A.8.28",
    ]
    .into();
    assert_eq!(new_ones, expected);
    assert_eq!(set.new_in_target.len(), 11);
    // Every 2022 control is either where some 2013 control went or new.
    let targets: BTreeSet<&str> = set.links.iter().map(|l| l.target.as_str()).collect();
    let controls_2022: BTreeSet<&str> = of_kind(&new, "control")
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(&targets | &new_ones, controls_2022);
    assert!(set.links.iter().all(|l| l.rel != Relationship::NotRelated));
}

#[test]
fn iso_2022_to_soc2_checks_out() {
    let set = parse_mapping_yaml(MAP_ISO_SOC2).unwrap_or_else(|p| panic!("{:#?}", texts(&p)));
    assert_eq!(
        (set.source_framework.as_str(), set.target_framework.as_str()),
        ("iso27001-2022", "soc2-tsc-2017")
    );
    assert_eq!(
        texts(&check_mapping_set(&set, &load(ISO_2022), &load(SOC2))),
        Vec::<String>::new()
    );
    // The header comment says A.5.32 is left out on purpose.
    assert!(set.links.iter().all(|l| l.source != "A.5.32"));
    assert!(set.links.len() > 200, "{}", set.links.len());
}

#[test]
fn nist_sp800_53_to_iso_2022_targets_exist() {
    let set = nist(
        NIST_SP800_53_ISO,
        "nist-sp800-53r5_to_iso27001-2022",
        "nist-sp800-53r5",
        "iso27001-2022",
    );
    assert_eq!(set.links.len(), 642);
    assert!(
        set.links
            .iter()
            .all(|l| l.rel == Relationship::IntersectsWith)
    );
    // SP 800-53's catalog is not ours to read here: only the ISO side is checked.
    let source = stub(
        "nist-sp800-53r5",
        set.links.iter().map(|l| l.source.clone()),
    );
    assert_eq!(
        texts(&check_mapping_set(&set, &source, &load(ISO_2022))),
        Vec::<String>::new()
    );
}

#[test]
fn nist_csf_2_to_iso_2022_targets_exist_and_two_rows_repeat() {
    let set = nist(
        NIST_CSF2_ISO,
        "nist-csf-2.0_to_iso27001-2022",
        "nist-csf-2.0",
        "iso27001-2022",
    );
    assert_eq!(set.links.len(), 343);
    let source = stub("nist-csf-2.0", set.links.iter().map(|l| l.source.clone()));
    // NIST's file lists GV.OC-03 → 4.2 and GV.OC-04 → 4.2 twice each (lines 19 and 23).
    let problems = texts(&check_mapping_set(&set, &source, &load(ISO_2022)));
    assert_eq!(
        problems,
        [
            "links[17]: `GV.OC-03` → `4.2` is mapped twice (first at links[16])",
            "links[21]: `GV.OC-04` → `4.2` is mapped twice (first at links[20])",
        ]
    );
}

#[test]
fn nist_csf_1_1_to_2_0_sources_exist() {
    let set = nist(
        NIST_CSF11_CSF2,
        "nist-csf-1.1_to_nist-csf-2.0",
        "nist-csf-1.1",
        "nist-csf-2.0",
    );
    assert_eq!(set.links.len(), 185);
    let target = stub("nist-csf-2.0", set.links.iter().map(|l| l.target.clone()));
    assert_eq!(
        texts(&check_mapping_set(&set, &load(CSF_11), &target)),
        Vec::<String>::new()
    );
}

#[test]
fn a_check_finds_a_wrong_source_target_and_new_id() {
    let mut set = parse_mapping_yaml(MAP_ISO_2013_2022).unwrap();
    set.links[3].source = "A.6.1.9".into();
    set.links[5].target = "A.9.9".into();
    set.links.push(set.links[0].clone());
    set.new_in_target.push("A.5.1".into());
    let problems = texts(&check_mapping_set(&set, &load(ISO_2013), &load(ISO_2022)));
    assert_eq!(
        problems,
        [
            "links[3]: source `A.6.1.9` is not a requirement of iso27001-2013",
            "links[5]: target `A.9.9` is not a requirement of iso27001-2022",
            "links[115]: `A.5.1.1` → `A.5.1` is mapped twice (first at links[0])",
            "new_in_target[11]: `A.5.1` is listed as new, but links[0] maps to it",
        ]
    );
    let swapped = texts(&check_mapping_set(&set, &load(ISO_2022), &load(ISO_2013)));
    assert!(
        swapped
            .iter()
            .any(|p| p.starts_with("source_framework: the set names `iso27001-2013`")),
        "{swapped:#?}"
    );
}
