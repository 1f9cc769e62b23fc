//! Audit engagements and bridge letters.

use attest_domain::engagement::{EngagementKind, EngagementStatus, Opinion, Period, TrustCategory};
use attest_domain::{OrgId, Timestamp};
use time::Date;

use crate::evidence::parse_date;
use crate::{Store, StoreError, StoreResult, Tx};

/// An engagement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Engagement {
    /// Id (UUID).
    pub id: String,
    /// `ENG-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Kind.
    pub kind: EngagementKind,
    /// Title.
    pub title: String,
    /// Audit firm (or certification body).
    pub firm: String,
    /// Lead auditor.
    pub lead_auditor: String,
    /// As of a date, or a period.
    pub period: Period,
    /// Services in scope (ids).
    pub services: Vec<String>,
    /// Frameworks in scope (ids).
    pub frameworks: Vec<String>,
    /// SOC 2 trust services categories.
    pub categories: Vec<TrustCategory>,
    /// Where it stands.
    pub status: EngagementStatus,
    /// The opinion (SOC).
    pub opinion: Option<Opinion>,
    /// The exceptions behind a modified opinion, or notes.
    pub opinion_notes: String,
    /// For a SOC 3: the SOC 2 Type 2 it rests on.
    pub basis_id: Option<String>,
    /// When the report was issued.
    pub issued_on: Option<Date>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

fn list_of(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

fn corrupt(what: &str) -> impl Fn(String) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("engagement {what}: {e}"))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    #[sqlx(rename = "ref")]
    reference: String,
    kind: String,
    title: String,
    firm: String,
    lead_auditor: String,
    as_of: i64,
    period_start: String,
    period_end: String,
    services: String,
    frameworks: String,
    categories: String,
    status: String,
    opinion: Option<String>,
    opinion_notes: String,
    basis_id: Option<String>,
    issued_on: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, ref, kind, title, firm, lead_auditor, as_of, period_start, period_end, \
    services, frameworks, categories, status, opinion, opinion_notes, basis_id, issued_on, \
    created_at, updated_at";

fn engagement(r: Row) -> StoreResult<Engagement> {
    let start = parse_date(&r.period_start)?;
    let end = parse_date(&r.period_end)?;
    Ok(Engagement {
        id: r.id,
        reference: r.reference,
        kind: r
            .kind
            .parse()
            .map_err(|e| corrupt("kind")(format!("{e}")))?,
        title: r.title,
        firm: r.firm,
        lead_auditor: r.lead_auditor,
        period: if r.as_of != 0 {
            Period::AsOf { date: start }
        } else {
            Period::Range { start, end }
        },
        services: list_of(&r.services),
        frameworks: list_of(&r.frameworks),
        categories: list_of(&r.categories)
            .iter()
            .map(|c| c.parse().map_err(|e| corrupt("category")(format!("{e}"))))
            .collect::<StoreResult<_>>()?,
        status: r
            .status
            .parse()
            .map_err(|e| corrupt("status")(format!("{e}")))?,
        opinion: r
            .opinion
            .as_deref()
            .map(|o| o.parse().map_err(|e| corrupt("opinion")(format!("{e}"))))
            .transpose()?,
        opinion_notes: r.opinion_notes,
        basis_id: r.basis_id,
        issued_on: r.issued_on.as_deref().map(parse_date).transpose()?,
        created_at: Timestamp::from_micros(r.created_at),
        updated_at: Timestamp::from_micros(r.updated_at),
    })
}

/// The next free reference (`ENG-004`).
pub async fn next_ref(tx: &mut Tx, org: OrgId) -> StoreResult<String> {
    crate::next_ref(tx, "engagements", "ENG", org).await
}

/// Inserts or replaces an engagement (by id).
pub async fn put(tx: &mut Tx, org: OrgId, e: &Engagement) -> StoreResult<()> {
    let range = e.period.range();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO engagements (org_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, firm = excluded.firm, \
         lead_auditor = excluded.lead_auditor, as_of = excluded.as_of, \
         period_start = excluded.period_start, period_end = excluded.period_end, \
         services = excluded.services, frameworks = excluded.frameworks, \
         categories = excluded.categories, status = excluded.status, opinion = excluded.opinion, \
         opinion_notes = excluded.opinion_notes, basis_id = excluded.basis_id, \
         issued_on = excluded.issued_on, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&e.id)
    .bind(&e.reference)
    .bind(e.kind.as_str())
    .bind(&e.title)
    .bind(&e.firm)
    .bind(&e.lead_auditor)
    .bind(i64::from(matches!(e.period, Period::AsOf { .. })))
    .bind(range.start.to_string())
    .bind(range.end.to_string())
    .bind(e.services.join(","))
    .bind(e.frameworks.join(","))
    .bind(
        e.categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(","),
    )
    .bind(e.status.as_str())
    .bind(e.opinion.map(|o| o.as_str()))
    .bind(&e.opinion_notes)
    .bind(&e.basis_id)
    .bind(e.issued_on.map(|d| d.to_string()))
    .bind(e.created_at.as_micros())
    .bind(e.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|err| match StoreError::from(err) {
        StoreError::Unique { .. } => StoreError::Unique { field: "ref".into() },
        other => other,
    })?;
    Ok(())
}

