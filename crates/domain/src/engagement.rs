//! Audit engagements and what they issue: SOC 1, SOC 2 and SOC 3 reports, ISO certification
//! audits and certificates, bridge letters. The rules of DOMAIN.md 1–5 live here:
//! Type 1 and Type 2 dates, SOC 3 only on a qualifying SOC 2 Type 2, cadences and the
//! coverage timeline, bridge letters, certificate validity.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

use crate::evidence::{DateRange, add_months};
use crate::risk::text_enum;

text_enum!(
    /// What kind of audit an engagement is.
    EngagementKind, UnknownEngagementKind,
    "iso-stage1, iso-stage2, iso-surveillance, iso-recertification, internal, soc1-type1, soc1-type2, soc2-type1, soc2-type2, soc3 or pentest",
    {
        /// ISO certification, stage 1 (documentation review).
        IsoStage1 => "iso-stage1", "ISO stage 1";
        /// ISO certification, stage 2 (implementation).
        IsoStage2 => "iso-stage2", "ISO stage 2";
        /// ISO surveillance audit (years one and two).
        IsoSurveillance => "iso-surveillance", "ISO surveillance";
        /// ISO recertification audit.
        IsoRecertification => "iso-recertification", "ISO recertification";
        /// Internal audit.
        Internal => "internal", "Internal audit";
        /// SOC 1 Type 1 (SSAE 18 / ISAE 3402), as of a date.
        Soc1Type1 => "soc1-type1", "SOC 1 Type 1";
        /// SOC 1 Type 2, over a period.
        Soc1Type2 => "soc1-type2", "SOC 1 Type 2";
        /// SOC 2 Type 1 (AT-C 205), as of a date.
        Soc2Type1 => "soc2-type1", "SOC 2 Type 1";
        /// SOC 2 Type 2, over a period.
        Soc2Type2 => "soc2-type2", "SOC 2 Type 2";
        /// SOC 3, the general-use report over a SOC 2 Type 2's period.
        Soc3 => "soc3", "SOC 3";
        /// A penetration test by a third party over a testing window; it issues a summary
        /// (letter of attestation) that customers may read under NDA.
        Pentest => "pentest", "Penetration test";
    }
);

impl EngagementKind {
    /// A SOC examination (it ends in an opinion).
    pub fn is_soc(self) -> bool {
        matches!(
            self,
            Self::Soc1Type1 | Self::Soc1Type2 | Self::Soc2Type1 | Self::Soc2Type2 | Self::Soc3
        )
    }

    /// A report as of one date (rule 1).
    pub fn is_type1(self) -> bool {
        matches!(self, Self::Soc1Type1 | Self::Soc2Type1)
    }

    /// A report over a period of at most 12 months (rule 1).
    pub fn is_period_report(self) -> bool {
        matches!(self, Self::Soc1Type2 | Self::Soc2Type2 | Self::Soc3)
    }

    /// What a finding's severity may be in an engagement of this kind.
    pub fn severities(self) -> &'static [&'static str] {
        if self.is_soc() {
            &["exception"]
        } else if self == Self::Pentest {
            &["critical", "high", "medium", "low", "informational"]
        } else {
            &["minor", "major", "observation"]
        }
    }

    /// An ISO certification-cycle audit.
    pub fn is_iso(self) -> bool {
        matches!(
            self,
            Self::IsoStage1 | Self::IsoStage2 | Self::IsoSurveillance | Self::IsoRecertification
        )
    }
}

text_enum!(
    /// Where an engagement stands.
    EngagementStatus, UnknownEngagementStatus,
    "planning, fieldwork, reporting, issued or withdrawn",
    {
        /// Scope and dates being agreed.
        Planning => "planning", "Planning";
        /// The auditor is testing.
        Fieldwork => "fieldwork", "Fieldwork";
        /// The report is being written.
        Reporting => "reporting", "Reporting";
        /// The report (or certificate) is issued; nothing changes any more.
        Issued => "issued", "Issued";
        /// Abandoned.
        Withdrawn => "withdrawn", "Withdrawn";
    }
);

impl EngagementStatus {
    /// Still going on (auditors work in it; evidence in its period is kept).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Issued | Self::Withdrawn)
    }
}

