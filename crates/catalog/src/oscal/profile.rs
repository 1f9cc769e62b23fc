//! Profile resolution: a profile (a baseline) and the catalogs it imports in, the resolved
//! catalog out, as NIST's profile resolution specification describes for what profiles use:
//! selection (include-all, include-controls, exclude-controls), merge (as-is, flat) and
//! modification (set-parameters, alters).

use std::collections::{HashMap, HashSet};

use attest_domain::framework::Problem;
use serde_json::{Map, Value, json};

use super::prose::array;
use super::{OSCAL_VERSION, not_json, now_rfc3339};

/// Resolves an OSCAL profile (JSON) into a resolved catalog document (`{"catalog": {...}}`).
///
/// `catalog_for(href)` returns the document (a catalog, or a profile to resolve in turn) an
/// import names; for `href: "#<uuid>"` the href itself is tried, then each `rlinks[].href` of
/// the profile's back-matter resource with that uuid, then the resource's title.
pub fn resolve_profile(
    profile: &[u8],
    catalog_for: &dyn Fn(&str) -> Option<Value>,
) -> Result<Value, Vec<Problem>> {
    let document: Value =
        serde_json::from_slice(profile).map_err(|e| vec![not_json(&e, "profile")])?;
    Resolver {
        catalog_for,
        imports: Vec::new(),
    }
    .resolve(&document)
}

/// Profiles may import profiles; more than this many levels is taken for a loop.
const MAX_DEPTH: usize = 16;

struct Resolver<'f> {
    catalog_for: &'f dyn Fn(&str) -> Option<Value>,
    /// The hrefs of the profiles being resolved, to catch an import loop.
    imports: Vec<String>,
}

/// How the selected controls are arranged in the result.
#[derive(Clone, Copy)]
enum Structure {
    /// The groups and nesting of the source catalog, empty groups dropped.
    AsIs,
    /// Every control at the top level, no groups, no nesting (OSCAL's default).
    Flat,
}

/// What one import contributes.
struct Selection {
    params: Vec<Value>,
    controls: Vec<Value>,
    groups: Vec<Value>,
    resources: Vec<Value>,
}

