//! The internal audit programme and management reviews.

use attest_app::Permission;
use attest_app::internal_audit::{AuditInput, ReviewDecision};
use attest_domain::UserId;
use attest_domain::internal_audit::AuditResult;
use axum::Extension;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{json, parse, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(list_audits))
        .api(perm(Permission::IsmsManage), routes!(plan_audit))
        .api(perm(Permission::ProgramRead), routes!(get_audit))
        .api(perm(Permission::IsmsManage), routes!(update_audit))
        .api(perm(Permission::IsmsManage), routes!(record_result))
        .api(perm(Permission::IsmsManage), routes!(raise_finding))
        .api(perm(Permission::IsmsManage), routes!(complete_audit))
        .api(perm(Permission::ProgramRead), routes!(list_reviews))
        .api(perm(Permission::IsmsManage), routes!(plan_review))
        .api(perm(Permission::IsmsManage), routes!(update_review))
        .api(perm(Permission::IsmsManage), routes!(close_review))
}

pub(crate) fn day(field: &str, s: &str) -> Result<time::Date, attest_app::AppError> {
    attest_domain::evidence::parse_day(s.trim())
        .map_err(|e| attest_app::AppError::invalid(field, e))
}

/// An audit as planned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditBody {
    /// Title.
    pub title: String,
    /// What is audited.
    pub scope: String,
    /// Against what.
    pub criteria: String,
    /// The framework whose requirements are audited.
    pub framework_id: Option<String>,
    /// The requirements in scope.
    #[serde(default)]
    pub requirements: Vec<String>,
    /// Who audits.
    pub auditor: String,
    /// First day (YYYY-MM-DD).
    pub starts_on: String,
    /// Last day.
    pub ends_on: String,
}

pub(crate) fn audit_input(b: AuditBody) -> Result<AuditInput, attest_app::AppError> {
    Ok(AuditInput {
        starts_on: day("starts_on", &b.starts_on)?,
        ends_on: day("ends_on", &b.ends_on)?,
        title: b.title,
        scope: b.scope,
        criteria: b.criteria,
        framework_id: b.framework_id.filter(|f| !f.is_empty()),
        requirements: b.requirements,
        auditor: b.auditor,
    })
}

/// The audit programme: every audit, latest first, with results per requirement.
#[utoipa::path(get, path = "/api/v1/internal-audits", tag = "audits", responses((status = 200, body = Object)))]
async fn list_audits(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.internal_audits(&auth.caller).await?)
}

/// Plans an audit.
#[utoipa::path(post, path = "/api/v1/internal-audits", tag = "audits", request_body = AuditBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn plan_audit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<AuditBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let v = st
        .app
        .put_internal_audit(&auth.caller, None, audit_input(b)?)
        .await?;
    Ok((StatusCode::CREATED, json(&v)?))
}

/// One audit.
#[utoipa::path(get, path = "/api/v1/internal-audits/{audit_id}", tag = "audits",
    params(("audit_id" = String, Path, description = "Audit id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_audit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.internal_audit(&auth.caller, &id).await?)
}

/// Changes a planned or running audit.
#[utoipa::path(put, path = "/api/v1/internal-audits/{audit_id}", tag = "audits", request_body = AuditBody,
    params(("audit_id" = String, Path, description = "Audit id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn update_audit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AuditBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .put_internal_audit(&auth.caller, Some(&id), audit_input(b)?)
            .await?,
    )
}

/// The result of one requirement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    /// The requirement (in the audit's scope).
    pub requirement: String,
    /// conforming, major, minor, observation, opportunity or not-audited.
    pub result: String,
    /// Notes and evidence seen.
    #[serde(default)]
    pub notes: String,
}

