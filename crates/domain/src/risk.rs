//! Information security risk (ISO/IEC 27001 clauses 6.1.2, 6.1.3, 8.2 and 8.3): the
//! organisation's risk matrix and appetite, ratings of likelihood × impact, treatments, and
//! when a recorded acceptance of a residual risk still holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;

/// How a risk is treated (ISO/IEC 27001 6.1.3, ISO/IEC 27005).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Treatment {
    /// Reduce it with controls.
    Modify,
    /// Keep it as it is, by an informed decision.
    Retain,
    /// Stop the activity that gives rise to it.
    Avoid,
    /// Transfer part of it (insurance, a supplier).
    Share,
}

impl Treatment {
    /// Every treatment.
    pub const ALL: [Treatment; 4] = [
        Treatment::Modify,
        Treatment::Retain,
        Treatment::Avoid,
        Treatment::Share,
    ];

    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Modify => "modify",
            Treatment::Retain => "retain",
            Treatment::Avoid => "avoid",
            Treatment::Share => "share",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Treatment::Modify => "Modify (reduce with controls)",
            Treatment::Retain => "Retain",
            Treatment::Avoid => "Avoid",
            Treatment::Share => "Share (transfer)",
        }
    }
}

impl fmt::Display for Treatment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no treatment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown treatment `{0}` (expected modify, retain, avoid or share)")]
pub struct UnknownTreatment(pub String);

impl FromStr for Treatment {
    type Err = UnknownTreatment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Treatment::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownTreatment(s.to_owned()))
    }
}

