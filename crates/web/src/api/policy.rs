//! Policies and procedures: documents, drafts, approval, publication, reviews,
//! acknowledgements, reminders, PDF.

use attest_app::Permission;
use attest_app::policy::{PolicyInput, TEMPLATES};
use attest_domain::UserId;
use attest_domain::policy::DocumentKind;
use axum::Extension;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{json, parse, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(list_policies))
        .api(perm(Permission::IsmsManage), routes!(create_policy))
        .api(perm(Permission::ProgramRead), routes!(templates))
        .api(perm(Permission::ProgramRead), routes!(get_policy))
        .api(perm(Permission::IsmsManage), routes!(update_policy))
        .api(perm(Permission::IsmsManage), routes!(save_draft))
        .api(perm(Permission::DocumentApprove), routes!(approve))
        .api(perm(Permission::IsmsManage), routes!(publish))
        .api(perm(Permission::IsmsManage), routes!(review))
        .api(perm(Permission::Acknowledge), routes!(acknowledge))
        .api(perm(Permission::IsmsManage), routes!(remind))
        .api(perm(Permission::ProgramRead), routes!(pdf))
}

/// Every document with its version in force, draft, review due date and acknowledgements.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", responses((status = 200, body = Object)))]
async fn list_policies(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.policies(&auth.caller).await?)
}

/// The templates of the usual ISMS set.
#[utoipa::path(get, path = "/api/v1/policies/templates", tag = "policies", responses((status = 200, body = Object)))]
async fn templates() -> Result<axum::Json<Value>, WebError> {
    Ok(axum::Json(Value::Array(
        TEMPLATES
            .iter()
            .map(|(slug, title, kind, _)| serde_json::json!({"template": slug, "title": title, "kind": kind}))
            .collect(),
    )))
}

/// A document's details.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// Title (unique); from a template, its title when empty.
    #[serde(default)]
    pub title: String,
    /// policy, procedure, standard or plan (default policy).
    pub kind: Option<String>,
    /// Who keeps it.
    pub owner_id: Option<String>,
    /// Who must approve each version.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Review cadence in months (default 12).
    pub review_months: Option<u32>,
    /// Whether staff acknowledge each published version (default true).
    pub ack_required: Option<bool>,
    /// The first draft's Markdown (on creation, unless `template`).
    pub body: Option<String>,
    /// A template's id (on creation).
    pub template: Option<String>,
}

fn input(b: &PolicyBody) -> Result<PolicyInput, attest_app::AppError> {
    Ok(PolicyInput {
        title: b.title.clone(),
        kind: match &b.kind {
            Some(k) => parse::<DocumentKind>("kind", k)?,
            None => DocumentKind::Policy,
        },
        owner_id: b
            .owner_id
            .as_deref()
            .map(|u| parse::<UserId>("owner_id", u))
            .transpose()?,
        approvers: b
            .approvers
            .iter()
            .map(|u| parse::<UserId>("approvers", u))
            .collect::<Result<_, _>>()?,
        review_months: b.review_months.unwrap_or(12),
        ack_required: b.ack_required.unwrap_or(true),
    })
}

/// Creates a document with draft 1, from Markdown or from a template.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", request_body = PolicyBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_policy(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<PolicyBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let i = input(&b)?;
    let view = match (&b.template, &b.body) {
        (Some(t), None) => {
            st.app
                .create_policy_from_template(&auth.caller, t, i)
                .await?
        }
        (None, Some(body)) => st.app.create_policy(&auth.caller, i, body).await?,
        _ => {
            return Err(attest_app::AppError::invalid(
                "body",
                "give either the text (`body`) or a `template`",
            )
            .into());
        }
    };
    Ok((StatusCode::CREATED, json(&view)?))
}

/// Which version.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A version number (default: the draft, else the one in force).
    pub version: Option<i64>,
}

/// A document with one version's text, approvals and acknowledgements, and its history.
#[utoipa::path(get, path = "/api/v1/policies/{policy_id}", tag = "policies",
    params(("policy_id" = String, Path, description = "Document id"), VersionQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_policy(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.policy(&auth.caller, &id, q.version).await?)
}

/// Changes a document's title, kind, owner, approvers and cadence.
#[utoipa::path(put, path = "/api/v1/policies/{policy_id}", tag = "policies", request_body = PolicyBody,
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn update_policy(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<PolicyBody>,
) -> Result<axum::Json<Value>, WebError> {
    if b.body.is_some() || b.template.is_some() {
        return Err(attest_app::AppError::invalid(
            "body",
            "change the text with PUT /api/v1/policies/{id}/draft",
        )
        .into());
    }
    json(&st.app.update_policy(&auth.caller, &id, input(&b)?).await?)
}

/// A draft's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    /// Markdown.
    pub body: String,
    /// What changed.
    #[serde(default)]
    pub note: String,
}

/// Saves the draft (a new one after a publication); approvals of earlier text lapse.
#[utoipa::path(put, path = "/api/v1/policies/{policy_id}/draft", tag = "policies", request_body = DraftBody,
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn save_draft(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DraftBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .save_policy_draft(&auth.caller, &id, &b.body, &b.note)
            .await?,
    )
}

/// Approves the draft's current text (named approvers only).
#[utoipa::path(post, path = "/api/v1/policies/{policy_id}/approve", tag = "policies",
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn approve(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.approve_policy(&auth.caller, &id).await?)
}

/// Publishes the draft once every named approver approved its text.
#[utoipa::path(post, path = "/api/v1/policies/{policy_id}/publish", tag = "policies",
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn publish(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.publish_policy(&auth.caller, &id).await?)
}

/// A review's note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// What was reviewed and concluded.
    pub note: String,
}

/// Records a review that found the version in force still right (restarts the cadence).
#[utoipa::path(post, path = "/api/v1/policies/{policy_id}/review", tag = "policies", request_body = ReviewBody,
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.review_policy(&auth.caller, &id, &b.note).await?)
}

/// Records that the caller read the version in force.
#[utoipa::path(post, path = "/api/v1/policies/{policy_id}/acknowledge", tag = "policies",
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn acknowledge(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.acknowledge_policy(&auth.caller, &id).await?)
}

/// Reminds the staff who have not acknowledged the version in force.
#[utoipa::path(post, path = "/api/v1/policies/{policy_id}/remind", tag = "policies",
    params(("policy_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn remind(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    let n = st.app.remind_policy(&auth.caller, &id).await?;
    Ok(axum::Json(serde_json::json!({ "reminded": n })))
}

/// A published (or superseded) version as PDF (default: the one in force).
#[utoipa::path(get, path = "/api/v1/policies/{policy_id}/pdf", tag = "policies",
    params(("policy_id" = String, Path, description = "Document id"), VersionQuery),
    responses((status = 200, description = "The PDF"), (status = 422, body = ErrorBody)))]
async fn pdf(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> Result<axum::response::Response, WebError> {
    let (name, bytes) = st.app.policy_pdf(&auth.caller, &id, q.version).await?;
    Ok(crate::download("application/pdf", &name, bytes))
}
