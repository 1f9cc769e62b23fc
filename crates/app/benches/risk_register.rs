//! Risk register speed (target: 10,000 risks listed, filtered and heat-mapped in under
//! 100 ms). Run: `cargo bench -p attest-app --bench risk_register`.
//!
//! One organisation on SQLite with 500 assets, 1,000 controls and 10,000 risks (each
//! affecting two assets and treated by two controls, every fifth one accepted). Measures
//! `App::risk_register` unfiltered and with filters, median and p90 of 30 runs. Baseline in
//! the same run: reading the 10,000 risk rows alone (`store::risk::risks`), so the ratio
//! shows what links, acceptances, derivation, filtering and the heat maps add.

use std::time::{Duration, Instant};

use attest_app::risk::RiskFilter;
use attest_app::{App, AppConfig, Caller};
use attest_blobs::BlobStore;
use attest_domain::Timestamp;
use attest_domain::control::{ControlStatus, Frequency};
use attest_domain::risk::{AssetKind, Classification, Rating, RiskSnapshot, RiskStatus, Treatment};
use attest_store::control::{self as store_ctl, Control};
use attest_store::risk::{self as store_risk, Acceptance, Asset, Risk};
use attest_store::{PoolConfig, Store};
use time::Duration as Days;

const RISKS: usize = 10_000;
const ASSETS: usize = 500;
const CONTROLS: usize = 1_000;
const RUNS: usize = 30;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

fn stats(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    (ms(d[d.len() / 2]), ms(d[d.len() * 9 / 10]))
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let store = Store::connect(&url, &PoolConfig::default()).await.unwrap();
    store.migrate().await.unwrap();
    let blobs = BlobStore::local(&dir.path().join("blobs")).unwrap();
    let app = App::new(store.clone(), blobs, AppConfig::default());
    let created = app
        .create_organisation(&Caller::cli(None), "Bench", "owner@bench.test")
        .await
        .unwrap();
    let org = created.org.id;
    let caller = Caller::cli(Some(org));
    let now = Timestamp::now();
    let today = now.date();

    let mut tx = store.begin().await.unwrap();
    let asset_id = |i: usize| format!("0190b5a2-0000-7000-8000-{i:012}");
    let control_id = |i: usize| format!("0190b5a3-0000-7000-8000-{i:012}");
    for i in 0..ASSETS {
        store_risk::put_asset(
            &mut tx,
            &Asset {
                id: asset_id(i),
                org_id: org,
                name: format!("Asset {i}"),
                kind: AssetKind::ALL[i % AssetKind::ALL.len()],
                classification: Classification::ALL[i % Classification::ALL.len()],
                owner_id: None,
                description: String::new(),
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
    }
    for i in 0..CONTROLS {
        store_ctl::insert(
            &mut tx,
            &Control {
                id: control_id(i),
                org_id: org,
                reference: format!("C-{i:04}"),
                title: format!("Control {i}"),
                description: String::new(),
                owner_id: None,
                frequency: Frequency::Quarterly,
                status: ControlStatus::Implemented,
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
    }
    let threats = [
        "ransomware",
        "insider misuse",
        "outage",
        "phishing",
        "supplier failure",
    ];
    for i in 0..RISKS {
        let step = |k: usize| (k % 5 + 1) as u8;
        let inherent = Rating {
            likelihood: step(i),
            impact: step(i / 5 + 2),
        };
        let residual = Rating {
            likelihood: inherent.likelihood.saturating_sub((i % 3) as u8).max(1),
            impact: inherent.impact,
        };
        let r = Risk {
            id: format!("0190b5a4-0000-7000-8000-{i:012}"),
            org_id: org,
            reference: format!("R-{i:05}"),
            title: format!("Risk {i} to asset {}", i % ASSETS),
            description: String::new(),
            threat: threats[i % threats.len()].into(),
            vulnerability: "weak configuration".into(),
            owner_id: None,
            inherent,
            residual,
            treatment: Treatment::ALL[i % 4],
            treatment_plan: String::new(),
            treatment_due: None,
            status: RiskStatus::Open,
            created_at: now,
            updated_at: now,
        };
        store_risk::put_risk(&mut tx, &r).await.unwrap();
        let assets = vec![asset_id(i % ASSETS), asset_id((i + 1) % ASSETS)];
        let mut controls = vec![control_id(i % CONTROLS), control_id((i + 7) % CONTROLS)];
        controls.sort();
        store_risk::set_assets(&mut tx, org, &r.id, &assets)
            .await
            .unwrap();
        store_risk::set_controls(&mut tx, org, &r.id, &controls)
            .await
            .unwrap();
        if i % 5 == 0 {
            store_risk::insert_acceptance(
                &mut tx,
                org,
                &Acceptance {
                    id: format!("0190b5a5-0000-7000-8000-{i:012}"),
                    risk_id: r.id.clone(),
                    approver_id: None,
                    approver_name: "bench".into(),
                    decided_on: today,
                    expires_on: today + Days::days(365),
                    justification: "bench".into(),
                    snapshot: RiskSnapshot {
                        inherent,
                        residual,
                        treatment: r.treatment,
                        controls,
                    },
                    created_at: now,
                },
            )
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();

    let mut base = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let rows = store_risk::risks(&store, org).await.unwrap();
        base.push(t.elapsed());
        assert_eq!(rows.len(), RISKS);
    }
    let (b50, b90) = stats(base);
    println!("risk register: {RISKS} risks, {ASSETS} assets, {CONTROLS} controls (SQLite)");
    println!(
        "  {:<40} median {b50:7.2} ms  p90 {b90:7.2} ms",
        "baseline: read the risk rows"
    );
    // What each read of the register costs on its own.
    for (label, ms) in [
        ("read links to assets", {
            let t = Instant::now();
            store_risk::all_asset_links(&store, org).await.unwrap();
            t.elapsed().as_secs_f64() * 1e3
        }),
        ("read links to controls", {
            let t = Instant::now();
            store_risk::all_control_links(&store, org).await.unwrap();
            t.elapsed().as_secs_f64() * 1e3
        }),
        ("read acceptances", {
            let t = Instant::now();
            store_risk::acceptances(&store, org, None).await.unwrap();
            t.elapsed().as_secs_f64() * 1e3
        }),
    ] {
        println!("  {label:<40} {ms:7.2} ms (one run)");
    }
    let cases: Vec<(&str, RiskFilter)> = vec![
        ("whole register + heat maps", RiskFilter::default()),
        (
            "needs a decision",
            RiskFilter {
                needs_decision: true,
                ..RiskFilter::default()
            },
        ),
        (
            "one asset",
            RiskFilter {
                asset: Some(asset_id(42)),
                ..RiskFilter::default()
            },
        ),
        (
            "words (\"ransomware\") + level High",
            RiskFilter {
                text: Some("ransomware".into()),
                level: Some("High".into()),
                ..RiskFilter::default()
            },
        ),
    ];
    let mut worst = 0.0f64;
    for (label, f) in cases {
        let mut d = Vec::new();
        let mut n = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let reg = app.risk_register(&caller, &f).await.unwrap();
            d.push(t.elapsed());
            n = reg.risks.len();
        }
        let (p50, p90) = stats(d);
        worst = worst.max(p90);
        println!(
            "  {label:<40} median {p50:7.2} ms  p90 {p90:7.2} ms  ({:.1}x baseline, {n} risks)",
            p50 / b50
        );
    }
    println!(
        "  target 100 ms: {} (slowest p90 {worst:.2} ms)",
        if worst < 100.0 { "met" } else { "NOT met" }
    );
}
