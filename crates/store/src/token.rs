//! API tokens: shown once, stored as a SHA-256 hash, scoped to a role and an organisation.

use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;

use crate::user::{parse_id, ts};
use crate::{Store, StoreError, StoreResult, Tx};

/// A stored API token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Id.
    pub id: String,
    /// Organisation.
    pub org_id: OrgId,
    /// The user (person or service account) the token acts as.
    pub user_id: UserId,
    /// Label.
    pub name: String,
    /// SHA-256 of the secret, hex.
    #[serde(skip)]
    pub token_hash: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// The role it grants (never above its creator's).
    pub role: Role,
    /// Who created it.
    pub created_by: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
    /// Revoked.
    pub revoked_at: Option<Timestamp>,
    /// Last used.
    pub last_used_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    user_id: String,
    name: String,
    token_hash: String,
    prefix: String,
    role: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl TryFrom<Row> for ApiToken {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(ApiToken {
            id: r.id,
            org_id: parse_id(&r.org_id)?,
            user_id: parse_id(&r.user_id)?,
            name: r.name,
            token_hash: r.token_hash,
            prefix: r.prefix,
            role: parse_id(&r.role)?,
            created_by: r.created_by,
            created_at: Timestamp::from_micros(r.created_at),
            expires_at: Timestamp::from_micros(r.expires_at),
            revoked_at: ts(r.revoked_at),
            last_used_at: ts(r.last_used_at),
        })
    }
}

macro_rules! token_query {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, user_id, name, token_hash, prefix, role, created_by, created_at, expires_at, revoked_at, last_used_at FROM api_tokens ",
            $tail
        )
    };
}

/// Stores a token.
pub async fn insert(tx: &mut Tx, t: &ApiToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, org_id, user_id, name, token_hash, prefix, role, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&t.id)
    .bind(t.org_id.to_string())
    .bind(t.user_id.to_string())
    .bind(&t.name)
    .bind(&t.token_hash)
    .bind(&t.prefix)
    .bind(t.role.as_str())
    .bind(&t.created_by)
    .bind(t.created_at.as_micros())
    .bind(t.expires_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A token by the hash of its secret.
pub async fn by_hash(store: &Store, hash: &str) -> StoreResult<Option<ApiToken>> {
    sqlx::query_as::<_, Row>(token_query!("WHERE token_hash = $1"))
        .bind(hash)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A token of an organisation by id.
pub async fn get(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<ApiToken>> {
    sqlx::query_as::<_, Row>(token_query!("WHERE org_id = $1 AND id = $2"))
        .bind(org.to_string())
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// An organisation's tokens, newest first.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<ApiToken>> {
    sqlx::query_as::<_, Row>(token_query!("WHERE org_id = $1 ORDER BY created_at DESC"))
        .bind(org.to_string())
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// Revokes a token. Returns whether it was live.
pub async fn revoke(tx: &mut Tx, org: OrgId, id: &str, at: Timestamp) -> StoreResult<bool> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL")
        .bind(org.to_string())
        .bind(id)
        .bind(at.as_micros())
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Records use (callers limit this to once a minute per token).
pub async fn touch(store: &Store, id: &str, at: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at.as_micros())
        .execute(store.pool())
        .await?;
    Ok(())
}
