//! The risk register as a sheet (CSV or XLSX): exported with its derived scores for people to
//! filter, imported back all or nothing, matched to existing risks by reference.

use std::collections::HashMap;
use std::io::Cursor;

use attest_domain::framework::Problem;
use attest_domain::risk::{RiskStatus, Treatment};
use attest_store::control as store_ctl;
use attest_store::risk as store_risk;
use attest_store::user as store_user;
use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;

use crate::risk::{RiskFilter, RiskInput};
use crate::{App, AppError, AppResult, Caller, Permission};

/// The columns a sheet is read from, in the order they are written.
pub const COLUMNS: [&str; 16] = [
    "ref",
    "title",
    "description",
    "threat",
    "vulnerability",
    "owner",
    "inherent_likelihood",
    "inherent_impact",
    "residual_likelihood",
    "residual_impact",
    "treatment",
    "treatment_plan",
    "treatment_due",
    "status",
    "assets",
    "controls",
];
/// Columns written for people and ignored on import: they are derived from the others.
pub const DERIVED: [&str; 5] = [
    "inherent_score",
    "residual_score",
    "residual_level",
    "needs_decision",
    "acceptance",
];
/// The largest sheet accepted.
pub const SHEET_LIMIT: usize = 16 * 1024 * 1024;
const SHEET_NAME: &str = "risks";

/// A sheet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// Comma-separated values, UTF-8.
    Csv,
    /// An Excel workbook with a sheet `risks`.
    Xlsx,
}

impl SheetFormat {
    /// The format a file name's extension says.
    pub fn of_name(name: &str) -> AppResult<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Ok(SheetFormat::Csv)
        } else if lower.ends_with(".xlsx") {
            Ok(SheetFormat::Xlsx)
        } else {
            Err(AppError::invalid(
                "file",
                format!("{name}: give a .csv or .xlsx file"),
            ))
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// Risks added.
    pub created: usize,
    /// Risks changed.
    pub updated: usize,
    /// Rows that matched their risk already.
    pub unchanged: usize,
}

/// One row of cells and where it is (`line 3`, `row 3`).
struct Row {
    at: String,
    cells: HashMap<&'static str, String>,
}

/// Rows of cells, each with its line or row number, the header first.
fn rows_of_table(table: Vec<(u64, Vec<String>)>, unit: &str) -> Result<Vec<Row>, Vec<Problem>> {
    let mut it = table.into_iter();
    let Some((header_at, header)) = it.next() else {
        return Err(vec![Problem::new(
            format!("{unit} 1"),
            "the sheet is empty: give a header row",
        )]);
    };
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut problems = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        if let Some(c) = COLUMNS.iter().find(|c| **c == name) {
            index.insert(c, i);
        } else if !DERIVED.contains(&name.as_str()) && !name.is_empty() {
            problems.push(Problem::new(
                format!("{unit} {header_at}"),
                format!(
                    "unknown column `{name}` (the columns are: {})",
                    COLUMNS.join(", ")
                ),
            ));
        }
    }
    for required in ["ref", "title", "inherent_likelihood", "inherent_impact"] {
        if !index.contains_key(required) {
            problems.push(Problem::new(
                format!("{unit} {header_at}"),
                format!("the column `{required}` is missing"),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(it
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(n, cells)| Row {
            at: format!("{unit} {n}"),
            cells: index
                .iter()
                .map(|(name, col)| (*name, cells.get(*col).cloned().unwrap_or_default()))
                .collect(),
        })
        .collect())
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Row>, Vec<Problem>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| vec![Problem::new("file", format!("not UTF-8 text: {e}"))])?;
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The line a record starts on as an editor counts it (the reader skips blank lines
    // without counting them).
    let line_at = |p: Option<&csv::Position>| {
        let bytes = text.as_bytes();
        let mut at = p.map_or(0, |p| p.byte() as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        bytes[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1
    };
    let mut table = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            vec![Problem::new(
                format!("line {}", line_at(e.position())),
                e.to_string(),
            )]
        })?;
        table.push((
            line_at(rec.position()),
            rec.iter().map(str::to_owned).collect(),
        ));
    }
    rows_of_table(table, "line")
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Row>, Vec<Problem>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        vec![Problem::new(
            "workbook",
            format!("not a readable XLSX workbook: {e}"),
        )]
    })?;
    let names = book.sheet_names();
    let name = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(SHEET_NAME))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| vec![Problem::new("workbook", "the workbook has no sheet")])?;
    let range = book.worksheet_range(&name).map_err(|e| {
        vec![Problem::new(
            format!("{name} sheet"),
            format!("unreadable: {e}"),
        )]
    })?;
    let first = range.start().map_or(0, |(row, _)| u64::from(row));
    let table = range
        .rows()
        .zip(first + 1..)
        .map(|(r, n)| {
            let cells = r
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
                    Data::DateTime(d) => excel_day(d.as_f64()).unwrap_or_else(|| c.to_string()),
                    other => other.to_string(),
                })
                .collect();
            (n, cells)
        })
        .collect();
    rows_of_table(table, "row")
}

