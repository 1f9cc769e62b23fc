//! The audit trail: appending entries inside a use case's transaction, reading them, and
//! verifying every chain end to end.

use attest_domain::Timestamp;
use attest_domain::audit::{
    ChainBreak, ChainVerifier, EntryFields, Hash, classify_failure, entry_hash, genesis_hash,
    parse_hash,
};
use futures::TryStreamExt;
use serde::Serialize;

use crate::{Backend, Store, StoreError, StoreResult, Tx};

/// An entry to append; the store assigns its number and hashes.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// The chain: an organisation id, or [`attest_domain::audit::INSTANCE_CHAIN`].
    pub chain: &'a str,
    /// When the change happened.
    pub at: Timestamp,
    /// Who made it (canonical actor text).
    pub actor: &'a str,
    /// What was done (`control.create`).
    pub action: &'a str,
    /// The kind of object.
    pub object_type: &'a str,
    /// The object's id.
    pub object_id: &'a str,
    /// Canonical JSON of the object before, or empty.
    pub before: &'a str,
    /// Canonical JSON of the object after, or empty.
    pub after: &'a str,
}

/// A stored entry, read back from its recorded text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its number in the chain.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object id.
    pub object_id: String,
    /// Before (JSON text or empty).
    pub before: String,
    /// After (JSON text or empty).
    pub after: String,
    /// This entry's hash, hex.
    pub hash: String,
}

/// Creates a chain's head if it does not exist yet.
pub async fn ensure_chain(store: &Store, chain: &str) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    ensure_chain_in(&mut tx, chain).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates a chain's head, inside a transaction (used when an organisation is created).
pub async fn ensure_chain_in(tx: &mut Tx, chain: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
        .bind(chain)
        .bind(hex::encode(genesis_hash(chain)))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const NEXT_SQL: &str = "UPDATE audit_heads SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash";

/// Appends an entry to its chain inside the caller's transaction. Taking the next number
/// with `UPDATE … RETURNING` locks the chain's head row until the transaction ends, so
/// concurrent writers on any number of nodes append one after another.
pub async fn append(tx: &mut Tx, e: &NewEntry<'_>) -> StoreResult<(i64, Hash)> {
    let head: Option<(i64, String)> = sqlx::query_as(NEXT_SQL)
        .bind(e.chain)
        .fetch_optional(&mut **tx)
        .await?;
    let (seq, prev_hex) = match head {
        Some(h) => h,
        None => {
            ensure_chain_in(tx, e.chain).await?;
            sqlx::query_as(NEXT_SQL)
                .bind(e.chain)
                .fetch_one(&mut **tx)
                .await?
        }
    };
    let prev = parse_hash(&prev_hex).ok_or_else(|| {
        StoreError::Corrupt(format!("audit head of chain {} is malformed", e.chain))
    })?;
    let text = EntryFields {
        chain: e.chain,
        seq,
        at: e.at,
        actor: e.actor,
        action: e.action,
        object_type: e.object_type,
        object_id: e.object_id,
        before: e.before,
        after: e.after,
    }
    .canonical()
    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let hash = entry_hash(text.as_bytes(), &prev);
    let hash_hex = hex::encode(hash);
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, at, actor, action, object_type, object_id, entry, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.chain)
    .bind(seq)
    .bind(e.at.as_micros())
    .bind(e.actor)
    .bind(e.action)
    .bind(e.object_type)
    .bind(e.object_id)
    .bind(&text)
    .bind(&prev_hex)
    .bind(&hash_hex)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_heads SET hash = $2 WHERE chain = $1")
        .bind(e.chain)
        .bind(&hash_hex)
        .execute(&mut **tx)
        .await?;
    Ok((seq, hash))
}

/// Filters for listing a chain's entries.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// Only this action, or actions starting with it when it ends in `.` (`control.`).
    pub action: Option<String>,
    /// Only this kind of object.
    pub object_type: Option<String>,
    /// Only this object.
    pub object_id: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries at or after this instant.
    pub from: Option<Timestamp>,
    /// Only entries before this instant.
    pub until: Option<Timestamp>,
    /// Entries numbered below this (paging backwards from the newest).
    pub before_seq: Option<i64>,
    /// At most this many (capped at 500).
    pub limit: i64,
}

