//! The Statement of Applicability as documents: PDF, XLSX, CSV and an OSCAL system
//! security plan's control implementation.

use attest_domain::soa::{SoaContent, SoaRow};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{ReportResult, spreadsheet_safe};

/// A version of the statement with what the cover page says about it.
#[derive(Debug, Clone)]
pub struct SoaDocument<'a> {
    /// The organisation's name.
    pub organisation: &'a str,
    /// The organisation's id (stable identifiers in OSCAL).
    pub organisation_id: &'a str,
    /// The version number (none before the first draft).
    pub version: Option<i64>,
    /// Approved or a draft.
    pub approved: bool,
    /// Who approved it.
    pub approver: Option<&'a str>,
    /// When (ISO 8601 date).
    pub approved_on: Option<time::Date>,
    /// The hash it was approved under.
    pub hash: Option<&'a str>,
    /// When the document is made.
    pub generated_on: time::Date,
    /// The statement.
    pub content: &'a SoaContent,
}

impl SoaDocument<'_> {
    fn version_label(&self) -> String {
        match (self.version, self.approved) {
            (Some(v), true) => format!("{v}"),
            (Some(v), false) => format!("{v} (draft)"),
            (None, _) => "draft".into(),
        }
    }

    /// The file name for a format's extension.
    pub fn file_name(&self, ext: &str) -> String {
        let v = match self.version {
            Some(v) if self.approved => format!("v{v}"),
            Some(v) => format!("v{v}-draft"),
            None => "draft".into(),
        };
        format!("statement-of-applicability-{v}.{ext}")
    }
}

fn controls_text(r: &SoaRow) -> String {
    r.controls
        .iter()
        .map(|c| format!("{} {} ({})", c.reference, c.title, c.status.label()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn risks_text(r: &SoaRow) -> String {
    r.risks
        .iter()
        .map(|k| format!("{} {}", k.reference, k.title))
        .collect::<Vec<_>>()
        .join("; ")
}

fn evidence_text(r: &SoaRow) -> String {
    r.evidence
        .iter()
        .map(|e| format!("{}: {} ({})", e.control, e.title, e.effective_from))
        .collect::<Vec<_>>()
        .join("; ")
}

fn decision_code(r: &SoaRow) -> &'static str {
    match r.applicable {
        Some(true) => "applicable",
        Some(false) => "excluded",
        None => "",
    }
}

const COLUMNS: [&str; 10] = [
    "control",
    "title",
    "group",
    "decision",
    "reasons",
    "justification",
    "implementation_status",
    "controls",
    "risks",
    "latest_evidence",
];

fn cells(r: &SoaRow) -> [String; 10] {
    [
        r.id.clone(),
        r.title.clone(),
        r.group.clone(),
        decision_code(r).into(),
        r.reasons
            .iter()
            .map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        r.justification.clone(),
        r.status.as_str().into(),
        controls_text(r),
        risks_text(r),
        evidence_text(r),
    ]
}

/// CSV: one row per Annex A control, codes rather than labels (for tools).
pub fn csv(doc: &SoaDocument<'_>) -> ReportResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for r in &doc.content.rows {
        w.write_record(cells(r).iter().map(|c| spreadsheet_safe(c).into_owned()))?;
    }
    w.into_inner()
        .map_err(|e| crate::ReportError::Csv(csv::Error::from(e.into_error())))
}

/// XLSX: the statement on a filterable sheet with frozen headings, and a sheet saying
/// which version it is.
pub fn xlsx(doc: &SoaDocument<'_>) -> ReportResult<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let sheet = book.add_worksheet().set_name("Statement")?;
    let headings = [
        "Control",
        "Title",
        "Theme",
        "Decision",
        "Reasons",
        "Justification",
        "Implementation status",
        "Controls",
        "Risks",
        "Latest evidence",
    ];
    let widths = [9.0, 40.0, 24.0, 12.0, 24.0, 50.0, 16.0, 40.0, 32.0, 40.0];
    for (col, (h, w)) in headings.iter().zip(widths).enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *h, &bold)?;
        sheet.set_column_width(col, w)?;
    }
    for (i, r) in doc.content.rows.iter().enumerate() {
        let row = i as u32 + 1;
        let values = [
            r.id.clone(),
            r.title.clone(),
            r.group.clone(),
            r.decision_label().to_owned(),
            r.reason_labels(),
            r.justification.clone(),
            r.status.label().to_owned(),
            controls_text(r),
            risks_text(r),
            evidence_text(r),
        ];
        for (col, v) in values.iter().enumerate() {
            sheet.write_string_with_format(row, col as u16, v, &wrap)?;
        }
    }
    let last = doc.content.rows.len() as u32;
    sheet.autofilter(0, 0, last, headings.len() as u16 - 1)?;
    sheet.set_freeze_panes(1, 1)?;

    let about = book.add_worksheet().set_name("Version")?;
    about.set_column_width(0, 22.0)?;
    about.set_column_width(1, 70.0)?;
    let (applicable, excluded, undecided) = doc.content.counts();
    let facts = [
        ("Organisation", doc.organisation.to_owned()),
        ("Annex A version", doc.content.framework_name.clone()),
        ("Version", doc.version_label()),
        (
            "Status",
            if doc.approved {
                "Approved"
            } else {
                "Draft, not approved"
            }
            .into(),
        ),
        ("Approved by", doc.approver.unwrap_or("").to_owned()),
        (
            "Approved on",
            doc.approved_on.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("Content SHA-256", doc.hash.unwrap_or("").to_owned()),
        ("Applicable", applicable.to_string()),
        ("Excluded", excluded.to_string()),
        ("Not decided", undecided.to_string()),
        ("Generated on", doc.generated_on.to_string()),
    ];
    for (i, (k, v)) in facts.iter().enumerate() {
        about.write_string_with_format(i as u32, 0, *k, &bold)?;
        about.write_string(i as u32, 1, v)?;
    }
    Ok(book.save_to_buffer()?)
}

