//! A bridge letter as a typeset PDF, in English or Korean: management's statement that
//! nothing material changed in the controls between the end of the last report's period
//! and a later date (or the changes that did).

use serde::Serialize;

use crate::ReportResult;

/// What the letter says.
#[derive(Debug, Clone, Serialize)]
pub struct BridgeLetterDocument {
    /// `en` or `ko`.
    pub language: String,
    /// The organisation's name.
    pub organisation: String,
    /// The report ("SOC 2 Type 2").
    pub report: String,
    /// The audit firm that issued it.
    pub firm: String,
    /// The report's period (first day).
    pub period_start: String,
    /// The report's period (last day).
    pub period_end: String,
    /// The services covered.
    pub services: Vec<String>,
    /// The bridge period (first day).
    pub bridge_start: String,
    /// The bridge period (last day).
    pub bridge_end: String,
    /// Changes disclosed (empty: no material change).
    pub changes: String,
    /// Who signs.
    pub signer: String,
    /// The date of the letter.
    pub dated: String,
    /// When it is made.
    #[serde(skip)]
    pub generated_on: time::Date,
}

const TEMPLATE: &str = include_str!("bridge_letter.typ");

/// The typeset letter.
pub fn pdf(doc: &BridgeLetterDocument) -> ReportResult<Vec<u8>> {
    let text = format!(
        "{}{}{}{}{}",
        doc.organisation,
        doc.firm,
        doc.changes,
        doc.signer,
        doc.services.join("")
    );
    let mut text = text;
    if doc.language == "ko" {
        // The template's own Korean sentences need a Hangul font too.
        text.push_str("브리지 레터");
    }
    crate::pdf::render(TEMPLATE, doc, &text, doc.generated_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_render() {
        for language in ["en", "ko"] {
            let doc = BridgeLetterDocument {
                language: language.into(),
                organisation: "한빛 Cloud".into(),
                report: "SOC 2 Type 2".into(),
                firm: "Example LLP".into(),
                period_start: "2025-10-01".into(),
                period_end: "2026-09-30".into(),
                services: vec!["Intune".into()],
                bridge_start: "2026-10-01".into(),
                bridge_end: "2026-12-31".into(),
                changes: String::new(),
                signer: "Kim Minji, CISO".into(),
                dated: "2027-01-05".into(),
                generated_on: time::macros::date!(2027 - 01 - 05),
            };
            match pdf(&doc) {
                Ok(bytes) => assert!(bytes.starts_with(b"%PDF-")),
                Err(crate::ReportError::MissingGlyphs { .. })
                    if std::env::var_os("ATTEST_REQUIRE_FONTS").is_none() =>
                {
                    eprintln!("*** SKIPPED: no Korean font installed");
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
}
