//! Evidence list speed (target: 1,000,000 items filtered and paged in under 50 ms, on both
//! backends). Run: `cargo bench -p attest-store --bench evidence_list [-- ITEMS]`.
//! PostgreSQL is used when `ATTEST_TEST_POSTGRES_URL` (or the local default) answers;
//! otherwise that half says it was skipped.
//!
//! One organisation with 2,000 controls and ITEMS evidence items (each supporting one
//! control, dated over four years, every tenth item superseded by a correction). Each query
//! asks for one page of 50, as the list view does; the figures are the median and p90 of
//! 30 runs. Baseline in the same run: reading one item by its primary key, the cheapest read
//! there is, so the ratio shows what filtering and paging add to a round trip.

use std::time::{Duration, Instant};

use attest_domain::OrgId;
use attest_store::backup::{ColumnSpec, ColumnType, insert_rows};
use attest_store::evidence::{self as ev, Filter};
use attest_store::testing::{self, TestDb};
use attest_store::{Backend, Store};
use serde_json::Value;
use time::{Date, Duration as Days, Month};

const CONTROLS: usize = 2_000;
const RUNS: usize = 30;
const PAGE: i64 = 50;
const WORDS: [&str; 5] = [
    "backup",
    "access review",
    "vulnerability scan",
    "training",
    "change",
];

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            match testing::fresh(backend).await {
                Some(db) => run(backend, db, n).await,
                None => println!("\n{backend:?}: SKIPPED (no PostgreSQL server answers)"),
            }
        }
    });
}

fn cols(names: &[(&str, ColumnType)]) -> Vec<ColumnSpec> {
    names
        .iter()
        .map(|(n, t)| ColumnSpec {
            name: (*n).into(),
            ty: *t,
        })
        .collect()
}

fn control_id(i: usize) -> String {
    format!("0190b5a0-0000-7000-8000-{i:012}")
}

fn evidence_id(i: usize) -> String {
    format!("0190b5a1-0000-7000-8000-{i:012}")
}

async fn fill(store: &Store, org: OrgId, n: usize) {
    let mut tx = store.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO organisations (id, slug, name, created_at) VALUES ($1, 'bench', 'Bench', 0)",
    )
    .bind(org.to_string())
    .execute(&mut *tx)
    .await
    .unwrap();
    let control_cols = cols(&[
        ("id", ColumnType::Text),
        ("org_id", ColumnType::Text),
        ("ref", ColumnType::Text),
        ("title", ColumnType::Text),
        ("frequency", ColumnType::Text),
        ("status", ColumnType::Text),
        ("created_at", ColumnType::Integer),
        ("updated_at", ColumnType::Integer),
    ]);
    let rows: Vec<Vec<Value>> = (0..CONTROLS)
        .map(|i| {
            vec![
                control_id(i).into(),
                org.to_string().into(),
                format!("C-{i:04}").into(),
                format!("Control {i}").into(),
                "quarterly".into(),
                "implemented".into(),
                0.into(),
                0.into(),
            ]
        })
        .collect();
    insert_rows(&mut tx, "controls", &control_cols, &rows)
        .await
        .unwrap();

    let ev_cols = cols(&[
        ("id", ColumnType::Text),
        ("org_id", ColumnType::Text),
        ("lineage_id", ColumnType::Text),
        ("version", ColumnType::Integer),
        ("superseded_by", ColumnType::Text),
        ("kind", ColumnType::Text),
        ("title", ColumnType::Text),
        ("source", ColumnType::Text),
        ("url", ColumnType::Text),
        ("collected_on", ColumnType::Text),
        ("effective_from", ColumnType::Text),
        ("effective_until", ColumnType::Text),
        ("collected_by", ColumnType::Text),
        ("created_at", ColumnType::Integer),
    ]);
    let link_cols = cols(&[
        ("org_id", ColumnType::Text),
        ("evidence_id", ColumnType::Text),
        ("control_id", ColumnType::Text),
        ("created_at", ColumnType::Integer),
        ("effective_from", ColumnType::Text),
    ]);
    let start = Date::from_calendar_date(2023, Month::January, 1).unwrap();
    for chunk_start in (0..n).step_by(10_000) {
        let end = (chunk_start + 10_000).min(n);
        let mut evs = Vec::with_capacity(end - chunk_start);
        let mut links = Vec::with_capacity(end - chunk_start);
        for i in chunk_start..end {
            // Every tenth item was corrected by the next one (same lineage, next version).
            let corrected = i % 10 == 0 && i + 1 < n;
            let second = i % 10 == 1 && i > 0;
            let lineage = if second {
                evidence_id(i - 1)
            } else {
                evidence_id(i)
            };
            let day = start + Days::days((i * 1461 / n) as i64);
            let from = attest_domain::evidence::day_text(day);
            let created_at = 1_700_000_000_000_000_i64 + i as i64 * 1_000;
            let until = attest_domain::evidence::day_text(day + Days::days(90));
            evs.push(vec![
                evidence_id(i).into(),
                org.to_string().into(),
                lineage.into(),
                (if second { 2 } else { 1 }).into(),
                if corrected {
                    evidence_id(i + 1).into()
                } else {
                    Value::Null
                },
                "link".into(),
                format!("{} {i}", WORDS[i % WORDS.len()]).into(),
                "automated".into(),
                format!("https://ci.example.test/run/{i}").into(),
                from.clone().into(),
                from.clone().into(),
                until.into(),
                "user:bench".into(),
                created_at.into(),
            ]);
            links.push(vec![
                org.to_string().into(),
                evidence_id(i).into(),
                control_id(i % CONTROLS).into(),
                created_at.into(),
                from.into(),
            ]);
        }
        insert_rows(&mut tx, "evidence", &ev_cols, &evs)
            .await
            .unwrap();
        insert_rows(&mut tx, "evidence_controls", &link_cols, &links)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let analyse = match store.backend() {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "VACUUM ANALYZE",
    };
    sqlx::query(analyse).execute(store.pool()).await.unwrap();
}

