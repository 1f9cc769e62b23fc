//! Finds NIST's public-domain data (the SP 800-53 OSCAL catalog and baselines, the CSF 2.0
//! catalog, NIST's mapping files) in the shared data directory, so the binary embeds them
//! as published instead of a copy kept in this repository.
//!
//! Looks at `ATTEST_SHARED_DATA`, else `../shared/data` beside the repository.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "nist-sp800-53r5/NIST_SP-800-53_rev5_catalog.2021-06-08.json",
    "nist-sp800-53r5/NIST_SP-800-53_rev5_LOW-baseline_profile.json",
    "nist-sp800-53r5/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json",
    "nist-sp800-53r5/NIST_SP-800-53_rev5_HIGH-baseline_profile.json",
    "nist-sp800-53r5/NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json",
    "nist-csf-2.0/NIST_CSF_v2.0_catalog.xml",
    "mappings/nist-sp800-53r5_to_iso27001-2022.csv",
    "mappings/nist-csf-2.0_to_iso27001-2022.csv",
    "mappings/nist-csf-1.1_to_nist-csf-2.0.csv",
    "oscal-schemas-1.2.1/oscal_catalog_schema.json",
];

fn main() {
    println!("cargo:rerun-if-env-changed=ATTEST_SHARED_DATA");
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = match std::env::var_os("ATTEST_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => manifest.join("../../../shared/data"),
    };
    let dir = dir.canonicalize().unwrap_or_else(|_| {
        panic!(
            "NIST's reference data was not found at {}: set ATTEST_SHARED_DATA to the shared data directory (it holds nist-sp800-53r5/, nist-csf-2.0/, mappings/)",
            dir.display()
        )
    });
    for f in FILES {
        let p = dir.join(f);
        assert!(
            p.is_file(),
            "missing {} in the shared data directory {}",
            f,
            dir.display()
        );
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rustc-env=ATTEST_NIST_DATA={}", dir.display());
}
