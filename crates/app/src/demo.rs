//! A demo data set: a fictional cloud provider, Hanbit Cloud (한빛 클라우드), with product
//! families and services, an ISO/IEC 27001 certificate, SOC 1, SOC 2 and SOC 3 reports, a
//! bridge letter, a SOC program cadence, and a trust portal in English and Korean modelled on
//! the structure of the seed pages, so a newcomer sees a full portal at once. Everything goes
//! through the ordinary use cases, so the demo obeys every rule real data does.

use attest_domain::Timestamp;
use attest_domain::engagement::{Cadence, EngagementKind, EngagementStatus, Opinion};
use futures::stream;
use time::{Date, Month};

use crate::engagement::{CertificateInput, EngagementInput};
use crate::portal::{OfferingInput, SettingsInput};
use crate::{App, AppError, AppResult, Caller};

/// What `attest demo load` made.
#[derive(Debug, Clone)]
pub struct DemoLoaded {
    /// The organisation's short name (the portal is at `/trust/{slug}`).
    pub slug: String,
    /// The staff owner's e-mail address.
    pub email: String,
    /// Their one-time password (none when the address already had an account).
    pub one_time_password: Option<String>,
}

/// The demo organisation's name.
pub const DEMO_ORG: &str = "Hanbit Cloud";
/// Its short name.
pub const DEMO_SLUG: &str = "hanbit-cloud";
/// Its owner.
pub const DEMO_EMAIL: &str = "owner@hanbit-cloud.example";

fn day(y: i32, m: u8, d: u8) -> AppResult<Date> {
    Month::try_from(m)
        .ok()
        .and_then(|m| Date::from_calendar_date(y, m, d).ok())
        .ok_or_else(|| AppError::Internal(format!("demo date {y}-{m}-{d}")))
}

/// The last day of the last September before `today` whose period has ended.
fn last_period_end(today: Date) -> AppResult<Date> {
    let this_year = day(today.year(), 9, 30)?;
    if this_year < today {
        Ok(this_year)
    } else {
        day(today.year() - 1, 9, 30)
    }
}

fn sample_pdf(title: &str, issuer: &str, paragraphs: &[String]) -> AppResult<Vec<u8>> {
    attest_report::sample::pdf(&attest_report::sample::SampleDocument {
        title: title.to_owned(),
        organisation: DEMO_ORG.to_owned(),
        issuer: issuer.to_owned(),
        dated: Timestamp::now().date().to_string(),
        paragraphs: paragraphs.to_vec(),
        generated_on: Timestamp::now().date(),
    })
    .map_err(|e| AppError::Internal(e.to_string()))
}

