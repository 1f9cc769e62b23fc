//! A published policy or procedure as a typeset PDF: a header block saying which version it
//! is and who approved it, then the text.

use serde::Serialize;

use crate::ReportResult;
use crate::markdown::{to_tree, tree_text};

/// What the PDF shows.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyDocument {
    /// The organisation's name.
    pub organisation: String,
    /// `POL-001`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// Policy, procedure, …
    pub kind: String,
    /// Version number.
    pub version: i64,
    /// Published or superseded.
    pub state: String,
    /// When it was published.
    pub published_on: String,
    /// Owner's name.
    pub owner: String,
    /// "Name (date)" per approval of this text.
    pub approvals: Vec<String>,
    /// When the next review is due.
    pub review_due: String,
    /// SHA-256 of the text.
    pub body_hash: String,
    /// The Markdown text.
    pub body: String,
    /// When the PDF is made.
    #[serde(skip)]
    pub generated_on: time::Date,
}

const TEMPLATE: &str = include_str!("policy.typ");

/// The typeset document.
pub fn pdf(doc: &PolicyDocument) -> ReportResult<Vec<u8>> {
    let tree = to_tree(&doc.body);
    let mut text = format!(
        "{}{}{}{}",
        doc.organisation,
        doc.title,
        doc.owner,
        doc.approvals.join("")
    );
    tree_text(&tree, &mut text);
    let data = serde_json::json!({
        "meta": doc,
        "generated_on": doc.generated_on.to_string(),
        "body": tree,
    });
    crate::pdf::render(TEMPLATE, &data, &text, doc.generated_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_renders_with_its_header_and_text() {
        let doc = PolicyDocument {
            organisation: "Example Ltd".into(),
            reference: "POL-001".into(),
            title: "Access control policy".into(),
            kind: "Policy".into(),
            version: 2,
            state: "Published".into(),
            published_on: "2026-11-20".into(),
            owner: "Ada Lovelace".into(),
            approvals: vec!["Grace Hopper (2026-11-19)".into()],
            review_due: "2027-11-20".into(),
            body_hash: "ab".repeat(32),
            body: "# Access control policy\n\n## Rules\n\n1. **Least privilege**, always.\n2. MFA for `prod`.\n\n- a\n- b\n\n> quoted\n\n---\n\n| Role | Access |\n|---|---|\n| Admin | All |\n\n```\ncode block\n```\n\n[link](https://example.com)\n".into(),
            generated_on: time::macros::date!(2026 - 11 - 24),
        };
        let pdf = pdf(&doc).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