/// One engagement after taking its row lock.
pub async fn lock(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Engagement>> {
    crate::lock_row(tx, "engagements", org, id).await?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM engagements WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(engagement).transpose()
}

/// Every engagement, latest period first.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<Engagement>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM engagements WHERE org_id = $1 ORDER BY period_end DESC, ref DESC"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(engagement).collect()
}

/// Every engagement read in a transaction.
pub async fn list_in(tx: &mut Tx, org: OrgId) -> StoreResult<Vec<Engagement>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM engagements WHERE org_id = $1 ORDER BY period_end DESC, ref DESC"
    )))
    .bind(org.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter().map(engagement).collect()
}

/// Whether an open engagement's period shares a day with `from..=until` (evidence in it
/// must be kept).
pub async fn open_overlapping(
    tx: &mut Tx,
    org: OrgId,
    from: Date,
    until: Date,
) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT ref FROM engagements WHERE org_id = $1 AND status NOT IN ('issued', 'withdrawn') \
         AND period_start <= $3 AND period_end >= $2 ORDER BY ref LIMIT 1",
    )
    .bind(org.to_string())
    .bind(from.to_string())
    .bind(until.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.0))
}

/// A bridge letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeLetter {
    /// Id (UUID).
    pub id: String,
    /// The report it bridges from.
    pub engagement_id: String,
    /// First day covered (the day after the report's period).
    pub starts_on: Date,
    /// Last day covered.
    pub ends_on: Date,
    /// Changes disclosed (empty: no material change).
    pub changes: String,
    /// Who signs for management.
    pub signer: String,
    /// `en` or `ko`.
    pub language: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

type LetterRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
);

fn letter(r: LetterRow) -> StoreResult<BridgeLetter> {
    Ok(BridgeLetter {
        id: r.0,
        engagement_id: r.1,
        starts_on: parse_date(&r.2)?,
        ends_on: parse_date(&r.3)?,
        changes: r.4,
        signer: r.5,
        language: r.6,
        created_by: r.7,
        created_at: Timestamp::from_micros(r.8),
    })
}

/// Inserts a bridge letter.
pub async fn insert_letter(tx: &mut Tx, org: OrgId, b: &BridgeLetter) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO bridge_letters (id, org_id, engagement_id, starts_on, ends_on, changes, signer, language, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&b.id)
    .bind(org.to_string())
    .bind(&b.engagement_id)
    .bind(b.starts_on.to_string())
    .bind(b.ends_on.to_string())
    .bind(&b.changes)
    .bind(&b.signer)
    .bind(&b.language)
    .bind(&b.created_by)
    .bind(b.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every bridge letter of the organisation, latest first.
pub async fn letters(store: &Store, org: OrgId) -> StoreResult<Vec<BridgeLetter>> {
    let rows: Vec<LetterRow> = sqlx::query_as(
        "SELECT id, engagement_id, starts_on, ends_on, changes, signer, language, created_by, created_at \
         FROM bridge_letters WHERE org_id = $1 ORDER BY ends_on DESC, id DESC",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter().map(letter).collect()
}

/// An ISO certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Certificate {
    /// Id (UUID).
    pub id: String,
    /// The certificate number.
    pub number: String,
    /// The certification body.
    pub body: String,
    /// The standard and version (`iso27001-2022`).
    pub standard: String,
    /// The certified scope.
    pub scope: String,
    /// Issued.
    pub issued_on: Date,
    /// Expires.
    pub expires_on: Date,
    /// Recorded state.
    pub state: attest_domain::engagement::CertificateState,
    /// The audit that led to it.
    pub engagement_id: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

type CertRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
);

/// Inserts or replaces a certificate (by id); a number used twice is refused on `number`.
pub async fn put_certificate(tx: &mut Tx, org: OrgId, c: &Certificate) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO certificates (org_id, id, number, body, standard, scope, issued_on, expires_on, state, engagement_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(&c.id)
    .bind(&c.number)
    .bind(&c.body)
    .bind(&c.standard)
    .bind(&c.scope)
    .bind(c.issued_on.to_string())
    .bind(c.expires_on.to_string())
    .bind(c.state.as_str())
    .bind(&c.engagement_id)
    .bind(c.created_at.as_micros())
    .bind(c.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique {
            field: "number".into(),
        },
        other => other,
    })?;
    Ok(())
}

