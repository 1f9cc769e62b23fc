//! The auditor workspace page of an engagement (for its auditor and for staff who manage
//! engagements), the request list of the person answering, and the sample-size table form.

use askama::Template;
use attest_app::engagement::TestInput;
use attest_app::workspace::{FindingInput, RequestView, Workspace};
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::sampling::SampleTable;
use attest_store::workspace::Comment;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::internal_audit::day;
use crate::auth::Auth;
use crate::error::{ApiPath, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let work = Access::Perm(Permission::EngagementWork);
    let manage = Access::Perm(Permission::EngagementManage);
    let answer = Access::Perm(Permission::RequestAnswer);
    r.page(
        Method::GET,
        "/engagements/{engagement_id}/workspace",
        work,
        show,
    )
    .page(Method::GET, "/audit", work, landing)
    .page(
        Method::POST,
        "/engagements/{engagement_id}/tests",
        work,
        draw,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/tests/{test_id}/results",
        work,
        result,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/requests",
        work,
        create_request,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/requests/{request_id}/review",
        work,
        review,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/comments",
        work,
        comment,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/findings",
        work,
        finding,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/findings/{finding_id}/response",
        manage,
        respond,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/auditors",
        manage,
        invite,
    )
    .page(
        Method::POST,
        "/engagements/{engagement_id}/auditors/{user_id}/remove",
        manage,
        remove,
    )
    .page(Method::POST, "/sample-table", manage, set_sample_table)
    .page(Method::GET, "/requests", answer, requests)
    .page(
        Method::POST,
        "/requests/{request_id}/evidence",
        answer,
        attach,
    )
    .page(
        Method::POST,
        "/requests/{request_id}/submit",
        answer,
        submit,
    )
    .page(
        Method::POST,
        "/requests/{request_id}/comments",
        answer,
        request_comment,
    )
}

#[derive(Template)]
#[template(path = "workspace.html")]
struct WorkspacePage {
    shell: Shell,
    e: attest_store::engagement::Engagement,
    w: Workspace,
    open: bool,
    severities: Vec<&'static str>,
    /// What a comment can be about: (kind, id, label).
    subjects: Vec<(String, String, String)>,
    invite_link: Option<String>,
    error: Option<String>,
}

async fn view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    error: Option<String>,
    invite_link: Option<String>,
) -> Result<Response, WebError> {
    let w = st
        .app
        .workspace(&auth.caller, id)
        .await
        .map_err(WebError::page)?;
    let e = w.engagement.clone();
    let mut subjects = vec![(
        "engagement".to_owned(),
        e.id.clone(),
        format!("The engagement {}", e.reference),
    )];
    subjects.extend(w.requests.iter().map(|r| {
        (
            "request".to_owned(),
            r.request.id.clone(),
            format!("{} {}", r.request.reference, r.request.title),
        )
    }));
    subjects.extend(w.tests.iter().map(|t| {
        (
            "test".to_owned(),
            t.test.id.clone(),
            format!("Test of {} ({})", t.control_ref, t.test.kind),
        )
    }));
    subjects.extend(w.findings.iter().map(|f| {
        (
            "finding".to_owned(),
            f.finding.id.clone(),
            format!("{} {}", f.finding.reference, f.finding.title),
        )
    }));
    let page = WorkspacePage {
        shell: Shell::new(
            st,
            auth,
            format!("{} workspace", e.reference),
            "engagements",
        )
        .await?,
        open: e.status.is_open(),
        severities: e.kind.severities().to_vec(),
        subjects,
        e,
        w,
        invite_link,
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
    view(&st, &auth, &id, None, None).await
}

/// Where an auditor lands: their engagement's workspace (staff go to the engagements).
async fn landing(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    match st
        .app
        .my_engagement(&auth.caller)
        .await
        .map_err(WebError::page)?
    {
        Some(e) => Ok(see_other(&format!("/engagements/{}/workspace", e.id))),
        None if auth.caller.require(Permission::ProgramRead).is_ok() => {
            Ok(see_other("/engagements"))
        }
        // An auditor whose engagement closed (or who has none) keeps only their account.
        None => Ok(see_other("/account?notice=audit-ended")),
    }
}

async fn back<T>(
    st: &AppState,
    auth: &Auth,
    id: &str,
    r: Result<T, AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(see_other(&format!("/engagements/{id}/workspace"))),
        Err(e) => view(st, auth, id, Some(message(e)?), None).await,
    }
}

async fn draw(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "population").trim().parse::<u32>() {
        Ok(population) => {
            st.app
                .create_control_test(
                    &auth.caller,
                    &id,
                    TestInput {
                        control: one(&p, "control"),
                        kind: one(&p, "kind"),
                        population,
                        population_note: one(&p, "population_note"),
                        seed: None,
                    },
                )
                .await
        }
        Err(_) => Err(AppError::invalid(
            "population",
            "give the number of occurrences",
        )),
    };
    back(&st, &auth, &id, r).await
}

async fn result(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, test)): ApiPath<(String, String)>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "item").trim().parse::<u32>() {
        Ok(item) => {
            st.app
                .record_test_result(
                    &auth.caller,
                    &id,
                    &test,
                    item,
                    &one(&p, "result"),
                    &one(&p, "note"),
                )
                .await
        }
        Err(_) => Err(AppError::invalid("item", "choose a drawn item")),
    };
    back(&st, &auth, &id, r).await
}

