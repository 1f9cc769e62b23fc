//! Coverage: a requirement's status derived from the controls linked to it, never typed.

use serde::{Deserialize, Serialize};

use crate::control::ControlStatus;
use crate::mapping::Coverage;

/// A requirement's derived status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequirementStatus {
    /// Fully met: an implemented control covers it in full (with fresh evidence).
    Implemented,
    /// Partly met.
    Partial,
    /// Controls are linked but none is in place yet.
    Planned,
    /// No control is linked.
    NotCovered,
    /// Every linked control is not applicable.
    NotApplicable,
}

impl RequirementStatus {
    /// Every status, best first.
    pub const ALL: [RequirementStatus; 5] = [
        RequirementStatus::Implemented,
        RequirementStatus::Partial,
        RequirementStatus::Planned,
        RequirementStatus::NotCovered,
        RequirementStatus::NotApplicable,
    ];

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Implemented => "implemented",
            RequirementStatus::Partial => "partial",
            RequirementStatus::Planned => "planned",
            RequirementStatus::NotCovered => "not-covered",
            RequirementStatus::NotApplicable => "not-applicable",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            RequirementStatus::Implemented => "Implemented",
            RequirementStatus::Partial => "Partial",
            RequirementStatus::Planned => "Planned",
            RequirementStatus::NotCovered => "Not covered",
            RequirementStatus::NotApplicable => "Not applicable",
        }
    }
}

/// One control linked to a requirement, as coverage sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedControl<'a> {
    /// The control's reference, for the reasons.
    pub control_ref: &'a str,
    /// Its implementation status.
    pub status: ControlStatus,
    /// Whether its evidence covers today (`None` while freshness is not judged).
    pub fresh: Option<bool>,
    /// How much of the requirement the link covers.
    pub coverage: Coverage,
}

/// A requirement's status and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// The status.
    pub status: RequirementStatus,
    /// Reasons a person can check ("AC-01 is implemented and covers it in full").
    pub reasons: Vec<String>,
}

/// Derives a requirement's status from its linked controls: implemented only when a control
/// that covers it in full is implemented and its evidence is fresh; partial when something
/// is in place; planned when controls are linked but none is in place; not covered when none
/// is linked; not applicable when every linked control is.
pub fn assess(links: &[LinkedControl<'_>]) -> Assessment {
    if links.is_empty() {
        return Assessment {
            status: RequirementStatus::NotCovered,
            reasons: vec!["no control is linked".into()],
        };
    }
    if links
        .iter()
        .all(|l| l.status == ControlStatus::NotApplicable)
    {
        return Assessment {
            status: RequirementStatus::NotApplicable,
            reasons: links
                .iter()
                .map(|l| format!("{} is not applicable", l.control_ref))
                .collect(),
        };
    }
    let mut reasons = Vec::new();
    let mut full = false;
    let mut some = false;
    for l in links
        .iter()
        .filter(|l| l.status != ControlStatus::NotApplicable)
    {
        let scope = match l.coverage {
            Coverage::Full => "in full",
            Coverage::Partial => "in part",
        };
        match (l.status, l.fresh) {
            (ControlStatus::Implemented, Some(false)) => {
                some = true;
                reasons.push(format!(
                    "{} is implemented but has no evidence covering today",
                    l.control_ref
                ));
            }
            (ControlStatus::Implemented, _) => {
                some = true;
                full |= l.coverage == Coverage::Full;
                reasons.push(format!(
                    "{} is implemented and covers it {scope}",
                    l.control_ref
                ));
            }
            (ControlStatus::Partial, _) => {
                some = true;
                reasons.push(format!(
                    "{} is partly implemented (covers it {scope})",
                    l.control_ref
                ));
            }
            (ControlStatus::Planned, _) => {
                reasons.push(format!("{} is planned (covers it {scope})", l.control_ref))
            }
            (ControlStatus::NotApplicable, _) => {}
        }
    }
    let status = if full {
        RequirementStatus::Implemented
    } else if some {
        RequirementStatus::Partial
    } else {
        RequirementStatus::Planned
    };
    Assessment { status, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(status: ControlStatus, fresh: Option<bool>, coverage: Coverage) -> LinkedControl<'static> {
        LinkedControl {
            control_ref: "C-1",
            status,
            fresh,
            coverage,
        }
    }

    #[test]
    fn statuses_follow_the_rules() {
        use ControlStatus as C;
        use Coverage::*;
        use RequirementStatus as R;
        assert_eq!(assess(&[]).status, R::NotCovered);
        assert_eq!(
            assess(&[l(C::Implemented, None, Full)]).status,
            R::Implemented
        );
        assert_eq!(
            assess(&[l(C::Implemented, Some(true), Full)]).status,
            R::Implemented
        );
        assert_eq!(
            assess(&[l(C::Implemented, Some(false), Full)]).status,
            R::Partial
        );
        assert_eq!(
            assess(&[l(C::Implemented, None, Partial)]).status,
            R::Partial
        );
        assert_eq!(assess(&[l(C::Partial, None, Full)]).status, R::Partial);
        assert_eq!(assess(&[l(C::Planned, None, Full)]).status, R::Planned);
        assert_eq!(
            assess(&[l(C::NotApplicable, None, Full)]).status,
            R::NotApplicable
        );
        assert_eq!(
            assess(&[l(C::NotApplicable, None, Full), l(C::Planned, None, Full)]).status,
            R::Planned
        );
        let a = assess(&[
            l(C::Implemented, Some(false), Full),
            l(C::Implemented, Some(true), Partial),
        ]);
        assert_eq!(a.status, R::Partial);
        assert_eq!(a.reasons.len(), 2);
    }
}