#[derive(Serialize)]
struct PdfRow<'a> {
    id: &'a str,
    title: &'a str,
    decision: &'static str,
    reasons: String,
    justification: &'a str,
    status: &'static str,
    controls: String,
    risks: String,
    evidence: String,
}

#[derive(Serialize)]
struct PdfGroup<'a> {
    name: &'a str,
    rows: Vec<PdfRow<'a>>,
}

#[derive(Serialize)]
struct PdfData<'a> {
    organisation: &'a str,
    framework: &'a str,
    version: String,
    status: &'static str,
    approver: &'a str,
    approved_on: String,
    hash: &'a str,
    generated_on: String,
    applicable: usize,
    excluded: usize,
    undecided: usize,
    groups: Vec<PdfGroup<'a>>,
}

const TEMPLATE: &str = include_str!("soa.typ");

/// The typeset statement: a cover (organisation, version, approver, date, hash), then the
/// table by theme, with page numbers.
pub fn pdf(doc: &SoaDocument<'_>) -> ReportResult<Vec<u8>> {
    let (applicable, excluded, undecided) = doc.content.counts();
    let mut groups: Vec<PdfGroup<'_>> = Vec::new();
    let mut text = String::from(doc.organisation);
    for r in &doc.content.rows {
        let row = PdfRow {
            id: &r.id,
            title: &r.title,
            decision: r.decision_label(),
            reasons: r.reason_labels(),
            justification: &r.justification,
            status: r.status.label(),
            controls: r
                .controls
                .iter()
                .map(|c| format!("{} {}", c.reference, c.title))
                .collect::<Vec<_>>()
                .join("; "),
            risks: risks_text(r),
            evidence: r
                .evidence
                .iter()
                .map(|e| format!("{} ({})", e.title, e.effective_from))
                .collect::<Vec<_>>()
                .join("; "),
        };
        for t in [
            row.title,
            row.justification,
            &row.controls,
            &row.risks,
            &row.evidence,
        ] {
            text.push_str(t);
        }
        match groups.last_mut() {
            Some(g) if g.name == r.group => g.rows.push(row),
            _ => groups.push(PdfGroup {
                name: &r.group,
                rows: vec![row],
            }),
        }
    }
    let data = PdfData {
        organisation: doc.organisation,
        framework: &doc.content.framework_name,
        version: doc.version_label(),
        status: if doc.approved {
            "Approved"
        } else {
            "Draft — not approved"
        },
        approver: doc.approver.unwrap_or(""),
        approved_on: doc.approved_on.map(|d| d.to_string()).unwrap_or_default(),
        hash: doc.hash.unwrap_or(""),
        generated_on: doc.generated_on.to_string(),
        applicable,
        excluded,
        undecided,
        groups,
    };
    crate::pdf::render(TEMPLATE, &data, &text, doc.generated_on)
}

