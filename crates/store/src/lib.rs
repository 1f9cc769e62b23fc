//! Attest's persistence: one repository layer whose SQL runs unchanged on SQLite and
//! PostgreSQL (through `sqlx::Any`), with one set of portable migrations.
//!
//! Portable means: columns are `TEXT`, `BIGINT` or `DOUBLE PRECISION` only (ids are UUID
//! text, instants are microseconds since the epoch, dates are `YYYY-MM-DD` text, JSON is
//! text); placeholders are `$1`; nothing relies on one engine's functions. Anything that must
//! be ordered across several `attest` nodes is serialised by the database itself: writes run
//! in transactions that take the write lock up front (`BEGIN IMMEDIATE` on SQLite) or a row
//! lock (`UPDATE … RETURNING` on PostgreSQL).

pub mod audit;
pub mod backup;
pub mod control;
pub mod customers;
pub mod engagement;
mod error;
pub mod evidence;
pub mod framework;
pub mod internal_audit;
pub mod invitation;
pub mod isms;
pub mod nonconformity;
pub mod objective;
pub mod org;
pub mod policy;
pub mod portal;
pub mod risk;
pub mod session;
pub mod soa;
pub mod sso;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod throttle;
pub mod token;
pub mod user;
pub mod workspace;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor};

use attest_domain::OrgId;

pub use error::{StoreError, StoreResult};
/// The database driver's error (what committing a [`Tx`] can return).
pub use sqlx::Error as DbError;

/// A write transaction: every use case runs its changes and its audit entry in one.
pub type Tx = sqlx::Transaction<'static, Any>;

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL, for several nodes on one database.
    Postgres,
}

impl Backend {
    /// Which backend a database URL names.
    pub fn of_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL `{}`: use sqlite://PATH or postgres://USER@HOST/DB",
                redact_url(url)
            )))
        }
    }

    /// The lower-case name (`sqlite`, `postgres`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database URL with any password replaced, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Connection pool settings.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The handle to Attest's database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects to the database a URL names, creating a SQLite file (and its directory) if
    /// needed. Does not migrate: call [`Store::migrate`].
    pub async fn connect(url: &str, config: &PoolConfig) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            url = prepare_sqlite_url(&url)?;
        }
        let options = AnyConnectOptions::from_str(&url).map_err(|e| {
            StoreError::Config(format!("invalid database URL `{}`: {e}", redact_url(&url)))
        })?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout);
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; NORMAL is durable in WAL
                    // mode except for the last transactions before a power loss.
                    // page_size only takes effect on a new database: 16 KiB pages suit rows
                    // of several hundred bytes (audit entries, evidence) better than 4 KiB.
                    conn.execute("PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await.map_err(|e| {
            StoreError::Config(format!("cannot connect to {}: {e}", redact_url(&url)))
        })?;
        Ok(Self { pool, backend, url })
    }

    /// Applies pending migrations (safe to run from several nodes at once on PostgreSQL).
    pub async fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        let before: Vec<i64> = applied_versions(&mut conn).await.unwrap_or_default();
        MIGRATOR.run(&mut *conn).await?;
        drop(conn);
        evidence::ensure_title_search(self).await?;
        audit::ensure_chain(self, attest_domain::audit::INSTANCE_CHAIN).await?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| !before.contains(&m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect())
    }

    /// The latest migration this build knows.
    pub fn schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The database file, when the backend is SQLite.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self
            .url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        Some(rest.split_once('?').map_or(rest, |(p, _)| p).into())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once, so concurrent
    /// writers queue (up to the busy timeout) instead of failing when they upgrade.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Starts a read-only transaction that sees one consistent snapshot (used by backups).
    pub async fn begin_snapshot(&self) -> StoreResult<Tx> {
        Ok(match self.backend {
            // In WAL mode a deferred transaction's first read fixes its snapshot.
            Backend::Sqlite => self.pool.begin_with("BEGIN DEFERRED").await?,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn applied_versions(conn: &mut sqlx::AnyConnection) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Makes sure a SQLite URL creates its file, and that the file's directory exists.
fn prepare_sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(
            "an in-memory SQLite database would lose everything on exit: give a file path".into(),
        ));
    }
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!(
                "cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// The next per-organisation reference of a table (`NC-001`, `POL-002`, …): the count of
/// the organisation's rows plus one. Two nodes taking the same number at once collide on
/// the table's unique `(org_id, ref)` key, and the second is told to try again.
pub(crate) async fn next_ref(
    tx: &mut Tx,
    table: &'static str,
    prefix: &str,
    org: OrgId,
) -> StoreResult<String> {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {table} WHERE org_id = $1"
    )))
    .bind(org.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!("{prefix}-{:03}", n + 1))
}

/// Takes a row's lock for the rest of the transaction with a no-op update (a row lock on
/// PostgreSQL; SQLite's writers are serialised by `BEGIN IMMEDIATE` anyway), so two changes
/// to the same object are serialised in the database on every node.
pub(crate) async fn lock_row(
    tx: &mut Tx,
    table: &'static str,
    org: OrgId,
    id: &str,
) -> StoreResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET updated_at = updated_at WHERE org_id = $1 AND id = $2"
    )))
    .bind(org.to_string())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
