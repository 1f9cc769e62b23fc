//! The trust portal's customers as staff see them: the request queue (approve, deny,
//! revoke), accounts (invite, disable, record an NDA signed outside Attest), NDA versions,
//! and the download log with its filters, CSV export and charts.

use askama::Template;
use attest_app::portal_customers::{CustomersAdmin, Decision, DownloadStats};
use attest_app::{AppError, Permission};
use attest_domain::Timestamp;
use attest_store::customers::{Download, DownloadFilter};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let manage = Access::Perm(Permission::PortalManage);
    r.page(Method::GET, "/portal/customers", manage, show)
        .page(Method::POST, "/portal/customers", manage, invite)
        .page(
            Method::POST,
            "/portal/customers/{account_id}/disable",
            manage,
            disable,
        )
        .page(
            Method::POST,
            "/portal/customers/{account_id}/nda",
            manage,
            offline_nda,
        )
        .page(Method::POST, "/portal/ndas", manage, publish_nda)
        .page(
            Method::POST,
            "/portal/access-requests/{request_id}",
            manage,
            decide,
        )
        .page(Method::GET, "/portal/downloads", manage, downloads)
        .page(Method::GET, "/portal/downloads.csv", manage, downloads_csv)
}

#[derive(Template)]
#[template(path = "portal_customers.html")]
struct CustomersPage {
    shell: Shell,
    a: CustomersAdmin,
    /// An invitation link just made: (e-mail, link), shown once.
    invited: Option<(String, String)>,
    error: Option<String>,
}

impl CustomersPage {
    fn when(&self, t: &Timestamp) -> String {
        t.to_rfc3339()
            .get(..16)
            .unwrap_or_default()
            .replace('T', " ")
    }

    fn email_of(&self, account: &str) -> String {
        self.a
            .accounts
            .iter()
            .find(|(a, _)| a.id == account)
            .map(|(a, _)| a.email.clone())
            .unwrap_or_default()
    }
}

async fn view(
    st: &AppState,
    auth: &Auth,
    invited: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let a = st
        .app
        .portal_customers(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let page = CustomersPage {
        shell: Shell::new(st, auth, "Portal customers", "portal").await?,
        a,
        invited,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn back<T>(st: &AppState, auth: &Auth, r: Result<T, AppError>) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(see_other("/portal/customers")),
        Err(e) => view(st, auth, None, Some(message(e)?)).await,
    }
}

async fn show(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    view(&st, &auth, None, None).await
}

async fn invite(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    match st
        .app
        .portal_invite(
            &auth.caller,
            &one(&p, "email"),
            &one(&p, "name"),
            &one(&p, "company"),
        )
        .await
    {
        Ok((a, link)) => view(&st, &auth, Some((a.email, link)), None).await,
        Err(e) => view(&st, &auth, None, Some(message(e)?)).await,
    }
}

async fn disable(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .set_customer_disabled(&auth.caller, &id, one(&p, "disabled") != "false")
        .await;
    back(&st, &auth, r).await
}

async fn offline_nda(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "version").trim().parse::<i64>() {
        Ok(v) => {
            st.app
                .record_offline_nda(&auth.caller, &id, v, &one(&p, "note"))
                .await
        }
        Err(_) => Err(AppError::invalid("version", "choose an NDA version")),
    };
    back(&st, &auth, r).await
}

async fn publish_nda(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .publish_nda(&auth.caller, &one(&p, "text_en"), &one(&p, "text_ko"))
        .await;
    back(&st, &auth, r).await
}

async fn decide(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let decision = match one(&p, "decision").as_str() {
        "approve" => one(&p, "days")
            .trim()
            .parse::<i64>()
            .map(Decision::Approve)
            .map_err(|_| AppError::invalid("days", "enter a number of days")),
        "deny" => Ok(Decision::Deny),
        "revoke" => Ok(Decision::Revoke),
        _ => Err(AppError::invalid(
            "decision",
            "decision is approve, deny or revoke",
        )),
    };
    let r = match decision {
        Ok(d) => {
            st.app
                .decide_access(&auth.caller, &id, d, &one(&p, "note"))
                .await
        }
        Err(e) => Err(e),
    };
    back(&st, &auth, r).await
}

