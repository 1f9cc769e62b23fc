//! A control's statement as plain text: item labels kept, parameters written the way NIST
//! prints them ("[Assignment: organization-defined frequency]", "[Selection (one or more): a; b]").

use std::collections::HashMap;

use serde_json::Value;

/// Every parameter of a catalog by id, so an insertion can be rendered wherever it appears.
#[derive(Default)]
pub(super) struct Params<'a>(HashMap<&'a str, &'a Value>);

impl<'a> Params<'a> {
    /// Collects the params of the catalog, its groups and its controls, at any depth.
    pub(super) fn of_catalog(catalog: &'a Value) -> Self {
        let mut params = Params::default();
        params.collect(catalog);
        params
    }

    fn collect(&mut self, node: &'a Value) {
        for p in array(node, "params") {
            if let Some(id) = p.get("id").and_then(Value::as_str) {
                // The first declaration wins, as ids are meant to be unique.
                self.0.entry(id).or_insert(p);
            }
        }
        for child in array(node, "groups").iter().chain(array(node, "controls")) {
            self.collect(child);
        }
    }
}

/// The items of an array field, or none.
pub(super) fn array<'a>(node: &'a Value, field: &str) -> &'a [Value] {
    node.get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The value of the first prop with this name (and no namespace, or any namespace).
pub(super) fn prop<'a>(node: &'a Value, name: &str) -> Option<&'a str> {
    array(node, "props")
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|p| p.get("value"))
        .and_then(Value::as_str)
}

/// The prose of the first part with this name, flattened with its items; `None` when the part
/// is missing or says nothing.
pub(super) fn part_text(node: &Value, name: &str, params: &Params) -> Option<String> {
    let part = array(node, "parts")
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?;
    let mut lines = Vec::new();
    if let Some(prose) = part.get("prose").and_then(Value::as_str) {
        let prose = render(prose, params, 0);
        if !prose.trim().is_empty() {
            lines.push(prose.trim().to_string());
        }
    }
    for item in array(part, "parts") {
        item_lines(item, 0, params, &mut lines);
    }
    let text = lines.join("\n");
    (!text.is_empty()).then_some(text)
}

/// One item ("a. …") and its sub-items, indented two spaces per level.
fn item_lines(item: &Value, depth: usize, params: &Params, lines: &mut Vec<String>) {
    let label = prop(item, "label").unwrap_or("").trim();
    let prose = item
        .get("prose")
        .and_then(Value::as_str)
        .map(|p| render(p, params, 0))
        .unwrap_or_default();
    let line = match (label.is_empty(), prose.trim().is_empty()) {
        (true, true) => String::new(),
        (false, true) => label.to_string(),
        (true, false) => prose.trim().to_string(),
        (false, false) => format!("{label} {}", prose.trim()),
    };
    if !line.is_empty() {
        lines.push(format!("{}{line}", "  ".repeat(depth)));
    }
    for sub in array(item, "parts") {
        item_lines(sub, depth + 1, params, lines);
    }
}

