//! Framework catalogs and mapping sets: the built-in ones (our own data files for ISO/IEC
//! 27001, SOC 2 and CIS; NIST's published OSCAL and mapping files for SP 800-53 and CSF),
//! and the importers and exporters for OSCAL (JSON), YAML, CSV and XLSX. Pure: bytes in,
//! frameworks out; every problem of an input is reported, with where it is.

pub mod crosswalk;
pub mod formats;
pub mod oscal;
pub mod registry;
pub mod search;
