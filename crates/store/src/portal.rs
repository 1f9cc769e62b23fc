//! The trust portal's content: settings, offerings, their FAQ and resources. Every text the
//! organisation writes is kept per language.

use attest_domain::{OrgId, Timestamp};
use serde::Serialize;

use crate::{Store, StoreResult, Tx};

/// Portal settings of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Whether the public site answers.
    pub enabled: bool,
    /// The name shown, in English.
    pub name_en: String,
    /// In Korean (empty: the English one).
    pub name_ko: String,
    /// The home page's introduction, in English (Markdown).
    pub intro_en: String,
    /// In Korean.
    pub intro_ko: String,
    /// The brand colour (`#rrggbb`).
    pub colour: String,
    /// E-mail domains whose customers' access requests are approved at once.
    pub auto_domains: Vec<String>,
    /// A host name of its own on which the portal also answers (`trust.example.com`).
    pub host: Option<String>,
    /// The logo: (SHA-256 of the file in the blob store, `image/png` or `image/jpeg`).
    pub logo: Option<(String, String)>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// The settings (none until first saved).
pub async fn settings(store: &Store, org: OrgId) -> StoreResult<Option<Settings>> {
    let row: Option<SettingsRow> = sqlx::query_as(SETTINGS)
        .bind(org.to_string())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(settings_of))
}

/// The settings, read in a transaction after taking their row lock (a no-op update), so two
/// changes at once are serialised in the database on every node.
pub async fn settings_in(tx: &mut Tx, org: OrgId) -> StoreResult<Option<Settings>> {
    sqlx::query("UPDATE portal_settings SET updated_at = updated_at WHERE org_id = $1")
        .bind(org.to_string())
        .execute(&mut **tx)
        .await?;
    let row: Option<SettingsRow> = sqlx::query_as(SETTINGS)
        .bind(org.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(settings_of))
}

const SETTINGS: &str = "SELECT enabled, name_en, name_ko, intro_en, intro_ko, colour, updated_at, \
    auto_domains, host, logo_sha256, logo_type FROM portal_settings WHERE org_id = $1";

type SettingsRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn settings_of(r: SettingsRow) -> Settings {
    Settings {
        enabled: r.0 != 0,
        name_en: r.1,
        name_ko: r.2,
        intro_en: r.3,
        intro_ko: r.4,
        colour: r.5,
        updated_at: Timestamp::from_micros(r.6),
        auto_domains: list_of(&r.7),
        host: r.8,
        logo: r.9.zip(r.10),
    }
}

/// Saves the settings (not the logo: [`put_logo`]). A host name another organisation has
/// is refused by the database (unique index): [`crate::StoreError::Unique`].
pub async fn put_settings(tx: &mut Tx, org: OrgId, s: &Settings) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_settings (org_id, enabled, name_en, name_ko, intro_en, intro_ko, colour, updated_at, auto_domains, host) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (org_id) DO UPDATE SET \
         enabled = excluded.enabled, name_en = excluded.name_en, name_ko = excluded.name_ko, \
         intro_en = excluded.intro_en, intro_ko = excluded.intro_ko, colour = excluded.colour, \
         updated_at = excluded.updated_at, auto_domains = excluded.auto_domains, host = excluded.host",
    )
    .bind(org.to_string())
    .bind(i64::from(s.enabled))
    .bind(&s.name_en)
    .bind(&s.name_ko)
    .bind(&s.intro_en)
    .bind(&s.intro_ko)
    .bind(&s.colour)
    .bind(s.updated_at.as_micros())
    .bind(s.auto_domains.join(","))
    .bind(&s.host)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets or removes the logo; the settings row exists (saved first by the caller).
