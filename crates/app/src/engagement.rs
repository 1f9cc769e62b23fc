//! Audit engagements: SOC 1, SOC 2 and SOC 3 reports and ISO audits, from planning to the
//! issued report; opinions; bridge letters after a report; the coverage timeline.
//! The rules (DOMAIN.md 1–4) are the domain's; this module applies them to stored data.

use attest_domain::engagement::{
    Cadence, CertificateState, Cover, EngagementKind, EngagementStatus, Opinion, PlannedReport,
    Segment, Soc2Report, TrustCategory, bridge_period, certificate_milestones, certificate_status,
    check_certificate, period_for, soc3_basis, timeline,
};
use attest_domain::evidence::DateRange;
use attest_domain::{OrgId, Timestamp};
use attest_store::engagement::{
    self as store_eng, BridgeLetter, Certificate, ControlTest, Cuec, Engagement, SubserviceOrg,
};
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::risk::text;
use crate::{App, AppError, AppResult, Caller, Permission};

/// The longest a bridge letter may cover, in months (DOMAIN.md rule 4's default).
pub const BRIDGE_MAX_MONTHS: u32 = 3;

/// An engagement as a caller plans it.
#[derive(Debug, Clone)]
pub struct EngagementInput {
    /// Kind.
    pub kind: EngagementKind,
    /// Title (a default from the kind and period when empty).
    pub title: String,
    /// Audit firm or certification body.
    pub firm: String,
    /// Lead auditor.
    pub lead_auditor: String,
    /// Type 1: the as-of date.
    pub as_of: Option<Date>,
    /// Type 2 and audits: the period.
    pub period: Option<(Date, Date)>,
    /// Services in scope (ids).
    pub services: Vec<String>,
    /// Frameworks in scope (ids).
    pub frameworks: Vec<String>,
    /// SOC 2 / SOC 3 trust services categories (security is always included).
    pub categories: Vec<TrustCategory>,
}

/// A bridge letter as shown.
#[derive(Debug, Clone, Serialize)]
pub struct LetterView {
    /// Id.
    pub id: String,
    /// The report it follows (engagement id).
    pub engagement_id: String,
    /// The report's reference.
    pub report_ref: String,
    /// First day covered.
    pub starts_on: Date,
    /// Last day covered.
    pub ends_on: Date,
    /// Changes disclosed.
    pub changes: String,
    /// Signer.
    pub signer: String,
    /// Language.
    pub language: String,
    /// When it was made.
    pub created_at: Timestamp,
}

/// The coverage timeline of the SOC program.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageTimeline {
    /// The window.
    pub window: DateRange,
    /// Consecutive stretches covered by a report, a bridge letter, or a gap.
    pub segments: Vec<Segment>,
    /// Days in gaps.
    pub gap_days: i64,
}

/// Refuses a change to an engagement that is issued or withdrawn: its report no longer
/// changes.
pub(crate) fn ensure_open(e: &Engagement) -> AppResult<()> {
    if e.status.is_open() {
        return Ok(());
    }
    Err(AppError::Rule {
        rule: "engagement-closed",
        message: format!(
            "{} is {}: its report no longer changes",
            e.reference,
            e.status.label().to_lowercase()
        ),
    })
}

fn rule(e: attest_domain::engagement::RuleBroken) -> AppError {
    AppError::Rule {
        rule: e.rule,
        message: e.message,
    }
}

fn letter_view(b: BridgeLetter, engagements: &[Engagement]) -> LetterView {
    LetterView {
        report_ref: engagements
            .iter()
            .find(|e| e.id == b.engagement_id)
            .map(|e| e.reference.clone())
            .unwrap_or_default(),
        id: b.id,
        engagement_id: b.engagement_id,
        starts_on: b.starts_on,
        ends_on: b.ends_on,
        changes: b.changes,
        signer: b.signer,
        language: b.language,
        created_at: b.created_at,
    }
}

impl App {
    /// Finds an engagement by id or reference (`ENG-001`).
    pub(crate) async fn find_engagement(&self, org: OrgId, key: &str) -> AppResult<Engagement> {
        store_eng::list(&self.store, org)
            .await?
            .into_iter()
            .find(|e| e.id == key || e.reference.eq_ignore_ascii_case(key))
            .ok_or(AppError::NotFound("engagement"))
    }

