//! The ISMS documents: scope and context.

use attest_app::Permission;
use attest_app::isms::{InterestedParty, ScopeDocument};
use axum::Extension;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{json, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(get_scope))
        .api(perm(Permission::IsmsManage), routes!(save_scope))
}

/// Which version.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A version number (default: the current one).
    pub version: Option<i64>,
}

/// The ISMS scope and context: a version (the current one by default) with the history.
#[utoipa::path(get, path = "/api/v1/isms/scope", tag = "isms", params(VersionQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_scope(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.isms_scope(&auth.caller, q.version).await?)
}

/// An interested party.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    /// Who.
    pub party: String,
    /// What they require.
    #[serde(default)]
    pub requirements: String,
}

/// The scope and context, as saved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeBody {
    /// The scope statement.
    pub statement: String,
    /// In-scope services (ids).
    #[serde(default)]
    pub services: Vec<String>,
    /// In-scope locations.
    #[serde(default)]
    pub locations: Vec<String>,
    /// Internal issues.
    #[serde(default)]
    pub internal_issues: Vec<String>,
    /// External issues.
    #[serde(default)]
    pub external_issues: Vec<String>,
    /// Interested parties and their requirements.
    #[serde(default)]
    pub interested_parties: Vec<PartyBody>,
    /// What changed.
    #[serde(default)]
    pub note: String,
}

/// Saves the scope and context as a new version (refused when nothing changed).
#[utoipa::path(put, path = "/api/v1/isms/scope", tag = "isms", request_body = ScopeBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn save_scope(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ScopeBody>,
) -> Result<axum::Json<Value>, WebError> {
    let doc = ScopeDocument {
        statement: b.statement,
        services: b.services,
        locations: b.locations,
        internal_issues: b.internal_issues,
        external_issues: b.external_issues,
        interested_parties: b
            .interested_parties
            .into_iter()
            .map(|p| InterestedParty {
                party: p.party,
                requirements: p.requirements,
            })
            .collect(),
    };
    let version = st.app.save_isms_scope(&auth.caller, doc, &b.note).await?;
    Ok(axum::Json(serde_json::json!({ "version": version })))
}
