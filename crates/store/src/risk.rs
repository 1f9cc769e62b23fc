//! The risk register: the organisation's risk matrix, its assets, risks with the assets they
//! affect and the controls that treat them, and recorded acceptances.

use attest_domain::risk::{
    AssetKind, Classification, Rating, RiskMatrix, RiskSnapshot, RiskStatus, Treatment,
};
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;
use time::Date;

use crate::control::packed_rows;
use crate::evidence::parse_date as parse_day;
use crate::user::parse_id;
use crate::{Store, StoreError, StoreResult, Tx};
use attest_domain::evidence::day_text;

/// An asset of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asset {
    /// Id (UUID).
    pub id: String,
    /// Organisation.
    pub org_id: OrgId,
    /// Name, unique in the organisation.
    pub name: String,
    /// Kind.
    pub kind: AssetKind,
    /// Classification of its information.
    pub classification: Classification,
    /// Who is accountable for it.
    pub owner_id: Option<UserId>,
    /// Description.
    pub description: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// Id (UUID).
    pub id: String,
    /// Organisation.
    pub org_id: OrgId,
    /// The organisation's reference (`R-001`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// The threat.
    pub threat: String,
    /// The vulnerability it exploits.
    pub vulnerability: String,
    /// Risk owner: accountable, and the one who may accept it.
    pub owner_id: Option<UserId>,
    /// Before treatment.
    pub inherent: Rating,
    /// After treatment.
    pub residual: Rating,
    /// How it is treated.
    pub treatment: Treatment,
    /// The treatment plan.
    pub treatment_plan: String,
    /// When the plan is due.
    pub treatment_due: Option<Date>,
    /// Open or closed.
    pub status: RiskStatus,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A recorded acceptance of a risk's residual level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acceptance {
    /// Id (UUID).
    pub id: String,
    /// The risk.
    pub risk_id: String,
    /// Who decided (a member; none for the command-line operator).
    pub approver_id: Option<UserId>,
    /// Their name at the time.
    pub approver_name: String,
    /// The day of the decision.
    pub decided_on: Date,
    /// The last day it holds.
    pub expires_on: Date,
    /// Why.
    pub justification: String,
    /// The risk's values at the decision.
    pub snapshot: RiskSnapshot,
    /// Recorded.
    pub created_at: Timestamp,
}

/// The organisation's matrix (the default until it sets one).
pub async fn matrix(store: &Store, org: OrgId) -> StoreResult<RiskMatrix> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT matrix FROM risk_matrices WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(store.pool())
            .await?;
    match row {
        Some((json,)) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("risk matrix of {org}: {e}"))),
        None => Ok(RiskMatrix::default()),
    }
}

/// Sets the organisation's matrix.
pub async fn set_matrix(tx: &mut Tx, org: OrgId, m: &RiskMatrix, at: Timestamp) -> StoreResult<()> {
    let json = serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO risk_matrices (org_id, matrix, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id) DO UPDATE SET matrix = excluded.matrix, updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(json)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type AssetRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

const ASSET_COLUMNS: &str =
    "id, org_id, name, kind, classification, owner_id, description, created_at, updated_at";

fn asset(r: AssetRow) -> StoreResult<Asset> {
    let (id, org, name, kind, classification, owner, description, created, updated) = r;
    Ok(Asset {
        id,
        org_id: parse_id(&org)?,
        name,
        kind: parse_id(&kind)?,
        classification: parse_id(&classification)?,
        owner_id: owner.as_deref().map(parse_id).transpose()?,
        description,
        created_at: Timestamp::from_micros(created),
        updated_at: Timestamp::from_micros(updated),
    })
}

/// Inserts or replaces an asset (by id).
pub async fn put_asset(tx: &mut Tx, a: &Asset) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO assets (id, org_id, name, kind, classification, owner_id, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
         classification = excluded.classification, owner_id = excluded.owner_id, \
         description = excluded.description, updated_at = excluded.updated_at",
    )
    .bind(&a.id)
    .bind(a.org_id.to_string())
    .bind(&a.name)
    .bind(a.kind.as_str())
    .bind(a.classification.as_str())
    .bind(a.owner_id.map(|u| u.to_string()))
    .bind(&a.description)
    .bind(a.created_at.as_micros())
    .bind(a.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An asset by id.
pub async fn asset_in(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Asset>> {
    sqlx::query_as::<_, AssetRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSET_COLUMNS} FROM assets WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(asset)
    .transpose()
}

/// Every asset, by name.
pub async fn assets(store: &Store, org: OrgId) -> StoreResult<Vec<Asset>> {
    let mut v = sqlx::query_as::<_, AssetRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSET_COLUMNS} FROM assets WHERE org_id = $1"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(asset)
    .collect::<StoreResult<Vec<_>>>()?;
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

const RISK_COLUMNS: &str = "id, org_id, ref, title, description, threat, vulnerability, owner_id, \
    inherent_likelihood, inherent_impact, residual_likelihood, residual_impact, treatment, \
    treatment_plan, treatment_due, status, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct RiskRow {
    id: String,
    org_id: String,
    #[sqlx(rename = "ref")]
    reference: String,
    title: String,
    description: String,
    threat: String,
    vulnerability: String,
    owner_id: Option<String>,
    inherent_likelihood: i64,
    inherent_impact: i64,
    residual_likelihood: i64,
    residual_impact: i64,
    treatment: String,
    treatment_plan: String,
    treatment_due: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
}

fn step(v: i64) -> StoreResult<u8> {
    u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("risk rating step {v}")))
}

