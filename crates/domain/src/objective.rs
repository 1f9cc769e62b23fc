//! Information security objectives and their measurement (ISO/IEC 27001 6.2, 9.1): each
//! objective has a metric, a target and a direction; most metrics are computed from
//! Attest's own data and recorded once a day, so they can be trended.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::risk::text_enum;

text_enum!(
    /// Which way is better.
    Direction, UnknownDirection,
    "at-least or at-most",
    {
        /// The value should reach the target or more (coverage).
        AtLeast => "at-least", "At least";
        /// The value should stay at the target or less (overdue items).
        AtMost => "at-most", "At most";
    }
);

text_enum!(
    /// Where an objective stands.
    ObjectiveStatus, UnknownObjectiveStatus,
    "met, on-track, missed or no-data",
    {
        /// The latest value meets the target.
        Met => "met", "Met";
        /// Not met yet, and the due date has not passed.
        OnTrack => "on-track", "Not met yet";
        /// Not met, and the due date has passed.
        Missed => "missed", "Missed";
        /// Nothing measured yet.
        NoData => "no-data", "No data";
    }
);

/// The metrics Attest computes itself; anything else is measured by people (`manual`).
pub const COMPUTED: &[(&str, &str, &str)] = &[
    (
        "open-nonconformities",
        "Open nonconformities",
        "nonconformities not closed",
    ),
    (
        "overdue-nonconformities",
        "Nonconformities with an overdue action",
        "open nonconformities past their due date",
    ),
    (
        "risks-above-appetite",
        "Risks above appetite without acceptance",
        "residual risks above appetite with no valid acceptance",
    ),
    (
        "controls-overdue-evidence",
        "Controls with overdue evidence",
        "implemented controls whose evidence does not cover today",
    ),
    (
        "policy-acknowledgement",
        "Policy acknowledgement (%)",
        "share of required acknowledgements of policies in force",
    ),
    (
        "soa-undecided",
        "Annex A controls without a decision",
        "controls of the latest Statement of Applicability not decided",
    ),
];

/// A framework's coverage metric id (`coverage:iso27001-2022`, percent implemented).
pub fn coverage_metric(framework: &str) -> String {
    format!("coverage:{framework}")
}

/// The metric id of an objective measured by hand.
pub fn manual_metric(objective: &str) -> String {
    format!("manual:{objective}")
}

/// Where an objective stands given its latest value.
pub fn status(
    latest: Option<f64>,
    target: f64,
    direction: Direction,
    due: Option<Date>,
    today: Date,
) -> ObjectiveStatus {
    let Some(v) = latest else {
        return ObjectiveStatus::NoData;
    };
    let met = match direction {
        Direction::AtLeast => v >= target,
        Direction::AtMost => v <= target,
    };
    if met {
        ObjectiveStatus::Met
    } else if due.is_some_and(|d| d < today) {
        ObjectiveStatus::Missed
    } else {
        ObjectiveStatus::OnTrack
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn status_follows_direction_target_and_due_date() {
        let today = date!(2026 - 11 - 24);
        assert_eq!(
            status(None, 1.0, Direction::AtLeast, None, today),
            ObjectiveStatus::NoData
        );
        assert_eq!(
            status(Some(95.0), 90.0, Direction::AtLeast, None, today),
            ObjectiveStatus::Met
        );
        assert_eq!(
            status(
                Some(80.0),
                90.0,
                Direction::AtLeast,
                Some(date!(2027 - 01 - 01)),
                today
            ),
            ObjectiveStatus::OnTrack
        );
        assert_eq!(
            status(
                Some(80.0),
                90.0,
                Direction::AtLeast,
                Some(date!(2026 - 11 - 01)),
                today
            ),
            ObjectiveStatus::Missed
        );
        assert_eq!(
            status(Some(0.0), 0.0, Direction::AtMost, None, today),
            ObjectiveStatus::Met
        );
        assert_eq!(
            status(Some(3.0), 0.0, Direction::AtMost, None, today),
            ObjectiveStatus::OnTrack
        );
    }
}
