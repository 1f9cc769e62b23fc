//! People and service accounts, their memberships and role history, and MFA recovery codes.

use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;

use crate::{Store, StoreError, StoreResult, Tx};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// `person` or `service`.
    pub kind: String,
    /// Lower-case e-mail address (a synthetic one for service accounts).
    pub email: String,
    /// Name shown to people.
    pub display_name: String,
    /// argon2id PHC string.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Whether the user must choose a new password at next sign-in.
    pub must_change_password: bool,
    /// Confirmed TOTP secret (base32).
    #[serde(skip)]
    pub totp_secret: Option<String>,
    /// Secret shown during enrolment, not yet confirmed.
    #[serde(skip)]
    pub totp_pending_secret: Option<String>,
    /// Last accepted TOTP time step.
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    /// When MFA was enabled.
    pub totp_enabled_at: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
    /// Disabled across the whole instance.
    pub disabled_at: Option<Timestamp>,
}

impl User {
    /// Whether TOTP is enabled.
    pub fn mfa_enabled(&self) -> bool {
        self.totp_secret.is_some()
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    kind: String,
    email: String,
    display_name: String,
    password_hash: Option<String>,
    must_change_password: i64,
    totp_secret: Option<String>,
    totp_pending_secret: Option<String>,
    totp_last_step: Option<i64>,
    totp_enabled_at: Option<i64>,
    created_at: i64,
    disabled_at: Option<i64>,
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_micros)
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> StoreResult<Self> {
        Ok(User {
            id: parse_id(&r.id)?,
            kind: r.kind,
            email: r.email,
            display_name: r.display_name,
            password_hash: r.password_hash,
            must_change_password: r.must_change_password != 0,
            totp_secret: r.totp_secret,
            totp_pending_secret: r.totp_pending_secret,
            totp_last_step: r.totp_last_step,
            totp_enabled_at: ts(r.totp_enabled_at),
            created_at: Timestamp::from_micros(r.created_at),
            disabled_at: ts(r.disabled_at),
        })
    }
}

macro_rules! user_query {
    ($tail:literal) => {
        concat!(
            "SELECT id, kind, email, display_name, password_hash, must_change_password, totp_secret, totp_pending_secret, totp_last_step, totp_enabled_at, created_at, disabled_at FROM users ",
            $tail
        )
    };
}

