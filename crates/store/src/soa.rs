//! The Statement of Applicability: the decisions on Annex A controls and the versions.

use attest_domain::soa::{Decision, Reason};
use attest_domain::{OrgId, Timestamp, UserId};

use crate::user::{parse_id, ts};
use crate::{Store, StoreError, StoreResult, Tx};

/// A decision as stored, with who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    /// The Annex A control.
    pub requirement_id: String,
    /// The decision.
    pub decision: Decision,
    /// Who last changed it.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
}

/// A draft or an approved version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// 1, 2, …
    pub version: i64,
    /// The Annex A version it is written against.
    pub framework_id: String,
    /// Approved (frozen) or a draft.
    pub approved: bool,
    /// Who opened it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Last change to the draft (or the approval).
    pub updated_at: Timestamp,
    /// The approver (a user), once approved.
    pub approver_id: Option<UserId>,
    /// The approver's name as recorded.
    pub approver_name: Option<String>,
    /// When it was approved.
    pub approved_at: Option<Timestamp>,
    /// The approval note.
    pub note: String,
    /// The frozen content (JSON), once approved.
    pub content: Option<String>,
    /// Its SHA-256, once approved.
    pub content_hash: Option<String>,
}

const DRAFT: &str = "draft";
const APPROVED: &str = "approved";

type Row = (
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str = "version, framework_id, status, created_by, created_at, updated_at, \
     approver_id, approver_name, approved_at, note, content, content_hash";

fn version(r: Row) -> StoreResult<Version> {
    Ok(Version {
        version: r.0,
        framework_id: r.1,
        approved: match r.2.as_str() {
            APPROVED => true,
            DRAFT => false,
            other => return Err(StoreError::Corrupt(format!("SoA status `{other}`"))),
        },
        created_by: r.3,
        created_at: Timestamp::from_micros(r.4),
        updated_at: Timestamp::from_micros(r.5),
        approver_id: r.6.as_deref().map(parse_id).transpose()?,
        approver_name: r.7,
        approved_at: ts(r.8),
        note: r.9,
        content: r.10,
        content_hash: r.11,
    })
}

/// Every version, newest first, without their content.
pub async fn versions(store: &Store, org: OrgId) -> StoreResult<Vec<Version>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT version, framework_id, status, created_by, created_at, updated_at, approver_id, \
         approver_name, approved_at, note, NULL, content_hash FROM soa_versions \
         WHERE org_id = $1 ORDER BY version DESC",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(version).collect()
}

/// One version with its content (the latest when `number` is `None`).
pub async fn get(store: &Store, org: OrgId, number: Option<i64>) -> StoreResult<Option<Version>> {
    let row: Option<Row> =
        match number {
            Some(n) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM soa_versions WHERE org_id = $1 AND version = $2"
                )))
                .bind(org.to_string())
                .bind(n)
                .fetch_optional(store.pool())
                .await?
            }
            None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM soa_versions WHERE org_id = $1 ORDER BY version DESC LIMIT 1"
            )))
            .bind(org.to_string())
            .fetch_optional(store.pool())
            .await?,
        };
    row.map(version).transpose()
}

/// The latest version, read in a transaction.
pub async fn latest_in(tx: &mut Tx, org: OrgId) -> StoreResult<Option<Version>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM soa_versions WHERE org_id = $1 ORDER BY version DESC LIMIT 1"
    )))
    .bind(org.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(version).transpose()
}

/// Opens draft `number` (the caller read the latest first; another node opening the same
/// number at the same moment makes this fail with a unique violation on `version`).
pub async fn open_draft(
    tx: &mut Tx,
    org: OrgId,
    number: i64,
    framework: &str,
    by: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO soa_versions (org_id, version, framework_id, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(org.to_string())
    .bind(number)
    .bind(framework)
    .bind(DRAFT)
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique {
            field: "version".into(),
        },
        other => other,
    })?;
    Ok(())
}

/// Marks draft `number` changed, taking its row lock (so an approval and a change to the
/// same draft are serialised in the database); false when it is no longer a draft.
pub async fn touch_draft(
    tx: &mut Tx,
    org: OrgId,
    number: i64,
    framework: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE soa_versions SET updated_at = $3, framework_id = $4 \
         WHERE org_id = $1 AND version = $2 AND status = 'draft'",
    )
    .bind(org.to_string())
    .bind(number)
    .bind(at.as_micros())
    .bind(framework)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What an approval records.
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    /// The approver.
    pub approver_id: Option<UserId>,
    /// Their name.
    pub approver_name: &'a str,
    /// When.
    pub at: Timestamp,
    /// Their note.
    pub note: &'a str,
    /// The frozen content (JSON).
    pub content: &'a str,
    /// Its SHA-256.
    pub hash: &'a str,
}

