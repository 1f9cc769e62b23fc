//! A whole Attest server for tests: a fresh database of either backend, a temporary blob
//! directory, the real router on `127.0.0.1:0`, and helpers to make organisations, members
//! and signed-in HTTP clients.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use attest_app::{App, AppConfig, Caller};
use attest_blobs::BlobStore;
use attest_domain::OrgId;
use attest_domain::role::Role;
pub use attest_store::Backend;
use attest_store::testing::{self, TestDb};
pub use attest_web::routes::{Access, Registry, RouteSpec};
use reqwest::redirect::Policy;

pub mod stores;

/// A running server.
pub struct TestServer {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The application behind it (to arrange data directly).
    pub app: App,
    /// The database.
    pub db: TestDb,
    /// The blob directory.
    pub blob_dir: tempfile::TempDir,
    /// Every route the server has.
    pub specs: Vec<RouteSpec>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A password every test account uses.
pub const PASSWORD: &str = "test password for attest";

/// An organisation with one member per role.
#[derive(Debug, Clone)]
pub struct TestOrg {
    /// Id.
    pub id: OrgId,
    /// Short name.
    pub slug: String,
    /// E-mail address of the member holding each role.
    pub members: BTreeMap<Role, String>,
}

impl TestOrg {
    /// The e-mail of the member with a role.
    pub fn email(&self, role: Role) -> &str {
        &self.members[&role]
    }
}

impl TestServer {
    /// Starts a server on a fresh database of `backend` (`None` when PostgreSQL tests are
    /// skipped).
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |r| r).await
    }

    /// Starts a server whose route registry is extended by `extend` (for tests that need a
    /// deliberately broken route).
    pub async fn start_with(
        backend: Backend,
        extend: impl FnOnce(Registry) -> Registry,
    ) -> Option<Self> {
        Self::start_full(backend, extend, |_| {}, None).await
    }

    /// Starts a server with changed settings (a small upload limit, say).
    pub async fn start_configured(
        backend: Backend,
        configure: impl FnOnce(&mut AppConfig),
    ) -> Option<Self> {
        Self::start_full(backend, |r| r, configure, None).await
    }

    /// Starts a server whose evidence goes to the blob store `blobs` makes (given the
    /// server's temporary blob directory): an S3 bucket, or a disk that fills up.
    pub async fn start_with_blobs(
        backend: Backend,
        blobs: impl FnOnce(&std::path::Path) -> BlobStore,
    ) -> Option<Self> {
        let blob_dir = tempfile::tempdir().expect("temp dir");
        let blobs = blobs(blob_dir.path());
        Self::start_full(backend, |r| r, |_| {}, Some((blob_dir, blobs))).await
    }

    async fn start_full(
        backend: Backend,
        extend: impl FnOnce(Registry) -> Registry,
        configure: impl FnOnce(&mut AppConfig),
        blobs: Option<(tempfile::TempDir, BlobStore)>,
    ) -> Option<Self> {
        let (blob_dir, blobs) = blobs.unwrap_or_else(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = BlobStore::local(dir.path()).expect("blob store");
            (dir, store)
        });
        let db = testing::fresh(backend).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let url = format!("http://{addr}");
        let mut config = AppConfig {
            public_url: url.clone(),
            ..AppConfig::default()
        };
        configure(&mut config);
        let app = App::new(db.store.clone(), blobs, config);
        let state = attest_web::AppState {
            app: app.clone(),
            web: Arc::new(attest_web::WebConfig {
                public_url: url.clone(),
                ..attest_web::WebConfig::default()
            }),
        };
        let (router, specs) = attest_web::router_with(state, extend);
        let task = tokio::spawn(async move {
            let _ = attest_web::serve_router(listener, router).await;
        });
        Some(Self {
            url,
            app,
            db,
            blob_dir,
            specs,
            task,
        })
    }

    /// Creates an organisation with a member for every role, each with [`PASSWORD`].
    pub async fn org(&self, name: &str) -> TestOrg {
        let tag = name
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "");
        let founder = format!("founder-{tag}@example.test");
        let created = self
            .app
            .create_organisation(&Caller::cli(None), name, &founder)
            .await
            .expect("create organisation");
        let cli = Caller::cli(Some(created.org.id));
        let mut members = BTreeMap::new();
        for role in Role::ALL {
            let email = format!("{}-{tag}@example.test", role.as_str());
            let invited = self.app.invite(&cli, &email, role).await.expect("invite");
            let token = invited.link.rsplit('/').next().expect("token").to_owned();
            self.app
                .accept_invitation(
                    &Caller::anonymous(None, None),
                    &token,
                    Some(role.label()),
                    Some(PASSWORD),
                )
                .await
                .expect("accept invitation");
            members.insert(role, email);
        }
        TestOrg {
            id: created.org.id,
            slug: created.org.slug.to_string(),
            members,
        }
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client")
    }

    /// Signs in through the real sign-in form; returns the client and its CSRF token.
    pub async fn sign_in(&self, email: &str, password: &str) -> Browser {
        let client = self.client();
        let login = client
            .get(format!("{}/login", self.url))
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("body");
        let csrf = hidden_csrf(&login).expect("csrf field on the login page");
        let resp = client
            .post(format!("{}/login", self.url))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("sign in");
        assert_eq!(
            resp.status(),
            303,
            "sign in as {email} failed: {}",
            resp.text().await.unwrap_or_default()
        );
        let account = client
            .get(format!("{}/account", self.url))
            .send()
            .await
            .expect("account page")
            .text()
            .await
            .expect("body");
        let csrf = meta_csrf(&account).expect("csrf meta tag on the account page");
        Browser {
            client,
            csrf,
            url: self.url.clone(),
        }
    }
}

