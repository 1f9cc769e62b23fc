//! `attest framework …`, `attest control …` and `attest coverage`.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_app::control::{ControlFilter, ControlInput};
use attest_app::framework::ImportFile;
use attest_app::{App, AppError, Caller};
use attest_domain::control::{ControlStatus, Frequency};
use clap::Subcommand;

/// `attest framework …`
#[derive(Debug, Subcommand)]
pub enum FrameworkCommand {
    /// Lists every framework: id, name, version, publisher, requirement count, in use.
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Shows a framework's requirements.
    Show {
        /// Framework id (see `attest framework list`).
        id: String,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Imports frameworks, all or nothing: OSCAL catalogs (.json), OSCAL profiles (.json, given
    /// with the catalog they import), Attest YAML, CSV or XLSX.
    Import {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Exports a framework (a baseline such as nist-800-53r5-moderate as its resolved catalog).
    Export {
        /// Framework id.
        id: String,
        /// `oscal`, `csv`, `xlsx` or `yaml`.
        #[arg(long, default_value = "oscal")]
        format: String,
        /// Write here instead of standard output (XLSX goes to <id>.xlsx by default).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Starts using a framework (or stops, with --off).
    Use {
        /// Framework id.
        id: String,
        /// Stop using it.
        #[arg(long)]
        off: bool,
    },
}

/// `attest control …`
#[derive(Debug, Subcommand)]
pub enum ControlCommand {
    /// Adds a control.
    Add {
        /// Its reference (`AC-01`).
        reference: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// continuous, daily, weekly, monthly, quarterly, annual, per-event.
        #[arg(long, default_value = "annual")]
        frequency: String,
        /// planned, partial, implemented, not-applicable.
        #[arg(long, default_value = "planned")]
        status: String,
    },
    /// Lists controls.
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Shows a control with its links and the links the mappings propose.
    Show {
        /// Its reference.
        reference: String,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Links a control to a requirement of a framework.
    Link {
        /// The control's reference.
        reference: String,
        /// Framework id.
        framework: String,
        /// Requirement id.
        requirement: String,
    },
    /// Accepts (or with --reject, rejects) a link the mappings propose.
    Accept {
        /// The control's reference.
        reference: String,
        /// Framework id.
        framework: String,
        /// Requirement id.
        requirement: String,
        /// Reject instead.
        #[arg(long)]
        reject: bool,
    },
}

pub(crate) fn refused(e: AppError) -> anyhow::Error {
    match e {
        AppError::Rejected { message, problems } => {
            let mut text = message;
            for p in problems {
                text.push_str(&format!("\n  {}: {}", p.at, p.message));
            }
            anyhow::anyhow!(text)
        }
        AppError::Rule { rule, message } => anyhow::anyhow!("refused ({rule}): {message}"),
        other => anyhow::anyhow!(other.to_string()),
    }
}

/// Runs `attest framework …`.
pub async fn framework(
    app: &App,
    caller: &Caller,
    c: FrameworkCommand,
) -> anyhow::Result<ExitCode> {
    match c {
        FrameworkCommand::List { format } => {
            let list = app.frameworks(caller).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<28} {:<48} {:<10} {:<26} {:>6}  in use",
                    "id", "name", "version", "publisher", "reqs"
                );
                for f in list {
                    println!(
                        "{:<28} {:<48} {:<10} {:<26} {:>6}  {}",
                        f.id,
                        f.name,
                        f.version,
                        f.publisher,
                        f.requirements,
                        if f.in_use { "yes" } else { "" }
                    );
                }
            }
        }
        FrameworkCommand::Show { id, format } => {
            let (f, _) = app.framework(caller, &id).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&*f)?);
            } else {
                println!(
                    "{} ({}, {}) — {} requirements",
                    f.name,
                    f.version,
                    f.publisher,
                    f.assessable().count()
                );
                for r in &f.requirements {
                    let flag = if r.withdrawn { " [withdrawn]" } else { "" };
                    println!("{:<14} {:<12} {}{flag}", r.id, r.kind, r.title);
                }
            }
        }
        FrameworkCommand::Import { files } => {
            let mut imports = Vec::new();
            for f in &files {
                let bytes = std::fs::read(f)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
                imports.push(ImportFile {
                    name: f.display().to_string(),
                    bytes,
                });
            }
            let done = app
                .import_frameworks(caller, imports)
                .await
                .map_err(refused)?;
            for f in done {
                println!(
                    "imported {} — {} ({} requirements)",
                    f.id, f.name, f.requirements
                );
            }
        }
        FrameworkCommand::Export { id, format, output } => {
            let e = app
                .export_framework(caller, &id, &format)
                .await
                .map_err(refused)?;
            let output = output.or_else(|| (format == "xlsx").then(|| PathBuf::from(&e.filename)));
            match output {
                Some(p) => {
                    std::fs::write(&p, &e.bytes)
                        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", p.display()))?;
                    eprintln!("wrote {}", p.display());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&e.bytes)?;
                }
            }
        }
        FrameworkCommand::Use { id, off } => {
            app.set_framework_in_use(caller, &id, !off)
                .await
                .map_err(refused)?;
            println!(
                "{id} is {}",
                if off { "no longer in use" } else { "in use" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `attest control …`.
pub async fn control(app: &App, caller: &Caller, c: ControlCommand) -> anyhow::Result<ExitCode> {
    match c {
        ControlCommand::Add {
            reference,
            title,
            description,
            frequency,
            status,
        } => {
            let input = ControlInput {
                reference,
                title,
                description,
                owner: None,
                frequency: frequency
                    .parse::<Frequency>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                status: status
                    .parse::<ControlStatus>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                services: Vec::new(),
            };
            let c = app.create_control(caller, input).await.map_err(refused)?;
            println!("added control {} ({})", c.reference, c.id);
        }
        ControlCommand::List { format } => {
            let rows = app
                .controls(caller, &ControlFilter::default())
                .await
                .map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for r in rows {
                    println!(
                        "{:<12} {:<16} {:>4} links  {}",
                        r.control.reference, r.control.status, r.links, r.control.title
                    );
                }
            }
        }
        ControlCommand::Show { reference, format } => {
            let id = app
                .control_id_by_ref(caller, &reference)
                .await
                .map_err(refused)?;
            let v = app.control(caller, &id).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{} {} — {}, {}",
                    v.control.reference,
                    v.control.title,
                    v.control.status.label(),
                    v.control.frequency.label()
                );
                println!("links:");
                for l in &v.links {
                    println!(
                        "  {} {} ({:?}, {})",
                        l.framework, l.requirement, l.coverage, l.origin
                    );
                }
                println!("proposed:");
                for p in &v.proposals {
                    println!(
                        "  {} {} ({:?}) because {} {} {} — {}",
                        p.framework,
                        p.requirement,
                        p.coverage,
                        p.from,
                        p.rel,
                        p.requirement,
                        p.provenance
                    );
                }
            }
        }
        ControlCommand::Link {
            reference,
            framework,
            requirement,
        } => {
            let id = app
                .control_id_by_ref(caller, &reference)
                .await
                .map_err(refused)?;
            app.link_control(caller, &id, &framework, &requirement)
                .await
                .map_err(refused)?;
            println!("linked {reference} to {framework} {requirement}");
        }
        ControlCommand::Accept {
            reference,
            framework,
            requirement,
            reject,
        } => {
            let id = app
                .control_id_by_ref(caller, &reference)
                .await
                .map_err(refused)?;
            app.decide_proposal(caller, &id, &framework, &requirement, !reject)
                .await
                .map_err(refused)?;
            println!(
                "{} {framework} {requirement} for {reference}",
                if reject { "rejected" } else { "linked" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `attest coverage`.
pub async fn coverage(
    app: &App,
    caller: &Caller,
    framework: &str,
    format: &str,
) -> anyhow::Result<ExitCode> {
    let c = app.coverage(caller, framework).await.map_err(refused)?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        println!(
            "{} — {}% implemented",
            c.framework.name,
            c.percent_implemented()
        );
        for (s, n) in &c.counts {
            println!("  {:<16} {n}", s.label());
        }
        for r in &c.requirements {
            println!(
                "{:<14} {:<16} {}",
                r.id,
                r.status.label(),
                r.reasons.join("; ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