impl Resolver<'_> {
    fn resolve(&mut self, document: &Value) -> Result<Value, Vec<Problem>> {
        let Some(profile) = document.get("profile").filter(|p| p.is_object()) else {
            return Err(vec![Problem::new(
                "profile",
                "no `profile` object: an OSCAL profile is a JSON object {\"profile\": {…}}",
            )]);
        };
        let mut problems = Vec::new();
        let uuid = text(profile, "uuid");
        if uuid.is_none() {
            problems.push(Problem::new("profile.uuid", "the profile has no uuid"));
        }
        let metadata = profile.get("metadata").filter(|m| m.is_object());
        let title = metadata.and_then(|m| text(m, "title"));
        match metadata {
            None => problems.push(Problem::new(
                "profile.metadata",
                "the profile has no metadata",
            )),
            Some(m) => {
                if title.is_none() {
                    problems.push(Problem::new(
                        "profile.metadata.title",
                        "the profile has no title",
                    ));
                }
                if text(m, "version").is_none() {
                    problems.push(Problem::new(
                        "profile.metadata.version",
                        "the profile has no version",
                    ));
                }
            }
        }
        let structure = structure(profile.get("merge"), &mut problems);
        let own_resources: Vec<Value> = back_matter(profile).cloned().collect();
        let imports = array(profile, "imports");
        if imports.is_empty() {
            problems.push(Problem::new(
                "profile.imports",
                "the profile imports nothing: add an import of a catalog",
            ));
        }
        let mut selections = Vec::new();
        for (i, import) in imports.iter().enumerate() {
            if let Some(selection) = self.import(
                import,
                &format!("profile.imports[{i}]"),
                &own_resources,
                &mut problems,
            ) {
                selections.push(selection);
            }
        }

        let mut resources: Vec<Value> = Vec::new();
        for r in selections
            .iter()
            .flat_map(|s| s.resources.iter())
            .chain(&own_resources)
        {
            if !resources.iter().any(|k| k.get("uuid") == r.get("uuid")) {
                resources.push(r.clone());
            }
        }
        let mut catalog = merge(selections, structure);
        if let Some(modify) = profile.get("modify") {
            apply_modify(&mut catalog, modify, &mut problems);
        }
        if !problems.is_empty() {
            return Err(problems);
        }

        let (uuid, title) = (uuid.unwrap_or_default(), title.unwrap_or_default());
        let referenced = referenced_uuids(&catalog, &resources);
        let mut kept: Vec<Value> = resources
            .into_iter()
            .filter(|r| {
                r.get("uuid")
                    .and_then(Value::as_str)
                    .is_some_and(|u| referenced.contains(u))
            })
            .collect();
        // The metadata's source-profile link points here, so the result names where it came from.
        if !kept
            .iter()
            .any(|r| r.get("uuid").and_then(Value::as_str) == Some(uuid))
        {
            kept.push(json!({"uuid": uuid, "title": title, "description": "The profile this catalog was resolved from."}));
        }

        let mut meta = Map::new();
        meta.insert("title".into(), title.into());
        for field in [
            "published",
            "version",
            "props",
            "roles",
            "locations",
            "parties",
            "responsible-parties",
            "remarks",
        ] {
            if let Some(v) = metadata.and_then(|m| m.get(field)) {
                meta.insert(field.into(), v.clone());
            }
        }
        meta.insert("last-modified".into(), now_rfc3339().into());
        meta.insert("oscal-version".into(), OSCAL_VERSION.into());
        meta.insert(
            "links".into(),
            json!([{"href": format!("#{uuid}"), "rel": "source-profile"}]),
        );

        let mut out = Map::new();
        out.insert("uuid".into(), uuid::Uuid::new_v4().to_string().into());
        out.insert("metadata".into(), Value::Object(meta));
        out.append(&mut catalog);
        out.insert("back-matter".into(), json!({ "resources": kept }));
        Ok(json!({ "catalog": out }))
    }

    /// The selection one import makes, or `None` with the problems recorded.
    fn import(
        &mut self,
        import: &Value,
        at: &str,
        resources: &[Value],
        problems: &mut Vec<Problem>,
    ) -> Option<Selection> {
        let Some(href) = text(import, "href") else {
            problems.push(Problem::new(format!("{at}.href"), "the import has no href"));
            return None;
        };
        if self.imports.iter().any(|h| h == href) || self.imports.len() >= MAX_DEPTH {
            problems.push(Problem::new(
                format!("{at}.href"),
                format!(
                    "`{href}` imports itself (through {})",
                    self.imports.join(" → ")
                ),
            ));
            return None;
        }
        let Some(document) = self.fetch(href, resources) else {
            problems.push(Problem::new(
                format!("{at}.href"),
                format!("unknown import `{href}`: no catalog or profile was found for it (nor for the links of a back-matter resource it names)"),
            ));
            return None;
        };
        let mut catalog = if document.get("catalog").is_some_and(Value::is_object) {
            document
        } else if document.get("profile").is_some_and(Value::is_object) {
            self.imports.push(href.to_string());
            let result = self.resolve(&document);
            self.imports.pop();
            match result {
                Ok(resolved) => resolved,
                Err(inner) => {
                    for p in inner {
                        problems.push(Problem::new(
                            format!("{at}.href"),
                            format!("in the imported profile `{href}`: {p}"),
                        ));
                    }
                    return None;
                }
            }
        } else {
            problems.push(Problem::new(
                format!("{at}.href"),
                format!("`{href}` is neither an OSCAL catalog nor an OSCAL profile"),
            ));
            return None;
        }["catalog"]
            .take();

        let chosen: HashSet<String> = {
            let mut index = Index::default();
            index.collect(&catalog);
            let chosen = choose(import, at, href, &index, problems)?;
            chosen.into_iter().map(str::to_string).collect()
        };
        // The document is ours: what is selected moves out of it rather than being copied.
        let resources = catalog
            .get_mut("back-matter")
            .map(|b| take(b, "resources"))
            .unwrap_or_default();
        Some(Selection {
            params: take(&mut catalog, "params"),
            controls: select_controls(take(&mut catalog, "controls"), &chosen),
            groups: take(&mut catalog, "groups")
                .into_iter()
                .filter_map(|g| select_group(g, &chosen))
                .collect(),
            resources,
        })
    }

    /// The document for an href: the href itself, then the rlinks and title of the resource it names.
    fn fetch(&self, href: &str, resources: &[Value]) -> Option<Value> {
        if let Some(doc) = (self.catalog_for)(href) {
            return Some(doc);
        }
        let uuid = href.strip_prefix('#')?;
        let resource = resources
            .iter()
            .find(|r| r.get("uuid").and_then(Value::as_str) == Some(uuid))?;
        array(resource, "rlinks")
            .iter()
            .filter_map(|l| text(l, "href"))
            .chain(text(resource, "title"))
            .find_map(|h| (self.catalog_for)(h))
    }
}

