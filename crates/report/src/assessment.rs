//! An audit engagement as OSCAL 1.2.1: assessment results (the controls reviewed, one
//! observation per control test, one finding per Attest finding) and a plan of action and
//! milestones (one item per finding that needs action).

use serde_json::{Value, json};
use uuid::Uuid;

/// A control in the engagement's scope.
#[derive(Debug, Clone, Default)]
pub struct AssessedControl {
    /// The control's id (UUID text).
    pub id: String,
    /// The organisation's reference ("AC-01").
    pub reference: String,
    /// The control's title.
    pub title: String,
}

/// A control test with its recorded sample.
#[derive(Debug, Clone, Default)]
pub struct AssessedTest {
    /// The test's id (UUID text).
    pub id: String,
    /// The reference of the control tested.
    pub control_ref: String,
    /// `design` or `operating`.
    pub kind: String,
    /// How many items the population holds.
    pub population: u32,
    /// How many items were drawn.
    pub sample_size: u32,
    /// The seed the sample was drawn from.
    pub seed: String,
    /// The sampling algorithm.
    pub algorithm: String,
    /// The drawn items, in draw order.
    pub items: Vec<u32>,
    /// `(item, "pass" | "exception", note)` for the items tested so far.
    pub results: Vec<(u32, String, String)>,
    /// When the test was recorded (RFC 3339).
    pub created_at: String,
}

/// A finding of the engagement.
#[derive(Debug, Clone, Default)]
pub struct AssessedFinding {
    /// The finding's id (UUID text).
    pub id: String,
    /// The finding's reference ("F-001").
    pub reference: String,
    /// The finding's title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// `exception` (SOC) or `major`, `minor` or `observation` (ISO).
    pub severity: String,
    /// The reference of the control concerned, if any.
    pub control_ref: Option<String>,
    /// The id of the test that found it, if any.
    pub test_id: Option<String>,
    /// The nonconformity it raised, if any.
    pub nonconformity_ref: Option<String>,
    /// Management's response (may be empty).
    pub response: String,
    /// When the finding was recorded (RFC 3339).
    pub created_at: String,
}

/// An engagement as the OSCAL exports read it.
#[derive(Debug, Clone, Default)]
pub struct AssessmentDocument {
    /// The audited organisation's name.
    pub organisation: String,
    /// The organisation's id (UUID text).
    pub organisation_id: String,
    /// The engagement's id (UUID text); every OSCAL uuid derives from it.
    pub engagement_id: String,
    /// The engagement's reference ("ENG-001").
    pub engagement_ref: String,
    /// The engagement's title.
    pub title: String,
    /// The kind of engagement ("SOC 2 Type 2").
    pub kind: String,
    /// The audit firm.
    pub firm: String,
    /// The lead auditor's name.
    pub lead_auditor: String,
    /// The first day of the period (YYYY-MM-DD).
    pub period_start: String,
    /// The last day of the period (YYYY-MM-DD).
    pub period_end: String,
    /// `planning`, `fieldwork`, `reporting`, `issued` or `withdrawn`.
    pub status: String,
    /// The opinion ("unqualified"), once given.
    pub opinion: Option<String>,
    /// The controls in scope.
    pub controls: Vec<AssessedControl>,
    /// The control tests.
    pub tests: Vec<AssessedTest>,
    /// The findings.
    pub findings: Vec<AssessedFinding>,
    /// When the engagement last changed (RFC 3339).
    pub last_modified: String,
}

/// The namespace of Attest's own OSCAL properties.
const NS: &str = "https://attest.invalid/ns/oscal";

/// A UUID (v5) that is the same every time the same engagement is exported.
fn stable_uuid(doc: &AssessmentDocument, what: &str) -> String {
    let name = format!("attest:engagement:{}:{what}", doc.engagement_id);
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// Text as OSCAL's string and markup-line types accept it: one line, no leading, trailing
/// or doubled whitespace (the byte order mark counts as whitespace for the schema's `\s`).
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{feff}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`one_line`], or the fallback when nothing is left.
fn line_or(s: &str, fallback: &str) -> String {
    let line = one_line(s);
    if line.is_empty() {
        fallback.to_owned()
    } else {
        line
    }
}

/// Trimmed text, or the fallback when it is blank.
fn text_or<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    let t = s.trim();
    if t.is_empty() { fallback } else { t }
}

