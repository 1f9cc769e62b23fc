//! Bad input is rejected whole, with every problem and where it is.

mod formats_support;

use attest_catalog::formats::{
    MappingMeta, check_mapping_set, export_xlsx, parse_framework_csv, parse_framework_xlsx,
    parse_framework_yaml, parse_mapping_csv, parse_mapping_yaml, parse_mapping_yaml_checked,
};
use attest_domain::framework::Origin;
use formats_support::{ISO_2013, ISO_2022, MAP_ISO_2013_2022, load, texts};

fn yaml_problems(text: &str) -> Vec<String> {
    texts(
        &parse_framework_yaml(
            text,
            Origin::Imported {
                format: "yaml".into(),
            },
        )
        .unwrap_err(),
    )
}

fn csv_problems(text: &str) -> Vec<String> {
    texts(
        &parse_framework_csv(
            text,
            Origin::Imported {
                format: "csv".into(),
            },
        )
        .unwrap_err(),
    )
}

const HEAD: &str = "id: my-fw\nname: My framework\nversion: \"1\"\npublisher: Us\nrequirements:\n";

#[test]
fn yaml_syntax_error_names_its_line() {
    let text = format!("{HEAD}  - id: a\n    kind: control\n    title: [unclosed\n  - id: b\n");
    let problems = yaml_problems(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with("line 9: "), "{problems:#?}");
}

#[test]
fn yaml_reports_every_problem_at_once() {
    let text = format!(
        "{HEAD}  - {{id: a, kind: control, title: A}}
  - {{id: a, kind: control, title: A again}}
  - {{id: b, parent: nowhere, kind: control, title: B}}
  - {{id: c, parent: d, kind: control, title: C}}
  - {{id: d, parent: c, kind: control, title: D}}
  - {{id: e, kind: control}}
  - {{id: f, kind: control, title: F, assessable: maybe}}
  - {{id: g, kind: control, title: G, weight: 1.10}}
  - {{kind: control, title: no id}}
  - {{id: b, kind: control, title: B again}}
"
    );
    assert_eq!(
        yaml_problems(&text),
        [
            "requirements[6] (f): `assessable` must be true or false, not \"maybe\"",
            "requirements[7] (g): `weight` is read as the number 1.1; put it in quotes",
            "requirements[8]: the requirement has no id",
            "requirements[1] (a): duplicate id `a` (first at requirements[0] (a))",
            "requirements[2] (b): parent `nowhere` of `b` does not exist",
            "requirements[3] (c): `c` is part of a cycle of parents",
            "requirements[5] (e): requirement `e` has no title",
            "requirements[9] (b): duplicate id `b` (first at requirements[2] (b))",
        ]
    );
}

#[test]
fn yaml_reports_unknown_keys_and_missing_metadata() {
    let problems = yaml_problems("name: X\nversoin: \"1\"\nrequirements: []\n");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("versoin: unknown key `versoin`")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("id: `` is not a valid framework id")),
        "{problems:#?}"
    );
    assert!(
        problems.contains(&"version: the framework has no version".to_owned()),
        "{problems:#?}"
    );
    assert!(
        problems.contains(&"requirements: the framework has no requirements".to_owned()),
        "{problems:#?}"
    );
}

const CSV_HEAD: &str = "# id: my-fw\n# name: My framework\n# version: 1\n";

#[test]
fn csv_reports_field_counts_and_duplicates_with_their_lines() {
    let text = format!(
        "{CSV_HEAD}id,parent,title,assessable\na,,A,\nb,a,B\nc,a,C,maybe\na,,A twice,\n,,no id,\nd,b,D,,extra\ne,d,E,\n"
    );
    assert_eq!(
        csv_problems(&text),
        [
            "line 6: has 3 fields, but the header has 4",
            "line 7: `assessable` must be true or false, not `maybe`",
            "line 9: the requirement has no id",
            "line 10: has 5 fields, but the header has 4",
            "line 8: duplicate id `a` (first at line 5)",
        ]
    );
}

#[test]
fn csv_without_an_id_column_is_rejected() {
    let problems = csv_problems(&format!("{CSV_HEAD}ref,title\na,A\n"));
    assert_eq!(problems, ["line 4: there is no `id` column"]);
    let problems = csv_problems("id,title\na,A\n");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("line 1: `` is not a valid framework id")),
        "{problems:#?}"
    );
    assert!(
        problems.contains(&"line 1: the framework has no name".to_owned()),
        "{problems:#?}"
    );
}

