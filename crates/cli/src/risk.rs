//! `attest risk …`: the risk register from the command line.

use std::process::ExitCode;

use anyhow::{Context, bail};
use attest_app::risk::{RiskFilter, RiskInput};
use attest_app::risk_sheet::SheetFormat;
use attest_app::{App, Caller};
use attest_domain::risk::RiskStatus;
use clap::Subcommand;

use crate::program::refused;

/// `attest risk …`
#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Lists the register with scores, levels and who must decide, and the residual heat map.
    List {
        /// Only risks above appetite without a valid acceptance.
        #[arg(long)]
        needs_decision: bool,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Adds a risk, rated on the organisation's matrix.
    Add {
        /// Its reference (`R-001`).
        reference: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// The threat.
        #[arg(long, default_value = "")]
        threat: String,
        /// The vulnerability.
        #[arg(long, default_value = "")]
        vulnerability: String,
        /// Inherent rating as LIKELIHOOD,IMPACT steps (`4,5`).
        #[arg(long, value_name = "L,I")]
        inherent: String,
        /// Residual rating as LIKELIHOOD,IMPACT steps (`2,3`).
        #[arg(long, value_name = "L,I")]
        residual: String,
        /// modify, retain, avoid or share.
        #[arg(long, default_value = "modify")]
        treatment: String,
        /// Treating controls, by reference (repeatable).
        #[arg(long = "control", value_name = "REF")]
        controls: Vec<String>,
    },
    /// Writes the register as a sheet: the importable columns, then derived scores.
    Export {
        /// `csv` or `xlsx`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output (XLSX goes to risks.xlsx by default).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Imports risks from a CSV or XLSX sheet, all or nothing; a row whose ref exists changes
    /// that risk.
    Import {
        /// The sheet.
        file: std::path::PathBuf,
    },
    /// Records the acceptance of a risk's residual level (as the organisation's operator).
    Accept {
        /// The risk's reference.
        reference: String,
        /// Why it is acceptable.
        #[arg(long)]
        justification: String,
        /// The last day the decision holds (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        until: String,
    },
}

fn rating(flag: &str, s: &str) -> anyhow::Result<(i64, i64)> {
    let (l, i) = s
        .split_once(',')
        .with_context(|| format!("--{flag}: give LIKELIHOOD,IMPACT, like 4,5"))?;
    let step = |v: &str| {
        v.trim()
            .parse::<i64>()
            .with_context(|| format!("--{flag}: `{v}` is not a step number"))
    };
    Ok((step(l)?, step(i)?))
}

/// Runs a risk command.
pub async fn risk(app: &App, caller: &Caller, c: RiskCommand) -> anyhow::Result<ExitCode> {
    match c {
        RiskCommand::List {
            needs_decision,
            format,
        } => {
            let reg = app
                .risk_register(
                    caller,
                    &RiskFilter {
                        needs_decision,
                        ..RiskFilter::default()
                    },
                )
                .await
                .map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&reg)?);
                return Ok(ExitCode::SUCCESS);
            }
            for r in &reg.risks {
                let decision = if r.needs_decision {
                    "DECISION NEEDED".to_owned()
                } else {
                    r.acceptance
                        .as_ref()
                        .map(|a| format!("accepted ({})", a.state.label()))
                        .unwrap_or_default()
                };
                println!(
                    "{:<10} inherent {:>2} {:<9} residual {:>2} {:<9} {:<7} {}  {}",
                    r.risk.reference,
                    r.inherent_score,
                    r.inherent_level,
                    r.residual_score,
                    r.residual_level,
                    r.risk.treatment,
                    r.risk.title,
                    decision
                );
            }
            println!(
                "\n{} risk(s); {} above appetite ({}) without a valid acceptance",
                reg.risks.len(),
                reg.needing_decision,
                reg.matrix.appetite()
            );
            println!("\nResidual heat map (likelihood down, impact across):");
            for (l, row) in reg.heat.residual.iter().enumerate().rev() {
                let cells: Vec<String> = row.iter().map(|c| format!("{c:>4}")).collect();
                println!("  {:<16}{}", reg.matrix.likelihood()[l], cells.join(""));
            }
        }
        RiskCommand::Add {
            reference,
            title,
            threat,
            vulnerability,
            inherent,
            residual,
            treatment,
            controls,
        } => {
            let mut ids = Vec::new();
            for c in &controls {
                ids.push(app.control_id_by_ref(caller, c).await.map_err(refused)?);
            }
            let r = app
                .put_risk(
                    caller,
                    None,
                    RiskInput {
                        reference,
                        title,
                        description: String::new(),
                        threat,
                        vulnerability,
                        owner: None,
                        inherent: rating("inherent", &inherent)?,
                        residual: rating("residual", &residual)?,
                        treatment: treatment
                            .parse()
                            .map_err(|e| anyhow::anyhow!("--treatment: {e}"))?,
                        treatment_plan: String::new(),
                        treatment_due: None,
                        status: RiskStatus::Open,
                        assets: Vec::new(),
                        controls: ids,
                    },
                )
                .await
                .map_err(refused)?;
            println!(
                "Added risk {} (residual score {}).",
                r.reference,
                r.residual.score()
            );
        }
        RiskCommand::Export { format, output } => {
            let sheet = match format.as_str() {
                "csv" => SheetFormat::Csv,
                "xlsx" => SheetFormat::Xlsx,
                other => bail!("--format: unknown format `{other}` (expected csv or xlsx)"),
            };
            let bytes = app.export_risks(caller, sheet).await.map_err(refused)?;
            let output =
                output.or_else(|| (sheet == SheetFormat::Xlsx).then(|| "risks.xlsx".into()));
            match output {
                Some(path) => {
                    std::fs::write(&path, &bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
        RiskCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let s = app
                .import_risks(caller, &name, &bytes)
                .await
                .map_err(refused)?;
            println!(
                "Imported {name}: {} risk(s) added, {} changed, {} already as in the sheet.",
                s.created, s.updated, s.unchanged
            );
        }
        RiskCommand::Accept {
            reference,
            justification,
            until,
        } => {
            let until = attest_domain::evidence::parse_day(&until)
                .map_err(|e| anyhow::anyhow!("--until: {e}"))?;
            let reg = app
                .risk_register(caller, &RiskFilter::default())
                .await
                .map_err(refused)?;
            let Some(r) = reg.risks.iter().find(|r| r.risk.reference == reference) else {
                bail!("no risk {reference}");
            };
            let a = app
                .accept_risk(caller, &r.risk.id, &justification, until)
                .await
                .map_err(refused)?;
            println!(
                "Accepted {} until {} (residual score {}).",
                reference,
                attest_domain::evidence::day_text(a.expires_on),
                a.snapshot.residual.score()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
