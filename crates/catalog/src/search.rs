//! Search across catalogs by id and words: a scan over pre-lowered text, which for a few
//! thousand requirements answers in well under a millisecond.

use attest_domain::framework::Framework;
use serde::Serialize;

/// One requirement found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Framework id.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
    /// Its title.
    pub title: String,
    /// Whether the id matched (ranked first).
    pub id_match: bool,
}

struct Entry {
    framework: String,
    requirement: String,
    title: String,
    id_lower: String,
    text_lower: String,
}

/// A searchable list of requirements.
#[derive(Default)]
pub struct SearchIndex {
    entries: Vec<Entry>,
}

impl SearchIndex {
    /// Indexes frameworks.
    pub fn new<'a>(frameworks: impl IntoIterator<Item = &'a Framework>) -> Self {
        let mut entries = Vec::new();
        for f in frameworks {
            for r in &f.requirements {
                entries.push(Entry {
                    framework: f.id.clone(),
                    requirement: r.id.clone(),
                    title: r.title.clone(),
                    id_lower: r.id.to_lowercase(),
                    text_lower: format!("{} {}", r.title, r.text.as_deref().unwrap_or_default())
                        .to_lowercase(),
                });
            }
        }
        Self { entries }
    }

    /// Requirements whose id starts with the query, then those whose text holds every word,
    /// at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let words: Vec<&str> = q.split_whitespace().collect();
        let mut by_id = Vec::new();
        let mut by_text = Vec::new();
        for e in &self.entries {
            if e.id_lower == q || e.id_lower.starts_with(&q) {
                by_id.push(e);
            } else if words.iter().all(|w| e.text_lower.contains(w)) {
                by_text.push(e);
            }
        }
        by_id
            .into_iter()
            .map(|e| (e, true))
            .chain(by_text.into_iter().map(|e| (e, false)))
            .take(limit)
            .map(|(e, id_match)| Hit {
                framework: e.framework.clone(),
                requirement: e.requirement.clone(),
                title: e.title.clone(),
                id_match,
            })
            .collect()
    }

    /// How many requirements are indexed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
