//! The auditor workspace of an engagement: auditors, requests and their answers, findings,
//! comments, the evidence of the period, the sample-size table and the exports.

use attest_app::Permission;
use attest_app::workspace::{FindingInput, RequestInput};
use attest_domain::UserId;
use attest_domain::sampling::SampleTable;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::internal_audit::day;
use super::{json, parse, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::EngagementWork), routes!(workspace))
        .api(perm(Permission::EngagementManage), routes!(invite_auditor))
        .api(perm(Permission::EngagementManage), routes!(remove_auditor))
        .api(perm(Permission::EngagementWork), routes!(create_request))
        .api(perm(Permission::EngagementWork), routes!(review_request))
        .api(perm(Permission::RequestAnswer), routes!(my_requests))
        .api(perm(Permission::RequestAnswer), routes!(get_request))
        .api(perm(Permission::RequestAnswer), routes!(answer_request))
        .api(perm(Permission::RequestAnswer), routes!(submit_request))
        .api(perm(Permission::RequestAnswer), routes!(request_comments))
        .api(perm(Permission::RequestAnswer), routes!(comment_request))
        .api(perm(Permission::EngagementWork), routes!(comment))
        .api(perm(Permission::EngagementWork), routes!(raise_finding))
        .api(perm(Permission::EngagementManage), routes!(respond_finding))
        .api(perm(Permission::EngagementWork), routes!(evidence_file))
        .api(perm(Permission::ProgramRead), routes!(sample_table))
        .api(
            perm(Permission::EngagementManage),
            routes!(set_sample_table),
        )
        .api(perm(Permission::EngagementWork), routes!(workpapers))
        .api(
            perm(Permission::EngagementWork),
            routes!(assessment_results),
        )
        .api(perm(Permission::EngagementWork), routes!(poam))
}

/// The workspace of an engagement: scope, requests, tests, findings, comments, evidence of
/// the period and auditors. An auditor reaches only their own engagement, while it is open.
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/workspace", tag = "workspace",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn workspace(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.workspace(&auth.caller, &id).await?)
}

/// An auditor to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditorBody {
    /// Their e-mail address.
    pub email: String,
    /// The last day of access (YYYY-MM-DD); access also ends when the engagement closes.
    pub until: Option<String>,
}

/// Invites an external auditor to this engagement only; returns the single-use link.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/auditors", tag = "workspace", request_body = AuditorBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn invite_auditor(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AuditorBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let until = b
        .until
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| day("until", s))
        .transpose()?;
    let inv = st
        .app
        .invite_auditor(&auth.caller, &id, &b.email, until)
        .await?;
    Ok((
        StatusCode::CREATED,
        json(&serde_json::json!({"invitation": inv.invitation, "link": inv.link}))?,
    ))
}

/// Ends an auditor's access now.
#[utoipa::path(delete, path = "/api/v1/engagements/{engagement_id}/auditors/{user_id}", tag = "workspace",
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("user_id" = String, Path, description = "The auditor's user id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn remove_auditor(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, user)): ApiPath<(String, String)>,
) -> Result<StatusCode, WebError> {
    let user: UserId = parse("user_id", &user)?;
    st.app.remove_auditor(&auth.caller, &id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An item of the request list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// What is asked for.
    pub title: String,
    /// Details.
    #[serde(default)]
    pub description: String,
    /// The control (id or reference) in scope.
    pub control: Option<String>,
    /// Who answers (user id; default: the control's owner).
    pub assignee: Option<String>,
    /// Due day (YYYY-MM-DD).
    pub due_on: Option<String>,
}

pub(crate) fn request_input(b: RequestBody) -> Result<RequestInput, attest_app::AppError> {
    Ok(RequestInput {
        title: b.title,
        description: b.description,
        control: b.control,
        assignee: b
            .assignee
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse::<UserId>("assignee", s.trim()))
            .transpose()?,
        due_on: b
            .due_on
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| day("due_on", s))
            .transpose()?,
    })
}

/// Adds an item to the engagement's request list.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/requests", tag = "workspace", request_body = RequestBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RequestBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let r = st
        .app
        .create_request(&auth.caller, &id, request_input(b)?)
        .await?;
    Ok((StatusCode::CREATED, json(&r)?))
}

