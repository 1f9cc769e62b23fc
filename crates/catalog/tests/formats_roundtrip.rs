//! Writing a framework and reading it back gives the same framework, in every format; CSV
//! cells a spreadsheet would run as formulas are written as text.

mod formats_support;

use attest_catalog::formats::{
    export_csv, export_xlsx, framework_to_yaml, parse_framework_csv, parse_framework_xlsx,
    parse_framework_yaml,
};
use attest_domain::framework::{Framework, Origin};
use formats_support::{CIS_V8, CSF_11, ISO_2013, ISO_2022, SOC2, load, texts};

fn imported(format: &str) -> Origin {
    Origin::Imported {
        format: format.into(),
    }
}

/// The same framework as if it had been imported from a file of `format`.
fn as_imported(framework: &Framework, format: &str) -> Framework {
    Framework {
        origin: imported(format),
        ..framework.clone()
    }
}

/// A framework with the awkward values: formula-like cells, quotes, commas, line breaks,
/// numbers that must stay text, a withdrawn item, explicit `assessable`, props named like
/// columns, and metadata that needs escaping.
fn awkward() -> Framework {
    let mut f = load(SOC2);
    f.description = "Line one, with a comma; \"quotes\"\nline two \\ backslash, C:\\temp".into();
    f.profile_of = Some("soc2-base".into());
    let r = &mut f.requirements[1];
    r.title = "=HYPERLINK(\"http://evil\",\"x\")".into();
    r.text = Some("+1 and a\nsecond line, \"quoted\"".into());
    r.props.insert("text".into(), "a prop named text".into());
    r.props.insert("sort-id".into(), "1.10".into());
    r.props.insert("note".into(), "'=already quoted".into());
    f.requirements[2].title = "-starts with a minus".into();
    f.requirements[3].title = "@SUM(A1)".into();
    f.requirements[3].withdrawn = true;
    f.requirements[4].title = "'plain quote".into();
    f.requirements[0].assessable = true;
    f.requirements[5].props.insert("ig".into(), "1".into());
    f
}

#[test]
fn yaml_round_trips_every_catalog() {
    for text in [ISO_2022, ISO_2013, SOC2, CIS_V8, CSF_11] {
        let first = load(text);
        let yaml = framework_to_yaml(&first);
        let second = parse_framework_yaml(&yaml, Origin::BuiltIn)
            .unwrap_or_else(|p| panic!("{:#?}\n{yaml}", texts(&p)));
        assert_eq!(second, first);
        assert_eq!(framework_to_yaml(&second), yaml);
    }
    let f = awkward();
    let back = parse_framework_yaml(&framework_to_yaml(&f), Origin::BuiltIn).unwrap();
    assert_eq!(back, f);
}

#[test]
fn yaml_output_reads_like_the_built_in_files() {
    let yaml = framework_to_yaml(&load(CIS_V8));
    assert!(
        yaml.contains("- id: \"1.1\"\n  parent: \"1\"\n  kind: safeguard\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  ig: \"1\"\n"), "{yaml}");
    // Containers are not assessable by default, so it is not written.
    assert!(!yaml.contains("assessable"), "{yaml}");
}

#[test]
fn csv_export_then_import_is_the_identity() {
    for f in [load(ISO_2022), load(CIS_V8), awkward()] {
        let csv = export_csv(&f);
        let back = parse_framework_csv(&csv, imported("csv"))
            .unwrap_or_else(|p| panic!("{:#?}\n{csv}", texts(&p)));
        assert_eq!(back, as_imported(&f, "csv"));
        assert_eq!(export_csv(&back), csv);
    }
}

#[test]
fn xlsx_export_then_import_is_the_identity() {
    for f in [load(ISO_2022), awkward()] {
        let bytes = export_xlsx(&f).unwrap();
        let back = parse_framework_xlsx(&bytes, imported("xlsx"))
            .unwrap_or_else(|p| panic!("{:#?}", texts(&p)));
        assert_eq!(back, as_imported(&f, "xlsx"));
    }
}

#[test]
fn csv_cells_that_would_run_as_formulas_are_prefixed() {
    let csv = export_csv(&awkward());
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","),
        "{csv}"
    );
    assert!(csv.contains(",'-starts with a minus,"), "{csv}");
    assert!(csv.contains(",'@SUM(A1),"), "{csv}");
    assert!(csv.contains("\"'+1 and a\nsecond line"), "{csv}");
    // A quote already in front of a formula gets one more, so reading back removes one.
    assert!(csv.contains(",''=already quoted"), "{csv}");
    // Text that only starts with a quote is left alone.
    assert!(csv.contains(",'plain quote,"), "{csv}");
    // No cell of any line starts a formula.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unguarded cell {cell:?}"
            );
        }
    }
    // The metadata line with a comma is one quoted field, so nothing after the comma is a cell.
    assert!(csv.contains("\"# description: Line one, with a comma; \"\"quotes\"\"\\nline two \\\\ backslash, C:\\\\temp\"\n"), "{csv}");
}

#[test]
fn csv_layout_is_metadata_comments_then_a_header() {
    let csv = export_csv(&load(ISO_2022));
    let lines: Vec<&str> = csv.lines().take(6).collect();
    assert_eq!(
        &lines[..4],
        [
            "# id: iso27001-2022",
            "# name: ISO/IEC 27001:2022",
            "# version: 2022",
            "# publisher: ISO/IEC"
        ]
    );
    assert!(
        lines[4].starts_with("\"# description: Requirements for"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[5], "id,parent,kind,title,text,assessable");
}

#[test]
fn csv_reads_what_a_spreadsheet_saves() {
    // Byte order mark, CRLF line ends, a free comment, capitalised headers, yes/no flags,
    // blank lines and a column that becomes a prop.
    let text = "\u{feff}# Exported from our GRC sheet\r\n# id: acme-policy\r\n# name: ACME policy\r\n\
# version: 3\r\n\r\nID,Parent,Title,Assessable,Owner\r\nP1,,Access,no,\r\n\r\nP1.1,P1,\"Keys, tokens\",yes,IT\r\nP1.2,P1,Reviews,,HR\r\n";
    let f =
        parse_framework_csv(text, imported("csv")).unwrap_or_else(|p| panic!("{:#?}", texts(&p)));
    assert_eq!(
        (f.id.as_str(), f.name.as_str(), f.version.as_str()),
        ("acme-policy", "ACME policy", "3")
    );
    let ids: Vec<&str> = f.requirements.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["P1", "P1.1", "P1.2"]);
    assert_eq!(f.requirements[1].title, "Keys, tokens");
    assert_eq!(f.requirements[1].kind, "requirement");
    assert_eq!(
        f.requirements[1].props.get("Owner").map(String::as_str),
        Some("IT")
    );
    assert!(f.requirements[0].props.is_empty());
    let assessable: Vec<bool> = f.requirements.iter().map(|r| r.assessable).collect();
    assert_eq!(assessable, [false, true, true]);
}
