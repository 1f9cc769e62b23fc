//! The auditor workspace of an engagement: requests and the evidence answering them,
//! findings, comments, and the organisation's sample-size table.

use attest_domain::sampling::SampleTable;
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;
use time::Date;

use crate::evidence::parse_date;
use crate::user::parse_id;
use crate::{Store, StoreError, StoreResult, Tx};

/// One item of the auditor's request list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRequest {
    /// Id (UUID).
    pub id: String,
    /// The engagement.
    pub engagement_id: String,
    /// `REQ-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// What is asked for.
    pub title: String,
    /// Details.
    pub description: String,
    /// The control it is about.
    pub control_id: Option<String>,
    /// Who answers it.
    pub assignee_id: Option<UserId>,
    /// When it is due.
    pub due_on: Option<Date>,
    /// `open`, `submitted`, `accepted` or `returned`.
    pub status: String,
    /// Who asked (actor text).
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

type RequestRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    i64,
    i64,
);

const REQUEST_COLUMNS: &str = "id, engagement_id, ref, title, description, control_id, \
    assignee_id, due_on, status, created_by, created_at, updated_at";

fn request_row(r: RequestRow) -> StoreResult<AuditRequest> {
    Ok(AuditRequest {
        id: r.0,
        engagement_id: r.1,
        reference: r.2,
        title: r.3,
        description: r.4,
        control_id: r.5,
        assignee_id: r.6.as_deref().map(parse_id).transpose()?,
        due_on: r.7.as_deref().map(parse_date).transpose()?,
        status: r.8,
        created_by: r.9,
        created_at: Timestamp::from_micros(r.10),
        updated_at: Timestamp::from_micros(r.11),
    })
}

/// The next free request reference (`REQ-001`).
pub async fn next_request_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "audit_requests", "REQ", org).await
}

/// Inserts or replaces a request (by id).
pub async fn put_request(tx: &mut Tx, org: OrgId, r: &AuditRequest) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_requests (org_id, {REQUEST_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, \
         control_id = excluded.control_id, assignee_id = excluded.assignee_id, \
         due_on = excluded.due_on, status = excluded.status, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&r.id)
    .bind(&r.engagement_id)
    .bind(&r.reference)
    .bind(&r.title)
    .bind(&r.description)
    .bind(r.control_id.as_deref())
    .bind(r.assignee_id.map(|u| u.to_string()))
    .bind(r.due_on.map(|d| d.to_string()))
    .bind(&r.status)
    .bind(&r.created_by)
    .bind(r.created_at.as_micros())
    .bind(r.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The requests of an engagement, oldest first.
pub async fn requests_of(
    store: &Store,
    org: OrgId,
    engagement: &str,
) -> StoreResult<Vec<AuditRequest>> {
    let rows: Vec<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM audit_requests WHERE org_id = $1 AND engagement_id = $2 \
         ORDER BY created_at, id"
    )))
    .bind(org.to_string())
    .bind(engagement)
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(request_row).collect()
}

/// The requests assigned to a person, across engagements, oldest first.
pub async fn requests_for(
    store: &Store,
    org: OrgId,
    user: UserId,
) -> StoreResult<Vec<AuditRequest>> {
    let rows: Vec<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM audit_requests WHERE org_id = $1 AND assignee_id = $2 \
         ORDER BY created_at, id"
    )))
    .bind(org.to_string())
    .bind(user.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(request_row).collect()
}

/// One request.
pub async fn request(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<AuditRequest>> {
    let row: Option<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM audit_requests WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.map(request_row).transpose()
}

/// One request, locked for the rest of the transaction.
pub async fn lock_request(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<AuditRequest>> {
    crate::lock_row(tx, "audit_requests", org, id).await?;
    let row: Option<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM audit_requests WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(request_row).transpose()
}

/// Attaches an evidence item to a request (once).
pub async fn attach_evidence(
    tx: &mut Tx,
    org: OrgId,
    request: &str,
    evidence: &str,
    by: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO request_evidence (request_id, evidence_id, org_id, added_by, added_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, evidence_id) DO NOTHING",
    )
    .bind(request)
    .bind(evidence)
    .bind(org.to_string())
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// (request id, evidence id) of every answer in an engagement.
pub async fn evidence_of(
    store: &Store,
    org: OrgId,
    engagement: &str,
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT re.request_id, re.evidence_id FROM request_evidence re \
         JOIN audit_requests r ON r.id = re.request_id \
         WHERE re.org_id = $1 AND r.engagement_id = $2 ORDER BY re.added_at, re.evidence_id",
    )
    .bind(org.to_string())
    .bind(engagement)
    .fetch_all(store.pool())
    .await?)
}

/// The reference of an open engagement one of whose requests names any version of this
/// evidence lineage (such evidence is kept until the engagement ends).
pub async fn open_request_naming(
    tx: &mut Tx,
    org: OrgId,
    lineage: &str,
) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT g.ref FROM request_evidence re \
         JOIN evidence e ON e.id = re.evidence_id \
         JOIN audit_requests r ON r.id = re.request_id \
         JOIN engagements g ON g.id = r.engagement_id \
         WHERE re.org_id = $1 AND e.lineage_id = $2 \
         AND g.status IN ('planning', 'fieldwork', 'reporting') ORDER BY g.ref LIMIT 1",
    )
    .bind(org.to_string())
    .bind(lineage)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

