//! A sample document (a report or a certificate of a fictional organisation) for the demo
//! data set, typeset like every other PDF Attest makes and marked as a sample.

use serde::Serialize;

use crate::ReportResult;

/// What the sample says.
#[derive(Debug, Clone, Serialize)]
pub struct SampleDocument {
    /// Title.
    pub title: String,
    /// The organisation it is about.
    pub organisation: String,
    /// Who issued it.
    pub issuer: String,
    /// Its date.
    pub dated: String,
    /// Its text, one paragraph each.
    pub paragraphs: Vec<String>,
    /// When it is made.
    #[serde(skip)]
    pub generated_on: time::Date,
}

const TEMPLATE: &str = include_str!("sample_document.typ");

/// The typeset sample.
pub fn pdf(doc: &SampleDocument) -> ReportResult<Vec<u8>> {
    let text = format!(
        "{}{}{}{}",
        doc.title,
        doc.organisation,
        doc.issuer,
        doc.paragraphs.join("")
    );
    crate::pdf::render(TEMPLATE, doc, &text, doc.generated_on)
}