/// A control reference as an OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`): lower case,
/// anything outside `[a-z0-9._-]` as `-`, and `_` in front unless it starts with a letter.
fn token(reference: &str) -> String {
    let mut t: String = reference
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        t.insert(0, '_');
    }
    t
}

/// An Attest property; none when the value is blank (OSCAL values may not be empty).
fn prop(name: &str, value: &str) -> Option<Value> {
    let value = one_line(value);
    (!value.is_empty()).then(|| json!({"name": name, "ns": NS, "value": value}))
}

/// The properties that have a value.
fn props<const N: usize>(items: [Option<Value>; N]) -> Vec<Value> {
    items.into_iter().flatten().collect()
}

/// Sets `key` to the array unless it is empty (OSCAL arrays hold at least one item).
fn put_array(object: &mut Value, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        object[key] = Value::Array(items);
    }
}

/// Whether a finding needs action: everything but an ISO observation.
fn needs_action(f: &AssessedFinding) -> bool {
    f.severity.trim() != "observation"
}

/// A control's reference and title, or the bare reference when it is not in scope.
fn control_name(doc: &AssessmentDocument, reference: &str) -> String {
    match doc.controls.iter().find(|c| c.reference == reference) {
        Some(c) => one_line(&format!("{} {}", c.reference, c.title)),
        None => line_or(reference, "an unnamed control"),
    }
}

/// The audit firm as the actor behind observations and findings.
fn origins(doc: &AssessmentDocument) -> Value {
    json!([{"actors": [{
        "type": "party",
        "actor-uuid": stable_uuid(doc, "party:firm"),
        "role-id": "assessor",
    }]}])
}

/// Metadata shared by both documents: the parties, their roles and the engagement's facts.
fn metadata(doc: &AssessmentDocument, title: &str) -> Value {
    let firm = stable_uuid(doc, "party:firm");
    let organisation = stable_uuid(doc, "party:organisation");
    let mut parties = vec![
        json!({"uuid": organisation, "type": "organization", "name": line_or(&doc.organisation, "Unnamed organisation")}),
        json!({"uuid": firm, "type": "organization", "name": line_or(&doc.firm, "Unnamed audit firm")}),
    ];
    let mut responsible = vec![
        json!({"role-id": "auditee", "party-uuids": [organisation]}),
        json!({"role-id": "assessor", "party-uuids": [firm]}),
    ];
    let lead = one_line(&doc.lead_auditor);
    if !lead.is_empty() {
        let uuid = stable_uuid(doc, "party:lead-auditor");
        parties.push(json!({"uuid": uuid, "type": "person", "name": lead, "member-of-organizations": [firm]}));
        responsible.push(json!({"role-id": "lead-auditor", "party-uuids": [uuid]}));
    }
    let mut metadata = json!({
        "title": line_or(title, "Audit engagement"),
        "last-modified": doc.last_modified.trim(),
        "version": line_or(&format!("{} ({})", doc.engagement_ref, doc.status), "draft"),
        "oscal-version": "1.2.1",
        "roles": [
            {"id": "auditee", "title": "Organisation under audit"},
            {"id": "assessor", "title": "Audit firm"},
            {"id": "lead-auditor", "title": "Lead auditor"},
        ],
        "parties": parties,
        "responsible-parties": responsible,
    });
    put_array(&mut metadata, "props", engagement_props(doc));
    metadata
}

/// The engagement's facts as properties.
fn engagement_props(doc: &AssessmentDocument) -> Vec<Value> {
    props([
        prop("engagement-ref", &doc.engagement_ref),
        prop("engagement-title", &doc.title),
        prop("engagement-kind", &doc.kind),
        prop("engagement-status", &doc.status),
        prop("period-start", &doc.period_start),
        prop("period-end", &doc.period_end),
        doc.opinion.as_deref().and_then(|o| prop("opinion", o)),
    ])
}