#[test]
fn xlsx_without_a_sheet_or_with_an_empty_id_is_rejected() {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet()
        .set_name("Sheet1")
        .unwrap()
        .write_string(0, 0, "id")
        .unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let problems = texts(&parse_framework_xlsx(&bytes, Origin::BuiltIn).unwrap_err());
    assert_eq!(
        problems,
        [
            "workbook: there is no sheet named `framework` (the sheets are: Sheet1)",
            "workbook: there is no sheet named `requirements` (the sheets are: Sheet1)",
        ]
    );

    let mut f = load(ISO_2022);
    f.requirements[6].id = "   ".into();
    let bytes = export_xlsx(&f).unwrap();
    let problems = texts(&parse_framework_xlsx(&bytes, Origin::BuiltIn).unwrap_err());
    assert!(
        problems.contains(&"requirements row 8: the requirement has no id".to_owned()),
        "{problems:#?}"
    );

    let problems = texts(&parse_framework_xlsx(b"not a zip", Origin::BuiltIn).unwrap_err());
    assert!(
        problems[0].starts_with("workbook: not a readable XLSX workbook"),
        "{problems:#?}"
    );
}

#[test]
fn mapping_yaml_reports_a_bad_relationship_and_an_unknown_target_together() {
    let text = "id: a_to_b\nname: A to B\nsource_framework: iso27001-2013\ntarget_framework: iso27001-2022\n\
authority: Attest\ndate: \"2026-11-23\"\nlinks:\n\
  - {source: A.5.1.1, target: A.5.1, rel: related}\n\
  - {source: A.5.1.2, target: A.5.99, rel: equal}\n";
    let problems =
        texts(&parse_mapping_yaml_checked(text, &load(ISO_2013), &load(ISO_2022)).unwrap_err());
    assert_eq!(
        problems,
        [
            "links[0]: unknown relationship `related` (expected equal, subset-of, superset-of, intersects-with or not-related)",
            "links[1]: target `A.5.99` is not a requirement of iso27001-2022",
        ]
    );
    let alone = texts(&parse_mapping_yaml(text).unwrap_err());
    assert_eq!(alone, problems[..1]);
}

#[test]
fn mapping_yaml_reports_every_missing_field() {
    let problems = texts(
        &parse_mapping_yaml("id: Bad Id\ndate: 2026-13-01\nlinks:\n  - {source: x}\n").unwrap_err(),
    );
    assert_eq!(
        problems,
        [
            "name: `name` is missing or blank",
            "source_framework: `source_framework` is missing or blank",
            "target_framework: `target_framework` is missing or blank",
            "authority: `authority` is missing or blank",
            "links[0]: `target` is missing or blank",
            "links[0]: `rel` is missing or blank",
            "id: `Bad Id` is not a valid id: use 2 to 64 lower-case letters, digits, dots, hyphens or underscores",
            "date: `2026-13-01` is not a date written YYYY-MM-DD",
        ]
    );
}

#[test]
fn check_reports_an_unknown_source_id() {
    let mut set = parse_mapping_yaml(MAP_ISO_2013_2022).unwrap();
    set.links[7].source = "A.99.1.1".into();
    let problems = texts(&check_mapping_set(&set, &load(ISO_2013), &load(ISO_2022)));
    assert_eq!(
        problems,
        ["links[7]: source `A.99.1.1` is not a requirement of iso27001-2013"]
    );
}

#[test]
fn mapping_csv_reports_each_bad_line() {
    let meta = MappingMeta {
        id: "x_to_y".into(),
        name: "X to Y".into(),
        source_framework: "fw-x".into(),
        target_framework: "fw-y".into(),
        authority: "NIST".into(),
        reference: "test".into(),
        date: "2024-01-01".into(),
    };
    let text = "source_framework,source_id,target_framework,target_id,relationship\n\
X,a,Y,b,intersect\n\
X,,Y,b,intersect\n\
X,a,Y,c,overlaps\n\
X,a,Y\n\
Z,a,Y,d,subset\n";
    assert_eq!(
        texts(&parse_mapping_csv(text, meta.clone()).unwrap_err()),
        [
            "line 3: `source_id` is empty",
            "line 4: unknown relationship `overlaps` (expected equal, subset-of, superset-of, intersects-with or not-related)",
            "line 5: has 3 fields, but the header has 5",
            "line 6: maps `Z` to `Y`, but line 2 maps `X` to `Y`",
        ]
    );
    let missing = texts(&parse_mapping_csv("source,target\na,b\n", meta).unwrap_err());
    assert_eq!(
        missing,
        [
            "line 1: there is no `source_id` column",
            "line 1: there is no `target_id` column",
            "line 1: there is no `relationship` column",
        ]
    );
}