fn text<'a>(node: &'a Value, field: &str) -> Option<&'a str> {
    node.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn id_of(node: &Value) -> Option<&str> {
    node.get("id").and_then(Value::as_str)
}

fn back_matter(node: &Value) -> impl Iterator<Item = &Value> {
    node.get("back-matter")
        .map_or(&[][..], |b| array(b, "resources"))
        .iter()
}

/// The merge directive.
fn structure(merge: Option<&Value>, problems: &mut Vec<Problem>) -> Structure {
    let Some(merge) = merge else {
        return Structure::Flat;
    };
    let as_is = matches!(merge.get("as-is"), Some(Value::Bool(true)))
        || merge.get("as-is").and_then(Value::as_str) == Some("true");
    let given = ["as-is", "flat", "custom"]
        .iter()
        .filter(|k| merge.get(**k).is_some())
        .count();
    if given > 1 {
        problems.push(Problem::new(
            "profile.merge",
            "give only one of as-is, flat or custom",
        ));
    }
    if merge.get("custom").is_some() {
        problems.push(Problem::new(
            "profile.merge.custom",
            "a custom merge is not supported: use as-is or flat",
        ));
    }
    if as_is {
        Structure::AsIs
    } else {
        Structure::Flat
    }
}

/// Every control of a catalog by id, in document order.
#[derive(Default)]
struct Index<'c> {
    order: Vec<(&'c str, &'c Value)>,
    by_id: HashMap<&'c str, &'c Value>,
}

impl<'c> Index<'c> {
    fn collect(&mut self, node: &'c Value) {
        for c in array(node, "controls") {
            if let Some(id) = id_of(c) {
                self.order.push((id, c));
                self.by_id.entry(id).or_insert(c);
            }
            self.collect(c);
        }
        for g in array(node, "groups") {
            self.collect(g);
        }
    }
}

/// The ids an import selects: included, less excluded.
fn choose<'c>(
    import: &Value,
    at: &str,
    href: &str,
    index: &Index<'c>,
    problems: &mut Vec<Problem>,
) -> Option<HashSet<&'c str>> {
    let include_all = import.get("include-all").is_some();
    let include = import.get("include-controls").and_then(Value::as_array);
    if !include_all && include.is_none() {
        problems.push(Problem::new(
            at,
            "the import selects nothing: give include-all or include-controls",
        ));
        return None;
    }
    let before = problems.len();
    let mut chosen: HashSet<&str> = if include_all {
        index.order.iter().map(|(id, _)| *id).collect()
    } else {
        HashSet::new()
    };
    for (j, selector) in include.into_iter().flatten().enumerate() {
        select(
            selector,
            &format!("{at}.include-controls[{j}]"),
            href,
            index,
            &mut chosen,
            problems,
        );
    }
    let mut excluded = HashSet::new();
    for (j, selector) in array(import, "exclude-controls").iter().enumerate() {
        select(
            selector,
            &format!("{at}.exclude-controls[{j}]"),
            href,
            index,
            &mut excluded,
            problems,
        );
    }
    chosen.retain(|id| !excluded.contains(id));
    (problems.len() == before).then_some(chosen)
}

