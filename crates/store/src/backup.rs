//! Portable table dumps and restores: every row as JSON values with each column's type, read
//! inside one snapshot and written back into either backend. The archive format around it
//! lives in the application layer (it also carries the evidence blobs).

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{Column, Row, TypeInfo, ValueRef};

use crate::{Backend, Store, StoreError, StoreResult, Tx};

/// A table and how backups treat it.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// The columns its rows are dumped in order of (parents before children within it).
    pub order: &'static str,
    /// Whether backups carry it; sign-in state (sessions, throttles, SSO logins in flight,
    /// reset links) is not restored, so a restored copy never resumes someone's session.
    pub backed_up: bool,
}

const fn t(name: &'static str, order: &'static str) -> Table {
    Table {
        name,
        order,
        backed_up: true,
    }
}

const fn ephemeral(name: &'static str, order: &'static str) -> Table {
    Table {
        name,
        order,
        backed_up: false,
    }
}

/// Every table, parents before children. A conformance test checks this list against the
/// tables the migrations create.
pub const TABLES: &[Table] = &[
    t("organisations", "id"),
    t("audit_heads", "chain"),
    t("audit_log", "chain, seq"),
    t("blobs", "org_id, sha256"),
    t("users", "id"),
    t("memberships", "org_id, user_id"),
    t("role_history", "id"),
    t("recovery_codes", "user_id, code_hash"),
    ephemeral("sessions", "id_hash"),
    t("api_tokens", "id"),
    t("invitations", "id"),
    ephemeral("password_resets", "token_hash"),
    ephemeral("login_throttle", "key"),
    t("sso_configs", "org_id"),
    ephemeral("sso_logins", "state_hash"),
    t("sso_identities", "issuer, subject"),
    t("product_families", "id"),
    t("services", "id"),
    t("controls", "id"),
    t("control_services", "control_id, service_id"),
    t("control_links", "control_id, framework_id, requirement_id"),
    t(
        "proposal_decisions",
        "control_id, framework_id, requirement_id",
    ),
    t("org_frameworks", "org_id, framework_id"),
    t("custom_frameworks", "org_id, id"),
    t(
        "mapping_reviews",
        "org_id, source_framework, source_id, target_framework, target_id",
    ),
    // UUID v7 ids sort by creation, so a version follows the one it supersedes.
    t("evidence", "id"),
    t("evidence_controls", "evidence_id, control_id"),
    t("evidence_retention", "org_id"),
    t("isms_scope_versions", "org_id, version"),
    t("risk_matrices", "org_id"),
    t("assets", "id"),
    t("risks", "id"),
    t("risk_assets", "risk_id, asset_id"),
    t("risk_controls", "risk_id, control_id"),
    t("risk_acceptances", "id"),
    t("risk_actions", "id"),
    t("nonconformities", "id"),
    t("soa_decisions", "org_id, framework_id, requirement_id"),
    t("soa_versions", "org_id, version"),
    t("policies", "id"),
    t("policy_approvers", "policy_id, user_id"),
    t("policy_versions", "policy_id, version"),
    t("policy_approvals", "policy_id, version, user_id, body_hash"),
    t("policy_acks", "policy_id, version, user_id"),
    t("policy_reminders", "policy_id, version, sent_at"),
    t("objectives", "id"),
    t("metric_values", "org_id, metric, taken_on"),
    t("internal_audits", "id"),
    t("audit_results", "audit_id, requirement_id"),
    t("management_reviews", "id"),
    // A SOC 3 names the SOC 2 it rests on, created before it (UUID v7 ids sort by creation).
    t("engagements", "id"),
    t("bridge_letters", "id"),
    t("certificates", "id"),
    t("soc_programs", "org_id, family"),
    t("subservice_orgs", "id"),
    t("cuecs", "id"),
    t("control_tests", "id"),
    t("sample_tables", "org_id"),
    t("audit_requests", "id"),
    t("request_evidence", "request_id, evidence_id"),
    t("engagement_findings", "id"),
    t("engagement_comments", "id"),
    t("engagement_documents", "id"),
    t("portal_settings", "org_id"),
    t("portal_offerings", "id"),
    t("portal_faqs", "id"),
    t("portal_resources", "id"),
    t("portal_keys", "org_id"),
    t("portal_accounts", "id"),
    ephemeral("portal_tokens", "hash"),
    t("portal_ndas", "org_id, version"),
    t("portal_nda_acceptances", "id"),
    t("portal_access_requests", "id"),
    t("portal_access_documents", "request_id, document_id"),
    t("portal_downloads", "id"),
];

/// A column's portable type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// 64-bit integer.
    Integer,
    /// Double-precision float.
    Real,
    /// Text.
    Text,
}

/// A column of a dumped table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

fn column_type(kind: AnyTypeInfoKind, name: &str) -> StoreResult<ColumnType> {
    Ok(match kind {
        AnyTypeInfoKind::SmallInt
        | AnyTypeInfoKind::Integer
        | AnyTypeInfoKind::BigInt
        | AnyTypeInfoKind::Bool => ColumnType::Integer,
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => ColumnType::Real,
        AnyTypeInfoKind::Text => ColumnType::Text,
        other => {
            return Err(StoreError::Archive(format!(
                "column {name} has a type ({other:?}) that backups cannot carry"
            )));
        }
    })
}

fn row_values(row: &AnyRow, columns: &[ColumnSpec]) -> StoreResult<Vec<serde_json::Value>> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            out.push(serde_json::Value::Null);
            continue;
        }
        out.push(match c.ty {
            ColumnType::Integer => serde_json::Value::from(row.try_get::<i64, _>(i)?),
            ColumnType::Real => serde_json::Value::from(row.try_get::<f64, _>(i)?),
            ColumnType::Text => serde_json::Value::from(row.try_get::<String, _>(i)?),
        });
    }
    Ok(out)
}

