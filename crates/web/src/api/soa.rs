//! The Statement of Applicability: versions, decisions, approval, comparison, exports.

use attest_app::Permission;
use attest_app::soa::{DecisionInput, SoaFormat};
use attest_domain::soa::Reason;
use axum::Extension;
use axum::extract::State;
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
    r.api(perm(Permission::ProgramRead), routes!(get_soa))
        .api(perm(Permission::ProgramRead), routes!(diff_soa))
        .api(perm(Permission::ProgramRead), routes!(export_soa))
        .api(perm(Permission::IsmsManage), routes!(decide))
        .api(perm(Permission::IsmsManage), routes!(set_framework))
        .api(perm(Permission::IsmsManage), routes!(new_draft))
        .api(perm(Permission::IsmsApprove), routes!(approve))
}

/// Which version.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SoaQuery {
    /// A version number (default: the latest).
    pub version: Option<i64>,
}

/// A version of the statement (the latest by default): every Annex A control with its
/// decision, reasons, justification, derived status, controls, risks and latest evidence;
/// what blocks approval; the history.
#[utoipa::path(get, path = "/api/v1/soa", tag = "soa", params(SoaQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_soa(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<SoaQuery>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.soa(&auth.caller, q.version).await?)
}

/// One decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The Annex A control (`A.5.1`).
    pub control: String,
    /// Applicable (true), excluded (false), or null to clear the decision.
    pub applicable: Option<bool>,
    /// Reasons: risk-treatment, legal, contractual, business, best-practice.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The justification.
    #[serde(default)]
    pub justification: String,
}

/// Decisions to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionsBody {
    /// One per control (at most 200), all recorded or none.
    pub decisions: Vec<DecisionBody>,
}

/// Records decisions on the draft (a decision after an approval opens the next draft).
#[utoipa::path(put, path = "/api/v1/soa/decisions", tag = "soa", request_body = DecisionsBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn decide(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<DecisionsBody>,
) -> Result<axum::Json<Value>, WebError> {
    let mut inputs = Vec::with_capacity(b.decisions.len());
    for (i, d) in b.decisions.into_iter().enumerate() {
        let reasons = d
            .reasons
            .iter()
            .map(|r| parse::<Reason>(&format!("decisions[{i}].reasons"), r))
            .collect::<Result<Vec<_>, _>>()?;
        inputs.push(DecisionInput {
            control: d.control,
            applicable: d.applicable,
            reasons,
            justification: d.justification,
        });
    }
    json(&st.app.decide_soa(&auth.caller, inputs).await?)
}

/// The Annex A version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrameworkBody {
    /// `iso27001-2022` (default) or `iso27001-2013`.
    pub framework: String,
}

/// Chooses the Annex A version of the draft.
#[utoipa::path(put, path = "/api/v1/soa/framework", tag = "soa", request_body = FrameworkBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn set_framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<FrameworkBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.set_soa_framework(&auth.caller, &b.framework).await?)
}

/// Opens a new draft after the latest approved version.
#[utoipa::path(post, path = "/api/v1/soa/drafts", tag = "soa",
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn new_draft(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.new_soa_draft(&auth.caller).await?)
}

/// An approval.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// A note for the record.
    #[serde(default)]
    pub note: String,
}

/// Approves the draft (owners only): refused while a control has no decision or an
/// exclusion no justification; freezes the content under its SHA-256.
#[utoipa::path(post, path = "/api/v1/soa/approve", tag = "soa", request_body = ApproveBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn approve(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ApproveBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.approve_soa(&auth.caller, &b.note).await?)
}

/// Two versions to compare.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older version.
    pub from: i64,
    /// The newer version.
    pub to: i64,
}

/// What changed between two versions, control by control and field by field.
#[utoipa::path(get, path = "/api/v1/soa/diff", tag = "soa", params(DiffQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn diff_soa(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<axum::Json<Value>, WebError> {
    let (_, _, changes) = st.app.soa_diff(&auth.caller, q.from, q.to).await?;
    Ok(axum::Json(
        serde_json::json!({"from": q.from, "to": q.to, "changes": changes}),
    ))
}

/// The format and version of an export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `pdf`, `xlsx`, `csv` or `oscal`.
    pub format: String,
    /// A version number (default: the latest).
    pub version: Option<i64>,
}

/// The statement as a typeset PDF, an XLSX, a CSV or an OSCAL system security plan.
#[utoipa::path(get, path = "/api/v1/soa/export", tag = "soa", params(ExportQuery),
    responses((status = 200, description = "The file"), (status = 422, body = ErrorBody)))]
async fn export_soa(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<axum::response::Response, WebError> {
    let format: SoaFormat = q.format.parse()?;
    let e = st.app.soa_export(&auth.caller, q.version, format).await?;
    Ok(crate::download(e.content_type, &e.file_name, e.bytes))
}