/// Adds what one selector (with-ids, matching, with-child-controls) names.
fn select<'c>(
    selector: &Value,
    at: &str,
    href: &str,
    index: &Index<'c>,
    into: &mut HashSet<&'c str>,
    problems: &mut Vec<Problem>,
) {
    let with_children = selector.get("with-child-controls").and_then(Value::as_str) == Some("yes");
    let add = |id: &'c str, node: &'c Value, into: &mut HashSet<&'c str>| {
        into.insert(id);
        if with_children {
            descendants(node, into);
        }
    };
    for (k, id) in array(selector, "with-ids").iter().enumerate() {
        match id.as_str().and_then(|id| index.by_id.get_key_value(id)) {
            Some((id, node)) => add(id, node, into),
            None => problems.push(Problem::new(
                format!("{at}.with-ids[{k}]"),
                format!(
                    "`{}` is not a control of the imported catalog `{href}`",
                    id.as_str().unwrap_or_default()
                ),
            )),
        }
    }
    for (k, m) in array(selector, "matching").iter().enumerate() {
        let Some(pattern) = text(m, "pattern") else {
            problems.push(Problem::new(
                format!("{at}.matching[{k}].pattern"),
                "a matching selector needs a pattern",
            ));
            continue;
        };
        for (id, node) in &index.order {
            if glob(pattern, id) {
                add(id, node, into);
            }
        }
    }
}

fn descendants<'c>(node: &'c Value, into: &mut HashSet<&'c str>) {
    for c in array(node, "controls") {
        if let Some(id) = id_of(c) {
            into.insert(id);
        }
        descendants(c, into);
    }
}

/// Glob matching as OSCAL's `matching` uses it: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Sets an array field, or leaves it out when empty (OSCAL arrays have at least one item).
fn put(map: &mut Map<String, Value>, field: &str, items: Vec<Value>) {
    if items.is_empty() {
        map.remove(field);
    } else {
        map.insert(field.into(), Value::Array(items));
    }
}

fn take(node: &mut Value, field: &str) -> Vec<Value> {
    match node.as_object_mut().and_then(|m| m.remove(field)) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// The selected controls among these, with their selected descendants.
fn select_controls(controls: Vec<Value>, chosen: &HashSet<String>) -> Vec<Value> {
    let mut out = Vec::new();
    for mut control in controls {
        let children = select_controls(take(&mut control, "controls"), chosen);
        match control.as_object_mut() {
            Some(map)
                if map
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| chosen.contains(id)) =>
            {
                put(map, "controls", children);
                out.push(control);
            }
            // A control selected without its parent takes the parent's place, so a baseline
            // that picks an enhancement but not its base control still has the enhancement.
            _ => out.extend(children),
        }
    }
    out
}

/// A group with its selected controls, or `None` when nothing in it is selected.
fn select_group(mut group: Value, chosen: &HashSet<String>) -> Option<Value> {
    let controls = select_controls(take(&mut group, "controls"), chosen);
    let groups: Vec<Value> = take(&mut group, "groups")
        .into_iter()
        .filter_map(|g| select_group(g, chosen))
        .collect();
    if controls.is_empty() && groups.is_empty() {
        return None;
    }
    let map = group.as_object_mut()?;
    put(map, "controls", controls);
    put(map, "groups", groups);
    Some(group)
}

/// The selections arranged into the body of one catalog (params, controls, groups). A control
/// two imports both select appears once, where it first came (OSCAL's `use-first`).
fn merge(selections: Vec<Selection>, structure: Structure) -> Map<String, Value> {
    let (mut params, mut controls, mut groups) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for selection in selections {
        params.extend(selection.params);
        match structure {
            Structure::AsIs => {
                merge_controls(&mut controls, selection.controls, &mut seen);
                merge_groups(&mut groups, selection.groups, &mut seen);
            }
            Structure::Flat => {
                for c in selection.controls {
                    flatten_control(c, &mut controls, &mut seen);
                }
                for g in selection.groups {
                    flatten_group(g, &mut params, &mut controls, &mut seen);
                }
            }
        }
    }
    let mut body = Map::new();
    put(&mut body, "params", params);
    put(&mut body, "controls", controls);
    put(&mut body, "groups", groups);
    body
}

