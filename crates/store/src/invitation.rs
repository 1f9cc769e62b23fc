//! Invitations (expiring, single-use links) and password reset tokens.

use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;

use crate::user::{parse_id, ts};
use crate::{Store, StoreError, StoreResult, Tx};

/// An invitation to join an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    /// Id.
    pub id: String,
    /// Organisation.
    pub org_id: OrgId,
    /// Invited address (lower case).
    pub email: String,
    /// Role granted on acceptance.
    pub role: Role,
    /// SHA-256 of the link's token.
    #[serde(skip)]
    pub token_hash: String,
    /// Who invited.
    pub created_by: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
    /// Accepted.
    pub accepted_at: Option<Timestamp>,
    /// Revoked.
    pub revoked_at: Option<Timestamp>,
    /// For an auditor: the one engagement the membership is attached to.
    pub engagement_id: Option<String>,
    /// For an auditor: when the membership's access ends.
    pub access_until: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    org_id: String,
    email: String,
    role: String,
    token_hash: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    accepted_at: Option<i64>,
    revoked_at: Option<i64>,
    engagement_id: Option<String>,
    access_until: Option<i64>,
}

impl TryFrom<Row> for Invitation {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(Invitation {
            id: r.id,
            org_id: parse_id(&r.org_id)?,
            email: r.email,
            role: parse_id(&r.role)?,
            token_hash: r.token_hash,
            created_by: r.created_by,
            created_at: Timestamp::from_micros(r.created_at),
            expires_at: Timestamp::from_micros(r.expires_at),
            accepted_at: ts(r.accepted_at),
            revoked_at: ts(r.revoked_at),
            engagement_id: r.engagement_id,
            access_until: ts(r.access_until),
        })
    }
}

macro_rules! invitation_query {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, email, role, token_hash, created_by, created_at, expires_at, accepted_at, revoked_at, engagement_id, access_until FROM invitations ",
            $tail
        )
    };
}

/// Stores an invitation.
pub async fn insert(tx: &mut Tx, i: &Invitation) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO invitations (id, org_id, email, role, token_hash, created_by, created_at, expires_at, \
         engagement_id, access_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&i.id)
    .bind(i.org_id.to_string())
    .bind(&i.email)
    .bind(i.role.as_str())
    .bind(&i.token_hash)
    .bind(&i.created_by)
    .bind(i.created_at.as_micros())
    .bind(i.expires_at.as_micros())
    .bind(i.engagement_id.as_deref())
    .bind(i.access_until.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An invitation by the hash of its token.
pub async fn by_hash(store: &Store, hash: &str) -> StoreResult<Option<Invitation>> {
    sqlx::query_as::<_, Row>(invitation_query!("WHERE token_hash = $1"))
        .bind(hash)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// An invitation of an organisation by id.
pub async fn get(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Invitation>> {
    sqlx::query_as::<_, Row>(invitation_query!("WHERE org_id = $1 AND id = $2"))
        .bind(org.to_string())
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// An organisation's invitations still open, newest first.
pub async fn open(store: &Store, org: OrgId, now: Timestamp) -> StoreResult<Vec<Invitation>> {
    sqlx::query_as::<_, Row>(invitation_query!(
        "WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC"
    ))
    .bind(org.to_string())
    .bind(now.as_micros())
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// Revokes every open invitation of an address in an organisation.
pub async fn revoke_for_email(
    tx: &mut Tx,
    org: OrgId,
    email: &str,
    at: Timestamp,
) -> StoreResult<u64> {
    let r = sqlx::query(
        "UPDATE invitations SET revoked_at = $3 WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(org.to_string())
    .bind(email)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected())
}

/// Marks an invitation accepted, once: returns false if it was already used, revoked or expired.
pub async fn accept(tx: &mut Tx, id: &str, at: Timestamp) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes an open invitation.
pub async fn revoke(tx: &mut Tx, org: OrgId, id: &str, at: Timestamp) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE invitations SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(org.to_string())
    .bind(id)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Stores a password reset token (hash).
pub async fn insert_reset(
    tx: &mut Tx,
    hash: &str,
    user: UserId,
    at: Timestamp,
    expires: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(user.to_string())
        .bind(at.as_micros())
        .bind(expires.as_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Uses a reset token once: the user it belongs to, or `None` if unknown, used or expired.
pub async fn use_reset(tx: &mut Tx, hash: &str, at: Timestamp) -> StoreResult<Option<UserId>> {
    let row: Option<(String,)> = sqlx::query_as(
        "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
    )
    .bind(hash)
    .bind(at.as_micros())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|(u,)| parse_id(&u)).transpose()
}

/// Whether a reset token exists and can still be used (to show the form).
pub async fn reset_usable(store: &Store, hash: &str, at: Timestamp) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash)
    .bind(at.as_micros())
    .fetch_one(store.pool())
    .await?;
    Ok(n > 0)
}
