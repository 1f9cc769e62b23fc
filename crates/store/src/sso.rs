//! Single sign-on settings per organisation, OpenID Connect sign-ins in flight, and the link
//! between an identity provider's subject and an Attest account.

use attest_domain::{OrgId, Timestamp, UserId};

use crate::user::parse_id;
use crate::{Store, StoreResult, Tx};

/// An organisation's OpenID Connect settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConfig {
    /// Organisation.
    pub org_id: OrgId,
    /// Issuer URL (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Role of accounts created at first sign-in when no group maps to a role.
    pub default_role: String,
    /// The ID token claim that lists the person's groups.
    pub group_claim: Option<String>,
    /// JSON object: group → role.
    pub group_roles: String,
    /// Whether SSO sign-in is offered.
    pub enabled: bool,
    /// Whether members must use SSO (owners keep a password as a way in if the provider fails).
    pub required: bool,
    /// Last change.
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct Row {
    org_id: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    default_role: String,
    group_claim: Option<String>,
    group_roles: String,
    enabled: i64,
    required: i64,
    updated_at: i64,
}

/// An organisation's settings, if any.
pub async fn config(store: &Store, org: OrgId) -> StoreResult<Option<SsoConfig>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT org_id, issuer, client_id, client_secret, default_role, group_claim, group_roles, enabled, required, updated_at \
         FROM sso_configs WHERE org_id = $1",
    )
    .bind(org.to_string())
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        Ok(SsoConfig {
            org_id: parse_id(&r.org_id)?,
            issuer: r.issuer,
            client_id: r.client_id,
            client_secret: r.client_secret,
            default_role: r.default_role,
            group_claim: r.group_claim,
            group_roles: r.group_roles,
            enabled: r.enabled != 0,
            required: r.required != 0,
            updated_at: Timestamp::from_micros(r.updated_at),
        })
    })
    .transpose()
}

/// Creates or replaces an organisation's settings.
pub async fn put_config(tx: &mut Tx, c: &SsoConfig) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sso_configs (org_id, issuer, client_id, client_secret, default_role, group_claim, group_roles, enabled, required, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, client_secret = excluded.client_secret, \
         default_role = excluded.default_role, group_claim = excluded.group_claim, group_roles = excluded.group_roles, \
         enabled = excluded.enabled, required = excluded.required, updated_at = excluded.updated_at",
    )
    .bind(c.org_id.to_string())
    .bind(&c.issuer)
    .bind(&c.client_id)
    .bind(&c.client_secret)
    .bind(&c.default_role)
    .bind(c.group_claim.as_deref())
    .bind(&c.group_roles)
    .bind(i64::from(c.enabled))
    .bind(i64::from(c.required))
    .bind(c.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A sign-in in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// SHA-256 of the `state` parameter.
    pub state_hash: String,
    /// Organisation.
    pub org_id: OrgId,
    /// Nonce expected in the ID token.
    pub nonce: String,
    /// PKCE verifier.
    pub pkce_verifier: String,
    /// Where to go afterwards.
    pub return_to: String,
    /// SHA-256 of the token of the browser that started it.
    pub browser_hash: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

/// Records a sign-in in flight.
pub async fn insert_login(tx: &mut Tx, p: &PendingLogin) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sso_logins (state_hash, org_id, nonce, pkce_verifier, return_to, browser_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.state_hash)
    .bind(p.org_id.to_string())
    .bind(&p.nonce)
    .bind(&p.pkce_verifier)
    .bind(&p.return_to)
    .bind(&p.browser_hash)
    .bind(p.created_at.as_micros())
    .bind(p.expires_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes a sign-in in flight by its state, once (a replayed state finds nothing).
pub async fn take_login(
    tx: &mut Tx,
    state_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<PendingLogin>> {
    #[derive(sqlx::FromRow)]
    struct P {
        state_hash: String,
        org_id: String,
        nonce: String,
        pkce_verifier: String,
        return_to: String,
        browser_hash: String,
        created_at: i64,
        expires_at: i64,
    }
    let row: Option<P> = sqlx::query_as(
        "DELETE FROM sso_logins WHERE state_hash = $1 RETURNING state_hash, org_id, nonce, pkce_verifier, return_to, browser_hash, created_at, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM sso_logins WHERE expires_at < $1")
        .bind(now.as_micros())
        .execute(&mut **tx)
        .await?;
    row.filter(|p| p.expires_at > now.as_micros())
        .map(|p| {
            Ok(PendingLogin {
                state_hash: p.state_hash,
                org_id: parse_id(&p.org_id)?,
                nonce: p.nonce,
                pkce_verifier: p.pkce_verifier,
                return_to: p.return_to,
                browser_hash: p.browser_hash,
                created_at: Timestamp::from_micros(p.created_at),
                expires_at: Timestamp::from_micros(p.expires_at),
            })
        })
        .transpose()
}

/// The account linked to a provider's subject.
pub async fn linked_user(tx: &mut Tx, issuer: &str, subject: &str) -> StoreResult<Option<UserId>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|(u,)| parse_id(&u)).transpose()
}

/// Links a provider's subject to an account.
pub async fn link(
    tx: &mut Tx,
    issuer: &str,
    subject: &str,
    user: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sso_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(issuer)
    .bind(subject)
    .bind(user.to_string())
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
