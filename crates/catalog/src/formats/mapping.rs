//! Mapping sets: Attest's YAML format (`data/mappings`), NIST's published CSV files, and the
//! check of a set against the two frameworks it maps between.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use attest_domain::framework::{Framework, Problem, valid_framework_id, valid_requirement_id};
use attest_domain::mapping::{MappingLink, MappingSet, Relationship};
use serde_json::{Map, Value};

use super::yaml_value::{self, Fields};

const SET_KEYS: [&str; 9] = [
    "id",
    "name",
    "source_framework",
    "target_framework",
    "authority",
    "reference",
    "date",
    "new_in_target",
    "links",
];
const LINK_KEYS: [&str; 4] = ["source", "target", "rel", "note"];

/// Provenance of a mapping set read from a NIST-style CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingMeta {
    /// Stable id of the set (`nist-csf-2.0_to_iso27001-2022`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Source framework id.
    pub source_framework: String,
    /// Target framework id.
    pub target_framework: String,
    /// Who publishes it (`NIST`).
    pub authority: String,
    /// Where it comes from.
    pub reference: String,
    /// Its date (`YYYY-MM-DD`).
    pub date: String,
}

/// A set as read, with the place of each link it kept (links that could not be read are
/// left out, but later problems must still name the link by its place in the file).
struct Read {
    set: MappingSet,
    link_at: Vec<String>,
}

/// Reads a mapping set in Attest's YAML format; every problem is reported, nothing partial.
pub fn parse_mapping_yaml(text: &str) -> Result<MappingSet, Vec<Problem>> {
    let (read, problems) = read_mapping_yaml(text)?;
    if problems.is_empty() {
        Ok(read.set)
    } else {
        Err(problems)
    }
}

/// Reads a mapping set in Attest's YAML format and checks it against its two frameworks,
/// reporting the problems of both steps together.
pub fn parse_mapping_yaml_checked(
    text: &str,
    source: &Framework,
    target: &Framework,
) -> Result<MappingSet, Vec<Problem>> {
    let (read, mut problems) = read_mapping_yaml(text)?;
    problems.extend(check(&read.set, source, target, &|i| {
        read.link_at[i].clone()
    }));
    if problems.is_empty() {
        Ok(read.set)
    } else {
        Err(problems)
    }
}

fn read_mapping_yaml(text: &str) -> Result<(Read, Vec<Problem>), Vec<Problem>> {
    let doc = yaml_value::document(text).map_err(|p| vec![p])?;
    let map = yaml_value::top_mapping(
        doc,
        "id, name, source_framework, target_framework and links",
    )
    .map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut fields = Fields::new(&map, "", &mut problems);
    fields.reject_unknown(&SET_KEYS);
    let mut set = MappingSet {
        id: fields.required("id").unwrap_or_default(),
        name: fields.required("name").unwrap_or_default(),
        source_framework: fields.required("source_framework").unwrap_or_default(),
        target_framework: fields.required("target_framework").unwrap_or_default(),
        authority: fields.required("authority").unwrap_or_default(),
        reference: fields.text("reference").unwrap_or_default(),
        date: fields.required("date").unwrap_or_default(),
        new_in_target: fields.text_list("new_in_target"),
        links: Vec::new(),
    };
    let mut link_at = Vec::new();
    for (i, item) in link_items(&map, &mut problems).iter().enumerate() {
        if let Some(link) = read_link(i, item, &mut problems) {
            link_at.push(format!("links[{i}]"));
            set.links.push(link);
        }
    }
    problems.extend(set_problems(&set, &|field| field.to_owned()));
    Ok((Read { set, link_at }, problems))
}

fn link_items<'a>(map: &'a Map<String, Value>, problems: &mut Vec<Problem>) -> &'a [Value] {
    match map.get("links") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => {
            problems.push(Problem::new("links", "`links` is missing"));
            &[]
        }
        Some(_) => {
            problems.push(Problem::new(
                "links",
                "`links` must be a list of {source, target, rel}",
            ));
            &[]
        }
    }
}

