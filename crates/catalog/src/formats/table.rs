//! A framework as rows of text cells: the layout the CSV and XLSX formats share (metadata
//! key/value pairs, then a header row and one row per requirement).

use std::collections::{BTreeMap, BTreeSet};

use attest_domain::framework::{Framework, Origin, Problem, Requirement};

/// The metadata keys, in the order they are written.
pub(super) const META_KEYS: [&str; 6] = [
    "id",
    "name",
    "version",
    "publisher",
    "description",
    "profile_of",
];
/// Columns with a meaning of their own; every other column is a prop.
const COLUMNS: [&str; 7] = [
    "id",
    "parent",
    "kind",
    "title",
    "text",
    "assessable",
    "withdrawn",
];
/// Marks a prop column whose name would otherwise read as a fixed column (`prop:text`).
const PROP_PREFIX: &str = "prop:";
/// The kind of a requirement whose file does not say.
const DEFAULT_KIND: &str = "requirement";

/// A metadata value and where it was given.
pub(super) struct Entry {
    pub key: String,
    pub value: String,
    pub at: String,
}

/// One row of cells and where it is (`line 7`, `requirements row 7`).
pub(super) struct Row {
    pub at: String,
    pub cells: Vec<String>,
}

/// A framework file read into text, before any meaning is given to it.
pub(super) struct Table {
    pub meta: Vec<Entry>,
    /// Where metadata that is missing should have been (`line 1`, `framework sheet`).
    pub meta_at: String,
    pub header: Option<Row>,
    pub rows: Vec<Row>,
}

/// Where each meaningful column is.
struct Columns {
    fixed: BTreeMap<&'static str, usize>,
    props: Vec<(usize, String)>,
}

/// Builds the framework a table describes, reporting every problem with its place.
pub(super) fn framework_from_table(
    table: Table,
    origin: Origin,
    mut problems: Vec<Problem>,
) -> Result<Framework, Vec<Problem>> {
    let meta = read_meta(&table.meta, &mut problems);
    let Some(header) = &table.header else {
        problems.push(Problem::new(
            &table.meta_at,
            "there is no header row (it needs at least `id` and `title`)",
        ));
        return Err(problems);
    };
    let columns = read_header(header, &mut problems);
    let mut framework = Framework {
        id: meta.get("id").cloned().unwrap_or_default(),
        name: meta.get("name").cloned().unwrap_or_default(),
        version: meta.get("version").cloned().unwrap_or_default(),
        publisher: meta.get("publisher").cloned().unwrap_or_default(),
        description: meta.get("description").cloned().unwrap_or_default(),
        origin,
        profile_of: meta.get("profile_of").cloned(),
        requirements: Vec::new(),
    };
    let mut places = Vec::new();
    let mut explicit = Vec::new();
    for row in &table.rows {
        if let Some((requirement, assessable)) =
            read_row(row, header.cells.len(), columns.as_ref(), &mut problems)
        {
            places.push(row.at.clone());
            explicit.push(assessable);
            framework.requirements.push(requirement);
        }
    }
    if columns.is_none() {
        // Without an id or title column every row would be reported again; the header says it.
        return Err(problems);
    }
    super::default_assessable(&mut framework.requirements, &explicit);
    let meta_at = |key: &str| {
        let given = table
            .meta
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.at.clone());
        if key == "requirements" {
            header.at.clone()
        } else {
            given.unwrap_or_else(|| table.meta_at.clone())
        }
    };
    super::finish(framework, problems, &|i| places[i].clone(), &meta_at)
}

/// The metadata as a map, with unknown and repeated keys reported.
fn read_meta(entries: &[Entry], problems: &mut Vec<Problem>) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    for e in entries {
        if !META_KEYS.contains(&e.key.as_str()) {
            problems.push(Problem::new(
                &e.at,
                format!(
                    "unknown key `{}` (expected one of: {})",
                    e.key,
                    META_KEYS.join(", ")
                ),
            ));
        } else if meta.insert(e.key.clone(), e.value.clone()).is_some() {
            problems.push(Problem::new(&e.at, format!("`{}` is given twice", e.key)));
        }
    }
    meta.retain(|_, v: &mut String| !v.trim().is_empty());
    meta
}

/// Finds the columns; `None` when the required `id` or `title` column is missing.
fn read_header(header: &Row, problems: &mut Vec<Problem>) -> Option<Columns> {
    let mut fixed = BTreeMap::new();
    let mut props = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, cell) in header.cells.iter().enumerate() {
        let name = cell.trim();
        let known = COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(name));
        let canonical = known.map_or(name, |k| *k);
        if name.is_empty() {
            problems.push(Problem::new(
                &header.at,
                format!("column {} has no name", i + 1),
            ));
        } else if !seen.insert(canonical) {
            problems.push(Problem::new(
                &header.at,
                format!("column `{name}` appears twice"),
            ));
        } else if let Some(known) = known {
            fixed.insert(*known, i);
        } else {
            let prop = name.strip_prefix(PROP_PREFIX).unwrap_or(name);
            props.push((i, prop.to_owned()));
        }
    }
    let mut complete = true;
    for required in ["id", "title"] {
        if !fixed.contains_key(required) {
            problems.push(Problem::new(
                &header.at,
                format!("there is no `{required}` column"),
            ));
            complete = false;
        }
    }
    complete.then_some(Columns { fixed, props })
}