/// A spreadsheet's date serial as a day (`YYYY-MM-DD`): day 0 is 30 December 1899.
fn excel_day(serial: f64) -> Option<String> {
    let epoch = time::Date::from_calendar_date(1899, time::Month::December, 30).ok()?;
    let days = i32::try_from(serial.floor() as i64).ok()?;
    let day = time::Date::from_julian_day(epoch.to_julian_day().checked_add(days)?).ok()?;
    Some(attest_domain::evidence::day_text(day))
}

fn list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl App {
    /// The risk register as a sheet: the importable columns, then the derived ones.
    pub async fn export_risks(&self, caller: &Caller, format: SheetFormat) -> AppResult<Vec<u8>> {
        let org = caller.require(Permission::ProgramRead)?;
        let reg = self.risk_register(caller, &RiskFilter::default()).await?;
        let assets: HashMap<String, String> = store_risk::assets(&self.store, org)
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let controls: HashMap<String, String> = store_ctl::list(&self.store, org)
            .await?
            .into_iter()
            .map(|c| (c.id, c.reference))
            .collect();
        let emails: HashMap<attest_domain::UserId, String> = store_user::members(&self.store, org)
            .await?
            .into_iter()
            .map(|m| (m.user.id, m.user.email))
            .collect();
        let rows: Vec<Vec<String>> = reg
            .risks
            .iter()
            .map(|r| {
                let k = &r.risk;
                let names = |ids: &[String], by: &HashMap<String, String>| {
                    let mut v: Vec<String> =
                        ids.iter().filter_map(|i| by.get(i).cloned()).collect();
                    v.sort();
                    v.join("; ")
                };
                vec![
                    k.reference.clone(),
                    k.title.clone(),
                    k.description.clone(),
                    k.threat.clone(),
                    k.vulnerability.clone(),
                    k.owner_id
                        .and_then(|u| emails.get(&u).cloned())
                        .unwrap_or_default(),
                    k.inherent.likelihood.to_string(),
                    k.inherent.impact.to_string(),
                    k.residual.likelihood.to_string(),
                    k.residual.impact.to_string(),
                    k.treatment.as_str().to_owned(),
                    k.treatment_plan.clone(),
                    k.treatment_due
                        .map(attest_domain::evidence::day_text)
                        .unwrap_or_default(),
                    k.status.as_str().to_owned(),
                    names(&r.assets, &assets),
                    names(&r.controls, &controls),
                    r.inherent_score.to_string(),
                    r.residual_score.to_string(),
                    r.residual_level.clone(),
                    r.needs_decision.to_string(),
                    r.acceptance
                        .as_ref()
                        .map(|a| {
                            format!(
                                "{} until {}",
                                a.state.label(),
                                attest_domain::evidence::day_text(a.acceptance.expires_on)
                            )
                        })
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let header: Vec<&str> = COLUMNS.iter().chain(DERIVED.iter()).copied().collect();
        match format {
            SheetFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let fail = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
                w.write_record(&header).map_err(fail)?;
                for r in &rows {
                    w.write_record(r).map_err(fail)?;
                }
                w.into_inner()
                    .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))
            }
            SheetFormat::Xlsx => workbook(&header, &rows)
                .map_err(|e| AppError::Internal(format!("writing the workbook: {e}"))),
        }
    }

    /// Imports risks from a sheet, all or nothing: a row whose reference exists changes that
    /// risk, any other adds one. Owners are given by email, assets by name and controls by
    /// reference (several separated by `;`). Every problem is reported with its line or row.
    pub async fn import_risks(
        &self,
        caller: &Caller,
        name: &str,
        bytes: &[u8],
    ) -> AppResult<ImportSummary> {
        let org = caller.require(Permission::RiskManage)?;
        if bytes.len() > SHEET_LIMIT {
            return Err(AppError::TooLarge(format!(
                "{name}: a risk sheet may be at most {} MiB",
                SHEET_LIMIT >> 20
            )));
        }
        let rows = match SheetFormat::of_name(name)? {
            SheetFormat::Csv => read_csv(bytes),
            SheetFormat::Xlsx => read_xlsx(bytes),
        };
        let rejected = |problems: Vec<Problem>| AppError::Rejected {
            message: format!("{name} was not imported; nothing changed"),
            problems,
        };
        let rows = rows.map_err(rejected)?;
        let matrix = store_risk::matrix(&self.store, org).await?;
        let existing: HashMap<String, String> = store_risk::risks(&self.store, org)
            .await?
            .into_iter()
            .map(|r| (r.reference, r.id))
            .collect();
        let assets: HashMap<String, String> = store_risk::assets(&self.store, org)
            .await?
            .into_iter()
            .map(|a| (a.name.to_lowercase(), a.id))
            .collect();
        let controls: HashMap<String, String> = store_ctl::list(&self.store, org)
            .await?
            .into_iter()
            .map(|c| (c.reference, c.id))
            .collect();
        let members: HashMap<String, attest_domain::UserId> = store_user::members(&self.store, org)
            .await?
            .into_iter()
            .filter(|m| m.membership.deactivated_at.is_none())
            .map(|m| (m.user.email.to_lowercase(), m.user.id))
            .collect();

        let mut problems = Vec::new();
        let mut inputs = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for row in &rows {
            let cell = |k: &str| row.cells.get(k).map(|s| s.trim()).unwrap_or("");
            let mut bad = |field: &str, msg: String| {
                problems.push(Problem::new(format!("{}, {field}", row.at), msg));
            };
            let reference = cell("ref").to_owned();
            if let Some(first) = seen.insert(reference.clone(), row.at.clone()) {
                bad("ref", format!("{reference} is also on {first}"));
            }
            let step = |field: &str, fallback: &str| -> Result<i64, String> {
                let v = match cell(field) {
                    "" => fallback,
                    v => v,
                };
                v.parse::<i64>()
                    .map_err(|_| format!("`{v}` is not a step of the scale"))
            };
            let inherent = (step("inherent_likelihood", ""), step("inherent_impact", ""));
            // Untreated, a risk's residual rating is its inherent one.
            let residual = (
                step("residual_likelihood", cell("inherent_likelihood")),
                step("residual_impact", cell("inherent_impact")),
            );
            let mut parsed = |field: &str, r: Result<i64, String>| match r {
                Ok(v) => v,
                Err(m) => {
                    bad(field, m);
                    0
                }
            };
            let inherent = (
                parsed("inherent_likelihood", inherent.0),
                parsed("inherent_impact", inherent.1),
            );
            let residual = (
                parsed("residual_likelihood", residual.0),
                parsed("residual_impact", residual.1),
            );
            for (prefix, (l, i)) in [("inherent", inherent), ("residual", residual)] {
                if l == 0 || i == 0 {
                    continue; // already reported as not a number
                }
                if let Err(attest_domain::risk::MatrixError::OffScale { field, max }) =
                    matrix.rate(l, i)
                {
                    bad(
                        &format!("{prefix}_{field}"),
                        format!("{prefix} {field} must be from 1 to {max}"),
                    );
                }
            }
            let treatment = match cell("treatment") {
                "" => Treatment::Modify,
                t => t
                    .parse()
                    .unwrap_or_else(|e: attest_domain::risk::UnknownTreatment| {
                        bad("treatment", e.to_string());
                        Treatment::Modify
                    }),
            };
            let status = match cell("status") {
                "" => RiskStatus::Open,
                t => t
                    .parse()
                    .unwrap_or_else(|e: attest_domain::risk::UnknownRiskStatus| {
                        bad("status", e.to_string());
                        RiskStatus::Open
                    }),
            };
            let treatment_due = match cell("treatment_due") {
                "" => None,
                d => attest_domain::evidence::parse_day(d)
                    .map_err(|e| bad("treatment_due", e))
                    .ok(),
            };
            let owner = match cell("owner") {
                "" => None,
                e => {
                    let found = members.get(&e.to_lowercase()).copied();
                    if found.is_none() {
                        bad("owner", format!("{e} is not an active member"));
                    }
                    found
                }
            };
            let mut ids = |field: &str, names: &str, by: &HashMap<String, String>, lower: bool| {
                list(names)
                    .into_iter()
                    .filter_map(|n| {
                        let key = if lower { n.to_lowercase() } else { n.clone() };
                        let id = by.get(&key).cloned();
                        if id.is_none() {
                            bad(
                                field,
                                format!("no {} named {n}", field.trim_end_matches('s')),
                            );
                        }
                        id
                    })
                    .collect::<Vec<_>>()
            };
            let asset_ids = ids("assets", cell("assets"), &assets, true);
            let control_ids = ids("controls", cell("controls"), &controls, false);
            inputs.push((
                row.at.clone(),
                existing.get(&reference).cloned(),
                RiskInput {
                    reference,
                    title: cell("title").to_owned(),
                    description: cell("description").to_owned(),
                    threat: cell("threat").to_owned(),
                    vulnerability: cell("vulnerability").to_owned(),
                    owner,
                    inherent,
                    residual,
                    treatment,
                    treatment_plan: cell("treatment_plan").to_owned(),
                    treatment_due,
                    status,
                    assets: asset_ids,
                    controls: control_ids,
                },
            ));
        }
        if !problems.is_empty() {
            return Err(rejected(problems));
        }
        let mut summary = ImportSummary {
            created: 0,
            updated: 0,
            unchanged: 0,
        };
        let mut tx = self.store.begin().await?;
        for (at, id, input) in inputs {
            match self
                .put_risk_in(&mut tx, caller, org, &matrix, id.as_deref(), input)
                .await
            {
                Ok((_, false)) => summary.unchanged += 1,
                Ok(_) if id.is_some() => summary.updated += 1,
                Ok(_) => summary.created += 1,
                Err(
                    AppError::Invalid { field, message } | AppError::Conflict { field, message },
                ) => {
                    problems.push(Problem::new(format!("{at}, {field}"), message));
                }
                Err(e) => return Err(e),
            }
        }
        if !problems.is_empty() {
            // Dropping the transaction undoes the rows already written.
            return Err(rejected(problems));
        }
        tx.commit().await?;
        Ok(summary)
    }
}

