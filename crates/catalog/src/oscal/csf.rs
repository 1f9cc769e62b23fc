//! NIST's CSF 2.0 catalog, which NIST publishes as OSCAL XML only.
//!
//! The file also keeps the CSF 1.1 categories and subcategories that 2.0 withdrew, without a
//! status prop: a withdrawn category has an empty statement, and a withdrawn subcategory has
//! no implementation examples (every active one has at least one).

use std::collections::BTreeMap;

use attest_domain::framework::{Framework, Origin, Problem, Requirement};
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// The CSF 2.0 OSCAL XML catalog read into a framework with id "nist-csf-2.0".
pub fn parse_csf2_xml(xml: &str) -> Result<Framework, Vec<Problem>> {
    let root = parse_xml(xml)?;
    if root.name != "catalog" {
        return Err(vec![Problem::new(
            "/",
            format!(
                "the root element is <{}>, not an OSCAL <catalog>",
                root.name
            ),
        )]);
    }
    let mut reader = CsfReader::default();
    for (i, function) in root.children_named("group").enumerate() {
        reader.function(function, &format!("/catalog/group[{}]", i + 1));
    }
    let framework = Framework {
        id: "nist-csf-2.0".into(),
        name: "NIST Cybersecurity Framework 2.0".into(),
        version: "2.0".into(),
        publisher: "NIST".into(),
        description: String::new(),
        origin: Origin::BuiltIn,
        profile_of: None,
        requirements: reader.requirements,
    };
    let paths = reader.paths;
    let mut problems = reader.problems;
    problems.extend(framework.problems(&|i| paths[i].clone()));
    if problems.is_empty() {
        Ok(framework)
    } else {
        Err(problems)
    }
}

#[derive(Default)]
struct CsfReader {
    requirements: Vec<Requirement>,
    /// Where each requirement is, as an XPath.
    paths: Vec<String>,
    problems: Vec<Problem>,
}

impl CsfReader {
    fn function(&mut self, group: &Element, path: &str) {
        let Some(id) = self.id(group, path) else {
            return;
        };
        let title = sentence_case(&group.child_text("title"));
        let text = group
            .part("overview")
            .map(Element::prose)
            .filter(|t| !t.is_empty());
        self.push(
            path,
            Requirement {
                id: id.clone(),
                parent: None,
                kind: group.attr("class").unwrap_or("function").to_string(),
                title,
                text,
                props: group.props(),
                withdrawn: false,
                assessable: false,
            },
        );
        for (i, category) in group.children_named("control").enumerate() {
            self.category(category, &id, &format!("{path}/control[{}]", i + 1));
        }
    }

    fn category(&mut self, control: &Element, parent: &str, path: &str) {
        let Some(id) = self.id(control, path) else {
            return;
        };
        let statement = control
            .part("statement")
            .map(Element::prose)
            .unwrap_or_default();
        let withdrawn = statement.is_empty();
        self.push(
            path,
            Requirement {
                id: id.clone(),
                parent: Some(parent.to_string()),
                kind: control.attr("class").unwrap_or("category").to_string(),
                title: control.child_text("title"),
                text: (!withdrawn).then_some(statement),
                props: control.props(),
                withdrawn,
                // Categories group subcategories, which are what CSF outcomes are judged on.
                assessable: false,
            },
        );
        for (i, sub) in control.children_named("control").enumerate() {
            self.subcategory(sub, &id, &format!("{path}/control[{}]", i + 1));
        }
    }