fn merge_controls(target: &mut Vec<Value>, incoming: Vec<Value>, seen: &mut HashSet<String>) {
    for mut control in incoming {
        let children = take(&mut control, "controls");
        let id = id_of(&control).unwrap_or_default().to_string();
        if seen.insert(id.clone()) {
            let mut kept = Vec::new();
            merge_controls(&mut kept, children, seen);
            if let Some(map) = control.as_object_mut() {
                put(map, "controls", kept);
            }
            target.push(control);
        } else if let Some(first) = target.iter_mut().find(|t| id_of(t) == Some(id.as_str())) {
            let mut kept = take(first, "controls");
            merge_controls(&mut kept, children, seen);
            if let Some(map) = first.as_object_mut() {
                put(map, "controls", kept);
            }
        } else {
            // The first copy sits elsewhere in the structure; its children still count.
            merge_controls(target, children, seen);
        }
    }
}

fn merge_groups(target: &mut Vec<Value>, incoming: Vec<Value>, seen: &mut HashSet<String>) {
    for mut group in incoming {
        let (controls, groups) = (take(&mut group, "controls"), take(&mut group, "groups"));
        let existing =
            id_of(&group).and_then(|id| target.iter().position(|t| id_of(t) == Some(id)));
        let index = existing.unwrap_or_else(|| {
            target.push(group);
            target.len() - 1
        });
        let slot = &mut target[index];
        let (mut kept_controls, mut kept_groups) = (take(slot, "controls"), take(slot, "groups"));
        merge_controls(&mut kept_controls, controls, seen);
        merge_groups(&mut kept_groups, groups, seen);
        if kept_controls.is_empty() && kept_groups.is_empty() {
            target.remove(index);
        } else if let Some(map) = target[index].as_object_mut() {
            put(map, "controls", kept_controls);
            put(map, "groups", kept_groups);
        }
    }
}

fn flatten_control(mut control: Value, out: &mut Vec<Value>, seen: &mut HashSet<String>) {
    let children = take(&mut control, "controls");
    if seen.insert(id_of(&control).unwrap_or_default().to_string()) {
        out.push(control);
    }
    for child in children {
        flatten_control(child, out, seen);
    }
}

fn flatten_group(
    mut group: Value,
    params: &mut Vec<Value>,
    out: &mut Vec<Value>,
    seen: &mut HashSet<String>,
) {
    // Parameters declared on a group would be lost with the group; the catalog keeps them.
    params.extend(take(&mut group, "params"));
    for c in take(&mut group, "controls") {
        flatten_control(c, out, seen);
    }
    for g in take(&mut group, "groups") {
        flatten_group(g, params, out, seen);
    }
}

/// Applies set-parameters and alters to the merged catalog body.
fn apply_modify(body: &mut Map<String, Value>, modify: &Value, problems: &mut Vec<Problem>) {
    let mut settings: HashMap<&str, (usize, &Value)> = HashMap::new();
    for (i, setting) in array(modify, "set-parameters").iter().enumerate() {
        match text(setting, "param-id") {
            Some(id) => {
                settings.entry(id).or_insert((i, setting));
            }
            None => problems.push(Problem::new(
                format!("profile.modify.set-parameters[{i}].param-id"),
                "a set-parameter needs a param-id",
            )),
        }
    }
    let mut alters: HashMap<&str, Vec<(usize, &Value)>> = HashMap::new();
    for (i, alter) in array(modify, "alters").iter().enumerate() {
        match text(alter, "control-id") {
            Some(id) => alters.entry(id).or_default().push((i, alter)),
            None => problems.push(Problem::new(
                format!("profile.modify.alters[{i}].control-id"),
                "an alter needs a control-id",
            )),
        }
    }

    let mut params_found = HashSet::new();
    let mut controls_found = HashSet::new();
    let mut body_value = Value::Object(std::mem::take(body));
    visit(&mut body_value, &mut |node, is_control| {
        if let Some(list) = id_of(node)
            .and_then(|id| alters.get(id))
            .filter(|_| is_control)
        {
            controls_found.insert(id_of(node).unwrap_or_default().to_string());
            for (i, alter) in list {
                apply_alter(node, alter, *i, problems);
            }
        }
        if let Some(params) = node.get_mut("params").and_then(Value::as_array_mut) {
            for param in params {
                if let Some((_, setting)) = id_of(param).and_then(|id| settings.get(id)) {
                    params_found.insert(id_of(param).unwrap_or_default().to_string());
                    set_parameter(param, setting);
                }
            }
        }
    });
    if let Value::Object(map) = body_value {
        *body = map;
    }
    // In the profile's order, not the maps'.
    let mut missing: Vec<(usize, Problem)> = Vec::new();
    for (id, (i, _)) in &settings {
        if !params_found.contains(*id) {
            let at = format!("profile.modify.set-parameters[{i}].param-id");
            missing.push((
                *i,
                Problem::new(
                    at,
                    format!("`{id}` is not a parameter of the selected controls"),
                ),
            ));
        }
    }
    let offset = array(modify, "set-parameters").len();
    for (id, list) in &alters {
        if !controls_found.contains(*id) {
            for (i, _) in list {
                let at = format!("profile.modify.alters[{i}].control-id");
                missing.push((
                    offset + i,
                    Problem::new(at, format!("`{id}` is not a selected control")),
                ));
            }
        }
    }
    missing.sort_by_key(|(i, _)| *i);
    problems.extend(missing.into_iter().map(|(_, p)| p));
}