/// Lists a chain's entries, newest first. What is shown comes from each entry's recorded
/// text (the part the hash chain proves), not from the search columns.
pub async fn list(store: &Store, chain: &str, f: &EntryFilter) -> StoreResult<Vec<Entry>> {
    let action = f.action.as_ref().map(|a| {
        let escaped = a
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        if a.ends_with('.') {
            format!("{escaped}%")
        } else {
            escaped
        }
    });
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT seq, entry, hash FROM audit_log WHERE chain = $1 \
         AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') \
         AND ($3 IS NULL OR object_type = $3) \
         AND ($4 IS NULL OR object_id = $4) \
         AND ($5 IS NULL OR actor = $5) \
         AND ($6 IS NULL OR at >= $6) \
         AND ($7 IS NULL OR at < $7) \
         AND ($8 IS NULL OR seq < $8) \
         ORDER BY seq DESC LIMIT $9",
    )
    .bind(chain)
    .bind(action)
    .bind(f.object_type.as_deref())
    .bind(f.object_id.as_deref())
    .bind(f.actor.as_deref())
    .bind(f.from.map(Timestamp::as_micros))
    .bind(f.until.map(Timestamp::as_micros))
    .bind(f.before_seq)
    .bind(f.limit.clamp(1, 500))
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(seq, text, hash)| {
            let e = EntryFields::parse(&text).ok_or_else(|| {
                StoreError::Corrupt(format!("audit entry {seq} of chain {chain} is malformed"))
            })?;
            Ok(Entry {
                seq: e.seq,
                at: e.at,
                actor: e.actor.to_owned(),
                action: e.action.to_owned(),
                object_type: e.object_type.to_owned(),
                object_id: e.object_id.to_owned(),
                before: e.before.to_owned(),
                after: e.after.to_owned(),
                hash,
            })
        })
        .collect()
}

/// The outcome of verifying one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// The chain.
    pub chain: String,
    /// Entries verified before the first problem (all of them when intact).
    pub verified: i64,
    /// The first problem, if any.
    pub problem: Option<String>,
    /// The first problem as a value, for tests and callers.
    #[serde(skip)]
    pub broken: Option<ChainBreak>,
}

impl ChainReport {
    fn new(chain: &str, verified: i64, broken: Option<ChainBreak>) -> Self {
        Self {
            chain: chain.to_owned(),
            verified,
            problem: broken.as_ref().map(ToString::to_string),
            broken,
        }
    }
}

/// Which checks [`verify_all`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyScope {
    /// The hash chain only: every entry's hash, every link, every head.
    Chain,
    /// The chain, then the search columns against each entry's recorded text.
    Full,
}

/// Verifies every chain, all read from one snapshot so that appends made meanwhile cannot
/// look like tampering.
pub async fn verify_all(store: &Store, scope: VerifyScope) -> StoreResult<Vec<ChainReport>> {
    match store.backend() {
        // A million entries a second needs borrowed column values and no per-row channel
        // hop, which sqlx's SQLite driver does not offer: read with rusqlite.
        Backend::Sqlite => {
            let path = store
                .sqlite_path()
                .ok_or_else(|| StoreError::Config("not a SQLite store".into()))?;
            tokio::task::spawn_blocking(move || sqlite::verify(&path, scope))
                .await
                .map_err(|e| StoreError::Corrupt(format!("verification task failed: {e}")))?
        }
        Backend::Postgres => verify_sqlx(store, scope).await,
    }
}

const HEADS_SQL: &str = "SELECT chain, seq, hash FROM audit_heads ORDER BY chain";
const HEADLESS_SQL: &str =
    "SELECT DISTINCT chain FROM audit_log WHERE chain NOT IN (SELECT chain FROM audit_heads)";
const ENTRIES_SQL: &str = "SELECT seq, entry, hash FROM audit_log WHERE chain = $1 ORDER BY seq";
const PREV_SQL: &str = "SELECT prev_hash FROM audit_log WHERE chain = $1 AND seq = $2";
const INDEX_SQL: &str = "SELECT seq, at, actor, action, object_type, object_id, entry FROM audit_log WHERE chain = $1 ORDER BY seq";

fn missing_head(chain: String) -> ChainReport {
    ChainReport {
        chain,
        verified: 0,
        problem: Some("the chain's head is missing".into()),
        broken: Some(ChainBreak::HeadMismatch { seq: 0 }),
    }
}

/// Whether a row's search columns repeat its recorded entry.
fn index_agrees(seq: i64, at: i64, cols: [&str; 4], text: &str) -> bool {
    EntryFields::parse(text).is_some_and(|e| {
        e.seq == seq
            && e.at.as_micros() == at
            && [e.actor, e.action, e.object_type, e.object_id] == cols
    })
}