text_enum!(
    /// The auditor's opinion on a SOC report.
    Opinion, UnknownOpinion,
    "unqualified, qualified, adverse or disclaimer",
    {
        /// Clean.
        Unqualified => "unqualified", "Unqualified";
        /// Except for the matters described.
        Qualified => "qualified", "Qualified";
        /// The controls are not suitably designed or did not operate.
        Adverse => "adverse", "Adverse";
        /// The auditor could not form an opinion.
        Disclaimer => "disclaimer", "Disclaimer of opinion";
    }
);

text_enum!(
    /// A SOC 2 trust services category.
    TrustCategory, UnknownTrustCategory,
    "security, availability, processing-integrity, confidentiality or privacy",
    {
        /// Security (the common criteria, always in scope).
        Security => "security", "Security";
        /// Availability.
        Availability => "availability", "Availability";
        /// Processing integrity.
        ProcessingIntegrity => "processing-integrity", "Processing integrity";
        /// Confidentiality.
        Confidentiality => "confidentiality", "Confidentiality";
        /// Privacy.
        Privacy => "privacy", "Privacy";
    }
);

/// When an engagement's report speaks of: one date (Type 1) or a period (Type 2, SOC 3,
/// audits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Period {
    /// As of one date.
    AsOf {
        /// The date.
        date: Date,
    },
    /// Over a period, both days included.
    Range {
        /// First day.
        start: Date,
        /// Last day.
        end: Date,
    },
}

impl Period {
    /// The days it speaks of.
    pub fn range(&self) -> DateRange {
        match *self {
            Period::AsOf { date } => DateRange {
                start: date,
                end: date,
            },
            Period::Range { start, end } => DateRange { start, end },
        }
    }

    /// The last day.
    pub fn end(&self) -> Date {
        self.range().end
    }
}

/// A rule of DOMAIN.md refused the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleBroken {
    /// Which rule (`rule-1` … `rule-5`).
    pub rule: &'static str,
    /// Which field.
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn broken(rule: &'static str, field: &'static str, message: String) -> RuleBroken {
    RuleBroken {
        rule,
        field,
        message,
    }
}

/// The period a kind of engagement may have (rule 1): a Type 1 is as of one date; a Type 2
/// (and a SOC 3) covers a period that starts before it ends and lasts at most 12 months; an
/// audit has dates that do not run backwards.
pub fn period_for(
    kind: EngagementKind,
    as_of: Option<Date>,
    range: Option<(Date, Date)>,
) -> Result<Period, RuleBroken> {
    match (kind.is_type1(), as_of, range) {
        (true, Some(date), None) => Ok(Period::AsOf { date }),
        (true, _, _) => Err(broken(
            "rule-1",
            "as_of",
            format!(
                "a {} report is as of one date: give --as-of, not a period",
                kind.label()
            ),
        )),
        (false, None, Some((start, end))) => {
            if kind.is_period_report() {
                if end <= start {
                    return Err(broken(
                        "rule-1",
                        "end",
                        format!("a {} period must start before it ends", kind.label()),
                    ));
                }
                if end >= add_months(start, 12) {
                    return Err(broken(
                        "rule-1",
                        "end",
                        format!(
                            "a {} period covers at most 12 months: from {start} it ends on {} at the latest",
                            kind.label(),
                            add_months(start, 12) - Duration::days(1)
                        ),
                    ));
                }
            } else if end < start {
                return Err(broken(
                    "rule-1",
                    "end",
                    "the audit cannot end before it starts".into(),
                ));
            }
            Ok(Period::Range { start, end })
        }
        (false, Some(date), None) if !kind.is_period_report() => Ok(Period::Range {
            start: date,
            end: date,
        }),
        (false, _, _) => Err(broken(
            "rule-1",
            "start",
            format!("a {} covers a period: give --start and --end", kind.label()),
        )),
    }
}

/// An issued SOC 2 report as rule 2 sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soc2Report<'a> {
    /// Its id.
    pub id: &'a str,
    /// Type 2 or not.
    pub kind: EngagementKind,
    /// Its period.
    pub period: Period,
    /// The services it covers.
    pub services: &'a [String],
    /// Its opinion.
    pub opinion: Option<Opinion>,
    /// Whether it is issued.
    pub issued: bool,
}