/// An enum with a fixed text form and a label, parsed from its text form.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $err:ident, $expected:literal,
     { $($(#[$vdoc:meta])* $variant:ident => $text:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// A label for people.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[doc = concat!("Text that names no ", stringify!($name), ".")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown value `{0}` (expected {expected})", expected = $expected)]
        pub struct $err(pub String);

        impl FromStr for $name {
            type Err = $err;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim().to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == t)
                    .ok_or_else(|| $err(s.to_owned()))
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(
    /// What kind of thing an asset is.
    AssetKind, UnknownAssetKind,
    "information, software, hardware, service, people, site or supplier",
    {
        /// Data and documents.
        Information => "information", "Information";
        /// Applications and systems software.
        Software => "software", "Software";
        /// Devices and infrastructure.
        Hardware => "hardware", "Hardware";
        /// A service the organisation runs or uses.
        Service => "service", "Service";
        /// Staff and their knowledge.
        People => "people", "People";
        /// Premises.
        Site => "site", "Site";
        /// An external supplier.
        Supplier => "supplier", "Supplier";
    }
);

text_enum!(
    /// How an asset's information is classified (ISO/IEC 27001 A.5.12).
    Classification, UnknownClassification,
    "public, internal, confidential or restricted",
    {
        /// May be published.
        Public => "public", "Public";
        /// For staff.
        Internal => "internal", "Internal";
        /// For named people with a need to know.
        Confidential => "confidential", "Confidential";
        /// The most sensitive.
        Restricted => "restricted", "Restricted";
    }
);

text_enum!(
    /// Whether a risk is still being managed.
    RiskStatus, UnknownRiskStatus,
    "open or closed",
    {
        /// Being managed.
        Open => "open", "Open";
        /// No longer applies (the asset or activity is gone).
        Closed => "closed", "Closed";
    }
);

/// A likelihood and an impact, each a 1-based step of the matrix's scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rating {
    /// Likelihood step, 1 = least likely.
    pub likelihood: u8,
    /// Impact step, 1 = least severe.
    pub impact: u8,
}

impl Rating {
    /// The score: likelihood × impact.
    pub fn score(self) -> u32 {
        u32::from(self.likelihood) * u32::from(self.impact)
    }
}

/// A named band of scores (Low, Medium, …): every score from `min_score` up to the next
/// band's minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Its name.
    pub name: String,
    /// The lowest score in it.
    pub min_score: u32,
}

/// What is wrong with a proposed risk matrix, or with a rating on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// A scale has too few or too many steps.
    #[error("the {scale} scale needs 3 to 5 named steps, not {count}")]
    ScaleSize { scale: &'static str, count: usize },
    /// A step or level has no name, or too long a one.
    #[error("every {what} needs a name of 1 to 40 characters")]
    Name { what: &'static str },
    /// The levels do not start at 1 or do not rise.
    #[error("levels must start at score 1 and rise, each within the matrix's highest score {max}")]
    Levels { max: u32 },
    /// The appetite is outside the scores.
    #[error("the appetite must be a score from 1 to {max}")]
    Appetite { max: u32 },
    /// A rating is off the scales.
    #[error("{field} must be from 1 to {max}")]
    OffScale { field: &'static str, max: u8 },
}

/// The organisation's risk matrix and appetite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskMatrix {
    likelihood: Vec<String>,
    impact: Vec<String>,
    levels: Vec<Level>,
    appetite: u32,
}

impl Default for RiskMatrix {
    /// 5 × 5, four levels, risks up to Medium (score 9) acceptable without a decision.
    fn default() -> Self {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        let level = |name: &str, min_score| Level {
            name: name.to_owned(),
            min_score,
        };
        Self {
            likelihood: names(&["Rare", "Unlikely", "Possible", "Likely", "Almost certain"]),
            impact: names(&["Negligible", "Minor", "Moderate", "Major", "Severe"]),
            levels: vec![
                level("Low", 1),
                level("Medium", 5),
                level("High", 10),
                level("Critical", 17),
            ],
            appetite: 9,
        }
    }
}

impl RiskMatrix {
    /// A matrix from its parts, checked: 3 to 5 named steps per scale, levels starting at
    /// score 1 and rising, an appetite within the scores.
    pub fn new(
        likelihood: Vec<String>,
        impact: Vec<String>,
        levels: Vec<Level>,
        appetite: u32,
    ) -> Result<Self, MatrixError> {
        let trim = |v: Vec<String>| -> Vec<String> {
            v.into_iter().map(|s| s.trim().to_owned()).collect()
        };
        let (likelihood, impact) = (trim(likelihood), trim(impact));
        for (scale, steps) in [("likelihood", &likelihood), ("impact", &impact)] {
            if !(3..=5).contains(&steps.len()) {
                return Err(MatrixError::ScaleSize {
                    scale,
                    count: steps.len(),
                });
            }
            if steps.iter().any(|s| !valid_name(s)) {
                return Err(MatrixError::Name { what: "step" });
            }
        }
        let max = (likelihood.len() * impact.len()) as u32;
        let levels: Vec<Level> = levels
            .into_iter()
            .map(|l| Level {
                name: l.name.trim().to_owned(),
                min_score: l.min_score,
            })
            .collect();
        if levels.iter().any(|l| !valid_name(&l.name)) {
            return Err(MatrixError::Name { what: "level" });
        }
        let rising = levels.windows(2).all(|w| w[0].min_score < w[1].min_score);
        if levels.first().is_none_or(|l| l.min_score != 1)
            || !rising
            || levels.iter().any(|l| l.min_score > max)
        {
            return Err(MatrixError::Levels { max });
        }
        if !(1..=max).contains(&appetite) {
            return Err(MatrixError::Appetite { max });
        }
        Ok(Self {
            likelihood,
            impact,
            levels,
            appetite,
        })
    }

    /// The likelihood steps' names, least likely first.
    pub fn likelihood(&self) -> &[String] {
        &self.likelihood
    }

    /// The impact steps' names, least severe first.
    pub fn impact(&self) -> &[String] {
        &self.impact
    }

    /// The levels, lowest first.
    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// The highest score accepted without a recorded decision.
    pub fn appetite(&self) -> u32 {
        self.appetite
    }

    /// A rating checked against the scales.
    pub fn rate(&self, likelihood: i64, impact: i64) -> Result<Rating, MatrixError> {
        let step = |v: i64, len: usize, field| {
            u8::try_from(v)
                .ok()
                .filter(|s| (1..=len as u8).contains(s))
                .ok_or(MatrixError::OffScale {
                    field,
                    max: len as u8,
                })
        };
        Ok(Rating {
            likelihood: step(likelihood, self.likelihood.len(), "likelihood")?,
            impact: step(impact, self.impact.len(), "impact")?,
        })
    }

    /// Whether a rating fits this matrix's scales.
    pub fn fits(&self, r: Rating) -> bool {
        (1..=self.likelihood.len()).contains(&usize::from(r.likelihood))
            && (1..=self.impact.len()).contains(&usize::from(r.impact))
    }

    /// The level a score falls in.
    pub fn level(&self, score: u32) -> &Level {
        // A matrix always has a level from score 1 (`new` checks it); the fallback only
        // keeps a damaged stored matrix from taking the register down.
        static UNNAMED: Level = Level {
            name: String::new(),
            min_score: 1,
        };
        self.levels
            .iter()
            .rev()
            .find(|l| l.min_score <= score)
            .or(self.levels.first())
            .unwrap_or(&UNNAMED)
    }

    /// Whether a score is above the appetite (and so needs treating or an acceptance).
    pub fn above_appetite(&self, score: u32) -> bool {
        score > self.appetite
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= 40
}

/// The values of a risk an acceptance was given for: if any changes, the decision no longer
/// covers the risk as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskSnapshot {
    /// Inherent rating.
    pub inherent: Rating,
    /// Residual rating.
    pub residual: Rating,
    /// Treatment.
    pub treatment: Treatment,
    /// The treating controls' ids, sorted.
    pub controls: Vec<String>,
}

/// Where a recorded acceptance stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AcceptanceState {
    /// It covers the risk as it stands.
    Valid,
    /// Its expiry date has passed.
    Expired,
    /// The risk changed materially since the decision.
    NeedsRenewal,
}

impl AcceptanceState {
    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            AcceptanceState::Valid => "Valid",
            AcceptanceState::Expired => "Expired",
            AcceptanceState::NeedsRenewal => "Needs renewal",
        }
    }
}

