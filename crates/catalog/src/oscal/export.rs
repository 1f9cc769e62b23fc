//! Writing a framework that did not come from OSCAL (YAML, CSV, XLSX) as an OSCAL catalog.

use std::collections::{HashMap, HashSet};

use attest_domain::framework::{Framework, Requirement};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::catalog::class_is_kind;
use super::{ATTEST_NS, OSCAL_VERSION, now_rfc3339};

/// An OSCAL catalog document for a framework that did not come from OSCAL (our YAML/CSV/XLSX ones).
///
/// Non-assessable requirements become groups, assessable ones controls (nested in their parent
/// control). Ids that are not OSCAL tokens (`4.1`) are made into tokens (`_4.1`), the original
/// kept in an `attest-id` prop that [`super::parse_catalog`] reads back. Uuids derive from the
/// framework id, so two exports differ only in `last-modified`.
pub fn export_catalog(framework: &Framework) -> Value {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, ATTEST_NS.as_bytes());
    let uuid_for = |what: &str| {
        Uuid::new_v5(&namespace, format!("{what}/{}", framework.id).as_bytes()).to_string()
    };

    let reqs = &framework.requirements;
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, r) in reqs.iter().enumerate() {
        first.entry(r.id.as_str()).or_insert(i);
    }
    let mut children = vec![Vec::new(); reqs.len()];
    let mut roots = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        // Only a parent that comes first is followed, so a broken framework cannot loop here.
        match r.parent.as_deref().and_then(|p| first.get(p)) {
            Some(&p) if p < i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    let writer = Writer {
        reqs,
        ids: oscal_ids(reqs),
        children,
    };

    let mut metadata = Map::new();
    metadata.insert(
        "title".into(),
        one_line(&framework.name)
            .unwrap_or_else(|| framework.id.clone())
            .into(),
    );
    metadata.insert("last-modified".into(), now_rfc3339().into());
    metadata.insert("version".into(), framework.version.trim().into());
    metadata.insert("oscal-version".into(), OSCAL_VERSION.into());
    if let Some(publisher) = one_line(&framework.publisher) {
        let party = uuid_for("publisher");
        metadata.insert(
            "roles".into(),
            json!([{"id": "publisher", "title": "Publisher"}]),
        );
        metadata.insert(
            "parties".into(),
            json!([{"uuid": party, "type": "organization", "name": publisher}]),
        );
        metadata.insert(
            "responsible-parties".into(),
            json!([{"role-id": "publisher", "party-uuids": [party]}]),
        );
    }
    if !framework.description.trim().is_empty() {
        metadata.insert("remarks".into(), framework.description.trim().into());
    }

    let mut catalog = Map::new();
    catalog.insert("uuid".into(), uuid_for("catalog").into());
    catalog.insert("metadata".into(), Value::Object(metadata));
    writer.members(&roots, &mut catalog);
    json!({ "catalog": catalog })
}

struct Writer<'a> {
    reqs: &'a [Requirement],
    /// The OSCAL id of each requirement.
    ids: Vec<String>,
    /// The children of each requirement, in order.
    children: Vec<Vec<usize>>,
}