/// Every certificate, latest first.
pub async fn certificates(store: &Store, org: OrgId) -> StoreResult<Vec<Certificate>> {
    let rows: Vec<CertRow> = sqlx::query_as(
        "SELECT id, number, body, standard, scope, issued_on, expires_on, state, engagement_id, created_at, updated_at \
         FROM certificates WHERE org_id = $1 ORDER BY issued_on DESC, number",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Certificate {
                id: r.0,
                number: r.1,
                body: r.2,
                standard: r.3,
                scope: r.4,
                issued_on: parse_date(&r.5)?,
                expires_on: parse_date(&r.6)?,
                state: r
                    .7
                    .parse()
                    .map_err(|e| corrupt("certificate state")(format!("{e}")))?,
                engagement_id: r.8,
                created_at: Timestamp::from_micros(r.9),
                updated_at: Timestamp::from_micros(r.10),
            })
        })
        .collect()
}

/// Sets a SOC program's cadence (JSON).
pub async fn set_program(
    tx: &mut Tx,
    org: OrgId,
    family: &str,
    cadence: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO soc_programs (org_id, family, cadence, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, family) DO UPDATE SET cadence = excluded.cadence, updated_at = excluded.updated_at",
    )
    .bind(org.to_string())
    .bind(family)
    .bind(cadence)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every SOC program: (family, cadence JSON).
pub async fn programs(store: &Store, org: OrgId) -> StoreResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as(
            "SELECT family, cadence FROM soc_programs WHERE org_id = $1 ORDER BY family",
        )
        .bind(org.to_string())
        .fetch_all(store.pool())
        .await?,
    )
}

/// A subservice organisation of a SOC report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SubserviceOrg {
    /// Id (UUID).
    pub id: String,
    /// The report.
    pub engagement_id: String,
    /// Its name.
    pub name: String,
    /// `carve-out` or `inclusive`.
    pub method: String,
    /// What it provides.
    pub services: String,
    /// Its own report and period, as the report names them.
    pub their_report: String,
    /// Complementary subservice organisation controls, one per line.
    pub csocs: String,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// A complementary user entity control.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cuec {
    /// Id (UUID).
    pub id: String,
    /// The report.
    pub engagement_id: String,
    /// `CUEC-1`, numbered per report.
    #[serde(rename = "ref")]
    pub reference: String,
    /// What the customer must do.
    pub text: String,
    /// When it was recorded.
    pub created_at: Timestamp,
}

/// Records a subservice organisation.
pub async fn insert_subservice(tx: &mut Tx, org: OrgId, s: &SubserviceOrg) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO subservice_orgs (id, org_id, engagement_id, name, method, services, their_report, csocs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&s.id)
    .bind(org.to_string())
    .bind(&s.engagement_id)
    .bind(&s.name)
    .bind(&s.method)
    .bind(&s.services)
    .bind(&s.their_report)
    .bind(&s.csocs)
    .bind(s.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type SubRow = (String, String, String, String, String, String, String, i64);

/// The subservice organisations of a report.
pub async fn subservices(
    store: &Store,
    org: OrgId,
    engagement: &str,
) -> StoreResult<Vec<SubserviceOrg>> {
    let rows: Vec<SubRow> = sqlx::query_as(
        "SELECT id, engagement_id, name, method, services, their_report, csocs, created_at \
         FROM subservice_orgs WHERE org_id = $1 AND engagement_id = $2 ORDER BY name, id",
    )
    .bind(org.to_string())
    .bind(engagement)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SubserviceOrg {
            id: r.0,
            engagement_id: r.1,
            name: r.2,
            method: r.3,
            services: r.4,
            their_report: r.5,
            csocs: r.6,
            created_at: Timestamp::from_micros(r.7),
        })
        .collect())
}

/// Records a CUEC with the next number of its report.
pub async fn insert_cuec(
    tx: &mut Tx,
    org: OrgId,
    engagement: &str,
    text: &str,
    at: Timestamp,
) -> StoreResult<Cuec> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM cuecs WHERE org_id = $1 AND engagement_id = $2")
            .bind(org.to_string())
            .bind(engagement)
            .fetch_one(&mut **tx)
            .await?;
    let c = Cuec {
        id: uuid::Uuid::now_v7().to_string(),
        engagement_id: engagement.to_owned(),
        reference: format!("CUEC-{}", n + 1),
        text: text.to_owned(),
        created_at: at,
    };
    sqlx::query(
        "INSERT INTO cuecs (id, org_id, engagement_id, ref, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(org.to_string())
    .bind(&c.engagement_id)
    .bind(&c.reference)
    .bind(&c.text)
    .bind(c.created_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique { field: "ref".into() },
        other => other,
    })?;
    Ok(c)
}