/// One row as a requirement and its explicit `assessable`; `None` when it has no id.
fn read_row(
    row: &Row,
    width: usize,
    columns: Option<&Columns>,
    problems: &mut Vec<Problem>,
) -> Option<(Requirement, Option<bool>)> {
    let misshapen = row.cells.len() != width;
    if misshapen {
        problems.push(Problem::new(
            &row.at,
            format!("has {} fields, but the header has {width}", row.cells.len()),
        ));
    }
    let columns = columns?;
    let cell = |name: &str| {
        columns
            .fixed
            .get(name)
            .and_then(|&i| row.cells.get(i))
            .map(String::as_str)
    };
    let id = cell("id").unwrap_or_default().trim().to_owned();
    if id.is_empty() {
        if !misshapen {
            problems.push(Problem::new(&row.at, "the requirement has no id"));
        }
        return None;
    }
    if misshapen {
        // Kept by id only, so that its children do not also report a missing parent.
        return Some((placeholder(id), None));
    }
    let trimmed = |name: &str| cell(name).map(str::trim).filter(|v| !v.is_empty());
    let mut flag = |name: &str| {
        let value = trimmed(name)?;
        parse_flag(value).or_else(|| {
            problems.push(Problem::new(
                &row.at,
                format!("`{name}` must be true or false, not `{value}`"),
            ));
            None
        })
    };
    let assessable = flag("assessable");
    let withdrawn = flag("withdrawn").unwrap_or(false);
    let requirement = Requirement {
        parent: trimmed("parent").map(str::to_owned),
        kind: trimmed("kind").unwrap_or(DEFAULT_KIND).to_owned(),
        title: cell("title").unwrap_or_default().to_owned(),
        text: trimmed("text").and(cell("text")).map(str::to_owned),
        props: columns
            .props
            .iter()
            .filter_map(|(i, name)| {
                row.cells
                    .get(*i)
                    .filter(|v| !v.is_empty())
                    .map(|v| (name.clone(), v.clone()))
            })
            .collect(),
        withdrawn,
        assessable: true,
        id,
    };
    Some((requirement, assessable))
}

fn placeholder(id: String) -> Requirement {
    Requirement {
        id,
        parent: None,
        kind: DEFAULT_KIND.to_owned(),
        title: "(unreadable row)".to_owned(),
        text: None,
        props: BTreeMap::new(),
        withdrawn: false,
        assessable: true,
    }
}

/// The spellings a person or a spreadsheet uses for yes and no.
fn parse_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// The metadata to write, as key/value pairs (empty optional values left out).
pub(super) fn meta_of(framework: &Framework) -> Vec<(&'static str, &str)> {
    let values = [
        Some(framework.id.as_str()),
        Some(framework.name.as_str()),
        Some(framework.version.as_str()),
        Some(framework.publisher.as_str()),
        Some(framework.description.as_str()).filter(|d| !d.is_empty()),
        framework.profile_of.as_deref(),
    ];
    META_KEYS
        .iter()
        .zip(values)
        .filter_map(|(k, v)| v.map(|v| (*k, v)))
        .collect()
}

/// The header and the rows to write: fixed columns first, then one column per prop name.
pub(super) fn rows_of(framework: &Framework) -> (Vec<String>, Vec<Vec<String>>) {
    let any_withdrawn = framework.requirements.iter().any(|r| r.withdrawn);
    let prop_names: BTreeSet<&str> = framework
        .requirements
        .iter()
        .flat_map(|r| r.props.keys().map(String::as_str))
        .collect();
    let mut header: Vec<String> = ["id", "parent", "kind", "title", "text", "assessable"]
        .map(String::from)
        .to_vec();
    if any_withdrawn {
        header.push("withdrawn".to_owned());
    }
    let fixed = header.len();
    header.extend(prop_names.iter().map(|p| prop_column(p)));
    let rows = framework
        .requirements
        .iter()
        .map(|r| {
            let props = prop_names
                .iter()
                .map(|p| r.props.get(*p).cloned().unwrap_or_default());
            header[..fixed]
                .iter()
                .map(|column| match column.as_str() {
                    "id" => r.id.clone(),
                    "parent" => r.parent.clone().unwrap_or_default(),
                    "kind" => r.kind.clone(),
                    "title" => r.title.clone(),
                    "text" => r.text.clone().unwrap_or_default(),
                    "assessable" => r.assessable.to_string(),
                    _ => r.withdrawn.to_string(),
                })
                .chain(props)
                .collect()
        })
        .collect();
    (header, rows)
}

/// The column a prop is written in: its name, unless that would read as something else.
fn prop_column(name: &str) -> String {
    let clashes = COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(name.trim()))
        || name.starts_with(PROP_PREFIX);
    if clashes {
        format!("{PROP_PREFIX}{name}")
    } else {
        name.to_owned()
    }
}
