//! The trust portal: the organisation's public pages, generated from its own data so they are
//! never out of date. Staff keep the settings, the offerings (one page per certification or
//! attestation) with their texts in English and Korean, the FAQ and resources, and choose
//! which issued documents are published. The public side reads an offering: its overview,
//! the services in scope by product family, the current reports and certificates (superseded
//! reports and certificates that are not valid today leave by themselves), the audit cycle,
//! bridge letters, FAQ and resources. Public documents (SOC 3 reports, certificates) download
//! without an account.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use attest_domain::engagement::{Cadence, EngagementKind, EngagementStatus};
use attest_domain::{OrgId, Timestamp};
use attest_store::engagement::{self as store_eng, BridgeLetter, Engagement};
use attest_store::portal::{self as store_portal, Faq, Item, Offering, Resource, Settings};
use attest_store::workspace::{self as store_ws, Document};
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::risk::text;
use crate::{App, AppError, AppResult, Caller, Permission};

/// A language of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the fallback).
    En,
    /// Korean.
    Ko,
}

impl Lang {
    /// `en` or `ko`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// The text in this language, falling back to English when it has none.
    pub fn pick<'a>(self, en: &'a str, ko: &'a str) -> &'a str {
        match self {
            Lang::Ko if !ko.trim().is_empty() => ko,
            _ => en,
        }
    }
}

/// A document as the public page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicDocument {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `report`, `bridge-letter`, `certificate`, `soa`, `assessment-report` or
    /// `pentest-summary`.
    pub kind: String,
    /// Its language.
    pub language: String,
    /// Downloadable without an account (a SOC 3 report, a certificate).
    pub public: bool,
    /// Its SHA-256.
    pub sha256: String,
}

/// A current report on an offering page.
#[derive(Debug, Clone, Serialize)]
pub struct PublicReport {
    /// "SOC 2 Type 2".
    pub kind: String,
    /// The engagement kind (`soc2-type2`, `pentest`, …).
    pub kind_id: String,
    /// The period (or the as-of date).
    pub period: String,
    /// The audit firm.
    pub firm: String,
    /// When it was issued.
    pub issued_on: Option<Date>,
    /// The opinion (`unqualified`, …).
    pub opinion: Option<String>,
    /// Its published documents.
    pub documents: Vec<PublicDocument>,
    /// Its bridge letters: (from, to).
    pub bridge_letters: Vec<(Date, Date)>,
}

/// A valid certificate on an offering page.
#[derive(Debug, Clone, Serialize)]
pub struct PublicCertificate {
    /// Number.
    pub number: String,
    /// Certification body.
    pub body: String,
    /// "ISO/IEC 27001:2022".
    pub standard: String,
    /// Scope.
    pub scope: String,
    /// Issued.
    pub issued_on: Date,
    /// Expires.
    pub expires_on: Date,
    /// The next audit: (`surveillance-1`, `surveillance-2` or `recertification`, when).
    pub next_audit: Option<(String, Date)>,
    /// Its published documents.
    pub documents: Vec<PublicDocument>,
}

/// What an offering covers for one product family (or for every service: `family` none).
#[derive(Debug, Clone, Serialize)]
pub struct FamilyBlock {
    /// The product family's name (none: all services).
    pub family: Option<String>,
    /// Services in scope.
    pub services: Vec<String>,
    /// Current reports.
    pub reports: Vec<PublicReport>,
    /// Valid certificates.
    pub certificates: Vec<PublicCertificate>,
}

/// An offering page, in one language.
#[derive(Debug, Clone, Serialize)]
pub struct PublicOffering {
    /// The organisation as the portal names it.
    pub org_name: String,
    /// Its short name (URL).
    pub slug: String,
    /// Brand colour.
    pub colour: String,
    /// The logo's version (the start of its SHA-256, for its address), if it has one.
    pub logo: Option<String>,
    /// The language of the texts.
    pub lang: Lang,
    /// The offering's key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Overview (Markdown).
    pub overview: String,
    /// The organisation and this offering (Markdown).
    pub relation: String,
    /// The audit cycle in the organisation's words (empty: stated from `cadences`).
    pub cycle: String,
    /// SOC program cadences behind its reports: (program, cadence).
    pub cadences: Vec<(String, Cadence)>,
    /// By product family.
    pub families: Vec<FamilyBlock>,
    /// FAQ: (question, answer in Markdown).
    pub faqs: Vec<(String, String)>,
    /// Resources: (title, URL).
    pub resources: Vec<(String, String)>,
    /// Every published offering: (key, title), for navigation.
    pub offerings: Vec<(String, String)>,
}

/// The portal's home page, in one language.
#[derive(Debug, Clone, Serialize)]
pub struct PublicHome {
    /// The organisation as the portal names it.
    pub org_name: String,
    /// Its short name.
    pub slug: String,
    /// Brand colour.
    pub colour: String,
    /// The logo's version (the start of its SHA-256, for its address), if it has one.
    pub logo: Option<String>,
    /// The language.
    pub lang: Lang,
    /// Introduction (Markdown).
    pub intro: String,
    /// Published offerings: (key, title, how many current reports and valid certificates).
    pub offerings: Vec<(String, String, usize)>,
}

