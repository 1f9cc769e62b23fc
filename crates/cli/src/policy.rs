//! `attest policy …`: policies and procedures from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_app::policy::{PolicyInput, PolicyView, TEMPLATES};
use attest_app::{App, Caller};
use attest_domain::policy::DocumentKind;
use clap::Subcommand;

use crate::program::refused;

/// `attest policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Lists the documents: version in force, draft, next review, acknowledgements.
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Lists the templates of the usual ISMS set.
    Templates,
    /// Starts a document from a template or a Markdown file (draft 1).
    Create {
        /// A template id (see `attest policy templates`).
        #[arg(long, conflicts_with = "file")]
        template: Option<String>,
        /// A Markdown file.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Title (a template's own by default).
        #[arg(long, default_value = "")]
        title: String,
        /// policy, procedure, standard or plan.
        #[arg(long, default_value = "policy")]
        kind: String,
        /// Review cadence in months.
        #[arg(long, default_value_t = 12)]
        review_months: u32,
    },
    /// Shows a document (by reference, `POL-001`): state, approvals, who has not read it.
    Show {
        /// The reference.
        reference: String,
    },
    /// Writes a published version as PDF (the one in force by default).
    Pdf {
        /// The reference.
        reference: String,
        /// A version number.
        #[arg(long, value_name = "N")]
        number: Option<i64>,
        /// Where to write (default: the PDF's own file name here).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

async fn find(app: &App, caller: &Caller, reference: &str) -> anyhow::Result<PolicyView> {
    let list = app.policies(caller).await.map_err(refused)?;
    let p = list
        .iter()
        .find(|p| p.reference.eq_ignore_ascii_case(reference))
        .ok_or_else(|| anyhow::anyhow!("no document {reference} (see `attest policy list`)"))?;
    app.policy(caller, &p.id, None).await.map_err(refused)
}

/// Runs a policy command.
pub async fn policy(app: &App, caller: &Caller, c: PolicyCommand) -> anyhow::Result<ExitCode> {
    match c {
        PolicyCommand::List { format } => {
            let list = app.policies(caller).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<8}  {:<40}  {:<10}  {:<6}  {:<12}  acknowledged",
                "ref", "title", "in force", "draft", "next review"
            );
            for p in list {
                println!(
                    "{:<8}  {:<40}  {:<10}  {:<6}  {:<12}  {}",
                    p.reference,
                    p.title,
                    p.published_version
                        .map(|v| format!("v{v}"))
                        .unwrap_or_else(|| "-".into()),
                    p.draft_version.map(|v| format!("v{v}")).unwrap_or_default(),
                    p.review_due
                        .map(|d| format!("{d}{}", if p.review_overdue { "!" } else { "" }))
                        .unwrap_or_default(),
                    if p.to_acknowledge > 0 {
                        format!("{}/{}", p.acknowledged, p.to_acknowledge)
                    } else {
                        String::new()
                    }
                );
            }
        }
        PolicyCommand::Templates => {
            for (slug, title, kind, _) in TEMPLATES {
                println!("{slug:<30}  {title} ({})", kind.label());
            }
        }
        PolicyCommand::Create {
            template,
            file,
            title,
            kind,
            review_months,
        } => {
            let input = PolicyInput {
                title,
                kind: kind
                    .parse::<DocumentKind>()
                    .map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
                owner_id: None,
                approvers: vec![],
                review_months,
                ack_required: true,
            };
            let view = match (template, file) {
                (Some(t), None) => app
                    .create_policy_from_template(caller, &t, input)
                    .await
                    .map_err(refused)?,
                (None, Some(f)) => {
                    let body = std::fs::read_to_string(&f)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                    app.create_policy(caller, input, &body)
                        .await
                        .map_err(refused)?
                }
                _ => anyhow::bail!("give --template or --file"),
            };
            println!(
                "created {} {} (draft 1); name its approvers in the web UI or with PUT /api/v1/policies/{}",
                view.summary.reference, view.summary.title, view.summary.id
            );
        }
        PolicyCommand::Show { reference } => {
            let v = find(app, caller, &reference).await?;
            let s = &v.summary;
            println!("{} {} ({})", s.reference, s.title, s.kind.label());
            if let (Some(n), Some(on)) = (s.published_version, s.published_on) {
                println!("in force: version {n}, published {on}");
            }
            if let Some(d) = s.draft_version {
                println!(
                    "draft: version {d}{}",
                    v.blocker
                        .as_deref()
                        .map(|b| format!(" ({b})"))
                        .unwrap_or_default()
                );
            }
            if let Some(d) = s.review_due {
                println!(
                    "next review: {d}{}",
                    if s.review_overdue { " (overdue)" } else { "" }
                );
            }
            let names: Vec<&str> = v.approvers.iter().map(|a| a.1.as_str()).collect();
            println!("approvers: {}", names.join(", "));
            if s.to_acknowledge > 0 {
                println!(
                    "acknowledged: {} of {}; still to read: {}",
                    s.acknowledged,
                    s.to_acknowledge,
                    v.pending.join(", ")
                );
            }
        }
        PolicyCommand::Pdf {
            reference,
            number,
            output,
        } => {
            let v = find(app, caller, &reference).await?;
            let (name, bytes) = app
                .policy_pdf(caller, &v.summary.id, number)
                .await
                .map_err(refused)?;
            let path = output.unwrap_or_else(|| PathBuf::from(name));
            std::fs::write(&path, &bytes)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
