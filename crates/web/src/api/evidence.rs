//! Evidence: streamed file uploads, links and records, the list with filters and paging,
//! versions, downloads, legal hold and disposal, freshness (overdue and due) and the coverage
//! of a period.

use attest_app::evidence::{
    Content, ControlFreshness, ControlPeriod, EvidenceDetail, EvidenceInput, EvidencePage,
    EvidenceQuery, EvidenceView,
};
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::evidence::{DateRange, EvidenceSource, parse_day};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::TryStreamExt;
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use time::Date;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::perm;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

/// Largest text field of an upload form (title, description, dates, control ids).
const FIELD_MAX: usize = 64 * 1024;
/// Largest total of the text fields of an upload form.
const FIELDS_MAX: usize = 256 * 1024;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(list_evidence))
        .api(perm(Permission::ControlUpdateOwn), routes!(add_entry))
        // Files stream to the blob store; the configured upload limit is enforced while
        // streaming, so the router's own body limit is lifted for these two routes.
        .body_limit(usize::MAX)
        .api(perm(Permission::ControlUpdateOwn), routes!(upload_file))
        .body_limit(usize::MAX)
        .api(perm(Permission::ControlUpdateOwn), routes!(upload_version))
        .api(perm(Permission::ControlUpdateOwn), routes!(correct_entry))
        .api(perm(Permission::ProgramRead), routes!(overdue))
        .api(perm(Permission::ProgramRead), routes!(due))
        .api(perm(Permission::ProgramRead), routes!(period))
        .api(perm(Permission::ProgramRead), routes!(get_evidence))
        .api(perm(Permission::ProgramRead), routes!(download))
        .api(perm(Permission::EvidenceHold), routes!(legal_hold))
        .api(perm(Permission::EvidenceDispose), routes!(dispose))
        .api(perm(Permission::ProgramRead), routes!(get_retention))
        .api(perm(Permission::EvidenceDispose), routes!(set_retention))
        .api(perm(Permission::EvidenceDispose), routes!(apply_retention))
}

/// An optional day (blank is none); a malformed one is refused naming `field`.
pub(crate) fn date(field: &str, s: Option<&str>) -> Result<Option<Date>, AppError> {
    s.filter(|s| !s.trim().is_empty())
        .map(|s| parse_day(s).map_err(|e| AppError::invalid(field, e)))
        .transpose()
}

/// An optional user id (blank is none).
pub(crate) fn user_id(field: &str, s: Option<&str>) -> Result<Option<UserId>, AppError> {
    s.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<UserId>()
                .map_err(|_| AppError::invalid(field, "not a user id"))
        })
        .transpose()
}

/// Reads the form fields before the file, then streams the file into the app.
pub(crate) async fn upload(
    st: &AppState,
    auth: &Auth,
    mut mp: Multipart,
    correcting: Option<&str>,
) -> Result<EvidenceView, AppError> {
    let malformed = |e: axum::extract::multipart::MultipartError| {
        AppError::invalid(
            "file",
            format!("the upload is malformed: {}", e.body_text()),
        )
    };
    let mut input = EvidenceInput::default();
    let mut sha256: Option<String> = None;
    let mut dates: [Option<String>; 3] = [None, None, None];
    // All the fields before the file together (a client repeating `controls` forever must
    // not grow the server's memory).
    let mut fields_total = 0usize;
    loop {
        let Some(mut field) = mp.next_field().await.map_err(malformed)? else {
            return Err(AppError::invalid(
                "file",
                "no `file` field: send the file last, after the other fields",
            ));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_owned();
            for (i, f) in ["collected_on", "effective_from", "effective_until"]
                .iter()
                .enumerate()
            {
                let d = date(f, dates[i].as_deref())?;
                match i {
                    0 => input.collected_on = d,
                    1 => input.effective_from = d,
                    _ => input.effective_until = d,
                }
            }
            let source = if auth.session.is_some() {
                EvidenceSource::Manual
            } else {
                EvidenceSource::Api
            };
            let body = Box::pin(field.map_err(|e| e.body_text()));
            let content = Content::File {
                name: file_name,
                body,
                declared_sha256: sha256,
            };
            let done = match correcting {
                None => {
                    st.app
                        .add_evidence(&auth.caller, source, input, content)
                        .await?
                }
                Some(id) => {
                    st.app
                        .correct_evidence(&auth.caller, id, source, input, content)
                        .await?
                }
            };
            // Anything after the file is ignored; the client is told by the response.
            return Ok(done);
        }
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if text.len() + chunk.len() > FIELD_MAX {
                return Err(AppError::invalid(
                    &name,
                    format!("the field `{name}` is longer than 64 KiB"),
                ));
            }
            fields_total += chunk.len();
            if fields_total > FIELDS_MAX {
                return Err(AppError::invalid(
                    &name,
                    "the fields before the file are longer than 256 KiB together",
                ));
            }
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(text).map_err(|_| {
            AppError::invalid(&name, format!("the field `{name}` is not UTF-8 text"))
        })?;
        match name.as_str() {
            "title" => input.title = text,
            "description" => input.description = text,
            "controls" | "control" => input.controls.extend(
                text.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            ),
            "sha256" => sha256 = Some(text),
            "collected_on" => dates[0] = Some(text),
            "effective_from" => dates[1] = Some(text),
            "effective_until" => dates[2] = Some(text),
            // The CSRF token of a browser form.
            "_csrf" => {}
            other => {
                return Err(AppError::invalid(
                    other,
                    format!(
                        "unknown field `{other}`: use title, description, controls, sha256, collected_on, effective_from, effective_until, then file"
                    ),
                ));
            }
        }
    }
}