mod sqlite {
    use super::*;
    use rusqlite::{OpenFlags, params};

    fn err(e: rusqlite::Error) -> StoreError {
        StoreError::Corrupt(format!("reading the audit trail: {e}"))
    }

    pub(super) fn verify(
        path: &std::path::Path,
        scope: VerifyScope,
    ) -> StoreResult<Vec<ChainReport>> {
        let mut conn = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        // A sequential read of the whole trail: map the file instead of copying pages.
        conn.execute_batch("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536;")
            .map_err(err)?;
        let tx = conn.transaction().map_err(err)?;
        let heads: Vec<(String, i64, String)> = {
            let mut st = tx.prepare(HEADS_SQL).map_err(err)?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?
        };
        let mut scanned = scan(&tx)?;
        let mut reports = Vec::with_capacity(heads.len());
        for (chain, head_seq, head_hash) in &heads {
            // Chains that passed the sequential scan in order need no second read; the
            // others (and any break) are walked by key, which tells what is wrong.
            let (v, mut broken) = match scanned.remove(chain.as_bytes()) {
                Some((v, true)) => (v, None),
                None if *head_seq == 0 => (ChainVerifier::new(chain), None),
                _ => {
                    let mut v = ChainVerifier::new(chain);
                    let b = walk(&tx, chain, &mut v)?;
                    (v, b)
                }
            };
            if broken.is_none() {
                let head = parse_hash(head_hash).unwrap_or([0; 32]);
                broken = v.finish(*head_seq, &head).err();
            }
            if broken.is_none() && scope == VerifyScope::Full {
                broken = check_index(&tx, chain)?;
            }
            reports.push(ChainReport::new(chain, v.verified(), broken));
        }
        let mut st = tx.prepare(HEADLESS_SQL).map_err(err)?;
        let orphans: Vec<String> = st
            .query_map([], |r| r.get(0))
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        reports.extend(orphans.into_iter().map(missing_head));
        Ok(reports)
    }

    /// One pass over the whole table in storage order, each row checked by its chain's
    /// verifier. Entries are appended in commit order, so a chain's rows normally arrive in
    /// sequence and this reads the file front to back instead of through the key index. A
    /// chain whose rows arrive out of order, or that fails a check, is marked (`false`) and
    /// left to [`walk`].
    fn scan(
        tx: &rusqlite::Transaction<'_>,
    ) -> StoreResult<std::collections::HashMap<Vec<u8>, (ChainVerifier, bool)>> {
        // Verifiers by chain; consecutive rows mostly belong to one chain, so the last one
        // used is compared first and the map is consulted only when the chain changes.
        let mut slots: Vec<(Vec<u8>, ChainVerifier, bool)> = Vec::new();
        let mut index: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
        let mut last = usize::MAX;
        let mut st = tx
            .prepare_cached(
                "SELECT CAST(chain AS BLOB), seq, CAST(entry AS BLOB), CAST(hash AS BLOB) FROM audit_log",
            )
            .map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let chain = r
                .get_ref(0)
                .and_then(|x| x.as_bytes().map_err(Into::into))
                .map_err(err)?;
            if slots.get(last).is_none_or(|s| s.0 != chain) {
                last = match index.get(chain) {
                    Some(&i) => i,
                    None => {
                        let name = String::from_utf8_lossy(chain).into_owned();
                        slots.push((chain.to_vec(), ChainVerifier::new(&name), true));
                        index.insert(chain.to_vec(), slots.len() - 1);
                        slots.len() - 1
                    }
                };
            }
            let slot = &mut slots[last];
            if !slot.2 {
                continue;
            }
            let seq: i64 = r.get(1).map_err(err)?;
            let text = r
                .get_ref(2)
                .and_then(|x| x.as_bytes().map_err(Into::into))
                .map_err(err)?;
            let hash = r
                .get_ref(3)
                .and_then(|x| x.as_bytes().map_err(Into::into))
                .map_err(err)?;
            if seq != slot.1.verified() + 1 || slot.1.check(seq, text, hash).is_err() {
                slot.2 = false;
            }
        }
        Ok(slots.into_iter().map(|(k, v, ok)| (k, (v, ok))).collect())
    }

    fn walk(
        tx: &rusqlite::Transaction<'_>,
        chain: &str,
        v: &mut ChainVerifier,
    ) -> StoreResult<Option<ChainBreak>> {
        // As BLOBs, SQLite hands out pointers into its pages; as TEXT it copies each value
        // to add a terminating NUL.
        let mut st = tx
            .prepare_cached("SELECT seq, CAST(entry AS BLOB), CAST(hash AS BLOB) FROM audit_log WHERE chain = ?1 ORDER BY seq")
            .map_err(err)?;
        let mut rows = st.query(params![chain]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let seq: i64 = r.get(0).map_err(err)?;
            let text = r
                .get_ref(1)
                .and_then(|x| x.as_bytes().map_err(Into::into))
                .map_err(err)?;
            let hash = r
                .get_ref(2)
                .and_then(|x| x.as_bytes().map_err(Into::into))
                .map_err(err)?;
            let expected_prev = v.last_hash();
            if let Err(b) = v.check(seq, text, hash) {
                return Ok(Some(match b {
                    ChainBreak::Altered { seq } => {
                        let prev: Option<String> = tx
                            .query_row(PREV_SQL, params![chain, seq], |r| r.get(0))
                            .ok();
                        classify_failure(seq, &expected_prev, prev.as_deref())
                    }
                    other => other,
                }));
            }
        }
        Ok(None)
    }

    fn check_index(tx: &rusqlite::Transaction<'_>, chain: &str) -> StoreResult<Option<ChainBreak>> {
        let mut st = tx.prepare_cached(INDEX_SQL).map_err(err)?;
        let mut rows = st.query(params![chain]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let seq: i64 = r.get(0).map_err(err)?;
            let at: i64 = r.get(1).map_err(err)?;
            let s = |i: usize| {
                r.get_ref(i)
                    .and_then(|x| x.as_str().map_err(Into::into))
                    .map_err(err)
            };
            if !index_agrees(seq, at, [s(2)?, s(3)?, s(4)?, s(5)?], s(6)?) {
                return Ok(Some(ChainBreak::IndexMismatch { seq }));
            }
        }
        Ok(None)
    }
}