/// The SOC 2 Type 2 a SOC 3 rests on (rule 2): issued, unqualified, covering the SOC 3's
/// whole period and every one of its services.
pub fn soc3_basis<'a>(
    period: DateRange,
    services: &[String],
    reports: &[Soc2Report<'a>],
) -> Result<&'a str, RuleBroken> {
    let found = reports.iter().find(|r| {
        r.kind == EngagementKind::Soc2Type2
            && r.issued
            && r.opinion == Some(Opinion::Unqualified)
            && r.period.range().start <= period.start
            && period.end <= r.period.range().end
            && services.iter().all(|s| r.services.contains(s))
    });
    found.map(|r| r.id).ok_or_else(|| {
        broken(
            "rule-2",
            "period",
            format!(
                "a SOC 3 needs an issued SOC 2 Type 2 with an unqualified opinion covering {period} and its services"
            ),
        )
    })
}

/// The period a bridge letter covers (rule 4): from the day after its report's period ends
/// until `until`, at most `max_months` long, and never into the next report's period.
pub fn bridge_period(
    report_end: Date,
    until: Date,
    max_months: u32,
    next_report_start: Option<Date>,
) -> Result<DateRange, RuleBroken> {
    let start = report_end + Duration::days(1);
    if until < start {
        return Err(broken(
            "rule-4",
            "until",
            format!(
                "a bridge letter starts on {start}, the day after the report's period ends: `until` must not be earlier"
            ),
        ));
    }
    let limit = add_months(start, max_months) - Duration::days(1);
    if until > limit {
        return Err(broken(
            "rule-4",
            "until",
            format!(
                "a bridge letter covers at most {max_months} months: from {start} until {limit} at the latest"
            ),
        ));
    }
    if let Some(next) = next_report_start
        && until >= next
    {
        return Err(broken(
            "rule-4",
            "until",
            format!(
                "the next report's period starts on {next}: the bridge letter must end before it"
            ),
        ));
    }
    Ok(DateRange { start, end: until })
}

/// A SOC program's cadence (rule 3): reports over `period_months` ending on each of
/// `period_ends` (month, day), issued within `report_weeks` of the period's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadence {
    /// How long each period is, in months (1 to 12).
    pub period_months: u32,
    /// The days periods end on each year (month 1–12, day).
    pub period_ends: Vec<(u8, u8)>,
    /// Weeks from the period's end to the report.
    pub report_weeks: u32,
}

/// A planned report of a cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlannedReport {
    /// Its period.
    pub period: DateRange,
    /// When the report is due.
    pub report_due: Date,
}

impl Cadence {
    /// Checks the cadence makes sense.
    pub fn validate(&self) -> Result<(), RuleBroken> {
        if !(1..=12).contains(&self.period_months) {
            return Err(broken(
                "rule-3",
                "period_months",
                "a period lasts 1 to 12 months".into(),
            ));
        }
        if self.period_ends.is_empty() || self.period_ends.len() > 12 {
            return Err(broken(
                "rule-3",
                "period_ends",
                "give 1 to 12 period end days".into(),
            ));
        }
        for (m, d) in &self.period_ends {
            let ok = Month::try_from(*m)
                .ok()
                .is_some_and(|month| *d >= 1 && *d <= time::util::days_in_month(month, 2023));
            if !ok {
                return Err(broken(
                    "rule-3",
                    "period_ends",
                    format!("{m:02}-{d:02} is not a day of the year"),
                ));
            }
        }
        if self.report_weeks > 26 {
            return Err(broken(
                "rule-3",
                "report_weeks",
                "a report is due within 26 weeks of its period's end".into(),
            ));
        }
        Ok(())
    }

    /// The next `count` periods ending after `after`, in order.
    pub fn next_reports(&self, after: Date, count: usize) -> Vec<PlannedReport> {
        let mut ends: Vec<Date> = Vec::new();
        for year in after.year()..=after.year() + count as i32 + 1 {
            for (m, d) in &self.period_ends {
                let Ok(month) = Month::try_from(*m) else {
                    continue;
                };
                let day = (*d).min(time::util::days_in_month(month, year));
                if let Ok(end) = Date::from_calendar_date(year, month, day)
                    && end > after
                {
                    ends.push(end);
                }
            }
        }
        ends.sort();
        ends.dedup();
        ends.into_iter()
            .take(count)
            .map(|end| {
                let start = minus_months(end + Duration::days(1), self.period_months);
                PlannedReport {
                    period: DateRange { start, end },
                    report_due: end + Duration::weeks(i64::from(self.report_weeks)),
                }
            })
            .collect()
    }
}

