//! Profile resolution on a small catalog: selection, merge and modification.

use attest_catalog::oscal::resolve_profile;
use serde_json::{Value, json};

const CATALOG_HREF: &str = "https://example.com/catalog.json";

fn catalog() -> Value {
    json!({"catalog": {
        "uuid": "0d9a4a1c-6bd3-4a4f-9a5f-33d3f1b1e0a1",
        "metadata": {"title": "Small", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "groups": [
            {"id": "ac", "class": "family", "title": "Access", "controls": [
                {"id": "ac-1", "title": "One",
                 "params": [{"id": "ac-1_prm_1", "label": "frequency"}, {"id": "ac-1_prm_2", "select": {"choice": ["a", "b"]}}],
                 "props": [{"name": "label", "value": "AC-1"}, {"name": "sort-id", "value": "ac-01"}],
                 "links": [{"href": "#11111111-1111-4111-8111-111111111111", "rel": "reference"}],
                 "parts": [
                    {"id": "ac-1_smt", "name": "statement", "prose": "Review {{ insert: param, ac-1_prm_1 }}.", "parts": [
                        {"id": "ac-1_smt.a", "name": "item", "prose": "Item a."}
                    ]},
                    {"id": "ac-1_gdn", "name": "guidance", "prose": "Guidance."}
                 ]},
                {"id": "ac-2", "title": "Two", "controls": [
                    {"id": "ac-2.1", "title": "Two one"},
                    {"id": "ac-2.2", "title": "Two two", "controls": [{"id": "ac-2.2.1", "title": "Deep"}]}
                ]}
            ]},
            {"id": "au", "class": "family", "title": "Audit", "controls": [
                {"id": "au-1", "title": "Audit one", "links": [{"href": "#22222222-2222-4222-8222-222222222222", "rel": "reference"}]}
            ]}
        ],
        "back-matter": {"resources": [
            {"uuid": "11111111-1111-4111-8111-111111111111", "title": "Cited by ac-1"},
            {"uuid": "22222222-2222-4222-8222-222222222222", "title": "Cited by au-1"}
        ]}
    }})
}

fn resolve(body: Value) -> Value {
    let mut profile = json!({
        "uuid": "5a9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c11",
        "metadata": {"title": "Tailored", "last-modified": "2024-01-01T00:00:00Z", "version": "7", "oscal-version": "1.2.1"}
    });
    profile
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    let bytes = json!({ "profile": profile }).to_string();
    resolve_profile(bytes.as_bytes(), &|href| {
        (href == CATALOG_HREF).then(catalog)
    })
    .unwrap_or_else(|p| panic!("{p:#?}"))
}

/// Ids of the controls and groups, nesting shown with brackets.
fn shape(node: &Value) -> String {
    let mut out = Vec::new();
    for field in ["controls", "groups"] {
        for item in node
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let inner = shape(item);
            let id = item["id"].as_str().unwrap();
            out.push(if inner.is_empty() {
                id.to_string()
            } else {
                format!("{id}[{inner}]")
            });
        }
    }
    out.join(" ")
}

#[test]
fn as_is_keeps_groups_and_nesting_and_drops_empty_groups() {
    let resolved = resolve(
        json!({"imports": [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-2", "ac-2.2"]}]}], "merge": {"as-is": true}}),
    );
    assert_eq!(shape(&resolved["catalog"]), "ac[ac-2[ac-2.2]]");
}

#[test]
fn with_child_controls_brings_every_descendant() {
    let resolved = resolve(
        json!({"imports": [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-2"], "with-child-controls": "yes"}]}], "merge": {"as-is": true}}),
    );
    assert_eq!(
        shape(&resolved["catalog"]),
        "ac[ac-2[ac-2.1 ac-2.2[ac-2.2.1]]]"
    );
}

#[test]
fn include_all_less_exclusions_and_matching() {
    let resolved = resolve(
        json!({"imports": [{"href": CATALOG_HREF, "include-all": {}, "exclude-controls": [{"matching": [{"pattern": "ac-2.*"}]}, {"with-ids": ["au-1"]}]}], "merge": {"as-is": true}}),
    );
    assert_eq!(shape(&resolved["catalog"]), "ac[ac-1 ac-2]");
}

#[test]
fn flat_is_the_default_and_unnests() {
    let resolved = resolve(json!({"imports": [{"href": CATALOG_HREF, "include-all": {}}]}));
    assert_eq!(
        shape(&resolved["catalog"]),
        "ac-1 ac-2 ac-2.1 ac-2.2 ac-2.2.1 au-1"
    );
    let flat = resolve(
        json!({"imports": [{"href": CATALOG_HREF, "include-all": {}}], "merge": {"flat": {}}}),
    );
    assert_eq!(shape(&flat["catalog"]), shape(&resolved["catalog"]));
}

#[test]
fn two_imports_of_one_catalog_merge_into_one_group_tree() {
    let resolved = resolve(json!({"imports": [
        {"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-2"]}]},
        {"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1", "ac-2", "ac-2.1"]}]}
    ], "merge": {"as-is": true}}));
    assert_eq!(shape(&resolved["catalog"]), "ac[ac-2[ac-2.1] ac-1]");
}