/// A finding of an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Id (UUID).
    pub id: String,
    /// The engagement.
    pub engagement_id: String,
    /// `F-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// `exception` (SOC), `major`, `minor` or `observation` (ISO).
    pub severity: String,
    /// The control concerned.
    pub control_id: Option<String>,
    /// The control test it came from.
    pub test_id: Option<String>,
    /// The exception items of that test (JSON array).
    pub items: String,
    /// The nonconformity raised for it (ISO).
    pub nonconformity_id: Option<String>,
    /// Management's response.
    pub response: String,
    /// Who raised it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

type FindingRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    i64,
    i64,
);

const FINDING_COLUMNS: &str = "id, engagement_id, ref, title, description, severity, control_id, \
    test_id, items, nonconformity_id, response, created_by, created_at, updated_at";

fn finding(r: FindingRow) -> Finding {
    Finding {
        id: r.0,
        engagement_id: r.1,
        reference: r.2,
        title: r.3,
        description: r.4,
        severity: r.5,
        control_id: r.6,
        test_id: r.7,
        items: r.8,
        nonconformity_id: r.9,
        response: r.10,
        created_by: r.11,
        created_at: Timestamp::from_micros(r.12),
        updated_at: Timestamp::from_micros(r.13),
    }
}

/// The next free finding reference (`F-001`).
pub async fn next_finding_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "engagement_findings", "F", org).await
}

/// Inserts or replaces a finding (by id).
pub async fn put_finding(tx: &mut Tx, org: OrgId, f: &Finding) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO engagement_findings (org_id, {FINDING_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description, \
         severity = excluded.severity, items = excluded.items, \
         nonconformity_id = excluded.nonconformity_id, response = excluded.response, \
         updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&f.id)
    .bind(&f.engagement_id)
    .bind(&f.reference)
    .bind(&f.title)
    .bind(&f.description)
    .bind(&f.severity)
    .bind(f.control_id.as_deref())
    .bind(f.test_id.as_deref())
    .bind(&f.items)
    .bind(f.nonconformity_id.as_deref())
    .bind(&f.response)
    .bind(&f.created_by)
    .bind(f.created_at.as_micros())
    .bind(f.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The findings of an engagement, oldest first (read in a transaction when `tx` is given).
pub async fn findings_of(
    store: &Store,
    tx: Option<&mut Tx>,
    org: OrgId,
    engagement: &str,
) -> StoreResult<Vec<Finding>> {
    let sql = format!(
        "SELECT {FINDING_COLUMNS} FROM engagement_findings WHERE org_id = $1 AND engagement_id = $2 \
         ORDER BY created_at, id"
    );
    let q = sqlx::query_as::<_, FindingRow>(sqlx::AssertSqlSafe(sql))
        .bind(org.to_string())
        .bind(engagement);
    let rows = match tx {
        Some(tx) => q.fetch_all(&mut **tx).await?,
        None => q.fetch_all(store.pool()).await?,
    };
    Ok(rows.into_iter().map(finding).collect())
}

/// A comment in an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// Id (UUID).
    pub id: String,
    /// The engagement.
    pub engagement_id: String,
    /// `engagement`, `request`, `test` or `finding`.
    pub subject_kind: String,
    /// The id of what it is about.
    pub subject_id: String,
    /// Who wrote it (actor text).
    pub author: String,
    /// Their name when they wrote it.
    pub author_name: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: Timestamp,
}

type CommentRow = (String, String, String, String, String, String, String, i64);

/// Stores a comment.
pub async fn insert_comment(tx: &mut Tx, org: OrgId, c: &Comment) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO engagement_comments (id, org_id, engagement_id, subject_kind, subject_id, \
         author, author_name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(org.to_string())
    .bind(&c.engagement_id)
    .bind(&c.subject_kind)
    .bind(&c.subject_id)
    .bind(&c.author)
    .bind(&c.author_name)
    .bind(&c.body)
    .bind(c.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The comments of an engagement, oldest first.
pub async fn comments_of(store: &Store, org: OrgId, engagement: &str) -> StoreResult<Vec<Comment>> {
    let rows: Vec<CommentRow> =
        sqlx::query_as(
            "SELECT id, engagement_id, subject_kind, subject_id, author, author_name, body, created_at \
             FROM engagement_comments WHERE org_id = $1 AND engagement_id = $2 ORDER BY created_at, id",
        )
        .bind(org.to_string())
        .bind(engagement)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Comment {
            id: r.0,
            engagement_id: r.1,
            subject_kind: r.2,
            subject_id: r.3,
            author: r.4,
            author_name: r.5,
            body: r.6,
            created_at: Timestamp::from_micros(r.7),
        })
        .collect())
}

/// The organisation's sample-size table (the documented default when none is set).
pub async fn sample_table(
    store: &Store,
    tx: Option<&mut Tx>,
    org: OrgId,
) -> StoreResult<SampleTable> {
    let q = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64)>(
        "SELECT annual, quarterly, monthly, weekly, daily, many_per_day FROM sample_tables WHERE org_id = $1",
    )
    .bind(org.to_string());
    let row = match tx {
        Some(tx) => q.fetch_optional(&mut **tx).await?,
        None => q.fetch_optional(store.pool()).await?,
    };
    let Some(r) = row else {
        return Ok(SampleTable::default());
    };
    let n = |v: i64| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("sample size {v}")));
    Ok(SampleTable {
        annual: n(r.0)?,
        quarterly: n(r.1)?,
        monthly: n(r.2)?,
        weekly: n(r.3)?,
        daily: n(r.4)?,
        many_per_day: n(r.5)?,
    })
}

