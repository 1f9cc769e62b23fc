//! Configuration: built-in defaults, then a TOML file, then `ATTEST_*` environment
//! variables, then command-line flags — each later source wins.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Where evidence blobs are kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct BlobConfig {
    /// `local` (a directory, the default) or `s3`.
    pub kind: Option<String>,
    /// Directory for `local` (default: `<data_dir>/blobs`).
    pub dir: Option<PathBuf>,
    /// Bucket for `s3`.
    pub bucket: Option<String>,
    /// Endpoint of an S3-compatible service.
    pub endpoint: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Allow plain HTTP to the endpoint.
    pub allow_http: Option<bool>,
    /// Key prefix inside the bucket.
    pub prefix: Option<String>,
}

/// Every setting of an installation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for the SQLite database and local evidence blobs.
    pub data_dir: PathBuf,
    /// Database URL (default: SQLite in `data_dir`); `postgres://…` for PostgreSQL.
    pub database_url: Option<String>,
    /// Most database connections per node.
    pub db_max_connections: u32,
    /// Address the server listens on.
    pub listen: String,
    /// The address people reach Attest at (default: `http://<listen>`); an `https://` URL
    /// turns on Secure cookies and HSTS.
    pub public_url: Option<String>,
    /// Take client addresses from `X-Forwarded-For` (only behind a proxy you control).
    pub trust_proxy: bool,
    /// Largest evidence upload in bytes.
    pub upload_limit: u64,
    /// Where mail to portal customers goes: `smtp://user:pass@host:587` (STARTTLS),
    /// `smtps://…`, or `file:///dir` (one .eml file per message); none: no mail is sent.
    pub mail_url: Option<String>,
    /// The sender of that mail.
    pub mail_from: String,
    /// Minutes without activity after which a session ends.
    pub session_idle_minutes: i64,
    /// Hours after sign-in after which a session ends.
    pub session_absolute_hours: i64,
    /// `pretty` or `json` logs.
    pub log_format: String,
    /// Log filter (`info`, `attest=debug,info`, …).
    pub log: String,
    /// Evidence blob storage.
    pub blobs: BlobConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./attest-data"),
            database_url: None,
            db_max_connections: 16,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trust_proxy: false,
            upload_limit: 5 * 1024 * 1024 * 1024,
            mail_url: None,
            mail_from: "Attest <attest@localhost>".into(),
            session_idle_minutes: 60,
            session_absolute_hours: 12,
            log_format: "pretty".into(),
            log: "info".into(),
            blobs: BlobConfig::default(),
        }
    }
}

/// The top-level keys, as `ATTEST_<KEY>` environment variables may name them.
const SETTINGS: &[&str] = &[
    "data_dir",
    "database_url",
    "db_max_connections",
    "listen",
    "public_url",
    "trust_proxy",
    "upload_limit",
    "mail_url",
    "mail_from",
    "session_idle_minutes",
    "session_absolute_hours",
    "log_format",
    "log",
];

/// Settings given as command-line flags (absent ones leave the other sources alone).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl Config {
    /// Loads the configuration: defaults, the file (`--config`, else `attest.toml` if it
    /// exists), `ATTEST_*` variables (`ATTEST_BLOBS__BUCKET` for nested keys), then flags.
    pub fn load(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                if !f.exists() {
                    anyhow::bail!("the configuration file {} does not exist", f.display());
                }
                fig = fig.merge(Toml::file(f));
            }
            None => fig = fig.merge(Toml::file("attest.toml")),
        }
        // Only variables naming a setting: ATTEST_CONFIG and the test suite's own ATTEST_*
        // variables are not settings and must not stop the server.
        let env = Env::prefixed("ATTEST_")
            .filter(|k| {
                let k = k.as_str().to_ascii_lowercase();
                SETTINGS.contains(&k.as_str()) || k.starts_with("blobs__")
            })
            .split("__");
        fig = fig.merge(env).merge(Serialized::defaults(flags));
        fig.extract()
            .map_err(|e| anyhow::anyhow!("configuration error: {e}"))
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("attest.db").display()))
    }

    /// The public URL in effect.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[cfg(test)]
// figment's Jail closures must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("custom.toml", "listen = \"0.0.0.0:9000\"\ndb_max_connections = 4\n[blobs]\nkind = \"s3\"\nbucket = \"from-file\"\n")?;
            jail.set_env("ATTEST_DB_MAX_CONNECTIONS", "8");
            jail.set_env("ATTEST_BLOBS__BUCKET", "from-env");
            jail.set_env("ATTEST_TEST_PG", "skip");
            jail.set_env("ATTEST_BIN", "/usr/bin/attest");
            let flags = Flags {
                listen: Some("127.0.0.1:7000".into()),
                ..Flags::default()
            };
            let c =
                Config::load(Some(Path::new("custom.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:7000");
            assert_eq!(c.db_max_connections, 8);
            assert_eq!(c.blobs.bucket.as_deref(), Some("from-env"));
            assert_eq!(c.blobs.kind.as_deref(), Some("s3"));
            assert_eq!(c.session_idle_minutes, 60);
            assert_eq!(c.database_url(), "sqlite://./attest-data/attest.db");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "listne = \"x\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), &Flags::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("listne"), "{err}");
            Ok(())
        });
    }
}