/// Calls `f` on the body and on every group and control in it (`true` for a control).
fn visit(node: &mut Value, f: &mut dyn FnMut(&mut Value, bool)) {
    fn walk(node: &mut Value, is_control: bool, f: &mut dyn FnMut(&mut Value, bool)) {
        f(node, is_control);
        for (field, control) in [("controls", true), ("groups", false)] {
            if let Some(items) = node.get_mut(field).and_then(Value::as_array_mut) {
                for item in items {
                    walk(item, control, f);
                }
            }
        }
    }
    walk(node, false, f);
}

/// A set-parameter replaces what it gives; a value and a selection exclude each other.
fn set_parameter(param: &mut Value, setting: &Value) {
    let (Some(param), Some(setting)) = (param.as_object_mut(), setting.as_object()) else {
        return;
    };
    for (field, value) in setting {
        if field == "param-id" {
            continue;
        }
        param.insert(field.clone(), value.clone());
        match field.as_str() {
            "values" => param.remove("select"),
            "select" => param.remove("values"),
            _ => None,
        };
    }
}

/// The arrays a removal or an addition works on, with the item name OSCAL gives their items.
const ITEMS: [(&str, &str); 4] = [
    ("params", "param"),
    ("props", "prop"),
    ("links", "link"),
    ("parts", "part"),
];

fn apply_alter(control: &mut Value, alter: &Value, i: usize, problems: &mut Vec<Problem>) {
    for (j, removal) in array(alter, "removes").iter().enumerate() {
        let criteria: Vec<(&str, &str)> = ["by-name", "by-class", "by-id", "by-item-name", "by-ns"]
            .iter()
            .filter_map(|k| removal.get(*k).and_then(Value::as_str).map(|v| (*k, v)))
            .collect();
        if criteria.is_empty() {
            problems.push(Problem::new(
                format!("profile.modify.alters[{i}].removes[{j}]"),
                "a removal must say what to remove: by-name, by-class, by-id, by-item-name or by-ns",
            ));
            continue;
        }
        remove_matching(control, &criteria);
    }
    let control_id = id_of(control).unwrap_or_default().to_string();
    for (j, addition) in array(alter, "adds").iter().enumerate() {
        let position = addition
            .get("position")
            .and_then(Value::as_str)
            .unwrap_or("ending");
        let before = matches!(position, "starting" | "before");
        match text(addition, "by-id").filter(|id| *id != control_id) {
            None => {
                add_into(control, addition, before);
                if let Some(title) = addition.get("title") {
                    control["title"] = title.clone();
                }
            }
            Some(target) => {
                // Params belong to the control whatever part the addition targets.
                if let Some(params) = addition.get("params").and_then(Value::as_array) {
                    insert_items(control, "params", params, before);
                }
                let Some((siblings, k)) = control
                    .get_mut("parts")
                    .and_then(Value::as_array_mut)
                    .and_then(|p| locate_part(p, target))
                else {
                    problems.push(Problem::new(
                        format!("profile.modify.alters[{i}].adds[{j}].by-id"),
                        format!("`{target}` is not a part of control `{control_id}`"),
                    ));
                    continue;
                };
                match position {
                    "before" | "after" => {
                        let at = if position == "before" { k } else { k + 1 };
                        let parts = array(addition, "parts").to_vec();
                        let count = parts.len();
                        siblings.splice(at..at, parts);
                        let target_at = if position == "before" { k + count } else { k };
                        add_props_links(&mut siblings[target_at], addition, before);
                    }
                    _ => {
                        let part = &mut siblings[k];
                        add_props_links(part, addition, before);
                        if let Some(parts) = addition.get("parts").and_then(Value::as_array) {
                            insert_items(part, "parts", parts, before);
                        }
                        if let Some(title) = addition.get("title") {
                            part["title"] = title.clone();
                        }
                    }
                }
            }
        }
    }
}

