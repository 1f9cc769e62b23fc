//! The commands: each opens the installation and calls the application's use cases.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use attest_app::{App, AppConfig, Caller};
use attest_blobs::{BlobStore, S3Config};
use attest_store::audit::VerifyScope;
use attest_store::{PoolConfig, Store};
use clap::Subcommand;

use crate::Command;
use crate::config::Config;
pub use crate::program::{ControlCommand, FrameworkCommand};

/// `attest org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Lists organisations.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `attest user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Prints a single-use password reset link for an account (for an owner who is locked
    /// out; Attest sends no e-mail).
    ResetPassword {
        /// The account's e-mail address.
        email: String,
    },
}

/// Sets up logging from the configuration (`ATTEST_LOG`/`RUST_LOG` also work).
pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .map(EnvFilter::new)
        .unwrap_or_else(|_| EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    let store = Store::connect(
        &url,
        &PoolConfig {
            max_connections: config.db_max_connections,
            ..PoolConfig::default()
        },
    )
    .await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    Ok(store)
}

fn open_blobs(config: &Config) -> anyhow::Result<BlobStore> {
    let b = &config.blobs;
    Ok(match b.kind.as_deref().unwrap_or("local") {
        "local" => BlobStore::local(
            &b.dir
                .clone()
                .unwrap_or_else(|| config.data_dir.join("blobs")),
        )?,
        "s3" => BlobStore::s3(&S3Config {
            bucket: b
                .bucket
                .clone()
                .context("blobs.bucket is required when blobs.kind = \"s3\"")?,
            endpoint: b.endpoint.clone(),
            region: b.region.clone(),
            access_key_id: b.access_key_id.clone(),
            secret_access_key: b.secret_access_key.clone(),
            allow_http: b.allow_http.unwrap_or(false),
            prefix: b.prefix.clone(),
        })?,
        other => anyhow::bail!("unknown blobs.kind `{other}`: use local or s3"),
    })
}

fn app_config(config: &Config) -> AppConfig {
    AppConfig {
        public_url: config.public_url(),
        session_idle: time::Duration::minutes(config.session_idle_minutes.max(1)),
        session_absolute: time::Duration::hours(config.session_absolute_hours.max(1)),
        upload_limit: config.upload_limit,
        mail_url: config.mail_url.clone().filter(|u| !u.is_empty()),
        mail_from: config.mail_from.clone(),
        ..AppConfig::default()
    }
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let store = open_store(config).await?;
    Ok(App::new(store, open_blobs(config)?, app_config(config)))
}

