//! The Statement of Applicability (ISO/IEC 27001 6.1.3 d): for every Annex A control of the
//! chosen version, applicable or excluded and why, its implementation status, and the
//! controls, risks and evidence behind it. A draft is computed from the data; approving it
//! freezes the content under a hash ([`ApprovedSoa`] has no setters).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::control::ControlStatus;
use crate::coverage::RequirementStatus;
use crate::risk::text_enum;

/// The Annex A versions an SoA can be written against, the default first.
pub const ANNEX_A_FRAMEWORKS: [&str; 2] = ["iso27001-2022", "iso27001-2013"];

/// The Annex A version used until the organisation chooses another.
pub const DEFAULT_FRAMEWORK: &str = ANNEX_A_FRAMEWORKS[0];

/// Whether a framework id is an Annex A version an SoA can use.
pub fn is_annex_a(framework: &str) -> bool {
    ANNEX_A_FRAMEWORKS.contains(&framework)
}

text_enum!(
    /// Why a control is included in (or excluded from) the SoA.
    Reason, UnknownReason,
    "risk-treatment, legal, contractual, business or best-practice",
    {
        /// It treats a risk from the risk assessment.
        RiskTreatment => "risk-treatment", "Risk treatment";
        /// A law or regulation requires it.
        Legal => "legal", "Legal or regulatory";
        /// A contract with a customer or partner requires it.
        Contractual => "contractual", "Contractual";
        /// The business requires it.
        Business => "business", "Business requirement";
        /// Good practice.
        BestPractice => "best-practice", "Best practice";
    }
);

/// The organisation's decision on one Annex A control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Applicable (true) or excluded (false).
    pub applicable: bool,
    /// The reasons chosen.
    pub reasons: Vec<Reason>,
    /// The justification in the organisation's words.
    pub justification: String,
}

/// One of the organisation's controls behind an Annex A control.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ControlRef {
    /// Its reference (`AC-01`).
    pub reference: String,
    /// Its title.
    pub title: String,
    /// Its implementation status.
    pub status: ControlStatus,
}

/// A risk treated by one of those controls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RiskRef {
    /// Its reference (`R-001`).
    pub reference: String,
    /// Its title.
    pub title: String,
}

/// The latest evidence of one of those controls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EvidenceRef {
    /// The control it supports.
    pub control: String,
    /// The evidence's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The first day it covers (ISO 8601).
    pub effective_from: String,
}

/// One Annex A control in the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoaRow {
    /// The control's id (`A.5.1`).
    pub id: String,
    /// Its title.
    pub title: String,
    /// The theme or domain it belongs to (`A.5 Organizational controls`).
    pub group: String,
    /// Applicable, excluded, or not decided yet.
    pub applicable: Option<bool>,
    /// The reasons: the ones chosen, plus risk treatment whenever a control behind it
    /// treats a risk (derived, never typed twice).
    pub reasons: Vec<Reason>,
    /// The justification text.
    pub justification: String,
    /// The implementation status, derived from the controls behind it.
    pub status: RequirementStatus,
    /// The organisation's controls linked to it.
    pub controls: Vec<ControlRef>,
    /// The risks those controls treat.
    pub risks: Vec<RiskRef>,
    /// The latest evidence of each of those controls.
    pub evidence: Vec<EvidenceRef>,
}

impl SoaRow {
    /// "Applicable", "Excluded" or "Not decided".
    pub fn decision_label(&self) -> &'static str {
        match self.applicable {
            Some(true) => "Applicable",
            Some(false) => "Excluded",
            None => "Not decided",
        }
    }

    /// The reasons as labels, comma separated.
    pub fn reason_labels(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The whole statement, as computed from the data or as frozen at approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoaContent {
    /// The Annex A version (`iso27001-2022`).
    pub framework_id: String,
    /// Its name.
    pub framework_name: String,
    /// Every Annex A control, in the standard's order.
    pub rows: Vec<SoaRow>,
}

/// What stops a statement from being approved, one per control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The Annex A control.
    pub control: String,
    /// What is missing.
    pub problem: String,
}

/// The effective reasons of a decision: the chosen ones, plus risk treatment when the
/// controls behind it treat a risk and the control is applicable; sorted, no repeats.
pub fn effective_reasons(decision: Option<&Decision>, treats_risks: bool) -> Vec<Reason> {
    let mut out: Vec<Reason> = decision.map(|d| d.reasons.clone()).unwrap_or_default();
    if treats_risks && decision.is_some_and(|d| d.applicable) {
        out.push(Reason::RiskTreatment);
    }
    out.sort();
    out.dedup();
    out
}