impl TryFrom<RiskRow> for Risk {
    type Error = StoreError;
    fn try_from(r: RiskRow) -> StoreResult<Self> {
        Ok(Risk {
            id: r.id,
            org_id: parse_id(&r.org_id)?,
            reference: r.reference,
            title: r.title,
            description: r.description,
            threat: r.threat,
            vulnerability: r.vulnerability,
            owner_id: r.owner_id.as_deref().map(parse_id).transpose()?,
            inherent: Rating {
                likelihood: step(r.inherent_likelihood)?,
                impact: step(r.inherent_impact)?,
            },
            residual: Rating {
                likelihood: step(r.residual_likelihood)?,
                impact: step(r.residual_impact)?,
            },
            treatment: parse_id(&r.treatment)?,
            treatment_plan: r.treatment_plan,
            treatment_due: r.treatment_due.as_deref().map(parse_day).transpose()?,
            status: parse_id(&r.status)?,
            created_at: Timestamp::from_micros(r.created_at),
            updated_at: Timestamp::from_micros(r.updated_at),
        })
    }
}

/// Inserts or replaces a risk (by id).
pub async fn put_risk(tx: &mut Tx, r: &Risk) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO risks ({RISK_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (id) DO UPDATE SET ref = excluded.ref, title = excluded.title, \
         description = excluded.description, threat = excluded.threat, \
         vulnerability = excluded.vulnerability, owner_id = excluded.owner_id, \
         inherent_likelihood = excluded.inherent_likelihood, inherent_impact = excluded.inherent_impact, \
         residual_likelihood = excluded.residual_likelihood, residual_impact = excluded.residual_impact, \
         treatment = excluded.treatment, treatment_plan = excluded.treatment_plan, \
         treatment_due = excluded.treatment_due, status = excluded.status, updated_at = excluded.updated_at"
    )))
    .bind(&r.id)
    .bind(r.org_id.to_string())
    .bind(&r.reference)
    .bind(&r.title)
    .bind(&r.description)
    .bind(&r.threat)
    .bind(&r.vulnerability)
    .bind(r.owner_id.map(|u| u.to_string()))
    .bind(i64::from(r.inherent.likelihood))
    .bind(i64::from(r.inherent.impact))
    .bind(i64::from(r.residual.likelihood))
    .bind(i64::from(r.residual.impact))
    .bind(r.treatment.as_str())
    .bind(&r.treatment_plan)
    .bind(r.treatment_due.map(day_text))
    .bind(r.status.as_str())
    .bind(r.created_at.as_micros())
    .bind(r.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A risk by id, inside a transaction.
pub async fn risk_in(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Risk>> {
    sqlx::query_as::<_, RiskRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {RISK_COLUMNS} FROM risks WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// A risk by id.
pub async fn risk(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Risk>> {
    sqlx::query_as::<_, RiskRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {RISK_COLUMNS} FROM risks WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .map(TryInto::try_into)
    .transpose()
}

/// A risk as packed by [`packed_rows`]: the columns of [`RISK_COLUMNS`] but the organisation.
#[derive(serde::Deserialize)]
struct PackedRisk {
    id: String,
    reference: String,
    title: String,
    description: String,
    threat: String,
    vulnerability: String,
    owner_id: Option<String>,
    inherent_likelihood: i64,
    inherent_impact: i64,
    residual_likelihood: i64,
    residual_impact: i64,
    treatment: String,
    treatment_plan: String,
    treatment_due: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
}

/// Every risk of the organisation, by reference, read in one packed value: the register
/// reads them all.
pub async fn risks(store: &Store, org: OrgId) -> StoreResult<Vec<Risk>> {
    let packed: Vec<PackedRisk> = packed_rows(
        store,
        org,
        "id, ref, title, description, threat, vulnerability, owner_id, inherent_likelihood, \
         inherent_impact, residual_likelihood, residual_impact, treatment, treatment_plan, \
         treatment_due, status, created_at, updated_at",
        "risks",
    )
    .await?;
    let org_text = org.to_string();
    let mut v = packed
        .into_iter()
        .map(|p| {
            RiskRow {
                id: p.id,
                org_id: org_text.clone(),
                reference: p.reference,
                title: p.title,
                description: p.description,
                threat: p.threat,
                vulnerability: p.vulnerability,
                owner_id: p.owner_id,
                inherent_likelihood: p.inherent_likelihood,
                inherent_impact: p.inherent_impact,
                residual_likelihood: p.residual_likelihood,
                residual_impact: p.residual_impact,
                treatment: p.treatment,
                treatment_plan: p.treatment_plan,
                treatment_due: p.treatment_due,
                status: p.status,
                created_at: p.created_at,
                updated_at: p.updated_at,
            }
            .try_into()
        })
        .collect::<StoreResult<Vec<Risk>>>()?;
    v.sort_unstable_by(|a, b| a.reference.cmp(&b.reference));
    Ok(v)
}

/// Replaces the assets a risk affects or the controls that treat it (`table` is
/// `risk_assets` or `risk_controls`).
async fn set_links(
    tx: &mut Tx,
    org: OrgId,
    risk: &str,
    table: &'static str,
    column: &'static str,
    ids: &[String],
) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE org_id = $1 AND risk_id = $2"
    )))
    .bind(org.to_string())
    .bind(risk)
    .execute(&mut **tx)
    .await?;
    for id in ids {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (org_id, risk_id, {column}) VALUES ($1, $2, $3)"
        )))
        .bind(org.to_string())
        .bind(risk)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Replaces the assets a risk affects.
