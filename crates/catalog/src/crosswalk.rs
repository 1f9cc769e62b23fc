//! The graph of mapping links between requirements of different frameworks: direct links
//! from mapping sets (read in either direction), and links derived through a pivot framework
//! when two frameworks have no set between them.

use std::collections::HashMap;
use std::sync::Arc;

use attest_domain::mapping::{MappingLink, MappingSet, Relationship};
use serde::Serialize;

/// One link seen from one of its ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The framework at the other end.
    pub framework: String,
    /// The requirement at the other end.
    pub requirement: String,
    /// How this end relates to the other end.
    pub rel: Relationship,
    /// The mapping set it comes from.
    pub set: String,
    /// Whether the set maps the other way (the relationship was inverted).
    pub reversed: bool,
    /// The set's note on the link.
    pub note: Option<String>,
}

/// A link derived through a pivot: `source` relates to `pivot` (first set), `pivot` relates
/// to `target` (second set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derived {
    /// Requirement of the first framework.
    pub source: String,
    /// Requirement of the second framework.
    pub target: String,
    /// What the two links guarantee together, if anything (`None`: only a candidate, the
    /// reviewer decides the relationship).
    pub rel: Option<Relationship>,
    /// The pivot framework.
    pub pivot_framework: String,
    /// The pivot requirement.
    pub pivot: String,
    /// The first set.
    pub first_set: String,
    /// The second set.
    pub second_set: String,
}

impl Derived {
    /// The path in words: `CSF GV.OC-01 → iso27001-2022 4.1 → soc2 CC3.1`.
    pub fn path(&self) -> String {
        format!(
            "{} ({}) → {} {} ({})",
            self.source, self.first_set, self.pivot_framework, self.pivot, self.second_set
        )
    }
}

/// Every link, indexed by each end.
#[derive(Debug, Default)]
pub struct MappingIndex {
    sets: Vec<Arc<MappingSet>>,
    edges: HashMap<(String, String), Vec<Edge>>,
}

fn push(edges: &mut HashMap<(String, String), Vec<Edge>>, set: &MappingSet, l: &MappingLink) {
    if l.rel == Relationship::NotRelated {
        return;
    }
    edges
        .entry((set.source_framework.clone(), l.source.clone()))
        .or_default()
        .push(Edge {
            framework: set.target_framework.clone(),
            requirement: l.target.clone(),
            rel: l.rel,
            set: set.id.clone(),
            reversed: false,
            note: l.note.clone(),
        });
    edges
        .entry((set.target_framework.clone(), l.target.clone()))
        .or_default()
        .push(Edge {
            framework: set.source_framework.clone(),
            requirement: l.source.clone(),
            rel: l.rel.inverse(),
            set: set.id.clone(),
            reversed: true,
            note: l.note.clone(),
        });
}

impl MappingIndex {
    /// Indexes mapping sets.
    pub fn new(sets: Vec<Arc<MappingSet>>) -> Self {
        let mut edges = HashMap::new();
        for s in &sets {
            for l in &s.links {
                push(&mut edges, s, l);
            }
        }
        Self { sets, edges }
    }

    /// The sets indexed.
    pub fn sets(&self) -> &[Arc<MappingSet>] {
        &self.sets
    }

    /// A set by id.
    pub fn set(&self, id: &str) -> Option<&Arc<MappingSet>> {
        self.sets.iter().find(|s| s.id == id)
    }