/// Streams every row of a table inside a snapshot transaction to `sink`, which first gets the
/// columns (once, before the first row; an empty table gives no columns).
pub async fn dump_table<F>(tx: &mut Tx, table: &Table, mut sink: F) -> StoreResult<u64>
where
    F: FnMut(&[ColumnSpec], Vec<serde_json::Value>) -> StoreResult<()>,
{
    assert_known(table.name)?;
    let sql = format!("SELECT * FROM {} ORDER BY {}", table.name, table.order);
    let mut rows = // `table` and `order` come from `TABLES`, never from input.
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut **tx);
    let mut columns: Option<Vec<ColumnSpec>> = None;
    let mut n = 0;
    while let Some(row) = rows.try_next().await? {
        if columns.is_none() {
            let mut cols = Vec::new();
            for c in row.columns() {
                // A NULL in the first row hides the column's declared type on some drivers,
                // so look at the column, not the value.
                cols.push(ColumnSpec {
                    name: c.name().to_owned(),
                    ty: column_type(c.type_info().kind(), c.name())
                        .or_else(|_| text_fallback(c.type_info().name(), c.name()))?,
                });
            }
            columns = Some(cols);
        }
        let cols = columns.as_deref().unwrap_or_default();
        sink(cols, row_values(&row, cols)?)?;
        n += 1;
    }
    Ok(n)
}

fn text_fallback(type_name: &str, column: &str) -> StoreResult<ColumnType> {
    let t = type_name.to_ascii_uppercase();
    if t.contains("INT") {
        Ok(ColumnType::Integer)
    } else if t.contains("DOUB") || t.contains("REAL") || t.contains("FLOA") {
        Ok(ColumnType::Real)
    } else if t.contains("TEXT") || t.contains("CHAR") || t == "NULL" {
        Ok(ColumnType::Text)
    } else {
        Err(StoreError::Archive(format!(
            "column {column} has an unsupported type {type_name}"
        )))
    }
}

fn assert_known(table: &str) -> StoreResult<()> {
    if TABLES.iter().any(|t| t.name == table && t.backed_up) {
        Ok(())
    } else {
        Err(StoreError::Archive(format!(
            "unknown table `{table}` in the archive"
        )))
    }
}

/// Inserts rows into a table (batched; names are checked against [`TABLES`] and the
/// columns against the table's own).
pub async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[ColumnSpec],
    rows: &[Vec<serde_json::Value>],
) -> StoreResult<()> {
    assert_known(table)?;
    if rows.is_empty() {
        return Ok(());
    }
    for c in columns {
        if !c
            .name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
        {
            return Err(StoreError::Archive(format!(
                "invalid column name `{}` in table {table}",
                c.name
            )));
        }
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let per_stmt = (30_000 / columns.len().max(1)).clamp(1, 500);
    for chunk in rows.chunks(per_stmt) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
        let mut p = 1;
        for (ri, row) in chunk.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(StoreError::Archive(format!(
                    "a row of table {table} has {} values for {} columns",
                    row.len(),
                    columns.len()
                )));
            }
            if ri > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for ci in 0..columns.len() {
                if ci > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${p}"));
                p += 1;
            }
            sql.push(')');
        }
        // Table and column names are checked above; values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for (v, c) in row.iter().zip(columns) {
                q = match (c.ty, v) {
                    (ColumnType::Integer, serde_json::Value::Null) => q.bind(None::<i64>),
                    (ColumnType::Real, serde_json::Value::Null) => q.bind(None::<f64>),
                    (ColumnType::Text, serde_json::Value::Null) => q.bind(None::<String>),
                    (ColumnType::Integer, serde_json::Value::Number(n)) if n.is_i64() => {
                        q.bind(n.as_i64())
                    }
                    (ColumnType::Real, serde_json::Value::Number(n)) => q.bind(n.as_f64()),
                    (ColumnType::Text, serde_json::Value::String(s)) => q.bind(s.clone()),
                    _ => {
                        return Err(StoreError::Archive(format!(
                            "table {table}, column {}: value {v} is not of type {:?}",
                            c.name, c.ty
                        )));
                    }
                };
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The tables that exist in the database (other than the migrations' own and SQLite's
/// title search index, which triggers derive from the evidence rows), for the conformance
/// test that keeps [`TABLES`] complete.
pub async fn actual_tables(store: &Store) -> StoreResult<Vec<String>> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' \
             AND name NOT LIKE 'evidence_title_search%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' ORDER BY table_name"
        }
    };
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(store.pool()).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Whether the database holds no data yet (only what migrations create), so a restore
/// cannot silently merge two histories.
pub async fn is_empty(store: &Store) -> StoreResult<bool> {
    for table in TABLES.iter().filter(|t| t.backed_up).map(|t| t.name) {
        let sql = if table == "audit_heads" {
            // Migrations create the instance chain's empty head.
            "SELECT COUNT(*) FROM audit_heads WHERE seq > 0 OR chain <> 'instance'".to_owned()
        } else {
            format!("SELECT COUNT(*) FROM {table}")
        };
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await?;
        if n > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Removes what migrations put in an empty database, before a restore writes its rows.
pub async fn clear_seed_rows(tx: &mut Tx) -> StoreResult<()> {
    sqlx::query("DELETE FROM audit_heads WHERE chain = 'instance' AND seq = 0")
        .execute(&mut **tx)
        .await?;
    Ok(())
}
