//! Evidence rows, their links to controls, and the blob rows their files point to.
//! Rows are written once; only the marks of a newer version, a legal hold and a disposal
//! change afterwards.

use attest_domain::evidence::{EvidenceKind, EvidenceSource};
use attest_domain::{OrgId, Timestamp};
use time::Date;

use crate::user::parse_id;
use crate::{Backend, Store, StoreError, StoreResult, Tx};

/// One evidence item (one version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Id (UUID v7).
    pub id: String,
    /// Organisation.
    pub org_id: OrgId,
    /// Id of the first version of this item.
    pub lineage_id: String,
    /// 1 for the first version.
    pub version: i64,
    /// The version this one corrects.
    pub supersedes: Option<String>,
    /// The version that corrects this one.
    pub superseded_by: Option<String>,
    /// File, link or record.
    pub kind: EvidenceKind,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// How it arrived.
    pub source: EvidenceSource,
    /// The file's SHA-256 (hex), for files.
    pub sha256: Option<String>,
    /// Size in bytes, for files and records.
    pub size: Option<i64>,
    /// Sniffed content type, for files.
    pub content_type: Option<String>,
    /// Sanitised file name, for files.
    pub file_name: Option<String>,
    /// The URL, for links.
    pub url: Option<String>,
    /// The JSON text, for records.
    pub record: Option<String>,
    /// The day it was collected.
    pub collected_on: Date,
    /// First day it proves.
    pub effective_from: Date,
    /// Last day it proves (none: one window of each control's frequency).
    pub effective_until: Option<Date>,
    /// Who collected it (actor text).
    pub collected_by: String,
    /// When it was stored.
    pub created_at: Timestamp,
    /// Under legal hold (cannot be disposed of).
    pub legal_hold: bool,
    /// When it was disposed of (the file is gone; the row stays as a record).
    pub disposed_at: Option<Timestamp>,
    /// By whom.
    pub disposed_by: Option<String>,
    /// Why.
    pub disposal_reason: Option<String>,
}

const COLUMNS: &str = "id, org_id, lineage_id, version, supersedes, superseded_by, kind, title, description, source, sha256, size, content_type, file_name, url, record, collected_on, effective_from, effective_until, collected_by, created_at, legal_hold, disposed_at, disposed_by, disposal_reason";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    lineage_id: String,
    version: i64,
    supersedes: Option<String>,
    superseded_by: Option<String>,
    kind: String,
    title: String,
    description: String,
    source: String,
    sha256: Option<String>,
    size: Option<i64>,
    content_type: Option<String>,
    file_name: Option<String>,
    url: Option<String>,
    record: Option<String>,
    collected_on: String,
    effective_from: String,
    effective_until: Option<String>,
    collected_by: String,
    created_at: i64,
    legal_hold: i64,
    disposed_at: Option<i64>,
    disposed_by: Option<String>,
    disposal_reason: Option<String>,
}

use attest_domain::evidence::day_text as date_text;

pub(crate) fn parse_date(s: &str) -> StoreResult<Date> {
    attest_domain::evidence::parse_day(s).map_err(StoreError::Corrupt)
}

impl TryFrom<Row> for Evidence {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(Evidence {
            id: r.id,
            org_id: parse_id(&r.org_id)?,
            lineage_id: r.lineage_id,
            version: r.version,
            supersedes: r.supersedes,
            superseded_by: r.superseded_by,
            kind: parse_id(&r.kind)?,
            title: r.title,
            description: r.description,
            source: parse_id(&r.source)?,
            sha256: r.sha256,
            size: r.size,
            content_type: r.content_type,
            file_name: r.file_name,
            url: r.url,
            record: r.record,
            collected_on: parse_date(&r.collected_on)?,
            effective_from: parse_date(&r.effective_from)?,
            effective_until: r.effective_until.as_deref().map(parse_date).transpose()?,
            collected_by: r.collected_by,
            created_at: Timestamp::from_micros(r.created_at),
            legal_hold: r.legal_hold != 0,
            disposed_at: r.disposed_at.map(Timestamp::from_micros),
            disposed_by: r.disposed_by,
            disposal_reason: r.disposal_reason,
        })
    }
}

/// Records that a blob exists (idempotent: the same bytes may arrive twice).
pub async fn put_blob(
    tx: &mut Tx,
    org: OrgId,
    sha256: &str,
    size: i64,
    content_type: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO blobs (org_id, sha256, size, content_type, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, sha256) DO NOTHING",
    )
    .bind(org.to_string())
    .bind(sha256)
    .bind(size)
    .bind(content_type)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets a blob row (after its last evidence was disposed of).