    /// Every link from a requirement to requirements of other frameworks.
    pub fn edges(&self, framework: &str, requirement: &str) -> &[Edge] {
        self.edges
            .get(&(framework.to_owned(), requirement.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// The sets that link two frameworks directly (in either direction).
    pub fn direct_sets(&self, a: &str, b: &str) -> Vec<&Arc<MappingSet>> {
        self.sets
            .iter()
            .filter(|s| {
                (s.source_framework == a && s.target_framework == b)
                    || (s.source_framework == b && s.target_framework == a)
            })
            .collect()
    }

    /// The direct links from framework `a` to framework `b`, seen from `a`'s side.
    pub fn direct(&self, a: &str, b: &str) -> Vec<(String, Edge)> {
        let mut out: Vec<(String, Edge)> = self
            .edges
            .iter()
            .filter(|((fw, _), _)| fw == a)
            .flat_map(|((_, req), es)| {
                es.iter()
                    .filter(|e| e.framework == b)
                    .map(move |e| (req.clone(), e.clone()))
            })
            .collect();
        out.sort_by(|x, y| (&x.0, &x.1.requirement).cmp(&(&y.0, &y.1.requirement)));
        out
    }

    /// Links from `a` to `b` derived through any third framework that both are mapped to.
    pub fn derive(&self, a: &str, b: &str) -> Vec<Derived> {
        let mut out: Vec<Derived> = Vec::new();
        for ((fw, req), first) in &self.edges {
            if fw != a {
                continue;
            }
            for e1 in first
                .iter()
                .filter(|e| e.framework != a && e.framework != b)
            {
                for e2 in self
                    .edges(&e1.framework, &e1.requirement)
                    .iter()
                    .filter(|e| e.framework == b)
                {
                    out.push(Derived {
                        source: req.clone(),
                        target: e2.requirement.clone(),
                        rel: e1.rel.compose(e2.rel),
                        pivot_framework: e1.framework.clone(),
                        pivot: e1.requirement.clone(),
                        first_set: e1.set.clone(),
                        second_set: e2.set.clone(),
                    });
                }
            }
        }
        // One derived link per pair: the one whose relationship is known, else the first path.
        out.sort_by(|x, y| {
            (&x.source, &x.target, x.rel.is_none(), &x.pivot).cmp(&(
                &y.source,
                &y.target,
                y.rel.is_none(),
                &y.pivot,
            ))
        });
        out.dedup_by(|x, y| x.source == y.source && x.target == y.target);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(id: &str, s: &str, t: &str, links: &[(&str, &str, Relationship)]) -> Arc<MappingSet> {
        Arc::new(MappingSet {
            id: id.into(),
            name: id.into(),
            source_framework: s.into(),
            target_framework: t.into(),
            authority: "test".into(),
            reference: String::new(),
            date: "2026-01-01".into(),
            new_in_target: vec![],
            links: links
                .iter()
                .map(|(a, b, r)| MappingLink {
                    source: (*a).into(),
                    target: (*b).into(),
                    rel: *r,
                    note: None,
                })
                .collect(),
        })
    }

    #[test]
    fn reads_sets_both_ways_and_derives_through_a_pivot() {
        use Relationship::*;
        let idx = MappingIndex::new(vec![
            set(
                "csf-iso",
                "csf",
                "iso",
                &[("GV.1", "5.1", SubsetOf), ("GV.2", "5.2", IntersectsWith)],
            ),
            set(
                "iso-soc",
                "iso",
                "soc",
                &[("5.1", "CC1.1", SubsetOf), ("5.2", "CC1.2", IntersectsWith)],
            ),
        ]);
        let from_iso = idx.edges("iso", "5.1");
        assert!(
            from_iso
                .iter()
                .any(|e| e.framework == "csf" && e.rel == SupersetOf && e.reversed)
        );
        assert_eq!(idx.direct("soc", "iso").len(), 2);
        let d = idx.derive("csf", "soc");
        assert_eq!(d.len(), 2);
        let gv1 = d.iter().find(|x| x.source == "GV.1").unwrap();
        assert_eq!((gv1.target.as_str(), gv1.rel), ("CC1.1", Some(SubsetOf)));
        let gv2 = d.iter().find(|x| x.source == "GV.2").unwrap();
        assert_eq!(gv2.rel, None, "intersects twice guarantees nothing");
        assert!(gv2.path().contains("iso 5.2"));
    }
}