/// Records the result of auditing one requirement.
#[utoipa::path(put, path = "/api/v1/internal-audits/{audit_id}/results", tag = "audits", request_body = ResultBody,
    params(("audit_id" = String, Path, description = "Audit id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn record_result(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ResultBody>,
) -> Result<axum::Json<Value>, WebError> {
    let result = parse::<AuditResult>("result", &b.result)?;
    json(
        &st.app
            .record_audit_result(&auth.caller, &id, &b.requirement, result, &b.notes)
            .await?,
    )
}

/// A finding to raise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    /// The requirement whose finding is raised.
    pub requirement: String,
    /// Who owns the corrective action.
    pub owner_id: Option<String>,
    /// By when.
    pub due_on: Option<String>,
}

/// Raises a finding as a nonconformity (source: internal audit).
#[utoipa::path(post, path = "/api/v1/internal-audits/{audit_id}/findings", tag = "audits", request_body = FindingBody,
    params(("audit_id" = String, Path, description = "Audit id")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn raise_finding(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<FindingBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let owner = b
        .owner_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|u| parse::<UserId>("owner_id", u))
        .transpose()?;
    let due = b
        .due_on
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|d| day("due_on", d))
        .transpose()?;
    let n = st
        .app
        .raise_audit_finding(&auth.caller, &id, &b.requirement, owner, due)
        .await?;
    Ok((StatusCode::CREATED, json(&n)?))
}

/// An audit's conclusion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// The conclusion.
    pub conclusion: String,
}

/// Completes an audit (every requirement has a result, every nonconformity is raised).
#[utoipa::path(post, path = "/api/v1/internal-audits/{audit_id}/complete", tag = "audits", request_body = CompleteBody,
    params(("audit_id" = String, Path, description = "Audit id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn complete_audit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CompleteBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .complete_internal_audit(&auth.caller, &id, &b.conclusion)
            .await?,
    )
}

/// Every management review, latest first, with its clause 9.3.2 inputs.
#[utoipa::path(get, path = "/api/v1/management-reviews", tag = "audits", responses((status = 200, body = Object)))]
async fn list_reviews(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.management_reviews(&auth.caller).await?)
}

/// A review's record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// When it is held (YYYY-MM-DD).
    pub held_on: String,
    /// Who attends.
    pub attendees: String,
    /// Discussion, and the inputs people bring (feedback of interested parties).
    #[serde(default)]
    pub notes: String,
    /// The decisions.
    #[serde(default)]
    pub decisions: Vec<DecisionBody>,
}

/// A decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// What was decided.
    pub decision: String,
    /// Who carries it out.
    #[serde(default)]
    pub owner: String,
    /// By when.
    #[serde(default)]
    pub due_on: String,
}

fn decisions(b: Vec<DecisionBody>) -> Vec<ReviewDecision> {
    b.into_iter()
        .map(|d| ReviewDecision {
            decision: d.decision,
            owner: d.owner,
            due_on: d.due_on,
        })
        .collect()
}

/// Plans a management review.
#[utoipa::path(post, path = "/api/v1/management-reviews", tag = "audits", request_body = ReviewBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn plan_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let held_on = day("held_on", &b.held_on)?;
    let v = st
        .app
        .put_management_review(
            &auth.caller,
            None,
            held_on,
            &b.attendees,
            &b.notes,
            decisions(b.decisions),
        )
        .await?;
    Ok((StatusCode::CREATED, json(&v)?))
}

/// Records a review's attendees, notes and decisions.
#[utoipa::path(put, path = "/api/v1/management-reviews/{review_id}", tag = "audits", request_body = ReviewBody,
    params(("review_id" = String, Path, description = "Review id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn update_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<axum::Json<Value>, WebError> {
    let held_on = day("held_on", &b.held_on)?;
    json(
        &st.app
            .put_management_review(
                &auth.caller,
                Some(&id),
                held_on,
                &b.attendees,
                &b.notes,
                decisions(b.decisions),
            )
            .await?,
    )
}

/// Closes a review, freezing its inputs with its decisions.
#[utoipa::path(post, path = "/api/v1/management-reviews/{review_id}/close", tag = "audits",
    params(("review_id" = String, Path, description = "Review id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn close_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.close_management_review(&auth.caller, &id).await?)
}