pub async fn delete_blob(tx: &mut Tx, org: OrgId, sha256: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM blobs WHERE org_id = $1 AND sha256 = $2")
        .bind(org.to_string())
        .bind(sha256)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every blob row of every organisation: (org, sha256 hex, size).
pub async fn all_blobs(store: &Store) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(
        sqlx::query_as("SELECT org_id, sha256, size FROM blobs ORDER BY org_id, sha256")
            .fetch_all(store.pool())
            .await?,
    )
}

/// How many evidence rows not disposed of, and engagement documents, use a blob.
pub async fn blob_users(tx: &mut Tx, org: OrgId, sha256: &str) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM evidence WHERE org_id = $1 AND sha256 = $2 AND disposed_at IS NULL) \
         + (SELECT COUNT(*) FROM engagement_documents WHERE org_id = $1 AND sha256 = $2)",
    )
    .bind(org.to_string())
    .bind(sha256)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

/// Inserts a version, and marks the one it supersedes.
pub async fn insert(tx: &mut Tx, e: &Evidence, controls: &[String]) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO evidence ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
    )))
    .bind(&e.id)
    .bind(e.org_id.to_string())
    .bind(&e.lineage_id)
    .bind(e.version)
    .bind(&e.supersedes)
    .bind(&e.superseded_by)
    .bind(e.kind.as_str())
    .bind(&e.title)
    .bind(&e.description)
    .bind(e.source.as_str())
    .bind(&e.sha256)
    .bind(e.size)
    .bind(&e.content_type)
    .bind(&e.file_name)
    .bind(&e.url)
    .bind(&e.record)
    .bind(date_text(e.collected_on))
    .bind(date_text(e.effective_from))
    .bind(e.effective_until.map(date_text))
    .bind(&e.collected_by)
    .bind(e.created_at.as_micros())
    .bind(i64::from(e.legal_hold))
    .bind(e.disposed_at.map(|t| t.as_micros()))
    .bind(&e.disposed_by)
    .bind(&e.disposal_reason)
    .execute(&mut **tx)
    .await?;
    if let Some(prev) = &e.supersedes {
        let done = sqlx::query(
            "UPDATE evidence SET superseded_by = $1 WHERE org_id = $2 AND id = $3 AND superseded_by IS NULL",
        )
        .bind(&e.id)
        .bind(e.org_id.to_string())
        .bind(prev)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            // Someone corrected the same version at the same moment.
            return Err(StoreError::Unique {
                field: "supersedes".into(),
            });
        }
    }
    for c in controls {
        sqlx::query(
            "INSERT INTO evidence_controls (org_id, evidence_id, control_id, created_at, effective_from) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(e.org_id.to_string())
        .bind(&e.id)
        .bind(c)
        .bind(e.created_at.as_micros())
        .bind(date_text(e.effective_from))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One version.
pub async fn get(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Evidence>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// One version, read in a transaction (concurrent corrections are caught when the
/// superseded mark is set, see [`insert`]).
pub async fn get_in(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Evidence>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// Every version of a lineage, oldest first.
pub async fn versions(store: &Store, org: OrgId, lineage: &str) -> StoreResult<Vec<Evidence>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM evidence WHERE org_id = $1 AND lineage_id = $2 ORDER BY version"
    )))
    .bind(org.to_string())
    .bind(lineage)
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// The controls an evidence version supports.
pub async fn controls_of(store: &Store, org: OrgId, id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT control_id FROM evidence_controls WHERE org_id = $1 AND evidence_id = $2 ORDER BY control_id",
    )
    .bind(org.to_string())
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What the dates of a control's evidence are: (control, effective from, effective until),
/// for current versions not disposed of.
pub async fn spans(store: &Store, org: OrgId) -> StoreResult<Vec<(String, Date, Option<Date>)>> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT ec.control_id, e.effective_from, e.effective_until FROM evidence_controls ec \
         JOIN evidence e ON e.id = ec.evidence_id \
         WHERE ec.org_id = $1 AND e.superseded_by IS NULL AND e.disposed_at IS NULL",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(c, f, u)| {
            Ok((
                c,
                parse_date(&f)?,
                u.as_deref().map(parse_date).transpose()?,
            ))
        })
        .collect()
}