/// A signed-in browser: cookies plus the session's CSRF token.
pub struct Browser {
    /// The HTTP client with the session cookie.
    pub client: reqwest::Client,
    /// The session's CSRF token.
    pub csrf: String,
    /// Base URL.
    pub url: String,
}

impl Browser {
    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET")
    }

    /// POST a form (with the CSRF token added).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.url))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    /// Sends a JSON API request with the CSRF header.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("API request")
    }
}

/// The `_csrf` hidden field of a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(html[i..].split('"').next()?.to_owned())
}

/// The CSRF token of the staff layout's meta tag.
pub fn meta_csrf(html: &str) -> Option<String> {
    let i = html.find("name=\"csrf-token\" content=\"")? + "name=\"csrf-token\" content=\"".len();
    Some(html[i..].split('"').next()?.to_owned())
}

/// Declares a test that runs against a real server on SQLite and on PostgreSQL:
/// `server_test!(name, |srv| async move { … })` where `srv: TestServer`.
#[macro_export]
macro_rules! server_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let srv = $crate::TestServer::start($crate::Backend::Sqlite)
                    .await
                    .expect("sqlite server");
                ($body)(srv).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(srv) = $crate::TestServer::start($crate::Backend::Postgres).await {
                    ($body)(srv).await;
                }
            }
        }
    };
}

/// Asserts a response's status and returns its JSON body (`null` when empty).
pub async fn json_of(resp: reqwest::Response, want: reqwest::StatusCode) -> serde_json::Value {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, want, "{body}");
    if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    }
}

/// Every file under a directory, recursively (a blob store's content and anything else).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            if e.file_type().expect("file type").is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// A real one-page PDF (typeset once per process), for documents that must be readable and
/// stampable.
pub fn pdf() -> &'static [u8] {
    static PDF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PDF.get_or_init(|| {
        attest_report::sample::pdf(&attest_report::sample::SampleDocument {
            title: "A report".into(),
            organisation: "Test organisation".into(),
            issuer: "Test LLP".into(),
            dated: "2026-01-01".into(),
            paragraphs: vec!["The report's text.".into()],
            generated_on: time::macros::date!(2026 - 01 - 01),
        })
        .expect("a sample PDF")
    })
}