pub async fn put_logo(
    tx: &mut Tx,
    org: OrgId,
    logo: Option<(&str, &str)>,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE portal_settings SET logo_sha256 = $2, logo_type = $3, updated_at = $4 WHERE org_id = $1",
    )
    .bind(org.to_string())
    .bind(logo.map(|l| l.0))
    .bind(logo.map(|l| l.1))
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The slug of the organisation that holds this host name for its portal, if any (whether
/// the portal is on or not: a switched-off portal's name answers "not found", it does not
/// fall back to the rest of Attest).
pub async fn slug_for_host(store: &Store, host: &str) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT o.slug FROM portal_settings s JOIN organisations o ON o.id = s.org_id \
         WHERE s.host = $1",
    )
    .bind(host)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.0))
}

/// One offering: a page of the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offering {
    /// Id (UUID).
    pub id: String,
    /// The key in its URL (`iso-27001`).
    pub key: String,
    /// Order on the home page.
    pub position: i64,
    /// Title, English.
    pub title_en: String,
    /// Title, Korean.
    pub title_ko: String,
    /// What the standard or attestation is, English (Markdown).
    pub overview_en: String,
    /// Korean.
    pub overview_ko: String,
    /// The organisation and this offering, English (Markdown).
    pub relation_en: String,
    /// Korean.
    pub relation_ko: String,
    /// The audit cycle in the organisation's words, English (empty: stated from the data).
    pub cycle_en: String,
    /// Korean.
    pub cycle_ko: String,
    /// Engagement kinds whose issued reports it shows.
    pub reports: Vec<String>,
    /// Certificate standards it shows.
    pub standards: Vec<String>,
    /// Whether it is on the public site.
    pub published: bool,
    /// Last change.
    pub updated_at: Timestamp,
}

type OfferingRow = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const OFFERING_COLUMNS: &str = "id, key, position, title_en, title_ko, overview_en, overview_ko, \
    relation_en, relation_ko, cycle_en, cycle_ko, reports, standards, published, updated_at";

fn list_of(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

fn offering(r: OfferingRow) -> Offering {
    Offering {
        id: r.0,
        key: r.1,
        position: r.2,
        title_en: r.3,
        title_ko: r.4,
        overview_en: r.5,
        overview_ko: r.6,
        relation_en: r.7,
        relation_ko: r.8,
        cycle_en: r.9,
        cycle_ko: r.10,
        reports: list_of(&r.11),
        standards: list_of(&r.12),
        published: r.13 != 0,
        updated_at: Timestamp::from_micros(r.14),
    }
}

/// Inserts or replaces an offering (by id).
pub async fn put_offering(tx: &mut Tx, org: OrgId, o: &Offering) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO portal_offerings (org_id, {OFFERING_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (id) DO UPDATE SET key = excluded.key, position = excluded.position, \
         title_en = excluded.title_en, title_ko = excluded.title_ko, \
         overview_en = excluded.overview_en, overview_ko = excluded.overview_ko, \
         relation_en = excluded.relation_en, relation_ko = excluded.relation_ko, \
         cycle_en = excluded.cycle_en, cycle_ko = excluded.cycle_ko, reports = excluded.reports, \
         standards = excluded.standards, published = excluded.published, updated_at = excluded.updated_at"
    )))
    .bind(org.to_string())
    .bind(&o.id)
    .bind(&o.key)
    .bind(o.position)
    .bind(&o.title_en)
    .bind(&o.title_ko)
    .bind(&o.overview_en)
    .bind(&o.overview_ko)
    .bind(&o.relation_en)
    .bind(&o.relation_ko)
    .bind(&o.cycle_en)
    .bind(&o.cycle_ko)
    .bind(o.reports.join(","))
    .bind(o.standards.join(","))
    .bind(i64::from(o.published))
    .bind(o.updated_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every offering, in order.
pub async fn offerings(store: &Store, org: OrgId) -> StoreResult<Vec<Offering>> {
    let rows: Vec<OfferingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {OFFERING_COLUMNS} FROM portal_offerings WHERE org_id = $1 ORDER BY position, key"
    )))
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(offering).collect())
}

