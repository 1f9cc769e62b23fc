//! Frameworks: published catalogs of requirements (ISO/IEC 27001, SOC 2 TSC, NIST CSF and
//! SP 800-53, CIS Controls, or an organisation's own), each versioned, each requirement with
//! an id, a title, a parent and a kind.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// One requirement of a framework (a clause, control, criterion, subcategory, safeguard …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// The id as the publisher writes it (`A.5.15`, `CC6.1`, `ac-2.1`, `GV.OC-01`).
    pub id: String,
    /// The parent requirement, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What kind of item it is (`clause`, `theme`, `control`, `enhancement`, `criterion`, …).
    pub kind: String,
    /// A short title.
    pub title: String,
    /// The requirement's text or a description, when the catalog carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Further properties (`category` for SOC 2, `ig` for CIS, `label`, `sort-id` …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub props: BTreeMap<String, String>,
    /// Withdrawn by its publisher (kept so old mappings still resolve).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    /// Whether controls are linked to it and coverage is judged on it (containers such as
    /// themes, families and series are not).
    pub assessable: bool,
}

/// Where a framework came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Origin {
    /// Shipped with Attest.
    BuiltIn,
    /// Imported by an organisation, from a file of this format (`oscal`, `yaml`, `csv`, `xlsx`).
    Imported {
        /// The file format.
        format: String,
    },
}

/// A versioned catalog of requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// A stable slug (`iso27001-2022`).
    pub id: String,
    /// Its name (`ISO/IEC 27001:2022`).
    pub name: String,
    /// Version.
    pub version: String,
    /// Publisher.
    pub publisher: String,
    /// A sentence about it.
    #[serde(default)]
    pub description: String,
    /// Built in or imported.
    pub origin: Origin,
    /// For a framework made by resolving a profile (a baseline): the framework it selects from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_of: Option<String>,
    /// Every requirement, parents before children, in the publisher's order.
    pub requirements: Vec<Requirement>,
}

/// A problem found in a catalog, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: a JSON path (`catalog.groups[3].controls[1].id`), `line 12`, or `row 7`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at a place.
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Whether text is a usable framework id: 2 to 64 lower-case letters, digits, `.`, `-`, `_`.
pub fn valid_framework_id(id: &str) -> bool {
    (2..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

/// Whether text is a usable requirement id: 1 to 64 printable characters without spaces.
pub fn valid_requirement_id(id: &str) -> bool {
    (1..=64).contains(&id.chars().count())
        && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Framework {
    /// Checks the catalog's shape: ids present, valid and unique, every parent exists and
    /// comes first (so there are no cycles), titles present. Returns every problem found;
    /// `at` of each requirement problem is `requirements[i]`, or what `locate(i)` says.
    pub fn problems(&self, locate: &dyn Fn(usize) -> String) -> Vec<Problem> {
        let mut out = Vec::new();
        if !valid_framework_id(&self.id) {
            out.push(Problem::new("id", format!("`{}` is not a valid framework id: use 2 to 64 lower-case letters, digits, dots, hyphens or underscores, starting with a letter", self.id)));
        }
        if self.name.trim().is_empty() {
            out.push(Problem::new("name", "the framework has no name"));
        }
        if self.version.trim().is_empty() {
            out.push(Problem::new("version", "the framework has no version"));
        }
        if self.requirements.is_empty() {
            out.push(Problem::new(
                "requirements",
                "the framework has no requirements",
            ));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let all: HashSet<&str> = self.requirements.iter().map(|r| r.id.as_str()).collect();
        for (i, r) in self.requirements.iter().enumerate() {
            let at = locate(i);
            if !valid_requirement_id(&r.id) {
                out.push(Problem::new(
                    &at,
                    format!("`{}` is not a valid requirement id", r.id),
                ));
            }
            if let Some(first) = seen.insert(&r.id, i) {
                out.push(Problem::new(
                    &at,
                    format!("duplicate id `{}` (first at {})", r.id, locate(first)),
                ));
            }
            if r.title.trim().is_empty() {
                out.push(Problem::new(
                    &at,
                    format!("requirement `{}` has no title", r.id),
                ));
            }
            if let Some(p) = &r.parent {
                if p == &r.id {
                    out.push(Problem::new(
                        &at,
                        format!("requirement `{}` is its own parent", r.id),
                    ));
                } else if !all.contains(p.as_str()) {
                    out.push(Problem::new(
                        &at,
                        format!("parent `{p}` of `{}` does not exist", r.id),
                    ));
                } else if !seen.contains_key(p.as_str()) {
                    // Parents must come first; a parent that only comes later may be a cycle.
                    if self.ancestors_cycle(&r.id) {
                        out.push(Problem::new(
                            &at,
                            format!("`{}` is part of a cycle of parents", r.id),
                        ));
                    } else {
                        out.push(Problem::new(
                            &at,
                            format!("parent `{p}` of `{}` must come before it", r.id),
                        ));
                    }
                }
            }
        }
        out
    }

    fn ancestors_cycle(&self, start: &str) -> bool {
        let parents: HashMap<&str, &str> = self
            .requirements
            .iter()
            .filter_map(|r| r.parent.as_deref().map(|p| (r.id.as_str(), p)))
            .collect();
        let mut seen = HashSet::new();
        let mut cur = start;
        while let Some(p) = parents.get(cur) {
            if !seen.insert(*p) || *p == start {
                return true;
            }
            cur = p;
        }
        false
    }

    /// A requirement by id.
    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// The requirements coverage is judged on (assessable, not withdrawn).
    pub fn assessable(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements
            .iter()
            .filter(|r| r.assessable && !r.withdrawn)
    }

    /// How many requirements of a kind (withdrawn ones included when `with_withdrawn`).
    pub fn count_kind(&self, kind: &str, with_withdrawn: bool) -> usize {
        self.requirements
            .iter()
            .filter(|r| r.kind == kind && (with_withdrawn || !r.withdrawn))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &str, parent: Option<&str>) -> Requirement {
        Requirement {
            id: id.into(),
            parent: parent.map(Into::into),
            kind: "control".into(),
            title: format!("Title {id}"),
            text: None,
            props: BTreeMap::new(),
            withdrawn: false,
            assessable: true,
        }
    }

    fn fw(reqs: Vec<Requirement>) -> Framework {
        Framework {
            id: "test-fw".into(),
            name: "Test".into(),
            version: "1".into(),
            publisher: "Us".into(),
            description: String::new(),
            origin: Origin::BuiltIn,
            profile_of: None,
            requirements: reqs,
        }
    }

    #[test]
    fn finds_every_problem() {
        let f = fw(vec![
            req("a", None),
            req("a", None),
            req("b", Some("zz")),
            req("c", Some("d")),
            req("d", Some("c")),
            req("e e", None),
        ]);
        let p = f.problems(&|i| format!("requirements[{i}]"));
        let text: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t.contains("duplicate id `a`")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("parent `zz`")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("cycle")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("`e e` is not a valid")),
            "{text:?}"
        );
        assert!(
            fw(vec![req("a", None), req("b", Some("a"))])
                .problems(&|i| i.to_string())
                .is_empty()
        );
    }
}
