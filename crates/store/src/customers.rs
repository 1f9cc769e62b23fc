//! The trust portal's customers: accounts, their short-lived secrets (sessions, e-mail
//! verification, invitations, download links), the versioned NDA and its acceptances,
//! access requests with the documents they grant, and the download log.

use attest_domain::{OrgId, Timestamp};
use serde::Serialize;

use crate::{Store, StoreResult, Tx};

/// A customer's account on an organisation's portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Id (UUID).
    pub id: String,
    /// E-mail (lower case), unique per organisation.
    pub email: String,
    /// Name.
    pub name: String,
    /// Company.
    pub company: String,
    /// argon2id hash (none until an invited customer chooses a password).
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// When the e-mail address was confirmed (by its link, or by accepting an invitation).
    pub verified_at: Option<Timestamp>,
    /// When staff disabled it.
    pub disabled_at: Option<Timestamp>,
    /// The staff member who invited them.
    pub invited_by: Option<String>,
    /// Created.
    pub created_at: Timestamp,
}

type AccountRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
);

const ACCOUNT_COLUMNS: &str =
    "id, email, name, company, password_hash, verified_at, disabled_at, invited_by, created_at";

fn account(r: AccountRow) -> Account {
    Account {
        id: r.0,
        email: r.1,
        name: r.2,
        company: r.3,
        password_hash: r.4,
        verified_at: r.5.map(Timestamp::from_micros),
        disabled_at: r.6.map(Timestamp::from_micros),
        invited_by: r.7,
        created_at: Timestamp::from_micros(r.8),
    }
}

/// Adds an account; false when the e-mail address already has one.
pub async fn insert_account(tx: &mut Tx, org: OrgId, a: &Account) -> StoreResult<bool> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO portal_accounts (org_id, {ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, email) DO NOTHING"
    )))
    .bind(org.to_string())
    .bind(&a.id)
    .bind(&a.email)
    .bind(&a.name)
    .bind(&a.company)
    .bind(&a.password_hash)
    .bind(a.verified_at.map(Timestamp::as_micros))
    .bind(a.disabled_at.map(Timestamp::as_micros))
    .bind(&a.invited_by)
    .bind(a.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Saves an account's changeable fields (name, company, password, verification, disabling).
pub async fn update_account(tx: &mut Tx, org: OrgId, a: &Account) -> StoreResult<()> {
    sqlx::query(
        "UPDATE portal_accounts SET name = $3, company = $4, password_hash = $5, verified_at = $6, \
         disabled_at = $7 WHERE org_id = $1 AND id = $2",
    )
    .bind(org.to_string())
    .bind(&a.id)
    .bind(&a.name)
    .bind(&a.company)
    .bind(&a.password_hash)
    .bind(a.verified_at.map(Timestamp::as_micros))
    .bind(a.disabled_at.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An account by id.
pub async fn account_by_id(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Account>> {
    let r: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM portal_accounts WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(r.map(account))
}

/// An account by e-mail (lower case).
pub async fn account_by_email(
    store: &Store,
    org: OrgId,
    email: &str,
) -> StoreResult<Option<Account>> {
    let r: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM portal_accounts WHERE org_id = $1 AND email = $2"
    )))
    .bind(org.to_string())
    .bind(email)
    .fetch_optional(store.pool())
    .await?;
    Ok(r.map(account))
}

/// Every account, newest first.
pub async fn accounts(store: &Store, org: OrgId) -> StoreResult<Vec<Account>> {
    let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM portal_accounts WHERE org_id = $1 ORDER BY created_at DESC, id"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(account).collect())
}

/// What a customer's token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A signed-in browser.
    Session,
    /// The link confirming the e-mail address of a sign-up.
    Verify,
    /// The link an invited customer opens to choose a password.
    Invite,
    /// A download link of one document.
    Download,
    /// The link a customer who forgot their password opens to choose a new one.
    Reset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Session => "session",
            Purpose::Verify => "verify",
            Purpose::Invite => "invite",
            Purpose::Download => "download",
            Purpose::Reset => "reset",
        }
    }
}

/// A stored token (its secret is only ever held by the customer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// SHA-256 of the secret (hex).
    pub hash: String,
    /// The account.
    pub account_id: String,
    /// The document (download links).
    pub document_id: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Ends.
    pub expires_at: Timestamp,
    /// When a one-time token was used.
    pub used_at: Option<Timestamp>,
}