/// The controls in scope, as tokens, with their original references kept in properties.
fn reviewed_controls(doc: &AssessmentDocument) -> Value {
    if doc.controls.is_empty() {
        // The schema needs a selection; with nothing listed, say so rather than invent one.
        return json!({
            "control-selections": [{"include-all": {}}],
            "remarks": "The engagement lists no controls in its scope; OSCAL requires a selection, so this one selects whatever the assessment plan names.",
        });
    }
    let include: Vec<Value> = doc
        .controls
        .iter()
        .map(|c| json!({"control-id": token(&c.reference)}))
        .collect();
    let refs: Vec<Value> = doc
        .controls
        .iter()
        .filter_map(|c| {
            let mut p = prop("control-ref", &c.reference)?;
            p["class"] = Value::String(token(&c.reference));
            Some(p)
        })
        .collect();
    let listing: Vec<String> = doc
        .controls
        .iter()
        .map(|c| {
            format!(
                "- `{}`: {}",
                token(&c.reference),
                control_name(doc, &c.reference)
            )
        })
        .collect();
    let mut selection = json!({
        "include-controls": include,
        "remarks": format!("The controls in scope, by token:\n\n{}", listing.join("\n")),
    });
    put_array(&mut selection, "props", refs);
    json!({"control-selections": [selection]})
}

/// What a test is called in a title.
fn test_label(kind: &str) -> &'static str {
    match kind.trim() {
        "design" => "Design test",
        "operating" => "Operating effectiveness test",
        _ => "Control test",
    }
}