impl App {
    /// Loads the demo data set into a new organisation. Refused when it already exists.
    pub async fn load_demo(&self) -> AppResult<DemoLoaded> {
        if attest_store::org::by_slug(&self.store, DEMO_SLUG)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict {
                field: "org".into(),
                message: format!("the demo organisation {DEMO_ORG} is already loaded"),
            });
        }
        let created = self
            .create_organisation(&Caller::cli(None), DEMO_ORG, DEMO_EMAIL)
            .await?;
        let cli = Caller::cli(Some(created.org.id));
        let today = Timestamp::now().date();
        let end = last_period_end(today)?;
        let start = day(end.year() - 1, 10, 1)?;

        // Product families and services.
        let mut services = Vec::new();
        for (family, names) in [
            ("Compute", &["Virtual Machines", "Kubernetes Service"][..]),
            ("Storage", &["Object Storage", "Managed Database"][..]),
            ("Productivity", &["Hanbit Mail", "Hanbit Docs"][..]),
        ] {
            let f = self.create_family(&cli, family, "").await?;
            for n in names {
                services.push(self.create_service(&cli, n, "", Some(&f.id)).await?);
            }
        }
        let ids = |names: &[&str]| -> Vec<String> {
            services
                .iter()
                .filter(|s| names.contains(&s.name.as_str()))
                .map(|s| s.id.clone())
                .collect()
        };
        let platform = ids(&[
            "Virtual Machines",
            "Kubernetes Service",
            "Object Storage",
            "Managed Database",
        ]);
        let productivity = ids(&["Hanbit Mail", "Hanbit Docs"]);

        // SOC reports over the last full period, issued unqualified.
        let mut reports = Vec::new();
        for (kind, scope, title) in [
            (
                EngagementKind::Soc1Type2,
                &platform,
                "SOC 1 Type 2 — Hanbit Cloud platform",
            ),
            (
                EngagementKind::Soc2Type2,
                &platform,
                "SOC 2 Type 2 — Hanbit Cloud platform",
            ),
            (
                EngagementKind::Soc2Type2,
                &productivity,
                "SOC 2 Type 2 — Hanbit productivity",
            ),
        ] {
            let e = self
                .create_engagement(
                    &cli,
                    EngagementInput {
                        kind,
                        title: title.to_owned(),
                        firm: "Example Assurance LLP".into(),
                        lead_auditor: "Jordan Lee, CPA".into(),
                        as_of: None,
                        period: Some((start, end)),
                        services: scope.clone(),
                        frameworks: vec![],
                        categories: vec![],
                    },
                )
                .await?;
            self.set_engagement_status(&cli, &e.id, EngagementStatus::Fieldwork)
                .await?;
            self.set_engagement_status(&cli, &e.id, EngagementStatus::Reporting)
                .await?;
            self.record_opinion(&cli, &e.id, Opinion::Unqualified, "")
                .await?;
            self.add_cuec(
                &cli,
                &e.id,
                "Customers manage the access of their own users to the services.",
            )
            .await?;
            reports.push(self.issue_engagement(&cli, &e.id).await?);
        }
        let soc2 = reports[1].clone();
        // SOC 3 on the platform's SOC 2 (rule 2), and a bridge letter after it (rule 4).
        let soc3 = self
            .create_engagement(
                &cli,
                EngagementInput {
                    kind: EngagementKind::Soc3,
                    title: "SOC 3 — Hanbit Cloud platform".into(),
                    firm: "Example Assurance LLP".into(),
                    lead_auditor: "Jordan Lee, CPA".into(),
                    as_of: None,
                    period: Some((start, end)),
                    services: platform.clone(),
                    frameworks: vec![],
                    categories: vec![],
                },
            )
            .await?;
        self.record_opinion(&cli, &soc3.id, Opinion::Unqualified, "")
            .await?;
        let soc3 = self.issue_engagement(&cli, &soc3.id).await?;
        // 1 October to 31 December, like the seeds' letters.
        let bridge_until = day(end.year(), 12, 31)?;
        for (i, r) in reports.iter().enumerate() {
            let letter = self
                .create_bridge_letter(&cli, &r.id, bridge_until, "Kim Minji, CISO", "", "en")
                .await?;
            // The platform's SOC 2 letter also goes to the portal, restricted like its report.
            if i == 1 {
                let d = self.bridge_letter_document(&cli, &letter.id).await?;
                self.publish_document(&cli, &d.id, true).await?;
            }
        }
        self.set_soc_program(
            &cli,
            "soc2",
            Cadence {
                period_months: 12,
                period_ends: vec![(9, 30)],
                report_weeks: 6,
            },
        )
        .await?;
        self.set_soc_program(
            &cli,
            "soc1",
            Cadence {
                period_months: 12,
                period_ends: vec![(9, 30)],
                report_weeks: 6,
            },
        )
        .await?;

        // ISO/IEC 27001:2022: the stage 2 audit and its certificate.
        let iso_start = day(end.year() - 1, 1, 12)?;
        let iso = self
            .create_engagement(
                &cli,
                EngagementInput {
                    kind: EngagementKind::IsoStage2,
                    title: "ISO/IEC 27001:2022 certification audit".into(),
                    firm: "Example Certification Ltd".into(),
                    lead_auditor: "Park Jiwoo".into(),
                    as_of: None,
                    period: Some((iso_start, day(iso_start.year(), 1, 16)?)),
                    services: [platform.clone(), productivity.clone()].concat(),
                    frameworks: vec![],
                    categories: vec![],
                },
            )
            .await?;
        let iso = self.issue_engagement(&cli, &iso.id).await?;
        let issued = day(iso_start.year(), 2, 20)?;
        let expires = day(iso_start.year() + 3, 2, 19)?;
        self.add_certificate(
            &cli,
            CertificateInput {
                number: "ECL-ISMS-20417".into(),
                body: "Example Certification Ltd".into(),
                standard: "iso27001-2022".into(),
                scope: "The information security management system supporting the Hanbit Cloud platform and productivity services".into(),
                issued_on: issued,
                expires_on: expires,
                engagement: Some(iso.id.clone()),
            },
        )
        .await?;

        // A penetration test of the platform in the summer, whose summary customers may
        // read under NDA.
        let pentest = self
            .create_engagement(
                &cli,
                EngagementInput {
                    kind: EngagementKind::Pentest,
                    title: "Penetration test — Hanbit Cloud platform".into(),
                    firm: "Example Offensive Security Ltd".into(),
                    lead_auditor: "Choi Yuna, OSCP".into(),
                    as_of: None,
                    period: Some((day(end.year(), 8, 3)?, day(end.year(), 8, 21)?)),
                    services: platform.clone(),
                    frameworks: vec![],
                    categories: vec![],
                },
            )
            .await?;
        let pentest = self.issue_engagement(&cli, &pentest.id).await?;

        // Documents: sample PDFs of the reports and the certificate, published.
        let docs = [
            (
                &soc3,
                "report",
                "SOC 3 report — Hanbit Cloud platform",
                "Example Assurance LLP",
            ),
            (
                &soc2,
                "report",
                "SOC 2 Type 2 report — Hanbit Cloud platform",
                "Example Assurance LLP",
            ),
            (
                &reports[0],
                "report",
                "SOC 1 Type 2 report — Hanbit Cloud platform",
                "Example Assurance LLP",
            ),
            (
                &iso,
                "certificate",
                "ISO/IEC 27001:2022 certificate ECL-ISMS-20417",
                "Example Certification Ltd",
            ),
            (
                &iso,
                "soa",
                "Statement of Applicability (ISO/IEC 27001:2022)",
                "Hanbit Cloud",
            ),
            (
                &pentest,
                "pentest-summary",
                "Penetration test summary — Hanbit Cloud platform",
                "Example Offensive Security Ltd",
            ),
        ];
        for (e, kind, title, issuer) in docs {
            let bytes = sample_pdf(
                title,
                issuer,
                &[
                    format!("{} ({})", e.title, e.period.range()),
                    "This sample document belongs to Attest's demo data set. It shows where an \
                     issued report or certificate appears on the trust portal."
                        .to_owned(),
                ],
            )?;
            let body = stream::iter(vec![Ok::<_, String>(bytes::Bytes::from(bytes))]);
            let d = self
                .add_document(&cli, &e.id, kind, title, "en", "sample.pdf", body)
                .await?;
            self.publish_document(&cli, &d.id, true).await?;
        }

        // The portal, in English and Korean.
        self.set_portal_settings(
            &cli,
            SettingsInput {
                enabled: true,
                name_en: "Hanbit Cloud".into(),
                name_ko: "한빛 클라우드".into(),
                intro_en: "Hanbit Cloud's certifications and attestations, with the services they cover and the documents behind them. Public documents download here; reports under NDA are available to customers on request.".into(),
                intro_ko: "한빛 클라우드의 인증 및 증명, 적용 대상 서비스와 근거 문서를 안내합니다. 공개 문서는 여기서 내려받을 수 있으며, NDA 대상 보고서는 고객의 요청에 따라 제공됩니다.".into(),
                colour: "#0f766e".into(),
                auto_domains: Vec::new(),
                host: String::new(),
            },
        )
        .await?;
        self.publish_nda(&cli, DEMO_NDA_EN, DEMO_NDA_KO).await?;
        self.put_offering(
            &cli,
            "iso-27001",
            OfferingInput {
                position: 1,
                title_en: "ISO/IEC 27001 Information Security Management".into(),
                title_ko: "ISO/IEC 27001 정보 보안 관리 표준".into(),
                overview_en: "ISO/IEC 27001 specifies an information security management system (ISMS): how an organisation brings information security under management control, assesses and treats its risks, and keeps improving. Certification means an accredited body audited the ISMS against the standard.".into(),
                overview_ko: "ISO/IEC 27001은 정보 보안 관리 체계(ISMS)를 규정하는 국제 표준입니다. 조직이 정보 보안을 경영 통제 아래 두고, 위험을 평가·처리하며, 지속적으로 개선하는 방법을 정합니다. 인증은 공인 인증 기관이 표준에 따라 ISMS를 심사했음을 뜻합니다.".into(),
                relation_en: "Hanbit Cloud's ISMS covers the platform and productivity services below. It is audited every year by an accredited certification body.".into(),
                relation_ko: "한빛 클라우드의 ISMS는 아래의 플랫폼 및 생산성 서비스를 포함합니다. 공인 인증 기관이 매년 심사합니다.".into(),
                standards: vec!["iso27001-2022".into()],
                published: true,
                ..OfferingInput::default()
            },
        )
        .await?;
        self.put_offering(
            &cli,
            "soc",
            OfferingInput {
                position: 2,
                title_en: "System and Organization Controls (SOC) 1, 2 and 3".into(),
                title_ko: "SOC(System and Organization Controls) 1, 2, 3 보고서".into(),
                overview_en: "SOC reports are independent examinations of a service organisation's controls. SOC 1 covers controls relevant to customers' financial reporting; SOC 2 covers security, availability, processing integrity, confidentiality and privacy; SOC 3 is the public summary of a SOC 2.".into(),
                overview_ko: "SOC 보고서는 서비스 조직의 통제에 대한 독립적인 검토 결과입니다. SOC 1은 고객의 재무 보고와 관련된 통제를, SOC 2는 보안·가용성·처리 무결성·기밀성·개인정보 보호를 다루며, SOC 3는 SOC 2의 공개 요약본입니다.".into(),
                relation_en: "Hanbit Cloud is examined over 12-month periods. Between reports, bridge letters state that nothing material changed.".into(),
                relation_ko: "한빛 클라우드는 12개월 기간 단위로 검토를 받습니다. 보고서 사이의 기간에는 브리지 레터로 중요한 변경이 없었음을 밝힙니다.".into(),
                reports: vec![
                    "soc1-type2".into(),
                    "soc2-type2".into(),
                    "soc3".into(),
                    "pentest".into(),
                ],
                published: true,
                ..OfferingInput::default()
            },
        )
        .await?;
        self.add_faq(
            &cli,
            "soc",
            ("How do I get the SOC 2 report?", "SOC 2 에 관한 보고서는 어떻게 받나요?"),
            (
                "Customers under NDA can request it from this portal. The SOC 3 report is public.",
                "NDA를 체결한 고객은 이 포털에서 요청할 수 있습니다. SOC 3 보고서는 공개되어 있습니다.",
            ),
        )
        .await?;
        self.add_faq(
            &cli,
            "iso-27001",
            ("How often is the certification audited?", "인증 심사는 얼마나 자주 받나요?"),
            (
                "Every year: surveillance audits in the first and second years, recertification in the third.",
                "매년 받습니다. 1년차와 2년차에는 사후 심사를, 3년차에는 갱신 심사를 받습니다.",
            ),
        )
        .await?;
        self.add_resource(
            &cli,
            "iso-27001",
            ("ISO/IEC 27001 at ISO", "ISO의 ISO/IEC 27001 소개"),
            "https://www.iso.org/standard/27001",
        )
        .await?;
        self.add_resource(
            &cli,
            "soc",
            ("SOC for service organizations (AICPA)", "서비스 조직을 위한 SOC (AICPA)"),
            "https://www.aicpa-cima.com/topic/audit-assurance/audit-and-assurance-greater-than-soc-2",
        )
        .await?;
        Ok(DemoLoaded {
            slug: created.org.slug.to_string(),
            email: created.email,
            one_time_password: created.one_time_password,
        })
    }
}

