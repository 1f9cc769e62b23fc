//! Mappings between requirements of two frameworks, typed as in NIST OLIR, and what a chain
//! of mappings through a pivot framework does and does not imply.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a source requirement relates to a target requirement (NIST OLIR set relationships:
/// "source subset-of target" means the source asks for less than the target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    /// The same requirement.
    Equal,
    /// The source is narrower than the target.
    SubsetOf,
    /// The source is broader than the target.
    SupersetOf,
    /// They overlap; neither contains the other.
    IntersectsWith,
    /// Nothing in common.
    NotRelated,
}

/// How much of a target requirement a control covers through a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coverage {
    /// All of it.
    Full,
    /// Part of it.
    Partial,
}

impl Relationship {
    /// Every relationship.
    pub const ALL: [Relationship; 5] = [
        Relationship::Equal,
        Relationship::SubsetOf,
        Relationship::SupersetOf,
        Relationship::IntersectsWith,
        Relationship::NotRelated,
    ];

    /// The text form (`subset-of`).
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Equal => "equal",
            Relationship::SubsetOf => "subset-of",
            Relationship::SupersetOf => "superset-of",
            Relationship::IntersectsWith => "intersects-with",
            Relationship::NotRelated => "not-related",
        }
    }

    /// The same relation seen from the target's side.
    pub fn inverse(self) -> Self {
        match self {
            Relationship::SubsetOf => Relationship::SupersetOf,
            Relationship::SupersetOf => Relationship::SubsetOf,
            other => other,
        }
    }

    /// What meeting the source in full does for the target: equal and superset cover it in
    /// full, subset and intersects only in part, not-related not at all.
    pub fn coverage(self) -> Option<Coverage> {
        match self {
            Relationship::Equal | Relationship::SupersetOf => Some(Coverage::Full),
            Relationship::SubsetOf | Relationship::IntersectsWith => Some(Coverage::Partial),
            Relationship::NotRelated => None,
        }
    }

    /// The relation of A to C that `A self B` and `B next C` guarantee, or `None` when the
    /// two say nothing certain about A and C (for example A ⊂ B and C ⊂ B: A and C may be
    /// disjoint). `IntersectsWith` here guarantees an overlap, not more.
    pub fn compose(self, next: Relationship) -> Option<Relationship> {
        use Relationship::*;
        match (self, next) {
            (Equal, r) | (r, Equal) => Some(r),
            (SubsetOf, SubsetOf) => Some(SubsetOf),
            (SupersetOf, SupersetOf) => Some(SupersetOf),
            // A ⊃ B and B ⊂ C: B lies in both.
            (SupersetOf, SubsetOf) => Some(IntersectsWith),
            // A ∩ B ≠ ∅ and B ⊂ C: that overlap lies in C.
            (IntersectsWith, SubsetOf) => Some(IntersectsWith),
            // A ⊃ B and B ∩ C ≠ ∅: that overlap lies in A.
            (SupersetOf, IntersectsWith) => Some(IntersectsWith),
            // A ⊂ B and B ∩ C = ∅: A misses C too.
            (SubsetOf, NotRelated) => Some(NotRelated),
            // A ∩ C = ∅ when C ⊂ B and A ∩ B = ∅.
            (NotRelated, SupersetOf) => Some(NotRelated),
            _ => None,
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no relationship.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown relationship `{0}` (expected equal, subset-of, superset-of, intersects-with or not-related)"
)]
pub struct UnknownRelationship(pub String);

impl FromStr for Relationship {
    type Err = UnknownRelationship;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // NIST's published CSV files say "intersect", "subset", "superset".
        Ok(
            match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                "equal" | "equivalent" => Relationship::Equal,
                "subset-of" | "subset" => Relationship::SubsetOf,
                "superset-of" | "superset" => Relationship::SupersetOf,
                "intersects-with" | "intersect" | "intersects" => Relationship::IntersectsWith,
                "not-related" | "no-relationship" => Relationship::NotRelated,
                other => return Err(UnknownRelationship(other.to_owned())),
            },
        )
    }
}

/// One link of a mapping set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingLink {
    /// Requirement of the source framework.
    pub source: String,
    /// Requirement of the target framework.
    pub target: String,
    /// How the source relates to the target.
    pub rel: Relationship,
    /// A note explaining it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A published set of mappings from one framework to another, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingSet {
    /// Stable id (`nist-csf-2.0_to_iso27001-2022`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Source framework id.
    pub source_framework: String,
    /// Target framework id.
    pub target_framework: String,
    /// Who stands behind it (`NIST`, `Attest`, an organisation).
    pub authority: String,
    /// Where it comes from.
    pub reference: String,
    /// Its date (`YYYY-MM-DD`).
    pub date: String,
    /// Target requirements that are new and map from nothing (a framework upgrade's new work).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_in_target: Vec<String>,
    /// The links.
    pub links: Vec<MappingLink>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The true relation of two non-empty sets over a small universe (bit masks).
    fn relate(a: u8, b: u8) -> Relationship {
        if a == b {
            Relationship::Equal
        } else if a & b == a {
            Relationship::SubsetOf
        } else if a & b == b {
            Relationship::SupersetOf
        } else if a & b != 0 {
            Relationship::IntersectsWith
        } else {
            Relationship::NotRelated
        }
    }

    /// Whether the true relation `t` of A and C satisfies what `claim` guarantees.
    fn satisfies(claim: Relationship, a: u8, c: u8) -> bool {
        match claim {
            Relationship::Equal => a == c,
            Relationship::SubsetOf => a & c == a,
            Relationship::SupersetOf => a & c == c,
            Relationship::IntersectsWith => a & c != 0,
            Relationship::NotRelated => a & c == 0,
        }
    }

    proptest! {
        /// Composition never claims more than the sets allow.
        #[test]
        fn composition_is_sound(a in 1u8..=63, b in 1u8..=63, c in 1u8..=63) {
            if let Some(claim) = relate(a, b).compose(relate(b, c)) {
                prop_assert!(satisfies(claim, a, c), "{a:06b} {:?} {b:06b} {:?} {c:06b} claimed {claim:?}", relate(a, b), relate(b, c));
            }
        }

        /// Inverting twice is the identity, and the inverse is the relation seen backwards.
        #[test]
        fn inverse_is_the_reverse_relation(a in 1u8..=63, b in 1u8..=63) {
            prop_assert_eq!(relate(a, b).inverse(), relate(b, a));
            prop_assert_eq!(relate(a, b).inverse().inverse(), relate(a, b));
        }
    }

    #[test]
    fn parses_nist_spellings() {
        assert_eq!("intersect".parse(), Ok(Relationship::IntersectsWith));
        assert_eq!("subset-of".parse(), Ok(Relationship::SubsetOf));
        assert!("related".parse::<Relationship>().is_err());
        assert_eq!(Relationship::SupersetOf.coverage(), Some(Coverage::Full));
        assert_eq!(
            Relationship::IntersectsWith.coverage(),
            Some(Coverage::Partial)
        );
    }
}