fn add_into(node: &mut Value, addition: &Value, before: bool) {
    for (field, _) in ITEMS {
        if let Some(items) = addition.get(field).and_then(Value::as_array) {
            insert_items(node, field, items, before);
        }
    }
}

fn add_props_links(node: &mut Value, addition: &Value, before: bool) {
    for field in ["props", "links"] {
        if let Some(items) = addition.get(field).and_then(Value::as_array) {
            insert_items(node, field, items, before);
        }
    }
}

fn insert_items(node: &mut Value, field: &str, items: &[Value], before: bool) {
    let Some(map) = node.as_object_mut() else {
        return;
    };
    let list = map.entry(field).or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = list {
        if before {
            list.splice(0..0, items.iter().cloned());
        } else {
            list.extend(items.iter().cloned());
        }
    }
}

/// The parts array holding the part with this id, and its index there.
fn locate_part<'v>(parts: &'v mut Vec<Value>, id: &str) -> Option<(&'v mut Vec<Value>, usize)> {
    if let Some(k) = parts.iter().position(|p| id_of(p) == Some(id)) {
        return Some((parts, k));
    }
    parts
        .iter_mut()
        .filter_map(|p| p.get_mut("parts").and_then(Value::as_array_mut))
        .find_map(|sub| locate_part(sub, id))
}

/// Removes every param, prop, link and part (at any depth of parts) matching all criteria.
fn remove_matching(node: &mut Value, criteria: &[(&str, &str)]) {
    let Some(map) = node.as_object_mut() else {
        return;
    };
    for (field, item_name) in ITEMS {
        let Some(Value::Array(items)) = map.get_mut(field) else {
            continue;
        };
        items.retain(|item| !matches_all(item, item_name, criteria));
        if field == "parts" {
            for part in items.iter_mut() {
                remove_matching(part, criteria);
            }
        }
        if items.is_empty() {
            map.remove(field);
        }
    }
}

fn matches_all(item: &Value, item_name: &str, criteria: &[(&str, &str)]) -> bool {
    criteria.iter().all(|(key, want)| {
        let field = match *key {
            "by-item-name" => return item_name == *want,
            "by-name" => "name",
            "by-class" => "class",
            "by-id" => "id",
            _ => "ns",
        };
        item.get(field).and_then(Value::as_str) == Some(*want)
    })
}

/// The back-matter uuids the body refers to (`#uuid` in links, prose, anywhere).
fn referenced_uuids(body: &Map<String, Value>, resources: &[Value]) -> HashSet<String> {
    let known: HashSet<&str> = resources
        .iter()
        .filter_map(|r| r.get("uuid").and_then(Value::as_str))
        .collect();
    let mut found = HashSet::new();
    fn scan(v: &Value, known: &HashSet<&str>, found: &mut HashSet<String>) {
        match v {
            Value::String(s) => {
                for (i, _) in s.match_indices('#') {
                    if let Some(candidate) = s.get(i + 1..i + 37).filter(|c| known.contains(c)) {
                        found.insert(candidate.to_string());
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| scan(i, known, found)),
            Value::Object(map) => map.values().for_each(|i| scan(i, known, found)),
            _ => {}
        }
    }
    body.values().for_each(|v| scan(v, &known, &mut found));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(
            glob("ac-*", "ac-2.1")
                && glob("ac-?", "ac-2")
                && glob("*", "x")
                && glob("a*c*e", "abcde")
        );
        assert!(!glob("ac-?", "ac-22") && !glob("ac-*", "au-2") && !glob("a*c", "ab"));
    }
}
