//! The ISMS scope and context (ISO/IEC 27001 clause 4), one version per save.

use attest_domain::{OrgId, Timestamp};

use crate::{Store, StoreError, StoreResult, Tx};

/// A saved version of the scope document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeVersion {
    /// 1, 2, …
    pub version: i64,
    /// The document (JSON text).
    pub document: String,
    /// What changed, in the author's words.
    pub note: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

type Row = (i64, String, String, String, i64);

fn scope_version(r: Row) -> ScopeVersion {
    ScopeVersion {
        version: r.0,
        document: r.1,
        note: r.2,
        created_by: r.3,
        created_at: Timestamp::from_micros(r.4),
    }
}

/// Saves a new version after the latest (numbered in the database, so two nodes saving at
/// once cannot take the same number: the second fails on the primary key and is retried
/// by its caller or reported).
pub async fn add_version(
    tx: &mut Tx,
    org: OrgId,
    document: &str,
    note: &str,
    by: &str,
    at: Timestamp,
) -> StoreResult<i64> {
    let (next,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM isms_scope_versions WHERE org_id = $1",
    )
    .bind(org.to_string())
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO isms_scope_versions (org_id, version, document, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org.to_string())
    .bind(next)
    .bind(document)
    .bind(note)
    .bind(by)
    .bind(at.as_micros())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Unique { .. } => StoreError::Unique {
            field: "version".into(),
        },
        other => other,
    })?;
    Ok(next)
}

/// One version (the latest when `version` is `None`).
pub async fn get(
    store: &Store,
    org: OrgId,
    version: Option<i64>,
) -> StoreResult<Option<ScopeVersion>> {
    let row: Option<Row> =
        match version {
            Some(v) => sqlx::query_as(
                "SELECT version, document, note, created_by, created_at FROM isms_scope_versions \
                 WHERE org_id = $1 AND version = $2",
            )
            .bind(org.to_string())
            .bind(v)
            .fetch_optional(store.pool())
            .await?,
            None => sqlx::query_as(
                "SELECT version, document, note, created_by, created_at FROM isms_scope_versions \
                 WHERE org_id = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(org.to_string())
            .fetch_optional(store.pool())
            .await?,
        };
    Ok(row.map(scope_version))
}

/// Every version, newest first, without their documents.
pub async fn history(store: &Store, org: OrgId) -> StoreResult<Vec<ScopeVersion>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT version, '' AS document, note, created_by, created_at FROM isms_scope_versions \
         WHERE org_id = $1 ORDER BY version DESC",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(scope_version).collect())
}
