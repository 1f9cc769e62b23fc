//! Nonconformities and corrective action (ISO/IEC 27001 clause 10.1).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::risk::text_enum;

text_enum!(
    /// Where a nonconformity was found.
    NcSource, UnknownNcSource,
    "internal-audit, external-audit or raised",
    {
        /// An internal audit (9.2).
        InternalAudit => "internal-audit", "Internal audit";
        /// A certification or attestation audit.
        ExternalAudit => "external-audit", "External audit";
        /// Raised by anyone, outside an audit.
        Raised => "raised", "Raised ad hoc";
    }
);

text_enum!(
    /// How serious a finding is.
    Severity, UnknownSeverity,
    "major, minor, observation or opportunity",
    {
        /// A requirement not met at all, or a systemic failure.
        Major => "major", "Major";
        /// An isolated lapse.
        Minor => "minor", "Minor";
        /// Not a nonconformity yet, worth watching.
        Observation => "observation", "Observation";
        /// An opportunity for improvement.
        Opportunity => "opportunity", "Opportunity for improvement";
    }
);

impl Severity {
    /// Whether closing needs a root cause and a corrective action (10.1 c, d): for a real
    /// nonconformity, not for an observation or an opportunity.
    pub fn needs_corrective_action(self) -> bool {
        matches!(self, Severity::Major | Severity::Minor)
    }
}

/// Why a nonconformity cannot be closed yet, if it cannot.
pub fn closure_blocker(
    severity: Severity,
    root_cause: &str,
    corrective_action: &str,
    verified: bool,
) -> Option<&'static str> {
    if severity.needs_corrective_action() && root_cause.trim().is_empty() {
        return Some("record the root cause first");
    }
    if severity.needs_corrective_action() && corrective_action.trim().is_empty() {
        return Some("record the corrective action first");
    }
    if !verified {
        return Some("verify the effectiveness of the action first");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_needs_cause_action_and_verification() {
        assert_eq!(
            closure_blocker(Severity::Major, "", "fix", true),
            Some("record the root cause first")
        );
        assert_eq!(
            closure_blocker(Severity::Minor, "cause", " ", true),
            Some("record the corrective action first")
        );
        assert_eq!(
            closure_blocker(Severity::Minor, "cause", "fix", false),
            Some("verify the effectiveness of the action first")
        );
        assert_eq!(closure_blocker(Severity::Minor, "cause", "fix", true), None);
        // An observation needs only its verification.
        assert_eq!(closure_blocker(Severity::Observation, "", "", true), None);
        assert_eq!("external-audit".parse(), Ok(NcSource::ExternalAudit));
        assert_eq!(
            serde_json::to_value(NcSource::InternalAudit).unwrap(),
            "internal-audit"
        );
    }
}
