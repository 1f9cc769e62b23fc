//! What the `formats_*` tests share: the built-in catalogs and NIST's mapping files.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;

use attest_catalog::formats::parse_framework_yaml;
use attest_domain::framework::{Framework, Origin, Requirement};

macro_rules! data {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $path))
    };
}

pub const ISO_2022: &str = data!("frameworks/iso27001-2022.yaml");
pub const ISO_2013: &str = data!("frameworks/iso27001-2013.yaml");
pub const SOC2: &str = data!("frameworks/soc2-tsc-2017.yaml");
pub const CIS_V8: &str = data!("frameworks/cis-v8.yaml");
pub const CSF_11: &str = data!("frameworks/nist-csf-1.1.yaml");
pub const MAP_ISO_2013_2022: &str = data!("mappings/iso27001-2013_to_iso27001-2022.yaml");
pub const MAP_ISO_SOC2: &str = data!("mappings/iso27001-2022_to_soc2-tsc-2017.yaml");

pub const NIST_SP800_53_ISO: &str = include_str!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/mappings/nist-sp800-53r5_to_iso27001-2022.csv"
));
pub const NIST_CSF2_ISO: &str = include_str!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/mappings/nist-csf-2.0_to_iso27001-2022.csv"
));
pub const NIST_CSF11_CSF2: &str = include_str!(concat!(
    env!("ATTEST_NIST_DATA"),
    "/mappings/nist-csf-1.1_to_nist-csf-2.0.csv"
));

/// A built-in catalog, read through the YAML format; any problem fails the test with the list.
pub fn load(text: &str) -> Framework {
    parse_framework_yaml(text, Origin::BuiltIn)
        .unwrap_or_else(|p| panic!("built-in catalog rejected: {p:#?}"))
}

/// The id with every run of digits written `#`, so `A.5.15` has the shape `A.#.#`.
pub fn shape(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

/// The requirements of one kind.
pub fn of_kind<'a>(framework: &'a Framework, kind: &str) -> Vec<&'a Requirement> {
    framework
        .requirements
        .iter()
        .filter(|r| r.kind == kind)
        .collect()
}

/// How many requirements have this parent.
pub fn children(framework: &Framework, parent: &str) -> usize {
    framework
        .requirements
        .iter()
        .filter(|r| r.parent.as_deref() == Some(parent))
        .count()
}

/// A framework holding only these ids: the side of a NIST mapping whose catalog is not here.
pub fn stub(id: &str, ids: impl IntoIterator<Item = String>) -> Framework {
    let mut requirements: Vec<Requirement> = Vec::new();
    for rid in ids {
        if requirements.iter().all(|r| r.id != rid) {
            requirements.push(Requirement {
                id: rid,
                parent: None,
                kind: "requirement".into(),
                title: "stub".into(),
                text: None,
                props: BTreeMap::new(),
                withdrawn: false,
                assessable: true,
            });
        }
    }
    Framework {
        id: id.into(),
        name: id.into(),
        version: "stub".into(),
        publisher: "test".into(),
        description: String::new(),
        origin: Origin::BuiltIn,
        profile_of: None,
        requirements,
    }
}

/// Each problem as `at: message`, for assertions that print the whole list.
pub fn texts(problems: &[attest_domain::framework::Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}
