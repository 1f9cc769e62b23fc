//! `attest engagement …` and `attest bridge-letter …`: audit engagements from the command
//! line. A refusal exits non-zero and names the rule that refused it.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_app::engagement::EngagementInput;
use attest_app::{App, Caller};
use attest_domain::engagement::{EngagementKind, EngagementStatus, Opinion, TrustCategory};
use clap::Subcommand;

use crate::program::refused;

fn day(flag: &str, s: &str) -> anyhow::Result<time::Date> {
    attest_domain::evidence::parse_day(s).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// `attest engagement …`
#[derive(Debug, Subcommand)]
pub enum EngagementCommand {
    /// Plans an engagement: a Type 1 as of a date, anything else over a period.
    Create {
        /// iso-stage1, iso-stage2, iso-surveillance, iso-recertification, internal,
        /// soc1-type1, soc1-type2, soc2-type1, soc2-type2, soc3 or pentest.
        #[arg(long)]
        kind: String,
        /// Type 1: the as-of date (YYYY-MM-DD).
        #[arg(long, conflicts_with_all = ["start", "end"])]
        as_of: Option<String>,
        /// The period's first day (YYYY-MM-DD).
        #[arg(long, requires = "end")]
        start: Option<String>,
        /// The period's last day (YYYY-MM-DD).
        #[arg(long, requires = "start")]
        end: Option<String>,
        /// The audit firm or certification body.
        #[arg(long)]
        firm: String,
        /// The lead auditor.
        #[arg(long, default_value = "")]
        lead_auditor: String,
        /// A title (default: kind and period).
        #[arg(long, default_value = "")]
        title: String,
        /// A service in scope (its id); repeat.
        #[arg(long = "service", value_name = "ID")]
        services: Vec<String>,
        /// A framework in scope; repeat.
        #[arg(long = "framework", value_name = "ID")]
        frameworks: Vec<String>,
        /// SOC 2: a trust services category; repeat (security is always in).
        #[arg(long = "category", value_name = "CATEGORY")]
        categories: Vec<String>,
    },
    /// Lists the engagements.
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Moves an engagement to fieldwork or reporting, or withdraws it.
    Status {
        /// Id or reference (`ENG-001`).
        id: String,
        /// fieldwork, reporting or withdrawn.
        status: String,
    },
    /// Records the auditor's opinion on a SOC report.
    Opinion {
        /// Id or reference.
        id: String,
        /// unqualified, qualified, adverse or disclaimer.
        opinion: String,
        /// The exceptions behind a modified opinion.
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Issues the report.
    Issue {
        /// Id or reference.
        id: String,
    },
    /// Exports an engagement: its workpapers (ZIP with an index), or its OSCAL assessment
    /// results or plan of action and milestones (JSON).
    Export {
        /// Id or reference.
        id: String,
        /// `workpapers`, `assessment-results` or `poam`.
        #[arg(long, default_value = "workpapers")]
        what: String,
        /// Where to write it.
        #[arg(long)]
        output: PathBuf,
    },
    /// Invites an external auditor to this engagement only and prints the single-use link.
    InviteAuditor {
        /// Id or reference.
        id: String,
        /// The auditor's e-mail address.
        #[arg(long)]
        email: String,
        /// The last day of access (YYYY-MM-DD); access also ends when the engagement closes.
        #[arg(long)]
        until: Option<String>,
    },
    /// Declares a SOC program's cadence and shows the report periods it lays out.
    Program {
        /// `soc1` or `soc2`.
        family: String,
        /// Months each period lasts.
        #[arg(long, default_value_t = 12)]
        period_months: u32,
        /// A day periods end on, as MM-DD; repeat (`--end 03-31 --end 09-30`).
        #[arg(long = "end", value_name = "MM-DD", required = true)]
        ends: Vec<String>,
        /// Weeks from a period's end to its report.
        #[arg(long, default_value_t = 6)]
        report_weeks: u32,
    },
}

/// `attest certificate …`
#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Records an ISO certificate (valid three years at most).
    Add {
        /// The certificate number.
        #[arg(long)]
        number: String,
        /// The certification body.
        #[arg(long)]
        body: String,
        /// `iso27001-2022` or `iso27001-2013`.
        #[arg(long, default_value = "iso27001-2022")]
        standard: String,
        /// The certified scope.
        #[arg(long)]
        scope: String,
        /// Issued (YYYY-MM-DD).
        #[arg(long)]
        issued: String,
        /// Expires (YYYY-MM-DD).
        #[arg(long)]
        expires: String,
    },
    /// Lists the certificates with their status today and the audits due.
    List {
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Suspends, withdraws or reinstates a certificate (by id or number).
    State {
        /// Id or number.
        id: String,
        /// valid, suspended or withdrawn.
        state: String,
    },
}

/// `attest bridge-letter …`
#[derive(Debug, Subcommand)]
pub enum BridgeLetterCommand {
    /// Writes a bridge letter after an issued SOC 1 or SOC 2 report, and its PDF.
    Create {
        /// The report (engagement id or reference).
        #[arg(long)]
        report: String,
        /// The last day it covers (YYYY-MM-DD).
        #[arg(long)]
        until: String,
        /// Who signs for management.
        #[arg(long, default_value = "Management")]
        signer: String,
        /// Changes to disclose (default: no material change).
        #[arg(long, default_value = "")]
        changes: String,
        /// `en` or `ko`.
        #[arg(long, default_value = "en")]
        language: String,
        /// Where to write the PDF (default: its own file name here).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also add it as a document of its report, to publish on the trust portal.
        #[arg(long)]
        document: bool,
    },
}

fn print(e: &attest_store::engagement::Engagement) {
    println!(
        "{:<8}  {:<14}  {:<40}  {}  {:<9}  {}",
        e.reference,
        e.kind.as_str(),
        e.title,
        e.period.range(),
        e.status.as_str(),
        e.opinion.map(|o| o.as_str()).unwrap_or("")
    );
}

/// Runs an engagement command.
pub async fn engagement(
    app: &App,
    caller: &Caller,
    c: EngagementCommand,
) -> anyhow::Result<ExitCode> {
    match c {
        EngagementCommand::Create {
            kind,
            as_of,
            start,
            end,
            firm,
            lead_auditor,
            title,
            services,
            frameworks,
            categories,
        } => {
            let period = match (start, end) {
                (Some(s), Some(e)) => Some((day("--start", &s)?, day("--end", &e)?)),
                _ => None,
            };
            let input = EngagementInput {
                kind: kind
                    .parse::<EngagementKind>()
                    .map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
                title,
                firm,
                lead_auditor,
                as_of: as_of.map(|d| day("--as-of", &d)).transpose()?,
                period,
                services,
                frameworks,
                categories: categories
                    .iter()
                    .map(|c| {
                        c.parse::<TrustCategory>()
                            .map_err(|e| anyhow::anyhow!("--category: {e}"))
                    })
                    .collect::<anyhow::Result<_>>()?,
            };
            let e = app
                .create_engagement(caller, input)
                .await
                .map_err(refused)?;
            println!("{}", e.id);
            eprintln!("planned {} {}", e.reference, e.title);
        }
        EngagementCommand::List { format } => {
            let list = app.engagements(caller).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for e in &list {
                    print(e);
                }
            }
        }
        EngagementCommand::Status { id, status } => {
            let s = status
                .parse::<EngagementStatus>()
                .map_err(|e| anyhow::anyhow!("status: {e}"))?;
            print(
                &app.set_engagement_status(caller, &id, s)
                    .await
                    .map_err(refused)?,
            );
        }
        EngagementCommand::Opinion { id, opinion, notes } => {
            let o = opinion
                .parse::<Opinion>()
                .map_err(|e| anyhow::anyhow!("opinion: {e}"))?;
            print(
                &app.record_opinion(caller, &id, o, &notes)
                    .await
                    .map_err(refused)?,
            );
        }
        EngagementCommand::Issue { id } => {
            print(&app.issue_engagement(caller, &id).await.map_err(refused)?);
        }
        EngagementCommand::Export { id, what, output } => {
            match what.as_str() {
                "workpapers" => {
                    let (_, file) = app.workpapers(caller, &id).await.map_err(refused)?;
                    std::fs::copy(file.path(), &output)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
                }
                "assessment-results" | "poam" => {
                    let (_, v) = if what == "poam" {
                        app.oscal_poam(caller, &id).await
                    } else {
                        app.oscal_assessment_results(caller, &id).await
                    }
                    .map_err(refused)?;
                    std::fs::write(&output, serde_json::to_vec_pretty(&v)?)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", output.display()))?;
                }
                other => anyhow::bail!(
                    "--what: `{other}` is not an export (expected workpapers, assessment-results or poam)"
                ),
            }
            eprintln!("wrote {}", output.display());
        }
        EngagementCommand::InviteAuditor { id, email, until } => {
            let until = until.map(|d| day("--until", &d)).transpose()?;
            let inv = app
                .invite_auditor(caller, &id, &email, until)
                .await
                .map_err(refused)?;
            println!("{}", inv.link);
        }
        EngagementCommand::Program {
            family,
            period_months,
            ends,
            report_weeks,
        } => {
            let mut period_ends = Vec::new();
            for e in &ends {
                let (m, d) = e.split_once('-').unwrap_or(("", ""));
                match (m.parse::<u8>(), d.parse::<u8>()) {
                    (Ok(m), Ok(d)) => period_ends.push((m, d)),
                    _ => anyhow::bail!("--end: `{e}` is not a day of the year as MM-DD"),
                }
            }
            let cadence = attest_domain::engagement::Cadence {
                period_months,
                period_ends,
                report_weeks,
            };
            let p = app
                .set_soc_program(caller, &family, cadence)
                .await
                .map_err(refused)?;
            for r in p.upcoming {
                println!("{}  report due {}", r.period, r.report_due);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a bridge-letter command.
pub async fn bridge_letter(
    app: &App,
    caller: &Caller,
    c: BridgeLetterCommand,
) -> anyhow::Result<ExitCode> {
    let BridgeLetterCommand::Create {
        report,
        until,
        signer,
        changes,
        language,
        output,
        document,
    } = c;
    let until = day("--until", &until)?;
    let letter = app
        .create_bridge_letter(caller, &report, until, &signer, &changes, &language)
        .await
        .map_err(refused)?;
    let (name, bytes) = app
        .bridge_letter_pdf(caller, &letter.id)
        .await
        .map_err(refused)?;
    let path = output.unwrap_or_else(|| PathBuf::from(name));
    std::fs::write(&path, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("{}", letter.id);
    eprintln!(
        "bridge letter {} – {} written to {} ({} bytes)",
        letter.starts_on,
        letter.ends_on,
        path.display(),
        bytes.len()
    );
    if document {
        let d = app
            .bridge_letter_document(caller, &letter.id)
            .await
            .map_err(refused)?;
        eprintln!(
            "added as document {} of its report (publish it with `attest portal publish {}`)",
            d.id, d.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a certificate command.
pub async fn certificate(
    app: &App,
    caller: &Caller,
    c: CertificateCommand,
) -> anyhow::Result<ExitCode> {
    let show = |c: &attest_app::engagement::CertificateView| {
        let x = &c.certificate;
        println!(
            "{:<16}  {:<14}  {} – {}  {:<9}  {}",
            x.number,
            x.standard,
            x.issued_on,
            x.expires_on,
            c.status,
            c.milestones
                .iter()
                .map(|(what, when)| format!("{what} {when}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    match c {
        CertificateCommand::Add {
            number,
            body,
            standard,
            scope,
            issued,
            expires,
        } => {
            let input = attest_app::engagement::CertificateInput {
                number,
                body,
                standard,
                scope,
                issued_on: day("--issued", &issued)?,
                expires_on: day("--expires", &expires)?,
                engagement: None,
            };
            show(&app.add_certificate(caller, input).await.map_err(refused)?);
        }
        CertificateCommand::List { format } => {
            let list = app.certificates(caller).await.map_err(refused)?;
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                list.iter().for_each(show);
            }
        }
        CertificateCommand::State { id, state } => {
            let s = state
                .parse::<attest_domain::engagement::CertificateState>()
                .map_err(|e| anyhow::anyhow!("state: {e}"))?;
            show(
                &app.set_certificate_state(caller, &id, s)
                    .await
                    .map_err(refused)?,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
