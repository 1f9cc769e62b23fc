//! Which frameworks an organisation uses, the frameworks it imported, and people's reviews of
//! mapping links.

use attest_domain::framework::Framework;
use attest_domain::{OrgId, Timestamp};
use serde::Serialize;

use crate::{Store, StoreError, StoreResult, Tx};

/// The frameworks an organisation uses.
pub async fn in_use(store: &Store, org: OrgId) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT framework_id FROM org_frameworks WHERE org_id = $1 ORDER BY added_at",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Starts (`true`) or stops using a framework. Returns whether anything changed.
pub async fn set_in_use(
    tx: &mut Tx,
    org: OrgId,
    framework: &str,
    used: bool,
    by: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    let r = if used {
        sqlx::query(
            "INSERT INTO org_frameworks (org_id, framework_id, added_by, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, framework_id) DO NOTHING",
        )
        .bind(org.to_string())
        .bind(framework)
        .bind(by)
        .bind(at.as_micros())
        .execute(&mut **tx)
        .await?
    } else {
        sqlx::query("DELETE FROM org_frameworks WHERE org_id = $1 AND framework_id = $2")
            .bind(org.to_string())
            .bind(framework)
            .execute(&mut **tx)
            .await?
    };
    Ok(r.rows_affected() == 1)
}

/// An imported framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFramework {
    /// The framework.
    pub framework: Framework,
    /// The OSCAL catalog it came from, if it came from OSCAL.
    pub oscal: Option<String>,
    /// Who imported it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// Stores an imported framework.
pub async fn insert_custom(
    tx: &mut Tx,
    org: OrgId,
    c: &CustomFramework,
    format: &str,
) -> StoreResult<()> {
    let doc =
        serde_json::to_string(&c.framework).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO custom_frameworks (org_id, id, name, version, format, document, oscal, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(org.to_string())
    .bind(&c.framework.id)
    .bind(&c.framework.name)
    .bind(&c.framework.version)
    .bind(format)
    .bind(doc)
    .bind(c.oscal.as_deref())
    .bind(&c.created_by)
    .bind(c.created_at.as_micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An organisation's imported frameworks.
pub async fn customs(store: &Store, org: OrgId) -> StoreResult<Vec<CustomFramework>> {
    let rows: Vec<(String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT document, oscal, created_by, created_at FROM custom_frameworks WHERE org_id = $1 ORDER BY name",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?;
    rows.into_iter()
        .map(|(doc, oscal, by, at)| {
            Ok(CustomFramework {
                framework: serde_json::from_str(&doc)
                    .map_err(|e| StoreError::Corrupt(format!("imported framework: {e}")))?,
                oscal,
                created_by: by,
                created_at: Timestamp::from_micros(at),
            })
        })
        .collect()
}

/// A person's word on a mapping link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Review {
    /// Source framework.
    pub source_framework: String,
    /// Source requirement.
    pub source_id: String,
    /// Target framework.
    pub target_framework: String,
    /// Target requirement.
    pub target_id: String,
    /// The relationship the person stands behind.
    pub relationship: String,
    /// `confirmed` or `rejected`.
    pub status: String,
    /// `shipped`, `derived` or `user`.
    pub origin: String,
    /// For a derived link, the path it was derived through.
    pub path: String,
    /// A note.
    pub note: String,
    /// Who.
    pub reviewed_by: String,
    /// When (microseconds).
    pub reviewed_at: i64,
}

/// Records (or replaces) a review.
pub async fn put_review(tx: &mut Tx, org: OrgId, r: &Review) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO mapping_reviews (org_id, source_framework, source_id, target_framework, target_id, relationship, status, origin, path, note, reviewed_by, reviewed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (org_id, source_framework, source_id, target_framework, target_id) DO UPDATE SET relationship = excluded.relationship, \
         status = excluded.status, origin = excluded.origin, path = excluded.path, note = excluded.note, reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at",
    )
    .bind(org.to_string())
    .bind(&r.source_framework)
    .bind(&r.source_id)
    .bind(&r.target_framework)
    .bind(&r.target_id)
    .bind(&r.relationship)
    .bind(&r.status)
    .bind(&r.origin)
    .bind(&r.path)
    .bind(&r.note)
    .bind(&r.reviewed_by)
    .bind(r.reviewed_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every review of an organisation.
pub async fn reviews(store: &Store, org: OrgId) -> StoreResult<Vec<Review>> {
    Ok(sqlx::query_as(
        "SELECT source_framework, source_id, target_framework, target_id, relationship, status, origin, path, note, reviewed_by, reviewed_at \
         FROM mapping_reviews WHERE org_id = $1",
    )
    .bind(org.to_string())
    .fetch_all(store.pool())
    .await?)
}