async fn create_request(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let input = crate::api::workspace::request_input(crate::api::workspace::RequestBody {
        title: one(&p, "title"),
        description: one(&p, "description"),
        control: Some(one(&p, "control")),
        assignee: Some(one(&p, "assignee")),
        due_on: Some(one(&p, "due_on")),
    });
    let r = match input {
        Ok(i) => st.app.create_request(&auth.caller, &id, i).await,
        Err(e) => Err(e),
    };
    back(&st, &auth, &id, r).await
}

async fn review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, request)): ApiPath<(String, String)>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "decision").as_str() {
        d @ ("accept" | "return") => {
            st.app
                .review_request(
                    &auth.caller,
                    &id,
                    &request,
                    d == "accept",
                    &one(&p, "comment"),
                )
                .await
        }
        _ => Err(AppError::invalid(
            "decision",
            "accept or return the request",
        )),
    };
    back(&st, &auth, &id, r).await
}

async fn comment(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let subject = one(&p, "subject");
    let (kind, subject_id) = subject.split_once(':').unwrap_or(("", ""));
    let r: Result<Comment, AppError> = st
        .app
        .comment(&auth.caller, &id, kind, subject_id, &one(&p, "body"))
        .await;
    back(&st, &auth, &id, r).await
}

async fn finding(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .raise_finding(
            &auth.caller,
            &id,
            FindingInput {
                title: one(&p, "title"),
                description: one(&p, "description"),
                severity: one(&p, "severity"),
                control: Some(one(&p, "control")),
            },
        )
        .await;
    back(&st, &auth, &id, r).await
}

async fn respond(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, f)): ApiPath<(String, String)>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .respond_to_finding(&auth.caller, &id, &f, &one(&p, "response"))
        .await;
    back(&st, &auth, &id, r).await
}

async fn invite(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let until = one(&p, "until");
    let r = match until.trim() {
        "" => Ok(None),
        s => day("until", s).map(Some),
    };
    let r = match r {
        Ok(until) => {
            st.app
                .invite_auditor(&auth.caller, &id, &one(&p, "email"), until)
                .await
        }
        Err(e) => Err(e),
    };
    match r {
        // The link is shown once, on the page answering the form (never in a URL).
        Ok(inv) => view(&st, &auth, &id, None, Some(inv.link)).await,
        Err(e) => view(&st, &auth, &id, Some(message(e)?), None).await,
    }
}

async fn remove(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, user)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let r = match user.parse::<UserId>() {
        Ok(u) => st.app.remove_auditor(&auth.caller, &id, u).await,
        Err(_) => Err(AppError::NotFound("auditor")),
    };
    back(&st, &auth, &id, r).await
}

async fn set_sample_table(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let n = |field: &'static str| {
        one(&p, field)
            .trim()
            .parse::<u32>()
            .map_err(|_| AppError::invalid(field, "give a whole number from 1 to 250"))
    };
    let t = (|| {
        Ok::<_, AppError>(SampleTable {
            annual: n("annual")?,
            quarterly: n("quarterly")?,
            monthly: n("monthly")?,
            weekly: n("weekly")?,
            daily: n("daily")?,
            many_per_day: n("many_per_day")?,
        })
    })();
    let r = match t {
        Ok(t) => st.app.set_sample_table(&auth.caller, t).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(see_other("/engagements")),
        Err(e) => super::engagement::list_error(&st, &auth, message(e)?).await,
    }
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    shell: Shell,
    requests: Vec<RequestView>,
    /// Per request id: the evidence of its control one can attach (id, title).
    options: Vec<(String, Vec<(String, String)>)>,
    /// Per request id: its comments.
    comments: Vec<(String, Vec<Comment>)>,
    error: Option<String>,
}

async fn requests_view(
    st: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    let requests = st
        .app
        .my_requests(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let mut options = Vec::new();
    let mut comments = Vec::new();
    for r in &requests {
        let mut opts = Vec::new();
        if let Some(c) = &r.request.control_id
            && auth.caller.require(Permission::ProgramRead).is_ok()
        {
            let page = st
                .app
                .list_evidence(
                    &auth.caller,
                    attest_app::evidence::EvidenceQuery {
                        control: Some(c.clone()),
                        limit: Some(50),
                        ..Default::default()
                    },
                )
                .await
                .map_err(WebError::page)?;
            opts = page.items.into_iter().map(|x| (x.id, x.title)).collect();
        }
        options.push((r.request.id.clone(), opts));
        comments.push((
            r.request.id.clone(),
            st.app
                .request_comments(&auth.caller, &r.request.id)
                .await
                .map_err(WebError::page)?,
        ));
    }
    let page = RequestsPage {
        shell: Shell::new(st, auth, "Audit requests", "requests").await?,
        requests,
        options,
        comments,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn requests(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    requests_view(&st, &auth, None).await
}

async fn requests_back<T>(
    st: &AppState,
    auth: &Auth,
    r: Result<T, AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(see_other("/requests")),
        Err(e) => requests_view(st, auth, Some(message(e)?)).await,
    }
}

async fn attach(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .answer_request(&auth.caller, &id, one(&p, "evidence_id").trim())
        .await;
    requests_back(&st, &auth, r).await
}

async fn submit(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.submit_request(&auth.caller, &id).await;
    requests_back(&st, &auth, r).await
}

async fn request_comment(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .comment_on_request(&auth.caller, &id, &one(&p, "body"))
        .await;
    requests_back(&st, &auth, r).await
}
