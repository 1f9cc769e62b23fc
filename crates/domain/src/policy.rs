//! Policies and procedures (ISO/IEC 27001 5.2, 7.5): documented information written in
//! Markdown, versioned, approved by the named approvers, published, reviewed on a cadence and
//! acknowledged by staff.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::Date;

use crate::risk::text_enum;

text_enum!(
    /// What kind of document it is.
    DocumentKind, UnknownDocumentKind,
    "policy, procedure, standard or plan",
    {
        /// What the organisation requires (the information security policy, access control…).
        Policy => "policy", "Policy";
        /// How something is done, step by step.
        Procedure => "procedure", "Procedure";
        /// Specific, measurable rules under a policy.
        Standard => "standard", "Standard";
        /// A plan (business continuity, incident response).
        Plan => "plan", "Plan";
    }
);

text_enum!(
    /// Where a version stands.
    VersionState, UnknownVersionState,
    "draft, published or superseded",
    {
        /// Being written or approved; the only state that can change.
        Draft => "draft", "Draft";
        /// The version in force.
        Published => "published", "Published";
        /// Was in force; replaced by a later publication.
        Superseded => "superseded", "Superseded";
    }
);

/// Review cadences allowed, in months.
pub const REVIEW_MONTHS: std::ops::RangeInclusive<u32> = 1..=36;

/// The SHA-256 of a version's text: approvals are given to exactly this text.
pub fn body_hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// The day a review is due: `months` after the later of publication and the last review,
/// clamped to the month's last day (a policy published on 31 January with a one-month
/// cadence is due on 28 or 29 February).
pub fn review_due(published: Date, last_review: Option<Date>, months: u32) -> Date {
    let from = last_review.map_or(published, |r| r.max(published));
    crate::evidence::add_months(from, months)
}

/// Why a draft cannot be published yet, if it cannot: every named approver (id, name) must
/// have approved this exact text (`approved_by`: the ids of those who did).
pub fn publication_blocker(
    approvers: &[(String, String)],
    approved_by: &[String],
    body: &str,
) -> Option<String> {
    if body.trim().is_empty() {
        return Some("the draft is empty".into());
    }
    if approvers.is_empty() {
        return Some("name at least one approver first".into());
    }
    let missing: Vec<&str> = approvers
        .iter()
        .filter(|(id, _)| !approved_by.contains(id))
        .map(|(_, name)| name.as_str())
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "waiting for the approval of {}",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn reviews_fall_due_after_the_cadence_clamped_to_month_end() {
        assert_eq!(
            review_due(date!(2026 - 01 - 31), None, 1),
            date!(2026 - 02 - 28)
        );
        assert_eq!(
            review_due(date!(2028 - 01 - 31), None, 1),
            date!(2028 - 02 - 29)
        );
        assert_eq!(
            review_due(date!(2026 - 03 - 15), None, 12),
            date!(2027 - 03 - 15)
        );
        assert_eq!(
            review_due(date!(2026 - 03 - 15), Some(date!(2026 - 09 - 01)), 12),
            date!(2027 - 09 - 01)
        );
        // A review recorded before the publication does not move the due date back.
        assert_eq!(
            review_due(date!(2026 - 03 - 15), Some(date!(2025 - 01 - 01)), 6),
            date!(2026 - 09 - 15)
        );
        assert_eq!(
            review_due(date!(2026 - 11 - 30), None, 3),
            date!(2027 - 02 - 28)
        );
    }

    #[test]
    fn publication_needs_every_approver_on_this_text() {
        let a = vec![
            ("u1".to_owned(), "Ada".to_owned()),
            ("u2".to_owned(), "Grace".to_owned()),
        ];
        assert_eq!(
            publication_blocker(&a, &["u1".into()], "text").as_deref(),
            Some("waiting for the approval of Grace")
        );
        assert!(publication_blocker(&a, &["u2".into(), "u1".into()], "text").is_none());
        assert!(publication_blocker(&[], &[], "text").is_some());
        assert!(publication_blocker(&a, &["u1".into(), "u2".into()], "  ").is_some());
        assert_ne!(body_hash("a"), body_hash("a "));
    }
}