/// The items as a comma-separated list.
fn item_list(items: &[u32]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many of the tested items had an exception.
fn exception_count(test: &AssessedTest) -> usize {
    test.results
        .iter()
        .filter(|r| r.1.trim() == "exception")
        .count()
}

/// A test's sample and results in words (Markdown).
fn test_description(doc: &AssessmentDocument, test: &AssessedTest) -> String {
    let exceptions = exception_count(test);
    let mut text = format!(
        "{} of {}.\n\nPopulation of {} items; a sample of {} drawn with {} from seed {}.\n\nItems drawn, in draw order: {}.\n\n{} of {} items tested so far, {exceptions} with an exception.",
        test_label(&test.kind),
        control_name(doc, &test.control_ref),
        test.population,
        test.sample_size,
        one_line(text_or(&test.algorithm, "an unnamed algorithm")),
        one_line(text_or(&test.seed, "none recorded")),
        item_list(&test.items),
        test.results.len(),
        test.items.len(),
    );
    if !test.results.is_empty() {
        text.push('\n');
    }
    for (item, outcome, note) in &test.results {
        text.push_str(&format!(
            "\n- Item {item}: {}",
            line_or(outcome, "not recorded")
        ));
        let note = one_line(note);
        if !note.is_empty() {
            text.push_str(&format!(" — {note}"));
        }
    }
    text
}

/// The observation's UUID for a test.
fn observation_uuid(doc: &AssessmentDocument, test_id: &str) -> String {
    stable_uuid(doc, &format!("observation:{test_id}"))
}

/// One control test as an OSCAL observation.
fn observation(doc: &AssessmentDocument, test: &AssessedTest) -> Value {
    let exceptions = exception_count(test);
    let mut o = json!({
        "uuid": observation_uuid(doc, &test.id),
        "title": one_line(&format!("{} of {}", test_label(&test.kind), text_or(&test.control_ref, "an unnamed control"))),
        "description": test_description(doc, test),
        "methods": ["TEST"],
        "types": ["control-objective"],
        "origins": origins(doc),
        "collected": test.created_at.trim(),
    });
    let items_tested = test.results.len().to_string();
    let exceptions = exceptions.to_string();
    put_array(
        &mut o,
        "props",
        props([
            prop("test-id", &test.id),
            prop("control-ref", &test.control_ref),
            prop("test-kind", &test.kind),
            prop("population", &test.population.to_string()),
            prop("sample-size", &test.sample_size.to_string()),
            prop("sample-seed", &test.seed),
            prop("sample-algorithm", &test.algorithm),
            prop("items-tested", &items_tested),
            prop("exceptions", &exceptions),
        ]),
    );
    o
}

/// The finding's UUID.
fn finding_uuid(doc: &AssessmentDocument, f: &AssessedFinding) -> String {
    stable_uuid(doc, &format!("finding:{}", f.id))
}

/// The observation a finding came from, when its test is one of the engagement's.
fn related_observations(doc: &AssessmentDocument, f: &AssessedFinding) -> Vec<Value> {
    f.test_id
        .as_deref()
        .filter(|id| doc.tests.iter().any(|t| t.id == *id))
        .map(|id| json!({"observation-uuid": observation_uuid(doc, id)}))
        .into_iter()
        .collect()
}

/// The control a finding concerns, or the engagement as a whole when it names none.
fn finding_target(doc: &AssessmentDocument, f: &AssessedFinding) -> Value {
    let control = f.control_ref.as_deref().filter(|r| !r.trim().is_empty());
    let (target_id, title) = match control {
        Some(r) => (token(r), control_name(doc, r)),
        None => (
            token(&doc.engagement_ref),
            one_line(&format!(
                "Engagement {} as a whole (no control named)",
                doc.engagement_ref
            )),
        ),
    };
    let state = if needs_action(f) {
        "not-satisfied"
    } else {
        "satisfied"
    };
    json!({
        "type": "objective-id",
        "target-id": target_id,
        "title": title,
        "status": {"state": state},
    })
}

/// The finding's title with its reference.
fn finding_title(f: &AssessedFinding) -> String {
    line_or(&format!("{}: {}", f.reference, f.title), "Untitled finding")
}

/// Management's response, when there is one.
fn response_remarks(f: &AssessedFinding) -> Option<Value> {
    let r = f.response.trim();
    (!r.is_empty()).then(|| Value::String(format!("Management's response: {r}")))
}

/// The finding's references as properties.
fn finding_props(f: &AssessedFinding) -> Vec<Value> {
    props([
        prop("finding-ref", &f.reference),
        prop("severity", &f.severity),
        f.control_ref
            .as_deref()
            .and_then(|r| prop("control-ref", r)),
        f.nonconformity_ref
            .as_deref()
            .and_then(|r| prop("nonconformity-ref", r)),
        prop("recorded", &f.created_at),
    ])
}

/// One Attest finding as an OSCAL finding.
fn finding(doc: &AssessmentDocument, f: &AssessedFinding) -> Value {
    let mut o = json!({
        "uuid": finding_uuid(doc, f),
        "title": finding_title(f),
        "description": text_or(&f.description, "No description."),
        "origins": origins(doc),
        "target": finding_target(doc, f),
    });
    put_array(&mut o, "props", finding_props(f));
    put_array(&mut o, "related-observations", related_observations(doc, f));
    if let Some(r) = response_remarks(f) {
        o["remarks"] = r;
    }
    o
}

/// A date (YYYY-MM-DD) at a time of day in UTC.
fn at(date: &str, time: &str) -> String {
    format!("{}T{time}Z", date.trim())
}

/// The result: the period, the controls reviewed, the tests and the findings.
fn result(doc: &AssessmentDocument) -> Value {
    let opinion = doc
        .opinion
        .as_deref()
        .map(|o| format!(" Opinion: {}.", o.trim()))
        .unwrap_or_default();
    let mut r = json!({
        "uuid": stable_uuid(doc, "result"),
        "title": line_or(&format!("{} {}", doc.engagement_ref, doc.title), "Engagement result"),
        "description": format!(
            "{} engagement {} of {} by {}, covering {} to {}. Status: {}.{opinion}",
            text_or(&doc.kind, "Audit"),
            doc.engagement_ref.trim(),
            text_or(&doc.organisation, "an unnamed organisation"),
            text_or(&doc.firm, "an unnamed audit firm"),
            doc.period_start.trim(),
            doc.period_end.trim(),
            text_or(&doc.status, "unknown"),
        ),
        "start": at(&doc.period_start, "00:00:00"),
        "end": at(&doc.period_end, "23:59:59"),
        "reviewed-controls": reviewed_controls(doc),
    });
    put_array(
        &mut r,
        "observations",
        doc.tests.iter().map(|t| observation(doc, t)).collect(),
    );
    put_array(
        &mut r,
        "findings",
        doc.findings.iter().map(|f| finding(doc, f)).collect(),
    );
    r
}

/// The engagement as OSCAL 1.2.1 assessment results: one result for the period, the controls
/// in scope as reviewed controls, one observation per control test and one finding per
/// finding. Expects dates as YYYY-MM-DD and timestamps as RFC 3339 in UTC.
pub fn assessment_results(doc: &AssessmentDocument) -> Value {
    let plan = stable_uuid(doc, "assessment-plan");
    let title = format!(
        "{} — {} assessment results ({})",
        doc.organisation, doc.kind, doc.engagement_ref
    );
    json!({
        "assessment-results": {
            "uuid": stable_uuid(doc, "assessment-results"),
            "metadata": metadata(doc, &title),
            "import-ap": {"href": format!("#{plan}")},
            "results": [result(doc)],
            "back-matter": {"resources": [{
                "uuid": plan,
                "title": line_or(&format!("Audit plan of engagement {}", doc.engagement_ref), "Audit plan"),
                "description": "The engagement's plan (scope, period and tests) as Attest holds it; it is not exported as an OSCAL assessment plan.",
            }]},
        }
    })
}

/// One finding that needs action as a POA&M item.
fn poam_item(doc: &AssessmentDocument, f: &AssessedFinding) -> Value {
    let mut description = format!(
        "{}\n\nSeverity: {}.",
        text_or(&f.description, "No description."),
        text_or(&f.severity, "not recorded")
    );
    if let Some(c) = f.control_ref.as_deref().filter(|c| !c.trim().is_empty()) {
        description.push_str(&format!(" Control: {}.", control_name(doc, c)));
    }
    if let Some(nc) = f
        .nonconformity_ref
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        description.push_str(&format!(" Nonconformity: {}.", nc.trim()));
    }
    let mut o = json!({
        "uuid": stable_uuid(doc, &format!("poam-item:{}", f.id)),
        "title": finding_title(f),
        "description": description,
        "related-findings": [{"finding-uuid": finding_uuid(doc, f)}],
    });
    put_array(&mut o, "props", finding_props(f));
    put_array(&mut o, "related-observations", related_observations(doc, f));
    if let Some(r) = response_remarks(f) {
        o["remarks"] = r;
    }
    o
}

