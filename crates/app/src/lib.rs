//! Attest's use cases. Every public operation takes the [`Caller`], checks the permission it
//! needs in [`authz`] (default deny), runs in one database transaction and writes its audit
//! entry in that same transaction. The web layer and the command line only call into here.

pub mod audit_trail;
pub mod authz;
pub mod backup;
pub mod control;
pub mod coverage;
pub mod demo;
pub mod documents;
pub mod engagement;
mod error;
pub mod evidence;
pub mod framework;
pub mod identity;
pub mod internal_audit;
pub mod isms;
pub mod mail;
pub mod mapping;
pub mod nonconformity;
pub mod objective;
pub mod org;
pub mod policy;
pub mod portal;
pub mod portal_brand;
pub mod portal_customers;
pub mod portal_reset;
pub mod risk;
pub mod risk_sheet;
pub mod secret;
pub mod soa;
pub mod workpapers;
pub mod workspace;

use std::sync::Arc;

use attest_blobs::BlobStore;
use attest_catalog::registry::Catalogs;
use attest_store::Store;

pub use authz::{Caller, Permission};
pub use error::{AppError, AppResult};

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The address people reach Attest at (`https://attest.example.com`), for links.
    pub public_url: String,
    /// A session ends after this long without a request.
    pub session_idle: time::Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub session_absolute: time::Duration,
    /// How long an invitation link stays valid.
    pub invitation_ttl: time::Duration,
    /// How long a password reset link stays valid.
    pub reset_ttl: time::Duration,
    /// Largest evidence upload, in bytes.
    pub upload_limit: u64,
    /// Where mail goes: `smtp://…`, `smtps://…` or `file:///dir` (none: no mail is sent).
    pub mail_url: Option<String>,
    /// The sender of the mail Attest sends.
    pub mail_from: String,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            session_idle: time::Duration::hours(1),
            session_absolute: time::Duration::hours(12),
            invitation_ttl: time::Duration::days(7),
            reset_ttl: time::Duration::hours(1),
            upload_limit: 5 * 1024 * 1024 * 1024,
            mail_url: None,
            mail_from: "Attest <attest@localhost>".into(),
        }
    }
}

/// The application: storage, blobs and settings. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    store: Store,
    blobs: BlobStore,
    config: Arc<AppConfig>,
    catalogs: Arc<Catalogs>,
    snapshots: coverage::SnapshotCache,
    portal_cache: portal::PortalCache,
}

impl App {
    /// Builds the application over a migrated store.
    pub fn new(store: Store, blobs: BlobStore, config: AppConfig) -> Self {
        Self {
            store,
            blobs,
            config: Arc::new(config),
            catalogs: Catalogs::shared(),
            snapshots: coverage::SnapshotCache::default(),
            portal_cache: portal::PortalCache::default(),
        }
    }

    /// The store (for health checks and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The blob store.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The built-in catalogs.
    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// The settings.
    pub fn config(&self) -> &AppConfig {
        &self.config
    }
}

/// Makes a document off the threads that serve requests (typesetting is CPU work); text no
/// installed font can draw is a refusal the user can act on, anything else an internal error.
pub(crate) async fn typeset<T: Send + 'static>(
    make: impl FnOnce() -> Result<T, attest_report::ReportError> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(make)
        .await
        .map_err(|e| AppError::Internal(format!("typesetting: {e}")))?
        .map_err(|e| match e {
            attest_report::ReportError::MissingGlyphs { .. } => AppError::Rule {
                rule: "fonts",
                message: e.to_string(),
            },
            other => AppError::Internal(other.to_string()),
        })
}
