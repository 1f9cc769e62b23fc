use attest_domain::control::ControlStatus;
use attest_domain::coverage::RequirementStatus;
use attest_domain::soa::{ControlRef, EvidenceRef, Reason, RiskRef, SoaContent, SoaRow};

use super::*;

pub(crate) fn sample(n: usize) -> SoaContent {
    let rows = (0..n)
        .map(|i| SoaRow {
            id: format!("A.{}.{}", 5 + i / 40, i % 40 + 1),
            title: format!("Annex control number {i}"),
            group: format!("A.{} Theme", 5 + i / 40),
            applicable: Some(i % 7 != 3),
            reasons: if i % 7 == 3 {
                vec![]
            } else {
                vec![Reason::RiskTreatment, Reason::Contractual]
            },
            justification: if i == 0 {
                "=HYPERLINK(\"http://x\") 정보보호 관리체계 범위에 포함".into()
            } else if i % 7 == 3 {
                "No such activity in scope.".into()
            } else {
                String::new()
            },
            status: RequirementStatus::Implemented,
            controls: vec![ControlRef {
                reference: format!("C-{i:02}"),
                title: "Access reviews".into(),
                status: ControlStatus::Implemented,
            }],
            risks: vec![RiskRef {
                reference: "R-001".into(),
                title: "Credential theft".into(),
            }],
            evidence: vec![EvidenceRef {
                control: format!("C-{i:02}"),
                id: "e1".into(),
                title: "Quarterly review".into(),
                effective_from: "2026-07-01".into(),
            }],
        })
        .collect();
    SoaContent {
        framework_id: "iso27001-2022".into(),
        framework_name: "ISO/IEC 27001:2022".into(),
        rows,
    }
}

pub(crate) fn document(content: &SoaContent) -> SoaDocument<'_> {
    SoaDocument {
        organisation: "Example 주식회사",
        organisation_id: "0190b2c4-0000-7000-8000-000000000001",
        version: Some(3),
        approved: true,
        approver: Some("Ada Lovelace"),
        approved_on: Some(time::macros::date!(2026 - 11 - 20)),
        hash: Some("ab12"),
        generated_on: time::macros::date!(2026 - 11 - 24),
        content,
    }
}

#[test]
fn csv_has_a_row_per_control_and_defuses_formulas() {
    let c = sample(5);
    let bytes = csv(&document(&c)).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(r.headers().unwrap().len(), COLUMNS.len());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(&rows[0][0], "A.5.1");
    assert_eq!(&rows[0][3], "applicable");
    assert_eq!(&rows[0][4], "risk-treatment;contractual");
    assert!(rows[0][5].starts_with("'=HYPERLINK"), "{}", &rows[0][5]);
    assert_eq!(&rows[3][3], "excluded");
}

#[test]
fn xlsx_reads_back_with_a_filter_and_the_version_sheet() {
    let c = sample(93);
    let bytes = xlsx(&document(&c)).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("xl/worksheets/sheet2.xml"));
}

#[test]
fn oscal_ids_are_stable_across_exports() {
    let c = sample(3);
    let a = oscal(&document(&c), "2026-11-24T00:00:00Z").unwrap();
    let b = oscal(&document(&c), "2026-11-24T00:00:00Z").unwrap();
    assert_eq!(a, b);
    let reqs = &a["system-security-plan"]["control-implementation"]["implemented-requirements"];
    assert_eq!(reqs.as_array().unwrap().len(), 3);
    assert_eq!(reqs[0]["control-id"], "A.5.1");
}

#[test]
fn oscal_validates_against_the_nist_ssp_schema() {
    let schema: Value = serde_json::from_slice(include_bytes!(env!("ATTEST_SSP_SCHEMA"))).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the OSCAL SSP schema compiles");
    let c = sample(93);
    let mut doc = document(&c);
    let approved = oscal(&doc, "2026-11-24T10:00:00Z").unwrap();
    doc.approved = false;
    doc.approver = None;
    doc.version = None;
    let draft = oscal(&doc, "2026-11-24T10:00:00Z").unwrap();
    for v in [approved, draft] {
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .take(10)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("attest-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("soa.pdf");
    std::fs::write(&path, pdf).ok()?;
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str()?, "-"])
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => None,
    }
}

#[test]
fn pdf_has_the_cover_the_table_page_numbers_and_korean_text() {
    let c = sample(93);
    let pdf = match super::pdf(&document(&c)) {
        Err(crate::ReportError::MissingGlyphs { sample }) => {
            assert!(
                std::env::var_os("ATTEST_REQUIRE_FONTS").is_none(),
                "no CJK font installed ({sample})"
            );
            eprintln!(
                "*** SKIPPED: no font with Korean glyphs is installed (apt-get install fonts-nanum)"
            );
            return;
        }
        other => other.unwrap(),
    };
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(text) = pdftotext(&pdf) else {
        assert!(
            std::env::var_os("ATTEST_REQUIRE_FONTS").is_none(),
            "pdftotext is not installed"
        );
        eprintln!("*** SKIPPED: pdftotext is not installed (apt-get install poppler-utils)");
        return;
    };
    for needle in [
        "Statement of Applicability",
        "Example 주식회사",
        "ISO/IEC 27001:2022",
        "Ada Lovelace",
        "2026-11-20",
        "A.5.1",
        "정보보호 관리체계",
        "No such activity in scope.",
        "Page 2 of",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}
