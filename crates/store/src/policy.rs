//! Policies and procedures: the documents, their approvers, versions, approvals,
//! acknowledgements and reminders.

use attest_domain::policy::{DocumentKind, VersionState};
use attest_domain::{OrgId, Timestamp, UserId};
use time::Date;

use crate::evidence::parse_date;
use crate::user::parse_id;
use crate::{Store, StoreError, StoreResult, Tx};

/// A document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Id (UUID).
    pub id: String,
    /// `POL-001`, numbered per organisation.
    pub reference: String,
    /// Title, unique in the organisation.
    pub title: String,
    /// Policy, procedure, standard or plan.
    pub kind: DocumentKind,
    /// Who keeps it.
    pub owner_id: Option<UserId>,
    /// Review cadence in months.
    pub review_months: u32,
    /// Whether staff must acknowledge each published version.
    pub ack_required: bool,
    /// The last review that changed nothing.
    pub last_reviewed_on: Option<Date>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A version's text and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The document.
    pub policy_id: String,
    /// 1, 2, …
    pub version: i64,
    /// Draft, published or superseded.
    pub state: VersionState,
    /// The Markdown text.
    pub body: String,
    /// Its SHA-256.
    pub body_hash: String,
    /// What changed.
    pub note: String,
    /// Who wrote it.
    pub created_by: String,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Last edit (or publication).
    pub updated_at: Timestamp,
    /// When it was published.
    pub published_on: Option<Date>,
    /// By whom.
    pub published_by: Option<String>,
}

/// An approval of one version's exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The version.
    pub version: i64,
    /// The approver.
    pub user_id: UserId,
    /// Their name at the time.
    pub user_name: String,
    /// The text approved.
    pub body_hash: String,
    /// When.
    pub approved_at: Timestamp,
}

type PolicyRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
);

const POLICY_COLUMNS: &str = "id, ref, title, kind, owner_id, review_months, ack_required, \
    last_reviewed_on, created_at, updated_at";

fn policy(r: PolicyRow) -> StoreResult<Policy> {
    Ok(Policy {
        id: r.0,
        reference: r.1,
        title: r.2,
        kind: r
            .3
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("policy kind: {e}")))?,
        owner_id: r.4.as_deref().map(parse_id).transpose()?,
        review_months: u32::try_from(r.5)
            .map_err(|_| StoreError::Corrupt(format!("review months {}", r.5)))?,
        ack_required: r.6 != 0,
        last_reviewed_on: r.7.as_deref().map(parse_date).transpose()?,
        created_at: Timestamp::from_micros(r.8),
        updated_at: Timestamp::from_micros(r.9),
    })
}

/// The next free reference (`POL-007`); a clash with a concurrent insert fails on the
/// unique key and is reported.
pub async fn next_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "policies", "POL", org).await
}

/// Inserts or updates a document (by id).
pub async fn put(tx: &mut Tx, org: OrgId, p: &Policy) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO policies (org_id, {POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, kind = excluded.kind, \
         owner_id = excluded.owner_id, review_months = excluded.review_months, \
         ack_required = excluded.ack_required, last_reviewed_on = excluded.last_reviewed_on, \
         updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&p.id)
    .bind(&p.reference)
    .bind(&p.title)
    .bind(p.kind.as_str())
    .bind(p.owner_id.map(|u| u.to_string()))
    .bind(i64::from(p.review_months))
    .bind(i64::from(p.ack_required))
    .bind(p.last_reviewed_on.map(|d| d.to_string()))
    .bind(p.created_at.as_micros())
    .bind(p.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { field } if field.contains("title") => StoreError::Unique {
            field: "title".into(),
        },
        StoreError::Unique { .. } => StoreError::Unique { field: "ref".into() },
        other => other,
    })?;
    Ok(())
}