/// Sets the organisation's sample-size table.
pub async fn set_sample_table(
    tx: &mut Tx,
    org: OrgId,
    t: &SampleTable,
    by: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sample_tables (org_id, annual, quarterly, monthly, weekly, daily, many_per_day, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (org_id) DO UPDATE SET \
         annual = excluded.annual, quarterly = excluded.quarterly, monthly = excluded.monthly, \
         weekly = excluded.weekly, daily = excluded.daily, many_per_day = excluded.many_per_day, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(i64::from(t.annual))
    .bind(i64::from(t.quarterly))
    .bind(i64::from(t.monthly))
    .bind(i64::from(t.weekly))
    .bind(i64::from(t.daily))
    .bind(i64::from(t.many_per_day))
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A document an engagement issues (a file in the blob store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Id (UUID).
    pub id: String,
    /// The engagement.
    pub engagement_id: String,
    /// `report`, `bridge-letter`, `certificate`, `soa`, `assessment-report` or
    /// `pentest-summary`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// `en` or `ko`.
    pub language: String,
    /// The file's SHA-256 (hex).
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// Sniffed content type.
    pub content_type: String,
    /// Sanitised file name.
    pub file_name: String,
    /// Who added it.
    pub uploaded_by: String,
    /// When.
    pub created_at: Timestamp,
    /// When it was withdrawn (superseded or pulled).
    pub withdrawn_at: Option<Timestamp>,
    /// When it was published on the trust portal (none: not published).
    pub published_at: Option<Timestamp>,
    /// The bridge letter it is (a `bridge-letter` typeset by Attest; none otherwise).
    pub letter_id: Option<String>,
}

type DocumentRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// Stores a document.
pub async fn insert_document(tx: &mut Tx, org: OrgId, d: &Document) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO engagement_documents (id, org_id, engagement_id, kind, title, language, sha256, \
         size, content_type, file_name, uploaded_by, created_at, letter_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&d.id)
    .bind(org.to_string())
    .bind(&d.engagement_id)
    .bind(&d.kind)
    .bind(&d.title)
    .bind(&d.language)
    .bind(&d.sha256)
    .bind(d.size)
    .bind(&d.content_type)
    .bind(&d.file_name)
    .bind(&d.uploaded_by)
    .bind(d.created_at.as_micros())
    .bind(&d.letter_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Withdraws a document; false when there is no such live document.
pub async fn withdraw_document(
    tx: &mut Tx,
    org: OrgId,
    id: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE engagement_documents SET withdrawn_at = $3 WHERE org_id = $1 AND id = $2 AND withdrawn_at IS NULL",
    )
    .bind(org.to_string())
    .bind(id)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The documents of an engagement (every engagement when none), oldest first.
pub async fn documents(
    store: &Store,
    org: OrgId,
    engagement: Option<&str>,
) -> StoreResult<Vec<Document>> {
    let rows: Vec<DocumentRow> = sqlx::query_as(
        "SELECT id, engagement_id, kind, title, language, sha256, size, content_type, file_name, \
         uploaded_by, created_at, withdrawn_at, published_at, letter_id FROM engagement_documents \
         WHERE org_id = $1 AND ($2 IS NULL OR engagement_id = $2) ORDER BY created_at, id",
    )
    .bind(org.to_string())
    .bind(engagement)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Document {
            id: r.0,
            engagement_id: r.1,
            kind: r.2,
            title: r.3,
            language: r.4,
            sha256: r.5,
            size: r.6,
            content_type: r.7,
            file_name: r.8,
            uploaded_by: r.9,
            created_at: Timestamp::from_micros(r.10),
            withdrawn_at: r.11.map(Timestamp::from_micros),
            published_at: r.12.map(Timestamp::from_micros),
            letter_id: r.13,
        })
        .collect())
}

/// Publishes a live document on the trust portal, or takes it off; false when there is no
/// such live document.
pub async fn publish_document(
    tx: &mut Tx,
    org: OrgId,
    id: &str,
    at: Option<Timestamp>,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "UPDATE engagement_documents SET published_at = $3 WHERE org_id = $1 AND id = $2 AND withdrawn_at IS NULL",
    )
    .bind(org.to_string())
    .bind(id)
    .bind(at.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
