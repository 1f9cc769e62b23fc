//! Attest's YAML framework format, the format of the built-in catalogs in `data/frameworks`.

use std::collections::BTreeMap;

use attest_domain::framework::{Framework, Origin, Problem, Requirement};
use serde::Serialize;
use serde_json::{Map, Value};

use super::yaml_value::{self, Fields};

const FRAMEWORK_KEYS: [&str; 7] = [
    "id",
    "name",
    "version",
    "publisher",
    "description",
    "profile_of",
    "requirements",
];
/// Keys with a meaning of their own; any other scalar key of a requirement is a prop.
const REQUIREMENT_KEYS: [&str; 9] = [
    "id",
    "parent",
    "kind",
    "title",
    "description",
    "text",
    "assessable",
    "withdrawn",
    "props",
];

/// Reads a framework in Attest's YAML format; every problem is reported, nothing partial.
pub fn parse_framework_yaml(text: &str, origin: Origin) -> Result<Framework, Vec<Problem>> {
    let doc = yaml_value::document(text).map_err(|p| vec![p])?;
    let map = yaml_value::top_mapping(
        doc,
        "id, name, version, publisher, description and requirements",
    )
    .map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut fields = Fields::new(&map, "", &mut problems);
    fields.reject_unknown(&FRAMEWORK_KEYS);
    let mut framework = Framework {
        id: fields.text("id").unwrap_or_default(),
        name: fields.text("name").unwrap_or_default(),
        version: fields.text("version").unwrap_or_default(),
        publisher: fields.text("publisher").unwrap_or_default(),
        description: fields.text("description").unwrap_or_default(),
        origin,
        profile_of: fields.text("profile_of").filter(|p| !p.trim().is_empty()),
        requirements: Vec::new(),
    };
    let items = requirement_items(&map, &mut problems);
    let mut places = Vec::new();
    let mut explicit = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some((requirement, assessable)) = read_requirement(i, item, &mut problems) {
            places.push(format!("requirements[{i}] ({})", requirement.id));
            explicit.push(assessable);
            framework.requirements.push(requirement);
        }
    }
    super::default_assessable(&mut framework.requirements, &explicit);
    super::finish(framework, problems, &|i| places[i].clone(), &|field| {
        field.to_owned()
    })
}

/// The `requirements` list, or nothing (with a problem) when it is missing or not a list.
fn requirement_items<'a>(map: &'a Map<String, Value>, problems: &mut Vec<Problem>) -> &'a [Value] {
    match map.get("requirements") {
        Some(Value::Array(items)) => items,
        // A missing list is reported by the catalog check as "no requirements".
        None | Some(Value::Null) => &[],
        Some(_) => {
            problems.push(Problem::new(
                "requirements",
                "must be a list of requirements",
            ));
            &[]
        }
    }
}

/// One requirement and its explicit `assessable`, or `None` when it has no usable id.
fn read_requirement(
    i: usize,
    item: &Value,
    problems: &mut Vec<Problem>,
) -> Option<(Requirement, Option<bool>)> {
    let Value::Object(map) = item else {
        problems.push(Problem::new(
            format!("requirements[{i}]"),
            "must be a mapping with id, kind and title",
        ));
        return None;
    };
    let mut fields = Fields::new(map, format!("requirements[{i}]"), problems);
    let Some(id) = fields.text("id").filter(|id| !id.is_empty()) else {
        fields.problem("the requirement has no id");
        return None;
    };
    fields.locate(format!("requirements[{i}] ({id})"));
    let kind = fields.text("kind").unwrap_or_default();
    if kind.trim().is_empty() {
        fields.problem("`kind` is missing (clause, control, criterion, …)");
    }
    let description = fields.text("description");
    let text = fields.text("text");
    if description.is_some() && text.is_some() {
        fields.problem("give `description` or `text`, not both");
    }
    let requirement = Requirement {
        parent: fields.text("parent").filter(|p| !p.is_empty()),
        kind,
        title: fields.text("title").unwrap_or_default(),
        text: description.or(text).filter(|t| !t.trim().is_empty()),
        props: read_props(map, &mut fields),
        withdrawn: fields.flag("withdrawn").unwrap_or(false),
        assessable: true,
        id,
    };
    Some((requirement, fields.flag("assessable")))
}

/// Props from the `props` mapping and from every other scalar key (`category`, `ig`, …).
fn read_props(map: &Map<String, Value>, fields: &mut Fields<'_>) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    let mut add = |key: &str, value: &Value, fields: &mut Fields<'_>| match yaml_value::text(value)
    {
        Ok(Some(v)) if !v.is_empty() => {
            if props.insert(key.to_owned(), v).is_some() {
                fields.problem(format!(
                    "prop `{key}` is given twice (as a key and under `props`)"
                ));
            }
        }
        Ok(_) => {}
        Err(e) => fields.problem(format!("`{key}` {e}")),
    };
    for (key, value) in map
        .iter()
        .filter(|(k, _)| !REQUIREMENT_KEYS.contains(&k.as_str()))
    {
        add(key, value, fields);
    }
    match map.get("props") {
        None | Some(Value::Null) => {}
        Some(Value::Object(given)) => {
            for (key, value) in given {
                add(key, value, fields);
            }
        }
        Some(_) => fields.problem("`props` must be a mapping of names to values"),
    }
    props
}

#[derive(Serialize)]
struct FrameworkOut<'a> {
    id: &'a str,
    name: &'a str,
    version: &'a str,
    publisher: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_of: Option<&'a str>,
    requirements: Vec<RequirementOut<'a>>,
}

#[derive(Serialize)]
struct RequirementOut<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<&'a str>,
    kind: &'a str,
    title: &'a str,
    /// Props whose names are free, written as plain keys the way the built-in files do.
    #[serde(flatten)]
    extras: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assessable: Option<bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    withdrawn: bool,
    /// Props whose names would clash with a key of the format.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    props: BTreeMap<&'a str, &'a str>,
}

/// Writes a framework in Attest's YAML format (reads back through `parse_framework_yaml`).
pub fn framework_to_yaml(framework: &Framework) -> String {
    let parents: std::collections::HashSet<&str> = framework
        .requirements
        .iter()
        .filter_map(|r| r.parent.as_deref())
        .collect();
    let out = FrameworkOut {
        id: &framework.id,
        name: &framework.name,
        version: &framework.version,
        publisher: &framework.publisher,
        description: &framework.description,
        profile_of: framework.profile_of.as_deref(),
        requirements: framework
            .requirements
            .iter()
            .map(|r| requirement_out(r, !parents.contains(r.id.as_str())))
            .collect(),
    };
    // Long texts stay on one line, as in the hand-written catalogs; quoting keeps `1.10` text.
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    serde_saphyr::to_string_with_options(&out, options)
        .expect("a framework is plain strings, lists and maps, which always serialise")
}

fn requirement_out(r: &Requirement, leaf: bool) -> RequirementOut<'_> {
    let (extras, props) = r
        .props
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .partition(|(k, _)| !REQUIREMENT_KEYS.contains(k));
    RequirementOut {
        id: &r.id,
        parent: r.parent.as_deref(),
        kind: &r.kind,
        title: &r.title,
        extras,
        description: r.text.as_deref(),
        // Written only where it differs from what a reader assumes (leaves are assessable).
        assessable: (r.assessable != leaf).then_some(r.assessable),
        withdrawn: r.withdrawn,
        props,
    }
}