/// Uploads a file as new evidence: a multipart form with `title`, `controls` (control ids,
/// repeated or comma-separated), optional `description`, `collected_on`, `effective_from`,
/// `effective_until` (YYYY-MM-DD) and `sha256` (checked against the content), then `file`
/// last. Streamed: memory stays flat whatever the size, up to the configured limit.
#[utoipa::path(post, path = "/api/v1/evidence/files", tag = "evidence",
    request_body(content_type = "multipart/form-data", description = "Fields, then `file` last"),
    responses((status = 201, body = serde_json::Value, description = "EvidenceView"), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_file(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let done = upload(&st, &auth, mp, None).await?;
    Ok((StatusCode::CREATED, axum::Json(done)).into_response())
}

/// Uploads a corrected file as a new version of an evidence item (same form as a new file).
#[utoipa::path(post, path = "/api/v1/evidence/{evidence_id}/versions/files", tag = "evidence",
    params(("evidence_id" = String, Path, description = "The version corrected")),
    request_body(content_type = "multipart/form-data", description = "Fields, then `file` last"),
    responses((status = 201, body = serde_json::Value, description = "EvidenceView"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_version(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let done = upload(&st, &auth, mp, Some(&id)).await?;
    Ok((StatusCode::CREATED, axum::Json(done)).into_response())
}

/// A link or record as evidence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Ids of the controls it supports.
    pub controls: Vec<String>,
    /// A link (give this or `record`).
    pub url: Option<String>,
    /// A structured record (give this or `url`).
    pub record: Option<serde_json::Value>,
    /// Collected on (YYYY-MM-DD, default today).
    pub collected_on: Option<String>,
    /// Effective from (YYYY-MM-DD, default the day collected).
    pub effective_from: Option<String>,
    /// Effective until (YYYY-MM-DD; default one window of each control's frequency).
    pub effective_until: Option<String>,
    /// `automated` when a check produced it (default `api`).
    pub source: Option<String>,
}

type NoStream = futures::stream::Empty<Result<Bytes, String>>;

fn entry(b: EntryBody) -> Result<(EvidenceSource, EvidenceInput, Content<NoStream>), AppError> {
    let source = match b.source.as_deref() {
        None | Some("api") => EvidenceSource::Api,
        Some("automated") => EvidenceSource::Automated,
        Some(other) => {
            return Err(AppError::invalid(
                "source",
                format!("`{other}`: use api or automated"),
            ));
        }
    };
    let input = EvidenceInput {
        title: b.title,
        description: b.description,
        controls: b.controls,
        collected_on: date("collected_on", b.collected_on.as_deref())?,
        effective_from: date("effective_from", b.effective_from.as_deref())?,
        effective_until: date("effective_until", b.effective_until.as_deref())?,
    };
    let content = match (b.url, b.record) {
        (Some(url), None) => Content::Link { url },
        (None, Some(json)) => Content::Record { json },
        _ => {
            return Err(AppError::invalid(
                "url",
                "give either `url` (a link) or `record` (a JSON record), not both",
            ));
        }
    };
    Ok((source, input, content))
}

/// Adds a link or a structured record as evidence.
#[utoipa::path(post, path = "/api/v1/evidence", tag = "evidence", request_body = EntryBody,
    responses((status = 201, body = serde_json::Value, description = "EvidenceView"), (status = 422, body = ErrorBody)))]