/// Removes an offering with its FAQ and resources; false when there was none.
pub async fn delete_offering(tx: &mut Tx, org: OrgId, id: &str) -> StoreResult<bool> {
    for table in ["portal_faqs", "portal_resources"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE org_id = $1 AND offering_id = $2"
        )))
        .bind(org.to_string())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    let r = sqlx::query("DELETE FROM portal_offerings WHERE org_id = $1 AND id = $2")
        .bind(org.to_string())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Faq {
    /// Id (UUID).
    pub id: String,
    /// The offering.
    pub offering_id: String,
    /// Order.
    pub position: i64,
    /// Question, English.
    pub question_en: String,
    /// Question, Korean.
    pub question_ko: String,
    /// Answer, English (Markdown).
    pub answer_en: String,
    /// Answer, Korean.
    pub answer_ko: String,
}

/// Stores a question.
pub async fn insert_faq(tx: &mut Tx, org: OrgId, f: &Faq, at: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_faqs (id, org_id, offering_id, position, question_en, question_ko, answer_en, answer_ko, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&f.id)
    .bind(org.to_string())
    .bind(&f.offering_id)
    .bind(f.position)
    .bind(&f.question_en)
    .bind(&f.question_ko)
    .bind(&f.answer_en)
    .bind(&f.answer_ko)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The questions of an organisation's offerings, in order.
pub async fn faqs(store: &Store, org: OrgId) -> StoreResult<Vec<Faq>> {
    let rows: Vec<(String, String, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, offering_id, position, question_en, question_ko, answer_en, answer_ko FROM portal_faqs \
         WHERE org_id = $1 ORDER BY offering_id, position, id",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Faq {
            id: r.0,
            offering_id: r.1,
            position: r.2,
            question_en: r.3,
            question_ko: r.4,
            answer_en: r.5,
            answer_ko: r.6,
        })
        .collect())
}

/// A link to further reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Id (UUID).
    pub id: String,
    /// The offering.
    pub offering_id: String,
    /// Order.
    pub position: i64,
    /// Title, English.
    pub title_en: String,
    /// Title, Korean.
    pub title_ko: String,
    /// Where it is (https).
    pub url: String,
}

/// Stores a resource.
pub async fn insert_resource(
    tx: &mut Tx,
    org: OrgId,
    r: &Resource,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO portal_resources (id, org_id, offering_id, position, title_en, title_ko, url, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&r.id)
    .bind(org.to_string())
    .bind(&r.offering_id)
    .bind(r.position)
    .bind(&r.title_en)
    .bind(&r.title_ko)
    .bind(&r.url)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The resources of an organisation's offerings, in order.
pub async fn resources(store: &Store, org: OrgId) -> StoreResult<Vec<Resource>> {
    let rows: Vec<(String, String, i64, String, String, String)> = sqlx::query_as(
        "SELECT id, offering_id, position, title_en, title_ko, url FROM portal_resources \
         WHERE org_id = $1 ORDER BY offering_id, position, id",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Resource {
            id: r.0,
            offering_id: r.1,
            position: r.2,
            title_en: r.3,
            title_ko: r.4,
            url: r.5,
        })
        .collect())
}

/// Removes a question or a resource; false when there was none.
pub async fn delete_item(tx: &mut Tx, org: OrgId, table: Item, id: &str) -> StoreResult<bool> {
    let table = match table {
        Item::Faq => "portal_faqs",
        Item::Resource => "portal_resources",
    };
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What [`delete_item`] removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A question.
    Faq,
    /// A resource.
    Resource,
}

/// The organisation's signing key: (public key hex, secret key hex).
pub async fn key(store: &Store, org: OrgId) -> StoreResult<Option<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT public_key, secret_key FROM portal_keys WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Stores a signing key unless the organisation has one (two nodes making one at once keep
/// the first).
pub async fn put_key_once(
    tx: &mut Tx,
    org: OrgId,
    public_key: &str,
    secret_key: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let r = sqlx::query(
        "INSERT INTO portal_keys (org_id, public_key, secret_key, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(org.to_string())
    .bind(public_key)
    .bind(secret_key)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}