/// Stores a token.
pub async fn insert_token(tx: &mut Tx, org: OrgId, purpose: Purpose, t: &Token) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_tokens (hash, org_id, account_id, purpose, document_id, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.hash)
    .bind(org.to_string())
    .bind(&t.account_id)
    .bind(purpose.as_str())
    .bind(&t.document_id)
    .bind(t.created_at.as_micros())
    .bind(t.expires_at.as_micros())
    .bind(t.used_at.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type TokenRow = (String, String, Option<String>, i64, i64, Option<i64>);

/// A token by its hash, for this purpose, in this organisation.
pub async fn token(
    store: &Store,
    org: OrgId,
    purpose: Purpose,
    hash: &str,
) -> StoreResult<Option<Token>> {
    let r: Option<TokenRow> = sqlx::query_as(
        "SELECT hash, account_id, document_id, created_at, expires_at, used_at FROM portal_tokens \
         WHERE hash = $1 AND org_id = $2 AND purpose = $3",
    )
    .bind(hash)
    .bind(org.to_string())
    .bind(purpose.as_str())
    .fetch_optional(store.pool())
    .await?;
    Ok(r.map(|r| Token {
        hash: r.0,
        account_id: r.1,
        document_id: r.2,
        created_at: Timestamp::from_micros(r.3),
        expires_at: Timestamp::from_micros(r.4),
        used_at: r.5.map(Timestamp::from_micros),
    }))
}

/// Marks a one-time token used; false when it already was (two clicks racing: one wins).
pub async fn use_token(tx: &mut Tx, hash: &str, at: Timestamp) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE portal_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL")
            .bind(hash)
            .bind(at.as_micros())
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a token (a session signed out).
pub async fn delete_token(tx: &mut Tx, hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM portal_tokens WHERE hash = $1")
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every token of an account of some purposes (a disabled account, a new password).
pub async fn delete_tokens(tx: &mut Tx, account: &str, purposes: &[Purpose]) -> StoreResult<()> {
    for p in purposes {
        sqlx::query("DELETE FROM portal_tokens WHERE account_id = $1 AND purpose = $2")
            .bind(account)
            .bind(p.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A version of the NDA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nda {
    /// 1, 2, …
    pub version: i64,
    /// English text.
    pub text_en: String,
    /// Korean text (empty: customers read the English one).
    pub text_ko: String,
    /// SHA-256 of the English text's UTF-8 bytes.
    pub sha256_en: String,
    /// SHA-256 of the Korean text (of the English one when it has none).
    pub sha256_ko: String,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: Timestamp,
}

type NdaRow = (i64, String, String, String, String, String, i64);

/// Every NDA version, newest first.
pub async fn ndas(store: &Store, org: OrgId) -> StoreResult<Vec<Nda>> {
    let rows: Vec<NdaRow> = sqlx::query_as(
        "SELECT version, text_en, text_ko, sha256_en, sha256_ko, published_by, published_at \
         FROM portal_ndas WHERE org_id = $1 ORDER BY version DESC",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Nda {
            version: r.0,
            text_en: r.1,
            text_ko: r.2,
            sha256_en: r.3,
            sha256_ko: r.4,
            published_by: r.5,
            published_at: Timestamp::from_micros(r.6),
        })
        .collect())
}

/// Adds the next version (numbered in the database: two staff publishing at once get 1 and
/// 2, or the second is refused by the key and told to try again).
pub async fn insert_nda(tx: &mut Tx, org: OrgId, n: &Nda) -> StoreResult<i64> {
    let (next,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(version), 0) + 1 FROM portal_ndas WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO portal_ndas (org_id, version, text_en, text_ko, sha256_en, sha256_ko, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(org.to_string())
    .bind(next)
    .bind(&n.text_en)
    .bind(&n.text_ko)
    .bind(&n.sha256_en)
    .bind(&n.sha256_ko)
    .bind(&n.published_by)
    .bind(n.published_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(next)
}

/// An NDA accepted (clicked through on the portal, or signed outside and recorded by staff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acceptance {
    /// Id.
    pub id: String,
    /// The account.
    pub account_id: String,
    /// The NDA version.
    pub version: i64,
    /// The language of the text accepted.
    pub language: String,
    /// SHA-256 of the exact text accepted.
    pub text_sha256: String,
    /// When.
    pub accepted_at: Timestamp,
    /// From where (empty for an offline NDA).
    pub ip: String,
    /// With which browser.
    pub user_agent: String,
    /// Signed outside Attest and recorded by staff.
    pub offline: bool,
    /// Who recorded it (the customer's actor, or the staff member's).
    pub recorded_by: String,
    /// Staff's note on an offline NDA (where the signed copy is kept).
    pub note: String,
}

/// Records an acceptance.
pub async fn insert_acceptance(tx: &mut Tx, org: OrgId, a: &Acceptance) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_nda_acceptances (id, org_id, account_id, version, language, text_sha256, accepted_at, ip, user_agent, offline, recorded_by, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&a.id)
    .bind(org.to_string())
    .bind(&a.account_id)
    .bind(a.version)
    .bind(&a.language)
    .bind(&a.text_sha256)
    .bind(a.accepted_at.as_micros())
    .bind(&a.ip)
    .bind(&a.user_agent)
    .bind(i64::from(a.offline))
    .bind(&a.recorded_by)
    .bind(&a.note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type AcceptanceRow = (
    String,
    String,
    i64,
    String,
    String,
    i64,
    String,
    String,
    i64,
    String,
    String,
);

/// Acceptances, newest first (of one account, or all).
pub async fn acceptances(
    store: &Store,
    org: OrgId,
    account: Option<&str>,
) -> StoreResult<Vec<Acceptance>> {
    let rows: Vec<AcceptanceRow> = sqlx::query_as(
        "SELECT id, account_id, version, language, text_sha256, accepted_at, ip, user_agent, offline, recorded_by, note \
         FROM portal_nda_acceptances WHERE org_id = $1 AND ($2 = '' OR account_id = $2) ORDER BY accepted_at DESC, id DESC",
    )
    .bind(org.to_string())
    .bind(account.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Acceptance {
            id: r.0,
            account_id: r.1,
            version: r.2,
            language: r.3,
            text_sha256: r.4,
            accepted_at: Timestamp::from_micros(r.5),
            ip: r.6,
            user_agent: r.7,
            offline: r.8 != 0,
            recorded_by: r.9,
            note: r.10,
        })
        .collect())
}

/// A customer's request for restricted documents; once approved, their grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRequest {
    /// Id.
    pub id: String,
    /// The account.
    pub account_id: String,
    /// Why they need the documents.
    pub reason: String,
    /// For how many days they asked.
    pub days: i64,
    /// `requested`, `approved`, `denied` or `revoked`.
    pub status: String,
    /// Asked.
    pub created_at: Timestamp,
    /// Who decided (a staff actor, or `auto` for an allow-listed domain).
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// Staff's note with the decision.
    pub decision_note: String,
    /// When an approved grant ends.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// The documents asked for (ids).
    pub documents: Vec<String>,
}

type RequestRow = (
    String,
    String,
    String,
    i64,
    String,
    i64,
    Option<String>,
    Option<i64>,
    String,
    Option<i64>,
    Option<i64>,
);

/// Records a request with its documents.
pub async fn insert_request(tx: &mut Tx, org: OrgId, r: &AccessRequest) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_access_requests (id, org_id, account_id, reason, days, status, created_at, decided_by, decided_at, decision_note, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.id)
    .bind(org.to_string())
    .bind(&r.account_id)
    .bind(&r.reason)
    .bind(r.days)
    .bind(&r.status)
    .bind(r.created_at.as_micros())
    .bind(&r.decided_by)
    .bind(r.decided_at.map(Timestamp::as_micros))
    .bind(&r.decision_note)
    .bind(r.expires_at.map(Timestamp::as_micros))
    .bind(r.revoked_at.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    for d in &r.documents {
        sqlx::query(
            "INSERT INTO portal_access_documents (request_id, document_id) VALUES ($1, $2)",
        )
        .bind(&r.id)
        .bind(d)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Saves a decision; false when the request was no longer in `from` (someone else decided).
pub async fn decide_request(
    tx: &mut Tx,
    org: OrgId,
    r: &AccessRequest,
    from: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE portal_access_requests SET status = $3, decided_by = $4, decided_at = $5, decision_note = $6, \
         expires_at = $7, revoked_at = $8 WHERE org_id = $1 AND id = $2 AND status = $9",
    )
    .bind(org.to_string())
    .bind(&r.id)
    .bind(&r.status)
    .bind(&r.decided_by)
    .bind(r.decided_at.map(Timestamp::as_micros))
    .bind(&r.decision_note)
    .bind(r.expires_at.map(Timestamp::as_micros))
    .bind(r.revoked_at.map(Timestamp::as_micros))
    .bind(from)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Requests, newest first (of one account, or all).
pub async fn requests(
    store: &Store,
    org: OrgId,
    account: Option<&str>,
) -> StoreResult<Vec<AccessRequest>> {
    let rows: Vec<RequestRow> = sqlx::query_as(
        "SELECT id, account_id, reason, days, status, created_at, decided_by, decided_at, decision_note, expires_at, revoked_at \
         FROM portal_access_requests WHERE org_id = $1 AND ($2 = '' OR account_id = $2) ORDER BY created_at DESC, id DESC",
    )
    .bind(org.to_string())
    .bind(account.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    let docs: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.request_id, d.document_id FROM portal_access_documents d \
         JOIN portal_access_requests r ON r.id = d.request_id \
         WHERE r.org_id = $1 AND ($2 = '' OR r.account_id = $2) ORDER BY d.request_id, d.document_id",
    )
    .bind(org.to_string())
    .bind(account.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AccessRequest {
            documents: docs
                .iter()
                .filter(|(q, _)| *q == r.0)
                .map(|(_, d)| d.clone())
                .collect(),
            id: r.0,
            account_id: r.1,
            reason: r.2,
            days: r.3,
            status: r.4,
            created_at: Timestamp::from_micros(r.5),
            decided_by: r.6,
            decided_at: r.7.map(Timestamp::from_micros),
            decision_note: r.8,
            expires_at: r.9.map(Timestamp::from_micros),
            revoked_at: r.10.map(Timestamp::from_micros),
        })
        .collect())
}

/// A download of a restricted document, or a refused attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Download {
    /// Id (also printed in the stamp).
    pub id: String,
    /// When.
    pub at: Timestamp,
    /// The account (none: nobody signed in).
    pub account_id: Option<String>,
    /// Their e-mail at the time.
    pub email: String,
    /// Their company at the time.
    pub company: String,
    /// The document asked for (as given).
    pub document_id: String,
    /// Its title (empty when no such document is on the portal).
    pub document_title: String,
    /// `served`, or why it was refused (`no-nda`, `old-nda`, `no-grant`, …).
    pub outcome: String,
    /// From where.
    pub ip: String,
    /// Browser.
    pub user_agent: String,
    /// SHA-256 of the stamped file served (empty when refused).
    pub sha256: String,
}

/// Appends to the download log.
pub async fn insert_download(tx: &mut Tx, org: OrgId, d: &Download) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_downloads (id, org_id, at, account_id, email, company, document_id, document_title, outcome, ip, user_agent, sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&d.id)
    .bind(org.to_string())
    .bind(d.at.as_micros())
    .bind(&d.account_id)
    .bind(&d.email)
    .bind(&d.company)
    .bind(&d.document_id)
    .bind(&d.document_title)
    .bind(&d.outcome)
    .bind(&d.ip)
    .bind(&d.user_agent)
    .bind(&d.sha256)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Which downloads to list.
#[derive(Debug, Clone, Default)]
pub struct DownloadFilter {
    /// From (inclusive).
    pub from: Option<Timestamp>,
    /// Until (exclusive).
    pub until: Option<Timestamp>,
    /// Of this account.
    pub account: Option<String>,
    /// Of this document.
    pub document: Option<String>,
    /// With this outcome (`served`, or `refused` for every refusal).
    pub outcome: Option<String>,
    /// At most this many (newest first).
    pub limit: i64,
}

type DownloadRow = (
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// The download log, newest first.
pub async fn downloads(
    store: &Store,
    org: OrgId,
    f: &DownloadFilter,
) -> StoreResult<Vec<Download>> {
    let outcome = f.outcome.clone().unwrap_or_default();
    let rows: Vec<DownloadRow> = sqlx::query_as(
        "SELECT id, at, account_id, email, company, document_id, document_title, outcome, ip, user_agent, sha256 \
         FROM portal_downloads WHERE org_id = $1 AND at >= $2 AND at < $3 \
         AND ($4 = '' OR account_id = $4) AND ($5 = '' OR document_id = $5) \
         AND ($6 = '' OR ($6 = 'refused' AND outcome <> 'served') OR outcome = $6) \
         ORDER BY at DESC, id DESC LIMIT $7",
    )
    .bind(org.to_string())
    .bind(f.from.map_or(i64::MIN, Timestamp::as_micros))
    .bind(f.until.map_or(i64::MAX, Timestamp::as_micros))
    .bind(f.account.clone().unwrap_or_default())
    .bind(f.document.clone().unwrap_or_default())
    .bind(outcome)
    .bind(f.limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Download {
            id: r.0,
            at: Timestamp::from_micros(r.1),
            account_id: r.2,
            email: r.3,
            company: r.4,
            document_id: r.5,
            document_title: r.6,
            outcome: r.7,
            ip: r.8,
            user_agent: r.9,
            sha256: r.10,
        })
        .collect())
}
