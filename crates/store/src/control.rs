//! Controls, their links to framework requirements, proposal decisions, and the services and
//! product families controls apply to.

use attest_domain::control::{ControlStatus, Frequency};
use attest_domain::mapping::Coverage;
use attest_domain::{OrgId, Timestamp, UserId};
use serde::Serialize;

use crate::user::parse_id;
use crate::{Backend, Store, StoreError, StoreResult, Tx};

/// A control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Control {
    /// Id (UUID).
    pub id: String,
    /// Organisation.
    pub org_id: OrgId,
    /// The organisation's own reference (`AC-01`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// What the control does and how.
    pub description: String,
    /// Who is responsible.
    pub owner_id: Option<UserId>,
    /// How often it operates.
    pub frequency: Frequency,
    /// How far it is implemented.
    pub status: ControlStatus,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ControlRow {
    id: String,
    org_id: String,
    reference: String,
    title: String,
    description: String,
    owner_id: Option<String>,
    frequency: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ControlRow> for Control {
    type Error = StoreError;
    fn try_from(r: ControlRow) -> StoreResult<Self> {
        Ok(Control {
            id: r.id,
            org_id: parse_id(&r.org_id)?,
            reference: r.reference,
            title: r.title,
            description: r.description,
            owner_id: r.owner_id.as_deref().map(parse_id).transpose()?,
            frequency: parse_id(&r.frequency)?,
            status: parse_id(&r.status)?,
            created_at: Timestamp::from_micros(r.created_at),
            updated_at: Timestamp::from_micros(r.updated_at),
        })
    }
}

macro_rules! control_query {
    ($tail:literal) => {
        concat!(
            "SELECT id, org_id, ref AS reference, title, description, owner_id, frequency, status, created_at, updated_at FROM controls ",
            $tail
        )
    };
}

/// Inserts a control.
pub async fn insert(tx: &mut Tx, c: &Control) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO controls (id, org_id, ref, title, description, owner_id, frequency, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.id)
    .bind(c.org_id.to_string())
    .bind(&c.reference)
    .bind(&c.title)
    .bind(&c.description)
    .bind(c.owner_id.map(|u| u.to_string()))
    .bind(c.frequency.as_str())
    .bind(c.status.as_str())
    .bind(c.created_at.as_micros())
    .bind(c.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces a control's editable fields.
pub async fn update(tx: &mut Tx, c: &Control) -> StoreResult<()> {
    let r = sqlx::query(
        "UPDATE controls SET ref = $3, title = $4, description = $5, owner_id = $6, frequency = $7, status = $8, updated_at = $9 \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(c.org_id.to_string())
    .bind(&c.id)
    .bind(&c.reference)
    .bind(&c.title)
    .bind(&c.description)
    .bind(c.owner_id.map(|u| u.to_string()))
    .bind(c.frequency.as_str())
    .bind(c.status.as_str())
    .bind(c.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A control of an organisation by id.
pub async fn get(store: &Store, org: OrgId, id: &str) -> StoreResult<Option<Control>> {
    sqlx::query_as::<_, ControlRow>(control_query!("WHERE org_id = $1 AND id = $2"))
        .bind(org.to_string())
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A control by id inside a transaction.
pub async fn get_in(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<Option<Control>> {
    sqlx::query_as::<_, ControlRow>(control_query!("WHERE org_id = $1 AND id = $2"))
        .bind(org.to_string())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A control by its reference.
pub async fn by_ref(store: &Store, org: OrgId, reference: &str) -> StoreResult<Option<Control>> {
    sqlx::query_as::<_, ControlRow>(control_query!("WHERE org_id = $1 AND ref = $2"))
        .bind(org.to_string())
        .bind(reference)
        .fetch_optional(store.pool())
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// Every control of an organisation, by reference (byte order, the same on both backends),
/// read in one packed value ([`packed_rows`]): coverage reads them all.
pub async fn list(store: &Store, org: OrgId) -> StoreResult<Vec<Control>> {
    type Packed = (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        i64,
        i64,
    );
    let rows: Vec<Packed> = packed_rows(
        store,
        org,
        "id, ref, title, description, owner_id, frequency, status, created_at, updated_at",
        "controls",
    )
    .await?;
    let mut controls = rows
        .into_iter()
        .map(
            |(id, reference, title, description, owner_id, frequency, status, created, updated)| {
                ControlRow {
                    id,
                    org_id: org.to_string(),
                    reference,
                    title,
                    description,
                    owner_id,
                    frequency,
                    status,
                    created_at: created,
                    updated_at: updated,
                }
                .try_into()
            },
        )
        .collect::<StoreResult<Vec<Control>>>()?;
    controls.sort_unstable_by(|a, b| a.reference.cmp(&b.reference));
    Ok(controls)
}

/// Every row of an organisation in `table`, as tuples of `columns`, read as one JSON array
/// the database builds (`json_group_array` on SQLite, `json_agg` on PostgreSQL) instead of a
/// row at a time: the drivers' cost per row dominates reading thousands of short rows, and
/// JSON escapes any text unambiguously. `columns` and `table` are constants of this module.
pub(crate) async fn packed_rows<T: serde::de::DeserializeOwned>(
    store: &Store,
    org: OrgId,
    columns: &'static str,
    table: &'static str,
) -> StoreResult<Vec<T>> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({columns})) FROM {table} WHERE org_id = $1")
        }
        Backend::Postgres => format!(
            "SELECT CAST(json_agg(json_build_array({columns})) AS TEXT) FROM {table} WHERE org_id = $1"
        ),
    };
    let packed: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(org.to_string())
        .fetch_one(store.pool())
        .await?;
    match packed {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            StoreError::Corrupt(format!("{table} of organisation {org} do not unpack: {e}"))
        }),
        None => Ok(Vec::new()),
    }
}

/// A link from a control to a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The control.
    pub control_id: String,
    /// The framework.
    pub framework_id: String,
    /// The requirement.
    pub requirement_id: String,
    /// How much of the requirement it covers.
    pub coverage: Coverage,
    /// `manual` or `proposal`.
    pub origin: String,
    /// For an accepted proposal: which mapping proposed it (JSON text).
    pub via: String,
    /// Who linked it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    control_id: String,
    framework_id: String,
    requirement_id: String,
    coverage: String,
    origin: String,
    via: String,
    created_by: String,
    created_at: i64,
}

impl TryFrom<LinkRow> for Link {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> StoreResult<Self> {
        Ok(Link {
            control_id: r.control_id,
            framework_id: r.framework_id,
            requirement_id: r.requirement_id,
            coverage: parse_coverage(&r.coverage)?,
            origin: r.origin,
            via: r.via,
            created_by: r.created_by,
            created_at: Timestamp::from_micros(r.created_at),
        })
    }
}

fn parse_coverage(text: &str) -> StoreResult<Coverage> {
    match text {
        "full" => Ok(Coverage::Full),
        "partial" => Ok(Coverage::Partial),
        other => Err(StoreError::Corrupt(format!("unknown coverage {other}"))),
    }
}

fn coverage_text(c: Coverage) -> &'static str {
    match c {
        Coverage::Full => "full",
        Coverage::Partial => "partial",
    }
}

/// Links a control to a requirement (or updates the link's coverage and origin).
pub async fn link(tx: &mut Tx, org: OrgId, l: &Link) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO control_links (org_id, control_id, framework_id, requirement_id, coverage, origin, via, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (control_id, framework_id, requirement_id) DO UPDATE SET coverage = excluded.coverage, origin = excluded.origin, via = excluded.via",
    )
    .bind(org.to_string())
    .bind(&l.control_id)
    .bind(&l.framework_id)
    .bind(&l.requirement_id)
    .bind(coverage_text(l.coverage))
    .bind(&l.origin)
    .bind(&l.via)
    .bind(&l.created_by)
    .bind(l.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a link. Returns whether it existed.
pub async fn unlink(
    tx: &mut Tx,
    org: OrgId,
    control: &str,
    framework: &str,
    requirement: &str,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "DELETE FROM control_links WHERE org_id = $1 AND control_id = $2 AND framework_id = $3 AND requirement_id = $4",
    )
    .bind(org.to_string())
    .bind(control)
    .bind(framework)
    .bind(requirement)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A control's links.
pub async fn links_of(store: &Store, org: OrgId, control: &str) -> StoreResult<Vec<Link>> {
    sqlx::query_as::<_, LinkRow>(
        "SELECT control_id, framework_id, requirement_id, coverage, origin, via, created_by, created_at FROM control_links \
         WHERE org_id = $1 AND control_id = $2 ORDER BY framework_id, requirement_id",
    )
    .bind(org.to_string())
    .bind(control)
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .map(TryInto::try_into)
    .collect()
}

/// A link as coverage reads it: which control covers which requirement, and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageLink {
    /// The control.
    pub control_id: String,
    /// The framework.
    pub framework_id: String,
    /// The requirement.
    pub requirement_id: String,
    /// How much of the requirement it covers.
    pub coverage: Coverage,
}

/// Every link of an organisation, as coverage needs them, read in one packed value
/// ([`packed_rows`]).
pub async fn all_links(store: &Store, org: OrgId) -> StoreResult<Vec<CoverageLink>> {
    let rows: Vec<(String, String, String, String)> = packed_rows(
        store,
        org,
        "control_id, framework_id, requirement_id, coverage",
        "control_links",
    )
    .await?;
    rows.into_iter()
        .map(|(control_id, framework_id, requirement_id, coverage)| {
            Ok(CoverageLink {
                control_id,
                framework_id,
                requirement_id,
                coverage: parse_coverage(&coverage)?,
            })
        })
        .collect()
}

/// A person's decision on a proposed link.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    /// The control the link was proposed for.
    pub control: &'a str,
    /// The framework of the proposed requirement.
    pub framework: &'a str,
    /// The proposed requirement.
    pub requirement: &'a str,
    /// `accepted` or `rejected`.
    pub decision: &'a str,
    /// Who decided (actor text).
    pub by: &'a str,
    /// When.
    pub at: Timestamp,
}