async fn verify_sqlx(store: &Store, scope: VerifyScope) -> StoreResult<Vec<ChainReport>> {
    let mut tx = store.begin_snapshot().await?;
    let heads: Vec<(String, i64, String)> = sqlx::query_as(HEADS_SQL).fetch_all(&mut *tx).await?;
    let mut reports = Vec::with_capacity(heads.len());
    for (chain, head_seq, head_hash) in &heads {
        let mut v = ChainVerifier::new(chain);
        let mut broken = None;
        let mut expected_prev = v.last_hash();
        {
            let mut rows = sqlx::query_as::<_, (i64, String, String)>(ENTRIES_SQL)
                .bind(chain)
                .fetch(&mut *tx);
            while let Some((seq, text, hash)) = rows.try_next().await? {
                expected_prev = v.last_hash();
                if let Err(b) = v.check(seq, text.as_bytes(), hash.as_bytes()) {
                    broken = Some(b);
                    break;
                }
            }
        }
        if let Some(ChainBreak::Altered { seq }) = broken {
            let prev: Option<(String,)> = sqlx::query_as(PREV_SQL)
                .bind(chain)
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?;
            broken = Some(classify_failure(
                seq,
                &expected_prev,
                prev.as_ref().map(|p| p.0.as_str()),
            ));
        }
        if broken.is_none() {
            let head = parse_hash(head_hash).unwrap_or([0; 32]);
            broken = v.finish(*head_seq, &head).err();
        }
        if broken.is_none() && scope == VerifyScope::Full {
            let mut rows =
                sqlx::query_as::<_, (i64, i64, String, String, String, String, String)>(INDEX_SQL)
                    .bind(chain)
                    .fetch(&mut *tx);
            while let Some((seq, at, actor, action, ot, oid, text)) = rows.try_next().await? {
                if !index_agrees(seq, at, [&actor, &action, &ot, &oid], &text) {
                    broken = Some(ChainBreak::IndexMismatch { seq });
                    break;
                }
            }
        }
        reports.push(ChainReport::new(chain, v.verified(), broken));
    }
    let orphans: Vec<(String,)> = sqlx::query_as(HEADLESS_SQL).fetch_all(&mut *tx).await?;
    reports.extend(orphans.into_iter().map(|o| missing_head(o.0)));
    tx.rollback().await?;
    Ok(reports)
}

/// The sequence number of a chain's head (0 for a chain with no entry yet): every change of
/// an organisation's data moves it, in the change's own transaction, so it tells a cache on
/// any node whether what it holds is still current.
pub async fn head_seq(store: &Store, chain: &str) -> StoreResult<i64> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT seq FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.0).unwrap_or(0))
}
