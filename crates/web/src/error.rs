//! Mapping errors to HTTP: one status per kind of [`AppError`], one JSON shape for the API
//! (`{"error": {"code", "message", "field"?}}`), one error page for people. Internal errors
//! are logged in full and never shown.

use askama::Template;
use attest_app::AppError;
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Whether a route answers JSON or HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// The JSON API.
    Api,
    /// A web page.
    Page,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct WebError {
    kind: Kind,
    error: AppError,
}

impl WebError {
    /// Wraps an application error for a kind of route.
    pub fn new(kind: Kind, error: AppError) -> Self {
        Self { kind, error }
    }

    /// An API error.
    pub fn api(error: AppError) -> Self {
        Self::new(Kind::Api, error)
    }

    /// A page error.
    pub fn page(error: AppError) -> Self {
        Self::new(Kind::Page, error)
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::api(e)
    }
}

/// The HTTP status of an application error.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Rule { .. } | AppError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The body of every API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code: `unauthenticated`, `forbidden`, `not_found`, `invalid`,
    /// `conflict`, `rule_violation`, `throttled`, `too_large`, `unsupported_media_type`,
    /// `method_not_allowed`, `internal`.
    pub code: String,
    /// What was wrong and how to fix it.
    pub message: String,
    /// The field concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The rule concerned, for rule violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Every problem of a refused file, with where it is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ProblemDto>,
}

/// One problem of a refused file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDto {
    /// Where (a JSON path, `line 12`, `requirements row 7`).
    pub at: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// Renders a full error page.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status.as_u16() {
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        413 => "Too large",
        422 => "Cannot do that",
        429 => "Too many attempts",
        _ => "Something went wrong",
    };
    let body = ErrorPage {
        status: status.as_u16(),
        title,
        message,
    }
    .render()
    .unwrap_or_else(|_| message.to_owned());
    (status, Html(body)).into_response()
}

/// A JSON error response.
pub fn json_error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
            field: field.map(str::to_owned),
            rule: None,
            problems: Vec::new(),
        },
    };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = status_of(&self.error);
        let message = match &self.error {
            AppError::Unavailable { message, detail } => {
                tracing::error!(error = %detail, "{message}");
                message.clone()
            }
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "Attest could not complete this request; the details are in the server log."
                    .to_owned()
            }
            other => other.to_string(),
        };
        let mut resp = match self.kind {
            Kind::Api => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        code: self.error.code().to_owned(),
                        message,
                        field: self.error.field().map(str::to_owned),
                        rule: match &self.error {
                            AppError::Rule { rule, .. } => Some((*rule).to_owned()),
                            _ => None,
                        },
                        problems: match &self.error {
                            AppError::Rejected { problems, .. } => problems
                                .iter()
                                .map(|p| ProblemDto {
                                    at: p.at.clone(),
                                    message: p.message.clone(),
                                })
                                .collect(),
                            _ => Vec::new(),
                        },
                    },
                };
                (status, axum::Json(body)).into_response()
            }
            Kind::Page => error_page(status, &message),
        };
        // The rest of an oversized body is not read: say the connection ends here, so a
        // client does not send its next request on a connection the server is closing.
        if matches!(self.error, AppError::TooLarge(_)) {
            resp.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        if let AppError::Throttled { retry_after } = self.error
            && let Ok(v) = http::HeaderValue::from_str(&retry_after.to_string())
        {
            resp.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// A JSON body whose rejections (wrong content type, malformed JSON, unknown fields, wrong
/// types, too large) answer in the API's error shape, naming the problem.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> Response {
    match rej {
        JsonRejection::MissingJsonContentType(_) => json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
            None,
        ),
        JsonRejection::JsonSyntaxError(e) => json_error(
            StatusCode::BAD_REQUEST,
            "invalid",
            &format!("the body is not valid JSON: {}", e.body_text()),
            None,
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            // serde's message names the field path: "…: missing field `name` at line 1 column 2".
            let field = text.split('`').nth(1).map(str::to_owned).or_else(|| {
                text.split(": ")
                    .next()
                    .filter(|p| !p.contains(' '))
                    .map(str::to_owned)
            });
            json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                &text,
                field.as_deref(),
            )
        }
        JsonRejection::BytesRejection(e) => {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                json_error(
                    status,
                    "too_large",
                    "the request body is larger than allowed",
                    None,
                )
            } else {
                json_error(status, "invalid", &e.body_text(), None)
            }
        }
        other => json_error(other.status(), "invalid", &other.body_text(), None),
    }
}

/// A form body for pages; a malformed one becomes a 400 page naming the problem.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(FormRejection::FailedToDeserializeForm(e)) => Err(error_page(
                StatusCode::BAD_REQUEST,
                &format!("The form was not filled in correctly: {}", e.body_text()),
            )),
            Err(e) => Err(error_page(e.status(), &e.body_text())),
        }
    }
}

/// Query parameters; malformed ones answer 400 in the shape of the route's kind.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(json_error(
                StatusCode::BAD_REQUEST,
                "invalid",
                &e.body_text(),
                None,
            )),
            Err(e) => Err(json_error(e.status(), "invalid", &e.body_text(), None)),
        }
    }
}

/// Path parameters; a malformed id is "not found" (it cannot name anything).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let is_api = parts.uri.path().starts_with("/api/");
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) if is_api => Err(json_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such object",
                None,
            )),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(error_page(StatusCode::NOT_FOUND, "No such page."))
            }
            Err(e) if is_api => Err(json_error(e.status(), "invalid", &e.body_text(), None)),
            Err(e) => Err(error_page(e.status(), &e.body_text())),
        }
    }
}