/// The POA&M items; the schema needs at least one, so an engagement with nothing to act on
/// gets a single item that says so.
fn poam_items(doc: &AssessmentDocument) -> Vec<Value> {
    let items: Vec<Value> = doc
        .findings
        .iter()
        .filter(|f| needs_action(f))
        .map(|f| poam_item(doc, f))
        .collect();
    if !items.is_empty() {
        return items;
    }
    vec![json!({
        "uuid": stable_uuid(doc, "poam-item:none"),
        "title": "No open findings.",
        "description": format!(
            "Engagement {} recorded no exceptions or nonconformities that need action.",
            doc.engagement_ref.trim()
        ),
    })]
}

/// The engagement as an OSCAL 1.2.1 plan of action and milestones: one item per finding that
/// needs action (exceptions and major or minor nonconformities), with those findings and the
/// test observations behind them. The system is identified by the organisation's id.
pub fn poam(doc: &AssessmentDocument) -> Value {
    let title = format!(
        "{} — {} plan of action and milestones ({})",
        doc.organisation, doc.kind, doc.engagement_ref
    );
    let open: Vec<&AssessedFinding> = doc.findings.iter().filter(|f| needs_action(f)).collect();
    let observations: Vec<Value> = doc
        .tests
        .iter()
        .filter(|t| {
            open.iter()
                .any(|f| f.test_id.as_deref() == Some(t.id.as_str()))
        })
        .map(|t| observation(doc, t))
        .collect();
    let mut plan = json!({
        "uuid": stable_uuid(doc, "poam"),
        "metadata": metadata(doc, &title),
        "system-id": {
            "identifier-type": "https://ietf.org/rfc/rfc4122",
            "id": line_or(&doc.organisation_id, &stable_uuid(doc, "system")),
        },
        "poam-items": poam_items(doc),
    });
    put_array(&mut plan, "observations", observations);
    put_array(
        &mut plan,
        "findings",
        open.iter().map(|f| finding(doc, f)).collect(),
    );
    json!({"plan-of-action-and-milestones": plan})
}

#[cfg(test)]
mod tests {
    use super::*;

    const AR_SCHEMA: &[u8] = include_bytes!(env!("ATTEST_AR_SCHEMA"));
    const POAM_SCHEMA: &[u8] = include_bytes!(env!("ATTEST_POAM_SCHEMA"));

    fn control(n: u8, reference: &str, title: &str) -> AssessedControl {
        AssessedControl {
            id: format!("00000000-0000-4000-8000-0000000000c{n}"),
            reference: reference.into(),
            title: title.into(),
        }
    }

    fn result_row(item: u32, outcome: &str, note: &str) -> (u32, String, String) {
        (item, outcome.into(), note.into())
    }

