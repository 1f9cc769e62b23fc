//! `attest isms …`: the ISMS documents from the command line.

use std::process::ExitCode;

use attest_app::{App, Caller};
use clap::Subcommand;

use crate::program::refused;

/// `attest isms …`
#[derive(Debug, Subcommand)]
pub enum IsmsCommand {
    /// Shows the ISMS scope and context (the current version, or version N) and its history.
    Scope {
        /// A version number (default: the current one).
        #[arg(value_name = "N")]
        number: Option<i64>,
        /// `text` or `json`.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Lists the nonconformities: open ones first, with what blocks their closure.
    Nonconformities {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Lists the objectives with their latest value and status (and records today's
    /// computed metrics: run it daily from cron to trend them without anyone looking).
    Objectives {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Lists the internal audit programme.
    Audits {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Lists the management reviews with their inputs and decisions (JSON).
    Reviews,
}

/// Runs an ISMS command.
pub async fn isms(app: &App, caller: &Caller, c: IsmsCommand) -> anyhow::Result<ExitCode> {
    match c {
        IsmsCommand::Nonconformities { format } => nonconformities(app, caller, &format).await?,
        IsmsCommand::Objectives { format } => {
            let v = app.objectives(caller).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            for o in &v.objectives {
                println!(
                    "{:<8}  {:<44}  {:<10} {:>8}  target {} {}",
                    o.reference,
                    o.title,
                    o.status.label(),
                    o.latest
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "-".into()),
                    o.direction.label().to_lowercase(),
                    o.target
                );
            }
            if v.objectives.is_empty() {
                println!("No objectives yet.");
            }
        }
        IsmsCommand::Audits { format } => {
            let list = app.internal_audits(caller).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            for a in &list {
                println!(
                    "{:<7}  {:<40}  {} – {}  {:<11}  {} finding(s)",
                    a.reference,
                    a.title,
                    a.starts_on,
                    a.ends_on,
                    a.status.label(),
                    a.findings
                );
            }
            if list.is_empty() {
                println!("No audit planned yet.");
            }
        }
        IsmsCommand::Reviews => {
            let list = app.management_reviews(caller).await.map_err(refused)?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        IsmsCommand::Scope { number, format } => {
            let v = app.isms_scope(caller, number).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            let Some(n) = v.version else {
                println!("No ISMS scope yet: write it at /isms/scope or PUT /api/v1/isms/scope.");
                return Ok(ExitCode::SUCCESS);
            };
            println!("ISMS scope, version {n}\n\n{}\n", v.document.statement);
            let list = |title: &str, items: &[String]| {
                println!("{title}:");
                for i in items {
                    println!("  - {i}");
                }
            };
            let services: Vec<String> = v.service_names.iter().map(|s| s.1.clone()).collect();
            list("Services", &services);
            list("Locations", &v.document.locations);
            list("Internal issues", &v.document.internal_issues);
            list("External issues", &v.document.external_issues);
            println!("Interested parties:");
            for p in &v.document.interested_parties {
                println!("  - {}: {}", p.party, p.requirements);
            }
            println!("\nVersions:");
            for h in &v.history {
                println!(
                    "  {:>3}  {}  {}  {}",
                    h.version,
                    h.created_at.to_rfc3339(),
                    h.created_by,
                    h.note
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn nonconformities(app: &App, caller: &Caller, format: &str) -> anyhow::Result<()> {
    let mut list = app.nonconformities(caller).await.map_err(refused)?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    list.sort_by_key(|n| (n.nc.closed_on.is_some(), n.nc.reference.clone()));
    for n in &list {
        let state = match (n.nc.closed_on, n.overdue) {
            (Some(_), _) => "closed".to_owned(),
            (None, true) => "OVERDUE".to_owned(),
            (None, false) => "open".to_owned(),
        };
        println!(
            "{:<8} {:<12} {:<8} {}{}",
            n.nc.reference,
            n.nc.severity.as_str(),
            state,
            n.nc.title,
            n.blocker
                .map(|b| format!("  (to close: {b})"))
                .unwrap_or_default()
        );
    }
    let open = list.iter().filter(|n| n.nc.closed_on.is_none()).count();
    println!("\n{} nonconformit(ies), {open} open", list.len());
    Ok(())
}