/// Settings as a caller writes them.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    /// Whether the public site answers.
    pub enabled: bool,
    /// Name, English.
    pub name_en: String,
    /// Name, Korean.
    pub name_ko: String,
    /// Introduction, English.
    pub intro_en: String,
    /// Introduction, Korean.
    pub intro_ko: String,
    /// `#rrggbb`.
    pub colour: String,
    /// E-mail domains whose customers' access requests are approved at once.
    pub auto_domains: Vec<String>,
    /// A host name of its own for the portal (empty: none).
    pub host: String,
}

/// An offering as a caller writes it.
#[derive(Debug, Clone, Default)]
pub struct OfferingInput {
    /// Order on the home page.
    pub position: i64,
    /// Title, English.
    pub title_en: String,
    /// Title, Korean.
    pub title_ko: String,
    /// Overview, English.
    pub overview_en: String,
    /// Overview, Korean.
    pub overview_ko: String,
    /// The organisation and this offering, English.
    pub relation_en: String,
    /// Korean.
    pub relation_ko: String,
    /// Audit cycle, English (empty: stated from the data).
    pub cycle_en: String,
    /// Korean.
    pub cycle_ko: String,
    /// Engagement kinds whose reports it shows.
    pub reports: Vec<String>,
    /// Certificate standards it shows.
    pub standards: Vec<String>,
    /// On the public site.
    pub published: bool,
}

/// What staff see of the portal.
#[derive(Debug, Clone, Serialize)]
pub struct PortalAdmin {
    /// Settings (defaults until saved).
    pub settings: Settings,
    /// Offerings.
    pub offerings: Vec<Offering>,
    /// FAQ of every offering.
    pub faqs: Vec<Faq>,
    /// Resources of every offering.
    pub resources: Vec<Resource>,
    /// Every document of every engagement, with its engagement's reference and whether it
    /// would be public.
    pub documents: Vec<(Document, String, bool)>,
    /// The public address.
    pub url: String,
}

const STANDARDS: [(&str, &str); 2] = [
    ("iso27001-2022", "ISO/IEC 27001:2022"),
    ("iso27001-2013", "ISO/IEC 27001:2013"),
];

fn standard_label(s: &str) -> String {
    STANDARDS
        .iter()
        .find(|(k, _)| *k == s)
        .map_or_else(|| s.to_owned(), |(_, l)| (*l).to_owned())
}

/// Addresses under `/trust/{slug}/` the portal itself uses.
const RESERVED_KEYS: [&str; 16] = [
    "documents",
    "verify",
    "key",
    "account",
    "signin",
    "signup",
    "signout",
    "nda",
    "access",
    "download",
    "invitation",
    "verify-email",
    "brand.css",
    "logo",
    "forgot",
    "reset",
];

/// Whether `d` (lower case) is a plausible domain name: dot-separated labels of letters,
/// digits and hyphens.
pub(crate) fn is_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The e-mail domains of an allow-list: lower case, each a plausible domain name.
fn check_domains(domains: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for d in domains {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        if d.is_empty() {
            continue;
        }
        if !is_domain(&d) {
            return Err(AppError::invalid(
                "auto_domains",
                format!("`{d}` is not a domain name (example: customer.example)"),
            ));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    if out.len() > 200 {
        return Err(AppError::invalid(
            "auto_domains",
            "at most 200 domains".to_owned(),
        ));
    }
    Ok(out)
}

fn check_key(key: &str) -> AppResult<()> {
    let ok = !key.is_empty()
        && key.len() <= 60
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !key.starts_with('-')
        && !RESERVED_KEYS.contains(&key);
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "key",
            format!(
                "an offering's key is 1 to 60 lower-case letters, digits and dashes (it is its address; {} are taken)",
                RESERVED_KEYS.join(", ")
            ),
        ))
    }
}

fn check_colour(c: &str) -> AppResult<String> {
    let c = c.trim();
    let c = if c.is_empty() { "#1d4ed8" } else { c };
    if c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit()) {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(AppError::invalid("colour", "a colour is #rrggbb"))
    }
}

fn check_url(u: &str) -> AppResult<String> {
    let u = u.trim();
    let ok = u.starts_with("https://")
        && u.len() > "https://".len()
        && u.len() <= 2048
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'));
    if ok {
        Ok(u.to_owned())
    } else {
        Err(AppError::invalid(
            "url",
            "a resource is an https:// address of at most 2,048 characters",
        ))
    }
}

/// The index of the block of a product family, added when missing.
fn block_index(blocks: &mut Vec<FamilyBlock>, family: Option<String>) -> usize {
    if let Some(i) = blocks.iter().position(|b| b.family == family) {
        return i;
    }
    blocks.push(FamilyBlock {
        family,
        services: Vec::new(),
        reports: Vec::new(),
        certificates: Vec::new(),
    });
    blocks.len() - 1
}