/// The auditor's decision on a submitted request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `accept` or `return`.
    pub decision: String,
    /// Why (required when returning).
    #[serde(default)]
    pub comment: String,
}

/// Accepts a submitted request, or returns it with a comment.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/requests/{request_id}/review", tag = "workspace", request_body = ReviewBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("request_id" = String, Path, description = "Request id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn review_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, request)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<axum::Json<Value>, WebError> {
    let accept = match b.decision.as_str() {
        "accept" => true,
        "return" => false,
        other => {
            return Err(attest_app::AppError::invalid(
                "decision",
                format!("unknown decision `{other}` (expected accept or return)"),
            )
            .into());
        }
    };
    json(
        &st.app
            .review_request(&auth.caller, &id, &request, accept, &b.comment)
            .await?,
    )
}

/// The requests assigned to the caller in open engagements.
#[utoipa::path(get, path = "/api/v1/requests", tag = "workspace",
    responses((status = 200, body = Object)))]
async fn my_requests(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.my_requests(&auth.caller).await?)
}

/// One request (its assignee, or staff who manage engagements).
#[utoipa::path(get, path = "/api/v1/requests/{request_id}", tag = "workspace",
    params(("request_id" = String, Path, description = "Request id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.request(&auth.caller, &id).await?)
}

/// Evidence given in answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// An evidence item of the organisation.
    pub evidence_id: String,
}

/// Answers a request with an evidence item.
#[utoipa::path(post, path = "/api/v1/requests/{request_id}/evidence", tag = "workspace", request_body = AnswerBody,
    params(("request_id" = String, Path, description = "Request id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn answer_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AnswerBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .answer_request(&auth.caller, &id, &b.evidence_id)
            .await?,
    )
}

/// Hands an answered request to the auditor.
#[utoipa::path(post, path = "/api/v1/requests/{request_id}/submit", tag = "workspace",
    params(("request_id" = String, Path, description = "Request id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn submit_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.submit_request(&auth.caller, &id).await?)
}

/// The comments on a request.
#[utoipa::path(get, path = "/api/v1/requests/{request_id}/comments", tag = "workspace",
    params(("request_id" = String, Path, description = "Request id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn request_comments(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.request_comments(&auth.caller, &id).await?)
}

/// A comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// The text.
    pub body: String,
}

/// Comments on a request.
#[utoipa::path(post, path = "/api/v1/requests/{request_id}/comments", tag = "workspace", request_body = CommentBody,
    params(("request_id" = String, Path, description = "Request id")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn comment_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CommentBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let c = st
        .app
        .comment_on_request(&auth.caller, &id, &b.body)
        .await?;
    Ok((StatusCode::CREATED, json(&c)?))
}

/// A comment on something in the engagement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectCommentBody {
    /// `engagement`, `request`, `test` or `finding`.
    pub subject_kind: String,
    /// Its id (the engagement's id for `engagement`).
    pub subject_id: String,
    /// The text.
    pub body: String,
}

/// Comments on the engagement, a request, a test or a finding.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/comments", tag = "workspace", request_body = SubjectCommentBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn comment(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SubjectCommentBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let c = st
        .app
        .comment(&auth.caller, &id, &b.subject_kind, &b.subject_id, &b.body)
        .await?;
    Ok((StatusCode::CREATED, json(&c)?))
}

/// A finding raised by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingBody {
    /// Title.
    pub title: String,
    /// What was found.
    #[serde(default)]
    pub description: String,
    /// `exception` (SOC); `major`, `minor`, `observation` (ISO); `critical`, `high`,
    /// `medium`, `low`, `informational` (penetration test).
    pub severity: String,
    /// The control (id or reference).
    pub control: Option<String>,
}

/// Raises a finding (an ISO major or minor one also raises a nonconformity).
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/findings", tag = "workspace", request_body = FindingBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn raise_finding(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<FindingBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let f = st
        .app
        .raise_finding(
            &auth.caller,
            &id,
            FindingInput {
                title: b.title,
                description: b.description,
                severity: b.severity,
                control: b.control,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, json(&f)?))
}

