//! The policy pages: the list with a form to start a document (blank or from a template),
//! and one document with its text, draft editor, approvals, publication, reviews and
//! acknowledgements.

use askama::Template;
use attest_app::policy::{PolicyInput, PolicySummary, PolicyView, TEMPLATES};
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::policy::DocumentKind;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let manage = Access::Perm(Permission::IsmsManage);
    r.page(Method::GET, "/policies", read, list)
        .page(Method::POST, "/policies", manage, create)
        .page(Method::GET, "/policies/{policy_id}", read, show)
        .page(
            Method::POST,
            "/policies/{policy_id}/settings",
            manage,
            settings,
        )
        .page(Method::POST, "/policies/{policy_id}/draft", manage, draft)
        .page(
            Method::POST,
            "/policies/{policy_id}/approve",
            Access::Perm(Permission::DocumentApprove),
            approve,
        )
        .page(
            Method::POST,
            "/policies/{policy_id}/publish",
            manage,
            publish,
        )
        .page(Method::POST, "/policies/{policy_id}/review", manage, review)
        .page(
            Method::POST,
            "/policies/{policy_id}/acknowledge",
            Access::Perm(Permission::Acknowledge),
            acknowledge,
        )
        .page(Method::POST, "/policies/{policy_id}/remind", manage, remind)
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    DocumentKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect()
}

/// A list row as shown.
struct Row {
    s: PolicySummary,
    kind: &'static str,
    in_force: String,
    review: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    can_manage: bool,
    templates: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    members: Vec<(String, String)>,
    error: Option<String>,
}

