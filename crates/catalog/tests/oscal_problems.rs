//! Malformed catalogs and profiles are refused whole, with every problem and where it is.

use attest_catalog::oscal::{parse_catalog, resolve_profile};
use attest_domain::framework::{Origin, Problem};
use serde_json::{Value, json};

fn parse(doc: &[u8]) -> Vec<Problem> {
    parse_catalog(
        doc,
        "test-fw",
        Origin::Imported {
            format: "oscal".into(),
        },
    )
    .expect_err("the catalog must be refused")
}

fn catalog() -> Value {
    json!({"catalog": {
        "uuid": "0d9a4a1c-6bd3-4a4f-9a5f-33d3f1b1e0a1",
        "metadata": {"title": "Small", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "groups": [{"id": "ac", "class": "family", "title": "Access", "controls": [
            {"id": "ac-1", "title": "One"},
            {"id": "ac-2", "title": "Two", "controls": [{"id": "ac-2.1", "title": "Two one"}]}
        ]}]
    }})
}

fn profile(imports: Value) -> Vec<u8> {
    json!({"profile": {
        "uuid": "5a9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c11",
        "metadata": {"title": "P", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "imports": imports,
        "merge": {"as-is": true},
        "back-matter": {"resources": [{"uuid": "9b0e2f1c-1111-4222-8333-444455556666", "rlinks": [{"href": "catalog.json"}]}]}
    }})
    .to_string()
    .into_bytes()
}

fn known(href: &str) -> Option<Value> {
    (href == "catalog.json").then(catalog)
}

#[test]
fn not_json() {
    let problems = parse(b"{\"catalog\": {\"uuid\": ");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].at, "line 1");
    assert!(
        problems[0].message.starts_with("not valid JSON"),
        "{problems:?}"
    );
}

#[test]
fn no_catalog_object() {
    let problems = parse(br#"{"profile": {}}"#);
    assert_eq!(
        problems,
        [Problem::new(
            "catalog",
            "no `catalog` object: an OSCAL catalog is a JSON object {\"catalog\": {…}}"
        )]
    );
    assert_eq!(parse(br#"{"catalog": []}"#)[0].at, "catalog");
}

#[test]
fn each_duplicate_id_is_listed() {
    let mut doc = catalog();
    let controls = doc["catalog"]["groups"][0]["controls"]
        .as_array_mut()
        .unwrap();
    controls.push(json!({"id": "ac-1", "title": "Again"}));
    controls.push(json!({"id": "ac-2.1", "title": "Again"}));
    let problems = parse(doc.to_string().as_bytes());
    assert_eq!(
        problems,
        [
            Problem::new(
                "catalog.groups[0].controls[2].id",
                "duplicate id `ac-1` (first at catalog.groups[0].controls[0].id)"
            ),
            Problem::new(
                "catalog.groups[0].controls[3].id",
                "duplicate id `ac-2.1` (first at catalog.groups[0].controls[1].controls[0].id)"
            ),
        ]
    );
}

#[test]
fn missing_uuid_title_and_bad_ids_are_all_listed() {
    let doc = json!({"catalog": {"metadata": {"version": "1"}, "groups": [{"title": "No id", "controls": [{"id": "1.1", "title": "x"}, {"id": "ok"}]}]}});
    let at: Vec<String> = parse(doc.to_string().as_bytes())
        .into_iter()
        .map(|p| p.at)
        .collect();
    assert_eq!(
        at,
        [
            "catalog.uuid",
            "catalog.metadata.title",
            "catalog.groups[0].id",
            "catalog.groups[0].controls[0].id",
            "catalog.groups[0].controls[1].title"
        ]
    );
}

#[test]
fn a_profile_importing_an_unknown_href() {
    let problems = resolve_profile(
        &profile(json!([{"href": "https://example.com/missing.json", "include-all": {}}])),
        &known,
    )
    .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].at, "profile.imports[0].href");
    assert!(
        problems[0]
            .message
            .contains("unknown import `https://example.com/missing.json`"),
        "{problems:?}"
    );
    // A back-matter reference that no document answers to is unknown too.
    let problems = resolve_profile(
        &profile(json!([{"href": "#9b0e2f1c-1111-4222-8333-444455556666", "include-all": {}}])),
        &|_| None,
    )
    .unwrap_err();
    assert_eq!(problems[0].at, "profile.imports[0].href");
}

#[test]
fn a_profile_selecting_ids_the_catalog_lacks() {
    let imports = json!([
        {"href": "#9b0e2f1c-1111-4222-8333-444455556666", "include-controls": [{"with-ids": ["ac-1", "zz-9", "ac-2.1", "qq-1"]}]},
        {"href": "nowhere.json", "include-all": {}}
    ]);
    let problems = resolve_profile(&profile(imports), &known).unwrap_err();
    let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "profile.imports[0].include-controls[0].with-ids[1]",
            "profile.imports[0].include-controls[0].with-ids[3]",
            "profile.imports[1].href"
        ]
    );
    assert!(
        problems[0].message.contains("`zz-9` is not a control"),
        "{problems:?}"
    );
}

#[test]
fn a_malformed_profile() {
    assert_eq!(
        resolve_profile(b"[1, 2", &known).unwrap_err()[0].at,
        "line 1"
    );
    assert_eq!(
        resolve_profile(br#"{"catalog": {}}"#, &known).unwrap_err()[0].at,
        "profile"
    );
    let problems = resolve_profile(
        br#"{"profile": {"imports": [{"include-all": {}}], "merge": {"custom": {}}}}"#,
        &known,
    )
    .unwrap_err();
    let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "profile.uuid",
            "profile.metadata",
            "profile.merge.custom",
            "profile.imports[0].href"
        ]
    );
}