/// The download log's filter as a query string gives it.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct LogQuery {
    /// First day (YYYY-MM-DD).
    pub(crate) from: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive).
    pub(crate) until: Option<String>,
    /// An account id.
    pub(crate) account: Option<String>,
    /// A document id.
    pub(crate) document: Option<String>,
    /// `served` or `refused`.
    pub(crate) outcome: Option<String>,
}

fn day(field: &str, v: &str) -> Result<Option<time::Date>, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| AppError::invalid(field, format!("`{v}` is not a date (YYYY-MM-DD)")))
}

fn micros(d: time::Date) -> Timestamp {
    Timestamp::from_micros(d.midnight().assume_utc().unix_timestamp() * 1_000_000)
}

pub(crate) fn filter_of(q: &LogQuery) -> Result<DownloadFilter, AppError> {
    let nonempty = |s: &Option<String>| s.clone().filter(|x| !x.trim().is_empty());
    Ok(DownloadFilter {
        from: day("from", q.from.as_deref().unwrap_or(""))?.map(micros),
        until: day("until", q.until.as_deref().unwrap_or(""))?
            .map(|d| micros(d + time::Duration::days(1))),
        account: nonempty(&q.account),
        document: nonempty(&q.document),
        outcome: nonempty(&q.outcome),
        limit: 1_000,
    })
}

/// One bar of a chart (drawn as SVG: the pages allow no inline style).
struct Bar {
    label: String,
    served: i64,
    refused: i64,
    /// Heights in the 0–100 box.
    served_h: i64,
    refused_h: i64,
    x: i64,
}

#[derive(Template)]
#[template(path = "portal_downloads.html")]
struct DownloadsPage {
    shell: Shell,
    rows: Vec<Download>,
    stats: DownloadStats,
    bars: Vec<Bar>,
    bar_width: i64,
    peak: i64,
    q: LogQuery,
    query: String,
    error: Option<String>,
}

impl DownloadsPage {
    fn when(&self, t: &Timestamp) -> String {
        t.to_rfc3339()
            .get(..19)
            .unwrap_or_default()
            .replace('T', " ")
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

async fn downloads(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<LogQuery>,
    uri: http::Uri,
) -> Result<Response, WebError> {
    let (rows, error) = match filter_of(&q) {
        Ok(f) => match st.app.portal_downloads(&auth.caller, &f).await {
            Ok(rows) => (rows, None),
            Err(e) => (Vec::new(), Some(message(e)?)),
        },
        Err(e) => (Vec::new(), Some(message(e)?)),
    };
    let stats = st
        .app
        .portal_download_stats(&auth.caller, 30)
        .await
        .map_err(WebError::page)?;
    let peak = stats
        .per_day
        .iter()
        .map(|d| d.1 + d.2)
        .max()
        .unwrap_or(0)
        .max(1);
    let bar_width = 20;
    let bars = stats
        .per_day
        .iter()
        .enumerate()
        .map(|(i, (d, served, refused))| Bar {
            label: d.to_string(),
            served: *served,
            refused: *refused,
            served_h: served * 100 / peak,
            refused_h: refused * 100 / peak,
            x: i as i64 * bar_width,
        })
        .collect();
    let page = DownloadsPage {
        shell: Shell::new(&st, &auth, "Portal downloads", "portal").await?,
        rows,
        stats,
        bars,
        bar_width,
        peak,
        q,
        query: uri.query().unwrap_or("").to_owned(),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn downloads_csv(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Response, WebError> {
    let mut f = filter_of(&q).map_err(WebError::page)?;
    f.limit = 100_000;
    let csv = st
        .app
        .portal_downloads_csv(&auth.caller, &f)
        .await
        .map_err(WebError::page)?;
    let mut resp = csv.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"portal-downloads.csv\""),
    );
    Ok(resp)
}