/// The CUECs of a report, in order.
pub async fn cuecs(store: &Store, org: OrgId, engagement: &str) -> StoreResult<Vec<Cuec>> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT id, engagement_id, ref, text, created_at FROM cuecs \
         WHERE org_id = $1 AND engagement_id = $2 ORDER BY created_at, id",
    )
    .bind(org.to_string())
    .bind(engagement)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Cuec {
            id: r.0,
            engagement_id: r.1,
            reference: r.2,
            text: r.3,
            created_at: Timestamp::from_micros(r.4),
        })
        .collect())
}

/// A test of one control in an engagement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ControlTest {
    /// Id (UUID).
    pub id: String,
    /// The engagement.
    pub engagement_id: String,
    /// The control.
    pub control_id: String,
    /// `design` or `operating`.
    pub kind: String,
    /// How many occurrences the period holds.
    pub population: u32,
    /// Where the population comes from.
    pub population_note: String,
    /// How many were drawn.
    pub sample_size: u32,
    /// The seed of the draw (decimal).
    pub seed: String,
    /// The draw algorithm.
    pub algorithm: String,
    /// The items drawn (JSON array).
    pub drawn: String,
    /// The results (JSON object).
    pub results: String,
    /// Who drew it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Last result recorded.
    pub updated_at: Timestamp,
}

/// Records a test with its draw; a second draw for the same engagement, control and kind
/// fails on the unique key (`sample`).
pub async fn insert_test(tx: &mut Tx, org: OrgId, t: &ControlTest) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO control_tests (id, org_id, engagement_id, control_id, kind, population, population_note, \
         sample_size, seed, algorithm, drawn, results, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&t.id)
    .bind(org.to_string())
    .bind(&t.engagement_id)
    .bind(&t.control_id)
    .bind(&t.kind)
    .bind(i64::from(t.population))
    .bind(&t.population_note)
    .bind(i64::from(t.sample_size))
    .bind(&t.seed)
    .bind(&t.algorithm)
    .bind(&t.drawn)
    .bind(&t.results)
    .bind(&t.created_by)
    .bind(t.created_at.as_micros())
    .bind(t.updated_at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique {
            field: "sample".into(),
        },
        other => other,
    })?;
    Ok(())
}

/// Replaces a test's results; false when the test does not exist.
pub async fn set_results(
    tx: &mut Tx,
    org: OrgId,
    id: &str,
    results: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE control_tests SET results = $3, updated_at = $4 WHERE org_id = $1 AND id = $2",
    )
    .bind(org.to_string())
    .bind(id)
    .bind(results)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct TestRow {
    id: String,
    engagement_id: String,
    control_id: String,
    kind: String,
    population: i64,
    population_note: String,
    sample_size: i64,
    seed: String,
    algorithm: String,
    drawn: String,
    results: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

fn control_test(r: TestRow) -> StoreResult<ControlTest> {
    let n = |v: i64| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("test size {v}")));
    Ok(ControlTest {
        id: r.id,
        engagement_id: r.engagement_id,
        control_id: r.control_id,
        kind: r.kind,
        population: n(r.population)?,
        population_note: r.population_note,
        sample_size: n(r.sample_size)?,
        seed: r.seed,
        algorithm: r.algorithm,
        drawn: r.drawn,
        results: r.results,
        created_by: r.created_by,
        created_at: Timestamp::from_micros(r.created_at),
        updated_at: Timestamp::from_micros(r.updated_at),
    })
}

const TEST_COLUMNS: &str = "id, engagement_id, control_id, kind, population, population_note, \
    sample_size, seed, algorithm, drawn, results, created_by, created_at, updated_at";

/// The tests of an engagement (read in a transaction when `tx` is given).
pub async fn tests_of(
    store: &Store,
    tx: Option<&mut Tx>,
    org: OrgId,
    engagement: &str,
) -> StoreResult<Vec<ControlTest>> {
    let q = sqlx::query_as::<_, TestRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {TEST_COLUMNS} FROM control_tests WHERE org_id = $1 AND engagement_id = $2 ORDER BY created_at, id"
    )))
    .bind(org.to_string())
    .bind(engagement);
    let rows = match tx {
        Some(tx) => q.fetch_all(&mut **tx).await?,
        None => q.fetch_all(store.pool()).await?,
    };
    rows.into_iter().map(control_test).collect()
}
