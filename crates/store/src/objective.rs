//! Objectives and the values of their metrics.

use attest_domain::objective::Direction;
use attest_domain::{OrgId, Timestamp, UserId};
use time::Date;

use crate::evidence::parse_date;
use crate::user::parse_id;
use crate::{Store, StoreError, StoreResult, Tx};

/// An objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// Id (UUID).
    pub id: String,
    /// `OBJ-001`.
    pub reference: String,
    /// Title.
    pub title: String,
    /// What and why.
    pub description: String,
    /// Who is accountable.
    pub owner_id: Option<UserId>,
    /// The metric (`coverage:iso27001-2022`, `open-nonconformities`, `manual:<id>`).
    pub metric: String,
    /// The target value.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
    /// By when.
    pub due_on: Option<Date>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    f64,
    String,
    Option<String>,
    i64,
    i64,
);

const COLUMNS: &str = "id, ref, title, description, owner_id, metric, target, direction, due_on, created_at, updated_at";

fn objective(r: Row) -> StoreResult<Objective> {
    Ok(Objective {
        id: r.0,
        reference: r.1,
        title: r.2,
        description: r.3,
        owner_id: r.4.as_deref().map(parse_id).transpose()?,
        metric: r.5,
        target: r.6,
        direction: r
            .7
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("direction: {e}")))?,
        due_on: r.8.as_deref().map(parse_date).transpose()?,
        created_at: Timestamp::from_micros(r.9),
        updated_at: Timestamp::from_micros(r.10),
    })
}

/// The next free reference (`OBJ-003`).
pub async fn next_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "objectives", "OBJ", org).await
}

/// Inserts or replaces an objective (by id).
pub async fn put(tx: &mut Tx, org: OrgId, o: &Objective) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO objectives (org_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, \
         owner_id = excluded.owner_id, metric = excluded.metric, target = excluded.target, \
         direction = excluded.direction, due_on = excluded.due_on, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&o.id)
    .bind(&o.reference)
    .bind(&o.title)
    .bind(&o.description)
    .bind(o.owner_id.map(|u| u.to_string()))
    .bind(&o.metric)
    .bind(o.target)
    .bind(o.direction.as_str())
    .bind(o.due_on.map(|d| d.to_string()))
    .bind(o.created_at.as_micros())
    .bind(o.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique { field: "ref".into() },
        other => other,
    })?;
    Ok(())
}

/// Every objective, by reference.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<Objective>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM objectives WHERE org_id = $1 ORDER BY ref"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(objective).collect()
}

/// One objective in a transaction.
pub async fn get_in(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Objective>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM objectives WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(objective).transpose()
}

/// Records a metric's value for a day, replacing that day's earlier value.
pub async fn record_value(
    tx: &mut Tx,
    org: OrgId,
    metric: &str,
    on: Date,
    value: f64,
    by: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO metric_values (org_id, metric, taken_on, value, recorded_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, metric, taken_on) DO UPDATE SET value = excluded.value, recorded_by = excluded.recorded_by",
    )
    .bind(org.to_string())
    .bind(metric)
    .bind(on.to_string())
    .bind(value)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The values of the metrics asked for since a day, oldest first: (metric, day, value).
pub async fn values_since(
    store: &Store,
    org: OrgId,
    since: Date,
) -> StoreResult<Vec<(String, Date, f64)>> {
    let rows: Vec<(String, String, f64)> = sqlx::query_as(
        "SELECT metric, taken_on, value FROM metric_values WHERE org_id = $1 AND taken_on >= $2 \
         ORDER BY metric, taken_on",
    )
    .bind(org.to_string())
    .bind(since.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(m, d, v)| Ok((m, parse_date(&d)?, v)))
        .collect()
}