async fn add_entry(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<EntryBody>,
) -> Result<Response, WebError> {
    let (source, input, content) = entry(b)?;
    let done = st
        .app
        .add_evidence(&auth.caller, source, input, content)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(done)).into_response())
}

/// Corrects a link or record: a new version.
#[utoipa::path(post, path = "/api/v1/evidence/{evidence_id}/versions", tag = "evidence", request_body = EntryBody,
    params(("evidence_id" = String, Path, description = "The version corrected")),
    responses((status = 201, body = serde_json::Value, description = "EvidenceView"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn correct_entry(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<EntryBody>,
) -> Result<Response, WebError> {
    let (source, input, content) = entry(b)?;
    let done = st
        .app
        .correct_evidence(&auth.caller, &id, source, input, content)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(done)).into_response())
}

/// Filters of the evidence list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// A control's id.
    pub control: Option<String>,
    /// A framework id (with `requirement`): evidence of the controls linked to it.
    pub framework: Option<String>,
    /// A requirement id of `framework`.
    pub requirement: Option<String>,
    /// Evidence of the controls this person owns (user id).
    pub owner: Option<String>,
    /// Evidence effective on this day (YYYY-MM-DD).
    pub effective_on: Option<String>,
    /// Words in the title.
    pub q: Option<String>,
    /// Include superseded versions.
    pub all_versions: Option<bool>,
    /// The `next` cursor of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
}

/// Evidence, newest first, filtered and paged.
#[utoipa::path(get, path = "/api/v1/evidence", tag = "evidence", params(ListQuery),
    responses((status = 200, body = serde_json::Value, description = "EvidencePage"), (status = 422, body = ErrorBody)))]
async fn list_evidence(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<axum::Json<EvidencePage>, WebError> {
    let requirement = match (q.framework, q.requirement) {
        (Some(f), Some(r)) => Some((f, r)),
        (None, None) => None,
        _ => {
            return Err(AppError::invalid(
                "requirement",
                "give both `framework` and `requirement`",
            )
            .into());
        }
    };
    let owner = user_id("owner", q.owner.as_deref())?;
    Ok(axum::Json(
        st.app
            .list_evidence(
                &auth.caller,
                EvidenceQuery {
                    control: q.control.filter(|c| !c.is_empty()),
                    requirement,
                    owner,
                    effective_on: date("effective_on", q.effective_on.as_deref())?,
                    q: q.q,
                    all_versions: q.all_versions.unwrap_or(false),
                    cursor: q.cursor,
                    limit: q.limit,
                },
            )
            .await?,
    ))
}

/// One evidence version, its controls and every version of the item.
#[utoipa::path(get, path = "/api/v1/evidence/{evidence_id}", tag = "evidence",
    params(("evidence_id" = String, Path, description = "Evidence id")),
    responses((status = 200, body = serde_json::Value, description = "EvidenceDetail"), (status = 404, body = ErrorBody)))]