/// A cached public page's key: (slug, offering key or empty for the home page, language).
type CacheKey = (String, String, Lang);

/// A cached public page.
#[derive(Debug, Clone)]
enum Page {
    Home(Arc<PublicHome>),
    Offering(Arc<PublicOffering>),
}

/// A page with the organisation, the chain head and the day it was built at.
type Held = (OrgId, i64, Date, Page);

/// Public pages at most a node keeps (any one is dropped beyond it).
const PAGES_KEPT: usize = 1024;

/// The public pages a node has built, each with the organisation's audit chain head and the
/// day it was built at: current while both stay (see [`App::portal_offering`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct PortalCache {
    inner: Arc<Mutex<HashMap<CacheKey, Held>>>,
}

impl PortalCache {
    fn get(&self, key: &CacheKey) -> Option<Held> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).cloned()
    }

    fn put(&self, key: CacheKey, org: OrgId, head: i64, page: Page) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PAGES_KEPT
            && !map.contains_key(&key)
            && let Some(k) = map.keys().next().cloned()
        {
            map.remove(&k);
        }
        map.insert(key, (org, head, Timestamp::now().date(), page));
    }
}

/// Whether a document may be downloaded without an account: a certificate, or the report of
/// a SOC 3 (DOMAIN.md rule 7).
pub fn is_public(doc_kind: &str, engagement: EngagementKind) -> bool {
    doc_kind == "certificate" || (doc_kind == "report" && engagement == EngagementKind::Soc3)
}

/// The logo's version in its address (`/trust/{slug}/logo?v=…`), so browsers may keep it.
fn logo_version(s: &Settings) -> Option<String> {
    s.logo
        .as_ref()
        .map(|(sha, _)| sha.chars().take(12).collect())
}

/// Whether a document is not a bridge letter whose period has ended: a letter typeset by
/// Attest leaves the portal with the last day it covers (an uploaded one stays with its
/// report).
fn letter_current(d: &Document, letters: &[BridgeLetter], today: Date) -> bool {
    d.letter_id
        .as_ref()
        .is_none_or(|id| letters.iter().any(|b| &b.id == id && b.ends_on >= today))
}

/// The current issued reports among `all`: per kind and set of services, the latest period.
fn current_reports<'a>(all: &'a [Engagement], kinds: &[String]) -> Vec<&'a Engagement> {
    let mut latest: BTreeMap<(String, String), &Engagement> = BTreeMap::new();
    for e in all.iter().filter(|e| {
        e.status == EngagementStatus::Issued && kinds.iter().any(|k| k == e.kind.as_str())
    }) {
        let key = (e.kind.as_str().to_owned(), e.services.join(","));
        match latest.get(&key) {
            Some(x) if x.period.end() >= e.period.end() => {}
            _ => {
                latest.insert(key, e);
            }
        }
    }
    let mut out: Vec<&Engagement> = latest.into_values().collect();
    out.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.period.end().cmp(&a.period.end()))
    });
    out
}

impl App {
    pub(crate) fn default_settings(name: &str) -> Settings {
        Settings {
            enabled: false,
            name_en: name.to_owned(),
            name_ko: String::new(),
            intro_en: String::new(),
            intro_ko: String::new(),
            colour: "#1d4ed8".into(),
            auto_domains: Vec::new(),
            host: None,
            logo: None,
            updated_at: Timestamp::from_micros(0),
        }
    }

    /// The portal as staff keep it.
    pub async fn portal_admin(&self, caller: &Caller) -> AppResult<PortalAdmin> {
        let org = caller.require(Permission::PortalManage)?;
        let o = attest_store::org::get(&self.store, org).await?;
        let engagements = store_eng::list(&self.store, org).await?;
        let documents = store_ws::documents(&self.store, org, None)
            .await?
            .into_iter()
            .filter_map(|d| {
                let e = engagements.iter().find(|e| e.id == d.engagement_id)?;
                let public = is_public(&d.kind, e.kind);
                Some((d, e.reference.clone(), public))
            })
            .collect();
        Ok(PortalAdmin {
            settings: store_portal::settings(&self.store, org)
                .await?
                .unwrap_or_else(|| Self::default_settings(&o.name)),
            offerings: store_portal::offerings(&self.store, org).await?,
            faqs: store_portal::faqs(&self.store, org).await?,
            resources: store_portal::resources(&self.store, org).await?,
            documents,
            url: format!(
                "{}/trust/{}",
                self.config.public_url.trim_end_matches('/'),
                o.slug
            ),
        })
    }

