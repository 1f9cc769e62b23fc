//! The nonconformity pages: the list with a form to raise one, and one with its analysis,
//! action, verification and closure.

use askama::Template;
use attest_app::nonconformity::NcView;
use attest_app::{AppError, Permission};
use attest_domain::evidence::day_text;
use attest_domain::nonconformity::{NcSource, Severity};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::nonconformity::NcBody;
use crate::auth::Auth;
use crate::error::{ApiPath, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let manage = Access::Perm(Permission::IsmsManage);
    r.page(Method::GET, "/nonconformities", read, list)
        .page(Method::POST, "/nonconformities", manage, raise)
        .page(Method::GET, "/nonconformities/{nc_id}", read, show)
        .page(Method::POST, "/nonconformities/{nc_id}", manage, update)
        .page(
            Method::POST,
            "/nonconformities/{nc_id}/verify",
            manage,
            verify,
        )
        .page(
            Method::POST,
            "/nonconformities/{nc_id}/close",
            manage,
            close,
        )
}

fn body_of(p: &[(String, String)]) -> NcBody {
    let opt = |k: &str| Some(one(p, k)).filter(|v| !v.trim().is_empty());
    NcBody {
        title: one(p, "title"),
        description: one(p, "description"),
        source: one(p, "source"),
        severity: one(p, "severity"),
        framework: opt("framework"),
        requirement: opt("requirement"),
        control_id: opt("control_id"),
        risk_id: opt("risk_id"),
        evidence_id: opt("evidence_id"),
        root_cause: one(p, "root_cause"),
        correction: one(p, "correction"),
        corrective_action: one(p, "corrective_action"),
        owner_id: opt("owner_id"),
        due_on: opt("due_on"),
    }
}

fn choices<T: Copy>(
    all: &[T],
    text: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (text(*v), label(*v))).collect()
}

struct Row {
    id: String,
    reference: String,
    title: String,
    severity: &'static str,
    source: &'static str,
    owner: String,
    due: String,
    overdue: bool,
    closed: bool,
}

#[derive(Template)]
#[template(path = "nonconformities.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    can_manage: bool,
    sources: Vec<(&'static str, &'static str)>,
    severities: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn list_view(
    st: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    let rows = st
        .app
        .nonconformities(&auth.caller)
        .await
        .map_err(WebError::page)?
        .into_iter()
        .map(|n| Row {
            id: n.nc.id.clone(),
            reference: n.nc.reference.clone(),
            title: n.nc.title.clone(),
            severity: n.nc.severity.label(),
            source: n.nc.source.label(),
            owner: n.owner_name.clone().unwrap_or_default(),
            due: n.nc.due_on.map(day_text).unwrap_or_default(),
            overdue: n.overdue,
            closed: n.nc.closed_on.is_some(),
        })
        .collect();
    let page = ListPage {
        shell: Shell::new(st, auth, "Nonconformities", "nonconformities").await?,
        rows,
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        sources: choices(NcSource::ALL, NcSource::as_str, NcSource::label),
        severities: choices(Severity::ALL, Severity::as_str, Severity::label),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    list_view(&st, &auth, None).await
}

async fn raise(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let b = body_of(&pairs(&body));
    let result = match b.input() {
        Ok(input) => st.app.put_nonconformity(&auth.caller, None, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(n) => Ok(see_other(&format!("/nonconformities/{}", n.id))),
        Err(e) => list_view(&st, &auth, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "nonconformity.html")]
struct NcPage {
    shell: Shell,
    id: String,
    reference: String,
    title: String,
    severity: &'static str,
    severity_value: &'static str,
    source: &'static str,
    source_value: &'static str,
    raised_by: String,
    raised_on: String,
    requirement: String,
    framework: String,
    requirement_id: String,
    control_id: String,
    risk_id: String,
    evidence_id: String,
    owner_id: String,
    due: String,
    description: String,
    root_cause: String,
    correction: String,
    corrective_action: String,
    verification: Option<String>,
    closed: bool,
    closed_on: String,
    blocker: Option<&'static str>,
    can_manage: bool,
    severities: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn nc_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let v: NcView = st
        .app
        .nonconformity(&auth.caller, id)
        .await
        .map_err(WebError::page)?;
    let n = &v.nc;
    let framework = n.framework_id.clone().unwrap_or_default();
    let requirement_id = n.requirement_id.clone().unwrap_or_default();
    let page = NcPage {
        shell: Shell::new(st, auth, n.reference.clone(), "nonconformities").await?,
        id: n.id.clone(),
        reference: n.reference.clone(),
        title: n.title.clone(),
        severity: n.severity.label(),
        severity_value: n.severity.as_str(),
        source: n.source.label(),
        source_value: n.source.as_str(),
        raised_by: n.raised_by.clone(),
        raised_on: day_text(n.raised_on),
        requirement: if framework.is_empty() {
            String::new()
        } else {
            format!("{framework} {requirement_id}")
        },
        framework,
        requirement_id,
        control_id: n.control_id.clone().unwrap_or_default(),
        risk_id: n.risk_id.clone().unwrap_or_default(),
        evidence_id: n.evidence_id.clone().unwrap_or_default(),
        owner_id: n.owner_id.map(|u| u.to_string()).unwrap_or_default(),
        due: n.due_on.map(day_text).unwrap_or_default(),
        description: n.description.clone(),
        root_cause: n.root_cause.clone(),
        correction: n.correction.clone(),
        corrective_action: n.corrective_action.clone(),
        verification: n.verification.clone(),
        closed: n.closed_on.is_some(),
        closed_on: n.closed_on.map(day_text).unwrap_or_default(),
        blocker: v.blocker,
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        severities: choices(Severity::ALL, Severity::as_str, Severity::label),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn show(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    nc_view(&st, &auth, &id, None).await
}

async fn done(
    st: &AppState,
    auth: &Auth,
    id: &str,
    r: Result<(), AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(()) => Ok(see_other(&format!("/nonconformities/{id}"))),
        Err(e) => nc_view(st, auth, id, Some(message(e)?)).await,
    }
}

async fn update(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let b = body_of(&pairs(&body));
    let r = match b.input() {
        Ok(input) => st
            .app
            .put_nonconformity(&auth.caller, Some(&id), input)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    done(&st, &auth, &id, r).await
}

async fn verify(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .verify_nonconformity(&auth.caller, &id, &one(&p, "verification"))
        .await;
    done(&st, &auth, &id, r).await
}

async fn close(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.close_nonconformity(&auth.caller, &id).await;
    done(&st, &auth, &id, r).await
}