async fn get_evidence(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<EvidenceDetail>, WebError> {
    Ok(axum::Json(st.app.evidence(&auth.caller, &id).await?))
}

/// The `Content-Disposition` header of a download: ASCII fallback and RFC 5987 UTF-8 name.
pub(crate) fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Downloads a file evidence: always as an attachment, with its sniffed type and `nosniff`.
#[utoipa::path(get, path = "/api/v1/evidence/{evidence_id}/file", tag = "evidence",
    params(("evidence_id" = String, Path, description = "Evidence id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn download(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let (name, content_type, size, stream) = st.app.evidence_file(&auth.caller, &id).await?;
    Ok(file_response(&name, &content_type, size, stream))
}

/// An evidence file as a download that no browser renders in the application's origin.
pub(crate) fn file_response<S, E>(name: &str, content_type: &str, size: u64, stream: S) -> Response
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<axum::BoxError>,
{
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(header::CONTENT_DISPOSITION, attachment(name));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    resp
}

/// A legal hold decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// Put under hold (true) or lift it (false).
    pub on: bool,
    /// Why.
    pub reason: String,
}

/// Puts an evidence item (all its versions) under legal hold, or lifts the hold.
#[utoipa::path(post, path = "/api/v1/evidence/{evidence_id}/legal-hold", tag = "evidence", request_body = HoldBody,
    params(("evidence_id" = String, Path, description = "Evidence id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn legal_hold(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<HoldBody>,
) -> Result<StatusCode, WebError> {
    st.app
        .set_legal_hold(&auth.caller, &id, b.on, &b.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A disposal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisposeBody {
    /// Why the evidence is disposed of.
    pub reason: String,
}

/// Disposes of an evidence item, every version (owners only; refused under legal hold).
#[utoipa::path(post, path = "/api/v1/evidence/{evidence_id}/dispose", tag = "evidence", request_body = DisposeBody,
    params(("evidence_id" = String, Path, description = "Evidence id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn dispose(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DisposeBody>,
) -> Result<StatusCode, WebError> {
    st.app
        .dispose_evidence(&auth.caller, &id, &b.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose overdue controls.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OverdueQuery {
    /// Only this owner's controls (user id).
    pub owner: Option<String>,
}

/// Controls whose evidence no longer covers today (or never did).
#[utoipa::path(get, path = "/api/v1/evidence/overdue", tag = "evidence", params(OverdueQuery),
    responses((status = 200, body = serde_json::Value, description = "ControlFreshness")))]
async fn overdue(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<OverdueQuery>,
) -> Result<axum::Json<Vec<ControlFreshness>>, WebError> {
    let owner = user_id("owner", q.owner.as_deref())?;
    Ok(axum::Json(
        st.app.overdue_controls(&auth.caller, owner).await?,
    ))
}

/// How far ahead.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    /// Days ahead (default 30).
    pub days: Option<i64>,
}

/// Controls whose evidence stops covering within the next days (default 30).
#[utoipa::path(get, path = "/api/v1/evidence/due", tag = "evidence", params(DueQuery),
    responses((status = 200, body = serde_json::Value, description = "ControlFreshness")))]
async fn due(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> Result<axum::Json<Vec<ControlFreshness>>, WebError> {
    Ok(axum::Json(
        st.app
            .evidence_due(&auth.caller, q.days.unwrap_or(30))
            .await?,
    ))
}

/// A period.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// First day (YYYY-MM-DD).
    pub start: String,
    /// Last day (YYYY-MM-DD).
    pub end: String,
    /// Only this control (id).
    pub control: Option<String>,
}

/// For a period, per control: which evidence covers which days, and the gaps.
#[utoipa::path(get, path = "/api/v1/evidence/period", tag = "evidence", params(PeriodQuery),
    responses((status = 200, body = serde_json::Value, description = "ControlPeriod"), (status = 422, body = ErrorBody)))]
async fn period(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<axum::Json<Vec<ControlPeriod>>, WebError> {
    let start = date("start", Some(&q.start))?
        .ok_or_else(|| AppError::invalid("start", "give the first day"))?;
    let end =
        date("end", Some(&q.end))?.ok_or_else(|| AppError::invalid("end", "give the last day"))?;
    let range = DateRange::new(start, end).map_err(|e| AppError::invalid("end", e.to_string()))?;
    let only = q.control.map(|c| vec![c]);
    Ok(axum::Json(
        st.app
            .period_coverage(&auth.caller, range, only.as_deref())
            .await?,
    ))
}

/// The evidence retention rule.
#[derive(Debug, serde::Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    /// Days to keep evidence after the period it covers ends (365 to 36,500); null: keep
    /// evidence until an owner disposes of it.
    pub keep_days: Option<i64>,
}

/// The evidence retention rule.
#[utoipa::path(get, path = "/api/v1/evidence-retention", tag = "evidence",
    responses((status = 200, body = RetentionBody)))]
async fn get_retention(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<RetentionBody>, WebError> {
    Ok(axum::Json(RetentionBody {
        keep_days: st.app.evidence_retention(&auth.caller).await?,
    }))
}

/// Sets or removes the evidence retention rule (owners).
#[utoipa::path(put, path = "/api/v1/evidence-retention", tag = "evidence", request_body = RetentionBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn set_retention(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<RetentionBody>,
) -> Result<StatusCode, WebError> {
    st.app
        .set_evidence_retention(&auth.caller, b.keep_days)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What applying the retention rule disposed of.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RetentionRun {
    /// The disposed items' ids (every version of each is disposed of).
    pub disposed: Vec<String>,
}

/// Applies the retention rule now: disposes of evidence past it, except under legal hold.
#[utoipa::path(post, path = "/api/v1/evidence-retention/apply", tag = "evidence",
    responses((status = 200, body = RetentionRun), (status = 422, body = ErrorBody)))]
async fn apply_retention(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<RetentionRun>, WebError> {
    Ok(axum::Json(RetentionRun {
        disposed: st.app.apply_evidence_retention(&auth.caller).await?,
    }))
}
