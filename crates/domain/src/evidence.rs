//! Evidence and the dates it proves: what a piece of evidence covers, whether a control's
//! evidence is fresh today, what falls due soon, and which days of a period are covered.
//!
//! All dates are calendar days, inclusive at both ends: evidence effective from 1 January
//! until 31 March covers both of those days and every day between.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

use crate::control::Frequency;

/// What an evidence item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A file (bytes in the blob store).
    File,
    /// A link to where the evidence lives.
    Link,
    /// A structured record (JSON).
    Record,
}

/// How an evidence item reached Attest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceSource {
    /// Uploaded by a person in the web UI.
    Manual,
    /// Through the API.
    Api,
    /// With `attest evidence add`.
    Cli,
    /// By an automated check.
    Automated,
}

macro_rules! text_enum {
    ($t:ty, $what:literal, $($v:ident => $s:literal / $label:literal),+ $(,)?) => {
        impl $t {
            /// Every value.
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            /// The text form.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
            /// A label for people.
            pub fn label(self) -> &'static str {
                match self { $(<$t>::$v => $label),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(<$t>::$v),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " `{}`: use one of {}"),
                        s,
                        [$($s),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum!(EvidenceKind, "evidence kind",
    File => "file" / "File",
    Link => "link" / "Link",
    Record => "record" / "Record",
);
text_enum!(EvidenceSource, "evidence source",
    Manual => "manual" / "Manual upload",
    Api => "api" / "API",
    Cli => "cli" / "Command line",
    Automated => "automated" / "Automated check",
);

/// How Attest writes a calendar day everywhere (API, forms, command line, storage).
const DAY: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Reads a day written as YYYY-MM-DD.
pub fn parse_day(s: &str) -> Result<Date, String> {
    let s = s.trim();
    Date::parse(s, DAY).map_err(|_| format!("`{s}` is not a date: use YYYY-MM-DD"))
}

/// Writes a day as YYYY-MM-DD.
pub fn day_text(d: Date) -> String {
    d.format(DAY).unwrap_or_else(|_| d.to_string())
}

/// A range of calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DateRange {
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
}

/// Why a date range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the period ends ({end}) before it starts ({start})")]
pub struct BackwardsRange {
    /// First day given.
    pub start: Date,
    /// Last day given.
    pub end: Date,
}

impl DateRange {
    /// A range; refused when it ends before it starts.
    pub fn new(start: Date, end: Date) -> Result<Self, BackwardsRange> {
        if end < start {
            return Err(BackwardsRange { start, end });
        }
        Ok(Self { start, end })
    }

    /// Whether a day falls inside.
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d <= self.end
    }

    /// Days in the range.
    pub fn days(&self) -> i64 {
        (self.end - self.start).whole_days() + 1
    }

    /// The part shared with another range.
    pub fn intersect(&self, other: &DateRange) -> Option<DateRange> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start <= end).then_some(DateRange { start, end })
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", self.start, self.end)
    }
}

/// Adds calendar months, keeping the day where the month allows (31 Jan + 1 month is 28 or
/// 29 Feb).
pub fn add_months(d: Date, months: u32) -> Date {
    let total = d.year() * 12 + (d.month() as i32 - 1) + months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).expect("a month number from 1 to 12");
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).expect("a valid calendar date")
}

/// The last day a piece of evidence effective from `from` covers for a control of frequency
/// `f`, when the evidence does not say itself: one occurrence of the control. A control that
/// runs per event is expected to show an occurrence, or that none was due, at least yearly.
pub fn window_end(f: Frequency, from: Date) -> Date {
    let next = match f {
        Frequency::Continuous | Frequency::Daily => from + Duration::days(1),
        Frequency::Weekly => from + Duration::days(7),
        Frequency::Monthly => add_months(from, 1),
        Frequency::Quarterly => add_months(from, 3),
        Frequency::Annual | Frequency::PerEvent => add_months(from, 12),
    };
    next - Duration::days(1)
}

/// The days a piece of evidence covers for a control: its own effective period when it states
/// an end, else one window of the control's frequency from its start.
pub fn covered_span(f: Frequency, from: Date, until: Option<Date>) -> DateRange {
    let end = until.unwrap_or_else(|| window_end(f, from));
    DateRange {
        start: from,
        end: end.max(from),
    }
}

/// Whether a control's evidence covers today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Freshness {
    /// Today is covered, up to and including `until`.
    Fresh {
        /// Last day covered.
        until: Date,
    },
    /// Covered once, no longer: overdue since `since`.
    Overdue {
        /// The first day not covered.
        since: Date,
    },
    /// No evidence at all.
    Missing,
}

impl Freshness {
    /// Whether today is covered.
    pub fn is_fresh(&self) -> bool {
        matches!(self, Freshness::Fresh { .. })
    }

    /// The text form.
    pub fn as_str(&self) -> &'static str {
        match self {
            Freshness::Fresh { .. } => "fresh",
            Freshness::Overdue { .. } => "overdue",
            Freshness::Missing => "missing",
        }
    }
}

