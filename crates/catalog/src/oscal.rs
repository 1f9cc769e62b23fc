//! OSCAL catalogs and profiles (JSON), and the CSF 2.0 OSCAL XML catalog.
//!
//! - [`parse_catalog`] reads an OSCAL catalog into a [`Framework`] and keeps the document whole,
//!   so exporting an imported catalog gives the publisher's document back unchanged.
//! - [`resolve_profile`] turns a profile (a baseline such as SP 800-53 MODERATE) into the
//!   resolved catalog it stands for.
//! - [`export_catalog`] writes any framework (YAML, CSV, XLSX ones) as an OSCAL 1.2.1 catalog.
//! - [`parse_csf2_xml`] reads NIST's CSF 2.0 catalog, published only as OSCAL XML.

use attest_domain::framework::Framework;
use serde_json::Value;

mod catalog;
mod csf;
mod export;
mod profile;
mod prose;

pub use catalog::parse_catalog;
pub use csf::parse_csf2_xml;
pub use export::export_catalog;
pub use profile::resolve_profile;

/// An OSCAL catalog read into a framework, with the document itself kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct OscalCatalog {
    /// The requirements as Attest uses them.
    pub framework: Framework,
    /// The document exactly as read, for a lossless export.
    pub document: Value,
}

/// The namespace of the props Attest adds to the catalogs it exports.
pub const ATTEST_NS: &str = "https://attest.dev/ns/oscal";

/// The OSCAL version Attest writes and validates against.
pub const OSCAL_VERSION: &str = "1.2.1";

/// Whether text is an OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`), the type of every OSCAL id.
pub fn is_token(text: &str) -> bool {
    let mut chars = text.chars();
    // `is_alphabetic` is a slight superset of \p{L}; good enough to judge ids we read.
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphabetic() || c.is_numeric() || matches!(c, '.' | '-' | '_'))
}

/// The message for bytes that are not JSON, at the line serde_json stopped on.
fn not_json(e: &serde_json::Error, what: &str) -> attest_domain::framework::Problem {
    attest_domain::framework::Problem::new(
        format!("line {}", e.line()),
        format!("not valid JSON ({e}): an OSCAL {what} is a JSON object {{\"{what}\": {{…}}}}"),
    )
}

/// Now, as OSCAL writes timestamps (RFC 3339 with an offset).
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the current UTC time always formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        for ok in ["ac-2.1", "A.5.15", "CC6.1", "_4.1", "GV.OC-01", "é1"] {
            assert!(is_token(ok), "{ok}");
        }
        for bad in ["", "4.1", "-a", "a b", "a/b", ".x"] {
            assert!(!is_token(bad), "{bad}");
        }
    }

    #[test]
    fn timestamp_has_an_offset() {
        let now = now_rfc3339();
        assert!(now.ends_with('Z') && now.contains('T'), "{now}");
    }
}
