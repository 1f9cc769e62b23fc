//! Server-side sessions (staff and portal), so that any node behind a load balancer can
//! serve any request and a revoked session ends everywhere at once.

use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;

use crate::user::{parse_id, ts};
use crate::{Store, StoreError, StoreResult, Tx};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// SHA-256 of the cookie token, hex (the session's id).
    pub id_hash: String,
    /// `staff` or `portal`.
    pub kind: String,
    /// The staff user (staff sessions) or portal account id (portal sessions).
    pub user_id: Option<String>,
    /// The organisation currently selected.
    pub org_id: Option<OrgId>,
    /// The CSRF token forms and cookie-authenticated API calls must echo.
    #[serde(skip)]
    pub csrf_token: String,
    /// The password was accepted but the second factor is still due.
    pub mfa_pending: bool,
    /// Signed in through single sign-on.
    pub via_sso: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last request.
    pub last_seen_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// Client address at sign-in.
    pub ip: Option<String>,
    /// Client's user agent at sign-in.
    pub user_agent: Option<String>,
    /// When revoked.
    pub revoked_at: Option<Timestamp>,
}

impl Session {
    /// The staff user of a staff session.
    pub fn staff_user(&self) -> Option<UserId> {
        if self.kind == "staff" {
            self.user_id.as_deref().and_then(|u| u.parse().ok())
        } else {
            None
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id_hash: String,
    kind: String,
    user_id: Option<String>,
    org_id: Option<String>,
    csrf_token: String,
    mfa_pending: i64,
    via_sso: i64,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
    revoked_at: Option<i64>,
}

impl TryFrom<Row> for Session {
    type Error = StoreError;
    fn try_from(r: Row) -> StoreResult<Self> {
        Ok(Session {
            id_hash: r.id_hash,
            kind: r.kind,
            user_id: r.user_id,
            org_id: r.org_id.as_deref().map(parse_id).transpose()?,
            csrf_token: r.csrf_token,
            mfa_pending: r.mfa_pending != 0,
            via_sso: r.via_sso != 0,
            created_at: Timestamp::from_micros(r.created_at),
            last_seen_at: Timestamp::from_micros(r.last_seen_at),
            expires_at: Timestamp::from_micros(r.expires_at),
            ip: r.ip,
            user_agent: r.user_agent,
            revoked_at: ts(r.revoked_at),
        })
    }
}

macro_rules! session_query {
    ($tail:literal) => {
        concat!(
            "SELECT id_hash, kind, user_id, org_id, csrf_token, mfa_pending, via_sso, created_at, last_seen_at, expires_at, ip, user_agent, revoked_at FROM sessions ",
            $tail
        )
    };
}

/// Stores a new session.
pub async fn insert(tx: &mut Tx, s: &Session) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, kind, user_id, org_id, csrf_token, mfa_pending, via_sso, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&s.id_hash)
    .bind(&s.kind)
    .bind(s.user_id.as_deref())
    .bind(s.org_id.map(|o| o.to_string()))
    .bind(&s.csrf_token)
    .bind(i64::from(s.mfa_pending))
    .bind(i64::from(s.via_sso))
    .bind(s.created_at.as_micros())
    .bind(s.last_seen_at.as_micros())
    .bind(s.expires_at.as_micros())
    .bind(s.ip.as_deref())
    .bind(s.user_agent.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A session by the hash of its token.
pub async fn get(store: &Store, id_hash: &str) -> StoreResult<Option<Session>> {
    sqlx::query_as::<_, Row>(session_query!("WHERE id_hash = $1"))
        .bind(id_hash)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// Records activity (done at most once a minute per session to spare writes).
pub async fn touch(store: &Store, id_hash: &str, at: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(at.as_micros())
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Switches the session's organisation.
pub async fn set_org(tx: &mut Tx, id_hash: &str, org: OrgId) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET org_id = $2 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(org.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks the second factor as done.
pub async fn complete_mfa(tx: &mut Tx, id_hash: &str) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET mfa_pending = 0 WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Revokes one session of a user (or of anyone when `user` is `None`). Returns whether a
/// session was revoked.
pub async fn revoke(
    tx: &mut Tx,
    id_hash: &str,
    user: Option<&str>,
    at: Timestamp,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL AND ($3 IS NULL OR user_id = $3)",
    )
    .bind(id_hash)
    .bind(at.as_micros())
    .bind(user)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes every session of a user except one (after a password change, deactivation).
pub async fn revoke_all_of(
    tx: &mut Tx,
    user: &str,
    except: Option<&str>,
    at: Timestamp,
) -> StoreResult<u64> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND ($3 IS NULL OR id_hash <> $3)",
    )
    .bind(user)
    .bind(at.as_micros())
    .bind(except)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected())
}

/// A user's live sessions, newest first.
pub async fn list_of(store: &Store, user: &str, now: Timestamp) -> StoreResult<Vec<Session>> {
    sqlx::query_as::<_, Row>(session_query!(
        "WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC"
    ))
    .bind(user)
    .bind(now.as_micros())
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// Deletes sessions that ended long ago.
pub async fn purge(store: &Store, before: Timestamp) -> StoreResult<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
        .bind(before.as_micros())
        .execute(store.pool())
        .await?;
    Ok(r.rows_affected())
}