/// One document, read in a transaction after taking its row lock (a no-op update), so
/// that two changes to the same document are serialised in the database on every backend.
pub async fn lock(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Policy>> {
    crate::lock_row(tx, "policies", org, id).await?;
    let row: Option<PolicyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(policy).transpose()
}

/// One document.
pub async fn get(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Policy>> {
    let row: Option<PolicyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.map(policy).transpose()
}

/// Every document of the organisation, by reference.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<Policy>> {
    let rows: Vec<PolicyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE org_id = $1 ORDER BY ref"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(policy).collect()
}

/// Replaces the named approvers.
pub async fn set_approvers(
    tx: &mut Tx,
    org: OrgId,
    policy: &str,
    users: &[UserId],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM policy_approvers WHERE org_id = $1 AND policy_id = $2")
        .bind(org.to_string())
        .bind(policy)
        .execute(&mut **tx)
        .await?;
    for u in users {
        sqlx::query(
            "INSERT INTO policy_approvers (org_id, policy_id, user_id) VALUES ($1, $2, $3)",
        )
        .bind(org.to_string())
        .bind(policy)
        .bind(u.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Every (document, approver) pair of the organisation.
pub async fn all_approvers(store: &Store, org: OrgId) -> StoreResult<Vec<(String, UserId)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT policy_id, user_id FROM policy_approvers WHERE org_id = $1 ORDER BY policy_id, user_id",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(p, u)| Ok((p, parse_id(&u)?)))
        .collect()
}

type VersionRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

const VERSION_COLUMNS: &str = "policy_id, version, state, body, body_hash, note, created_by, \
    created_at, updated_at, published_on, published_by";

fn version(r: VersionRow) -> StoreResult<Version> {
    Ok(Version {
        policy_id: r.0,
        version: r.1,
        state: r
            .2
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("policy version state: {e}")))?,
        body: r.3,
        body_hash: r.4,
        note: r.5,
        created_by: r.6,
        created_at: Timestamp::from_micros(r.7),
        updated_at: Timestamp::from_micros(r.8),
        published_on: r.9.as_deref().map(parse_date).transpose()?,
        published_by: r.10,
    })
}

/// Inserts a new version.
pub async fn insert_version(tx: &mut Tx, org: OrgId, v: &Version) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO policy_versions (org_id, {VERSION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(org.to_string())
    .bind(&v.policy_id)
    .bind(v.version)
    .bind(v.state.as_str())
    .bind(&v.body)
    .bind(&v.body_hash)
    .bind(&v.note)
    .bind(&v.created_by)
    .bind(v.created_at.as_micros())
    .bind(v.updated_at.as_micros())
    .bind(v.published_on.map(|d| d.to_string()))
    .bind(&v.published_by)
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique {
            field: "version".into(),
        },
        other => other,
    })?;
    Ok(())
}

/// Changes a draft's text, hash, note and update time (from `v`); false when the version
/// is no longer a draft.
pub async fn update_draft(tx: &mut Tx, org: OrgId, v: &Version) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE policy_versions SET body = $4, body_hash = $5, note = $6, updated_at = $7 \
         WHERE org_id = $1 AND policy_id = $2 AND version = $3 AND state = 'draft'",
    )
    .bind(org.to_string())
    .bind(&v.policy_id)
    .bind(v.version)
    .bind(&v.body)
    .bind(&v.body_hash)
    .bind(&v.note)
    .bind(v.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Publishes draft `number` and supersedes the version it replaces; false when it is no
/// longer a draft.
pub async fn publish(
    tx: &mut Tx,
    org: OrgId,
    policy: &str,
    number: i64,
    on: Date,
    by: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    sqlx::query(
        "UPDATE policy_versions SET state = 'superseded' \
         WHERE org_id = $1 AND policy_id = $2 AND state = 'published'",
    )
    .bind(org.to_string())
    .bind(policy)
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query(
        "UPDATE policy_versions SET state = 'published', published_on = $4, published_by = $5, updated_at = $6 \
         WHERE org_id = $1 AND policy_id = $2 AND version = $3 AND state = 'draft'",
    )
    .bind(org.to_string())
    .bind(policy)
    .bind(number)
    .bind(on.to_string())
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every version of a document, newest first.
pub async fn versions(store: &Store, org: OrgId, policy: &str) -> StoreResult<Vec<Version>> {
    let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {VERSION_COLUMNS} FROM policy_versions WHERE org_id = $1 AND policy_id = $2 \
         ORDER BY version DESC"
    )))
    .bind(org.to_string())
    .bind(policy)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(version).collect()
}

/// The versions of a document read in a transaction, newest first.
pub async fn versions_in(tx: &mut Tx, org: OrgId, policy: &str) -> StoreResult<Vec<Version>> {
    let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {VERSION_COLUMNS} FROM policy_versions WHERE org_id = $1 AND policy_id = $2 \
         ORDER BY version DESC"
    )))
    .bind(org.to_string())
    .bind(policy)
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(version).collect()
}

