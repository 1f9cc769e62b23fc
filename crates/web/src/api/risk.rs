//! Risk management: the matrix and appetite, the asset register, the risk register with heat
//! maps, and acceptances.

use attest_app::Permission;
use attest_app::risk::{AssetInput, MatrixInput, RiskFilter, RiskInput};
use attest_app::risk_sheet::SheetFormat;
use attest_domain::risk::{Level, RiskStatus, Treatment};
use axum::Extension;
use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::evidence::{date, user_id};
use super::{json, parse, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(get_matrix))
        .api(perm(Permission::RiskManage), routes!(set_matrix))
        .api(perm(Permission::ProgramRead), routes!(list_assets))
        .api(perm(Permission::RiskManage), routes!(create_asset))
        .api(perm(Permission::RiskManage), routes!(update_asset))
        .api(perm(Permission::ProgramRead), routes!(register_of_risks))
        .api(perm(Permission::RiskManage), routes!(create_risk))
        .api(perm(Permission::ProgramRead), routes!(get_risk))
        .api(perm(Permission::RiskManage), routes!(update_risk))
        .api(perm(Permission::RiskAccept), routes!(accept_risk))
        .api(perm(Permission::RiskManage), routes!(add_action))
        .api(perm(Permission::RiskManage), routes!(complete_action))
        .api(perm(Permission::ProgramRead), routes!(export_risks))
        .body_limit(attest_app::risk_sheet::SHEET_LIMIT * 2)
        .api(perm(Permission::RiskManage), routes!(import_risks))
}

/// A level of the matrix.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelBody {
    /// Name (`High`).
    pub name: String,
    /// Lowest score in it.
    pub min_score: u32,
}

/// A risk matrix and appetite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixBody {
    /// Likelihood step names, least likely first (3 to 5).
    pub likelihood: Vec<String>,
    /// Impact step names, least severe first (3 to 5).
    pub impact: Vec<String>,
    /// Named levels, lowest first; the first starts at score 1.
    pub levels: Vec<LevelBody>,
    /// The highest residual score accepted without a recorded decision.
    pub appetite: u32,
}

/// The risk matrix and appetite.
#[utoipa::path(get, path = "/api/v1/risk-matrix", tag = "risks",
    responses((status = 200, body = Object)))]
async fn get_matrix(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.risk_matrix(&auth.caller).await?)
}

/// Sets the risk matrix and appetite (refused while a risk is rated beyond the new scales).
#[utoipa::path(put, path = "/api/v1/risk-matrix", tag = "risks", request_body = MatrixBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn set_matrix(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<MatrixBody>,
) -> Result<axum::Json<Value>, WebError> {
    let m = st
        .app
        .set_risk_matrix(
            &auth.caller,
            MatrixInput {
                likelihood: b.likelihood,
                impact: b.impact,
                levels: b
                    .levels
                    .into_iter()
                    .map(|l| Level {
                        name: l.name,
                        min_score: l.min_score,
                    })
                    .collect(),
                appetite: b.appetite,
            },
        )
        .await?;
    json(&m)
}

/// An asset, as given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetBody {
    /// Name, unique in the organisation.
    pub name: String,
    /// information, software, hardware, service, people, site or supplier.
    pub kind: String,
    /// public, internal, confidential or restricted.
    pub classification: String,
    /// Owner (user id).
    pub owner_id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
}

impl AssetBody {
    fn input(self) -> Result<AssetInput, attest_app::AppError> {
        Ok(AssetInput {
            name: self.name,
            kind: parse("kind", &self.kind)?,
            classification: parse("classification", &self.classification)?,
            owner: user_id("owner_id", self.owner_id.as_deref())?,
            description: self.description,
        })
    }
}

/// The asset register.
#[utoipa::path(get, path = "/api/v1/assets", tag = "risks", responses((status = 200, body = Object)))]
async fn list_assets(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.assets(&auth.caller).await?)
}

/// Adds an asset.
#[utoipa::path(post, path = "/api/v1/assets", tag = "risks", request_body = AssetBody,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_asset(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<AssetBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let a = st.app.put_asset(&auth.caller, None, b.input()?).await?;
    Ok((StatusCode::CREATED, json(&a)?))
}

