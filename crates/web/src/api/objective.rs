//! Objectives and their metrics.

use attest_app::Permission;
use attest_app::objective::ObjectiveInput;
use attest_domain::UserId;
use attest_domain::objective::Direction;
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
    r.api(perm(Permission::ProgramRead), routes!(list))
        .api(perm(Permission::IsmsManage), routes!(create))
        .api(perm(Permission::IsmsManage), routes!(update))
        .api(perm(Permission::IsmsManage), routes!(measure))
}

/// Every objective with its latest value, status and 180-day trend; the metrics available
/// and today's value of each computed one (recorded once a day).
#[utoipa::path(get, path = "/api/v1/objectives", tag = "objectives", responses((status = 200, body = Object)))]
async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.objectives(&auth.caller).await?)
}

/// An objective.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveBody {
    /// Title.
    pub title: String,
    /// What and why.
    #[serde(default)]
    pub description: String,
    /// Who is accountable.
    pub owner_id: Option<String>,
    /// A computed metric's id (see GET), or `manual`.
    pub metric: String,
    /// The target value.
    pub target: f64,
    /// `at-least` or `at-most`.
    pub direction: String,
    /// By when (YYYY-MM-DD).
    pub due_on: Option<String>,
}

pub(crate) fn input(b: &ObjectiveBody) -> Result<ObjectiveInput, attest_app::AppError> {
    Ok(ObjectiveInput {
        title: b.title.clone(),
        description: b.description.clone(),
        owner_id: b
            .owner_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|u| parse::<UserId>("owner_id", u))
            .transpose()?,
        metric: b.metric.clone(),
        target: b.target,
        direction: parse::<Direction>("direction", &b.direction)?,
        due_on: b
            .due_on
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|d| {
                attest_domain::evidence::parse_day(d)
                    .map_err(|e| attest_app::AppError::invalid("due_on", e))
            })
            .transpose()?,
    })
}

/// Sets an objective.
#[utoipa::path(post, path = "/api/v1/objectives", tag = "objectives", request_body = ObjectiveBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ObjectiveBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let row = st.app.put_objective(&auth.caller, None, input(&b)?).await?;
    Ok((StatusCode::CREATED, json(&row)?))
}

/// Changes an objective.
#[utoipa::path(put, path = "/api/v1/objectives/{objective_id}", tag = "objectives", request_body = ObjectiveBody,
    params(("objective_id" = String, Path, description = "Objective id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ObjectiveBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .put_objective(&auth.caller, Some(&id), input(&b)?)
            .await?,
    )
}

/// A measurement by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureBody {
    /// The value.
    pub value: f64,
    /// The day it was taken (default today).
    pub taken_on: Option<String>,
}

/// Records a measurement of an objective measured by hand.
#[utoipa::path(post, path = "/api/v1/objectives/{objective_id}/measurements", tag = "objectives", request_body = MeasureBody,
    params(("objective_id" = String, Path, description = "Objective id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn measure(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<MeasureBody>,
) -> Result<axum::Json<Value>, WebError> {
    let on = match b.taken_on.as_deref() {
        Some(d) => attest_domain::evidence::parse_day(d)
            .map_err(|e| attest_app::AppError::invalid("taken_on", e))?,
        None => attest_domain::Timestamp::now().date(),
    };
    json(
        &st.app
            .measure_objective(&auth.caller, &id, b.value, on)
            .await?,
    )
}