impl Writer<'_> {
    /// Writes the `controls` and `groups` of a catalog or group.
    fn members(&self, items: &[usize], into: &mut Map<String, Value>) {
        let (controls, groups): (Vec<usize>, Vec<usize>) =
            items.iter().partition(|&&i| self.reqs[i].assessable);
        let controls: Vec<Value> = controls.into_iter().map(|i| self.control(i)).collect();
        let groups: Vec<Value> = groups.into_iter().map(|i| self.group(i)).collect();
        if !controls.is_empty() {
            into.insert("controls".into(), Value::Array(controls));
        }
        if !groups.is_empty() {
            into.insert("groups".into(), Value::Array(groups));
        }
    }

    fn group(&self, i: usize) -> Value {
        let r = &self.reqs[i];
        // A group's class is read back as its kind whatever it says.
        let mut extra = Vec::new();
        if !ascii_token(&r.kind) {
            extra.push(("attest-kind", r.kind.clone()));
        }
        let mut map = self.common(i, extra, ascii_token(&r.kind));
        self.members(&self.children[i], &mut map);
        Value::Object(map)
    }

    fn control(&self, i: usize) -> Value {
        let r = &self.reqs[i];
        // A control's class is read as its kind only when it looks like one; else say it.
        let mut extra = Vec::new();
        if !class_is_kind(&r.kind) {
            extra.push(("attest-kind", r.kind.clone()));
        }
        // OSCAL has no groups inside controls, so a container under a control says what it is.
        if !r.assessable {
            extra.push(("attest-assessable", "false".to_string()));
        }
        let mut map = self.common(i, extra, ascii_token(&r.kind));
        let nested: Vec<Value> = self.children[i].iter().map(|&c| self.control(c)).collect();
        if !nested.is_empty() {
            map.insert("controls".into(), Value::Array(nested));
        }
        Value::Object(map)
    }

    /// Id, class, title, props and statement, shared by groups and controls.
    fn common(&self, i: usize, mut attest: Vec<(&str, String)>, class: bool) -> Map<String, Value> {
        let r = &self.reqs[i];
        let id = &self.ids[i];
        if *id != r.id {
            attest.insert(0, ("attest-id", r.id.clone()));
        }
        let mut props: Vec<Value> = attest
            .into_iter()
            .map(|(name, value)| json!({"name": name, "ns": ATTEST_NS, "value": value}))
            .collect();
        let label = r
            .props
            .get("label")
            .and_then(|l| one_line(l))
            .unwrap_or_else(|| r.id.clone());
        props.push(json!({"name": "label", "value": label}));
        if r.withdrawn {
            props.push(json!({"name": "status", "value": "withdrawn"}));
        }
        for (name, value) in &r.props {
            let taken = name == "label" || (name == "status" && r.withdrawn);
            // OSCAL prop names are tokens and values single-line text; others cannot be written.
            if let (false, true, Some(value)) = (taken, ascii_token(name), one_line(value)) {
                props.push(json!({"name": name, "value": value}));
            }
        }

        let mut map = Map::new();
        map.insert("id".into(), id.clone().into());
        if class {
            map.insert("class".into(), r.kind.clone().into());
        }
        map.insert(
            "title".into(),
            one_line(&r.title).unwrap_or_else(|| r.id.clone()).into(),
        );
        map.insert("props".into(), Value::Array(props));
        if let Some(text) = r.text.as_deref().filter(|t| !t.trim().is_empty()) {
            map.insert(
                "parts".into(),
                json!([{"name": "statement", "prose": text}]),
            );
        }
        map
    }
}

/// OSCAL ids for the requirements: the id itself when it is a token (the first time), else a
/// token made from it, `_` for each character a token cannot have and a leading `_` when it
/// starts with a digit; a number is added when two would be the same.
fn oscal_ids(reqs: &[Requirement]) -> Vec<String> {
    let mut used: HashSet<String> = reqs
        .iter()
        .filter(|r| ascii_token(&r.id))
        .map(|r| r.id.clone())
        .collect();
    let mut kept = HashSet::new();
    reqs.iter()
        .map(|r| {
            if ascii_token(&r.id) && kept.insert(r.id.as_str()) {
                return r.id.clone();
            }
            let mut base: String =
                r.id.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
            if !base.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                base.insert(0, '_');
            }
            let mut candidate = base.clone();
            let mut n = 2;
            while !used.insert(candidate.clone()) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// An OSCAL token in ASCII: what the schema accepts in any validator.
fn ascii_token(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Text as one trimmed line (OSCAL titles and prop values), or `None` when blank.
fn one_line(text: &str) -> Option<String> {
    let line = text.replace(['\r', '\n'], " ");
    let line = line.trim();
    (!line.is_empty()).then(|| line.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn req(id: &str) -> Requirement {
        Requirement {
            id: id.into(),
            parent: None,
            kind: "control".into(),
            title: id.into(),
            text: None,
            props: BTreeMap::new(),
            withdrawn: false,
            assessable: true,
        }
    }

    #[test]
    fn ids_become_unique_tokens() {
        let reqs: Vec<Requirement> = [
            "4.1", "A.5.15", "CC6.1", "_4.1", "a b", "a_b", "CC6.1", "Ä1",
        ]
        .into_iter()
        .map(req)
        .collect();
        assert_eq!(
            oscal_ids(&reqs),
            [
                "_4.1_2", "A.5.15", "CC6.1", "_4.1", "a_b_2", "a_b", "CC6.1_2", "_1"
            ]
        );
    }
}