    fn subcategory(&mut self, control: &Element, parent: &str, path: &str) {
        let Some(id) = self.id(control, path) else {
            return;
        };
        let statement = control
            .part("statement")
            .map(Element::prose)
            .unwrap_or_default();
        let examples: Vec<String> = control
            .children_named("part")
            .filter(|p| p.attr("name") == Some("example"))
            .map(Element::prose)
            .collect();
        let withdrawn = examples.is_empty();
        let text = if withdrawn {
            statement.clone()
        } else {
            format!(
                "{statement}\n\nExamples:\n{}",
                examples
                    .iter()
                    .map(|e| format!("- {e}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        };
        self.push(
            path,
            Requirement {
                id: id.clone(),
                parent: Some(parent.to_string()),
                kind: control.attr("class").unwrap_or("subcategory").to_string(),
                // The OSCAL title of a subcategory is only its id; the statement says what it is.
                title: if statement.is_empty() { id } else { statement },
                text: Some(text).filter(|t| !t.is_empty()),
                props: control.props(),
                withdrawn,
                assessable: !withdrawn,
            },
        );
    }

    fn id(&mut self, element: &Element, path: &str) -> Option<String> {
        let id = element.attr("id").map(str::to_string);
        if id.is_none() {
            self.problems
                .push(Problem::new(path, format!("<{}> has no id", element.name)));
        }
        id
    }

    fn push(&mut self, path: &str, requirement: Requirement) {
        self.requirements.push(requirement);
        self.paths.push(path.to_string());
    }
}

/// "GOVERN" → "Govern".
fn sentence_case(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Just enough of an XML tree for OSCAL: names without prefixes, attributes, text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter_map(move |n| match n {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// The first `<part name="…">` child.
    fn part(&self, name: &str) -> Option<&Element> {
        self.children_named("part")
            .find(|p| p.attr("name") == Some(name))
    }

    /// The text of the first child with this name, whitespace collapsed.
    fn child_text(&self, name: &str) -> String {
        self.children_named(name)
            .next()
            .map(|e| collapse(&e.all_text()))
            .unwrap_or_default()
    }

    /// Every text node below, in order.
    fn all_text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => out.push_str(&e.all_text()),
            }
        }
        out
    }

    /// A part's prose: its paragraphs (or its own text), each on one line, a blank line between.
    fn prose(&self) -> String {
        let paragraphs: Vec<String> = self
            .children
            .iter()
            .filter_map(|n| match n {
                Node::Element(e) if e.name != "prop" && e.name != "part" && e.name != "title" => {
                    Some(collapse(&e.all_text()))
                }
                Node::Text(t) => Some(collapse(t)),
                Node::Element(_) => None,
            })
            .filter(|p| !p.is_empty())
            .collect();
        paragraphs.join("\n\n")
    }

    /// `<prop name value>` children as name → value, the first of a name kept.
    fn props(&self) -> BTreeMap<String, String> {
        let mut props = BTreeMap::new();
        for p in self.children_named("prop") {
            if let (Some(name), Some(value)) = (p.attr("name"), p.attr("value")) {
                props
                    .entry(name.to_string())
                    .or_insert_with(|| value.to_string());
            }
        }
        props
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a whole document into its root element; a malformed one is one problem, with its line.
fn parse_xml(xml: &str) -> Result<Element, Vec<Problem>> {
    let line_of = |pos: u64| {
        format!(
            "line {}",
            xml[..(pos as usize).min(xml.len())].matches('\n').count() + 1
        )
    };
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            vec![Problem::new(
                line_of(reader.error_position()),
                format!("not well-formed XML: {e}"),
            )]
        })?;
        let bad = |message: String| vec![Problem::new(line_of(reader.buffer_position()), message)];
        let element = match event {
            Event::Start(start) => {
                stack.push(element_of(&start).map_err(bad)?);
                continue;
            }
            Event::Empty(start) => element_of(&start).map_err(bad)?,
            Event::End(_) => stack
                .pop()
                .ok_or_else(|| bad("a closing tag without its opening tag".into()))?,
            Event::Text(t) => {
                push_text(&mut stack, &t.xml_content(XmlVersion::Implicit1_0));
                continue;
            }
            Event::CData(c) => {
                push_text(&mut stack, &c.xml_content(XmlVersion::Implicit1_0));
                continue;
            }
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match resolve_predefined_entity(&r.xml_content(XmlVersion::Implicit1_0)) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(bad(format!(
                                "unknown entity &{};",
                                r.xml_content(XmlVersion::Implicit1_0)
                            )));
                        }
                    },
                };
                push_text(&mut stack, &text);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(element)),
            None => root = Some(element),
        }
    }
    if !stack.is_empty() {
        return Err(vec![Problem::new(
            line_of(xml.len() as u64),
            format!("<{}> is never closed", stack[stack.len() - 1].name),
        )]);
    }
    root.ok_or_else(|| vec![Problem::new("line 1", "no XML element found")])
}

/// Adds text to the open element, joined to the text just before it (an entity splits text).
fn push_text(stack: &mut [Element], text: &str) {
    let Some(top) = stack.last_mut() else { return };
    match top.children.last_mut() {
        Some(Node::Text(before)) => before.push_str(text),
        _ => top.children.push(Node::Text(text.to_string())),
    }
}

fn element_of(start: &BytesStart) -> Result<Element, String> {
    let name = start.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("a broken attribute in <{name}>: {e}"))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("a broken attribute in <{name}>: {e}"))?;
        attrs.push((
            attr.key.local_name().as_ref().to_string(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_entities_and_reports_broken_xml() {
        let root = parse_xml("<a x=\"1 &amp; 2\"><p>one &lt;\n   two&#x21;</p><p/></a>").unwrap();
        assert_eq!(root.attr("x"), Some("1 & 2"));
        assert_eq!(root.prose(), "one < two!");
        let err = parse_xml("<a>\n<b></a>").unwrap_err();
        assert_eq!(err[0].at, "line 2", "{err:?}");
        assert_eq!(sentence_case("GOVERN"), "Govern");
    }
}
