//! YAML read into a plain value tree, so that every field can be checked and every problem
//! reported, instead of stopping at the first field that does not fit a typed struct.

use attest_domain::framework::Problem;
use serde_json::{Map, Value};

/// Parses one YAML document; a syntax error becomes a problem at its line.
pub(super) fn document(text: &str) -> Result<Value, Problem> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| {
        let at = match e.location() {
            Some(l) if l.line() > 0 => format!("line {}", l.line()),
            _ => "document".to_owned(),
        };
        // The plain message: the snippet rendering is for terminals, not for a problem list.
        let message = e.without_snippet().to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        Problem::new(at, message)
    })
}

/// The mapping at the top of a document, or a problem saying what was expected instead.
pub(super) fn top_mapping(doc: Value, expected: &str) -> Result<Map<String, Value>, Problem> {
    match doc {
        Value::Object(map) => Ok(map),
        _ => Err(Problem::new(
            "document",
            format!("expected a mapping with {expected}"),
        )),
    }
}

/// A scalar as text. Integers are fine (`version: 2022`), but YAML reads `1.10` as the
/// number 1.1 and `yes` as true, so those would silently change and must be quoted instead.
pub(super) fn text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Value::Number(n) => Err(format!("is read as the number {n}; put it in quotes")),
        Value::Bool(b) => Err(format!(
            "is read as the boolean {b}; put it in quotes if it is text"
        )),
        Value::Array(_) | Value::Object(_) => {
            Err("must be a single value, not a list or a mapping".to_owned())
        }
    }
}

/// A true/false flag.
pub(super) fn flag(value: &Value) -> Result<Option<bool>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(format!("must be true or false, not {other}")),
    }
}

/// Collects the problems of one mapping's fields, all located under one place.
pub(super) struct Fields<'a> {
    map: &'a Map<String, Value>,
    at: String,
    problems: &'a mut Vec<Problem>,
}

impl<'a> Fields<'a> {
    /// Reads the fields of `map`, reporting problems at `at`.
    pub(super) fn new(
        map: &'a Map<String, Value>,
        at: impl Into<String>,
        problems: &'a mut Vec<Problem>,
    ) -> Self {
        Self {
            map,
            at: at.into(),
            problems,
        }
    }

    /// Changes where later problems are reported (once the id is known).
    pub(super) fn locate(&mut self, at: impl Into<String>) {
        self.at = at.into();
    }

    /// Records a problem at this mapping's place.
    pub(super) fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(Problem::new(&self.at, message));
    }

    /// Records a problem of one key: at the mapping's place, or at the key itself when the
    /// mapping is the document (`version: …`).
    fn key_problem(&mut self, key: &str, message: String) {
        let at = if self.at.is_empty() {
            key.to_owned()
        } else {
            self.at.clone()
        };
        self.problems.push(Problem::new(at, message));
    }

    /// An optional text field.
    pub(super) fn text(&mut self, key: &str) -> Option<String> {
        let value = self.map.get(key)?;
        text(value).unwrap_or_else(|e| {
            self.key_problem(key, format!("`{key}` {e}"));
            None
        })
    }

    /// A text field that must be there and not be blank.
    pub(super) fn required(&mut self, key: &str) -> Option<String> {
        let value = self.text(key).filter(|v| !v.trim().is_empty());
        if value.is_none() && self.map.get(key).is_none_or(|v| text(v).is_ok()) {
            self.key_problem(key, format!("`{key}` is missing or blank"));
        }
        value
    }

    /// An optional true/false field.
    pub(super) fn flag(&mut self, key: &str) -> Option<bool> {
        let value = self.map.get(key)?;
        flag(value).unwrap_or_else(|e| {
            self.key_problem(key, format!("`{key}` {e}"));
            None
        })
    }

    /// A list of text values (`new_in_target: [A.5.7, …]`).
    pub(super) fn text_list(&mut self, key: &str) -> Vec<String> {
        let items = match self.map.get(key) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.key_problem(key, format!("`{key}` must be a list"));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match text(item) {
                Ok(Some(v)) => out.push(v),
                Ok(None) => self.key_problem(key, format!("`{key}[{i}]` is empty")),
                Err(e) => self.key_problem(key, format!("`{key}[{i}]` {e}")),
            }
        }
        out
    }

    /// Reports every key that is not one of `known` (a misspelt key would otherwise be lost).
    pub(super) fn reject_unknown(&mut self, known: &[&str]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            self.key_problem(
                &key,
                format!(
                    "unknown key `{key}` (expected one of: {})",
                    known.join(", ")
                ),
            );
        }
    }
}