async fn list_view(
    st: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    let list = st
        .app
        .policies(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let can_manage = auth.caller.require(Permission::IsmsManage).is_ok();
    let members = if can_manage {
        st.app
            .assignable_people(&auth.caller)
            .await
            .map_err(WebError::page)?
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect()
    } else {
        Vec::new()
    };
    let page = ListPage {
        shell: Shell::new(st, auth, "Policies", "policies").await?,
        rows: list
            .into_iter()
            .map(|s| Row {
                kind: s.kind.label(),
                in_force: match (s.published_version, s.published_on) {
                    (Some(v), Some(on)) => format!("v{v} since {on}"),
                    _ => "Not published".into(),
                },
                review: s.review_due.map(|d| d.to_string()).unwrap_or_default(),
                s,
            })
            .collect(),
        can_manage,
        templates: TEMPLATES.iter().map(|t| (t.0, t.1)).collect(),
        kinds: kinds(),
        members,
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

/// The details fields of the create and settings forms.
fn input_of(p: &[(String, String)]) -> Result<PolicyInput, AppError> {
    let user = |field: &str, v: &str| -> Result<UserId, AppError> {
        v.parse()
            .map_err(|_| AppError::invalid(field, "choose a member"))
    };
    let owner = one(p, "owner_id");
    Ok(PolicyInput {
        title: one(p, "title"),
        kind: match one(p, "kind").as_str() {
            "" => DocumentKind::Policy,
            k => k
                .parse()
                .map_err(|e: attest_domain::policy::UnknownDocumentKind| {
                    AppError::invalid("kind", e.to_string())
                })?,
        },
        owner_id: (!owner.is_empty())
            .then(|| user("owner_id", &owner))
            .transpose()?,
        approvers: p
            .iter()
            .filter(|(k, v)| k == "approvers" && !v.is_empty())
            .map(|(_, v)| user("approvers", v))
            .collect::<Result<_, _>>()?,
        review_months: one(p, "review_months")
            .parse()
            .map_err(|_| AppError::invalid("review_months", "give a number of months"))?,
        ack_required: one(p, "ack_required") == "true",
    })
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let result = match input_of(&p) {
        Err(e) => Err(e),
        Ok(i) => match one(&p, "template").as_str() {
            "" => {
                st.app
                    .create_policy(&auth.caller, i, &one(&p, "body"))
                    .await
            }
            t => st.app.create_policy_from_template(&auth.caller, t, i).await,
        },
    };
    match result {
        Ok(v) => Ok(see_other(&format!("/policies/{}", v.summary.id))),
        Err(e) => list_view(&st, &auth, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "policy.html")]
struct DocPage {
    shell: Shell,
    v: PolicyView,
    kind: &'static str,
    state: &'static str,
    state_class: &'static str,
    /// The version shown is the draft.
    is_draft: bool,
    /// The version shown is the one in force.
    is_published: bool,
    html: String,
    history: Vec<(i64, &'static str, String, String)>,
    approvers: Vec<String>,
    can_manage: bool,
    kinds: Vec<(&'static str, &'static str)>,
    members: Vec<(String, String)>,
    approver_ids: Vec<String>,
    owner_id: String,
    last_reminder: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    version: Option<i64>,
    reminded: Option<usize>,
}

async fn doc_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    version: Option<i64>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let v = st
        .app
        .policy(&auth.caller, id, version)
        .await
        .map_err(WebError::page)?;
    let can_manage = auth.caller.require(Permission::IsmsManage).is_ok();
    let members = if can_manage {
        st.app
            .assignable_people(&auth.caller)
            .await
            .map_err(WebError::page)?
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect()
    } else {
        Vec::new()
    };
    use attest_domain::policy::VersionState as S;
    let state = v.version.as_ref().map(|x| x.state);
    let page = DocPage {
        shell: Shell::new(st, auth, &v.summary.title, "policies").await?,
        kind: v.summary.kind.label(),
        state: state.map_or("", |s| s.label()),
        state_class: match state {
            Some(S::Published) => "ok",
            Some(S::Draft) => "warn",
            _ => "",
        },
        is_draft: state == Some(S::Draft),
        is_published: state == Some(S::Published),
        html: attest_report::markdown::to_html(&v.body),
        history: v
            .history
            .iter()
            .map(|h| {
                (
                    h.version,
                    h.state.label(),
                    h.published_on.map(|d| d.to_string()).unwrap_or_default(),
                    h.note.clone(),
                )
            })
            .collect(),
        approvers: v.approvers.iter().map(|a| a.1.clone()).collect(),
        approver_ids: v.approvers.iter().map(|a| a.0.to_string()).collect(),
        owner_id: v.owner_id.map(|u| u.to_string()).unwrap_or_default(),
        last_reminder: v
            .last_reminder
            .as_ref()
            .map(|(t, by)| format!("{} by {by}", t.date()))
            .unwrap_or_default(),
        can_manage,
        kinds: kinds(),
        members,
        error: error.clone(),
        notice,
        v,
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
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> Result<Response, WebError> {
    let notice = q
        .reminded
        .map(|n| format!("{n} member(s) reminded: they see the reminder on their dashboard."));
    doc_view(&st, &auth, &id, q.version, None, notice).await
}

/// Back to the document, or the document with the refusal.
async fn done(
    st: &AppState,
    auth: &Auth,
    id: &str,
    result: Result<PolicyView, AppError>,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(see_other(&format!("/policies/{id}"))),
        Err(e) => doc_view(st, auth, id, None, Some(message(e)?), None).await,
    }
}

async fn settings(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let result = match input_of(&p) {
        Ok(i) => st.app.update_policy(&auth.caller, &id, i).await,
        Err(e) => Err(e),
    };
    done(&st, &auth, &id, result).await
}

async fn draft(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .save_policy_draft(&auth.caller, &id, &one(&p, "body"), &one(&p, "note"))
        .await;
    done(&st, &auth, &id, r).await
}

async fn approve(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.approve_policy(&auth.caller, &id).await;
    done(&st, &auth, &id, r).await
}

async fn publish(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.publish_policy(&auth.caller, &id).await;
    done(&st, &auth, &id, r).await
}

async fn review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .review_policy(&auth.caller, &id, &one(&p, "note"))
        .await;
    done(&st, &auth, &id, r).await
}

async fn acknowledge(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.acknowledge_policy(&auth.caller, &id).await;
    done(&st, &auth, &id, r).await
}

async fn remind(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    match st.app.remind_policy(&auth.caller, &id).await {
        Ok(n) => Ok(see_other(&format!("/policies/{id}?reminded={n}"))),
        Err(e) => doc_view(&st, &auth, &id, None, Some(message(e)?), None).await,
    }
}
