//! Internal audits, their results per requirement, and management reviews.

use attest_domain::internal_audit::{AuditResult, AuditStatus};
use attest_domain::{OrgId, Timestamp};
use time::Date;

use crate::evidence::parse_date;
use crate::{Store, StoreError, StoreResult, Tx};

/// A planned or completed internal audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Id (UUID).
    pub id: String,
    /// `IA-001`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// What is audited (processes, sites, services).
    pub scope: String,
    /// Against what (the standard, policies, contracts).
    pub criteria: String,
    /// The framework whose requirements are audited, if any.
    pub framework_id: Option<String>,
    /// The requirements in scope, in order.
    pub requirements: Vec<String>,
    /// Who audits (independent of the work audited).
    pub auditor: String,
    /// First day of fieldwork.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
    /// Planned, in progress, completed.
    pub status: AuditStatus,
    /// The auditor's conclusion.
    pub conclusion: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// The result of auditing one requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    /// The requirement.
    pub requirement_id: String,
    /// What was found.
    pub result: AuditResult,
    /// Notes and evidence seen.
    pub notes: String,
    /// The nonconformity raised from it.
    pub nc_id: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const COLUMNS: &str = "id, ref, title, scope, criteria, framework_id, requirements, auditor, \
    starts_on, ends_on, status, conclusion, created_at, updated_at";

fn audit(r: Row) -> StoreResult<Audit> {
    Ok(Audit {
        id: r.0,
        reference: r.1,
        title: r.2,
        scope: r.3,
        criteria: r.4,
        framework_id: r.5,
        requirements: r
            .6
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        auditor: r.7,
        starts_on: parse_date(&r.8)?,
        ends_on: parse_date(&r.9)?,
        status: r
            .10
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("audit status: {e}")))?,
        conclusion: r.11,
        created_at: Timestamp::from_micros(r.12),
        updated_at: Timestamp::from_micros(r.13),
    })
}

/// The next free reference (`IA-002`).
pub async fn next_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "internal_audits", "IA", org).await
}

/// Inserts or replaces an audit (by id).
pub async fn put(tx: &mut Tx, org: OrgId, a: &Audit) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO internal_audits (org_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, scope = excluded.scope, \
         criteria = excluded.criteria, framework_id = excluded.framework_id, \
         requirements = excluded.requirements, auditor = excluded.auditor, \
         starts_on = excluded.starts_on, ends_on = excluded.ends_on, status = excluded.status, \
         conclusion = excluded.conclusion, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&a.id)
    .bind(&a.reference)
    .bind(&a.title)
    .bind(&a.scope)
    .bind(&a.criteria)
    .bind(&a.framework_id)
    .bind(a.requirements.join(","))
    .bind(&a.auditor)
    .bind(a.starts_on.to_string())
    .bind(a.ends_on.to_string())
    .bind(a.status.as_str())
    .bind(&a.conclusion)
    .bind(a.created_at.as_micros())
    .bind(a.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique { field: "ref".into() },
        other => other,
    })?;
    Ok(())
}

/// One audit, after taking its row lock (changes to one audit are serialised).
pub async fn lock(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Audit>> {
    crate::lock_row(tx, "internal_audits", org, id).await?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM internal_audits WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(audit).transpose()
}

/// Every audit of the programme, latest first.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<Audit>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM internal_audits WHERE org_id = $1 ORDER BY starts_on DESC, ref DESC"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(audit).collect()
}

