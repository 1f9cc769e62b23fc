//! Audit-trail verification speed on SQLite (target: at least 1,000,000 entries per second on
//! one core). Run: `cargo bench -p attest-store --bench audit_verify [-- ENTRIES]`; pin it to
//! one core with `taskset -c 0`.
//!
//! Baseline measured in the same run: hashing the same entries from memory, so the ratio shows
//! what reading them from the database costs.

use std::time::Instant;

use attest_domain::Timestamp;
use attest_domain::audit::{ChainVerifier, EntryFields, entry_hash, genesis_hash};
use attest_store::audit::VerifyScope;
use attest_store::backup::{ColumnSpec, ColumnType, insert_rows};
use attest_store::{PoolConfig, Store, audit};

fn main() {
    let n: i64 = std::env::args()
        .skip(1)
        .find(|a| a.parse::<i64>().is_ok())
        .map(|a| a.parse().unwrap())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(n));
}

struct Row {
    seq: i64,
    at: i64,
    object_id: String,
    text: String,
    prev: String,
    hash: String,
}

const ACTOR: &str = "user:0190b5a0-0000-7000-8000-000000000001";

fn entries(chain: &str, n: i64) -> Vec<Row> {
    let mut prev = genesis_hash(chain);
    (1..=n)
        .map(|seq| {
            let object_id = format!("0190b5a0-0000-7000-8000-{seq:012}");
            let before = format!(
                "{{\"id\":\"{object_id}\",\"status\":\"planned\",\"title\":\"Control {seq}\"}}"
            );
            let after = before.replace("planned", "implemented");
            let at = 1_790_000_000_000_000 + seq;
            let text = EntryFields {
                chain,
                seq,
                at: Timestamp::from_micros(at),
                actor: ACTOR,
                action: "control.update",
                object_type: "control",
                object_id: &object_id,
                before: &before,
                after: &after,
            }
            .canonical()
            .unwrap();
            let hash = entry_hash(text.as_bytes(), &prev);
            let row = Row {
                seq,
                at,
                object_id,
                text,
                prev: hex::encode(prev),
                hash: hex::encode(hash),
            };
            prev = hash;
            row
        })
        .collect()
}

/// This process's CPU time (user + system) from /proc, in seconds (Linux clock ticks are
/// 1/100 s): a noisy neighbour on the shared machine does not count against it.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

async fn run(n: i64) {
    let dir = std::env::temp_dir().join(format!("attest-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}/bench.db", dir.display());
    let store = Store::connect(&url, &PoolConfig::default()).await.unwrap();
    store.migrate().await.unwrap();
    let chain = "0190b5a0-0000-7000-8000-00000000cafe";
    let rows = entries(chain, n);

    // Baseline: the same verification from memory (hashing and comparing only).
    let t = Instant::now();
    let mut v = ChainVerifier::new(chain);
    for r in &rows {
        v.check(r.seq, r.text.as_bytes(), r.hash.as_bytes())
            .unwrap();
    }
    let baseline = t.elapsed();

    let cols: Vec<ColumnSpec> = [
        ("chain", ColumnType::Text),
        ("seq", ColumnType::Integer),
        ("at", ColumnType::Integer),
        ("actor", ColumnType::Text),
        ("action", ColumnType::Text),
        ("object_type", ColumnType::Text),
        ("object_id", ColumnType::Text),
        ("entry", ColumnType::Text),
        ("prev_hash", ColumnType::Text),
        ("hash", ColumnType::Text),
    ]
    .into_iter()
    .map(|(name, ty)| ColumnSpec {
        name: name.into(),
        ty,
    })
    .collect();
    let mut tx = store.begin().await.unwrap();
    for chunk in rows.chunks(50_000) {
        let values: Vec<Vec<serde_json::Value>> = chunk
            .iter()
            .map(|r| {
                vec![
                    chain.into(),
                    r.seq.into(),
                    r.at.into(),
                    ACTOR.into(),
                    "control.update".into(),
                    "control".into(),
                    r.object_id.clone().into(),
                    r.text.clone().into(),
                    r.prev.clone().into(),
                    r.hash.clone().into(),
                ]
            })
            .collect();
        insert_rows(&mut tx, "audit_log", &cols, &values)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE chain = $1")
        .bind(chain)
        .bind(n)
        .bind(&rows.last().unwrap().hash)
        .execute(&mut *tx)
        .await
        .unwrap();
    let inserted = sqlx::query("INSERT INTO audit_heads (chain, seq, hash) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM audit_heads WHERE chain = $1)")
        .bind(chain)
        .bind(n)
        .bind(&rows.last().unwrap().hash)
        .execute(&mut *tx)
        .await
        .unwrap();
    let _ = inserted;
    tx.commit().await.unwrap();
    drop(rows);
    // A server that has run a while has its trail in the database file, not the WAL.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await
        .unwrap();

    println!("audit verify, SQLite, {n} entries, best of 3 runs");
    println!(
        "  baseline, verifying from memory:   {:>10.0} entries/s",
        n as f64 / baseline.as_secs_f64()
    );
    for (label, scope) in [
        ("chain walk (attest verify)", VerifyScope::Chain),
        ("chain + search columns", VerifyScope::Full),
    ] {
        let mut best = f64::MAX;
        let mut best_cpu = f64::MAX;
        for _ in 0..3 {
            let c = cpu_seconds();
            let t = Instant::now();
            let reports = audit::verify_all(&store, scope).await.unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(cpu_seconds() - c);
            let r = reports.iter().find(|r| r.chain == chain).unwrap();
            assert_eq!((r.verified, r.problem.as_deref()), (n, None));
        }
        let rate = n as f64 / best;
        println!(
            "  {label:<32} {rate:>10.0} entries/s wall, {:>10.0} per CPU-second; ratio to baseline {:.2}; target 1,000,000/s {}",
            n as f64 / best_cpu,
            rate / (n as f64 / baseline.as_secs_f64()),
            if rate >= 1_000_000.0 {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    store.close().await;
    if std::env::var_os("ATTEST_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
