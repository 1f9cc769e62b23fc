//! `attest soa …`: the Statement of Applicability from the command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use attest_app::soa::{DecisionInput, SoaFormat, SoaView};
use attest_app::{App, Caller};
use attest_domain::soa::Reason;
use clap::Subcommand;

use crate::program::refused;

/// `attest soa …`
#[derive(Debug, Subcommand)]
pub enum SoaCommand {
    /// Shows a version (the latest by default): counts, what blocks approval, the history.
    Show {
        /// A version number (default: the latest).
        #[arg(value_name = "N")]
        number: Option<i64>,
        /// `text` or `json` (every control with its decision and what is behind it).
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Records a decision on an Annex A control of the draft.
    Decide {
        /// The control (`A.5.1`).
        control: String,
        /// `applicable`, `excluded`, or `none` to clear the decision.
        #[arg(long)]
        decision: String,
        /// A reason (risk-treatment, legal, contractual, business, best-practice); repeat.
        #[arg(long = "reason", value_name = "REASON")]
        reasons: Vec<String>,
        /// The justification.
        #[arg(long, default_value = "")]
        justification: String,
    },
    /// Chooses the Annex A version of the draft (`iso27001-2022` or `iso27001-2013`).
    Framework {
        /// The framework id.
        id: String,
    },
    /// Approves the draft: refused while incomplete; freezes it under its hash.
    Approve {
        /// A note for the record.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Compares two versions, control by control.
    Diff {
        /// The older version.
        from: i64,
        /// The newer version.
        to: i64,
    },
    /// Exports a version as PDF, XLSX, CSV or an OSCAL system security plan.
    Export {
        /// `pdf`, `xlsx`, `csv` or `oscal`.
        #[arg(long)]
        format: String,
        /// A version number (default: the latest).
        #[arg(value_name = "N")]
        number: Option<i64>,
        /// Where to write (default: the export's own file name here; `-` for standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

fn summary(v: &SoaView) {
    match &v.version {
        Some(i) if i.approved => println!(
            "Statement of Applicability, {} — version {} approved by {} on {}\n  content SHA-256 {}",
            v.content.framework_name,
            i.version,
            i.approver.as_deref().unwrap_or(""),
            i.approved_at
                .map(|t| t.date().to_string())
                .unwrap_or_default(),
            i.hash.as_deref().unwrap_or("")
        ),
        Some(i) => println!(
            "Statement of Applicability, {} — version {} (draft)",
            v.content.framework_name, i.version
        ),
        None => println!(
            "Statement of Applicability, {} — no decision yet",
            v.content.framework_name
        ),
    }
    println!(
        "{} applicable, {} excluded, {} not decided",
        v.applicable, v.excluded, v.undecided
    );
    if v.editable && !v.gaps.is_empty() {
        println!("\nBefore approval ({}):", v.gaps.len());
        for g in &v.gaps {
            println!("  - {}", g.problem);
        }
    }
    if v.stale {
        println!(
            "\nThe data behind this approved version have changed since: `attest soa decide` or the web page opens a new draft."
        );
    }
    for w in &v.warnings {
        println!("  ! {}", w.problem);
    }
    if !v.history.is_empty() {
        println!("\nVersions:");
        for h in &v.history {
            println!(
                "  {:>3}  {:<8}  {}  {}",
                h.version,
                if h.approved { "approved" } else { "draft" },
                h.framework_id,
                h.approver.as_deref().unwrap_or("")
            );
        }
    }
}

/// Runs an SoA command.
pub async fn soa(app: &App, caller: &Caller, c: SoaCommand) -> anyhow::Result<ExitCode> {
    match c {
        SoaCommand::Show { number, format } => {
            let v = app.soa(caller, number).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                summary(&v);
            }
        }
        SoaCommand::Decide {
            control,
            decision,
            reasons,
            justification,
        } => {
            let applicable = match decision.as_str() {
                "applicable" => Some(true),
                "excluded" => Some(false),
                "none" => None,
                other => anyhow::bail!(
                    "--decision: unknown decision `{other}` (expected applicable, excluded or none)"
                ),
            };
            let reasons = reasons
                .iter()
                .map(|r| {
                    r.parse::<Reason>()
                        .map_err(|e| anyhow::anyhow!("--reason: {e}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let v = app
                .decide_soa(
                    caller,
                    vec![DecisionInput {
                        control,
                        applicable,
                        reasons,
                        justification,
                    }],
                )
                .await
                .map_err(refused)?;
            summary(&v);
        }
        SoaCommand::Framework { id } => {
            summary(&app.set_soa_framework(caller, &id).await.map_err(refused)?);
        }
        SoaCommand::Approve { note } => {
            summary(&app.approve_soa(caller, &note).await.map_err(refused)?);
        }
        SoaCommand::Diff { from, to } => {
            let (_, _, changes) = app.soa_diff(caller, from, to).await.map_err(refused)?;
            if changes.is_empty() {
                println!("Versions {from} and {to} say the same.");
            }
            for c in changes {
                println!("{} {}", c.id, c.title);
                for f in c.changes {
                    println!("  {}: {:?} -> {:?}", f.field, f.before, f.after);
                }
            }
        }
        SoaCommand::Export {
            format,
            number,
            output,
        } => {
            let format: SoaFormat = format.parse().map_err(refused)?;
            let e = app
                .soa_export(caller, number, format)
                .await
                .map_err(refused)?;
            let path = output.unwrap_or_else(|| PathBuf::from(&e.file_name));
            if path.as_os_str() == "-" {
                std::io::stdout().write_all(&e.bytes)?;
            } else {
                std::fs::write(&path, &e.bytes)
                    .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
                eprintln!("wrote {} ({} bytes)", path.display(), e.bytes.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
