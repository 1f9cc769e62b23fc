//! Fresh databases for tests, on either backend (feature `test-support`).
//!
//! PostgreSQL tests use `ATTEST_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) to create one database per test.
//! `ATTEST_TEST_PG=require` makes an unreachable server a failure (CI);
//! `ATTEST_TEST_PG=skip` skips those tests; otherwise they are skipped with a loud warning
//! when no server answers.

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

use crate::{Backend, PoolConfig, Store};

/// A database made for one test, removed when dropped.
pub struct TestDb {
    /// The migrated store.
    pub store: Store,
    /// Its URL (for a second connection, or to hand to a server).
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile_dir::Dir>,
}

impl TestDb {
    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

mod tempfile_dir {
    /// A temporary directory removed on drop (kept small to avoid a dependency).
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh, migrated SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("attest-test-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/attest.db", dir.display());
    let store = Store::connect(&url, &PoolConfig::default())
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    TestDb {
        store,
        url,
        pg_name: None,
        _dir: Some(tempfile_dir::Dir(dir)),
    }
}

/// The PostgreSQL server URL tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("ATTEST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static WARNED: AtomicBool = AtomicBool::new(false);

/// A fresh, migrated PostgreSQL database, or `None` when PostgreSQL tests are skipped.
pub async fn postgres() -> Option<TestDb> {
    let mode = std::env::var("ATTEST_TEST_PG").unwrap_or_default();
    if mode == "skip" {
        warn_skip("ATTEST_TEST_PG=skip");
        return None;
    }
    sqlx::any::install_default_drivers();
    let admin_url = postgres_admin_url();
    let admin = match AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&admin_url)
        .await
    {
        Ok(p) => p,
        Err(e) if mode != "require" => {
            warn_skip(&format!(
                "cannot reach {}: {e}",
                crate::redact_url(&admin_url)
            ));
            return None;
        }
        Err(e) => {
            panic!("ATTEST_TEST_PG=require but PostgreSQL is unreachable at {admin_url}: {e}")
        }
    };
    let name = format!("attest_t_{}", uuid::Uuid::now_v7().simple());
    admin
        .execute(sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name}"
        ))))
        .await
        .expect("create test database");
    admin.close().await;
    let url = with_database(&admin_url, &name);
    let store = Store::connect(
        &url,
        &PoolConfig {
            max_connections: 8,
            ..PoolConfig::default()
        },
    )
    .await
    .expect("connect to test database");
    store.migrate().await.expect("migrate postgres");
    Some(TestDb {
        store,
        url,
        pg_name: Some(name),
        _dir: None,
    })
}

/// A fresh database of the given backend (`None`: PostgreSQL skipped).
pub async fn fresh(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => Some(sqlite().await),
        Backend::Postgres => postgres().await,
    }
}

fn warn_skip(why: &str) {
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "\n*** WARNING: PostgreSQL tests are SKIPPED ({why}).\n*** Set ATTEST_TEST_POSTGRES_URL to a server (or run ./scripts/test, which starts one).\n"
        );
    }
}

fn with_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("postgres url");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let store = self.store.clone();
        // Dropping a database needs async I/O; do it on a thread of its own so this works
        // whether or not the test's runtime is still alive.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    store.close().await;
                    if let Ok(admin) = AnyPoolOptions::new()
                        .max_connections(1)
                        .connect(&postgres_admin_url())
                        .await
                    {
                        let _ = admin
                            .execute(sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))))
                            .await;
                        admin.close().await;
                    }
                });
            }
        })
        .join();
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL:
/// `backend_test!(name, |db| async move { … })` where `db: TestDb`.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::testing::sqlite().await;
                ($body)(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::testing::postgres().await {
                    ($body)(db).await;
                }
            }
        }
    };
}