fn stats(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1e3;
    (ms(d[d.len() / 2]), ms(d[d.len() * 9 / 10]))
}

async fn run(backend: Backend, db: TestDb, n: usize) {
    let store = db.store.clone();
    let org: OrgId = "0190b5a0-0000-7000-8000-0000000000aa".parse().unwrap();
    let t = Instant::now();
    fill(&store, org, n).await;
    println!(
        "\n{backend:?}: {n} evidence items over {CONTROLS} controls (filled in {:.1} s), page of {PAGE}",
        t.elapsed().as_secs_f64()
    );

    let mut base = Vec::new();
    for i in 0..RUNS {
        let id = evidence_id(i * 997 % n);
        let t = Instant::now();
        let e = ev::get(&store, org, &id).await.unwrap();
        base.push(t.elapsed());
        assert!(e.is_some());
    }
    let (b50, b90) = stats(base);
    println!(
        "  {:<44} median {b50:7.2} ms  p90 {b90:7.2} ms",
        "baseline: one item by id"
    );

    let day = |y, m, d| Date::from_calendar_date(y, m, d).unwrap();
    // The keyset of the item halfway down the list, for a deep page.
    let middle = (
        1_700_000_000_000_000_i64 + (n / 2) as i64 * 1_000,
        evidence_id(n / 2),
    );
    // An item whose title no other item contains.
    let once = n * 7 / 9 / 10 * 10 + 7;
    let owner_controls: Vec<String> = (0..12).map(|i| control_id(i * 37)).collect();
    let cases: Vec<(&str, Filter)> = vec![
        ("first page, no filter", Filter::default()),
        (
            "page halfway down (keyset)",
            Filter {
                after: Some(middle),
                ..Filter::default()
            },
        ),
        (
            "one control",
            Filter {
                control: Some(control_id(1234)),
                ..Filter::default()
            },
        ),
        (
            "an owner's 12 controls",
            Filter {
                controls: Some(owner_controls),
                ..Filter::default()
            },
        ),
        (
            "effective in Q2 2024",
            Filter {
                effective_after: Some(day(2024, Month::April, 1)),
                effective_before: Some(day(2024, Month::June, 30)),
                ..Filter::default()
            },
        ),
        (
            "one control, effective in 2024",
            Filter {
                control: Some(control_id(42)),
                effective_after: Some(day(2024, Month::January, 1)),
                effective_before: Some(day(2024, Month::December, 31)),
                ..Filter::default()
            },
        ),
        (
            "title words (\"access review\")",
            Filter {
                q: Some("access review".into()),
                ..Filter::default()
            },
        ),
        (
            "effective in 2024, a page further (keyset)",
            Filter {
                effective_after: Some(day(2024, Month::January, 1)),
                effective_before: Some(day(2024, Month::December, 31)),
                after: Some((
                    i64::from(day(2024, Month::June, 1).to_julian_day()),
                    evidence_id(n / 2),
                )),
                ..Filter::default()
            },
        ),
        (
            "title found once (searches the whole list)",
            Filter {
                q: Some(format!("{} {once}", WORDS[once % WORDS.len()])),
                ..Filter::default()
            },
        ),
        (
            "all versions",
            Filter {
                all_versions: true,
                ..Filter::default()
            },
        ),
    ];
    let mut worst = 0.0f64;
    for (label, mut f) in cases {
        f.limit = PAGE;
        let mut d = Vec::new();
        let mut got = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let page = ev::list(&store, org, &f).await.unwrap();
            d.push(t.elapsed());
            got = page.len();
        }
        assert!(got > 0, "{label}: empty page");
        let (p50, p90) = stats(d);
        worst = worst.max(p90);
        println!(
            "  {label:<44} median {p50:7.2} ms  p90 {p90:7.2} ms  ({:.1}x baseline, {got} rows)",
            p50 / b50
        );
    }
    println!(
        "  target 50 ms: {} (slowest p90 {worst:.2} ms)",
        if worst < 50.0 { "met" } else { "NOT met" }
    );
}