pub async fn set_assets(tx: &mut Tx, org: OrgId, risk: &str, ids: &[String]) -> StoreResult<()> {
    set_links(tx, org, risk, "risk_assets", "asset_id", ids).await
}

/// Replaces the controls that treat a risk.
pub async fn set_controls(tx: &mut Tx, org: OrgId, risk: &str, ids: &[String]) -> StoreResult<()> {
    set_links(tx, org, risk, "risk_controls", "control_id", ids).await
}

/// Every (risk, asset) pair of the organisation, by risk then asset.
pub async fn all_asset_links(store: &Store, org: OrgId) -> StoreResult<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> =
        packed_rows(store, org, "risk_id, asset_id", "risk_assets").await?;
    v.sort_unstable();
    Ok(v)
}

/// Every (risk, control) pair of the organisation, by risk then control.
pub async fn all_control_links(store: &Store, org: OrgId) -> StoreResult<Vec<(String, String)>> {
    let mut v: Vec<(String, String)> =
        packed_rows(store, org, "risk_id, control_id", "risk_controls").await?;
    v.sort_unstable();
    Ok(v)
}

/// The controls treating one risk, sorted.
pub async fn controls_of(tx: &mut Tx, org: OrgId, risk: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT control_id FROM risk_controls WHERE org_id = $1 AND risk_id = $2 ORDER BY control_id",
    )
    .bind(org.to_string())
    .bind(risk)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// The assets a risk affects, sorted.
pub async fn assets_of(tx: &mut Tx, org: OrgId, risk: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT asset_id FROM risk_assets WHERE org_id = $1 AND risk_id = $2 ORDER BY asset_id",
    )
    .bind(org.to_string())
    .bind(risk)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// Records an acceptance.