/// Inserts a user.
pub async fn insert(tx: &mut Tx, u: &User) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, kind, email, display_name, password_hash, password_changed_at, must_change_password, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(u.id.to_string())
    .bind(&u.kind)
    .bind(&u.email)
    .bind(&u.display_name)
    .bind(u.password_hash.as_deref())
    .bind(u.password_hash.as_ref().map(|_| u.created_at.as_micros()))
    .bind(i64::from(u.must_change_password))
    .bind(u.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A user by id.
pub async fn get(store: &Store, id: UserId) -> StoreResult<User> {
    sqlx::query_as::<_, UserRow>(user_query!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_one(store.pool())
        .await?
        .try_into()
}

/// A user by id, inside a transaction.
pub async fn get_in(tx: &mut Tx, id: UserId) -> StoreResult<User> {
    sqlx::query_as::<_, UserRow>(user_query!("WHERE id = $1"))
        .bind(id.to_string())
        .fetch_one(&mut **tx)
        .await?
        .try_into()
}

/// A user by (lower-case) e-mail address.
pub async fn by_email(store: &Store, email: &str) -> StoreResult<Option<User>> {
    sqlx::query_as::<_, UserRow>(user_query!("WHERE email = $1"))
        .bind(email)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A user by e-mail, inside a transaction.
pub async fn by_email_in(tx: &mut Tx, email: &str) -> StoreResult<Option<User>> {
    sqlx::query_as::<_, UserRow>(user_query!("WHERE email = $1"))
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// Sets a new password hash.
pub async fn set_password(
    tx: &mut Tx,
    id: UserId,
    hash: &str,
    must_change: bool,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, password_changed_at = $3, must_change_password = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(hash)
    .bind(at.as_micros())
    .bind(i64::from(must_change))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Updates the display name.
pub async fn set_display_name(tx: &mut Tx, id: UserId, name: &str) -> StoreResult<()> {
    sqlx::query("UPDATE users SET display_name = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores a TOTP secret awaiting confirmation (replacing any earlier one).
pub async fn set_pending_totp(tx: &mut Tx, id: UserId, secret: Option<&str>) -> StoreResult<()> {
    sqlx::query("UPDATE users SET totp_pending_secret = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(secret)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Enables TOTP with a confirmed secret, or disables it (`None`).
pub async fn set_totp(
    tx: &mut Tx,
    id: UserId,
    secret: Option<&str>,
    step: Option<i64>,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE users SET totp_secret = $2, totp_pending_secret = NULL, totp_last_step = $3, totp_enabled_at = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(secret)
    .bind(step)
    .bind(secret.map(|_| at.as_micros()))
    .execute(&mut **tx)
    .await?;
    if secret.is_none() {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Records the TOTP step just used, only if it is later than the last one (so a code is
/// accepted once even when two requests race). Returns whether it was recorded.
pub async fn advance_totp_step(tx: &mut Tx, id: UserId, step: i64) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
    )
    .bind(id.to_string())
    .bind(step)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces a user's recovery codes (hashes).
pub async fn set_recovery_codes(tx: &mut Tx, id: UserId, hashes: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(h)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Uses a recovery code once. Returns whether it was valid and unused.
pub async fn use_recovery_code(
    tx: &mut Tx,
    id: UserId,
    hash: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(id.to_string())
    .bind(hash)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// How many unused recovery codes a user has.
pub async fn recovery_codes_left(store: &Store, id: UserId) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(id.to_string())
    .fetch_one(store.pool())
    .await?;
    Ok(n)
}

/// A user's membership of one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    /// The organisation.
    pub org_id: OrgId,
    /// The member.
    pub user_id: UserId,
    /// The role.
    pub role: Role,
    /// Since when the member has this role.
    pub role_since: Timestamp,
    /// When the member joined.
    pub created_at: Timestamp,
    /// When the membership was deactivated.
    pub deactivated_at: Option<Timestamp>,
    /// When it ends by itself (auditors).
    pub expires_at: Option<Timestamp>,
    /// The engagement an auditor is attached to.
    pub engagement_id: Option<String>,
}

impl Membership {
    /// Whether the membership grants access at an instant.
    pub fn active_at(&self, now: Timestamp) -> bool {
        self.deactivated_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    org_id: String,
    user_id: String,
    role: String,
    role_since: i64,
    created_at: i64,
    deactivated_at: Option<i64>,
    expires_at: Option<i64>,
    engagement_id: Option<String>,
}

impl TryFrom<MemberRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> StoreResult<Self> {
        Ok(Membership {
            org_id: parse_id(&r.org_id)?,
            user_id: parse_id(&r.user_id)?,
            role: parse_id(&r.role)?,
            role_since: Timestamp::from_micros(r.role_since),
            created_at: Timestamp::from_micros(r.created_at),
            deactivated_at: ts(r.deactivated_at),
            expires_at: ts(r.expires_at),
            engagement_id: r.engagement_id,
        })
    }
}

macro_rules! member_query {
    ($tail:literal) => {
        concat!(
            "SELECT org_id, user_id, role, role_since, created_at, deactivated_at, expires_at, engagement_id FROM memberships ",
            $tail
        )
    };
}

/// Adds a member and opens their role history.
pub async fn add_membership(tx: &mut Tx, m: &Membership, granted_by: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, role_since, created_at, expires_at, engagement_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.org_id.to_string())
    .bind(m.user_id.to_string())
    .bind(m.role.as_str())
    .bind(m.role_since.as_micros())
    .bind(m.created_at.as_micros())
    .bind(m.expires_at.map(Timestamp::as_micros))
    .bind(m.engagement_id.as_deref())
    .execute(&mut **tx)
    .await?;
    open_role_history(tx, m.org_id, m.user_id, m.role, m.role_since, granted_by).await
}

async fn open_role_history(
    tx: &mut Tx,
    org: OrgId,
    user: UserId,
    role: Role,
    at: Timestamp,
    by: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO role_history (id, org_id, user_id, role, from_at, granted_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(at.as_micros())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn close_role_history(
    tx: &mut Tx,
    org: OrgId,
    user: UserId,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE role_history SET until_at = $3 WHERE org_id = $1 AND user_id = $2 AND until_at IS NULL")
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(at.as_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes a member's role, closing the old role's history entry.
pub async fn set_role(
    tx: &mut Tx,
    org: OrgId,
    user: UserId,
    role: Role,
    at: Timestamp,
    by: &str,
) -> StoreResult<()> {
    let r = sqlx::query(
        "UPDATE memberships SET role = $3, role_since = $4 WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(role.as_str())
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    close_role_history(tx, org, user, at).await?;
    open_role_history(tx, org, user, role, at, by).await
}

/// Attaches an auditor's membership to another engagement, with its end of access, and
/// reactivates it.
pub async fn attach_auditor(
    tx: &mut Tx,
    org: OrgId,
    user: UserId,
    engagement: &str,
    until: Option<Timestamp>,
) -> StoreResult<()> {
    let r = sqlx::query(
        "UPDATE memberships SET engagement_id = $3, expires_at = $4, deactivated_at = NULL \
         WHERE org_id = $1 AND user_id = $2 AND role = 'auditor'",
    )
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(engagement)
    .bind(until.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deactivates (`Some`) or reactivates (`None`) a membership.
pub async fn set_deactivated(
    tx: &mut Tx,
    org: OrgId,
    user: UserId,
    at: Option<Timestamp>,
    by: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let r = sqlx::query(
        "UPDATE memberships SET deactivated_at = $3 WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org.to_string())
    .bind(user.to_string())
    .bind(at.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    match at {
        Some(t) => close_role_history(tx, org, user, t).await,
        None => {
            let m = membership_in(tx, org, user)
                .await?
                .ok_or(StoreError::NotFound)?;
            sqlx::query(
                "UPDATE memberships SET role_since = $3 WHERE org_id = $1 AND user_id = $2",
            )
            .bind(org.to_string())
            .bind(user.to_string())
            .bind(now.as_micros())
            .execute(&mut **tx)
            .await?;
            open_role_history(tx, org, user, m.role, now, by).await
        }
    }
}

/// A user's membership of an organisation.
pub async fn membership(
    store: &Store,
    org: OrgId,
    user: UserId,
) -> StoreResult<Option<Membership>> {
    sqlx::query_as::<_, MemberRow>(member_query!("WHERE org_id = $1 AND user_id = $2"))
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A membership, inside a transaction.
pub async fn membership_in(
    tx: &mut Tx,
    org: OrgId,
    user: UserId,
) -> StoreResult<Option<Membership>> {
    sqlx::query_as::<_, MemberRow>(member_query!("WHERE org_id = $1 AND user_id = $2"))
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// Every membership of a user (the organisations they can switch between).
pub async fn memberships_of(store: &Store, user: UserId) -> StoreResult<Vec<Membership>> {
    sqlx::query_as::<_, MemberRow>(member_query!("WHERE user_id = $1 ORDER BY created_at"))
        .bind(user.to_string())
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// A member with their user record.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The user.
    pub user: User,
}

/// Every member of an organisation, by name.
pub async fn members(store: &Store, org: OrgId) -> StoreResult<Vec<Member>> {
    let ms: Vec<Membership> = sqlx::query_as::<_, MemberRow>(member_query!("WHERE org_id = $1"))
        .bind(org.to_string())
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect::<StoreResult<_>>()?;
    let users: Vec<User> = sqlx::query_as::<_, UserRow>(user_query!(
        "WHERE id IN (SELECT user_id FROM memberships WHERE org_id = $1)"
    ))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect::<StoreResult<_>>()?;
    let mut out: Vec<Member> = ms
        .into_iter()
        .filter_map(|m| {
            let user = users.iter().find(|u| u.id == m.user_id)?.clone();
            Some(Member {
                membership: m,
                user,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.user
            .display_name
            .to_lowercase()
            .cmp(&b.user.display_name.to_lowercase())
    });
    Ok(out)
}

/// Number of active owners of an organisation (the last one cannot leave).
pub async fn active_owners(tx: &mut Tx, org: OrgId) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND m.role = 'owner' AND m.deactivated_at IS NULL AND u.disabled_at IS NULL",
    )
    .bind(org.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(n)
}

/// One period in which a member held a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolePeriod {
    /// The member.
    pub user_id: UserId,
    /// E-mail.
    pub email: String,
    /// Name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// From.
    pub from: Timestamp,
    /// Until (open when current).
    pub until: Option<Timestamp>,
    /// Who granted it.
    pub granted_by: String,
}

/// The role history of an organisation, for the access review.
pub async fn role_history(store: &Store, org: OrgId) -> StoreResult<Vec<RolePeriod>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: String,
        email: String,
        display_name: String,
        role: String,
        from_at: i64,
        until_at: Option<i64>,
        granted_by: String,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT h.user_id, u.email, u.display_name, h.role, h.from_at, h.until_at, h.granted_by \
         FROM role_history h JOIN users u ON u.id = h.user_id WHERE h.org_id = $1 \
         ORDER BY u.email, h.from_at",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(RolePeriod {
                user_id: parse_id(&r.user_id)?,
                email: r.email,
                display_name: r.display_name,
                role: parse_id(&r.role)?,
                from: Timestamp::from_micros(r.from_at),
                until: ts(r.until_at),
                granted_by: r.granted_by,
            })
        })
        .collect()
}

/// Whether any user exists at all (a fresh installation has none).
pub async fn any_exist(store: &Store) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(store.pool())
        .await?;
    Ok(n > 0)
}