/// Judges a control's freshness on `today` from the spans its evidence covers. Evidence dated
/// in the future does not make today fresh.
pub fn freshness(spans: &[DateRange], today: Date) -> Freshness {
    if spans.is_empty() {
        return Freshness::Missing;
    }
    if let Some(until) = spans
        .iter()
        .filter(|s| s.contains(today))
        .map(|s| s.end)
        .max()
    {
        // Extend through evidence that continues without a gap.
        return Freshness::Fresh {
            until: continuous_end(spans, until),
        };
    }
    match spans.iter().filter(|s| s.end < today).map(|s| s.end).max() {
        Some(end) => Freshness::Overdue {
            since: end + Duration::days(1),
        },
        // Only future evidence: nothing covers today or any day before it.
        None => Freshness::Missing,
    }
}

fn continuous_end(spans: &[DateRange], mut end: Date) -> Date {
    let mut sorted: Vec<&DateRange> = spans.iter().collect();
    sorted.sort_by_key(|s| s.start);
    for s in sorted {
        if s.start <= end + Duration::days(1) && s.end > end {
            end = s.end;
        }
    }
    end
}

/// Which days of a period evidence covers, and the gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodCoverage {
    /// The period asked about.
    pub period: DateRange,
    /// Covered stretches, in order, with the indexes of the spans covering each.
    pub covered: Vec<(DateRange, Vec<usize>)>,
    /// Stretches no evidence covers, in order.
    pub gaps: Vec<DateRange>,
}

impl PeriodCoverage {
    /// Whether every day of the period is covered.
    pub fn complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// Days not covered.
    pub fn gap_days(&self) -> i64 {
        self.gaps.iter().map(DateRange::days).sum()
    }
}