/// Runs a command.
pub async fn run(
    command: Command,
    config: Config,
    org: Option<String>,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Framework(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::program::framework(&app, &caller, c).await
        }
        Command::Control(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::program::control(&app, &caller, c).await
        }
        Command::Evidence(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::evidence::evidence(&app, &caller, c).await
        }
        Command::Isms(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::isms::isms(&app, &caller, c).await
        }
        Command::Engagement(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::engagement::engagement(&app, &caller, c).await
        }
        Command::Certificate(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::engagement::certificate(&app, &caller, c).await
        }
        Command::BridgeLetter(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::engagement::bridge_letter(&app, &caller, c).await
        }
        Command::Portal(crate::PortalCommand::Verify {
            file,
            manifest,
            key,
        }) => crate::portal::verify(&file, &manifest, key.as_deref()).await,
        Command::Portal(crate::PortalCommand::Invite {
            email,
            name,
            company,
        }) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            let (account, link) = app.portal_invite(&caller, &email, &name, &company).await?;
            println!("Invited {} ({}).", account.email, account.company);
            println!("Their link (works once): {link}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Portal(crate::PortalCommand::Requests) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            for q in app.portal_customers(&caller).await?.requests {
                println!(
                    "{}\t{}\t{} <{}>, {}\t{} days\t{}",
                    q.request.id,
                    q.state,
                    q.account.name,
                    q.account.email,
                    q.account.company,
                    q.request.days,
                    q.titles.join("; ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Portal(crate::PortalCommand::Publish { id, off }) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            let d = app.publish_document(&caller, &id, !off).await?;
            println!(
                "{} “{}” is {} the trust portal.",
                d.id,
                d.title,
                if off { "off" } else { "published on" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Portal(crate::PortalCommand::Host { name, remove }) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            let name = name.filter(|_| !remove).unwrap_or_default();
            match app.set_portal_host(&caller, &name).await?.host {
                Some(h) => println!("The portal also answers on {h}."),
                None => println!("The portal has no host name of its own."),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Portal(crate::PortalCommand::Logo { file, remove }) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            match file.filter(|_| !remove) {
                Some(path) => {
                    let bytes = std::fs::read(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    let body = futures::stream::iter([Ok::<_, std::convert::Infallible>(
                        bytes::Bytes::from(bytes),
                    )]);
                    let s = app.set_portal_logo(&caller, body).await?;
                    let (sha, kind) = s.logo.unwrap_or_default();
                    println!("Logo set ({kind}, SHA-256 {sha}).");
                }
                None => {
                    app.remove_portal_logo(&caller).await?;
                    println!("Logo removed.");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(crate::DemoCommand::Load) => {
            let app = open_app(&config).await?;
            let done = match app.load_demo().await {
                Ok(d) => d,
                Err(attest_app::AppError::Conflict { .. }) => {
                    eprintln!(
                        "The demo organisation \"{}\" already exists in this database.",
                        attest_app::demo::DEMO_ORG
                    );
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            };
            let base = config.public_url();
            let base = base.trim_end_matches('/');
            println!(
                "Loaded the demo organisation \"{}\".",
                attest_app::demo::DEMO_ORG
            );
            println!(
                "Trust portal:  {base}/trust/{}  (Korean: {base}/trust/{}?lang=ko)",
                done.slug, done.slug
            );
            match done.one_time_password {
                Some(p) => {
                    println!("Staff sign-in: {base}/login");
                    println!("  e-mail:            {}", done.email);
                    println!("  one-time password: {p}");
                }
                None => println!("Staff sign-in: {base}/login as {}", done.email),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::policy::policy(&app, &caller, c).await
        }
        Command::Soa(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::soa::soa(&app, &caller, c).await
        }
        Command::Risk(c) => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::risk::risk(&app, &caller, c).await
        }
        Command::Coverage { framework, format } => {
            let app = open_app(&config).await?;
            let caller = org_caller(&app, org.as_deref()).await?;
            crate::program::coverage(&app, &caller, &framework, &format).await
        }
        Command::Serve { .. } => serve(config).await,
        Command::Init { org, email } => {
            let app = open_app(&config).await?;
            let done = app
                .create_organisation(&Caller::cli(None), &org, &email)
                .await?;
            println!(
                "Created organisation \"{}\" (short name: {}).",
                done.org.name, done.org.slug
            );
            match done.one_time_password {
                Some(p) => {
                    println!("Its owner signs in at {}/login with:", config.public_url());
                    println!("  e-mail:            {}", done.email);
                    println!("  one-time password: {p}");
                    println!("and chooses a new password at first sign-in.");
                }
                None => println!(
                    "{} already had an account and is now also this organisation's owner.",
                    done.email
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = Store::connect(&config.database_url(), &PoolConfig::default()).await?;
            let applied = store.migrate().await?;
            if applied.is_empty() {
                println!(
                    "The database is up to date (schema version {}).",
                    Store::schema_version()
                );
            } else {
                for m in applied {
                    println!("applied {m}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { chain_only, json } => {
            let app = open_app(&config).await?;
            let scope = if chain_only {
                VerifyScope::Chain
            } else {
                VerifyScope::Full
            };
            let started = std::time::Instant::now();
            let reports = app.verify_audit_trail(scope).await?;
            let entries: i64 = reports.iter().map(|r| r.verified).sum();
            let broken: Vec<_> = reports.iter().filter(|r| r.problem.is_some()).collect();
            let blobs = app.verify_blobs().await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "audit_trail": reports, "evidence_files": blobs })
                    )?
                );
            } else {
                for (what, list) in [
                    ("MISSING ", &blobs.missing),
                    ("CORRUPT ", &blobs.corrupt),
                    ("ORPHANED", &blobs.orphaned),
                ] {
                    for (org, sha) in list {
                        println!("{what} evidence file {sha} of organisation {org}");
                    }
                }
                for p in &blobs.strays {
                    println!("STRAY    file {p} in the evidence store");
                }
                for (id, sha) in &blobs.unrecorded {
                    println!("MISSING  blob record {sha} of evidence {id}");
                }
                println!(
                    "{} evidence files ({} bytes) re-hashed: {}",
                    blobs.checked,
                    blobs.bytes,
                    if blobs.ok() {
                        "no problems found"
                    } else {
                        "PROBLEMS FOUND"
                    }
                );
                for r in &reports {
                    match &r.problem {
                        None => {
                            println!("ok      audit chain {} ({} entries)", r.chain, r.verified)
                        }
                        Some(p) => println!(
                            "BROKEN  audit chain {}: {p} ({} entries verified before it)",
                            r.chain, r.verified
                        ),
                    }
                }
                println!(
                    "{} chains, {entries} entries checked in {:.2} s: {}",
                    reports.len(),
                    started.elapsed().as_secs_f64(),
                    if broken.is_empty() {
                        "no problems found"
                    } else {
                        "PROBLEMS FOUND"
                    }
                );
            }
            Ok(if broken.is_empty() && blobs.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Backup { file } => {
            let app = open_app(&config).await?;
            let m = app.backup_to(&file).await?;
            let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
            println!(
                "Wrote {}: {rows} rows in {} tables, {} evidence files ({} bytes).",
                file.display(),
                m.tables.len(),
                m.blobs,
                m.blob_bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file } => {
            let app = open_app(&config).await?;
            let m = app.restore_from(&file).await?;
            let rows: u64 = m.tables.iter().map(|t| t.rows).sum();
            println!(
                "Restored {}: {rows} rows, {} evidence files, taken from {} at {}.",
                file.display(),
                m.blobs,
                m.source_backend,
                m.created_at
            );
            let reports = app.verify_audit_trail(VerifyScope::Full).await?;
            if let Some(r) = reports.iter().find(|r| r.problem.is_some()) {
                println!(
                    "WARNING: the restored audit chain {} does not verify: {}",
                    r.chain,
                    r.problem.as_deref().unwrap_or_default()
                );
                return Ok(ExitCode::FAILURE);
            }
            println!("The restored audit trail verifies.");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::List { json }) => {
            let app = open_app(&config).await?;
            let orgs = app.all_organisations().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&orgs)?);
            } else {
                for o in orgs {
                    println!("{}  {}  {}", o.id, o.slug, o.name);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::ResetPassword { email }) => {
            let app = open_app(&config).await?;
            let link = app.cli_reset_link(&email).await?;
            println!("Single-use reset link for {email} (valid for one hour):\n  {link}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The command-line caller in the organisation `--org` names (or the only one).
async fn org_caller(app: &App, slug: Option<&str>) -> anyhow::Result<Caller> {
    let org = match slug {
        Some(s) => app.organisation_by_slug(s).await.map_err(|_| {
            anyhow::anyhow!("no organisation has the short name `{s}` (see `attest org list`)")
        })?,
        None => {
            let mut all = app.all_organisations().await?;
            match all.len() {
                0 => anyhow::bail!("there is no organisation yet: create one with `attest init`"),
                1 => all.remove(0),
                _ => anyhow::bail!(
                    "there are several organisations: say which with --org SLUG (see `attest org list`)"
                ),
            }
        }
    };
    Ok(Caller::cli(Some(org.id)))
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let app = open_app(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let web = attest_web::WebConfig {
        secure_cookies: public_url.starts_with("https://"),
        public_url: public_url.clone(),
        trust_proxy: config.trust_proxy,
        ..attest_web::WebConfig::default()
    };
    let has_users = app.any_users().await?;
    tracing::info!(database = %attest_store::redact_url(&config.database_url()), blobs = %app.blobs().description(), "attest {} started", env!("CARGO_PKG_VERSION"));
    println!("Attest is running at {public_url}");
    if has_users {
        println!("Sign in at {public_url}/login");
    } else {
        println!(
            "Nobody can sign in yet. Create your organisation and its first owner (in another terminal):"
        );
        println!("  attest init --org \"Example Ltd\" --email you@example.com");
        println!("then sign in at {public_url}/login with the one-time password it prints.");
    }
    let state = attest_web::AppState {
        app,
        web: Arc::new(web),
    };
    attest_web::serve(listener, state).await?;
    Ok(ExitCode::SUCCESS)
}