    fn sample() -> AssessmentDocument {
        let tests = vec![
            AssessedTest {
                id: "00000000-0000-4000-8000-0000000000a1".into(),
                control_ref: "AC-01".into(),
                kind: "operating".into(),
                population: 250,
                sample_size: 3,
                seed: "  9f2c\n ".into(),
                algorithm: "chacha20-fisher-yates".into(),
                items: vec![17, 3, 212],
                results: vec![
                    result_row(17, "pass", ""),
                    result_row(3, "exception", "Access not removed\nwithin 24 hours."),
                ],
                created_at: "2026-11-24T10:00:00Z".into(),
            },
            AssessedTest {
                id: "00000000-0000-4000-8000-0000000000a2".into(),
                control_ref: "OPS 2".into(),
                kind: "design".into(),
                population: 1,
                sample_size: 1,
                seed: "1".into(),
                algorithm: "chacha20-fisher-yates".into(),
                items: vec![1],
                results: vec![result_row(1, "pass", "Walkthrough with the owner.")],
                created_at: "2026-11-24T11:30:00+09:00".into(),
            },
        ];
        let findings = vec![
            AssessedFinding {
                id: "00000000-0000-4000-8000-0000000000f1".into(),
                reference: "F-001".into(),
                title: "Leaver access\nremoved late".into(),
                description: "One leaver kept access for three days.".into(),
                severity: "exception".into(),
                control_ref: Some("AC-01".into()),
                test_id: Some("00000000-0000-4000-8000-0000000000a1".into()),
                nonconformity_ref: None,
                response: "HR now notifies IT the same day.\nSee ticket 42.".into(),
                created_at: "2026-11-25T09:00:00Z".into(),
            },
            AssessedFinding {
                id: "00000000-0000-4000-8000-0000000000f2".into(),
                reference: "F-002".into(),
                title: "No management review".into(),
                description: String::new(),
                severity: "major".into(),
                control_ref: Some("1.2".into()),
                test_id: None,
                nonconformity_ref: Some("NC-007".into()),
                response: String::new(),
                created_at: "2026-11-25T09:30:00Z".into(),
            },
            AssessedFinding {
                id: "00000000-0000-4000-8000-0000000000f3".into(),
                reference: "F-003".into(),
                title: "Runbooks could be clearer".into(),
                description: "An opportunity for improvement.".into(),
                severity: "observation".into(),
                control_ref: None,
                test_id: Some("00000000-0000-4000-8000-0000000000ff".into()),
                nonconformity_ref: None,
                response: "   ".into(),
                created_at: "2026-11-25T10:00:00Z".into(),
            },
        ];
        AssessmentDocument {
            organisation: "한빛 Cloud".into(),
            organisation_id: "00000000-0000-4000-8000-000000000001".into(),
            engagement_id: "00000000-0000-4000-8000-000000000002".into(),
            engagement_ref: "ENG-001".into(),
            title: "FY2026 audit".into(),
            kind: "SOC 2 Type 2".into(),
            firm: "Example LLP".into(),
            lead_auditor: "Jane Auditor".into(),
            period_start: "2025-10-01".into(),
            period_end: "2026-09-30".into(),
            status: "reporting".into(),
            opinion: Some("qualified".into()),
            controls: vec![
                control(1, "AC-01", "Access reviews"),
                control(2, "OPS 2", "Change management"),
                control(3, "1.2", "Management review"),
            ],
            tests,
            findings,
            last_modified: "2026-11-25T10:00:00Z".into(),
        }
    }

    fn empty() -> AssessmentDocument {
        AssessmentDocument {
            tests: Vec::new(),
            findings: Vec::new(),
            opinion: None,
            lead_auditor: String::new(),
            status: "planning".into(),
            ..sample()
        }
    }

