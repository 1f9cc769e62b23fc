//! Statement of Applicability exports (targets: PDF of the 93 controls under 500 ms, XLSX
//! under 200 ms). Run: `cargo bench -p attest-report --bench soa_export`.
//!
//! A full 2022 statement: 93 controls in four themes, each with a decision, two reasons, a
//! justification of about 200 characters (Korean and English), three controls, four risks
//! and three pieces of evidence behind it. Measures each format's median and p90 over 20
//! runs after one cold run (the PDF's first run also finds the fonts). Every run exports a
//! different version number, so typst's memoisation cannot replay an earlier layout: each
//! PDF is typeset afresh (only font data stays loaded, as in a running server). Baseline in
//! the same run: the CSV export of the same statement, so the ratios show what typesetting
//! and the workbook cost over writing the rows at all.

use std::time::{Duration, Instant};

use attest_domain::control::ControlStatus;
use attest_domain::coverage::RequirementStatus;
use attest_domain::soa::{ControlRef, EvidenceRef, Reason, RiskRef, SoaContent, SoaRow};
use attest_report::soa::{self, SoaDocument};

const RUNS: usize = 20;

fn content() -> SoaContent {
    let themes = [
        ("A.5", "Organizational controls", 37),
        ("A.6", "People controls", 8),
        ("A.7", "Physical controls", 14),
        ("A.8", "Technological controls", 34),
    ];
    let mut rows = Vec::new();
    for (theme, name, n) in themes {
        for i in 1..=n {
            let id = format!("{theme}.{i}");
            rows.push(SoaRow {
                title: format!("Annex A control {id} in our own short words"),
                group: format!("{theme} {name}"),
                applicable: Some(i % 11 != 0),
                reasons: vec![Reason::RiskTreatment, Reason::Contractual],
                justification: format!(
                    "{id}: 고객 계약과 위험 평가에 따라 적용합니다. Required by customer contracts and by the risk assessment of {id}; reviewed every year at the management review."
                ),
                status: RequirementStatus::Implemented,
                controls: (0..3)
                    .map(|c| ControlRef {
                        reference: format!("CT-{i:02}{c}"),
                        title: "Quarterly access review of production systems".into(),
                        status: ControlStatus::Implemented,
                    })
                    .collect(),
                risks: (0..4)
                    .map(|r| RiskRef {
                        reference: format!("R-{i:03}{r}"),
                        title: "Stale privileged access to customer data".into(),
                    })
                    .collect(),
                evidence: (0..3)
                    .map(|e| EvidenceRef {
                        control: format!("CT-{i:02}{e}"),
                        id: format!("0190b5a2-0000-7000-8000-{i:010}{e:02}"),
                        title: "Access review sign-off, Q3".into(),
                        effective_from: "2026-07-01".into(),
                    })
                    .collect(),
                id,
            });
        }
    }
    SoaContent {
        framework_id: "iso27001-2022".into(),
        framework_name: "ISO/IEC 27001:2022".into(),
        rows,
    }
}

fn stats(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    (ms(d[d.len() / 2]), ms(d[d.len() * 9 / 10]))
}

fn measure(name: &str, f: impl Fn(i64) -> usize) -> (f64, f64) {
    let t = Instant::now();
    let bytes = f(0);
    let cold = t.elapsed();
    let runs: Vec<Duration> = (1..=RUNS as i64)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(f(i));
            t.elapsed()
        })
        .collect();
    let (median, p90) = stats(runs);
    println!(
        "{name:<6} {bytes:>9} bytes  cold {:>8.1} ms  median {median:>8.1} ms  p90 {p90:>8.1} ms",
        cold.as_secs_f64() * 1e3
    );
    (median, p90)
}

fn main() {
    let c = content();
    assert_eq!(c.rows.len(), 93);
    let base = SoaDocument {
        organisation: "한빛 Cloud 주식회사",
        organisation_id: "0190b5a2-0000-7000-8000-000000000001",
        version: Some(4),
        approved: true,
        approver: Some("Kim Minji"),
        approved_on: Some(time::macros::date!(2026 - 11 - 20)),
        hash: Some("5f2c0e7d9a1b4c3e8f6a2d1c0b9e8f7a6d5c4b3a2918f7e6d5c4b3a29180f7e6"),
        generated_on: time::macros::date!(2026 - 11 - 24),
        content: &c,
    };
    let doc = |i: i64| SoaDocument {
        version: Some(i),
        ..base.clone()
    };
    println!("SoA exports, 93 controls, {RUNS} runs each");
    let (csv, _) = measure("csv", |i| soa::csv(&doc(i)).unwrap().len());
    let (pdf, pdf90) = measure("pdf", |i| soa::pdf(&doc(i)).unwrap().len());
    let (xlsx, xlsx90) = measure("xlsx", |i| soa::xlsx(&doc(i)).unwrap().len());
    measure("oscal", |i| {
        serde_json::to_vec(&soa::oscal(&doc(i), "2026-11-24T00:00:00Z").unwrap())
            .unwrap()
            .len()
    });
    println!(
        "ratios to the CSV baseline (median): pdf {:.0}×, xlsx {:.0}×",
        pdf / csv,
        xlsx / csv
    );
    println!(
        "targets: pdf p90 {pdf90:.1} ms < 500 ms: {}; xlsx p90 {xlsx90:.1} ms < 200 ms: {}",
        if pdf90 < 500.0 { "met" } else { "MISSED" },
        if xlsx90 < 200.0 { "met" } else { "MISSED" }
    );
}