/// Whether an acceptance given for `accepted`, expiring after `expires_on`, still holds for
/// the risk as it is `now` on `today`.
pub fn acceptance_state(
    accepted: &RiskSnapshot,
    expires_on: Date,
    now: &RiskSnapshot,
    today: Date,
) -> AcceptanceState {
    if accepted != now {
        AcceptanceState::NeedsRenewal
    } else if today > expires_on {
        AcceptanceState::Expired
    } else {
        AcceptanceState::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("S{i}")).collect()
    }

    fn lv(v: &[(&str, u32)]) -> Vec<Level> {
        v.iter()
            .map(|(n, m)| Level {
                name: (*n).into(),
                min_score: *m,
            })
            .collect()
    }

    #[test]
    fn the_default_matrix_is_five_by_five_with_levels() {
        let m = RiskMatrix::default();
        assert_eq!((m.likelihood().len(), m.impact().len()), (5, 5));
        assert_eq!(m.level(1).name, "Low");
        assert_eq!(m.level(9).name, "Medium");
        assert_eq!(m.level(12).name, "High");
        assert_eq!(m.level(25).name, "Critical");
        assert!(!m.above_appetite(9) && m.above_appetite(10));
        // The default passes its own checks.
        let again = RiskMatrix::new(
            m.likelihood().to_vec(),
            m.impact().to_vec(),
            m.levels().to_vec(),
            m.appetite(),
        );
        assert_eq!(again, Ok(m));
    }

    #[test]
    fn matrices_are_checked() {
        let three = || lv(&[("Low", 1), ("High", 5)]);
        assert!(RiskMatrix::new(names(3), names(3), three(), 4).is_ok());
        assert_eq!(
            RiskMatrix::new(names(2), names(3), three(), 4),
            Err(MatrixError::ScaleSize {
                scale: "likelihood",
                count: 2
            })
        );
        assert!(matches!(
            RiskMatrix::new(names(3), names(6), three(), 4),
            Err(MatrixError::ScaleSize {
                scale: "impact",
                ..
            })
        ));
        assert_eq!(
            RiskMatrix::new(names(3), names(3), lv(&[("Low", 2)]), 4),
            Err(MatrixError::Levels { max: 9 })
        );
        assert!(RiskMatrix::new(names(3), names(3), lv(&[("Low", 1), ("Hi", 1)]), 4).is_err());
        assert!(RiskMatrix::new(names(3), names(3), lv(&[("Low", 1), ("Hi", 10)]), 4).is_err());
        assert_eq!(
            RiskMatrix::new(names(3), names(3), three(), 10),
            Err(MatrixError::Appetite { max: 9 })
        );
        let mut blank = names(3);
        blank[1] = "  ".into();
        assert_eq!(
            RiskMatrix::new(blank, names(3), three(), 4),
            Err(MatrixError::Name { what: "step" })
        );
    }

    #[test]
    fn ratings_stay_on_the_scales() {
        let m = RiskMatrix::new(names(4), names(3), lv(&[("Low", 1)]), 6).unwrap();
        let r = m.rate(4, 3).unwrap();
        assert_eq!(r.score(), 12);
        assert!(m.fits(r));
        assert_eq!(
            m.rate(5, 1),
            Err(MatrixError::OffScale {
                field: "likelihood",
                max: 4
            })
        );
        assert_eq!(
            m.rate(1, 0),
            Err(MatrixError::OffScale {
                field: "impact",
                max: 3
            })
        );
        assert!(m.rate(-1, 300).is_err());
        assert!(!m.fits(Rating {
            likelihood: 5,
            impact: 1
        }));
    }

    #[test]
    fn an_acceptance_holds_until_it_expires_or_the_risk_changes() {
        let snap = RiskSnapshot {
            inherent: Rating {
                likelihood: 4,
                impact: 5,
            },
            residual: Rating {
                likelihood: 3,
                impact: 4,
            },
            treatment: Treatment::Modify,
            controls: vec!["a".into()],
        };
        let until = date!(2026 - 12 - 31);
        assert_eq!(
            acceptance_state(&snap, until, &snap, date!(2026 - 12 - 31)),
            AcceptanceState::Valid
        );
        assert_eq!(
            acceptance_state(&snap, until, &snap, date!(2027 - 01 - 01)),
            AcceptanceState::Expired
        );
        let mut worse = snap.clone();
        worse.residual.impact = 5;
        assert_eq!(
            acceptance_state(&snap, until, &worse, date!(2026 - 06 - 01)),
            AcceptanceState::NeedsRenewal
        );
        let mut fewer = snap.clone();
        fewer.controls.clear();
        assert_eq!(
            acceptance_state(&snap, until, &fewer, date!(2026 - 06 - 01)),
            AcceptanceState::NeedsRenewal
        );
    }

    #[test]
    fn text_forms_parse() {
        assert_eq!("Share".parse(), Ok(Treatment::Share));
        assert!("transfer".parse::<Treatment>().is_err());
        for k in AssetKind::ALL {
            assert_eq!(k.as_str().parse(), Ok(*k));
        }
        assert_eq!(" Restricted ".parse(), Ok(Classification::Restricted));
        let err = "secret".parse::<Classification>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown value `secret` (expected public, internal, confidential or restricted)"
        );
        assert_eq!("closed".parse(), Ok(RiskStatus::Closed));
    }
}
