//! Nonconformities and their corrective action.

use attest_domain::evidence::day_text;
use attest_domain::nonconformity::{NcSource, Severity};
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;
use time::Date;

use crate::evidence::parse_date;
use crate::user::parse_id;
use crate::{Store, StoreError, StoreResult, Tx};

/// A nonconformity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nonconformity {
    /// Id (UUID).
    pub id: String,
    /// `NC-001`, numbered per organisation.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// Where it was found.
    pub source: NcSource,
    /// How serious.
    pub severity: Severity,
    /// The requirement involved: framework id.
    pub framework_id: Option<String>,
    /// The requirement involved: its id.
    pub requirement_id: Option<String>,
    /// The control involved.
    pub control_id: Option<String>,
    /// The risk involved.
    pub risk_id: Option<String>,
    /// The evidence involved.
    pub evidence_id: Option<String>,
    /// Who raised it.
    pub raised_by: String,
    /// When.
    pub raised_on: Date,
    /// Why it happened (10.1 b).
    pub root_cause: String,
    /// What was done to fix this instance (10.1 a).
    pub correction: String,
    /// What removes the cause (10.1 c).
    pub corrective_action: String,
    /// Who owns the action.
    pub owner_id: Option<UserId>,
    /// By when.
    pub due_on: Option<Date>,
    /// How the action was found effective (10.1 d).
    pub verification: Option<String>,
    /// Who verified it.
    pub verified_by: Option<String>,
    /// When.
    pub verified_on: Option<Date>,
    /// When it was closed.
    pub closed_on: Option<Date>,
    /// Recorded.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "id, ref, title, description, source, severity, framework_id, requirement_id, \
    control_id, risk_id, evidence_id, raised_by, raised_on, root_cause, correction, corrective_action, \
    owner_id, due_on, verification, verified_by, verified_on, closed_on, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    #[sqlx(rename = "ref")]
    reference: String,
    title: String,
    description: String,
    source: String,
    severity: String,
    framework_id: Option<String>,
    requirement_id: Option<String>,
    control_id: Option<String>,
    risk_id: Option<String>,
    evidence_id: Option<String>,
    raised_by: String,
    raised_on: String,
    root_cause: String,
    correction: String,
    corrective_action: String,
    owner_id: Option<String>,
    due_on: Option<String>,
    verification: Option<String>,
    verified_by: Option<String>,
    verified_on: Option<String>,
    closed_on: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for Nonconformity {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        let day = |d: Option<String>| d.as_deref().map(parse_date).transpose();
        Ok(Nonconformity {
            id: r.id,
            reference: r.reference,
            title: r.title,
            description: r.description,
            source: parse_id(&r.source)?,
            severity: parse_id(&r.severity)?,
            framework_id: r.framework_id,
            requirement_id: r.requirement_id,
            control_id: r.control_id,
            risk_id: r.risk_id,
            evidence_id: r.evidence_id,
            raised_by: r.raised_by,
            raised_on: parse_date(&r.raised_on)?,
            root_cause: r.root_cause,
            correction: r.correction,
            corrective_action: r.corrective_action,
            owner_id: r.owner_id.as_deref().map(parse_id).transpose()?,
            due_on: day(r.due_on)?,
            verification: r.verification,
            verified_by: r.verified_by,
            verified_on: day(r.verified_on)?,
            closed_on: day(r.closed_on)?,
            created_at: Timestamp::from_micros(r.created_at),
            updated_at: Timestamp::from_micros(r.updated_at),
        })
    }
}

/// The next reference of the organisation (`NC-001`, …).
pub async fn next_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "nonconformities", "NC", org).await
}

/// Inserts or replaces a nonconformity (by id).
pub async fn put(tx: &mut Tx, org: OrgId, n: &Nonconformity) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO nonconformities (org_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, \
         severity = excluded.severity, framework_id = excluded.framework_id, \
         requirement_id = excluded.requirement_id, control_id = excluded.control_id, \
         risk_id = excluded.risk_id, evidence_id = excluded.evidence_id, \
         root_cause = excluded.root_cause, correction = excluded.correction, \
         corrective_action = excluded.corrective_action, owner_id = excluded.owner_id, \
         due_on = excluded.due_on, verification = excluded.verification, \
         verified_by = excluded.verified_by, verified_on = excluded.verified_on, \
         closed_on = excluded.closed_on, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&n.id)
    .bind(&n.reference)
    .bind(&n.title)
    .bind(&n.description)
    .bind(n.source.as_str())
    .bind(n.severity.as_str())
    .bind(&n.framework_id)
    .bind(&n.requirement_id)
    .bind(&n.control_id)
    .bind(&n.risk_id)
    .bind(&n.evidence_id)
    .bind(&n.raised_by)
    .bind(day_text(n.raised_on))
    .bind(&n.root_cause)
    .bind(&n.correction)
    .bind(&n.corrective_action)
    .bind(n.owner_id.map(|u| u.to_string()))
    .bind(n.due_on.map(day_text))
    .bind(&n.verification)
    .bind(&n.verified_by)
    .bind(n.verified_on.map(day_text))
    .bind(n.closed_on.map(day_text))
    .bind(n.created_at.as_micros())
    .bind(n.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One.
pub async fn get(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Nonconformity>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM nonconformities WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// One, inside a transaction.
pub async fn get_in(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Nonconformity>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM nonconformities WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// Every one of the organisation, newest reference first.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<Nonconformity>> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM nonconformities WHERE org_id = $1 ORDER BY created_at DESC, id DESC"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}