/// `d` moved back by `months` calendar months (day kept where the month allows).
fn minus_months(d: Date, months: u32) -> Date {
    let total = d.year() * 12 + (d.month() as i32 - 1) - months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).expect("a month number from 1 to 12");
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).expect("a valid calendar date")
}

/// What covers a stretch of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cover {
    /// A report's period.
    Report,
    /// A bridge letter.
    Bridge,
    /// Nothing: a gap.
    Gap,
}

/// A stretch of consecutive days with the same cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// The days.
    pub range: DateRange,
    /// What covers them.
    pub cover: Cover,
}

/// The coverage timeline of a window (rule 3): consecutive stretches covered by a report
/// period, else by a bridge letter, else reported as a gap. The segments partition the
/// window exactly.
pub fn timeline(window: DateRange, reports: &[DateRange], bridges: &[DateRange]) -> Vec<Segment> {
    // Boundaries where the cover may change: the window's, and every range's start and the
    // day after its end.
    let mut cuts: Vec<Date> = vec![window.start, window.end + Duration::days(1)];
    for r in reports.iter().chain(bridges) {
        for d in [r.start, r.end + Duration::days(1)] {
            if window.start < d && d <= window.end {
                cuts.push(d);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let mut out: Vec<Segment> = Vec::new();
    for w in cuts.windows(2) {
        let range = DateRange {
            start: w[0],
            end: w[1] - Duration::days(1),
        };
        let cover = if reports.iter().any(|r| r.contains(range.start)) {
            Cover::Report
        } else if bridges.iter().any(|b| b.contains(range.start)) {
            Cover::Bridge
        } else {
            Cover::Gap
        };
        match out.last_mut() {
            Some(last) if last.cover == cover => last.range.end = range.end,
            _ => out.push(Segment { range, cover }),
        }
    }
    out
}

text_enum!(
    /// An ISO certificate's recorded state (expiry is derived from the dates).
    CertificateState, UnknownCertificateState,
    "valid, suspended or withdrawn",
    {
        /// In force.
        Valid => "valid", "Valid";
        /// Suspended by the certification body.
        Suspended => "suspended", "Suspended";
        /// Withdrawn by the certification body.
        Withdrawn => "withdrawn", "Withdrawn";
    }
);

/// The day certificates against ISO/IEC 27001:2013 ended (rule 5).
pub const ISO27001_2013_END: Date = time::macros::date!(2025 - 10 - 31);

/// Checks an ISO certificate's dates (rule 5): valid for at most three years from issue,
/// and one against 27001:2013 not beyond 31 October 2025.
pub fn check_certificate(
    standard: &str,
    issued_on: Date,
    expires_on: Date,
) -> Result<(), RuleBroken> {
    if expires_on <= issued_on {
        return Err(broken(
            "rule-5",
            "expires_on",
            "a certificate expires after it is issued".into(),
        ));
    }
    let limit = add_months(issued_on, 36) - Duration::days(1);
    if expires_on > limit {
        return Err(broken(
            "rule-5",
            "expires_on",
            format!(
                "an ISO certificate is valid for three years at most: it expires on {limit} at the latest"
            ),
        ));
    }
    if standard == "iso27001-2013" && expires_on > ISO27001_2013_END {
        return Err(broken(
            "rule-5",
            "expires_on",
            format!(
                "certificates against ISO/IEC 27001:2013 ended on {ISO27001_2013_END} (the transition deadline)"
            ),
        ));
    }
    Ok(())
}

/// The certificate's status on a day: its recorded state, or expired after its expiry date
/// (or, for 27001:2013, after the transition deadline).
pub fn certificate_status(
    standard: &str,
    state: CertificateState,
    expires_on: Date,
    today: Date,
) -> &'static str {
    let ended = today > expires_on || (standard == "iso27001-2013" && today > ISO27001_2013_END);
    match state {
        CertificateState::Withdrawn => "withdrawn",
        _ if ended => "expired",
        CertificateState::Suspended => "suspended",
        CertificateState::Valid => "valid",
    }
}

/// When the surveillance audits of years one and two, and the recertification, are due.
pub fn certificate_milestones(issued_on: Date, expires_on: Date) -> [(&'static str, Date); 3] {
    [
        ("surveillance-1", add_months(issued_on, 12)),
        ("surveillance-2", add_months(issued_on, 24)),
        ("recertification", expires_on),
    ]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    #[test]
    fn type1_is_as_of_and_type2_at_most_twelve_months() {
        use EngagementKind as K;
        let d = date!(2026 - 06 - 30);
        assert_eq!(
            period_for(K::Soc2Type1, Some(d), None).unwrap(),
            Period::AsOf { date: d }
        );
        assert_eq!(
            period_for(K::Soc2Type1, None, Some((d, d)))
                .unwrap_err()
                .rule,
            "rule-1"
        );
        let ok = period_for(
            K::Soc2Type2,
            None,
            Some((date!(2025 - 10 - 01), date!(2026 - 09 - 30))),
        );
        assert!(ok.is_ok());
        let long = period_for(
            K::Soc2Type2,
            None,
            Some((date!(2025 - 10 - 01), date!(2026 - 10 - 01))),
        )
        .unwrap_err();
        assert!(long.message.contains("2026-09-30"), "{long}");
        let backwards = period_for(K::Soc1Type2, None, Some((d, d))).unwrap_err();
        assert!(backwards.message.contains("start before it ends"));
        assert!(period_for(K::Soc3, Some(d), None).is_err());
        assert!(period_for(K::IsoStage2, Some(d), None).is_ok());
    }

    #[test]
    fn soc3_needs_an_issued_unqualified_type2_covering_it() {
        let services = vec!["intune".to_owned(), "devops".to_owned()];
        let p = Period::Range {
            start: date!(2025 - 10 - 01),
            end: date!(2026 - 09 - 30),
        };
        let r = |id, kind, opinion, issued| Soc2Report {
            id,
            kind,
            period: p,
            services: &services,
            opinion,
            issued,
        };
        let soc3 = p.range();
        let wanted = ["intune".to_owned()];
        use EngagementKind as K;
        assert_eq!(
            soc3_basis(
                soc3,
                &wanted,
                &[r("a", K::Soc2Type2, Some(Opinion::Unqualified), true)]
            ),
            Ok("a")
        );
        for bad in [
            r("q", K::Soc2Type2, Some(Opinion::Qualified), true),
            r("n", K::Soc2Type2, Some(Opinion::Unqualified), false),
            r("t", K::Soc2Type1, Some(Opinion::Unqualified), true),
        ] {
            assert_eq!(
                soc3_basis(soc3, &wanted, &[bad]).unwrap_err().rule,
                "rule-2"
            );
        }
        let other = ["azure".to_owned()];
        assert!(
            soc3_basis(
                soc3,
                &other,
                &[r("a", K::Soc2Type2, Some(Opinion::Unqualified), true)]
            )
            .is_err()
        );
    }

    #[test]
    fn bridge_letters_follow_the_seed() {
        // The seeds: 1 Oct – 31 Dec after a period ending 30 Sep; 1 Apr – 30 Jun after 31 Mar.
        let b = bridge_period(date!(2025 - 09 - 30), date!(2025 - 12 - 31), 3, None).unwrap();
        assert_eq!(
            (b.start, b.end),
            (date!(2025 - 10 - 01), date!(2025 - 12 - 31))
        );
        assert!(bridge_period(date!(2026 - 03 - 31), date!(2026 - 06 - 30), 3, None).is_ok());
        assert!(bridge_period(date!(2026 - 03 - 31), date!(2026 - 07 - 01), 3, None).is_err());
        assert!(bridge_period(date!(2026 - 03 - 31), date!(2026 - 03 - 31), 3, None).is_err());
        let e = bridge_period(
            date!(2026 - 03 - 31),
            date!(2026 - 05 - 31),
            3,
            Some(date!(2026 - 05 - 01)),
        )
        .unwrap_err();
        assert!(e.message.contains("next report"), "{e}");
    }

    #[test]
    fn cadence_lays_out_periods_ending_on_the_declared_days() {
        let c = Cadence {
            period_months: 12,
            period_ends: vec![(3, 31), (9, 30)],
            report_weeks: 6,
        };
        c.validate().unwrap();
        let next = c.next_reports(date!(2026 - 04 - 15), 3);
        let ends: Vec<Date> = next.iter().map(|r| r.period.end).collect();
        assert_eq!(
            ends,
            [
                date!(2026 - 09 - 30),
                date!(2027 - 03 - 31),
                date!(2027 - 09 - 30)
            ]
        );
        assert_eq!(next[0].period.start, date!(2025 - 10 - 01));
        assert_eq!(next[1].period.start, date!(2026 - 04 - 01));
        assert_eq!(next[0].report_due, date!(2026 - 11 - 11));
        assert!(
            Cadence {
                period_months: 13,
                ..c.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            Cadence {
                period_ends: vec![(2, 30)],
                ..c
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn certificates_last_three_years_and_2013_ended() {
        assert!(
            check_certificate(
                "iso27001-2022",
                date!(2025 - 01 - 10),
                date!(2028 - 01 - 09)
            )
            .is_ok()
        );
        assert!(
            check_certificate(
                "iso27001-2022",
                date!(2025 - 01 - 10),
                date!(2028 - 01 - 10)
            )
            .is_err()
        );
        let e = check_certificate(
            "iso27001-2013",
            date!(2023 - 01 - 10),
            date!(2026 - 01 - 09),
        )
        .unwrap_err();
        assert_eq!(e.rule, "rule-5");
        assert_eq!(
            certificate_status(
                "iso27001-2013",
                CertificateState::Valid,
                date!(2025 - 10 - 31),
                date!(2025 - 11 - 01)
            ),
            "expired"
        );
        assert_eq!(
            certificate_status(
                "iso27001-2022",
                CertificateState::Suspended,
                date!(2027 - 01 - 01),
                date!(2026 - 01 - 01)
            ),
            "suspended"
        );
        let m = certificate_milestones(date!(2025 - 01 - 10), date!(2028 - 01 - 09));
        assert_eq!(m[0].1, date!(2026 - 01 - 10));
        assert_eq!(m[1].1, date!(2027 - 01 - 10));
    }

    fn day() -> impl Strategy<Value = Date> {
        (0i64..3000).prop_map(|n| date!(2020 - 01 - 01) + Duration::days(n))
    }

    proptest! {
        #[test]
        fn type2_periods_are_accepted_exactly_when_under_twelve_months(start in day(), len in 0i64..800) {
            let end = start + Duration::days(len);
            let r = period_for(EngagementKind::Soc2Type2, None, Some((start, end)));
            prop_assert_eq!(r.is_ok(), end > start && end < add_months(start, 12));
        }

        #[test]
        fn bridge_letters_start_after_the_report_and_stay_in_bounds(
            end in day(), len in 0i64..200, max in 1u32..7, next in proptest::option::of(0i64..200)
        ) {
            let until = end + Duration::days(len);
            let next_start = next.map(|n| end + Duration::days(n + 1));
            if let Ok(b) = bridge_period(end, until, max, next_start) {
                prop_assert_eq!(b.start, end + Duration::days(1));
                prop_assert!(b.end < add_months(b.start, max));
                if let Some(n) = next_start { prop_assert!(b.end < n); }
            } else {
                let too_long = until >= add_months(end + Duration::days(1), max);
                let overlaps = next_start.is_some_and(|n| until >= n);
                prop_assert!(until <= end || too_long || overlaps);
            }
        }

        #[test]
        fn the_timeline_partitions_the_window_and_prefers_reports(
            ws in day(), wlen in 0i64..900,
            reports in proptest::collection::vec((day(), 0i64..400), 0..4),
            bridges in proptest::collection::vec((day(), 0i64..120), 0..4),
        ) {
            let window = DateRange { start: ws, end: ws + Duration::days(wlen) };
            let rs: Vec<DateRange> = reports.iter().map(|(s, l)| DateRange { start: *s, end: *s + Duration::days(*l) }).collect();
            let bs: Vec<DateRange> = bridges.iter().map(|(s, l)| DateRange { start: *s, end: *s + Duration::days(*l) }).collect();
            let t = timeline(window, &rs, &bs);
            prop_assert_eq!(t.first().unwrap().range.start, window.start);
            prop_assert_eq!(t.last().unwrap().range.end, window.end);
            let days: i64 = t.iter().map(|s| s.range.days()).sum();
            prop_assert_eq!(days, window.days());
            for w in t.windows(2) {
                prop_assert_eq!(w[0].range.end + Duration::days(1), w[1].range.start);
                prop_assert_ne!(w[0].cover, w[1].cover);
            }
            // Spot-check each segment's first and last day against the inputs.
            for s in &t {
                for d in [s.range.start, s.range.end] {
                    let want = if rs.iter().any(|r| r.contains(d)) { Cover::Report }
                        else if bs.iter().any(|b| b.contains(d)) { Cover::Bridge }
                        else { Cover::Gap };
                    prop_assert_eq!(s.cover, want);
                }
            }
        }
    }
}