#[test]
fn metadata_and_back_matter() {
    let resolved = resolve(
        json!({"imports": [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1"]}]}], "merge": {"as-is": true}}),
    );
    let catalog = &resolved["catalog"];
    assert_eq!(catalog["metadata"]["title"], "Tailored");
    assert_eq!(catalog["metadata"]["version"], "7");
    assert_eq!(
        catalog["metadata"]["links"],
        json!([{"href": "#5a9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c11", "rel": "source-profile"}])
    );
    assert_ne!(catalog["uuid"], "0d9a4a1c-6bd3-4a4f-9a5f-33d3f1b1e0a1");
    let uuids: Vec<&str> = catalog["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(
        uuids,
        [
            "11111111-1111-4111-8111-111111111111",
            "5a9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c11"
        ]
    );
}

#[test]
fn set_parameters_and_alters() {
    let resolved = resolve(json!({
        "imports": [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1"]}]}],
        "merge": {"as-is": true},
        "modify": {
            "set-parameters": [
                {"param-id": "ac-1_prm_1", "label": "review frequency", "values": ["annually"]},
                {"param-id": "ac-1_prm_2", "values": ["b"]}
            ],
            "alters": [{"control-id": "ac-1",
                "removes": [{"by-name": "guidance"}, {"by-name": "sort-id", "by-item-name": "prop"}],
                "adds": [
                    {"position": "starting", "props": [{"name": "priority", "value": "P1"}]},
                    {"position": "ending", "parts": [{"name": "guidance", "prose": "Ours."}]},
                    {"position": "after", "by-id": "ac-1_smt.a", "parts": [{"id": "ac-1_smt.b", "name": "item", "prose": "Item b."}]}
                ]}]
        }
    }));
    let control = &resolved["catalog"]["groups"][0]["controls"][0];
    assert_eq!(
        control["params"][0],
        json!({"id": "ac-1_prm_1", "label": "review frequency", "values": ["annually"]})
    );
    assert_eq!(
        control["params"][1],
        json!({"id": "ac-1_prm_2", "values": ["b"]}),
        "a value replaces the selection"
    );
    assert_eq!(
        control["props"],
        json!([{"name": "priority", "value": "P1"}, {"name": "label", "value": "AC-1"}])
    );
    let parts = control["parts"].as_array().unwrap();
    assert_eq!(
        parts
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["statement", "guidance"]
    );
    assert_eq!(parts[1]["prose"], "Ours.");
    assert_eq!(parts[0]["parts"][1]["id"], "ac-1_smt.b");
}

#[test]
fn modifications_of_what_is_not_selected_are_problems() {
    let profile = json!({"profile": {
        "uuid": "5a9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c11",
        "metadata": {"title": "T", "last-modified": "2024-01-01T00:00:00Z", "version": "7", "oscal-version": "1.2.1"},
        "imports": [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1"]}]}],
        "modify": {"set-parameters": [{"param-id": "zz_prm"}], "alters": [{"control-id": "au-1", "adds": [{"props": [{"name": "x", "value": "y"}]}]}, {"control-id": "ac-1", "adds": [{"by-id": "nope", "parts": []}]}]}
    }});
    let problems = resolve_profile(profile.to_string().as_bytes(), &|href| {
        (href == CATALOG_HREF).then(catalog)
    })
    .unwrap_err();
    let at: Vec<&str> = problems.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "profile.modify.alters[1].adds[0].by-id",
            "profile.modify.set-parameters[0].param-id",
            "profile.modify.alters[0].control-id"
        ]
    );
}

#[test]
fn a_profile_may_import_a_profile() {
    let inner = json!({"profile": {
        "uuid": "6b9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c12",
        "metadata": {"title": "Inner", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "imports": [{"href": CATALOG_HREF, "include-controls": [{"with-ids": ["ac-1", "ac-2", "au-1"]}]}],
        "merge": {"as-is": true}
    }});
    let outer = json!({"profile": {
        "uuid": "7c9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c13",
        "metadata": {"title": "Outer", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "imports": [{"href": "inner.json", "exclude-controls": [{"with-ids": ["ac-2"]}], "include-all": {}}],
        "merge": {"as-is": true}
    }});
    let fetch = |href: &str| match href {
        CATALOG_HREF => Some(catalog()),
        "inner.json" => Some(inner.clone()),
        _ => None,
    };
    let resolved = resolve_profile(outer.to_string().as_bytes(), &fetch).unwrap();
    assert_eq!(shape(&resolved["catalog"]), "ac[ac-1] au[au-1]");
    // A profile that imports itself is refused rather than followed for ever.
    let looping = json!({"profile": {"uuid": "8d9f7f0e-4b7e-4d0b-9a43-3f2f4b1d9c14", "metadata": {"title": "L", "version": "1"}, "imports": [{"href": "self.json", "include-all": {}}]}});
    let fetch_self = |href: &str| (href == "self.json").then(|| looping.clone());
    let problems = resolve_profile(looping.to_string().as_bytes(), &fetch_self).unwrap_err();
    assert!(
        problems[0].message.contains("imports itself"),
        "{problems:?}"
    );
}