/// The latest and the published version of every document, without their text:
/// (policy, version, state, published on).
pub async fn version_states(
    store: &Store,
    org: OrgId,
) -> StoreResult<Vec<(String, i64, VersionState, Option<Date>)>> {
    let rows: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT policy_id, version, state, published_on FROM policy_versions \
         WHERE org_id = $1 AND state <> 'superseded' ORDER BY policy_id, version",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(p, v, s, d)| {
            Ok((
                p,
                v,
                s.parse()
                    .map_err(|e| StoreError::Corrupt(format!("policy version state: {e}")))?,
                d.as_deref().map(parse_date).transpose()?,
            ))
        })
        .collect()
}

/// Records an approval of a version's exact text (again is a no-op).
pub async fn approve(tx: &mut Tx, org: OrgId, policy: &str, a: &Approval) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policy_approvals (org_id, policy_id, version, user_id, user_name, body_hash, approved_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (policy_id, version, user_id, body_hash) DO NOTHING",
    )
    .bind(org.to_string())
    .bind(policy)
    .bind(a.version)
    .bind(a.user_id.to_string())
    .bind(&a.user_name)
    .bind(&a.body_hash)
    .bind(a.approved_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type ApprovalRow = (i64, String, String, String, i64);

/// Every approval given to a document's versions, oldest first.
pub async fn approvals(store: &Store, org: OrgId, policy: &str) -> StoreResult<Vec<Approval>> {
    let rows: Vec<ApprovalRow> = sqlx::query_as(
        "SELECT version, user_id, user_name, body_hash, approved_at FROM policy_approvals \
         WHERE org_id = $1 AND policy_id = $2 ORDER BY approved_at, user_id",
    )
    .bind(org.to_string())
    .bind(policy)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Approval {
                version: r.0,
                user_id: parse_id(&r.1)?,
                user_name: r.2,
                body_hash: r.3,
                approved_at: Timestamp::from_micros(r.4),
            })
        })
        .collect()
}

/// The approvers who approved a version's current text, read in a transaction.
pub async fn approved_by_in(
    tx: &mut Tx,
    org: OrgId,
    policy: &str,
    number: i64,
    hash: &str,
) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT user_id FROM policy_approvals \
         WHERE org_id = $1 AND policy_id = $2 AND version = $3 AND body_hash = $4",
    )
    .bind(org.to_string())
    .bind(policy)
    .bind(number)
    .bind(hash)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Records that a member read a published version (again is a no-op); true when new.
pub async fn acknowledge(
    tx: &mut Tx,
    org: OrgId,
    policy: &str,
    number: i64,
    user: UserId,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO policy_acks (org_id, policy_id, version, user_id, acked_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (policy_id, version, user_id) DO NOTHING",
    )
    .bind(org.to_string())
    .bind(policy)
    .bind(number)
    .bind(user.to_string())
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every acknowledgement of the organisation: (policy, version, user, when).
pub async fn acks(store: &Store, org: OrgId) -> StoreResult<Vec<(String, i64, UserId, Timestamp)>> {
    let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT policy_id, version, user_id, acked_at FROM policy_acks WHERE org_id = $1 \
         ORDER BY policy_id, version, acked_at",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(p, v, u, t)| Ok((p, v, parse_id(&u)?, Timestamp::from_micros(t))))
        .collect()
}

/// Records a reminder sent about a published version.
pub async fn add_reminder(
    tx: &mut Tx,
    org: OrgId,
    policy: &str,
    number: i64,
    by: &str,
    recipients: usize,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policy_reminders (org_id, policy_id, version, sent_at, sent_by, recipients) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org.to_string())
    .bind(policy)
    .bind(number)
    .bind(at.as_micros())
    .bind(by)
    .bind(recipients as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The latest reminder about each published version: (policy, version, when, by).
pub async fn last_reminders(
    store: &Store,
    org: OrgId,
) -> StoreResult<Vec<(String, i64, Timestamp, String)>> {
    let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT policy_id, version, sent_at, sent_by FROM policy_reminders WHERE org_id = $1 \
         ORDER BY policy_id, version, sent_at",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(p, v, t, b)| (p, v, Timestamp::from_micros(t), b))
        .collect())
}
