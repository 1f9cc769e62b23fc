//! Frameworks as XLSX workbooks: a sheet `framework` of `key | value` rows and a sheet
//! `requirements` with the same columns as the CSV format.

use std::io::Cursor;

use attest_domain::framework::{Framework, Origin, Problem};
use calamine::{Data, Range, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::table::{self, Entry, Row, Table};

const META_SHEET: &str = "framework";
const REQUIREMENTS_SHEET: &str = "requirements";

/// Reads a framework from an XLSX workbook; problems name the sheet and row.
pub fn parse_framework_xlsx(bytes: &[u8], origin: Origin) -> Result<Framework, Vec<Problem>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        vec![Problem::new(
            "workbook",
            format!("not a readable XLSX workbook: {e}"),
        )]
    })?;
    let mut problems = Vec::new();
    let meta = sheet(&mut book, META_SHEET, &mut problems);
    let requirements = sheet(&mut book, REQUIREMENTS_SHEET, &mut problems);
    let (Some(meta), Some(requirements)) = (meta, requirements) else {
        return Err(problems);
    };
    let meta = read_meta(&meta, &mut problems);
    let mut rows = read_rows(&requirements, &mut problems).into_iter();
    let table = Table {
        meta,
        meta_at: format!("{META_SHEET} sheet"),
        header: rows.next(),
        rows: rows.collect(),
    };
    table::framework_from_table(table, origin, problems)
}

/// A sheet's cells, or `None` with a problem when the workbook has no such sheet.
fn sheet(
    book: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Range<Data>> {
    if !book.sheet_names().iter().any(|n| n == name) {
        let names = book.sheet_names().join(", ");
        problems.push(Problem::new(
            "workbook",
            format!("there is no sheet named `{name}` (the sheets are: {names})"),
        ));
        return None;
    }
    book.worksheet_range(name)
        .map_err(|e| {
            problems.push(Problem::new(
                format!("{name} sheet"),
                format!("unreadable: {e}"),
            ))
        })
        .ok()
}

/// The rows of a sheet as text, each with its spreadsheet row number (1-based, as Excel shows).
fn text_rows<'a>(
    range: &'a Range<Data>,
    sheet: &'a str,
    problems: &'a mut Vec<Problem>,
) -> impl Iterator<Item = (u32, Vec<String>)> + 'a {
    // A range starts at its first used cell, which need not be A1.
    let (first_row, _) = range.start().unwrap_or((0, 0));
    range
        .rows()
        .zip(first_row + 1..)
        .map(move |(cells, number)| {
            let texts = cells
                .iter()
                .map(|cell| {
                    cell_text(cell).unwrap_or_else(|e| {
                        problems.push(Problem::new(format!("{sheet} row {number}"), e));
                        String::new()
                    })
                })
                .collect();
            (number, texts)
        })
}

/// A cell as text. Numbers typed into a sheet come back as floats; whole ones are written
/// without a fraction so that `1` stays `1`.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            return Err("a cell holds a date or time; format the column as text".to_owned());
        }
        Data::Error(e) => return Err(format!("a cell holds the spreadsheet error {e}")),
    })
}

/// `key | value` rows; a first row `key | value` is the header.
fn read_meta(range: &Range<Data>, problems: &mut Vec<Problem>) -> Vec<Entry> {
    let rows: Vec<_> = text_rows(range, META_SHEET, problems).collect();
    let mut entries = Vec::new();
    for (i, (number, cells)) in rows.into_iter().enumerate() {
        let key = cells
            .first()
            .map(|k| k.trim().to_owned())
            .unwrap_or_default();
        if key.is_empty() || (i == 0 && key.eq_ignore_ascii_case("key")) {
            continue;
        }
        let value = cells.get(1).cloned().unwrap_or_default();
        entries.push(Entry {
            key,
            value,
            at: format!("{META_SHEET} row {number}"),
        });
    }
    entries
}

/// The header row and the requirement rows, each as wide as the header; empty rows are skipped.
fn read_rows(range: &Range<Data>, problems: &mut Vec<Problem>) -> Vec<Row> {
    let rows: Vec<_> = text_rows(range, REQUIREMENTS_SHEET, problems).collect();
    let mut out: Vec<Row> = Vec::new();
    let mut width = 0;
    for (number, mut cells) in rows {
        let at = format!("{REQUIREMENTS_SHEET} row {number}");
        let used = cells
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |last| last + 1);
        if used == 0 {
            continue;
        }
        if out.is_empty() {
            width = used;
        } else if used > width {
            problems.push(Problem::new(
                &at,
                format!("has values beyond the last named column ({width})"),
            ));
        }
        cells.resize(width, String::new());
        out.push(Row { at, cells });
    }
    out
}

/// Writes a framework as an XLSX workbook that `parse_framework_xlsx` reads back.
pub fn export_xlsx(framework: &Framework) -> Result<Vec<u8>, String> {
    build_workbook(framework).map_err(|e| format!("could not write the workbook: {e}"))
}

fn build_workbook(framework: &Framework) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let meta = book.add_worksheet().set_name(META_SHEET)?;
    write_header(meta, &["key", "value"], &bold)?;
    for (row, (key, value)) in (1..).zip(table::meta_of(framework)) {
        meta.write_string(row, 0, key)?;
        meta.write_string(row, 1, value)?;
    }
    meta.set_column_width(0, 14)?;
    meta.set_column_width(1, 100)?;

    let (header, rows) = table::rows_of(framework);
    let sheet = book.add_worksheet().set_name(REQUIREMENTS_SHEET)?;
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    write_header(sheet, &names, &bold)?;
    for (row, cells) in (1..).zip(&rows) {
        for (col, (name, cell)) in (0..).zip(names.iter().zip(cells)) {
            match *name {
                // Real booleans, so that a filter offers TRUE and FALSE.
                "assessable" | "withdrawn" => sheet.write_boolean(row, col, cell == "true")?,
                _ if cell.is_empty() => sheet,
                _ => sheet.write_string(row, col, cell)?,
            };
        }
    }
    let last_col = u16::try_from(names.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    sheet.autofilter(0, 0, last_row, last_col)?;
    for (col, name) in (0..).zip(&names) {
        sheet.set_column_width(col, column_width(name))?;
    }
    book.save_to_buffer()
}

/// A bold header row that stays in view while scrolling.
fn write_header(sheet: &mut Worksheet, names: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (col, name) in (0..).zip(names) {
        sheet.write_string_with_format(0, col, *name, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Widths in characters: room for a title and the start of a text, narrow flags.
fn column_width(name: &str) -> f64 {
    match name {
        "id" | "parent" | "kind" | "assessable" | "withdrawn" => 12.0,
        "title" => 50.0,
        "text" => 80.0,
        _ => 16.0,
    }
}
