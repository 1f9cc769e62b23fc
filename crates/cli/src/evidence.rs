//! `attest evidence …`: add files (streamed, with a progress bar), links and records; list;
//! what is overdue or due.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_app::evidence::{Content, EvidenceInput, EvidenceQuery};
use attest_app::{App, Caller};
use attest_domain::evidence::EvidenceSource;
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use time::Date;
use tokio_util::io::ReaderStream;

use crate::program::refused;

/// `attest evidence …`
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Adds files as evidence of controls, one item per file, streamed (any size up to the
    /// configured limit) with a progress bar.
    Add {
        /// The control(s) it proves, by reference (repeat for several).
        #[arg(long = "control", required = true, value_name = "REF")]
        controls: Vec<String>,
        /// Title (default: the file name).
        #[arg(long)]
        title: Option<String>,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// The day it was collected (YYYY-MM-DD, default today).
        #[arg(long, value_name = "DATE")]
        collected: Option<String>,
        /// First day it proves (YYYY-MM-DD, default the day collected).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day it proves (YYYY-MM-DD; default one window of the control's frequency).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// A link instead of files.
        #[arg(long, conflicts_with = "files")]
        url: Option<String>,
        /// The files.
        #[arg(required_unless_present = "url")]
        files: Vec<PathBuf>,
    },
    /// Lists current evidence, newest first.
    List {
        /// Only evidence of this control (reference).
        #[arg(long, value_name = "REF")]
        control: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Controls whose evidence no longer covers today (or never did).
    Overdue {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Controls whose evidence stops covering within the next days.
    Due {
        /// Days ahead.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Shows the retention rule; sets it (--keep-days) or removes it (--off); with --apply,
    /// disposes of evidence past it now (items under legal hold are kept).
    Retention {
        /// Keep evidence this many days after the period it covers ends (365 to 36,500).
        #[arg(long, value_name = "DAYS", conflicts_with = "off")]
        keep_days: Option<i64>,
        /// Remove the rule: evidence is kept until an owner disposes of it.
        #[arg(long)]
        off: bool,
        /// Dispose of what is past the rule now.
        #[arg(long)]
        apply: bool,
    },
}

fn date(flag: &str, s: Option<String>) -> anyhow::Result<Option<Date>> {
    s.map(|s| attest_domain::evidence::parse_day(&s).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
        .transpose()
}

/// Runs `attest evidence …`.
pub async fn evidence(app: &App, caller: &Caller, c: EvidenceCommand) -> anyhow::Result<ExitCode> {
    match c {
        EvidenceCommand::Add {
            controls,
            title,
            description,
            collected,
            from,
            until,
            url,
            files,
        } => {
            let mut ids = Vec::new();
            for r in &controls {
                ids.push(app.control_id_by_ref(caller, r).await.map_err(refused)?);
            }
            let base = EvidenceInput {
                title: String::new(),
                description,
                controls: ids,
                collected_on: date("collected", collected)?,
                effective_from: date("from", from)?,
                effective_until: date("until", until)?,
            };
            if let Some(url) = url {
                let input = EvidenceInput {
                    title: title.unwrap_or_else(|| url.clone()),
                    ..base
                };
                let e = app
                    .add_evidence(
                        caller,
                        EvidenceSource::Cli,
                        input,
                        Content::<futures::stream::Empty<Result<bytes::Bytes, String>>>::Link {
                            url,
                        },
                    )
                    .await
                    .map_err(refused)?;
                println!("added {} ({})", e.title, e.id);
                return Ok(ExitCode::SUCCESS);
            }
            for path in files {
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let size = file.metadata().await.map(|m| m.len()).unwrap_or(0);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "evidence".into());
                let bar = ProgressBar::new(size);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(name.clone());
                let counted = bar.clone();
                let body = ReaderStream::with_capacity(file, 1024 * 1024)
                    .map(move |chunk| {
                        if let Ok(c) = &chunk {
                            counted.inc(c.len() as u64);
                        }
                        chunk.map_err(|e| e.to_string())
                    })
                    .boxed();
                let input = EvidenceInput {
                    title: title.clone().unwrap_or_else(|| name.clone()),
                    ..base.clone()
                };
                let result = app
                    .add_evidence(
                        caller,
                        EvidenceSource::Cli,
                        input,
                        Content::File {
                            name: name.clone(),
                            body,
                            declared_sha256: None,
                        },
                    )
                    .await;
                bar.finish_and_clear();
                let e =
                    result.map_err(|e| anyhow::anyhow!("{}: {}", path.display(), refused(e)))?;
                println!(
                    "added {} ({}, {} bytes, {}, sha256 {})",
                    e.title,
                    e.id,
                    e.size.unwrap_or(0),
                    e.content_type.as_deref().unwrap_or(""),
                    e.sha256.as_deref().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::List {
            control,
            limit,
            format,
        } => {
            let control = match control {
                Some(r) => Some(app.control_id_by_ref(caller, &r).await.map_err(refused)?),
                None => None,
            };
            let page = app
                .list_evidence(
                    caller,
                    EvidenceQuery {
                        control,
                        limit: Some(limit),
                        ..EvidenceQuery::default()
                    },
                )
                .await
                .map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&page.items)?);
            } else {
                println!(
                    "{:<36}  {:<8} {:<10} {:<10} title",
                    "id", "kind", "from", "until"
                );
                for e in page.items {
                    println!(
                        "{:<36}  {:<8} {:<10} {:<10} {}",
                        e.id,
                        e.kind.as_str(),
                        e.effective_from,
                        e.effective_until
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "—".into()),
                        e.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Overdue { format } => {
            let list = app.overdue_controls(caller, None).await.map_err(refused)?;
            print_freshness(&list, &format)?;
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Due { days, format } => {
            let list = app.evidence_due(caller, days).await.map_err(refused)?;
            print_freshness(&list, &format)?;
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Retention {
            keep_days,
            off,
            apply,
        } => {
            if keep_days.is_some() || off {
                app.set_evidence_retention(caller, keep_days)
                    .await
                    .map_err(refused)?;
            }
            match app.evidence_retention(caller).await.map_err(refused)? {
                Some(d) => println!("Evidence is kept {d} days after the period it covers."),
                None => {
                    println!("No retention rule: evidence is kept until an owner disposes of it.")
                }
            }
            if apply {
                let gone = app
                    .apply_evidence_retention(caller)
                    .await
                    .map_err(refused)?;
                println!("Disposed of {} item(s) past the rule.", gone.len());
                for id in gone {
                    println!("  {id}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_freshness(
    list: &[attest_app::evidence::ControlFreshness],
    format: &str,
) -> anyhow::Result<()> {
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(());
    }
    for c in list {
        let when = match (c.state, c.date) {
            ("overdue", Some(d)) => format!("overdue since {d}"),
            ("fresh", Some(d)) => format!("covered until {d}"),
            _ => "no evidence".into(),
        };
        println!("{:<12} {:<40} {}", c.control_ref, c.title, when);
    }
    if list.is_empty() {
        println!("nothing");
    }
    Ok(())
}