/// Records a decision on a proposal.
pub async fn decide(tx: &mut Tx, org: OrgId, d: Decision<'_>) -> StoreResult<()> {
    let Decision {
        control,
        framework,
        requirement,
        decision,
        by,
        at,
    } = d;
    sqlx::query(
        "INSERT INTO proposal_decisions (org_id, control_id, framework_id, requirement_id, decision, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (control_id, framework_id, requirement_id) DO UPDATE SET decision = excluded.decision, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
    )
    .bind(org.to_string())
    .bind(control)
    .bind(framework)
    .bind(requirement)
    .bind(decision)
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The (framework, requirement) pairs whose proposals were rejected for a control.
pub async fn rejected(
    store: &Store,
    org: OrgId,
    control: &str,
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT framework_id, requirement_id FROM proposal_decisions WHERE org_id = $1 AND control_id = $2 AND decision = 'rejected'",
    )
    .bind(org.to_string())
    .bind(control)
    .fetch_all(store.pool())
    .await?)
}

/// The services a control applies to (ids).
pub async fn services_of(store: &Store, org: OrgId, control: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT service_id FROM control_services WHERE org_id = $1 AND control_id = $2",
    )
    .bind(org.to_string())
    .bind(control)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Replaces the services a control applies to.
pub async fn set_services(
    tx: &mut Tx,
    org: OrgId,
    control: &str,
    services: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM control_services WHERE org_id = $1 AND control_id = $2")
        .bind(org.to_string())
        .bind(control)
        .execute(&mut **tx)
        .await?;
    for s in services {
        sqlx::query(
            "INSERT INTO control_services (org_id, control_id, service_id) VALUES ($1, $2, $3)",
        )
        .bind(org.to_string())
        .bind(control)
        .bind(s)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A product family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Family {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// A service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Service {
    /// Id.
    pub id: String,
    /// Its product family.
    pub family_id: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// Adds a product family.
pub async fn insert_family(tx: &mut Tx, org: OrgId, f: &Family, at: Timestamp) -> StoreResult<()> {
    sqlx::query("INSERT INTO product_families (id, org_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&f.id)
        .bind(org.to_string())
        .bind(&f.name)
        .bind(&f.description)
        .bind(at.as_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds a service.
pub async fn insert_service(
    tx: &mut Tx,
    org: OrgId,
    s: &Service,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO services (id, org_id, family_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&s.id)
        .bind(org.to_string())
        .bind(s.family_id.as_deref())
        .bind(&s.name)
        .bind(&s.description)
        .bind(at.as_micros())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// An organisation's product families, by name.
pub async fn families(store: &Store, org: OrgId) -> StoreResult<Vec<Family>> {
    Ok(sqlx::query_as(
        "SELECT id, name, description FROM product_families WHERE org_id = $1 ORDER BY name",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?)
}

/// An organisation's services, by name.
pub async fn services(store: &Store, org: OrgId) -> StoreResult<Vec<Service>> {
    Ok(sqlx::query_as(
        "SELECT id, family_id, name, description FROM services WHERE org_id = $1 ORDER BY name",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?)
}

/// Whether every id names a service of the organisation.
pub async fn services_exist(tx: &mut Tx, org: OrgId, ids: &[String]) -> StoreResult<bool> {
    for id in ids {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM services WHERE org_id = $1 AND id = $2")
                .bind(org.to_string())
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether a product family belongs to the organisation.
pub async fn family_exists(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<bool> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM product_families WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}
