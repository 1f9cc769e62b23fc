//! The errors use cases return; the web layer maps each kind to one HTTP status in one place.

use attest_store::StoreError;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist (or belongs to another organisation: the same answer).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input is invalid; `field` names it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The change clashes with existing data; `field` names what clashed.
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// A rule of the domain forbids it; `rule` names the rule.
    #[error("{message}")]
    Rule { rule: &'static str, message: String },
    /// A file was refused as a whole; every problem found is listed with where it is.
    #[error("{message}")]
    Rejected {
        message: String,
        problems: Vec<attest_domain::framework::Problem>,
    },
    /// Too many attempts; try again after the given number of seconds.
    #[error("too many attempts: try again in {retry_after} seconds")]
    Throttled { retry_after: u64 },
    /// The content is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// A service Attest depends on failed (the evidence store is full or unreachable):
    /// `message` is shown, `detail` only logged (it may name paths or hosts).
    #[error("{message}")]
    Unavailable { message: String, detail: String },
    /// Anything else: logged in full, shown to people as a generic failure.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A use case's result.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// An invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// Maps a store error of an insert numbered by the per-organisation reference counter:
    /// two nodes taking the same number at once collide on the unique key, and the second
    /// caller is told to try again (`what`: "engagement", "request", …).
    pub(crate) fn ref_clash(what: &'static str) -> impl Fn(attest_store::StoreError) -> AppError {
        move |e| match e {
            attest_store::StoreError::Unique { .. } => AppError::Conflict {
                field: "ref".into(),
                message: format!("another {what} was added at the same moment: try again"),
            },
            other => other.into(),
        }
    }

    /// A machine-readable code for the error shape of the API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict { .. } => "conflict",
            AppError::Rule { .. } => "rule_violation",
            AppError::Rejected { .. } => "invalid_file",
            AppError::Throttled { .. } => "throttled",
            AppError::TooLarge(_) => "too_large",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The field an error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique { field } => AppError::Conflict {
                message: format!("{} is already in use", field.replace('_', " ")),
                field,
            },
            StoreError::ForeignKey => AppError::Invalid {
                field: "reference".into(),
                message: "a referenced record does not exist".into(),
            },
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Archive(m) => AppError::invalid("archive", m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<attest_store::DbError> for AppError {
    fn from(e: attest_store::DbError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<attest_blobs::BlobError> for AppError {
    fn from(e: attest_blobs::BlobError) -> Self {
        use attest_blobs::BlobError as B;
        match e {
            B::TooLarge { .. } => AppError::TooLarge(e.to_string()),
            B::HashMismatch { .. } => AppError::invalid("sha256", e.to_string()),
            B::Interrupted(_) => AppError::invalid("file", e.to_string()),
            B::NotFound => AppError::NotFound("file"),
            B::Corrupt { .. } => AppError::Unavailable {
                message: "the stored file is damaged and cannot be served; \
                          an administrator should run `attest verify`"
                    .to_owned(),
                detail: e.to_string(),
            },
            B::Store(ref source) => {
                let message = if storage_full(source) {
                    "the evidence store is out of space: nothing was saved; \
                     free space in the store, then try again"
                } else {
                    "the evidence store is unavailable: nothing was saved; try again later"
                };
                AppError::Unavailable {
                    message: message.to_owned(),
                    detail: e.to_string(),
                }
            }
            B::Config(_) => AppError::Internal(e.to_string()),
        }
    }
}

/// Whether a storage error comes from a full disk (`ENOSPC`, or a quota: `EDQUOT`).
fn storage_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && (io.kind() == std::io::ErrorKind::StorageFull
                || io.kind() == std::io::ErrorKind::QuotaExceeded)
        {
            return true;
        }
        cur = err.source();
    }
    false
}