impl SoaContent {
    /// What blocks approval: a control with no decision, an exclusion with no
    /// justification, an inclusion with neither a reason nor a justification (6.1.3 d
    /// asks for the justification of inclusions as well as of exclusions).
    pub fn gaps(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        for r in &self.rows {
            let problem = match r.applicable {
                None => "has no decision: mark it applicable or excluded",
                Some(false) if r.justification.trim().is_empty() => {
                    "is excluded without a justification"
                }
                Some(true) if r.reasons.is_empty() && r.justification.trim().is_empty() => {
                    "is applicable without a reason or justification"
                }
                _ => continue,
            };
            gaps.push(Gap {
                control: r.id.clone(),
                problem: format!("{} {problem}", r.id),
            });
        }
        gaps
    }

    /// Inconsistencies worth a look that do not block approval: an excluded control whose
    /// controls treat risks or are in place.
    pub fn warnings(&self) -> Vec<Gap> {
        let mut out = Vec::new();
        for r in self.rows.iter().filter(|r| r.applicable == Some(false)) {
            if let Some(risk) = r.risks.first() {
                out.push(Gap {
                    control: r.id.clone(),
                    problem: format!(
                        "{} is excluded, but a control linked to it treats risk {}",
                        r.id, risk.reference
                    ),
                });
            } else if let Some(c) = r
                .controls
                .iter()
                .find(|c| c.status == ControlStatus::Implemented)
            {
                out.push(Gap {
                    control: r.id.clone(),
                    problem: format!(
                        "{} is excluded, but control {} linked to it is implemented",
                        r.id, c.reference
                    ),
                });
            }
        }
        out
    }

    /// How many controls are applicable, excluded and undecided.
    pub fn counts(&self) -> (usize, usize, usize) {
        let applicable = self
            .rows
            .iter()
            .filter(|r| r.applicable == Some(true))
            .count();
        let excluded = self
            .rows
            .iter()
            .filter(|r| r.applicable == Some(false))
            .count();
        (
            applicable,
            excluded,
            self.rows.len() - applicable - excluded,
        )
    }

    /// The SHA-256 of the content's canonical JSON, hex.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("SoA content serialises");
        hex::encode(Sha256::digest(&json))
    }

    /// Freezes a complete statement; an incomplete one is refused with its gaps.
    pub fn approve(self) -> Result<ApprovedSoa, Vec<Gap>> {
        let gaps = self.gaps();
        if !gaps.is_empty() {
            return Err(gaps);
        }
        let hash = self.hash();
        Ok(ApprovedSoa {
            content: self,
            hash,
        })
    }
}

/// An approved statement: its content and the hash it was approved under. Nothing changes
/// it; a change to the data makes a new draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovedSoa {
    content: SoaContent,
    hash: String,
}

/// A frozen statement whose content no longer matches its recorded hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the approved statement's content does not match its hash {recorded}")]
pub struct Tampered {
    /// The hash recorded at approval.
    pub recorded: String,
}

impl ApprovedSoa {
    /// Re-reads a frozen statement, checking its hash.
    pub fn from_frozen(content: SoaContent, recorded: &str) -> Result<Self, Tampered> {
        if content.hash() != recorded {
            return Err(Tampered {
                recorded: recorded.to_owned(),
            });
        }
        Ok(Self {
            content,
            hash: recorded.to_owned(),
        })
    }

    /// The content.
    pub fn content(&self) -> &SoaContent {
        &self.content
    }

    /// The hash it was approved under.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The content, for a new draft or an export.
    pub fn into_content(self) -> SoaContent {
        self.content
    }
}

/// One field of one control that differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Which field ("decision", "reasons", …).
    pub field: &'static str,
    /// Its value in the older version.
    pub before: String,
    /// Its value in the newer version.
    pub after: String,
}

/// How one control differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowChange {
    /// The Annex A control.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What changed; for a control in only one version, the one field "control".
    pub changes: Vec<FieldChange>,
}

fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(", ")
}