/// Changes an asset.
#[utoipa::path(put, path = "/api/v1/assets/{asset_id}", tag = "risks", request_body = AssetBody,
    params(("asset_id" = String, Path, description = "Asset id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_asset(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AssetBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .put_asset(&auth.caller, Some(&id), b.input()?)
            .await?,
    )
}

/// A risk, as given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    /// Reference (`R-001`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The threat.
    #[serde(default)]
    pub threat: String,
    /// The vulnerability.
    #[serde(default)]
    pub vulnerability: String,
    /// Risk owner (user id).
    pub owner_id: Option<String>,
    /// Inherent likelihood step (1 = least likely).
    pub inherent_likelihood: i64,
    /// Inherent impact step.
    pub inherent_impact: i64,
    /// Residual likelihood step.
    pub residual_likelihood: i64,
    /// Residual impact step.
    pub residual_impact: i64,
    /// modify, retain, avoid or share.
    pub treatment: String,
    /// Treatment plan.
    #[serde(default)]
    pub treatment_plan: String,
    /// When the plan is due (YYYY-MM-DD).
    pub treatment_due: Option<String>,
    /// open (default) or closed.
    pub status: Option<String>,
    /// Affected assets' ids.
    #[serde(default)]
    pub assets: Vec<String>,
    /// Treating controls' ids.
    #[serde(default)]
    pub controls: Vec<String>,
}

impl RiskBody {
    fn input(self) -> Result<RiskInput, attest_app::AppError> {
        Ok(RiskInput {
            reference: self.reference,
            title: self.title,
            description: self.description,
            threat: self.threat,
            vulnerability: self.vulnerability,
            owner: user_id("owner_id", self.owner_id.as_deref())?,
            inherent: (self.inherent_likelihood, self.inherent_impact),
            residual: (self.residual_likelihood, self.residual_impact),
            treatment: parse("treatment", &self.treatment)?,
            treatment_plan: self.treatment_plan,
            treatment_due: date("treatment_due", self.treatment_due.as_deref())?,
            status: match self.status.as_deref() {
                Some(s) => parse("status", s)?,
                None => RiskStatus::Open,
            },
            assets: self.assets,
            controls: self.controls,
        })
    }
}

/// Filters of the risk register.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RiskQuery {
    /// Only this owner's risks (user id).
    pub owner: Option<String>,
    /// modify, retain, avoid or share.
    pub treatment: Option<String>,
    /// open or closed.
    pub status: Option<String>,
    /// A residual level's name (`High`).
    pub level: Option<String>,
    /// Only risks above appetite without a valid acceptance.
    pub needs_decision: Option<bool>,
    /// Only risks affecting this asset (id).
    pub asset: Option<String>,
    /// Only risks treated by this control (id).
    pub control: Option<String>,
    /// Words in the reference, title, threat or vulnerability.
    pub q: Option<String>,
}

impl RiskQuery {
    pub(crate) fn filter(self) -> Result<RiskFilter, attest_app::AppError> {
        let opt = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Ok(RiskFilter {
            owner: user_id("owner", self.owner.as_deref())?,
            treatment: opt(self.treatment)
                .map(|t| parse::<Treatment>("treatment", &t))
                .transpose()?,
            status: opt(self.status)
                .map(|s| parse::<RiskStatus>("status", &s))
                .transpose()?,
            level: opt(self.level),
            needs_decision: self.needs_decision.unwrap_or(false),
            asset: opt(self.asset),
            control: opt(self.control),
            text: opt(self.q),
        })
    }
}

/// The risk register, filtered, with inherent and residual heat maps of the listed risks.
#[utoipa::path(get, path = "/api/v1/risks", tag = "risks", params(RiskQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn register_of_risks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<RiskQuery>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.risk_register(&auth.caller, &q.filter()?).await?)
}

/// Adds a risk.
#[utoipa::path(post, path = "/api/v1/risks", tag = "risks", request_body = RiskBody,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<RiskBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let r = st.app.put_risk(&auth.caller, None, b.input()?).await?;
    Ok((StatusCode::CREATED, json(&r)?))
}