pub async fn insert_acceptance(tx: &mut Tx, org: OrgId, a: &Acceptance) -> StoreResult<()> {
    let snapshot =
        serde_json::to_string(&a.snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO risk_acceptances (id, org_id, risk_id, approver_id, approver_name, decided_on, \
         expires_on, justification, snapshot, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&a.id)
    .bind(org.to_string())
    .bind(&a.risk_id)
    .bind(a.approver_id.map(|u| u.to_string()))
    .bind(&a.approver_name)
    .bind(day_text(a.decided_on))
    .bind(day_text(a.expires_on))
    .bind(&a.justification)
    .bind(snapshot)
    .bind(a.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type AcceptanceRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    i64,
);

/// Acceptances of the organisation (of one risk when given), oldest first.
pub async fn acceptances(
    store: &Store,
    org: OrgId,
    risk: Option<&str>,
) -> StoreResult<Vec<Acceptance>> {
    let rows: Vec<AcceptanceRow> = sqlx::query_as(
        "SELECT id, risk_id, approver_id, approver_name, decided_on, expires_on, justification, \
         snapshot, created_at FROM risk_acceptances WHERE org_id = $1 AND ($2 IS NULL OR risk_id = $2) \
         ORDER BY created_at, id",
    )
    .bind(org.to_string())
    .bind(risk)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(
            |(id, risk_id, approver, name, decided, expires, justification, snapshot, created)| {
                Ok(Acceptance {
                    id,
                    risk_id,
                    approver_id: approver.as_deref().map(parse_id).transpose()?,
                    approver_name: name,
                    decided_on: parse_day(&decided)?,
                    expires_on: parse_day(&expires)?,
                    justification,
                    snapshot: serde_json::from_str(&snapshot)
                        .map_err(|e| StoreError::Corrupt(format!("acceptance snapshot: {e}")))?,
                    created_at: Timestamp::from_micros(created),
                })
            },
        )
        .collect()
}

/// An action of a risk's treatment plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// Id (UUID).
    pub id: String,
    /// The risk.
    pub risk_id: String,
    /// What is to be done.
    pub title: String,
    /// Who does it.
    pub owner_id: Option<UserId>,
    /// By when.
    pub due_on: Date,
    /// When it was done.
    pub done_on: Option<Date>,
    /// Recorded.
    pub created_at: Timestamp,
}

/// Adds an action.
pub async fn insert_action(tx: &mut Tx, org: OrgId, a: &Action) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO risk_actions (id, org_id, risk_id, title, owner_id, due_on, done_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&a.id)
    .bind(org.to_string())
    .bind(&a.risk_id)
    .bind(&a.title)
    .bind(a.owner_id.map(|u| u.to_string()))
    .bind(day_text(a.due_on))
    .bind(a.done_on.map(day_text))
    .bind(a.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks an action done on a day; false when it is not an open action of that risk.
pub async fn complete_action(
    tx: &mut Tx,
    org: OrgId,
    risk: &str,
    id: &str,
    on: Date,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE risk_actions SET done_on = $1 WHERE org_id = $2 AND risk_id = $3 AND id = $4 AND done_on IS NULL",
    )
    .bind(day_text(on))
    .bind(org.to_string())
    .bind(risk)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

type ActionRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
);

/// The actions of the organisation (of one risk when given), by due day.
pub async fn actions(store: &Store, org: OrgId, risk: Option<&str>) -> StoreResult<Vec<Action>> {
    let rows: Vec<ActionRow> = sqlx::query_as(
        "SELECT id, risk_id, title, owner_id, due_on, done_on, created_at FROM risk_actions \
         WHERE org_id = $1 AND ($2 IS NULL OR risk_id = $2) ORDER BY due_on, id",
    )
    .bind(org.to_string())
    .bind(risk)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(id, risk_id, title, owner, due, done, created)| {
            Ok(Action {
                id,
                risk_id,
                title,
                owner_id: owner.as_deref().map(parse_id).transpose()?,
                due_on: parse_day(&due)?,
                done_on: done.as_deref().map(parse_day).transpose()?,
                created_at: Timestamp::from_micros(created),
            })
        })
        .collect()
}