fn fields(r: &SoaRow) -> [(&'static str, String); 7] {
    [
        ("decision", r.decision_label().to_owned()),
        ("reasons", r.reason_labels()),
        ("justification", r.justification.clone()),
        ("status", r.status.label().to_owned()),
        ("controls", join(&r.controls, |c| c.reference.clone())),
        ("risks", join(&r.risks, |k| k.reference.clone())),
        (
            "evidence",
            join(&r.evidence, |e| {
                format!("{} ({})", e.title, e.effective_from)
            }),
        ),
    ]
}

/// Every control that differs between `old` and `new`, in `new`'s order, then the ones
/// only `old` has.
pub fn diff(old: &SoaContent, new: &SoaContent) -> Vec<RowChange> {
    let olds: std::collections::HashMap<&str, &SoaRow> =
        old.rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut out = Vec::new();
    for n in &new.rows {
        let Some(o) = olds.get(n.id.as_str()) else {
            out.push(RowChange {
                id: n.id.clone(),
                title: n.title.clone(),
                changes: vec![FieldChange {
                    field: "control",
                    before: String::new(),
                    after: format!("added ({})", new.framework_name),
                }],
            });
            continue;
        };
        let changes: Vec<FieldChange> = fields(o)
            .into_iter()
            .zip(fields(n))
            .filter(|((_, a), (_, b))| a != b)
            .map(|((field, before), (_, after))| FieldChange {
                field,
                before,
                after,
            })
            .collect();
        if !changes.is_empty() {
            out.push(RowChange {
                id: n.id.clone(),
                title: n.title.clone(),
                changes,
            });
        }
    }
    let news: std::collections::HashSet<&str> = new.rows.iter().map(|r| r.id.as_str()).collect();
    for o in old.rows.iter().filter(|o| !news.contains(o.id.as_str())) {
        out.push(RowChange {
            id: o.id.clone(),
            title: o.title.clone(),
            changes: vec![FieldChange {
                field: "control",
                before: format!("in {}", old.framework_name),
                after: "removed".into(),
            }],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, applicable: Option<bool>, reasons: &[Reason], why: &str) -> SoaRow {
        SoaRow {
            id: id.into(),
            title: format!("Title {id}"),
            group: "A.5 Organizational".into(),
            applicable,
            reasons: reasons.to_vec(),
            justification: why.into(),
            status: RequirementStatus::NotCovered,
            controls: vec![],
            risks: vec![],
            evidence: vec![],
        }
    }

    fn content(rows: Vec<SoaRow>) -> SoaContent {
        SoaContent {
            framework_id: DEFAULT_FRAMEWORK.into(),
            framework_name: "ISO/IEC 27001:2022".into(),
            rows,
        }
    }

    #[test]
    fn approval_needs_every_decision_and_every_exclusion_justified() {
        let c = content(vec![
            row("A.5.1", None, &[], ""),
            row("A.5.2", Some(false), &[], "  "),
            row("A.5.3", Some(true), &[], ""),
            row("A.5.4", Some(true), &[Reason::Legal], ""),
            row("A.5.5", Some(false), &[], "no such activity"),
        ]);
        let gaps = c.clone().approve().unwrap_err();
        let ids: Vec<&str> = gaps.iter().map(|g| g.control.as_str()).collect();
        assert_eq!(ids, ["A.5.1", "A.5.2", "A.5.3"]);
        assert!(gaps[1].problem.contains("excluded without a justification"));
        assert_eq!(c.counts(), (2, 2, 1));

        let complete = content(vec![
            row("A.5.4", Some(true), &[Reason::Legal], ""),
            row("A.5.5", Some(false), &[], "no such activity"),
        ]);
        let approved = complete.clone().approve().unwrap();
        assert_eq!(approved.hash(), complete.hash());
        assert_eq!(approved.hash().len(), 64);
        assert!(ApprovedSoa::from_frozen(complete.clone(), approved.hash()).is_ok());
        let mut changed = complete;
        changed.rows[0].justification = "edited afterwards".into();
        assert!(ApprovedSoa::from_frozen(changed, approved.hash()).is_err());
    }

    #[test]
    fn risk_treatment_is_derived_for_applicable_controls_only() {
        let d = Decision {
            applicable: true,
            reasons: vec![Reason::Legal, Reason::Legal],
            justification: String::new(),
        };
        assert_eq!(
            effective_reasons(Some(&d), true),
            [Reason::RiskTreatment, Reason::Legal]
        );
        assert_eq!(effective_reasons(Some(&d), false), [Reason::Legal]);
        let excluded = Decision {
            applicable: false,
            ..d
        };
        assert_eq!(effective_reasons(Some(&excluded), true), [Reason::Legal]);
        assert!(effective_reasons(None, true).is_empty());
    }

    #[test]
    fn diff_names_each_changed_field_and_added_or_removed_controls() {
        let old = content(vec![
            row("A.5.1", Some(true), &[Reason::Legal], ""),
            row("A.5.2", Some(true), &[Reason::Business], ""),
            row("A.5.9", None, &[], ""),
        ]);
        let mut new = content(vec![
            row("A.5.1", Some(true), &[Reason::Legal], ""),
            row("A.5.2", Some(false), &[], "outsourced entirely"),
            row("A.5.10", None, &[], ""),
        ]);
        new.rows[0].risks.push(RiskRef {
            reference: "R-001".into(),
            title: "Phishing".into(),
        });
        let d = diff(&old, &new);
        let ids: Vec<&str> = d.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["A.5.1", "A.5.2", "A.5.10", "A.5.9"]);
        assert_eq!(d[0].changes[0].field, "risks");
        let fields: Vec<&str> = d[1].changes.iter().map(|c| c.field).collect();
        assert_eq!(fields, ["decision", "reasons", "justification"]);
        assert_eq!(d[1].changes[0].before, "Applicable");
        assert_eq!(d[1].changes[0].after, "Excluded");
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn warnings_point_at_exclusions_the_data_contradicts() {
        let mut r = row("A.8.1", Some(false), &[], "no endpoints");
        r.controls.push(ControlRef {
            reference: "EP-1".into(),
            title: "Endpoint hardening".into(),
            status: ControlStatus::Implemented,
        });
        let w = content(vec![r]).warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].problem.contains("EP-1"), "{w:?}");
    }
}
