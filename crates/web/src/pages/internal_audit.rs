//! The internal audit programme and management review pages.

use askama::Template;
use attest_app::internal_audit::{AuditView, ReviewDecision, ReviewView};
use attest_app::{AppError, Permission};
use attest_domain::internal_audit::AuditResult;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::internal_audit::{AuditBody, audit_input, day};
use crate::auth::Auth;
use crate::error::{ApiPath, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let manage = Access::Perm(Permission::IsmsManage);
    r.page(Method::GET, "/audits", read, audits)
        .page(Method::POST, "/audits", manage, plan)
        .page(Method::GET, "/audits/{audit_id}", read, audit)
        .page(Method::POST, "/audits/{audit_id}/results", manage, result)
        .page(Method::POST, "/audits/{audit_id}/findings", manage, raise)
        .page(
            Method::POST,
            "/audits/{audit_id}/complete",
            manage,
            complete,
        )
        .page(Method::GET, "/management-reviews", read, reviews)
        .page(Method::POST, "/management-reviews", manage, plan_review)
        .page(
            Method::POST,
            "/management-reviews/{review_id}",
            manage,
            update_review,
        )
        .page(
            Method::POST,
            "/management-reviews/{review_id}/close",
            manage,
            close_review,
        )
}

#[derive(Template)]
#[template(path = "audits.html")]
struct AuditsPage {
    shell: Shell,
    audits: Vec<AuditView>,
    frameworks: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn audits_view(
    st: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    let audits = st
        .app
        .internal_audits(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let frameworks = st
        .app
        .frameworks(&auth.caller)
        .await
        .map_err(WebError::page)?
        .into_iter()
        .filter(|f| f.in_use)
        .map(|f| (f.id, f.name))
        .collect();
    let page = AuditsPage {
        shell: Shell::new(st, auth, "Internal audits", "audits").await?,
        audits,
        frameworks,
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn audits(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    audits_view(&st, &auth, None).await
}

async fn plan(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let b = AuditBody {
        title: one(&p, "title"),
        scope: one(&p, "scope"),
        criteria: one(&p, "criteria"),
        framework_id: Some(one(&p, "framework_id")),
        requirements: one(&p, "requirements")
            .split([',', '\n', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        auditor: one(&p, "auditor"),
        starts_on: one(&p, "starts_on"),
        ends_on: one(&p, "ends_on"),
    };
    let r = match audit_input(b) {
        Ok(i) => st.app.put_internal_audit(&auth.caller, None, i).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(a) => Ok(see_other(&format!("/audits/{}", a.id))),
        Err(e) => audits_view(&st, &auth, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    a: AuditView,
    status: &'static str,
    completed: bool,
    results: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    error: Option<String>,
}

async fn audit_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let a = st
        .app
        .internal_audit(&auth.caller, id)
        .await
        .map_err(WebError::page)?;
    let page = AuditPage {
        shell: Shell::new(st, auth, &a.title, "audits").await?,
        status: a.status.label(),
        completed: a.status == attest_domain::internal_audit::AuditStatus::Completed,
        results: AuditResult::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        error: error.clone(),
        a,
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn audit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    audit_view(&st, &auth, &id, None).await
}

async fn back(
    st: &AppState,
    auth: &Auth,
    id: &str,
    r: Result<(), AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(()) => Ok(see_other(&format!("/audits/{id}"))),
        Err(e) => audit_view(st, auth, id, Some(message(e)?)).await,
    }
}

async fn result(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "result").parse::<AuditResult>() {
        Ok(res) => st
            .app
            .record_audit_result(
                &auth.caller,
                &id,
                &one(&p, "requirement"),
                res,
                &one(&p, "notes"),
            )
            .await
            .map(|_| ()),
        Err(e) => Err(AppError::invalid("result", e.to_string())),
    };
    back(&st, &auth, &id, r).await
}

async fn raise(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .raise_audit_finding(&auth.caller, &id, &one(&p, "requirement"), None, None)
        .await
        .map(|_| ());
    back(&st, &auth, &id, r).await
}

async fn complete(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .complete_internal_audit(&auth.caller, &id, &one(&p, "conclusion"))
        .await
        .map(|_| ());
    back(&st, &auth, &id, r).await
}

#[derive(Template)]
#[template(path = "management_reviews.html")]
struct ReviewsPage {
    shell: Shell,
    reviews: Vec<ReviewView>,
    can_manage: bool,
    today: String,
    error: Option<String>,
}

async fn reviews_view(
    st: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    let reviews = st
        .app
        .management_reviews(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let page = ReviewsPage {
        shell: Shell::new(st, auth, "Management reviews", "reviews").await?,
        reviews,
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        today: attest_domain::Timestamp::now().date().to_string(),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn reviews(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    reviews_view(&st, &auth, None).await
}

/// Decisions typed one per line as "decision | owner | due date".
fn decisions_of(text: &str) -> Vec<ReviewDecision> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('|').map(str::trim);
            ReviewDecision {
                decision: parts.next().unwrap_or("").to_owned(),
                owner: parts.next().unwrap_or("").to_owned(),
                due_on: parts.next().unwrap_or("").to_owned(),
            }
        })
        .collect()
}

async fn save_review(
    st: &AppState,
    auth: &Auth,
    id: Option<&str>,
    body: &Bytes,
) -> Result<Response, WebError> {
    let p = pairs(body);
    let r = match day("held_on", &one(&p, "held_on")) {
        Ok(held_on) => {
            st.app
                .put_management_review(
                    &auth.caller,
                    id,
                    held_on,
                    &one(&p, "attendees"),
                    &one(&p, "notes"),
                    decisions_of(&one(&p, "decisions")),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(v) => Ok(see_other(&format!("/management-reviews#{}", v.reference))),
        Err(e) => reviews_view(st, auth, Some(message(e)?)).await,
    }
}

async fn plan_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    save_review(&st, &auth, None, &body).await
}

async fn update_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    save_review(&st, &auth, Some(&id), &body).await
}

async fn close_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    match st.app.close_management_review(&auth.caller, &id).await {
        Ok(v) => Ok(see_other(&format!("/management-reviews#{}", v.reference))),
        Err(e) => reviews_view(&st, &auth, Some(message(e)?)).await,
    }
}