/// A UUID that is the same every time the same thing is exported.
fn stable_uuid(doc: &SoaDocument<'_>, what: &str) -> String {
    let name = format!(
        "attest:{}:soa:{}:{}",
        doc.organisation_id,
        doc.version.unwrap_or(0),
        what
    );
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// The namespace of Attest's own OSCAL properties.
const NS: &str = "https://attest.invalid/ns/oscal";

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": NS, "value": value})
}

fn implementation_state(r: &SoaRow) -> &'static str {
    use attest_domain::coverage::RequirementStatus as S;
    if r.applicable == Some(false) {
        return "not-applicable";
    }
    match r.status {
        S::Implemented => "implemented",
        S::Partial => "partial",
        S::Planned | S::NotCovered => "planned",
        S::NotApplicable => "not-applicable",
    }
}

/// An OSCAL 1.2.1 system security plan whose control implementation is the statement:
/// every Annex A control with its decision, reasons, justification and status, and the
/// organisation's controls behind it.
pub fn oscal(doc: &SoaDocument<'_>, last_modified: &str) -> ReportResult<Value> {
    let component = stable_uuid(doc, "component");
    let requirements: Vec<Value> = doc
        .content
        .rows
        .iter()
        .map(|r| {
            let mut props = vec![prop(
                "soa-decision",
                match r.applicable {
                    Some(true) => "applicable",
                    Some(false) => "excluded",
                    None => "undecided",
                },
            )];
            props.extend(r.reasons.iter().map(|x| prop("soa-reason", x.as_str())));
            props.extend(r.controls.iter().map(|c| prop("control-ref", &c.reference)));
            props.extend(r.risks.iter().map(|k| prop("risk-ref", &k.reference)));
            let mut description = format!("{} — {}.", r.title, r.decision_label());
            if !r.justification.trim().is_empty() {
                description.push_str(&format!(" Justification: {}", r.justification.trim()));
            }
            let mut by = json!({
                "component-uuid": component,
                "uuid": stable_uuid(doc, &format!("{}:by", r.id)),
                "description": description,
                "implementation-status": {"state": implementation_state(r)},
            });
            if !r.controls.is_empty() {
                by["remarks"] = Value::String(format!("Implemented by: {}", controls_text(r)));
            }
            json!({
                "uuid": stable_uuid(doc, &r.id),
                "control-id": r.id,
                "props": props,
                "by-components": [by],
            })
        })
        .collect();
    let title = format!(
        "{} — Statement of Applicability ({})",
        doc.organisation, doc.content.framework_name
    );
    Ok(json!({
        "system-security-plan": {
            "uuid": stable_uuid(doc, "ssp"),
            "metadata": {
                "title": title,
                "last-modified": last_modified,
                "version": doc.version_label(),
                "oscal-version": "1.2.1",
                "props": [
                    prop("soa-status", if doc.approved { "approved" } else { "draft" }),
                ],
                "remarks": match (doc.approver, doc.approved_on, doc.hash) {
                    (Some(a), Some(d), Some(h)) => format!("Approved by {a} on {d}; content SHA-256 {h}."),
                    _ => "Draft, not approved.".to_owned(),
                },
            },
            "import-profile": {"href": format!("#{}", doc.content.framework_id)},
            "system-characteristics": {
                "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": doc.organisation_id}],
                "system-name": format!("{} ISMS", doc.organisation),
                "description": format!("The information security management system of {}, with the controls of {} Annex A.", doc.organisation, doc.content.framework_name),
                "system-information": {"information-types": [{
                    "title": "Information in the scope of the ISMS",
                    "description": "The information the ISMS scope statement names.",
                }]},
                "status": {"state": "operational"},
                "authorization-boundary": {"description": "The scope of the ISMS (ISO/IEC 27001 clause 4.3)."},
            },
            "system-implementation": {"components": [{
                "uuid": component,
                "type": "this-system",
                "title": format!("{} ISMS", doc.organisation),
                "description": "The organisation's information security management system.",
                "status": {"state": "operational"},
            }]},
            "control-implementation": {
                "description": format!("The Statement of Applicability, version {}, for {} Annex A.", doc.version_label(), doc.content.framework_name),
                "implemented-requirements": requirements,
            },
        }
    }))
}

#[cfg(test)]
mod tests;