/// One link, or `None` (with problems) when a part of it cannot be read.
fn read_link(i: usize, item: &Value, problems: &mut Vec<Problem>) -> Option<MappingLink> {
    let at = format!("links[{i}]");
    let Value::Object(map) = item else {
        problems.push(Problem::new(
            at,
            "must be a mapping with source, target and rel",
        ));
        return None;
    };
    let mut fields = Fields::new(map, &at, problems);
    fields.reject_unknown(&LINK_KEYS);
    let source = fields.required("source");
    let target = fields.required("target");
    let rel = fields.required("rel").and_then(|r| {
        Relationship::from_str(&r)
            .map_err(|e| fields.problem(e.to_string()))
            .ok()
    });
    let note = fields.text("note").filter(|n| !n.trim().is_empty());
    let link = MappingLink {
        source: source?,
        target: target?,
        rel: rel?,
        note,
    };
    for (side, id) in [("source", &link.source), ("target", &link.target)] {
        if !valid_requirement_id(id) {
            problems.push(Problem::new(
                &at,
                format!("{side} `{id}` is not a valid requirement id"),
            ));
        }
    }
    Some(link)
}

/// Problems of the set's own fields (ids and date), wherever the format keeps them.
fn set_problems(set: &MappingSet, locate: &dyn Fn(&str) -> String) -> Vec<Problem> {
    let mut out = Vec::new();
    for (field, value) in [
        ("id", &set.id),
        ("source_framework", &set.source_framework),
        ("target_framework", &set.target_framework),
    ] {
        if !value.is_empty() && !valid_framework_id(value) {
            out.push(Problem::new(
                locate(field),
                format!("`{value}` is not a valid id: use 2 to 64 lower-case letters, digits, dots, hyphens or underscores"),
            ));
        }
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if !set.date.is_empty() && time::Date::parse(&set.date, date_format).is_err() {
        out.push(Problem::new(
            locate("date"),
            format!("`{}` is not a date written YYYY-MM-DD", set.date),
        ));
    }
    out
}

/// Reads a NIST-style mapping CSV (`source_framework,source_id,target_framework,target_id,
/// relationship`, optionally `note`); problems name the line.
pub fn parse_mapping_csv(text: &str, meta: MappingMeta) -> Result<MappingSet, Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut set = MappingSet {
        id: meta.id,
        name: meta.name,
        source_framework: meta.source_framework,
        target_framework: meta.target_framework,
        authority: meta.authority,
        reference: meta.reference,
        date: meta.date,
        new_in_target: Vec::new(),
        links: Vec::new(),
    };
    let mut problems = set_problems(&set, &|field| format!("meta.{field}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(vec![Problem::new("line 1", format!("unreadable CSV: {e}"))]),
        None => {
            return Err(vec![Problem::new(
                "line 1",
                "the file is empty: it needs a header row",
            )]);
        }
    };
    // Without the id and relationship columns no row can be read: the header says it all.
    let Some(columns) = CsvColumns::find(&header, &mut problems) else {
        return Err(problems);
    };
    let mut frameworks = None;
    for record in records {
        match record {
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(Problem::new(
                    format!("line {line}"),
                    format!("unreadable CSV: {e}"),
                ));
            }
            Ok(row) => {
                let at = format!("line {}", row.position().map_or(0, csv::Position::line));
                if row.len() != header.len() {
                    let message = format!(
                        "has {} fields, but the header has {}",
                        row.len(),
                        header.len()
                    );
                    problems.push(Problem::new(at, message));
                } else if let Some(link) = columns.link(&row, &at, &mut frameworks, &mut problems) {
                    set.links.push(link);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(problems)
    }
}

/// Where the columns of a NIST-style mapping CSV are.
struct CsvColumns {
    source: usize,
    target: usize,
    rel: usize,
    source_framework: Option<usize>,
    target_framework: Option<usize>,
    note: Option<usize>,
}

impl CsvColumns {
    /// The columns, or `None` (with a problem for each missing one).
    fn find(header: &csv::StringRecord, problems: &mut Vec<Problem>) -> Option<Self> {
        let position = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let mut required = |name: &str| {
            let found = position(name);
            if found.is_none() {
                problems.push(Problem::new(
                    "line 1",
                    format!("there is no `{name}` column"),
                ));
            }
            found
        };
        let (source, target, rel) = (
            required("source_id"),
            required("target_id"),
            required("relationship"),
        );
        Some(Self {
            source: source?,
            target: target?,
            rel: rel?,
            source_framework: position("source_framework"),
            target_framework: position("target_framework"),
            note: position("note"),
        })
    }

    /// The link a row gives; `frameworks` holds the first row's framework names, which every
    /// row must repeat (a set maps one framework to one other).
    fn link(
        &self,
        row: &csv::StringRecord,
        at: &str,
        frameworks: &mut Option<(String, String, String)>,
        problems: &mut Vec<Problem>,
    ) -> Option<MappingLink> {
        let cell = |i: usize| row.get(i).unwrap_or_default().trim();
        let names = (
            self.source_framework
                .map(cell)
                .unwrap_or_default()
                .to_owned(),
            self.target_framework
                .map(cell)
                .unwrap_or_default()
                .to_owned(),
        );
        match frameworks {
            None => *frameworks = Some((names.0, names.1, at.to_owned())),
            Some((source, target, first))
                if (source.as_str(), target.as_str()) != (names.0.as_str(), names.1.as_str()) =>
            {
                problems.push(Problem::new(
                    at,
                    format!(
                        "maps `{}` to `{}`, but {first} maps `{source}` to `{target}`",
                        names.0, names.1
                    ),
                ));
            }
            Some(_) => {}
        }
        let mut ok = true;
        for (side, id) in [
            ("source_id", cell(self.source)),
            ("target_id", cell(self.target)),
        ] {
            if id.is_empty() {
                problems.push(Problem::new(at, format!("`{side}` is empty")));
                ok = false;
            } else if !valid_requirement_id(id) {
                problems.push(Problem::new(
                    at,
                    format!("`{side}` `{id}` is not a valid requirement id"),
                ));
                ok = false;
            }
        }
        let rel = Relationship::from_str(cell(self.rel))
            .map_err(|e| problems.push(Problem::new(at, e.to_string())));
        let note = self
            .note
            .map(cell)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let rel = rel.ok()?;
        ok.then(|| MappingLink {
            source: cell(self.source).to_owned(),
            target: cell(self.target).to_owned(),
            rel,
            note,
        })
    }
}

/// Checks a mapping set against its two frameworks; every problem, with where (`links[12]: …`).
pub fn check_mapping_set(set: &MappingSet, source: &Framework, target: &Framework) -> Vec<Problem> {
    check(set, source, target, &|i| format!("links[{i}]"))
}

fn check(
    set: &MappingSet,
    source: &Framework,
    target: &Framework,
    link_at: &dyn Fn(usize) -> String,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for (field, named, given) in [
        ("source_framework", &set.source_framework, source),
        ("target_framework", &set.target_framework, target),
    ] {
        if !named.is_empty() && named != &given.id {
            out.push(Problem::new(
                field,
                format!(
                    "the set names `{named}`, but it was checked against `{}`",
                    given.id
                ),
            ));
        }
    }
    let source_ids: HashSet<&str> = source.requirements.iter().map(|r| r.id.as_str()).collect();
    let target_ids: HashSet<&str> = target.requirements.iter().map(|r| r.id.as_str()).collect();
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    let mut targeted: HashMap<&str, usize> = HashMap::new();
    for (i, link) in set.links.iter().enumerate() {
        if !source_ids.contains(link.source.as_str()) {
            out.push(Problem::new(
                link_at(i),
                format!(
                    "source `{}` is not a requirement of {}",
                    link.source, source.id
                ),
            ));
        }
        if !target_ids.contains(link.target.as_str()) {
            out.push(Problem::new(
                link_at(i),
                format!(
                    "target `{}` is not a requirement of {}",
                    link.target, target.id
                ),
            ));
        }
        // The first place stays, so a pair given three times names the first one twice.
        if let Some(&first) = pairs.get(&(link.source.as_str(), link.target.as_str())) {
            out.push(Problem::new(
                link_at(i),
                format!(
                    "`{}` → `{}` is mapped twice (first at {})",
                    link.source,
                    link.target,
                    link_at(first)
                ),
            ));
        }
        pairs.entry((&link.source, &link.target)).or_insert(i);
        targeted.entry(&link.target).or_insert(i);
    }
    let mut listed = HashSet::new();
    for (i, id) in set.new_in_target.iter().enumerate() {
        let at = format!("new_in_target[{i}]");
        if !target_ids.contains(id.as_str()) {
            out.push(Problem::new(
                &at,
                format!("`{id}` is not a requirement of {}", target.id),
            ));
        }
        if let Some(&link) = targeted.get(id.as_str()) {
            out.push(Problem::new(
                &at,
                format!("`{id}` is listed as new, but {} maps to it", link_at(link)),
            ));
        }
        if !listed.insert(id.as_str()) {
            out.push(Problem::new(&at, format!("`{id}` is listed twice")));
        }
    }
    out
}