    /// Saves the portal settings.
    pub async fn set_portal_settings(
        &self,
        caller: &Caller,
        input: SettingsInput,
    ) -> AppResult<Settings> {
        let org = caller.require(Permission::PortalManage)?;
        let s = Settings {
            enabled: input.enabled,
            name_en: text("name_en", &input.name_en, 200, true)?,
            name_ko: text("name_ko", &input.name_ko, 200, false)?,
            intro_en: text("intro_en", &input.intro_en, 20_000, false)?,
            intro_ko: text("intro_ko", &input.intro_ko, 20_000, false)?,
            colour: check_colour(&input.colour)?,
            auto_domains: check_domains(&input.auto_domains)?,
            host: self.check_host(&input.host)?,
            logo: None,
            updated_at: Timestamp::now(),
        };
        let before = store_portal::settings(&self.store, org).await?;
        let s = Settings {
            logo: before.as_ref().and_then(|b| b.logo.clone()),
            ..s
        };
        let mut tx = self.store.begin().await?;
        store_portal::put_settings(&mut tx, org, &s)
            .await
            .map_err(crate::portal_brand::host_clash(s.host.as_deref()))?;
        let mut ev = Event::org(org, "portal.settings", "organisation", org).after(&s);
        if let Some(b) = &before {
            ev = ev.before(b);
        }
        record(&mut tx, caller, ev).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Creates or changes an offering (by its key).
    pub async fn put_offering(
        &self,
        caller: &Caller,
        key: &str,
        input: OfferingInput,
    ) -> AppResult<Offering> {
        let org = caller.require(Permission::PortalManage)?;
        check_key(key)?;
        for k in &input.reports {
            let kind = k
                .parse::<EngagementKind>()
                .map_err(|e| AppError::invalid("reports", e.to_string()))?;
            if kind == EngagementKind::Internal {
                return Err(AppError::invalid(
                    "reports",
                    "an internal audit is the organisation's own: it is not published",
                ));
            }
            if !kind.is_soc() && kind != EngagementKind::Pentest {
                return Err(AppError::invalid(
                    "reports",
                    format!(
                        "{} issues a certificate, not a report: choose its standard under standards",
                        kind.label()
                    ),
                ));
            }
        }
        for s in &input.standards {
            if !STANDARDS.iter().any(|(k, _)| k == s) {
                return Err(AppError::invalid(
                    "standards",
                    format!("unknown standard `{s}` (expected iso27001-2022 or iso27001-2013)"),
                ));
            }
        }
        let existing = store_portal::offerings(&self.store, org)
            .await?
            .into_iter()
            .find(|o| o.key == key);
        let o = Offering {
            id: existing
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |o| o.id.clone()),
            key: key.to_owned(),
            position: input.position,
            title_en: text("title_en", &input.title_en, 200, true)?,
            title_ko: text("title_ko", &input.title_ko, 200, false)?,
            overview_en: text("overview_en", &input.overview_en, 20_000, false)?,
            overview_ko: text("overview_ko", &input.overview_ko, 20_000, false)?,
            relation_en: text("relation_en", &input.relation_en, 20_000, false)?,
            relation_ko: text("relation_ko", &input.relation_ko, 20_000, false)?,
            cycle_en: text("cycle_en", &input.cycle_en, 4_000, false)?,
            cycle_ko: text("cycle_ko", &input.cycle_ko, 4_000, false)?,
            reports: input.reports,
            standards: input.standards,
            published: input.published,
            updated_at: Timestamp::now(),
        };
        let mut tx = self.store.begin().await?;
        store_portal::put_offering(&mut tx, org, &o)
            .await
            .map_err(|e| match e {
                attest_store::StoreError::Unique { .. } => AppError::Conflict {
                    field: "key".into(),
                    message: format!("another offering has the key {key}"),
                },
                other => other.into(),
            })?;
        let mut ev = Event::org(org, "portal.offering", "portal_offering", &o.id).after(&o);
        if let Some(b) = &existing {
            ev = ev.before(b);
        }
        record(&mut tx, caller, ev).await?;
        tx.commit().await?;
        Ok(o)
    }

    async fn offering_by_key(&self, org: OrgId, key: &str) -> AppResult<Offering> {
        store_portal::offerings(&self.store, org)
            .await?
            .into_iter()
            .find(|o| o.key == key)
            .ok_or(AppError::NotFound("offering"))
    }