/// The demo portal's NDA (a short sample, not legal advice).
const DEMO_NDA_EN: &str = "Mutual non-disclosure agreement (sample)\n\n\
1. Hanbit Cloud shares audit reports and related documents (\"Confidential Information\") with you only to let you assess its services.\n\
2. You keep the Confidential Information confidential, use it only for that purpose, and share it only with your employees and auditors who need it and are bound by the same duty.\n\
3. Each copy is marked with your name; you do not remove the marking.\n\
4. This agreement lasts three years from your acceptance.\n";

/// The same NDA in Korean.
const DEMO_NDA_KO: &str = "상호 비밀유지계약 (예시)\n\n\
1. 한빛 클라우드는 고객이 서비스를 평가할 수 있도록 감사 보고서와 관련 문서(\"비밀정보\")를 제공합니다.\n\
2. 고객은 비밀정보를 비밀로 유지하고 해당 목적으로만 사용하며, 같은 의무를 지는 임직원과 감사인 중 필요한 사람에게만 공유합니다.\n\
3. 각 사본에는 고객의 이름이 표시되며, 고객은 이 표시를 지우지 않습니다.\n\
4. 이 계약은 동의한 날부터 3년간 유효합니다.\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_period_has_ended() {
        let d =
            |s: &str| Date::parse(s, &time::format_description::well_known::Iso8601::DATE).unwrap();
        assert_eq!(last_period_end(d("2026-11-24")).unwrap(), d("2026-09-30"));
        assert_eq!(last_period_end(d("2026-09-30")).unwrap(), d("2025-09-30"));
        assert_eq!(last_period_end(d("2026-03-01")).unwrap(), d("2025-09-30"));
    }
}
