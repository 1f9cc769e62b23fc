//! The audit trail.

use attest_app::Permission;
use attest_domain::Timestamp;
use attest_store::audit::{Entry, EntryFilter};
use axum::Extension;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use utoipa_axum::routes;

use super::perm;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::AuditTrailRead), routes!(list_entries))
}

/// Filters for the audit trail.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TrailQuery {
    /// An action (`member.role_change`) or a prefix ending in a dot (`auth.`).
    pub action: Option<String>,
    /// Kind of object.
    pub object_type: Option<String>,
    /// Object id.
    pub object_id: Option<String>,
    /// Actor (`user:…`, `token:…`, `cli`).
    pub actor: Option<String>,
    /// Only entries numbered below this (paging back).
    pub before_seq: Option<i64>,
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
}

impl TrailQuery {
    pub(crate) fn filter(&self) -> EntryFilter {
        let blank = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        EntryFilter {
            action: blank(&self.action),
            object_type: blank(&self.object_type),
            object_id: blank(&self.object_id),
            actor: blank(&self.actor),
            from: None::<Timestamp>,
            until: None,
            before_seq: self.before_seq,
            limit: self.limit.unwrap_or(100),
        }
    }
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryDto {
    /// Number in the organisation's chain.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object id.
    pub object_id: String,
    /// The object before, if recorded.
    pub before: Option<serde_json::Value>,
    /// The object after, if recorded.
    pub after: Option<serde_json::Value>,
    /// This entry's SHA-256 (hex), linking the chain.
    pub hash: String,
}

impl From<Entry> for EntryDto {
    fn from(e: Entry) -> Self {
        let json = |s: &str| {
            if s.is_empty() {
                None
            } else {
                serde_json::from_str(s).ok()
            }
        };
        Self {
            seq: e.seq,
            at: e.at.to_rfc3339(),
            before: json(&e.before),
            after: json(&e.after),
            actor: e.actor,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            hash: e.hash,
        }
    }
}

/// The organisation's audit trail, newest first (owners and compliance managers).
#[utoipa::path(get, path = "/api/v1/audit-trail", tag = "audit trail", params(TrailQuery),
    responses((status = 200, body = Vec<EntryDto>), (status = 403, body = ErrorBody)))]
async fn list_entries(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<TrailQuery>,
) -> Result<axum::Json<Vec<EntryDto>>, WebError> {
    let entries = st.app.audit_entries(&auth.caller, &q.filter()).await?;
    Ok(axum::Json(entries.into_iter().map(Into::into).collect()))
}
