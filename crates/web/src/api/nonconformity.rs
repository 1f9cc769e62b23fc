//! Nonconformities and corrective action.

use attest_app::nonconformity::NcInput;
use attest_app::{AppError, Permission};
use axum::Extension;
use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::evidence::{date, user_id};
use super::{json, parse, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(list))
        .api(perm(Permission::IsmsManage), routes!(raise))
        .api(perm(Permission::ProgramRead), routes!(get_one))
        .api(perm(Permission::IsmsManage), routes!(update))
        .api(perm(Permission::IsmsManage), routes!(verify))
        .api(perm(Permission::IsmsManage), routes!(close))
}

/// A nonconformity, as given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NcBody {
    /// Title.
    pub title: String,
    /// What was found.
    #[serde(default)]
    pub description: String,
    /// internal-audit, external-audit or raised (ignored when changing one).
    pub source: String,
    /// major, minor, observation or opportunity.
    pub severity: String,
    /// The requirement involved: framework id (with `requirement`).
    pub framework: Option<String>,
    /// The requirement involved: its id.
    pub requirement: Option<String>,
    /// The control involved (id).
    pub control_id: Option<String>,
    /// The risk involved (id).
    pub risk_id: Option<String>,
    /// The evidence involved (id).
    pub evidence_id: Option<String>,
    /// Root cause.
    #[serde(default)]
    pub root_cause: String,
    /// Correction.
    #[serde(default)]
    pub correction: String,
    /// Corrective action.
    #[serde(default)]
    pub corrective_action: String,
    /// Owner of the action (user id).
    pub owner_id: Option<String>,
    /// Due day of the action (YYYY-MM-DD).
    pub due_on: Option<String>,
}

impl NcBody {
    pub(crate) fn input(self) -> Result<NcInput, AppError> {
        let some = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let requirement = match (some(self.framework), some(self.requirement)) {
            (Some(f), Some(r)) => Some((f, r)),
            (None, None) => None,
            _ => {
                return Err(AppError::invalid(
                    "requirement",
                    "give both `framework` and `requirement`",
                ));
            }
        };
        Ok(NcInput {
            title: self.title,
            description: self.description,
            source: parse("source", &self.source)?,
            severity: parse("severity", &self.severity)?,
            requirement,
            control_id: some(self.control_id),
            risk_id: some(self.risk_id),
            evidence_id: some(self.evidence_id),
            root_cause: self.root_cause,
            correction: self.correction,
            corrective_action: self.corrective_action,
            owner: user_id("owner_id", self.owner_id.as_deref())?,
            due_on: date("due_on", self.due_on.as_deref())?,
        })
    }
}

/// Every nonconformity, newest first, with what blocks its closure.
#[utoipa::path(get, path = "/api/v1/nonconformities", tag = "nonconformities",
    responses((status = 200, body = Object)))]
async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.nonconformities(&auth.caller).await?)
}

/// Raises a nonconformity.
#[utoipa::path(post, path = "/api/v1/nonconformities", tag = "nonconformities", request_body = NcBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn raise(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<NcBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let n = st
        .app
        .put_nonconformity(&auth.caller, None, b.input()?)
        .await?;
    Ok((StatusCode::CREATED, json(&n)?))
}

/// One nonconformity.
#[utoipa::path(get, path = "/api/v1/nonconformities/{nc_id}", tag = "nonconformities",
    params(("nc_id" = String, Path, description = "Nonconformity id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.nonconformity(&auth.caller, &id).await?)
}

/// Works an open nonconformity (a changed correction or action must be verified again).
#[utoipa::path(put, path = "/api/v1/nonconformities/{nc_id}", tag = "nonconformities", request_body = NcBody,
    params(("nc_id" = String, Path, description = "Nonconformity id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NcBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .put_nonconformity(&auth.caller, Some(&id), b.input()?)
            .await?,
    )
}

/// How the corrective action was found effective.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The verification of effectiveness.
    pub verification: String,
}

/// Records the verification of effectiveness (10.1 d).
#[utoipa::path(post, path = "/api/v1/nonconformities/{nc_id}/verify", tag = "nonconformities", request_body = VerifyBody,
    params(("nc_id" = String, Path, description = "Nonconformity id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn verify(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<VerifyBody>,
) -> Result<StatusCode, WebError> {
    st.app
        .verify_nonconformity(&auth.caller, &id, &b.verification)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closes a nonconformity (refused without root cause, corrective action and verification).
#[utoipa::path(post, path = "/api/v1/nonconformities/{nc_id}/close", tag = "nonconformities",
    params(("nc_id" = String, Path, description = "Nonconformity id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app.close_nonconformity(&auth.caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