/// Management's response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// The response.
    pub response: String,
}

/// Records management's response to a finding.
#[utoipa::path(put, path = "/api/v1/engagements/{engagement_id}/findings/{finding_id}/response", tag = "workspace", request_body = ResponseBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("finding_id" = String, Path, description = "Finding id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn respond_finding(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, finding)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ResponseBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .respond_to_finding(&auth.caller, &id, &finding, &b.response)
            .await?,
    )
}

/// An evidence file of the engagement's period and scope (or answering one of its requests).
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/evidence/{evidence_id}/file", tag = "workspace",
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("evidence_id" = String, Path, description = "Evidence id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 403, body = ErrorBody)))]
async fn evidence_file(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, evidence)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let (name, content_type, size, stream) = st
        .app
        .workspace_evidence_file(&auth.caller, &id, &evidence)
        .await?;
    Ok(super::evidence::file_response(
        &name,
        &content_type,
        size,
        stream,
    ))
}

/// The organisation's sample-size table by control frequency.
#[utoipa::path(get, path = "/api/v1/sample-table", tag = "workspace",
    responses((status = 200, body = Object)))]
async fn sample_table(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.sample_table(&auth.caller).await?)
}

/// Sample sizes by control frequency (1 to 250 each).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleTableBody {
    /// Once a year.
    pub annual: u32,
    /// Quarterly.
    pub quarterly: u32,
    /// Monthly.
    pub monthly: u32,
    /// Weekly.
    pub weekly: u32,
    /// Daily.
    pub daily: u32,
    /// Many times a day.
    pub many_per_day: u32,
}

/// Changes the sample-size table; later draws use it, recorded draws keep their size.
#[utoipa::path(put, path = "/api/v1/sample-table", tag = "workspace", request_body = SampleTableBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn set_sample_table(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<SampleTableBody>,
) -> Result<axum::Json<Value>, WebError> {
    let t = SampleTable {
        annual: b.annual,
        quarterly: b.quarterly,
        monthly: b.monthly,
        weekly: b.weekly,
        daily: b.daily,
        many_per_day: b.many_per_day,
    };
    json(&st.app.set_sample_table(&auth.caller, t).await?)
}

/// The engagement's workpapers: a ZIP with an index, the request list, tests, findings,
/// comments, the OSCAL exports and the evidence files given in answer.
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/workpapers", tag = "workspace",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, description = "ZIP", content_type = "application/zip"), (status = 403, body = ErrorBody)))]
async fn workpapers(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let (name, file) = st.app.workpapers(&auth.caller, &id).await?;
    let size = file
        .as_file()
        .metadata()
        .map_err(|e| attest_app::AppError::Internal(e.to_string()))?
        .len();
    let reopened = tokio::fs::File::from_std(
        file.reopen()
            .map_err(|e| attest_app::AppError::Internal(e.to_string()))?,
    );
    // The temporary file is unlinked once the response has streamed it (the handle keeps it).
    drop(file);
    let stream = tokio_util::io::ReaderStream::new(reopened);
    let mut resp = Response::new(axum::body::Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_DISPOSITION,
        super::evidence::attachment(&name),
    );
    Ok(resp)
}

fn oscal_response(v: &Value, name: &str) -> Result<Response, WebError> {
    let body =
        serde_json::to_vec_pretty(v).map_err(|e| attest_app::AppError::Internal(e.to_string()))?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        super::evidence::attachment(name),
    );
    Ok(resp)
}

/// The engagement's OSCAL 1.2.1 assessment results (schema-valid).
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/oscal/assessment-results", tag = "workspace",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn assessment_results(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let (reference, v) = st.app.oscal_assessment_results(&auth.caller, &id).await?;
    oscal_response(&v, &format!("{reference}-assessment-results.json"))
}

/// The engagement's findings as an OSCAL 1.2.1 plan of action and milestones.
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/oscal/poam", tag = "workspace",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn poam(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let (reference, v) = st.app.oscal_poam(&auth.caller, &id).await?;
    oscal_response(&v, &format!("{reference}-poam.json"))
}