    /// Every engagement, latest period first.
    pub async fn engagements(&self, caller: &Caller) -> AppResult<Vec<Engagement>> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(store_eng::list(&self.store, org).await?)
    }

    /// One engagement (by id or reference).
    pub async fn engagement(&self, caller: &Caller, key: &str) -> AppResult<Engagement> {
        let org = caller.require(Permission::ProgramRead)?;
        self.find_engagement(org, key).await
    }

    /// Plans an engagement. Its dates obey rule 1; a SOC 3 needs an issued SOC 2 Type 2
    /// with an unqualified opinion covering its period and services (rule 2).
    pub async fn create_engagement(
        &self,
        caller: &Caller,
        input: EngagementInput,
    ) -> AppResult<Engagement> {
        let org = caller.require(Permission::EngagementManage)?;
        let kind = input.kind;
        let period = period_for(kind, input.as_of, input.period).map_err(rule)?;
        let firm = text("firm", &input.firm, 200, true)?;
        let lead_auditor = text("lead_auditor", &input.lead_auditor, 200, false)?;
        let mut services = input.services.clone();
        services.sort();
        services.dedup();
        let mut frameworks = input.frameworks.clone();
        frameworks.sort();
        frameworks.dedup();
        for f in &frameworks {
            self.find_framework(org, f)
                .await
                .map_err(|_| AppError::invalid("frameworks", format!("no framework `{f}`")))?;
        }
        let mut categories = input.categories.clone();
        let soc2ish = matches!(
            kind,
            EngagementKind::Soc2Type1 | EngagementKind::Soc2Type2 | EngagementKind::Soc3
        );
        if soc2ish {
            categories.push(TrustCategory::Security);
            categories.sort();
            categories.dedup();
        } else if !categories.is_empty() {
            return Err(AppError::invalid(
                "categories",
                "trust services categories belong to SOC 2 and SOC 3 engagements",
            ));
        }
        let title = match text("title", &input.title, 200, false)? {
            t if t.is_empty() => format!("{} {}", kind.label(), period.range()),
            t => t,
        };
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        if !attest_store::control::services_exist(&mut tx, org, &services).await? {
            return Err(AppError::invalid("services", "a service does not exist"));
        }
        let basis_id = if kind == EngagementKind::Soc3 {
            let all = store_eng::list_in(&mut tx, org).await?;
            let reports: Vec<Soc2Report<'_>> = all
                .iter()
                .map(|e| Soc2Report {
                    id: &e.id,
                    kind: e.kind,
                    period: e.period,
                    services: &e.services,
                    opinion: e.opinion,
                    issued: e.status == EngagementStatus::Issued,
                })
                .collect();
            Some(
                soc3_basis(period.range(), &services, &reports)
                    .map_err(rule)?
                    .to_owned(),
            )
        } else {
            None
        };
        let e = Engagement {
            id: uuid::Uuid::now_v7().to_string(),
            reference: store_eng::next_ref(&mut tx, org).await?,
            kind,
            title,
            firm,
            lead_auditor,
            period,
            services,
            frameworks,
            categories,
            status: EngagementStatus::Planning,
            opinion: None,
            opinion_notes: String::new(),
            basis_id,
            issued_on: None,
            created_at: now,
            updated_at: now,
        };
        store_eng::put(&mut tx, org, &e)
            .await
            .map_err(AppError::ref_clash("engagement"))?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.create", "engagement", &e.id).after(&serde_json::json!({
                "ref": e.reference, "kind": e.kind, "title": e.title, "firm": e.firm,
                "period": e.period, "services": e.services, "frameworks": e.frameworks,
                "categories": e.categories, "basis_id": e.basis_id,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Moves an engagement on (planning → fieldwork → reporting) or withdraws it; issuing
    /// has its own use case.
    pub async fn set_engagement_status(
        &self,
        caller: &Caller,
        key: &str,
        status: EngagementStatus,
    ) -> AppResult<Engagement> {
        let org = caller.require(Permission::EngagementManage)?;
        let found = self.find_engagement(org, key).await?;
        let mut tx = self.store.begin().await?;
        let e = store_eng::lock(&mut tx, org, &found.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        use EngagementStatus as S;
        let allowed = match (e.status, status) {
            (S::Planning, S::Fieldwork) | (S::Fieldwork, S::Reporting) => true,
            (from, S::Withdrawn) => from.is_open(),
            _ => false,
        };
        if !allowed {
            return Err(AppError::Rule {
                rule: "engagement-status",
                message: format!(
                    "{} is {}: it cannot move to {} (planning → fieldwork → reporting → issued; withdrawn while open)",
                    e.reference,
                    e.status.label().to_lowercase(),
                    status.label().to_lowercase()
                ),
            });
        }
        let e = Engagement {
            status,
            updated_at: Timestamp::now(),
            ..e
        };
        store_eng::put(&mut tx, org, &e).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.status", "engagement", &e.id)
                .after(&serde_json::json!({"status": status})),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Records the auditor's opinion on a SOC report (before it is issued); a modified
    /// opinion names the exceptions behind it.
    pub async fn record_opinion(
        &self,
        caller: &Caller,
        key: &str,
        opinion: Opinion,
        notes: &str,
    ) -> AppResult<Engagement> {
        let org = caller.require(Permission::EngagementManage)?;
        let notes = text("notes", notes, 20_000, opinion != Opinion::Unqualified)?;
        let found = self.find_engagement(org, key).await?;
        let mut tx = self.store.begin().await?;
        let e = store_eng::lock(&mut tx, org, &found.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        if !e.kind.is_soc() {
            return Err(AppError::Rule {
                rule: "opinion-soc-only",
                message: format!(
                    "{} is not a SOC examination: it has no opinion",
                    e.reference
                ),
            });
        }
        ensure_open(&e)?;
        let e = Engagement {
            opinion: Some(opinion),
            opinion_notes: notes,
            updated_at: Timestamp::now(),
            ..e
        };
        store_eng::put(&mut tx, org, &e).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.opinion", "engagement", &e.id)
                .after(&serde_json::json!({"opinion": opinion, "notes": e.opinion_notes})),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Issues the report (a SOC report needs its opinion first); nothing changes after.
    pub async fn issue_engagement(&self, caller: &Caller, key: &str) -> AppResult<Engagement> {
        let org = caller.require(Permission::EngagementManage)?;
        let found = self.find_engagement(org, key).await?;
        let mut tx = self.store.begin().await?;
        let e = store_eng::lock(&mut tx, org, &found.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        ensure_open(&e)?;
        if e.kind.is_soc() && e.opinion.is_none() {
            return Err(AppError::Rule {
                rule: "opinion-required",
                message: format!(
                    "record the auditor's opinion on {} before issuing it",
                    e.reference
                ),
            });
        }
        let today = Timestamp::now().date();
        if e.period.end() > today {
            return Err(AppError::Rule {
                rule: "rule-1",
                message: format!(
                    "{}'s period ends on {}: a report cannot be issued before",
                    e.reference,
                    e.period.end()
                ),
            });
        }
        let e = Engagement {
            status: EngagementStatus::Issued,
            issued_on: Some(today),
            updated_at: Timestamp::now(),
            ..e
        };
        store_eng::put(&mut tx, org, &e).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.issue", "engagement", &e.id)
                .after(&serde_json::json!({"issued_on": today, "opinion": e.opinion})),
        )
        .await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Writes a bridge letter after an issued SOC 1 or SOC 2 report (rule 4): it starts the
    /// day after the report's period, lasts at most three months and stops before the next
    /// report's period.
    pub async fn create_bridge_letter(
        &self,
        caller: &Caller,
        report: &str,
        until: Date,
        signer: &str,
        changes: &str,
        language: &str,
    ) -> AppResult<LetterView> {
        let org = caller.require(Permission::EngagementManage)?;
        let signer = text("signer", signer, 200, true)?;
        let changes = text("changes", changes, 20_000, false)?;
        if !matches!(language, "en" | "ko") {
            return Err(AppError::invalid(
                "language",
                format!("unknown language `{language}` (expected en or ko)"),
            ));
        }
        let found = self.find_engagement(org, report).await?;
        let mut tx = self.store.begin().await?;
        let all = store_eng::list_in(&mut tx, org).await?;
        let e = all
            .iter()
            .find(|e| e.id == found.id)
            .ok_or(AppError::NotFound("engagement"))?;
        let bridgeable = matches!(
            e.kind,
            EngagementKind::Soc1Type1
                | EngagementKind::Soc1Type2
                | EngagementKind::Soc2Type1
                | EngagementKind::Soc2Type2
        );
        if !bridgeable || e.status != EngagementStatus::Issued {
            return Err(AppError::Rule {
                rule: "rule-4",
                message: format!(
                    "a bridge letter follows an issued SOC 1 or SOC 2 report; {} is a {} that is {}",
                    e.reference,
                    e.kind.label(),
                    e.status.label().to_lowercase()
                ),
            });
        }
        let end = e.period.end();
        let family = |k: EngagementKind| match k {
            EngagementKind::Soc1Type1 | EngagementKind::Soc1Type2 => 1,
            _ => 2,
        };
        let next_start = all
            .iter()
            .filter(|n| {
                n.id != e.id
                    && n.status != EngagementStatus::Withdrawn
                    && n.kind.is_soc()
                    && n.kind != EngagementKind::Soc3
                    && family(n.kind) == family(e.kind)
                    && n.period.range().start > end
            })
            .map(|n| n.period.range().start)
            .min();
        let period = bridge_period(end, until, BRIDGE_MAX_MONTHS, next_start).map_err(rule)?;
        let b = BridgeLetter {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: e.id.clone(),
            starts_on: period.start,
            ends_on: period.end,
            changes,
            signer,
            language: language.to_owned(),
            created_by: caller.actor_text(),
            created_at: Timestamp::now(),
        };
        store_eng::insert_letter(&mut tx, org, &b).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "bridge_letter.create", "bridge_letter", &b.id).after(
                &serde_json::json!({"report": e.id, "starts_on": b.starts_on, "ends_on": b.ends_on,
                    "changes": b.changes, "signer": b.signer, "language": b.language}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(letter_view(b, &all))
    }

    /// Every bridge letter, latest first.
    pub async fn bridge_letters(&self, caller: &Caller) -> AppResult<Vec<LetterView>> {
        let org = caller.require(Permission::ProgramRead)?;
        let all = store_eng::list(&self.store, org).await?;
        Ok(store_eng::letters(&self.store, org)
            .await?
            .into_iter()
            .map(|b| letter_view(b, &all))
            .collect())
    }

    /// A bridge letter as a typeset PDF: (file name, bytes).
    pub async fn bridge_letter_pdf(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<(String, Vec<u8>)> {
        let org = caller.require(Permission::ProgramRead)?;
        let letter = store_eng::letters(&self.store, org)
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or(AppError::NotFound("bridge letter"))?;
        let e = self.find_engagement(org, &letter.engagement_id).await?;
        let (_, services) = self.services(caller).await?;
        let organisation = attest_store::org::get(&self.store, org).await?.name;
        let range = e.period.range();
        let doc = attest_report::bridge_letter::BridgeLetterDocument {
            language: letter.language.clone(),
            organisation,
            report: e.kind.label().to_owned(),
            firm: e.firm.clone(),
            period_start: range.start.to_string(),
            period_end: range.end.to_string(),
            services: e
                .services
                .iter()
                .map(|s| {
                    services
                        .iter()
                        .find(|x| &x.id == s)
                        .map_or_else(|| s.clone(), |x| x.name.clone())
                })
                .collect(),
            bridge_start: letter.starts_on.to_string(),
            bridge_end: letter.ends_on.to_string(),
            changes: letter.changes.clone(),
            signer: letter.signer.clone(),
            dated: letter.created_at.date().to_string(),
            generated_on: Timestamp::now().date(),
        };
        let name = format!(
            "bridge-letter-{}-{}-{}.pdf",
            e.reference.to_lowercase(),
            letter.ends_on,
            letter.language
        );
        let bytes = crate::typeset(move || attest_report::bridge_letter::pdf(&doc)).await?;
        Ok((name, bytes))
    }

    /// Which days of the last `years_back` years (and the next year) are covered by an
    /// issued SOC 1/SOC 2 report's period, by a bridge letter, or not at all (rule 3).
    pub async fn coverage_timeline(
        &self,
        caller: &Caller,
        years_back: u32,
    ) -> AppResult<CoverageTimeline> {
        self.coverage_timeline_of(caller, years_back, None, None)
            .await
    }

    /// The coverage timeline of one offering (`soc1` or `soc2`; both when none) for one
    /// service (a report naming no service covers them all; every report when none).
    pub async fn coverage_timeline_of(
        &self,
        caller: &Caller,
        years_back: u32,
        offering: Option<&str>,
        service: Option<&str>,
    ) -> AppResult<CoverageTimeline> {
        let org = caller.require(Permission::ProgramRead)?;
        let family = match offering {
            None => None,
            Some("soc1") => Some(1),
            Some("soc2") => Some(2),
            Some(other) => {
                return Err(AppError::invalid(
                    "offering",
                    format!("unknown offering `{other}` (expected soc1 or soc2)"),
                ));
            }
        };
        if let Some(s) = service {
            let (_, services) = self.services(caller).await?;
            if !services.iter().any(|x| x.id == s) {
                return Err(AppError::invalid("service", format!("no service `{s}`")));
            }
        }
        let covers = |e: &Engagement| {
            let f = match e.kind {
                EngagementKind::Soc1Type1 | EngagementKind::Soc1Type2 => 1,
                _ => 2,
            };
            family.is_none_or(|x| x == f)
                && service
                    .is_none_or(|s| e.services.is_empty() || e.services.iter().any(|x| x == s))
        };
        if !(1..=10).contains(&years_back) {
            return Err(AppError::invalid("years", "look back 1 to 10 years"));
        }
        let today = Timestamp::now().date();
        let start = Date::from_calendar_date(today.year() - years_back as i32, today.month(), 1)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let window = DateRange { start, end: today };
        let all = store_eng::list(&self.store, org).await?;
        let issued: Vec<&Engagement> = all
            .iter()
            .filter(|e| {
                e.status == EngagementStatus::Issued
                    && e.kind.is_soc()
                    && e.kind != EngagementKind::Soc3
                    && covers(e)
            })
            .collect();
        let reports: Vec<DateRange> = issued.iter().map(|e| e.period.range()).collect();
        let bridges: Vec<DateRange> = store_eng::letters(&self.store, org)
            .await?
            .iter()
            .filter(|b| issued.iter().any(|e| e.id == b.engagement_id))
            .map(|b| DateRange {
                start: b.starts_on,
                end: b.ends_on,
            })
            .collect();
        let segments = timeline(window, &reports, &bridges);
        let gap_days = segments
            .iter()
            .filter(|s| s.cover == Cover::Gap)
            .map(|s| s.range.days())
            .sum();
        Ok(CoverageTimeline {
            window,
            segments,
            gap_days,
        })
    }

    /// The coverage timeline per offering (SOC 1, SOC 2) and service: one row for each
    /// offering with a report, and under it one per service.
    pub async fn coverage_rows(
        &self,
        caller: &Caller,
        years_back: u32,
    ) -> AppResult<Vec<CoverageRow>> {
        let org = caller.require(Permission::ProgramRead)?;
        let all = store_eng::list(&self.store, org).await?;
        let (_, services) = self.services(caller).await?;
        let mut rows = Vec::new();
        for (offering, label, kinds) in [
            (
                "soc1",
                "SOC 1",
                [EngagementKind::Soc1Type1, EngagementKind::Soc1Type2],
            ),
            (
                "soc2",
                "SOC 2",
                [EngagementKind::Soc2Type1, EngagementKind::Soc2Type2],
            ),
        ] {
            if !all.iter().any(|e| kinds.contains(&e.kind)) {
                continue;
            }
            rows.push(CoverageRow {
                offering: label.to_owned(),
                service: None,
                timeline: self
                    .coverage_timeline_of(caller, years_back, Some(offering), None)
                    .await?,
            });
            for s in &services {
                rows.push(CoverageRow {
                    offering: label.to_owned(),
                    service: Some(s.name.clone()),
                    timeline: self
                        .coverage_timeline_of(caller, years_back, Some(offering), Some(&s.id))
                        .await?,
                });
            }
        }
        Ok(rows)
    }
}

/// One row of the coverage timeline: an offering, for one service or all of them.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    /// `SOC 1` or `SOC 2`.
    pub offering: String,
    /// The service's name (none: any service).
    pub service: Option<String>,
    /// Its timeline.
    pub timeline: CoverageTimeline,
}

/// An ISO certificate as a caller records it.
#[derive(Debug, Clone)]
pub struct CertificateInput {
    /// The certificate number.
    pub number: String,
    /// The certification body.
    pub body: String,
    /// `iso27001-2022` or `iso27001-2013`.
    pub standard: String,
    /// The certified scope.
    pub scope: String,
    /// Issued.
    pub issued_on: Date,
    /// Expires.
    pub expires_on: Date,
    /// The audit that led to it (id or reference).
    pub engagement: Option<String>,
}

/// A certificate with its status today and its milestones.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateView {
    /// The certificate.
    #[serde(flatten)]
    pub certificate: Certificate,
    /// valid, suspended, withdrawn or expired (today).
    pub status: &'static str,
    /// Surveillance audits in years one and two, and recertification.
    pub milestones: Vec<(&'static str, Date)>,
}

/// A SOC program with the reports its cadence lays out next.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramView {
    /// `soc1` or `soc2`.
    pub family: String,
    /// Its cadence.
    pub cadence: Cadence,
    /// The next four report periods after the latest engagement of the family.
    pub upcoming: Vec<PlannedReport>,
}

pub(crate) fn certificate_view(c: Certificate, today: Date) -> CertificateView {
    CertificateView {
        status: certificate_status(&c.standard, c.state, c.expires_on, today),
        milestones: certificate_milestones(c.issued_on, c.expires_on).to_vec(),
        certificate: c,
    }
}

fn family_of(k: EngagementKind) -> Option<&'static str> {
    match k {
        EngagementKind::Soc1Type1 | EngagementKind::Soc1Type2 => Some("soc1"),
        EngagementKind::Soc2Type1 | EngagementKind::Soc2Type2 => Some("soc2"),
        _ => None,
    }
}

impl App {
    /// Records an ISO certificate (rule 5: at most three years; none against 27001:2013
    /// beyond 31 October 2025).
    pub async fn add_certificate(
        &self,
        caller: &Caller,
        input: CertificateInput,
    ) -> AppResult<CertificateView> {
        let org = caller.require(Permission::EngagementManage)?;
        let number = text("number", &input.number, 100, true)?;
        let body = text("body", &input.body, 200, true)?;
        let scope = text("scope", &input.scope, 4_000, true)?;
        if !attest_domain::soa::is_annex_a(&input.standard) {
            return Err(AppError::invalid(
                "standard",
                format!(
                    "unknown standard `{}` (expected iso27001-2022 or iso27001-2013)",
                    input.standard
                ),
            ));
        }
        check_certificate(&input.standard, input.issued_on, input.expires_on).map_err(rule)?;
        let engagement_id = match &input.engagement {
            Some(key) => {
                let e = self.find_engagement(org, key).await?;
                if !e.kind.is_iso() {
                    return Err(AppError::invalid(
                        "engagement",
                        format!("{} is not an ISO audit", e.reference),
                    ));
                }
                Some(e.id)
            }
            None => None,
        };
        let now = Timestamp::now();
        let c = Certificate {
            id: uuid::Uuid::now_v7().to_string(),
            number,
            body,
            standard: input.standard,
            scope,
            issued_on: input.issued_on,
            expires_on: input.expires_on,
            state: CertificateState::Valid,
            engagement_id,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        store_eng::put_certificate(&mut tx, org, &c)
            .await
            .map_err(|e| match e {
                attest_store::StoreError::Unique { .. } => AppError::Conflict {
                    field: "number".into(),
                    message: "a certificate with this number is already recorded".into(),
                },
                other => other.into(),
            })?;
        record(
            &mut tx,
            caller,
            Event::org(org, "certificate.add", "certificate", &c.id).after(&c),
        )
        .await?;
        tx.commit().await?;
        Ok(certificate_view(c, now.date()))
    }

    /// Suspends, withdraws or reinstates a certificate (expiry follows from its dates).
    pub async fn set_certificate_state(
        &self,
        caller: &Caller,
        id: &str,
        state: CertificateState,
    ) -> AppResult<CertificateView> {
        let org = caller.require(Permission::EngagementManage)?;
        let c = store_eng::certificates(&self.store, org)
            .await?
            .into_iter()
            .find(|c| c.id == id || c.number == id)
            .ok_or(AppError::NotFound("certificate"))?;
        if c.state == CertificateState::Withdrawn {
            return Err(AppError::Rule {
                rule: "rule-5",
                message: format!("certificate {} was withdrawn; record a new one", c.number),
            });
        }
        let now = Timestamp::now();
        let c = Certificate {
            state,
            updated_at: now,
            ..c
        };
        let mut tx = self.store.begin().await?;
        store_eng::put_certificate(&mut tx, org, &c).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "certificate.state", "certificate", &c.id)
                .after(&serde_json::json!({"state": state})),
        )
        .await?;
        tx.commit().await?;
        Ok(certificate_view(c, now.date()))
    }

    /// Every certificate with its status today.
    pub async fn certificates(&self, caller: &Caller) -> AppResult<Vec<CertificateView>> {
        let org = caller.require(Permission::ProgramRead)?;
        let today = Timestamp::now().date();
        Ok(store_eng::certificates(&self.store, org)
            .await?
            .into_iter()
            .map(|c| certificate_view(c, today))
            .collect())
    }

    /// Declares a SOC program's cadence (rule 3).
    pub async fn set_soc_program(
        &self,
        caller: &Caller,
        family: &str,
        cadence: Cadence,
    ) -> AppResult<ProgramView> {
        let org = caller.require(Permission::EngagementManage)?;
        if !matches!(family, "soc1" | "soc2") {
            return Err(AppError::invalid(
                "family",
                format!("unknown program `{family}` (expected soc1 or soc2)"),
            ));
        }
        cadence
            .validate()
            .map_err(|e| AppError::invalid(e.field, e.message))?;
        let json =
            serde_json::to_string(&cadence).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        store_eng::set_program(&mut tx, org, family, &json, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "soc_program.set", "soc_program", family).after(&cadence),
        )
        .await?;
        tx.commit().await?;
        self.soc_programs(caller)
            .await?
            .into_iter()
            .find(|p| p.family == family)
            .ok_or(AppError::NotFound("SOC program"))
    }

    /// The SOC programs with the report periods their cadence lays out next.
    pub async fn soc_programs(&self, caller: &Caller) -> AppResult<Vec<ProgramView>> {
        let org = caller.require(Permission::ProgramRead)?;
        let engagements = store_eng::list(&self.store, org).await?;
        let today = Timestamp::now().date();
        store_eng::programs(&self.store, org)
            .await?
            .into_iter()
            .map(|(family, json)| {
                let cadence: Cadence = serde_json::from_str(&json)
                    .map_err(|e| AppError::Internal(format!("SOC program {family}: {e}")))?;
                let after = engagements
                    .iter()
                    .filter(|e| {
                        e.status != EngagementStatus::Withdrawn
                            && family_of(e.kind) == Some(family.as_str())
                    })
                    .map(|e| e.period.end())
                    .max()
                    .unwrap_or(today);
                Ok(ProgramView {
                    upcoming: cadence.next_reports(after, 4),
                    family,
                    cadence,
                })
            })
            .collect()
    }
}

/// A subservice organisation as a caller records it.
#[derive(Debug, Clone)]
pub struct SubserviceInput {
    /// Its name.
    pub name: String,
    /// `carve-out` or `inclusive`.
    pub method: String,
    /// What it provides.
    pub services: String,
    /// Its own report and period.
    pub their_report: String,
    /// Its complementary controls, one per line.
    pub csocs: String,
}

/// An engagement with what its report says beyond the organisation's own controls.
#[derive(Debug, Clone, Serialize)]
pub struct EngagementDetail {
    /// The engagement.
    #[serde(flatten)]
    pub engagement: Engagement,
    /// Subservice organisations and their complementary controls.
    pub subservice_orgs: Vec<SubserviceOrg>,
    /// Complementary user entity controls: what stays the customer's responsibility.
    pub cuecs: Vec<Cuec>,
    /// The controls tested, with their samples and results.
    pub tests: Vec<TestView>,
    /// The documents it issued (withdrawn ones included, marked).
    pub documents: Vec<attest_store::workspace::Document>,
}

/// The result of testing one sampled item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ItemResult {
    /// `pass` or `exception`.
    pub result: String,
    /// What was seen.
    #[serde(default)]
    pub note: String,
}

/// A control test as shown.
#[derive(Debug, Clone, Serialize)]
pub struct TestView {
    /// The stored test.
    #[serde(flatten)]
    pub test: ControlTest,
    /// The control's reference.
    pub control_ref: String,
    /// The items drawn, in draw order.
    pub items: Vec<u32>,
    /// Results by item.
    pub outcome: std::collections::BTreeMap<u32, ItemResult>,
    /// How many items are exceptions.
    pub exceptions: usize,
}

pub(crate) fn test_view(
    t: ControlTest,
    controls: &[attest_store::control::Control],
) -> AppResult<TestView> {
    let items: Vec<u32> = serde_json::from_str(&t.drawn)
        .map_err(|e| AppError::Internal(format!("test {}: {e}", t.id)))?;
    let outcome: std::collections::BTreeMap<u32, ItemResult> = serde_json::from_str(&t.results)
        .map_err(|e| AppError::Internal(format!("test {}: {e}", t.id)))?;
    Ok(TestView {
        control_ref: controls
            .iter()
            .find(|c| c.id == t.control_id)
            .map(|c| c.reference.clone())
            .unwrap_or_default(),
        exceptions: outcome.values().filter(|r| r.result == "exception").count(),
        items,
        outcome,
        test: t,
    })
}

impl App {
    /// An engagement with its subservice organisations and CUECs.
    pub async fn engagement_detail(
        &self,
        caller: &Caller,
        key: &str,
    ) -> AppResult<EngagementDetail> {
        let org = caller.require(Permission::ProgramRead)?;
        let e = self.find_engagement(org, key).await?;
        let controls = attest_store::control::list(&self.store, org).await?;
        let tests = store_eng::tests_of(&self.store, None, org, &e.id)
            .await?
            .into_iter()
            .map(|t| test_view(t, &controls))
            .collect::<AppResult<_>>()?;
        Ok(EngagementDetail {
            subservice_orgs: store_eng::subservices(&self.store, org, &e.id).await?,
            cuecs: store_eng::cuecs(&self.store, org, &e.id).await?,
            tests,
            documents: attest_store::workspace::documents(&self.store, org, Some(&e.id)).await?,
            engagement: e,
        })
    }

    /// The engagement for a change to what its report says: a SOC report not yet issued.
    async fn open_soc_report(
        &self,
        tx: &mut attest_store::Tx,
        org: OrgId,
        key: &str,
    ) -> AppResult<Engagement> {
        let found = self.find_engagement(org, key).await?;
        let e = store_eng::lock(tx, org, &found.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        if !e.kind.is_soc() {
            return Err(AppError::Rule {
                rule: "rule-9",
                message: format!(
                    "{} is not a SOC report: subservice organisations and CUECs belong to SOC reports",
                    e.reference
                ),
            });
        }
        ensure_open(&e)?;
        Ok(e)
    }

    /// Records a subservice organisation of a SOC report (carve-out or inclusive).
    pub async fn add_subservice_org(
        &self,
        caller: &Caller,
        key: &str,
        input: SubserviceInput,
    ) -> AppResult<EngagementDetail> {
        let org = caller.require(Permission::EngagementManage)?;
        let name = text("name", &input.name, 200, true)?;
        if !matches!(input.method.as_str(), "carve-out" | "inclusive") {
            return Err(AppError::invalid(
                "method",
                format!(
                    "unknown method `{}` (expected carve-out or inclusive)",
                    input.method
                ),
            ));
        }
        let s = SubserviceOrg {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: String::new(),
            name,
            method: input.method,
            services: text("services", &input.services, 2_000, false)?,
            their_report: text("their_report", &input.their_report, 2_000, false)?,
            csocs: text("csocs", &input.csocs, 20_000, false)?,
            created_at: Timestamp::now(),
        };
        let mut tx = self.store.begin().await?;
        let e = self.open_soc_report(&mut tx, org, key).await?;
        let s = SubserviceOrg {
            engagement_id: e.id.clone(),
            ..s
        };
        store_eng::insert_subservice(&mut tx, org, &s).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.subservice", "engagement", &e.id).after(&s),
        )
        .await?;
        tx.commit().await?;
        self.engagement_detail(caller, &e.id).await
    }

    /// Records a complementary user entity control of a SOC report (numbered CUEC-1, …).
    pub async fn add_cuec(
        &self,
        caller: &Caller,
        key: &str,
        body: &str,
    ) -> AppResult<EngagementDetail> {
        let org = caller.require(Permission::EngagementManage)?;
        let body = text("text", body, 2_000, true)?;
        let mut tx = self.store.begin().await?;
        let e = self.open_soc_report(&mut tx, org, key).await?;
        let c = store_eng::insert_cuec(&mut tx, org, &e.id, &body, Timestamp::now())
            .await
            .map_err(AppError::ref_clash("CUEC"))?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.cuec", "engagement", &e.id).after(&c),
        )
        .await?;
        tx.commit().await?;
        self.engagement_detail(caller, &e.id).await
    }
}