/// A risk with its scores, acceptances, assets and controls.
#[utoipa::path(get, path = "/api/v1/risks/{risk_id}", tag = "risks",
    params(("risk_id" = String, Path, description = "Risk id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.risk_detail(&auth.caller, &id).await?)
}

/// Changes a risk. A change to its ratings, treatment or controls leaves an earlier
/// acceptance needing renewal.
#[utoipa::path(put, path = "/api/v1/risks/{risk_id}", tag = "risks", request_body = RiskBody,
    params(("risk_id" = String, Path, description = "Risk id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RiskBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.put_risk(&auth.caller, Some(&id), b.input()?).await?)
}

/// An acceptance decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// Why the residual risk is acceptable.
    pub justification: String,
    /// The last day the decision holds (YYYY-MM-DD, within three years).
    pub expires_on: String,
}

/// Accepts a risk's residual level (the risk's owner, or an owner of the organisation).
#[utoipa::path(post, path = "/api/v1/risks/{risk_id}/acceptances", tag = "risks", request_body = AcceptBody,
    params(("risk_id" = String, Path, description = "Risk id")),
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn accept_risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AcceptBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let expires = date("expires_on", Some(&b.expires_on))?
        .ok_or_else(|| attest_app::AppError::invalid("expires_on", "give an expiry date"))?;
    let a = st
        .app
        .accept_risk(&auth.caller, &id, &b.justification, expires)
        .await?;
    Ok((StatusCode::CREATED, json(&a)?))
}

/// The format of a risk export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RiskExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

/// The format asked for, and its content type and file name.
pub(crate) fn sheet_format(
    format: Option<&str>,
) -> Result<(SheetFormat, &'static str, &'static str), attest_app::AppError> {
    match format.unwrap_or("csv") {
        "csv" => Ok((SheetFormat::Csv, "text/csv; charset=utf-8", "risks.csv")),
        "xlsx" => Ok((
            SheetFormat::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "risks.xlsx",
        )),
        other => Err(attest_app::AppError::invalid(
            "format",
            format!("unknown format `{other}` (expected csv or xlsx)"),
        )),
    }
}

/// The risk register as a sheet: the importable columns, then derived scores and states.
#[utoipa::path(get, path = "/api/v1/risks/export", tag = "risks", params(RiskExportQuery),
    responses((status = 200, description = "The file"), (status = 422, body = ErrorBody)))]
async fn export_risks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<RiskExportQuery>,
) -> Result<axum::response::Response, WebError> {
    let (format, content_type, name) = sheet_format(q.format.as_deref())?;
    let bytes = st.app.export_risks(&auth.caller, format).await?;
    Ok(crate::download(content_type, name, bytes))
}

/// Imports risks from a CSV or XLSX sheet (multipart field `file`), all or nothing; a row
/// whose `ref` exists changes that risk. Problems name their line or row and column.
#[utoipa::path(post, path = "/api/v1/risks/import", tag = "risks",
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn import_risks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: axum::extract::Multipart,
) -> Result<axum::Json<Value>, WebError> {
    let mut files = super::program::files(mp).await?;
    if files.len() != 1 {
        return Err(
            attest_app::AppError::invalid("file", "send one sheet as the field `file`").into(),
        );
    }
    let f = files.remove(0);
    json(&st.app.import_risks(&auth.caller, &f.name, &f.bytes).await?)
}

/// An action of a treatment plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// What is to be done.
    pub title: String,
    /// Who does it (user id).
    pub owner_id: Option<String>,
    /// By when (YYYY-MM-DD).
    pub due_on: String,
}

/// Adds an action to a risk's treatment plan.
#[utoipa::path(post, path = "/api/v1/risks/{risk_id}/actions", tag = "risks", request_body = ActionBody,
    params(("risk_id" = String, Path, description = "Risk id")),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_action(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ActionBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let due = date("due_on", Some(&b.due_on))?
        .ok_or_else(|| attest_app::AppError::invalid("due_on", "give a due day"))?;
    let owner = user_id("owner_id", b.owner_id.as_deref())?;
    let a = st
        .app
        .add_risk_action(&auth.caller, &id, &b.title, owner, due)
        .await?;
    Ok((StatusCode::CREATED, json(&a)?))
}

/// Marks an open action of a risk's treatment plan done today.
#[utoipa::path(post, path = "/api/v1/risks/{risk_id}/actions/{action_id}/done", tag = "risks",
    params(("risk_id" = String, Path, description = "Risk id"), ("action_id" = String, Path, description = "Action id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn complete_action(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((risk, action)): ApiPath<(String, String)>,
) -> Result<StatusCode, WebError> {
    st.app
        .complete_risk_action(&auth.caller, &risk, &action)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