/// Freezes draft `number`; false when it is no longer a draft.
pub async fn approve(tx: &mut Tx, org: OrgId, number: i64, a: &Approval<'_>) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE soa_versions SET status = 'approved', approver_id = $3, approver_name = $4, \
         approved_at = $5, updated_at = $5, note = $6, content = $7, content_hash = $8 \
         WHERE org_id = $1 AND version = $2 AND status = 'draft'",
    )
    .bind(org.to_string())
    .bind(number)
    .bind(a.approver_id.map(|u| u.to_string()))
    .bind(a.approver_name)
    .bind(a.at.as_micros())
    .bind(a.note)
    .bind(a.content)
    .bind(a.hash)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_reasons(s: &str) -> StoreResult<Vec<Reason>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().map_err(|e| StoreError::Corrupt(format!("{e}"))))
        .collect()
}

/// Sets (or replaces) the decision on one control.
pub async fn put_decision(
    tx: &mut Tx,
    org: OrgId,
    framework: &str,
    requirement: &str,
    d: &Decision,
    by: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO soa_decisions (org_id, framework_id, requirement_id, applicable, reasons, justification, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (org_id, framework_id, requirement_id) DO UPDATE SET \
         applicable = excluded.applicable, reasons = excluded.reasons, \
         justification = excluded.justification, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(framework)
    .bind(requirement)
    .bind(i64::from(d.applicable))
    .bind(reasons_text(&d.reasons))
    .bind(&d.justification)
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes the decision on one control (back to "not decided").
pub async fn clear_decision(
    tx: &mut Tx,
    org: OrgId,
    framework: &str,
    requirement: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM soa_decisions WHERE org_id = $1 AND framework_id = $2 AND requirement_id = $3",
    )
    .bind(org.to_string())
    .bind(framework)
    .bind(requirement)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

type DecisionRow = (String, i64, String, String, String, i64);

/// Every decision on the controls of one Annex A version (in a transaction when `tx` is
/// given, so an approval freezes exactly what it read under its lock).
pub async fn decisions(
    store: &Store,
    tx: Option<&mut Tx>,
    org: OrgId,
    framework: &str,
) -> StoreResult<Vec<StoredDecision>> {
    let q = sqlx::query_as::<_, DecisionRow>(
        "SELECT requirement_id, applicable, reasons, justification, updated_by, updated_at \
         FROM soa_decisions WHERE org_id = $1 AND framework_id = $2 ORDER BY requirement_id",
    )
    .bind(org.to_string())
    .bind(framework);
    let rows = match tx {
        Some(tx) => q.fetch_all(&mut **tx).await?,
        None => q.fetch_all(store.pool()).await?,
    };
    rows.into_iter()
        .map(|r| {
            Ok(StoredDecision {
                requirement_id: r.0,
                decision: Decision {
                    applicable: r.1 != 0,
                    reasons: parse_reasons(&r.2)?,
                    justification: r.3,
                },
                updated_by: r.4,
                updated_at: Timestamp::from_micros(r.5),
            })
        })
        .collect()
}

/// The latest current evidence of each control asked for: (control, evidence id, title,
/// effective from). One short walk down the link index per control.
pub async fn latest_evidence(
    store: &Store,
    org: OrgId,
    controls: &[String],
) -> StoreResult<Vec<(String, String, String, String)>> {
    let mut out = Vec::new();
    for c in controls {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT e.id, e.title, e.effective_from FROM evidence_controls ec \
             JOIN evidence e ON e.id = ec.evidence_id \
             WHERE ec.org_id = $1 AND ec.control_id = $2 \
               AND e.superseded_by IS NULL AND e.disposed_at IS NULL \
             ORDER BY ec.effective_from DESC, ec.evidence_id DESC LIMIT 1",
        )
        .bind(org.to_string())
        .bind(c)
        .fetch_optional(store.pool())
        .await?;
        if let Some((id, title, from)) = row {
            out.push((c.clone(), id, title, from));
        }
    }
    Ok(out)
}
