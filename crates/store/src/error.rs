//! Storage errors, with constraint violations told apart so callers can answer 409 or 422.

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was violated; `field` is the column that clashed.
    #[error("{field} is already taken")]
    Unique { field: String },
    /// A foreign key pointed at nothing.
    #[error("a referenced record does not exist")]
    ForeignKey,
    /// A row that had to exist did not.
    #[error("not found")]
    NotFound,
    /// Stored data could not be read back (corruption or a bug).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database URL or connection settings are wrong.
    #[error("{0}")]
    Config(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A backup or restore archive problem.
    #[error("{0}")]
    Archive(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

/// A storage result.
pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => StoreError::Unique {
                    field: unique_field(db.as_ref()),
                },
                sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::ForeignKey,
                _ => StoreError::Db(e),
            },
            _ => StoreError::Db(e),
        }
    }
}

/// The column a unique violation is about. SQLite says `UNIQUE constraint failed:
/// table.a, table.b`; PostgreSQL's detail says `Key (a, b)=(…) already exists.`
fn unique_field(db: &dyn sqlx::error::DatabaseError) -> String {
    let msg = db.message();
    if let Some(cols) = msg.strip_prefix("UNIQUE constraint failed: ") {
        // The last column is the one that distinguishes (the first is usually org_id).
        return cols
            .rsplit(", ")
            .next()
            .and_then(|c| c.rsplit('.').next())
            .unwrap_or("value")
            .to_owned();
    }
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        && let Some(cols) = pg
            .detail()
            .and_then(|d| d.strip_prefix("Key ("))
            .and_then(|d| d.split_once(")="))
            .map(|(cols, _)| cols)
    {
        return cols.rsplit(", ").next().unwrap_or("value").to_owned();
    }
    "value".to_owned()
}