    /// Removes an offering with its FAQ and resources.
    pub async fn delete_offering(&self, caller: &Caller, key: &str) -> AppResult<()> {
        let org = caller.require(Permission::PortalManage)?;
        let o = self.offering_by_key(org, key).await?;
        let mut tx = self.store.begin().await?;
        store_portal::delete_offering(&mut tx, org, &o.id).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.offering_delete", "portal_offering", &o.id).before(&o),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a question to an offering's FAQ.
    pub async fn add_faq(
        &self,
        caller: &Caller,
        key: &str,
        question: (&str, &str),
        answer: (&str, &str),
    ) -> AppResult<Faq> {
        let org = caller.require(Permission::PortalManage)?;
        let o = self.offering_by_key(org, key).await?;
        let position = store_portal::faqs(&self.store, org)
            .await?
            .iter()
            .filter(|f| f.offering_id == o.id)
            .count() as i64;
        let f = Faq {
            id: uuid::Uuid::now_v7().to_string(),
            offering_id: o.id.clone(),
            position,
            question_en: text("question_en", question.0, 1_000, true)?,
            question_ko: text("question_ko", question.1, 1_000, false)?,
            answer_en: text("answer_en", answer.0, 20_000, true)?,
            answer_ko: text("answer_ko", answer.1, 20_000, false)?,
        };
        let mut tx = self.store.begin().await?;
        store_portal::insert_faq(&mut tx, org, &f, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.faq", "portal_offering", &o.id).after(&f),
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    /// Adds a resource (an https link) to an offering.
    pub async fn add_resource(
        &self,
        caller: &Caller,
        key: &str,
        title: (&str, &str),
        url: &str,
    ) -> AppResult<Resource> {
        let org = caller.require(Permission::PortalManage)?;
        let o = self.offering_by_key(org, key).await?;
        let position = store_portal::resources(&self.store, org)
            .await?
            .iter()
            .filter(|r| r.offering_id == o.id)
            .count() as i64;
        let r = Resource {
            id: uuid::Uuid::now_v7().to_string(),
            offering_id: o.id.clone(),
            position,
            title_en: text("title_en", title.0, 300, true)?,
            title_ko: text("title_ko", title.1, 300, false)?,
            url: check_url(url)?,
        };
        let mut tx = self.store.begin().await?;
        store_portal::insert_resource(&mut tx, org, &r, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.resource", "portal_offering", &o.id).after(&r),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Removes a question or a resource.
    pub async fn remove_portal_item(&self, caller: &Caller, item: Item, id: &str) -> AppResult<()> {
        let org = caller.require(Permission::PortalManage)?;
        let mut tx = self.store.begin().await?;
        if !store_portal::delete_item(&mut tx, org, item, id).await? {
            return Err(AppError::NotFound(match item {
                Item::Faq => "question",
                Item::Resource => "resource",
            }));
        }
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                match item {
                    Item::Faq => "portal.faq_remove",
                    Item::Resource => "portal.resource_remove",
                },
                "portal_item",
                id,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes a document of an issued engagement on the portal, or takes it off.
    pub async fn publish_document(
        &self,
        caller: &Caller,
        id: &str,
        published: bool,
    ) -> AppResult<Document> {
        let org = caller.require(Permission::PortalManage)?;
        let d = store_ws::documents(&self.store, org, None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(AppError::NotFound("document"))?;
        let e = self.find_engagement(org, &d.engagement_id).await?;
        if published && e.status != EngagementStatus::Issued {
            return Err(AppError::Rule {
                rule: "not-issued",
                message: format!(
                    "{} is {}: only an issued engagement's documents are published",
                    e.reference,
                    e.status.label().to_lowercase()
                ),
            });
        }
        let at = published.then(Timestamp::now);
        let mut tx = self.store.begin().await?;
        if !store_ws::publish_document(&mut tx, org, id, at).await? {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "this document was withdrawn".into(),
            });
        }
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                if published {
                    "portal.publish"
                } else {
                    "portal.unpublish"
                },
                "engagement_document",
                id,
            )
            .after(&serde_json::json!({"engagement": e.reference, "title": d.title, "sha256": d.sha256})),
        )
        .await?;
        tx.commit().await?;
        Ok(Document {
            published_at: at,
            ..d
        })
    }

    /// The organisation behind a public address, if its portal is on.
    pub(crate) async fn portal_org(&self, slug: &str) -> AppResult<(OrgId, Settings)> {
        let gone = || AppError::NotFound("trust portal");
        let o = attest_store::org::by_slug(&self.store, slug)
            .await?
            .ok_or_else(gone)?;
        let s = store_portal::settings(&self.store, o.id)
            .await?
            .filter(|s| s.enabled)
            .ok_or_else(gone)?;
        Ok((o.id, s))
    }

    /// The portal's home page.
    pub async fn portal_home(&self, slug: &str, lang: Lang) -> AppResult<Arc<PublicHome>> {
        let key = (slug.to_owned(), String::new(), lang);
        if let Some(Page::Home(p)) = self.portal_cached(&key).await? {
            return Ok(p);
        }
        let (org, s) = self.portal_org(slug).await?;
        let head = attest_store::audit::head_seq(&self.store, &org.to_string()).await?;
        let p = Arc::new(self.build_home(org, s, slug, lang).await?);
        self.portal_cache.put(key, org, head, Page::Home(p.clone()));
        Ok(p)
    }

    async fn build_home(
        &self,
        org: OrgId,
        s: Settings,
        slug: &str,
        lang: Lang,
    ) -> AppResult<PublicHome> {
        let engagements = store_eng::list(&self.store, org).await?;
        let today = Timestamp::now().date();
        let certificates = store_eng::certificates(&self.store, org).await?;
        let offerings = store_portal::offerings(&self.store, org)
            .await?
            .into_iter()
            .filter(|o| o.published)
            .map(|o| {
                let reports = current_reports(&engagements, &o.reports).len();
                let certs = certificates
                    .iter()
                    .filter(|c| {
                        o.standards.contains(&c.standard)
                            && crate::engagement::certificate_view((*c).clone(), today).status
                                == "valid"
                    })
                    .count();
                (
                    o.key.clone(),
                    lang.pick(&o.title_en, &o.title_ko).to_owned(),
                    reports + certs,
                )
            })
            .collect();
        Ok(PublicHome {
            org_name: lang.pick(&s.name_en, &s.name_ko).to_owned(),
            slug: slug.to_owned(),
            colour: s.colour.clone(),
            logo: logo_version(&s),
            lang,
            intro: lang.pick(&s.intro_en, &s.intro_ko).to_owned(),
            offerings,
        })
    }

    /// An offering's page.
    pub async fn portal_offering(
        &self,
        slug: &str,
        key: &str,
        lang: Lang,
    ) -> AppResult<Arc<PublicOffering>> {
        let ck = (slug.to_owned(), key.to_owned(), lang);
        if let Some(Page::Offering(p)) = self.portal_cached(&ck).await? {
            return Ok(p);
        }
        let (org, s) = self.portal_org(slug).await?;
        let head = attest_store::audit::head_seq(&self.store, &org.to_string()).await?;
        let p = Arc::new(self.build_offering(org, s, slug, key, lang).await?);
        self.portal_cache
            .put(ck, org, head, Page::Offering(p.clone()));
        Ok(p)
    }

    /// A cached page, if it is still current: read at the organisation's audit chain head
    /// of now (every change moves it, in the change's transaction, on every node) and on
    /// today's date.
    async fn portal_cached(&self, key: &CacheKey) -> AppResult<Option<Page>> {
        let Some((org, head, day, page)) = self.portal_cache.get(key) else {
            return Ok(None);
        };
        if day != Timestamp::now().date() {
            return Ok(None);
        }
        let now = attest_store::audit::head_seq(&self.store, &org.to_string()).await?;
        Ok((now == head).then_some(page))
    }

    async fn build_offering(
        &self,
        org: OrgId,
        s: Settings,
        slug: &str,
        key: &str,
        lang: Lang,
    ) -> AppResult<PublicOffering> {
        let all_offerings = store_portal::offerings(&self.store, org).await?;
        let o = all_offerings
            .iter()
            .find(|o| o.key == key && o.published)
            .ok_or(AppError::NotFound("offering"))?;
        let engagements = store_eng::list(&self.store, org).await?;
        let documents = store_ws::documents(&self.store, org, None).await?;
        let letters = store_eng::letters(&self.store, org).await?;
        let families = attest_store::control::families(&self.store, org).await?;
        let services = attest_store::control::services(&self.store, org).await?;
        let today = Timestamp::now().date();
        let published_docs = |engagement: &Engagement| -> Vec<PublicDocument> {
            documents
                .iter()
                .filter(|d| {
                    d.engagement_id == engagement.id
                        && d.published_at.is_some()
                        && d.withdrawn_at.is_none()
                        && letter_current(d, &letters, today)
                })
                .map(|d| PublicDocument {
                    id: d.id.clone(),
                    title: d.title.clone(),
                    kind: d.kind.clone(),
                    language: d.language.clone(),
                    public: is_public(&d.kind, engagement.kind),
                    sha256: d.sha256.clone(),
                })
                .collect()
        };
        // Each current report or valid certificate, with the services it covers (empty: all).
        let mut items: Vec<(Vec<String>, Option<PublicReport>, Option<PublicCertificate>)> =
            Vec::new();
        for e in current_reports(&engagements, &o.reports) {
            items.push((
                e.services.clone(),
                Some(PublicReport {
                    kind: e.kind.label().to_owned(),
                    kind_id: e.kind.as_str().to_owned(),
                    period: e.period.range().to_string(),
                    firm: e.firm.clone(),
                    issued_on: e.issued_on,
                    opinion: e.opinion.map(|x| x.as_str().to_owned()),
                    documents: published_docs(e),
                    bridge_letters: letters
                        .iter()
                        .filter(|b| b.engagement_id == e.id && b.ends_on >= today)
                        .map(|b| (b.starts_on, b.ends_on))
                        .collect(),
                }),
                None,
            ));
        }
        for c in store_eng::certificates(&self.store, org).await? {
            if !o.standards.contains(&c.standard) {
                continue;
            }
            let v = crate::engagement::certificate_view(c, today);
            if v.status != "valid" {
                continue;
            }
            let issuing = v
                .certificate
                .engagement_id
                .as_ref()
                .and_then(|id| engagements.iter().find(|e| &e.id == id));
            items.push((
                issuing.map(|e| e.services.clone()).unwrap_or_default(),
                None,
                Some(PublicCertificate {
                    next_audit: v
                        .milestones
                        .iter()
                        .find(|(_, d)| *d >= today)
                        .map(|(w, d)| ((*w).to_owned(), *d)),
                    documents: issuing.map(published_docs).unwrap_or_default(),
                    number: v.certificate.number,
                    body: v.certificate.body,
                    standard: standard_label(&v.certificate.standard),
                    scope: v.certificate.scope,
                    issued_on: v.certificate.issued_on,
                    expires_on: v.certificate.expires_on,
                }),
            ));
        }
        let mut blocks: Vec<FamilyBlock> = Vec::new();
        for (covered, report, cert) in items {
            let mut targets: Vec<usize> = Vec::new();
            if covered.is_empty() {
                targets.push(block_index(&mut blocks, None));
            }
            for sid in &covered {
                let Some(svc) = services.iter().find(|s| &s.id == sid) else {
                    continue;
                };
                let family = svc
                    .family_id
                    .as_ref()
                    .and_then(|f| families.iter().find(|x| &x.id == f))
                    .map(|f| f.name.clone());
                let i = block_index(&mut blocks, family);
                if !blocks[i].services.contains(&svc.name) {
                    blocks[i].services.push(svc.name.clone());
                }
                if !targets.contains(&i) {
                    targets.push(i);
                }
            }
            for i in targets {
                if let Some(r) = &report {
                    blocks[i].reports.push(r.clone());
                }
                if let Some(c) = &cert {
                    blocks[i].certificates.push(c.clone());
                }
            }
        }
        for b in &mut blocks {
            b.services.sort();
        }
        blocks.sort_by(|a, b| match (&a.family, &b.family) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Less,
            (_, None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        });
        let mut cadences = Vec::new();
        for (program, json) in store_eng::programs(&self.store, org).await? {
            let kinds: &[&str] = if program == "soc1" {
                &["soc1-type1", "soc1-type2"]
            } else {
                &["soc2-type1", "soc2-type2", "soc3"]
            };
            if o.reports.iter().any(|k| kinds.contains(&k.as_str())) {
                let c: Cadence = serde_json::from_str(&json)
                    .map_err(|e| AppError::Internal(format!("SOC program {program}: {e}")))?;
                cadences.push((program, c));
            }
        }
        let faqs = store_portal::faqs(&self.store, org)
            .await?
            .into_iter()
            .filter(|f| f.offering_id == o.id)
            .map(|f| {
                (
                    lang.pick(&f.question_en, &f.question_ko).to_owned(),
                    lang.pick(&f.answer_en, &f.answer_ko).to_owned(),
                )
            })
            .collect();
        let resources = store_portal::resources(&self.store, org)
            .await?
            .into_iter()
            .filter(|r| r.offering_id == o.id)
            .map(|r| (lang.pick(&r.title_en, &r.title_ko).to_owned(), r.url))
            .collect();
        Ok(PublicOffering {
            org_name: lang.pick(&s.name_en, &s.name_ko).to_owned(),
            slug: slug.to_owned(),
            colour: s.colour.clone(),
            logo: logo_version(&s),
            lang,
            key: o.key.clone(),
            title: lang.pick(&o.title_en, &o.title_ko).to_owned(),
            overview: lang.pick(&o.overview_en, &o.overview_ko).to_owned(),
            relation: lang.pick(&o.relation_en, &o.relation_ko).to_owned(),
            cycle: lang.pick(&o.cycle_en, &o.cycle_ko).to_owned(),
            cadences,
            families: blocks,
            faqs,
            resources,
            offerings: all_offerings
                .iter()
                .filter(|x| x.published)
                .map(|x| {
                    (
                        x.key.clone(),
                        lang.pick(&x.title_en, &x.title_ko).to_owned(),
                    )
                })
                .collect(),
        })
    }

    /// A public document's file (a certificate or a SOC 3 report that is published, not
    /// withdrawn, and on an offering page today). Anything else is "not found", whether it
    /// exists or not.
    pub async fn portal_public_file(
        &self,
        slug: &str,
        id: &str,
    ) -> AppResult<crate::evidence::FileStream> {
        let (org, _) = self.portal_org(slug).await?;
        let (d, _) = self
            .portal_shown_documents(org)
            .await?
            .into_iter()
            .find(|(d, e)| d.id == id && is_public(&d.kind, e.kind))
            .ok_or(AppError::NotFound("document"))?;
        self.document_bytes(org, d).await
    }

    /// The documents a published offering shows today, with their engagements: the
    /// published, not withdrawn documents of current reports and of valid certificates.
    pub(crate) async fn portal_shown_documents(
        &self,
        org: OrgId,
    ) -> AppResult<Vec<(Document, Engagement)>> {
        let engagements = store_eng::list(&self.store, org).await?;
        let today = Timestamp::now().date();
        let certificates = store_eng::certificates(&self.store, org).await?;
        let offerings: Vec<Offering> = store_portal::offerings(&self.store, org)
            .await?
            .into_iter()
            .filter(|o| o.published)
            .collect();
        let letters = store_eng::letters(&self.store, org).await?;
        let mut out = Vec::new();
        for d in store_ws::documents(&self.store, org, None).await? {
            if d.published_at.is_none()
                || d.withdrawn_at.is_some()
                || !letter_current(&d, &letters, today)
            {
                continue;
            }
            let Some(e) = engagements.iter().find(|e| e.id == d.engagement_id) else {
                continue;
            };
            if e.status != EngagementStatus::Issued {
                continue;
            }
            let shown = offerings.iter().any(|o| {
                current_reports(&engagements, &o.reports)
                    .iter()
                    .any(|x| x.id == e.id)
                    || certificates.iter().any(|c| {
                        c.engagement_id.as_deref() == Some(e.id.as_str())
                            && o.standards.contains(&c.standard)
                            && crate::engagement::certificate_view(c.clone(), today).status
                                == "valid"
                    })
            });
            if shown {
                let e = e.clone();
                out.push((d, e));
            }
        }
        Ok(out)
    }
}

impl App {
    /// The organisation's signing key, made on first use.
    async fn signing_key(&self, org: OrgId) -> AppResult<[u8; 32]> {
        if store_portal::key(&self.store, org).await?.is_none() {
            let secret: [u8; 32] = crate::secret::random_bytes();
            let public = attest_domain::manifest::public_key(&secret);
            let mut tx = self.store.begin().await?;
            if store_portal::put_key_once(
                &mut tx,
                org,
                &public,
                &hex::encode(secret),
                Timestamp::now(),
            )
            .await?
            {
                // Two nodes making a key at once: the first stays, and only it is recorded.
                record(
                    &mut tx,
                    &Caller::system(org),
                    Event::org(org, "portal.key", "organisation", org)
                        .after(&serde_json::json!({"public_key": public})),
                )
                .await?;
            }
            tx.commit().await?;
        }
        let (_, secret) = store_portal::key(&self.store, org)
            .await?
            .ok_or_else(|| AppError::Internal("the portal key was not stored".into()))?;
        hex::decode(&secret)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| AppError::Internal("the stored portal key is not 32 bytes".into()))
    }

    /// The signed list of an offering's current documents with their SHA-256.
    pub async fn portal_manifest(
        &self,
        slug: &str,
        key: &str,
    ) -> AppResult<attest_domain::manifest::SignedManifest> {
        use attest_domain::manifest::{FORMAT, Manifest, ManifestDocument, sign};
        let (org, _) = self.portal_org(slug).await?;
        let page = self.portal_offering(slug, key, Lang::En).await?;
        let mut documents: Vec<ManifestDocument> = Vec::new();
        for b in &page.families {
            let entries = b
                .reports
                .iter()
                .map(|r| (format!("{} · {}", r.kind, r.period), &r.documents))
                .chain(b.certificates.iter().map(|c| {
                    (
                        format!(
                            "{} certificate {} · {} – {}",
                            c.standard, c.number, c.issued_on, c.expires_on
                        ),
                        &c.documents,
                    )
                }));
            for (subject, docs) in entries {
                for d in docs {
                    if documents.iter().any(|x| x.id == d.id) {
                        continue;
                    }
                    documents.push(ManifestDocument {
                        id: d.id.clone(),
                        title: d.title.clone(),
                        kind: d.kind.clone(),
                        language: d.language.clone(),
                        sha256: d.sha256.clone(),
                        public: d.public,
                        subject: subject.clone(),
                    });
                }
            }
        }
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            organisation: page.org_name.clone(),
            portal: format!(
                "{}/trust/{slug}/{key}",
                self.config.public_url.trim_end_matches('/')
            ),
            offering: key.to_owned(),
            issued_at: Timestamp::now().to_rfc3339(),
            valid_until: Timestamp::now().plus(time::Duration::days(1)).to_rfc3339(),
            documents,
        };
        Ok(sign(manifest, &self.signing_key(org).await?))
    }

    /// The public key (hex) the portal's manifests are signed with.
    pub async fn portal_public_key(&self, slug: &str) -> AppResult<String> {
        let (org, _) = self.portal_org(slug).await?;
        Ok(attest_domain::manifest::public_key(
            &self.signing_key(org).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_falls_back_to_english() {
        assert_eq!(Lang::Ko.pick("Overview", "개요"), "개요");
        assert_eq!(Lang::Ko.pick("Overview", "  "), "Overview");
        assert_eq!(Lang::En.pick("Overview", "개요"), "Overview");
    }

    #[test]
    fn only_certificates_and_soc3_reports_are_public() {
        assert!(is_public("certificate", EngagementKind::IsoStage2));
        assert!(is_public("report", EngagementKind::Soc3));
        assert!(!is_public("report", EngagementKind::Soc2Type2));
        assert!(!is_public("soa", EngagementKind::IsoStage2));
        assert!(!is_public("bridge-letter", EngagementKind::Soc2Type2));
        assert!(!is_public("pentest-summary", EngagementKind::Pentest));
        assert!(!is_public(
            "assessment-report",
            EngagementKind::IsoSurveillance
        ));
    }

    #[test]
    fn keys_and_colours_are_checked() {
        assert!(check_key("iso-27001").is_ok());
        assert!(check_key("ISO").is_err());
        assert!(check_key("../x").is_err());
        assert!(check_key("-x").is_err());
        assert_eq!(check_colour("#1D4ED8").unwrap(), "#1d4ed8");
        assert!(check_colour("red").is_err());
        assert!(check_url("javascript:alert(1)").is_err());
        assert!(check_url("http://example.com").is_err());
        assert!(check_url("https://example.com/x").is_ok());
    }
}