/// A control to test, as a caller asks for it.
#[derive(Debug, Clone)]
pub struct TestInput {
    /// The control (id or reference).
    pub control: String,
    /// `design` or `operating`.
    pub kind: String,
    /// How many occurrences the period holds.
    pub population: u32,
    /// Where the population comes from.
    pub population_note: String,
    /// A seed for the draw (default: a random one, recorded).
    pub seed: Option<u64>,
}

impl App {
    /// Draws the sample for testing one control in an engagement: of design (one item;
    /// the only test of a Type 1) or of operating effectiveness (the sample-size table by
    /// the control's frequency). The draw is seeded and recorded; it is never drawn again.
    pub async fn create_control_test(
        &self,
        caller: &Caller,
        key: &str,
        input: TestInput,
    ) -> AppResult<TestView> {
        let (org, found) = self.workspace_access(caller, key).await?;
        let TestInput {
            control,
            kind,
            population,
            population_note,
            seed,
        } = input;
        let (control, kind) = (control.as_str(), kind.as_str());
        let population_note = text("population_note", &population_note, 2_000, false)?;
        if !(1..=1_000_000).contains(&population) {
            return Err(AppError::invalid(
                "population",
                "a population is 1 to 1,000,000 occurrences",
            ));
        }
        let controls = attest_store::control::list(&self.store, org).await?;
        let scope = self.scope_controls(org, &found).await?;
        let c = scope
            .iter()
            .find(|c| c.id == control || c.reference.eq_ignore_ascii_case(control))
            .ok_or_else(|| {
                AppError::invalid(
                    "control",
                    format!("no control `{control}` in the scope of {}", found.reference),
                )
            })?;
        let operating = match kind {
            "design" => false,
            "operating" if found.kind.is_type1() => {
                return Err(AppError::Rule {
                    rule: "rule-1",
                    message: format!(
                        "{} is a Type 1 report as of one date: its controls are tested for design only",
                        found.reference
                    ),
                });
            }
            "operating" => true,
            other => {
                return Err(AppError::invalid(
                    "kind",
                    format!("unknown test `{other}` (expected design or operating)"),
                ));
            }
        };
        let size = if operating {
            attest_store::workspace::sample_table(&self.store, None, org)
                .await?
                .size(c.frequency, population)
        } else {
            1
        };
        // The organisation does not choose its own sample: a seed is the auditor's (or the
        // operator's at the command line); anyone else gets a random one, recorded.
        if seed.is_some()
            && caller.role != Some(attest_domain::role::Role::Auditor)
            && caller.via != crate::authz::Via::Cli
            && found.kind != EngagementKind::Internal
        {
            return Err(AppError::Rule {
                rule: "auditor-seed",
                message: "only the auditor chooses a seed; leave it out and a random one is drawn and recorded".into(),
            });
        }
        let seed = match seed {
            Some(s) => s,
            None => {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b).map_err(|e| AppError::Internal(e.to_string()))?;
                u64::from_le_bytes(b)
            }
        };
        let drawn = attest_domain::sampling::draw(seed, population, size);
        let now = Timestamp::now();
        let t = ControlTest {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: found.id.clone(),
            control_id: c.id.clone(),
            kind: kind.to_owned(),
            population,
            population_note,
            sample_size: size,
            seed: seed.to_string(),
            algorithm: attest_domain::sampling::ALGORITHM.to_owned(),
            drawn: serde_json::to_string(&drawn).map_err(|e| AppError::Internal(e.to_string()))?,
            results: "{}".into(),
            created_by: caller.actor_text(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        let e = store_eng::lock(&mut tx, org, &found.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        ensure_open(&e)?;
        if let Some(before) = store_eng::tests_of(&self.store, Some(&mut tx), org, &e.id)
            .await?
            .into_iter()
            .find(|x| x.control_id == c.id && x.kind == kind)
        {
            return Err(AppError::Rule {
                rule: "sample-recorded",
                message: format!(
                    "the {kind} sample of {} was drawn on {} (seed {}); it stays on record and is not drawn again",
                    c.reference,
                    before.created_at.date(),
                    before.seed
                ),
            });
        }
        store_eng::insert_test(&mut tx, org, &t).await.map_err(|err| match err {
            attest_store::StoreError::Unique { .. } => AppError::Rule {
                rule: "sample-recorded",
                message: format!("the {kind} sample of {} was drawn at the same moment; it is not drawn again", c.reference),
            },
            other => other.into(),
        })?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.test", "engagement", &e.id).after(&serde_json::json!({
                "test": t.id, "control": c.reference, "kind": kind, "population": population,
                "sample_size": size, "seed": t.seed, "algorithm": t.algorithm, "drawn": drawn,
            })),
        )
        .await?;
        tx.commit().await?;
        test_view(t, &controls)
    }

    /// Records the result of one sampled item (`pass` or `exception`, with what was seen).
    pub async fn record_test_result(
        &self,
        caller: &Caller,
        key: &str,
        test: &str,
        item: u32,
        result: &str,
        note: &str,
    ) -> AppResult<TestView> {
        let (org, found) = self.workspace_access(caller, key).await?;
        if !matches!(result, "pass" | "exception") {
            return Err(AppError::invalid(
                "result",
                format!("unknown result `{result}` (expected pass or exception)"),
            ));
        }
        let note = text("note", note, 4_000, result == "exception")?;
        let controls = attest_store::control::list(&self.store, org).await?;
        let mut tx = self.store.begin().await?;
        let e = store_eng::lock(&mut tx, org, &found.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        ensure_open(&e)?;
        let t = store_eng::tests_of(&self.store, Some(&mut tx), org, &e.id)
            .await?
            .into_iter()
            .find(|x| x.id == test)
            .ok_or(AppError::NotFound("control test"))?;
        let mut view = test_view(t, &controls)?;
        if !view.items.contains(&item) {
            return Err(AppError::invalid(
                "item",
                format!("item {item} was not drawn (the sample is {:?})", view.items),
            ));
        }
        if let Some(before) = view.outcome.get(&item)
            && before.result == "exception"
            && result != "exception"
        {
            return Err(AppError::Rule {
                rule: "exception-recorded",
                message: format!(
                    "item {item} of {}'s sample was recorded as an exception on {}: it stays an exception (raise what changed in a comment)",
                    view.control_ref,
                    view.test.updated_at.date()
                ),
            });
        }
        view.outcome.insert(
            item,
            ItemResult {
                result: result.to_owned(),
                note,
            },
        );
        if result == "exception" {
            self.exception_finding(&mut tx, caller, org, &e, &view)
                .await?;
        }
        let json =
            serde_json::to_string(&view.outcome).map_err(|e| AppError::Internal(e.to_string()))?;
        store_eng::set_results(&mut tx, org, test, &json, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.result", "engagement", &e.id).after(&serde_json::json!({
                "test": test, "item": item, "result": result, "note": view.outcome[&item].note,
            })),
        )
        .await?;
        tx.commit().await?;
        view.test.results = json;
        view.exceptions = view
            .outcome
            .values()
            .filter(|r| r.result == "exception")
            .count();
        Ok(view)
    }
}

