//! Organisations.

use attest_domain::org::{Organisation, Slug};
use attest_domain::{OrgId, Timestamp};

use crate::{Store, StoreError, StoreResult, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    slug: String,
    name: String,
    created_at: i64,
}

impl TryFrom<Row> for Organisation {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(Organisation {
            id: r
                .id
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            slug: Slug::parse(&r.slug).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            name: r.name,
            created_at: Timestamp::from_micros(r.created_at),
        })
    }
}

/// Inserts an organisation and starts its audit chain.
pub async fn insert(tx: &mut Tx, org: &Organisation) -> StoreResult<()> {
    sqlx::query("INSERT INTO organisations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org.id.to_string())
        .bind(org.slug.as_str())
        .bind(&org.name)
        .bind(org.created_at.as_micros())
        .execute(&mut **tx)
        .await?;
    crate::audit::ensure_chain_in(tx, &org.id.to_string()).await
}

/// An organisation by id.
pub async fn get(store: &Store, id: OrgId) -> StoreResult<Organisation> {
    sqlx::query_as::<_, Row>("SELECT id, slug, name, created_at FROM organisations WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(store.pool())
        .await?
        .try_into()
}

/// An organisation by its short name.
pub async fn by_slug(store: &Store, slug: &str) -> StoreResult<Option<Organisation>> {
    sqlx::query_as::<_, Row>("SELECT id, slug, name, created_at FROM organisations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// Every organisation, by name.
pub async fn list(store: &Store) -> StoreResult<Vec<Organisation>> {
    sqlx::query_as::<_, Row>("SELECT id, slug, name, created_at FROM organisations ORDER BY name")
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// Whether a short name is taken.
pub async fn slug_taken(tx: &mut Tx, slug: &str) -> StoreResult<bool> {
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organisations WHERE slug = $1")
        .bind(slug)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n.0 > 0)
}

/// An organisation's settings object (JSON text).
pub async fn settings(store: &Store, id: OrgId) -> StoreResult<serde_json::Value> {
    let (s,): (String,) = sqlx::query_as("SELECT settings FROM organisations WHERE id = $1")
        .bind(id.to_string())
        .fetch_one(store.pool())
        .await?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Replaces an organisation's settings object.
pub async fn set_settings(tx: &mut Tx, id: OrgId, settings: &serde_json::Value) -> StoreResult<()> {
    let r = sqlx::query("UPDATE organisations SET settings = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(settings.to_string())
        .execute(&mut **tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Renames an organisation.
pub async fn rename(tx: &mut Tx, id: OrgId, name: &str) -> StoreResult<()> {
    let r = sqlx::query("UPDATE organisations SET name = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(name)
        .execute(&mut **tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