/// Splits a period into covered stretches (each with the spans that cover it) and gaps.
pub fn period_coverage(period: DateRange, spans: &[DateRange]) -> PeriodCoverage {
    // Every day where the set of covering spans may change: starts, and the day after ends.
    let mut cuts: Vec<Date> = vec![period.start];
    for s in spans {
        if let Some(i) = s.intersect(&period) {
            cuts.push(i.start);
            if i.end < period.end {
                cuts.push(i.end + Duration::days(1));
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let mut covered: Vec<(DateRange, Vec<usize>)> = Vec::new();
    let mut gaps: Vec<DateRange> = Vec::new();
    for (k, &start) in cuts.iter().enumerate() {
        let end = cuts
            .get(k + 1)
            .map(|next| *next - Duration::days(1))
            .unwrap_or(period.end);
        let piece = DateRange { start, end };
        let by: Vec<usize> = spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.contains(start))
            .map(|(i, _)| i)
            .collect();
        if by.is_empty() {
            match gaps.last_mut() {
                Some(g) if g.end + Duration::days(1) == start => g.end = end,
                _ => gaps.push(piece),
            }
        } else {
            match covered.last_mut() {
                Some((r, who)) if r.end + Duration::days(1) == start && *who == by => r.end = end,
                _ => covered.push((piece, by)),
            }
        }
    }
    PeriodCoverage {
        period,
        covered,
        gaps,
    }
}

/// A file name made safe to store and to offer for download: no directories, no control
/// characters, no leading dots, at most 200 characters; `evidence` when nothing is left.
pub fn sanitise_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' | ';' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let mut out: String = trimmed.chars().take(200).collect();
    if out.is_empty() {
        out = "evidence".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn r(a: Date, b: Date) -> DateRange {
        DateRange::new(a, b).unwrap()
    }

    #[test]
    fn windows_follow_the_frequency() {
        let d = date!(2026 - 01 - 31);
        assert_eq!(window_end(Frequency::Daily, d), d);
        assert_eq!(window_end(Frequency::Weekly, d), date!(2026 - 02 - 06));
        assert_eq!(window_end(Frequency::Monthly, d), date!(2026 - 02 - 27));
        assert_eq!(window_end(Frequency::Quarterly, d), date!(2026 - 04 - 29));
        assert_eq!(window_end(Frequency::Annual, d), date!(2027 - 01 - 30));
        assert_eq!(
            window_end(Frequency::Quarterly, date!(2026 - 01 - 01)),
            date!(2026 - 03 - 31)
        );
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 11 - 15), 3), date!(2026 - 02 - 15));
    }

    #[test]
    fn stated_end_wins_over_the_window() {
        let s = covered_span(
            Frequency::Annual,
            date!(2026 - 01 - 01),
            Some(date!(2026 - 03 - 31)),
        );
        assert_eq!(s, r(date!(2026 - 01 - 01), date!(2026 - 03 - 31)));
    }

    #[test]
    fn fresh_overdue_missing() {
        let today = date!(2026 - 11 - 23);
        assert_eq!(freshness(&[], today), Freshness::Missing);
        let q3 = r(date!(2026 - 07 - 01), date!(2026 - 09 - 30));
        assert_eq!(
            freshness(&[q3], today),
            Freshness::Overdue {
                since: date!(2026 - 10 - 01)
            }
        );
        let q4 = r(date!(2026 - 10 - 01), date!(2026 - 12 - 31));
        let next = r(date!(2027 - 01 - 01), date!(2027 - 03 - 31));
        assert_eq!(
            freshness(&[q3, q4, next], today),
            Freshness::Fresh {
                until: date!(2027 - 03 - 31)
            }
        );
        assert_eq!(freshness(&[next], today), Freshness::Missing);
    }

    #[test]
    fn a_period_with_a_hole() {
        let p = r(date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        let a = r(date!(2025 - 12 - 01), date!(2026 - 03 - 31));
        let b = r(date!(2026 - 05 - 01), date!(2027 - 01 - 31));
        let c = r(date!(2026 - 06 - 01), date!(2026 - 06 - 30));
        let pc = period_coverage(p, &[a, b, c]);
        assert_eq!(
            pc.gaps,
            vec![r(date!(2026 - 04 - 01), date!(2026 - 04 - 30))]
        );
        assert_eq!(pc.gap_days(), 30);
        assert_eq!(
            pc.covered
                .iter()
                .map(|(x, by)| (*x, by.clone()))
                .collect::<Vec<_>>(),
            vec![
                (r(date!(2026 - 01 - 01), date!(2026 - 03 - 31)), vec![0]),
                (r(date!(2026 - 05 - 01), date!(2026 - 05 - 31)), vec![1]),
                (r(date!(2026 - 06 - 01), date!(2026 - 06 - 30)), vec![1, 2]),
                (r(date!(2026 - 07 - 01), date!(2026 - 12 - 31)), vec![1]),
            ]
        );
        assert!(period_coverage(p, &[]).gaps == vec![p]);
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(sanitise_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_file_name("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitise_file_name(".htaccess"), "htaccess");
        assert_eq!(sanitise_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(sanitise_file_name("..."), "evidence");
        assert_eq!(sanitise_file_name("q\"1\";.pdf"), "q_1__.pdf");
        assert_eq!(sanitise_file_name(&"x".repeat(500)).len(), 200);
    }

    fn day() -> impl Strategy<Value = Date> {
        (0i64..800).prop_map(|n| date!(2025 - 01 - 01) + Duration::days(n))
    }

    fn range() -> impl Strategy<Value = DateRange> {
        (day(), 0i64..120).prop_map(|(d, len)| DateRange {
            start: d,
            end: d + Duration::days(len),
        })
    }

    proptest! {
        #[test]
        fn covered_and_gaps_partition_the_period(p in range(), spans in prop::collection::vec(range(), 0..8)) {
            let pc = period_coverage(p, &spans);
            let mut pieces: Vec<(DateRange, bool)> = pc.covered.iter().map(|(r, _)| (*r, true))
                .chain(pc.gaps.iter().map(|g| (*g, false))).collect();
            pieces.sort();
            prop_assert_eq!(pieces.first().unwrap().0.start, p.start);
            prop_assert_eq!(pieces.last().unwrap().0.end, p.end);
            for w in pieces.windows(2) {
                prop_assert_eq!(w[0].0.end + Duration::days(1), w[1].0.start);
            }
            let mut d = p.start;
            while d <= p.end {
                let any = spans.iter().any(|s| s.contains(d));
                let in_gap = pc.gaps.iter().any(|g| g.contains(d));
                prop_assert_eq!(any, !in_gap, "day {}", d);
                if let Some((_, by)) = pc.covered.iter().find(|(r, _)| r.contains(d)) {
                    let want: Vec<usize> = spans.iter().enumerate().filter(|(_, s)| s.contains(d)).map(|(i, _)| i).collect();
                    prop_assert_eq!(by, &want);
                }
                d += Duration::days(1);
            }
        }

        #[test]
        fn fresh_exactly_when_today_is_covered(spans in prop::collection::vec(range(), 0..6), today in day()) {
            let f = freshness(&spans, today);
            prop_assert_eq!(f.is_fresh(), spans.iter().any(|s| s.contains(today)));
            if let Freshness::Fresh { until } = f {
                let mut d = today;
                while d <= until {
                    prop_assert!(spans.iter().any(|s| s.contains(d)));
                    d += Duration::days(1);
                }
                prop_assert!(!spans.iter().any(|s| s.contains(until + Duration::days(1))));
            }
            if let Freshness::Overdue { since } = f {
                prop_assert!(since <= today);
                let mut d = since;
                while d <= today {
                    prop_assert!(!spans.iter().any(|s| s.contains(d)));
                    d += Duration::days(1);
                }
            }
        }

        #[test]
        fn windows_are_never_empty_and_grow_with_the_frequency(d in day()) {
            let mut last = d;
            for f in [Frequency::Daily, Frequency::Weekly, Frequency::Monthly, Frequency::Quarterly, Frequency::Annual] {
                let e = window_end(f, d);
                prop_assert!(e >= last);
                last = e;
            }
        }
    }
}
