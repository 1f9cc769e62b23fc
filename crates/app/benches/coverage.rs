//! Coverage speed (target: every built-in framework for an organisation with 2,000 controls
//! and 20,000 links in under 50 ms). Run: `cargo bench -p attest-app --bench coverage`.
//!
//! Measures, on SQLite with every built-in framework in use:
//! - `compute`: the pure computation over all frameworks, inputs already in memory;
//! - `use case`: `App::coverage_overview`, which reads the controls and links from the
//!   database and computes — what a request costs;
//! - baseline, in the same run: reading the same controls and links from the database alone,
//!   so the ratio shows what the computation adds to the unavoidable read.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use attest_app::coverage::{CoverageInputs, compute};
use attest_app::framework::FrameworkSummary;
use attest_app::{App, AppConfig, Caller};
use attest_blobs::BlobStore;
use attest_domain::Timestamp;
use attest_domain::control::{ControlStatus, Frequency};
use attest_domain::mapping::Coverage;
use attest_store::control::{self as store_ctl, Control, Link};
use attest_store::framework as store_fw;
use attest_store::{PoolConfig, Store};

const CONTROLS: usize = 2_000;
const LINKS: usize = 20_000;
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

    // Every assessable requirement of every built-in framework, to spread the links over.
    let catalogs = attest_catalog::registry::Catalogs::shared();
    let mut targets = Vec::new();
    for f in catalogs.frameworks() {
        for r in f.assessable() {
            targets.push((f.id.clone(), r.id.clone()));
        }
    }
    let now = Timestamp::now();
    let mut tx = store.begin().await.unwrap();
    for f in catalogs.frameworks() {
        store_fw::set_in_use(&mut tx, org, &f.id, true, "bench", now)
            .await
            .unwrap();
    }
    let statuses = [
        ControlStatus::Implemented,
        ControlStatus::Partial,
        ControlStatus::Planned,
        ControlStatus::NotApplicable,
    ];
    for i in 0..CONTROLS {
        store_ctl::insert(
            &mut tx,
            &Control {
                id: format!("ctl-{i:05}"),
                org_id: org,
                reference: format!("C-{i:04}"),
                title: format!("Control {i}"),
                description: String::new(),
                owner_id: None,
                frequency: Frequency::Quarterly,
                status: statuses[i % statuses.len()],
                created_at: now,
                updated_at: now,
            },
        )
        .await
        .unwrap();
    }
    // 10 links per control, spread over all requirements (a fixed stride, no duplicates).
    let mut seen = std::collections::HashSet::new();
    let mut k = 0usize;
    for i in 0..LINKS {
        let control = format!("ctl-{:05}", i % CONTROLS);
        let (fw, req) = loop {
            let t = &targets[(k * 7919) % targets.len()];
            k += 1;
            if seen.insert((control.clone(), t.0.clone(), t.1.clone())) {
                break t.clone();
            }
        };
        store_ctl::link(
            &mut tx,
            org,
            &Link {
                control_id: control,
                framework_id: fw,
                requirement_id: req,
                coverage: if i % 3 == 0 {
                    Coverage::Partial
                } else {
                    Coverage::Full
                },
                origin: "manual".into(),
                via: String::new(),
                created_by: "bench".into(),
                created_at: now,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let frameworks = catalogs.frameworks().len();
    println!(
        "organisation: {CONTROLS} controls, {LINKS} links, {frameworks} frameworks in use ({} assessable requirements)",
        targets.len()
    );

    // Baseline: reading the rows alone.
    let mut base = Vec::new();
    let (mut read_controls, mut read_links) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let c = store_ctl::list(&store, org).await.unwrap();
        let between = Instant::now();
        let l = store_ctl::all_links(&store, org).await.unwrap();
        base.push(t.elapsed());
        read_controls.push(between - t);
        read_links.push(between.elapsed());
        assert_eq!((c.len(), l.len()), (CONTROLS, LINKS));
    }

    // The pure computation.
    let controls = store_ctl::list(&store, org).await.unwrap();
    let links = store_ctl::all_links(&store, org).await.unwrap();
    let mut pure = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let inputs = CoverageInputs::new(&controls, &links, HashMap::new());
        let mut n = 0;
        for f in catalogs.frameworks() {
            let c = compute(f, FrameworkSummary::of(f, true), &inputs);
            n += c.requirements.len();
        }
        pure.push(t.elapsed());
        assert_eq!(n, targets.len());
    }

    // The whole use case, cold: a node that has not read this organisation since its last
    // change (a fresh App each time, so nothing is cached).
    let mut cold = Vec::new();
    for _ in 0..RUNS {
        let fresh_app = App::new(store.clone(), app.blobs().clone(), AppConfig::default());
        let t = Instant::now();
        let all = fresh_app.coverage_overview(&caller).await.unwrap();
        cold.push(t.elapsed());
        assert_eq!(all.len(), frameworks);
    }

    // Warm: nothing changed since the last request, so the rows are not read again (one
    // indexed read of the audit chain's head decides that), but everything is computed.
    let mut whole = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let all = app.coverage_overview(&caller).await.unwrap();
        whole.push(t.elapsed());
        assert_eq!(all.len(), frameworks);
    }

    let (b50, b90) = stats(base);
    let (p50, p90) = stats(pure);
    let (c50, c90) = stats(cold);
    let (w50, w90) = stats(whole);
    let (rc50, rc90) = stats(read_controls);
    let (rl50, rl90) = stats(read_links);
    println!("baseline  read rows only        median {b50:7.2} ms  p90 {b90:7.2} ms");
    println!("            of which controls   median {rc50:7.2} ms  p90 {rc90:7.2} ms");
    println!("            of which links      median {rl50:7.2} ms  p90 {rl90:7.2} ms");
    println!("compute   all frameworks        median {p50:7.2} ms  p90 {p90:7.2} ms");
    println!(
        "use case  cold (rows read)      median {c50:7.2} ms  p90 {c90:7.2} ms  ({:.2}x the baseline read)",
        c50 / b50
    );
    println!(
        "use case  warm (head unchanged) median {w50:7.2} ms  p90 {w90:7.2} ms  ({:.2}x the baseline read)",
        w50 / b50
    );
    println!(
        "target 50 ms: warm {}, cold {}",
        if w90 < 50.0 { "met" } else { "NOT met" },
        if c90 < 50.0 { "met" } else { "NOT met" }
    );
}
