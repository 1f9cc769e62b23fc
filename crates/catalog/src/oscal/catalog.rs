//! Reading an OSCAL catalog (JSON) into a framework.

use std::collections::{BTreeMap, HashMap, HashSet};

use attest_domain::framework::{Framework, Origin, Problem, Requirement};
use serde_json::{Map, Value};

use super::prose::{Params, array, part_text};
use super::{ATTEST_NS, OscalCatalog, is_token, not_json};

/// Reads an OSCAL catalog (JSON, `{"catalog": {...}}`). Every problem found is returned (JSON path + message), nothing partial.
pub fn parse_catalog(
    json: &[u8],
    framework_id: &str,
    origin: Origin,
) -> Result<OscalCatalog, Vec<Problem>> {
    let document: Value =
        serde_json::from_slice(json).map_err(|e| vec![not_json(&e, "catalog")])?;
    let framework = framework_of(&document, framework_id, origin)?;
    Ok(OscalCatalog {
        framework,
        document,
    })
}

/// The framework a catalog document describes, or every problem in it.
pub(super) fn framework_of(
    document: &Value,
    framework_id: &str,
    origin: Origin,
) -> Result<Framework, Vec<Problem>> {
    let Some(catalog) = document.get("catalog").filter(|c| c.is_object()) else {
        return Err(vec![Problem::new(
            "catalog",
            "no `catalog` object: an OSCAL catalog is a JSON object {\"catalog\": {…}}",
        )]);
    };
    let mut reader = Reader {
        params: Params::of_catalog(catalog),
        ..Reader::default()
    };
    if !has_text(catalog, "uuid") {
        reader.problem("catalog.uuid", "the catalog has no uuid");
    }
    let metadata = catalog.get("metadata").and_then(Value::as_object);
    match metadata {
        None => reader.problem("catalog.metadata", "the catalog has no metadata"),
        Some(m) if !m.get("title").is_some_and(has_text_value) => {
            reader.problem("catalog.metadata.title", "the catalog has no title")
        }
        Some(_) => {}
    }
    reader.children(catalog, "catalog", None, false);

    let text = |field: &str| {
        metadata
            .and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let framework = Framework {
        id: framework_id.to_string(),
        name: text("title"),
        version: text("version"),
        publisher: metadata.map(publisher).unwrap_or_default(),
        description: text("remarks"),
        origin,
        profile_of: None,
        requirements: reader.requirements,
    };

    // Framework::problems checks what every format shares (ids, duplicates, parents, titles);
    // an element already reported above is left out so each fault is named once, where it is.
    let paths = reader.paths;
    let mut problems = reader.problems;
    let reported: HashSet<String> = problems.iter().map(|p| p.at.clone()).collect();
    for mut p in framework.problems(&|i| paths[i].clone()) {
        p.at = match p.at.as_str() {
            "name" => "catalog.metadata.title".into(),
            "version" => "catalog.metadata.version".into(),
            "requirements" => "catalog".into(),
            _ => p.at,
        };
        let already = reported.iter().any(|r| {
            p.at == *r
                || p.at
                    .strip_prefix(r.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        });
        if !already && !reader.flagged.contains(&p.at) {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        Ok(framework)
    } else {
        Err(problems)
    }
}

/// The publisher: the party in the `publisher` role, else the first party.
fn publisher(metadata: &Map<String, Value>) -> String {
    let list = |field: &str| {
        metadata
            .get(field)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let parties = list("parties");
    let first_of = |party: &Value, fields: [&str; 2]| {
        fields
            .iter()
            .find_map(|f| party.get(*f).and_then(Value::as_str))
            .map(|s| s.trim().to_string())
    };
    let in_role = list("responsible-parties")
        .iter()
        .filter(|rp| rp.get("role-id").and_then(Value::as_str) == Some("publisher"))
        .flat_map(|rp| array(rp, "party-uuids"))
        .filter_map(Value::as_str)
        .find_map(|uuid| {
            parties
                .iter()
                .find(|p| p.get("uuid").and_then(Value::as_str) == Some(uuid))
        });
    match in_role {
        Some(party) => first_of(party, ["name", "short-name"]),
        None => parties
            .first()
            .and_then(|party| first_of(party, ["short-name", "name"])),
    }
    .unwrap_or_default()
}

fn has_text(node: &Value, field: &str) -> bool {
    node.get(field).is_some_and(has_text_value)
}

fn has_text_value(value: &Value) -> bool {
    value.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// Walks groups and controls in document order, parents first.
#[derive(Default)]
struct Reader<'a> {
    params: Params<'a>,
    requirements: Vec<Requirement>,
    /// The JSON path of each requirement's element.
    paths: Vec<String>,
    problems: Vec<Problem>,
    /// Elements with a problem of their own already reported.
    flagged: HashSet<String>,
    /// Each OSCAL id seen, with where.
    seen: HashMap<&'a str, String>,
}

impl<'a> Reader<'a> {
    fn problem(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(at, message));
    }

    /// The controls, then the groups of a catalog or group (OSCAL's order in XML).
    fn children(&mut self, node: &'a Value, path: &str, parent: Option<&str>, in_control: bool) {
        for (i, control) in array(node, "controls").iter().enumerate() {
            self.element(
                control,
                format!("{path}.controls[{i}]"),
                parent,
                Some(in_control),
            );
        }
        for (i, group) in array(node, "groups").iter().enumerate() {
            self.element(group, format!("{path}.groups[{i}]"), parent, None);
        }
    }

    /// One group (`control_nested` is `None`) or control, then its children.
    fn element(
        &mut self,
        node: &'a Value,
        path: String,
        parent: Option<&str>,
        control_nested: Option<bool>,
    ) {
        let is_control = control_nested.is_some();
        let what = if is_control { "control" } else { "group" };
        if !node.is_object() {
            self.problem(path, format!("a {what} must be a JSON object"));
            return;
        }
        let mut own_problem = false;
        let oscal_id = match node.get("id").and_then(Value::as_str) {
            None => {
                self.problem(format!("{path}.id"), format!("the {what} has no id"));
                own_problem = true;
                None
            }
            Some(id) => {
                if !is_token(id) {
                    self.problem(
                        format!("{path}.id"),
                        format!("`{id}` is not a valid OSCAL id: start with a letter or `_`, then use letters, digits, `.`, `-` or `_`"),
                    );
                    own_problem = true;
                }
                if let Some(first) = self.seen.get(id) {
                    let message = format!("duplicate id `{id}` (first at {first}.id)");
                    self.problem(format!("{path}.id"), message);
                    own_problem = true;
                } else {
                    self.seen.insert(id, path.clone());
                }
                Some(id)
            }
        };
        let title = node
            .get("title")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        if title.is_empty() {
            self.problem(
                format!("{path}.title"),
                format!("the {what} `{}` has no title", oscal_id.unwrap_or("")),
            );
            own_problem = true;
        }

        let mut props = BTreeMap::new();
        let (mut attest_id, mut attest_kind, mut attest_assessable) = (None, None, None);
        for p in array(node, "props") {
            let (Some(name), Some(value)) = (
                p.get("name").and_then(Value::as_str),
                p.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            if p.get("ns").and_then(Value::as_str) == Some(ATTEST_NS) {
                // Attest's own props carry what OSCAL cannot say; they are not the publisher's props.
                match name {
                    "attest-id" => attest_id = Some(value),
                    "attest-kind" => attest_kind = Some(value),
                    "attest-assessable" => attest_assessable = Some(value != "false"),
                    _ => {}
                }
                continue;
            }
            props
                .entry(name.to_string())
                .or_insert_with(|| value.to_string());
        }
        let withdrawn = props
            .get("status")
            .is_some_and(|s| s.eq_ignore_ascii_case("withdrawn"));
        let class = node.get("class").and_then(Value::as_str);
        let kind = match (attest_kind, control_nested) {
            (Some(kind), _) => kind,
            (None, None) => class.unwrap_or("group"),
            (None, Some(nested)) => match class {
                Some(c) if class_is_kind(c) => c,
                _ if nested => "enhancement",
                _ => "control",
            },
        };
        let text = if is_control {
            part_text(node, "statement", &self.params)
        } else {
            part_text(node, "statement", &self.params)
                .or_else(|| part_text(node, "overview", &self.params))
        };
        // Without an id the element still stands in for its children, under its path.
        let id = attest_id
            .or(oscal_id)
            .map_or_else(|| path.clone(), str::to_string);
        if own_problem {
            self.flagged.insert(path.clone());
        }
        self.requirements.push(Requirement {
            id: id.clone(),
            parent: parent.map(str::to_string),
            kind: kind.to_string(),
            title: title.to_string(),
            text,
            props,
            withdrawn,
            assessable: attest_assessable.unwrap_or(is_control),
        });
        self.paths.push(path.clone());
        self.children(node, &path, Some(&id), is_control);
    }
}

/// Whether a control's class names what it is (`category`, `subcategory`, `criterion`) rather
/// than a publisher's series tag (`SP800-53`, `SP800-53-enhancement`).
pub(super) fn class_is_kind(class: &str) -> bool {
    class.starts_with(|c: char| c.is_ascii_lowercase())
        && class.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(doc: Value) -> Result<Framework, Vec<Problem>> {
        parse_catalog(doc.to_string().as_bytes(), "test-fw", Origin::BuiltIn).map(|c| c.framework)
    }

    #[test]
    fn kinds_publisher_and_withdrawn() {
        let fw = parse(json!({"catalog": {
            "uuid": "74c8ba1e-5cd4-4ad1-bbfd-fc4ad8a3ee5d",
            "metadata": {
                "title": "T", "version": "1", "remarks": "About.",
                "parties": [{"uuid": "a", "type": "organization", "name": "First"}, {"uuid": "b", "type": "organization", "name": "Pub"}],
                "responsible-parties": [{"role-id": "publisher", "party-uuids": ["b"]}]
            },
            "groups": [{"id": "g", "class": "family", "title": "G", "controls": [
                {"id": "c-1", "class": "SP800-53", "title": "C1", "props": [{"name": "label", "value": "C-1"}, {"name": "label", "value": "x"}],
                 "controls": [{"id": "c-1.1", "title": "E", "props": [{"name": "status", "value": "withdrawn"}]}]},
                {"id": "c-2", "class": "subcategory", "title": "C2"}
            ]}]
        }}))
        .unwrap();
        assert_eq!(
            (fw.publisher.as_str(), fw.description.as_str()),
            ("Pub", "About.")
        );
        let kinds: Vec<_> = fw
            .requirements
            .iter()
            .map(|r| (r.id.as_str(), r.kind.as_str(), r.parent.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("g", "family", None),
                ("c-1", "control", Some("g")),
                ("c-1.1", "enhancement", Some("c-1")),
                ("c-2", "subcategory", Some("g"))
            ]
        );
        assert_eq!(fw.requirements[1].props["label"], "C-1");
        assert!(
            fw.requirements[2].withdrawn
                && fw.requirements[2].assessable
                && !fw.requirements[0].assessable
        );
    }

    #[test]
    fn every_problem_once_with_its_path() {
        let err = parse(json!({"catalog": {"metadata": {"version": "1"}, "controls": [
            {"id": "4.1", "title": "A"}, {"id": "a"}, {"title": "No id"}, {"id": "a", "title": "Again"}
        ]}}))
        .unwrap_err();
        let text: Vec<String> = err.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "catalog.uuid: the catalog has no uuid",
                "catalog.metadata.title: the catalog has no title",
                "catalog.controls[0].id: `4.1` is not a valid OSCAL id: start with a letter or `_`, then use letters, digits, `.`, `-` or `_`",
                "catalog.controls[1].title: the control `a` has no title",
                "catalog.controls[2].id: the control has no id",
                "catalog.controls[3].id: duplicate id `a` (first at catalog.controls[1].id)",
            ],
        );
    }

    #[test]
    fn not_a_catalog() {
        let err = parse_catalog(b"{\"catalog\": [", "x1", Origin::BuiltIn).unwrap_err();
        assert!(
            err[0].at.starts_with("line ") && err[0].message.starts_with("not valid JSON"),
            "{err:?}"
        );
        let err = parse(json!({"profile": {}})).unwrap_err();
        assert_eq!(err[0].at, "catalog");
    }
}