    fn assert_valid(schema: &[u8], document: &Value) {
        let schema: Value = serde_json::from_slice(schema).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("the OSCAL schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(document)
            .take(10)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    fn strings_under<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == key
                        && let Some(s) = x.as_str()
                    {
                        out.push(s);
                    }
                    strings_under(x, key, out);
                }
            }
            Value::Array(a) => {
                for x in a {
                    strings_under(x, key, out);
                }
            }
            _ => {}
        }
    }

    fn is_token(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    }

    #[test]
    fn assessment_results_validate_against_the_nist_schema() {
        let mut no_controls = empty();
        no_controls.controls.clear();
        for doc in [sample(), empty(), no_controls] {
            assert_valid(AR_SCHEMA, &assessment_results(&doc));
        }
    }

    #[test]
    fn poam_validates_against_the_nist_schema() {
        let mut no_controls = empty();
        no_controls.controls.clear();
        for doc in [sample(), empty(), no_controls] {
            assert_valid(POAM_SCHEMA, &poam(&doc));
        }
    }

    #[test]
    fn results_hold_one_observation_per_test_and_one_finding_per_finding() {
        let ar = assessment_results(&sample());
        let r = &ar["assessment-results"]["results"][0];
        assert_eq!(r["start"], "2025-10-01T00:00:00Z");
        assert_eq!(r["end"], "2026-09-30T23:59:59Z");
        assert_eq!(r["observations"].as_array().unwrap().len(), 2);
        let findings = r["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 3);
        let states: Vec<&Value> = findings
            .iter()
            .map(|f| &f["target"]["status"]["state"])
            .collect();
        assert_eq!(states, ["not-satisfied", "not-satisfied", "satisfied"]);
        assert_eq!(
            findings[0]["related-observations"][0]["observation-uuid"],
            r["observations"][0]["uuid"]
        );
        // F-003 names a test that is not the engagement's: no dangling link.
        assert!(findings[2].get("related-observations").is_none());
        assert_eq!(findings[1]["description"], "No description.");
        let description = r["observations"][0]["description"].as_str().unwrap();
        assert!(description.contains("17, 3, 212"), "{description}");
        assert!(
            description.contains("- Item 3: exception — Access not removed within 24 hours."),
            "{description}"
        );
    }

    #[test]
    fn an_empty_engagement_has_no_observations_or_findings() {
        let ar = assessment_results(&empty());
        let r = &ar["assessment-results"]["results"][0];
        assert!(r.get("observations").is_none());
        assert!(r.get("findings").is_none());
    }

    #[test]
    fn poam_has_one_item_per_finding_that_needs_action() {
        let p = poam(&sample());
        let plan = &p["plan-of-action-and-milestones"];
        let items = plan["poam-items"].as_array().unwrap();
        let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
        assert_eq!(
            titles,
            [
                "F-001: Leaver access removed late",
                "F-002: No management review"
            ]
        );
        assert!(
            items[1]["description"]
                .as_str()
                .unwrap()
                .contains("Nonconformity: NC-007.")
        );
        assert!(
            items[0]["remarks"]
                .as_str()
                .unwrap()
                .starts_with("Management's response: HR")
        );
        assert!(items[1].get("remarks").is_none());
        let findings = plan["findings"].as_array().unwrap();
        assert_eq!(
            items[0]["related-findings"][0]["finding-uuid"],
            findings[0]["uuid"]
        );
        assert_eq!(plan["observations"].as_array().unwrap().len(), 1);
        assert_eq!(
            plan["system-id"]["id"],
            "00000000-0000-4000-8000-000000000001"
        );
    }

    #[test]
    fn poam_of_an_engagement_without_open_findings_says_so() {
        let mut only_observation = sample();
        only_observation
            .findings
            .retain(|f| f.severity == "observation");
        for doc in [empty(), only_observation] {
            let p = poam(&doc);
            let items = p["plan-of-action-and-milestones"]["poam-items"]
                .as_array()
                .unwrap();
            assert_eq!(items.len(), 1);
            assert_eq!(items[0]["title"], "No open findings.");
            assert_valid(POAM_SCHEMA, &p);
        }
    }

    #[test]
    fn exports_are_deterministic_and_ids_follow_the_engagement() {
        let doc = sample();
        assert_eq!(assessment_results(&doc), assessment_results(&doc));
        assert_eq!(poam(&doc), poam(&doc));
        let mut other = sample();
        other.engagement_id = "00000000-0000-4000-8000-000000000003".into();
        assert_ne!(
            assessment_results(&doc)["assessment-results"]["uuid"],
            assessment_results(&other)["assessment-results"]["uuid"]
        );
    }

    #[test]
    fn control_ids_are_tokens() {
        assert_eq!(token("AC-01"), "ac-01");
        assert_eq!(token("OPS 2"), "ops-2");
        assert_eq!(token("1.2"), "_1.2");
        assert_eq!(token("A.5.1"), "a.5.1");
        assert_eq!(token(""), "_");
        let doc = sample();
        for v in [assessment_results(&doc), poam(&doc)] {
            let mut ids = Vec::new();
            strings_under(&v, "control-id", &mut ids);
            strings_under(&v, "target-id", &mut ids);
            assert!(!ids.is_empty());
            for id in ids {
                assert!(is_token(id), "{id} is not an OSCAL token");
            }
        }
        let ar = assessment_results(&doc);
        let mut ids = Vec::new();
        strings_under(&ar, "control-id", &mut ids);
        assert_eq!(ids, ["ac-01", "ops-2", "_1.2"]);
    }
}