/// A filter for the evidence list.
///
/// The list is newest first, by (created_at, id); filtered by dates it is ordered by the
/// period each item covers instead, latest first, by (effective_from, id), so that a page
/// is a short walk down an index in either case (see [`Filter::by_period`]).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only evidence supporting this control.
    pub control: Option<String>,
    /// Only evidence supporting any of these controls (a requirement's or an owner's).
    pub controls: Option<Vec<String>>,
    /// Only evidence whose effective period touches this day or later.
    pub effective_after: Option<Date>,
    /// Only evidence whose effective period starts on or before this day.
    pub effective_before: Option<Date>,
    /// Words in the title.
    pub q: Option<String>,
    /// Include superseded versions.
    pub all_versions: bool,
    /// Page after this key and id: `created_at` in microseconds, or when ordered by period
    /// the Julian day of `effective_from`.
    pub after: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

impl Filter {
    /// Whether the list is ordered by the period it covers rather than by upload time.
    pub fn by_period(&self) -> bool {
        self.effective_after.is_some() || self.effective_before.is_some()
    }

    /// The sort key of an item in this filter's order (for the next page's cursor).
    pub fn key_of(&self, e: &Evidence) -> i64 {
        if self.by_period() {
            i64::from(e.effective_from.to_julian_day())
        } else {
            e.created_at.as_micros()
        }
    }
}

enum Arg {
    Text(String),
    Int(i64),
}

/// A control filter with at most this many controls reads each control's newest links
/// (one short index walk each); a wider one walks the evidence list and checks links.
const CONTROL_ARMS: usize = 64;
/// A title search first looks for its page among this many items next in order: a common
/// word fills the page there, in one short index walk, whatever the planner guesses.
const SEARCH_WINDOW: i64 = 2_000;

/// The name of SQLite's trigram index of evidence titles (an FTS5 table with its shadow
/// tables): derived from the evidence rows by triggers, so never dumped or restored itself.
pub const TITLE_SEARCH: &str = "evidence_title_search";

