//! `attest`: the compliance program of a service organisation, in one program.

mod commands;
mod config;
mod engagement;
mod evidence;
mod isms;
mod policy;
mod portal;
mod program;
mod risk;
mod soa;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, Flags};

/// Keeps glibc's malloc close to the working set while gigabytes stream through. By default
/// it gives each thread that touches an upload (the runtime's workers, the hashing and
/// file-writing threads) an arena of its own, and after the first large buffer is freed it
/// raises its mmap threshold so later ones come from those arenas and stay there: a server
/// streaming uploads grew to about twice its working set. Two arenas and a fixed 256 KiB
/// threshold (large buffers are mapped, and unmapped when freed) keep a 2 GiB upload under
/// 100 MiB (scripts/bench-ingest).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; it is called before any thread
    // starts, and an unsupported value is refused by returning 0, which is harmless.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

/// Attest runs an ISO/IEC 27001 ISMS, the SOC 1/2/3 audit cycle, controls mapped to many
/// frameworks with their evidence, and a trust portal for customers.
///
/// Start with `attest serve` (it creates ./attest-data and a SQLite database), then create
/// your organisation and its first owner with `attest init --org NAME --email EMAIL`.
///
/// Settings come from, in increasing precedence: built-in defaults, a TOML file
/// (`--config FILE`, or ./attest.toml), ATTEST_* environment variables (nested keys with a
/// double underscore: ATTEST_BLOBS__BUCKET), then the flags below.
#[derive(Debug, Parser)]
#[command(name = "attest", version, about, long_about, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "ATTEST_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and local evidence files [default: ./attest-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data directory].
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// The organisation (short name) commands act in; not needed when there is only one.
    #[arg(long, global = true, env = "ATTEST_ORG", value_name = "SLUG")]
    org: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// `attest portal …`
#[derive(Debug, Subcommand)]
pub enum PortalCommand {
    /// Checks that a document you hold is authentic and current: its SHA-256 is listed in a
    /// trust portal's signed manifest that has not expired, and the signature is good. Exits
    /// 0 when verified with the key you trust, 2 when verified but no --key was given, 1
    /// otherwise.
    Verify {
        /// The document (a PDF you downloaded or were given).
        file: PathBuf,
        /// The manifest: its https address on the portal, or a saved file.
        #[arg(long)]
        manifest: String,
        /// The organisation's public key (hex) you trust; without it, the key in the
        /// manifest is shown for you to compare.
        #[arg(long)]
        key: Option<String>,
    },
    /// Invites a customer to the trust portal; prints the one-time link that lets them
    /// choose a password (also mailed when mail_url is set).
    Invite {
        /// The customer's e-mail address.
        email: String,
        /// Their name (stamped on the documents they take).
        #[arg(long)]
        name: String,
        /// Their company.
        #[arg(long)]
        company: String,
    },
    /// Lists customers' access requests, open ones first.
    Requests,
    /// Publishes an issued engagement's document on the trust portal (or takes it off).
    Publish {
        /// The document's id.
        id: String,
        /// Take it off the portal instead.
        #[arg(long)]
        off: bool,
    },
    /// Sets the host name on which the portal answers by itself (`trust.example.com`: point
    /// its DNS at Attest, TLS at the reverse proxy), or removes it with --remove.
    Host {
        /// The host name; leave out with --remove.
        #[arg(required_unless_present = "remove")]
        name: Option<String>,
        /// Remove the host name.
        #[arg(long, conflicts_with = "name")]
        remove: bool,
    },
    /// Sets the portal's logo from a PNG or JPEG file (at most 512 KiB, 2048 pixels a side).
    Logo {
        /// The image; leave out with --remove.
        #[arg(required_unless_present = "remove")]
        file: Option<PathBuf>,
        /// Remove the logo.
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

/// `attest demo …`
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Loads the demo organisation (Hanbit Cloud) with engagements, certificates, documents
    /// and a published trust portal; prints the portal's address and the staff sign-in.
    Load,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the web server (UI, API and trust portal) until stopped with Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// The address people reach Attest at, if not http://<listen> (an https:// URL turns
        /// on Secure cookies and HSTS).
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
    },
    /// Creates an organisation and its first owner, and prints how the owner signs in.
    Init {
        /// The organisation's name.
        #[arg(long, value_name = "NAME")]
        org: String,
        /// The first owner's e-mail address.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
    /// Applies pending database migrations (`serve` also does this at start).
    Migrate,
    /// Checks the audit trail of every organisation end to end and re-hashes every evidence
    /// file (missing, corrupt, orphaned); exits non-zero on a problem.
    Verify {
        /// Check only the hash chain, not that the search columns agree with each entry.
        #[arg(long)]
        chain_only: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Writes a consistent backup of everything (rows and evidence files) to FILE, while the
    /// server keeps running.
    Backup {
        /// The archive to write (a tar file).
        file: PathBuf,
    },
    /// Restores a backup into an empty database (of either kind: this is also how to move
    /// from SQLite to PostgreSQL).
    Restore {
        /// The archive to read.
        file: PathBuf,
    },
    /// Organisations on this installation.
    #[command(subcommand)]
    Org(commands::OrgCommand),
    /// People's accounts.
    #[command(subcommand)]
    User(commands::UserCommand),
    /// Frameworks: list, show, import, export, use.
    #[command(subcommand)]
    Framework(commands::FrameworkCommand),
    /// Controls: add, list, show, link, accept proposals.
    #[command(subcommand)]
    Control(commands::ControlCommand),
    /// Evidence: add files and links, list, what is overdue or due.
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
    /// The ISMS: scope and context, nonconformities, objectives, internal audits, management reviews.
    #[command(subcommand)]
    Isms(isms::IsmsCommand),
    /// Audit engagements: create, list, status, opinion, issue; SOC program cadence.
    #[command(subcommand)]
    Engagement(engagement::EngagementCommand),
    /// ISO certificates: add, list, suspend or withdraw.
    #[command(subcommand)]
    Certificate(engagement::CertificateCommand),
    /// Bridge letters after an issued SOC report.
    #[command(subcommand, name = "bridge-letter")]
    BridgeLetter(engagement::BridgeLetterCommand),
    /// The trust portal from a customer's side: verify a document against a signed manifest.
    #[command(subcommand)]
    Portal(PortalCommand),
    /// The demo data set: `attest demo load` makes a fictional cloud provider with a full
    /// trust portal in English and Korean, and prints where to look.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Policies and procedures: list, templates, create, show, PDF.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// The Statement of Applicability: show, decide, approve, compare, export.
    #[command(subcommand)]
    Soa(soa::SoaCommand),
    /// Risks: list the register and its heat map, add, accept, export and import sheets.
    #[command(subcommand)]
    Risk(risk::RiskCommand),
    /// Coverage of a framework, requirement by requirement.
    Coverage {
        /// The framework.
        #[arg(long, value_name = "ID")]
        framework: String,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
    },
}

fn main() -> std::process::ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    let mut flags = Flags {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        ..Flags::default()
    };
    if let Command::Serve { listen, public_url } = &cli.command {
        flags.listen = listen.clone();
        flags.public_url = public_url.clone();
    }
    let config = match Config::load(cli.config.as_deref(), &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    commands::init_logging(&config);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(commands::run(cli.command, config, cli.org)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every command line definition is consistent (clap checks names, groups, defaults).
    #[test]
    fn commands_are_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