fn workbook(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name(SHEET_NAME)?;
    for (col, name) in (0..).zip(header) {
        sheet.write_string_with_format(0, col, *name, &bold)?;
    }
    let numeric = |name: &str| {
        name.ends_with("_likelihood") || name.ends_with("_impact") || name.ends_with("_score")
    };
    for (row, cells) in (1..).zip(rows) {
        for (col, (name, cell)) in (0..).zip(header.iter().zip(cells)) {
            match cell.parse::<f64>() {
                Ok(n) if numeric(name) => {
                    sheet.write_number(row, col, n)?;
                }
                _ if cell.is_empty() => {}
                _ => {
                    sheet.write_string(row, col, cell)?;
                }
            }
        }
    }
    let last_col = u16::try_from(header.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    sheet.autofilter(0, 0, last_row, last_col)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheets_name_their_problems() {
        let rows =
            read_csv(b"ref,title,inherent_likelihood,inherent_impact\nR-1,A,3,4\n\nR-2,B,2,2\n")
                .ok()
                .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].at, "line 4");
        assert_eq!(rows[0].cells["inherent_impact"], "4");
        let e = read_csv(b"ref,title,colour\n").err().unwrap();
        let text: Vec<String> = e
            .iter()
            .map(|p| format!("{}: {}", p.at, p.message))
            .collect();
        assert!(
            text[0].starts_with("line 1: unknown column `colour`"),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("`inherent_likelihood` is missing"))
        );
        assert!(read_csv(b"").is_err());
        assert!(read_xlsx(b"not a workbook").is_err());
        // The derived columns of an export are accepted and ignored.
        assert!(
            read_csv(b"ref,title,inherent_likelihood,inherent_impact,residual_score\n").is_ok()
        );
    }

    #[test]
    fn a_workbook_reads_back() {
        let header: Vec<&str> = COLUMNS.to_vec();
        let mut row = vec![String::new(); COLUMNS.len()];
        row[0] = "R-7".into();
        row[1] = "Flood".into();
        row[6] = "2".into();
        row[7] = "5".into();
        row[12] = "2027-03-31".into();
        let bytes = workbook(&header, &[row]).unwrap();
        let rows = read_xlsx(&bytes).ok().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].at, "row 2");
        assert_eq!(rows[0].cells["ref"], "R-7");
        assert_eq!(rows[0].cells["inherent_impact"], "5");
        assert_eq!(rows[0].cells["treatment_due"], "2027-03-31");
    }
}