/// Creates the title search index if it is missing: on SQLite an FTS5 trigram table kept by
/// triggers (filled from the existing rows once), on PostgreSQL a `pg_trgm` GIN index of the
/// lowered title. Neither can be written portably, so this runs after the migrations. Where
/// PostgreSQL lacks `pg_trgm`, title searches still work by scanning, and a warning says so.
pub(crate) async fn ensure_title_search(store: &Store) -> StoreResult<()> {
    let mut tx = store.begin().await?;
    match store.backend() {
        Backend::Sqlite => {
            let (exists,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM sqlite_master WHERE name = $1")
                    .bind(TITLE_SEARCH)
                    .fetch_one(&mut *tx)
                    .await?;
            if exists > 0 {
                return Ok(());
            }
            for sql in [
                "CREATE VIRTUAL TABLE evidence_title_search USING fts5(title, evidence_id UNINDEXED, tokenize = 'trigram')",
                "CREATE TRIGGER evidence_title_search_add AFTER INSERT ON evidence BEGIN \
                 INSERT INTO evidence_title_search (title, evidence_id) VALUES (new.title, new.id); END",
                "CREATE TRIGGER evidence_title_search_remove AFTER DELETE ON evidence BEGIN \
                 DELETE FROM evidence_title_search WHERE evidence_id = old.id; END",
                "INSERT INTO evidence_title_search (title, evidence_id) SELECT title, id FROM evidence",
            ] {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
        }
        Backend::Postgres => {
            // Several nodes may start at once.
            sqlx::query("SELECT pg_advisory_xact_lock(7423311)")
                .execute(&mut *tx)
                .await?;
            if let Err(e) = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .execute(&mut *tx)
                .await
            {
                tracing::warn!(
                    "title search will scan the evidence list: the pg_trgm extension cannot be \
                     created ({e}); ask a database administrator to run CREATE EXTENSION pg_trgm"
                );
                return Ok(());
            }
            sqlx::query(
                "CREATE INDEX IF NOT EXISTS evidence_title_trgm ON evidence USING gin (LOWER(title) gin_trgm_ops)",
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A page of evidence, in the filter's order.
pub async fn list(store: &Store, org: OrgId, f: &Filter) -> StoreResult<Vec<Evidence>> {
    let limit = f.limit.clamp(1, 500);
    let mut args: Vec<Arg> = vec![Arg::Text(org.to_string())];
    let mut arg = |v: Arg| {
        args.push(v);
        format!("${}", args.len())
    };
    let key = if f.by_period() {
        "effective_from"
    } else {
        "created_at"
    };
    // Conditions on the evidence row itself, `e`.
    let mut on_e = String::new();
    if !f.all_versions {
        on_e.push_str(" AND e.superseded_by IS NULL");
    }
    if let Some(d) = f.effective_after {
        let p = arg(Arg::Text(date_text(d)));
        on_e.push_str(&format!(
            " AND (e.effective_until IS NULL OR e.effective_until >= {p})"
        ));
    }
    if let Some(d) = f.effective_before {
        let p = arg(Arg::Text(date_text(d)));
        on_e.push_str(&format!(" AND e.effective_from <= {p}"));
    }
    let search = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = search {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = arg(Arg::Text(format!("%{escaped}%")));
        on_e.push_str(&format!(" AND LOWER(e.title) LIKE {p} ESCAPE '\\'"));
    }
    // The page starts after the cursor: `key <= a` bounds the index walk, the rest breaks ties.
    let after = f.after.as_ref().map(|(k, id)| {
        let k = if f.by_period() {
            Date::from_julian_day(i32::try_from(*k).unwrap_or(i32::MAX))
                .map(|d| Arg::Text(date_text(d)))
                .unwrap_or(Arg::Text(String::new()))
        } else {
            Arg::Int(*k)
        };
        (arg(k), arg(Arg::Text(id.clone())))
    });
    let keyset = |table: &str, id: &str| match &after {
        Some((pk, pi)) => {
            format!(" AND {table}.{key} <= {pk} AND ({table}.{key} < {pk} OR {table}.{id} < {pi})")
        }
        None => String::new(),
    };
    let order = format!("ORDER BY e.{key} DESC, e.id DESC LIMIT {limit}");

    let controls: Option<Vec<&String>> = match (&f.control, &f.controls) {
        (Some(c), Some(cs)) => Some(cs.iter().filter(|x| *x == c).collect()),
        (Some(c), None) => Some(vec![c]),
        (None, Some(cs)) => Some(cs.iter().collect()),
        (None, None) => None,
    };
    let by_control = controls.is_some();
    let sql = match controls {
        Some(cs) if cs.is_empty() => return Ok(Vec::new()),
        Some(cs) if cs.len() <= CONTROL_ARMS => {
            // One walk down each control's links in order; the page is among their heads.
            let mut seen: Vec<&String> = Vec::with_capacity(cs.len());
            let mut arms = Vec::with_capacity(cs.len());
            for c in cs {
                if seen.contains(&c) {
                    continue;
                }
                seen.push(c);
                let p = arg(Arg::Text(c.clone()));
                arms.push(format!(
                    "SELECT eid FROM (SELECT ec.evidence_id AS eid FROM evidence_controls ec \
                     JOIN evidence e ON e.id = ec.evidence_id \
                     WHERE ec.org_id = $1 AND ec.control_id = {p}{on_e}{} \
                     ORDER BY ec.{key} DESC, ec.evidence_id DESC LIMIT {limit}) a{}",
                    keyset("ec", "evidence_id"),
                    arms.len()
                ));
            }
            // The heads are looked up by id and sorted (CROSS JOIN keeps SQLite from walking
            // the whole list to find them instead); UNION drops an item two controls share.
            format!(
                "SELECT {COLUMNS} FROM ({}) heads CROSS JOIN evidence e \
                 WHERE e.id = heads.eid AND e.org_id = $1 {order}",
                arms.join(" UNION ")
            )
        }
        Some(cs) => {
            let ps: Vec<String> = cs.iter().map(|c| arg(Arg::Text((*c).clone()))).collect();
            format!(
                "SELECT {COLUMNS} FROM evidence e WHERE e.org_id = $1{on_e}{} AND EXISTS \
                 (SELECT 1 FROM evidence_controls ec WHERE ec.evidence_id = e.id AND ec.control_id IN ({})) {order}",
                keyset("e", "id"),
                ps.join(", ")
            )
        }
        None => format!(
            "SELECT {COLUMNS} FROM evidence e WHERE e.org_id = $1{on_e}{} {order}",
            keyset("e", "id")
        ),
    };
    if let (Some(q), false) = (search, by_control) {
        // A common word fills the page within the next items in order; only a rarer one
        // needs the title index (or, without one, the whole list searched).
        let window = format!(
            "SELECT {COLUMNS} FROM (SELECT * FROM evidence e WHERE e.org_id = $1{} \
             ORDER BY e.{key} DESC, e.id DESC LIMIT {SEARCH_WINDOW}) e WHERE 1 = 1{on_e} {order}",
            keyset("e", "id")
        );
        let rows = fetch_page(store, &window, &args).await?;
        if rows.len() as i64 >= limit {
            return Ok(rows);
        }
        // On SQLite the trigram table names the candidates, which are then looked up by id
        // (CROSS JOIN keeps SQLite from walking the list instead) and checked exactly.
        // PostgreSQL's planner uses its trigram index for the LIKE by itself.
        if store.backend() == Backend::Sqlite && !q.contains(['%', '_', '\\']) {
            let p = format!("${}", args.len() + 1);
            args.push(Arg::Text(format!("%{}%", q.to_lowercase())));
            let by_index = format!(
                "SELECT {COLUMNS} FROM (SELECT evidence_id FROM {TITLE_SEARCH} WHERE title LIKE {p}) found \
                 CROSS JOIN evidence e WHERE e.id = found.evidence_id AND e.org_id = $1{on_e}{} {order}",
                keyset("e", "id")
            );
            return fetch_page(store, &by_index, &args).await;
        }
    }
    fetch_page(store, &sql, &args).await
}

async fn fetch_page(store: &Store, sql: &str, args: &[Arg]) -> StoreResult<Vec<Evidence>> {
    let mut query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.to_owned()));
    for a in args {
        query = match a {
            Arg::Text(t) => query.bind(t.clone()),
            Arg::Int(i) => query.bind(*i),
        };
    }
    query
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// Sets or lifts a legal hold.
pub async fn set_legal_hold(tx: &mut Tx, org: OrgId, lineage: &str, on: bool) -> StoreResult<()> {
    sqlx::query("UPDATE evidence SET legal_hold = $1 WHERE org_id = $2 AND lineage_id = $3")
        .bind(i64::from(on))
        .bind(org.to_string())
        .bind(lineage)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks every version of a lineage disposed of.
pub async fn dispose(
    tx: &mut Tx,
    org: OrgId,
    lineage: &str,
    by: &str,
    reason: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE evidence SET disposed_at = $1, disposed_by = $2, disposal_reason = $3 \
         WHERE org_id = $4 AND lineage_id = $5 AND disposed_at IS NULL",
    )
    .bind(at.as_micros())
    .bind(by)
    .bind(reason)
    .bind(org.to_string())
    .bind(lineage)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The organisation's retention rule: days to keep evidence after the period it covers.
pub async fn retention(store: &Store, org: OrgId) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT keep_days FROM evidence_retention WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(|r| r.0))
}

/// Sets the retention rule, or removes it (`None`).
pub async fn set_retention(
    tx: &mut Tx,
    org: OrgId,
    keep_days: Option<i64>,
    at: i64,
) -> StoreResult<()> {
    match keep_days {
        Some(days) => {
            sqlx::query(
                "INSERT INTO evidence_retention (org_id, keep_days, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id) DO UPDATE SET keep_days = excluded.keep_days, updated_at = excluded.updated_at",
            )
            .bind(org.to_string())
            .bind(days)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM evidence_retention WHERE org_id = $1")
                .bind(org.to_string())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Lineages past retention: not disposed of, no version under legal hold, and every
/// version's period (or collection day, without an end) over before `cutoff`. One id of
/// each (its newest version).
pub async fn past_retention(store: &Store, org: OrgId, cutoff: Date) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT MAX(id) FROM evidence WHERE org_id = $1 AND disposed_at IS NULL GROUP BY lineage_id \
         HAVING MAX(legal_hold) = 0 AND MAX(COALESCE(effective_until, collected_on)) < $2 ORDER BY 1",
    )
    .bind(org.to_string())
    .bind(date_text(cutoff))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Live file evidence whose blob row is missing: (evidence id, SHA-256).
pub async fn live_files_without_blob_row(store: &Store) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT e.id, e.sha256 FROM evidence e WHERE e.sha256 IS NOT NULL AND e.disposed_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.org_id = e.org_id AND b.sha256 = e.sha256) ORDER BY e.id",
    )
    .fetch_all(store.pool())
    .await?)
}

/// Current evidence (not disposed of) whose effective period may touch a period, one row per
/// control it supports: (control, evidence id, title, effective from, effective until).
pub async fn period_rows(
    store: &Store,
    org: OrgId,
    start: Date,
    end: Date,
) -> StoreResult<Vec<(String, String, String, Date, Option<Date>)>> {
    let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT ec.control_id, e.id, e.title, e.effective_from, e.effective_until FROM evidence_controls ec \
         JOIN evidence e ON e.id = ec.evidence_id \
         WHERE ec.org_id = $1 AND e.superseded_by IS NULL AND e.disposed_at IS NULL \
         AND e.effective_from <= $2 AND (e.effective_until IS NULL OR e.effective_until >= $3) \
         ORDER BY e.effective_from, e.id",
    )
    .bind(org.to_string())
    .bind(date_text(end))
    .bind(date_text(start))
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(c, id, title, f, u)| {
            Ok((
                c,
                id,
                title,
                parse_date(&f)?,
                u.as_deref().map(parse_date).transpose()?,
            ))
        })
        .collect()
}