/// Sets the result of one requirement (replacing an earlier one, keeping its raised NC).
pub async fn put_result(tx: &mut Tx, org: OrgId, audit: &str, r: &ResultRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_results (org_id, audit_id, requirement_id, result, notes, nc_id, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (audit_id, requirement_id) DO UPDATE SET result = excluded.result, \
         notes = excluded.notes, nc_id = COALESCE(excluded.nc_id, audit_results.nc_id), \
         recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(org.to_string())
    .bind(audit)
    .bind(&r.requirement_id)
    .bind(r.result.as_str())
    .bind(&r.notes)
    .bind(&r.nc_id)
    .bind(&r.recorded_by)
    .bind(r.recorded_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type ResultTuple = (String, String, String, String, Option<String>, String, i64);

/// Every result of one audit (or of every audit with `audit` none): (audit, result).
pub async fn results(
    store: &Store,
    org: OrgId,
    audit: Option<&str>,
) -> StoreResult<Vec<(String, ResultRow)>> {
    let rows: Vec<ResultTuple> = sqlx::query_as(
        "SELECT audit_id, requirement_id, result, notes, nc_id, recorded_by, recorded_at \
             FROM audit_results WHERE org_id = $1 AND ($2 = '' OR audit_id = $2) \
             ORDER BY audit_id, requirement_id",
    )
    .bind(org.to_string())
    .bind(audit.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(
            |(a, requirement_id, result, notes, nc_id, recorded_by, at)| {
                Ok((
                    a,
                    ResultRow {
                        requirement_id,
                        result: result
                            .parse()
                            .map_err(|e| StoreError::Corrupt(format!("audit result: {e}")))?,
                        notes,
                        nc_id,
                        recorded_by,
                        recorded_at: Timestamp::from_micros(at),
                    },
                ))
            },
        )
        .collect()
}

/// A management review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Id (UUID).
    pub id: String,
    /// `MR-001`.
    pub reference: String,
    /// When it is (was) held.
    pub held_on: Date,
    /// Who attends.
    pub attendees: String,
    /// The inputs frozen at closing (JSON).
    pub inputs: Option<String>,
    /// What was discussed, and the inputs typed by people (feedback, opportunities).
    pub notes: String,
    /// The decisions (JSON array).
    pub decisions: String,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// By whom.
    pub closed_by: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

type ReviewRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<i64>,
    Option<String>,
    i64,
    i64,
);

const REVIEW_COLUMNS: &str = "id, ref, held_on, attendees, inputs, notes, decisions, closed_at, \
    closed_by, created_at, updated_at";

fn review(r: ReviewRow) -> StoreResult<Review> {
    Ok(Review {
        id: r.0,
        reference: r.1,
        held_on: parse_date(&r.2)?,
        attendees: r.3,
        inputs: r.4,
        notes: r.5,
        decisions: r.6,
        closed_at: r.7.map(Timestamp::from_micros),
        closed_by: r.8,
        created_at: Timestamp::from_micros(r.9),
        updated_at: Timestamp::from_micros(r.10),
    })
}

/// The next free reference (`MR-002`).
pub async fn next_review_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "management_reviews", "MR", org).await
}

/// Inserts or replaces a review (by id).
pub async fn put_review(tx: &mut Tx, org: OrgId, r: &Review) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO management_reviews (org_id, {REVIEW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET held_on = excluded.held_on, attendees = excluded.attendees, \
         inputs = excluded.inputs, notes = excluded.notes, decisions = excluded.decisions, \
         closed_at = excluded.closed_at, closed_by = excluded.closed_by, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&r.id)
    .bind(&r.reference)
    .bind(r.held_on.to_string())
    .bind(&r.attendees)
    .bind(&r.inputs)
    .bind(&r.notes)
    .bind(&r.decisions)
    .bind(r.closed_at.map(|t| t.as_micros()))
    .bind(&r.closed_by)
    .bind(r.created_at.as_micros())
    .bind(r.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique { field: "ref".into() },
        other => other,
    })?;
    Ok(())
}

/// One review, after taking its row lock.
pub async fn lock_review(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Review>> {
    crate::lock_row(tx, "management_reviews", org, id).await?;
    let row: Option<ReviewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REVIEW_COLUMNS} FROM management_reviews WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(review).transpose()
}

/// Every review, latest first.
pub async fn reviews(store: &Store, org: OrgId) -> StoreResult<Vec<Review>> {
    let rows: Vec<ReviewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REVIEW_COLUMNS} FROM management_reviews WHERE org_id = $1 ORDER BY held_on DESC, ref DESC"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(review).collect()
}
