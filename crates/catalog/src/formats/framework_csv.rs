//! Frameworks as CSV: `# key: value` comment lines with the metadata, then a header row and
//! one row per requirement.

use attest_domain::framework::{Framework, Origin, Problem};

use super::table::{self, Entry, Row, Table};

/// Reads a framework from CSV; problems name the line (`line 7: …`).
pub fn parse_framework_csv(text: &str, origin: Origin) -> Result<Framework, Vec<Problem>> {
    // Spreadsheets often save CSV with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut problems = Vec::new();
    let (meta, body, body_line) = split_metadata(text, &mut problems);
    let mut rows = read_rows(body, body_line, &mut problems).into_iter();
    let table = Table {
        meta,
        meta_at: "line 1".to_owned(),
        header: rows.next(),
        rows: rows.collect(),
    };
    table::framework_from_table(table, origin, problems)
}

/// Splits off the leading comment and blank lines: the metadata entries they hold, the rest of
/// the text, and the line number the rest starts on.
fn split_metadata<'a>(text: &'a str, problems: &mut Vec<Problem>) -> (Vec<Entry>, &'a str, u64) {
    let mut meta = Vec::new();
    let mut offset = 0;
    let mut line_no = 1;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\r', '\n']);
        let trimmed = content.trim_start();
        // A comment with a comma or a quote was written as a quoted field (see `meta_line`).
        let comment = if trimmed.starts_with("\"#") {
            match unquote(trimmed) {
                Some(c) => Some(c),
                None => {
                    problems.push(Problem::new(
                        format!("line {line_no}"),
                        "a quoted comment line is not closed",
                    ));
                    Some(String::new())
                }
            }
        } else if trimmed.starts_with('#') || trimmed.is_empty() {
            Some(trimmed.to_owned())
        } else {
            None
        };
        let Some(comment) = comment else { break };
        if let Some((key, value)) = comment.strip_prefix('#').and_then(|c| c.split_once(':')) {
            let key = key.trim();
            // Other comments (`# Exported by …`) are just comments.
            if table::META_KEYS.contains(&key) {
                meta.push(Entry {
                    key: key.to_owned(),
                    value: unescape(value.trim()),
                    at: format!("line {line_no}"),
                });
            }
        }
        offset += line.len();
        line_no += 1;
    }
    (meta, &text[offset..], line_no)
}

/// Every record of the body, with its line; wrong field counts are left to the table check.
fn read_rows(body: &str, first_line: u64, problems: &mut Vec<Problem>) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line) + first_line - 1;
                rows.push(Row {
                    at: format!("line {line}"),
                    cells: record.iter().map(unguard).collect(),
                });
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line) + first_line - 1;
                problems.push(Problem::new(
                    format!("line {line}"),
                    format!("unreadable CSV: {e}"),
                ));
            }
        }
    }
    rows
}

/// The text of a line that is one quoted CSV field, or `None` when the quote is not closed.
fn unquote(line: &str) -> Option<String> {
    let inner = line.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.replace("\"\"", "\""))
}

/// Metadata values live on one line: a line break is written `\n` and a backslash `\\`.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            // Anything else (`C:\temp`) was not an escape: keep it as written.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Whether a spreadsheet would run the text as a formula (OWASP's list of leading characters).
fn is_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Prefixes a cell a spreadsheet would run as a formula with a single quote. Quotes already in
/// front are counted in, so that reading back (`unguard`) removes exactly the one added.
fn guard(cell: &str) -> String {
    if is_formula(cell.trim_start_matches('\'')) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn unguard(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if is_formula(rest.trim_start_matches('\'')) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// One `# key: value` line; quoted as a single field when a spreadsheet would otherwise split
/// it into cells (and might run the part after a comma as a formula).
fn meta_line(key: &str, value: &str) -> String {
    let line = format!("# {key}: {}", escape(value));
    if line.contains([',', ';', '"', '\t']) {
        format!("\"{}\"", line.replace('"', "\"\""))
    } else {
        line
    }
}

/// Writes a framework as CSV in the layout `parse_framework_csv` reads; formula-like cells
/// are prefixed with a single quote so that a spreadsheet shows them as text.
pub fn export_csv(framework: &Framework) -> String {
    let mut out = String::new();
    for (key, value) in table::meta_of(framework) {
        out.push_str(&meta_line(key, value));
        out.push('\n');
    }
    let (header, rows) = table::rows_of(framework);
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for record in std::iter::once(header).chain(rows) {
        writer
            .write_record(record.iter().map(|cell| guard(cell)))
            .expect("writing CSV to memory cannot fail");
    }
    let bytes = writer
        .into_inner()
        .expect("writing CSV to memory cannot fail");
    out.push_str(&String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_and_escape_are_undone_exactly() {
        for text in [
            "=1+1", "'=1", "''@x", "'plain", "-", "+", "\tx", "plain", "", "'", "a,b",
        ] {
            assert_eq!(unguard(&guard(text)), text, "{text:?}");
            assert!(!is_formula(&guard(text)), "{text:?}");
        }
        for text in ["a\nb", "C:\\temp", "\\n is not a break", "end\\", "\r\n"] {
            assert_eq!(unescape(&escape(text)), text, "{text:?}");
            assert!(!escape(text).contains('\n'), "{text:?}");
        }
    }
}