/// Markup as plain text: `{{ insert: param, id }}` written the way NIST prints parameters,
/// Markdown links reduced to their text and strong emphasis (`**`) dropped.
pub(super) fn render(markup: &str, params: &Params, depth: usize) -> String {
    let markup = plain(markup);
    let mut out = String::with_capacity(markup.len());
    let mut rest = markup.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match param_insertion(&after[..end]) {
            Some(id) => out.push_str(&render_param(id, params, depth)),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `[text](href)` → `text`, `**text**` → `text`; other Markdown is left as written.
fn plain(markup: &str) -> String {
    let mut out = String::with_capacity(markup.len());
    let mut rest = markup;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find(']').and_then(|close| {
            let text = &after[..close];
            let tail = after[close + 1..].strip_prefix('(')?;
            let end = tail.find(')')?;
            let href = &tail[..end];
            (!text.contains('[') && !href.is_empty() && !href.contains(char::is_whitespace))
                .then(|| (text, &tail[end + 1..]))
        });
        match link {
            Some((text, next)) => {
                out.push_str(&rest[..open]);
                out.push_str(text);
                rest = next;
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("**", "")
}

/// The param id of an insertion (`insert: param, ac-1_prm_1`), if that is what it is.
fn param_insertion(inner: &str) -> Option<&str> {
    let (kind, id) = inner
        .trim()
        .strip_prefix("insert")?
        .trim_start()
        .strip_prefix(':')?
        .split_once(',')?;
    (kind.trim() == "param").then(|| id.trim())
}

fn render_param(id: &str, params: &Params, depth: usize) -> String {
    let Some(param) = params.0.get(id) else {
        return format!("[Assignment: {id}]");
    };
    // A value set by a profile replaces the placeholder, as in a resolved baseline.
    let values = strings_of(param, "values", params, depth);
    if !values.is_empty() {
        return values.join(", ");
    }
    if let Some(select) = param.get("select") {
        let choices = strings_of(select, "choice", params, depth);
        let how = match select.get("how-many").and_then(Value::as_str) {
            Some("one-or-more") => "Selection (one or more)",
            _ => "Selection",
        };
        return format!("[{how}: {}]", choices.join("; "));
    }
    match param.get("label").and_then(Value::as_str) {
        Some(label) => format!("[Assignment: {}]", plain(label).trim()),
        None => format!("[Assignment: {id}]"),
    }
}

fn strings_of(node: &Value, field: &str, params: &Params, depth: usize) -> Vec<String> {
    array(node, field)
        .iter()
        .filter_map(Value::as_str)
        // A choice may itself insert a parameter; the depth bound stops a loop of params.
        .map(|s| {
            if depth < 4 {
                render(s, params, depth + 1)
            } else {
                s.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_items_and_params_like_nist() {
        let control = json!({
            "params": [
                {"id": "p1", "label": "organization-defined personnel or roles"},
                {"id": "p2", "select": {"how-many": "one-or-more", "choice": ["a", "b {{ insert: param, p1 }}"]}},
                {"id": "p3", "select": {"choice": ["x", "y"]}},
                {"id": "p4", "label": "ignored", "values": ["daily"]}
            ],
            "parts": [{"name": "statement", "parts": [
                {"name": "item", "props": [{"name": "label", "value": "a."}], "prose": "Tell {{ insert: param, p1 }}:", "parts": [
                    {"name": "item", "props": [{"name": "label", "value": "1."}], "prose": " {{ insert: param, p2 }} now;"}
                ]},
                {"name": "item", "props": [{"name": "label", "value": "b."}], "prose": "Pick {{insert: param,p3}} {{ insert: param, p4 }} {{ insert: param, nope }}."}
            ]}]
        });
        let params = Params::of_catalog(&control);
        assert_eq!(
            part_text(&control, "statement", &params).unwrap(),
            "a. Tell [Assignment: organization-defined personnel or roles]:\n  1. [Selection (one or more): a; b [Assignment: organization-defined personnel or roles]] now;\nb. Pick [Selection: x; y] daily [Assignment: nope]."
        );
        assert_eq!(part_text(&control, "guidance", &params), None);
    }

    #[test]
    fn markdown_links_and_strong_emphasis_become_plain_text() {
        let params = Params::default();
        assert_eq!(
            render(
                "See [AU-2a.](#au-2_smt.a) and **this**; [not a link] (x) [x](a b).",
                &params,
                0
            ),
            "See AU-2a. and this; [not a link] (x) [x](a b)."
        );
    }

    #[test]
    fn leaves_other_markup_alone() {
        let params = Params::default();
        assert_eq!(
            render("a {{ insert: other, x }} b {{ open", &params, 0),
            "a {{ insert: other, x }} b {{ open"
        );
    }
}