impl App {
    /// An exception becomes a finding: one per control test, listing its exception items
    /// (an ISO audit's finding is a minor nonconformity, raised into the ISMS).
    async fn exception_finding(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        org: OrgId,
        e: &Engagement,
        view: &TestView,
    ) -> AppResult<()> {
        let items: Vec<u32> = view
            .outcome
            .iter()
            .filter(|(_, r)| r.result == "exception")
            .map(|(i, _)| *i)
            .collect();
        let notes: Vec<String> = view
            .outcome
            .iter()
            .filter(|(_, r)| r.result == "exception")
            .map(|(i, r)| format!("item {i}: {}", r.note))
            .collect();
        let description = format!(
            "{} of {} sampled items tested with exception ({} test, population {}).\n{}",
            items.len(),
            view.items.len(),
            view.test.kind,
            view.test.population,
            notes.join("\n")
        );
        let existing =
            attest_store::workspace::findings_of(&self.store, Some(&mut *tx), org, &e.id)
                .await?
                .into_iter()
                .find(|f| f.test_id.as_deref() == Some(view.test.id.as_str()));
        match existing {
            Some(before) => {
                let after = attest_store::workspace::Finding {
                    description,
                    items: serde_json::to_string(&items)
                        .map_err(|err| AppError::Internal(err.to_string()))?,
                    updated_at: Timestamp::now(),
                    ..before.clone()
                };
                attest_store::workspace::put_finding(tx, org, &after).await?;
                record(
                    tx,
                    caller,
                    Event::org(org, "engagement.finding", "engagement", &e.id)
                        .before(&before)
                        .after(&after),
                )
                .await?;
            }
            None => {
                let severity = match e.kind {
                    k if k.is_soc() => "exception",
                    EngagementKind::Pentest => "medium",
                    _ => "minor",
                };
                self.insert_finding(
                    tx,
                    caller,
                    org,
                    e,
                    crate::workspace::NewFinding {
                        title: format!("Exception in testing {}", view.control_ref),
                        description,
                        severity: severity.into(),
                        control_id: Some(view.test.control_id.clone()),
                        test_id: Some(view.test.id.clone()),
                        items,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }
}
