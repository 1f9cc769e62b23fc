//! Attest's documents: a typeset PDF (typst), XLSX an auditor can filter, CSV and OSCAL,
//! rendered from domain values. A leaf crate: slow to compile once, cached after.

pub mod assessment;
pub mod bridge_letter;
pub mod markdown;
pub mod pdf;
pub mod policy;
pub mod sample;
pub mod soa;
pub mod stamp;

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The text needs glyphs no installed font has (Korean text without a CJK font).
    #[error(
        "no installed font can draw {sample}: install a font that covers it (Debian: fonts-noto-cjk or fonts-nanum) or name a font directory in ATTEST_FONT_DIR"
    )]
    MissingGlyphs {
        /// Some of the characters.
        sample: String,
    },
    /// The typesetter refused the document (a bug in a template).
    #[error("typesetting failed: {0}")]
    Typeset(String),
    /// The spreadsheet writer failed.
    #[error("spreadsheet: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The CSV writer failed.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// A PDF could not be read or written (stamping).
    #[error("{0}")]
    Pdf(String),
    /// JSON serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// A result with [`ReportError`].
pub type ReportResult<T> = Result<T, ReportError>;

/// A cell that a spreadsheet would run as a formula starts with one of these; exports
/// quote it so opening a CSV never executes what someone typed into a field.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}
