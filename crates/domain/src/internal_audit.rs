//! The internal audit programme (ISO/IEC 27001 9.2) and management review (9.3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::nonconformity::Severity;
use crate::risk::text_enum;

text_enum!(
    /// Where a planned audit stands.
    AuditStatus, UnknownAuditStatus,
    "planned, in-progress or completed",
    {
        /// Planned in the programme.
        Planned => "planned", "Planned";
        /// Fieldwork under way.
        InProgress => "in-progress", "In progress";
        /// Reported; nothing changes any more.
        Completed => "completed", "Completed";
    }
);

text_enum!(
    /// What auditing one requirement found.
    AuditResult, UnknownAuditResult,
    "conforming, major, minor, observation, opportunity or not-audited",
    {
        /// Met, with evidence.
        Conforming => "conforming", "Conforming";
        /// A major nonconformity.
        Major => "major", "Major nonconformity";
        /// A minor nonconformity.
        Minor => "minor", "Minor nonconformity";
        /// An observation.
        Observation => "observation", "Observation";
        /// An opportunity for improvement.
        Opportunity => "opportunity", "Opportunity for improvement";
        /// In scope but not audited this time.
        NotAudited => "not-audited", "Not audited";
    }
);

impl AuditResult {
    /// The severity of the nonconformity a finding raises, if it is a finding.
    pub fn severity(self) -> Option<Severity> {
        match self {
            AuditResult::Major => Some(Severity::Major),
            AuditResult::Minor => Some(Severity::Minor),
            AuditResult::Observation => Some(Severity::Observation),
            AuditResult::Opportunity => Some(Severity::Opportunity),
            AuditResult::Conforming | AuditResult::NotAudited => None,
        }
    }
}

/// Why an audit cannot be completed yet, if it cannot: a conclusion is written, every
/// requirement in scope has a result, and every nonconformity found has been raised.
pub fn completion_blocker(
    conclusion: &str,
    results: &[(String, Option<AuditResult>, bool)],
) -> Option<String> {
    if conclusion.trim().is_empty() {
        return Some("write the audit's conclusion first".into());
    }
    let missing: Vec<&str> = results
        .iter()
        .filter(|(_, r, _)| r.is_none())
        .map(|(id, _, _)| id.as_str())
        .collect();
    if !missing.is_empty() {
        return Some(format!("record a result for {}", missing.join(", ")));
    }
    let unraised: Vec<&str> = results
        .iter()
        .filter(|(_, r, raised)| {
            matches!(r, Some(AuditResult::Major | AuditResult::Minor)) && !raised
        })
        .map(|(id, _, _)| id.as_str())
        .collect();
    if !unraised.is_empty() {
        return Some(format!(
            "raise the nonconformities found on {}",
            unraised.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_needs_conclusion_results_and_raised_nonconformities() {
        let r = |id: &str, res: Option<AuditResult>, raised: bool| (id.to_owned(), res, raised);
        assert!(completion_blocker(" ", &[]).unwrap().contains("conclusion"));
        assert_eq!(
            completion_blocker("ok", &[r("9.2", None, false)]).as_deref(),
            Some("record a result for 9.2")
        );
        assert_eq!(
            completion_blocker(
                "ok",
                &[
                    r("9.2", Some(AuditResult::Minor), false),
                    r("A.5.1", Some(AuditResult::Observation), false)
                ]
            )
            .as_deref(),
            Some("raise the nonconformities found on 9.2")
        );
        assert!(
            completion_blocker(
                "ok",
                &[
                    r("9.2", Some(AuditResult::Minor), true),
                    r("A.5.1", Some(AuditResult::Conforming), false)
                ]
            )
            .is_none()
        );
        assert_eq!(AuditResult::Major.severity(), Some(Severity::Major));
        assert_eq!(AuditResult::Conforming.severity(), None);
    }
}
