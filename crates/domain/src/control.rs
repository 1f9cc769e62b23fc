//! The organisation's own controls, implemented once and linked to requirements of any
//! number of frameworks (the common controls hub).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How often a control operates (and so how recent its evidence must be).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    /// Many times a day, or all the time (automated).
    Continuous,
    /// Daily.
    Daily,
    /// Weekly.
    Weekly,
    /// Monthly.
    Monthly,
    /// Quarterly.
    Quarterly,
    /// Once a year.
    Annual,
    /// When an event happens (a hire, a change, an incident).
    PerEvent,
}

impl Frequency {
    /// Every frequency, most frequent first.
    pub const ALL: [Frequency; 7] = [
        Frequency::Continuous,
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Annual,
        Frequency::PerEvent,
    ];

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Continuous => "continuous",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Annual => "annual",
            Frequency::PerEvent => "per-event",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Frequency::Continuous => "Continuous",
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly",
            Frequency::Monthly => "Monthly",
            Frequency::Quarterly => "Quarterly",
            Frequency::Annual => "Annual",
            Frequency::PerEvent => "Per event",
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no frequency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown frequency `{0}` (expected continuous, daily, weekly, monthly, quarterly, annual or per-event)"
)]
pub struct UnknownFrequency(pub String);

impl FromStr for Frequency {
    type Err = UnknownFrequency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Frequency::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFrequency(s.to_owned()))
    }
}

/// How far a control is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// Decided, not yet in place.
    Planned,
    /// Partly in place.
    Partial,
    /// In place and operating.
    Implemented,
    /// Does not apply to this organisation.
    NotApplicable,
}

impl ControlStatus {
    /// Every status.
    pub const ALL: [ControlStatus; 4] = [
        ControlStatus::Planned,
        ControlStatus::Partial,
        ControlStatus::Implemented,
        ControlStatus::NotApplicable,
    ];

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Planned => "planned",
            ControlStatus::Partial => "partial",
            ControlStatus::Implemented => "implemented",
            ControlStatus::NotApplicable => "not-applicable",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Planned => "Planned",
            ControlStatus::Partial => "Partly implemented",
            ControlStatus::Implemented => "Implemented",
            ControlStatus::NotApplicable => "Not applicable",
        }
    }
}

impl fmt::Display for ControlStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status `{0}` (expected planned, partial, implemented or not-applicable)")]
pub struct UnknownStatus(pub String);

impl FromStr for ControlStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ControlStatus::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Checks a control's reference (`AC-01`, `HR.3`): 1 to 32 letters, digits, `.`, `-`, `_`.
pub fn valid_control_ref(r: &str) -> bool {
    (1..=32).contains(&r.len())
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}
