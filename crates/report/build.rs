//! Finds NIST's OSCAL schemas in the shared data directory for the export tests (the same
//! lookup as the catalog crate: `ATTEST_SHARED_DATA`, else `../shared/data`).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=ATTEST_SHARED_DATA");
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = match std::env::var_os("ATTEST_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => manifest.join("../../../shared/data"),
    };
    for (var, file) in [
        ("ATTEST_SSP_SCHEMA", "oscal_ssp_schema.json"),
        ("ATTEST_AR_SCHEMA", "oscal_assessment-results_schema.json"),
        ("ATTEST_POAM_SCHEMA", "oscal_poam_schema.json"),
    ] {
        let schema = dir.join("oscal-schemas-1.2.1").join(file);
        println!("cargo:rerun-if-changed={}", schema.display());
        println!("cargo:rustc-env={var}={}", schema.display());
    }
}
