//! The trust portal's customers over the API: accounts and invitations, NDA versions and
//! offline NDAs, the access request queue, and the download log with its analytics.

use attest_app::Permission;
use attest_app::portal_customers::Decision;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::{json, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, ErrorBody, WebError};
use crate::pages::portal_customers::{LogQuery, filter_of};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    let p = perm(Permission::PortalManage);
    r.api(p, routes!(customers))
        .api(p, routes!(invite))
        .api(p, routes!(set_disabled))
        .api(p, routes!(offline_nda))
        .api(p, routes!(publish_nda))
        .api(p, routes!(decide))
        .api(p, routes!(downloads))
        .api(p, routes!(stats))
}

/// Accounts, the request queue (open requests first), NDA versions and acceptances.
#[utoipa::path(get, path = "/api/v1/portal/customers", tag = "portal", responses((status = 200, body = Object)))]
async fn customers(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.portal_customers(&auth.caller).await?)
}

/// A customer to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// E-mail address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Company.
    pub company: String,
}

/// Invites a customer: the account and its one-time link to choose a password (also mailed
/// when mail is set up).
#[utoipa::path(post, path = "/api/v1/portal/customers", tag = "portal", request_body = InviteBody,
    responses((status = 201, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn invite(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<InviteBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let (account, link) = st
        .app
        .portal_invite(&auth.caller, &b.email, &b.name, &b.company)
        .await?;
    Ok((
        StatusCode::CREATED,
        json(&serde_json::json!({"account": account, "invitation_url": link}))?,
    ))
}

/// Whether an account is disabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisabledBody {
    /// Disabled (signed out everywhere, links void) or enabled.
    pub disabled: bool,
}

/// Disables or enables a customer account.
#[utoipa::path(patch, path = "/api/v1/portal/customers/{account_id}", tag = "portal", request_body = DisabledBody,
    params(("account_id" = String, Path, description = "Customer account id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn set_disabled(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DisabledBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .set_customer_disabled(&auth.caller, &id, b.disabled)
            .await?,
    )
}

/// An NDA signed outside Attest.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineNdaBody {
    /// The NDA version it counts as.
    pub version: i64,
    /// Where the signed copy is kept.
    pub note: String,
}

/// Records an NDA a customer signed outside Attest.
#[utoipa::path(post, path = "/api/v1/portal/customers/{account_id}/nda", tag = "portal", request_body = OfflineNdaBody,
    params(("account_id" = String, Path, description = "Customer account id")),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn offline_nda(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<OfflineNdaBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let a = st
        .app
        .record_offline_nda(&auth.caller, &id, b.version, &b.note)
        .await?;
    Ok((StatusCode::CREATED, json(&a)?))
}

/// A new NDA version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NdaBody {
    /// English text.
    pub text_en: String,
    /// Korean text (empty: customers read the English one).
    #[serde(default)]
    pub text_ko: String,
}

/// Publishes a new NDA version; customers accept it before their next download.
#[utoipa::path(post, path = "/api/v1/portal/ndas", tag = "portal", request_body = NdaBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn publish_nda(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<NdaBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let n = st
        .app
        .publish_nda(&auth.caller, &b.text_en, &b.text_ko)
        .await?;
    Ok((StatusCode::CREATED, json(&n)?))
}

/// A decision on an access request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `approve`, `deny` or `revoke`.
    pub decision: String,
    /// Days granted (approve).
    #[serde(default)]
    pub days: Option<i64>,
    /// A note the customer sees.
    #[serde(default)]
    pub note: String,
}

/// Approves, denies or revokes an access request.
#[utoipa::path(post, path = "/api/v1/portal/access-requests/{request_id}", tag = "portal", request_body = DecisionBody,
    params(("request_id" = String, Path, description = "Access request id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<axum::Json<Value>, WebError> {
    let d = match (b.decision.as_str(), b.days) {
        ("approve", Some(days)) => Decision::Approve(days),
        ("approve", None) => {
            return Err(attest_app::AppError::invalid("days", "approving needs days").into());
        }
        ("deny", _) => Decision::Deny,
        ("revoke", _) => Decision::Revoke,
        _ => {
            return Err(attest_app::AppError::invalid(
                "decision",
                "decision is approve, deny or revoke",
            )
            .into());
        }
    };
    json(&st.app.decide_access(&auth.caller, &id, d, &b.note).await?)
}

/// The download log's filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DownloadsQuery {
    /// First day (YYYY-MM-DD).
    from: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive).
    until: Option<String>,
    /// A customer account id.
    account: Option<String>,
    /// A document id.
    document: Option<String>,
    /// `served` or `refused`.
    outcome: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// The download log (served and refused), newest first; `format=csv` exports it.
#[utoipa::path(get, path = "/api/v1/portal/downloads", tag = "portal", params(DownloadsQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn downloads(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<DownloadsQuery>,
) -> Result<Response, WebError> {
    let lq = LogQuery {
        from: q.from,
        until: q.until,
        account: q.account,
        document: q.document,
        outcome: q.outcome,
    };
    let mut f = filter_of(&lq)?;
    match q.format.as_deref().unwrap_or("json") {
        "csv" => {
            f.limit = 100_000;
            let csv = st.app.portal_downloads_csv(&auth.caller, &f).await?;
            let mut resp = csv.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            Ok(resp)
        }
        "json" => Ok(json(&st.app.portal_downloads(&auth.caller, &f).await?)?.into_response()),
        other => Err(attest_app::AppError::invalid(
            "format",
            format!("unknown format `{other}` (json or csv)"),
        )
        .into()),
    }
}

/// How many days the analytics cover.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// 1 to 366 (default 30).
    days: Option<i64>,
}

/// Downloads per day, per document and per company, and refusals per reason.
#[utoipa::path(get, path = "/api/v1/portal/downloads/stats", tag = "portal", params(StatsQuery),
    responses((status = 200, body = Object)))]
async fn stats(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .portal_download_stats(&auth.caller, q.days.unwrap_or(30))
            .await?,
    )
}
