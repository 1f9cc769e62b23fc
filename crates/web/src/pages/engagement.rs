//! The engagement pages: the list with the coverage timeline and a form to plan one, and
//! one engagement with its status, opinion, issuing and bridge letters.

use askama::Template;
use attest_app::engagement::{
    CertificateView, CoverageTimeline, EngagementDetail, LetterView, ProgramView, SubserviceInput,
};
use attest_app::{AppError, Permission};
use attest_domain::engagement::{Cover, EngagementKind, EngagementStatus, Opinion, TrustCategory};
use attest_store::engagement::Engagement;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::engagement::{
    CertificateBody, EngagementBody, cadence_of, certificate_input, engagement_input,
};
use crate::api::internal_audit::day;
use crate::auth::Auth;
use crate::error::{ApiPath, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let manage = Access::Perm(Permission::EngagementManage);
    r.page(Method::GET, "/engagements", read, list)
        .page(Method::POST, "/engagements", manage, create)
        .page(Method::GET, "/engagements/{engagement_id}", read, show)
        .page(
            Method::POST,
            "/engagements/{engagement_id}/status",
            manage,
            status,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/opinion",
            manage,
            opinion,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/issue",
            manage,
            issue,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/bridge-letters",
            manage,
            letter,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/bridge-letters/{letter_id}/document",
            manage,
            letter_document,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/cuecs",
            manage,
            cuec,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/subservice-organisations",
            manage,
            subservice,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/documents",
            manage,
            add_document,
        )
        .page(
            Method::POST,
            "/engagements/{engagement_id}/documents/{document_id}/withdraw",
            manage,
            withdraw_document,
        )
        .page(Method::POST, "/certificates", manage, add_certificate)
        .page(Method::POST, "/soc-programs", manage, set_program)
}

/// The timeline as an SVG bar: one rectangle per segment, width by days (only numbers
/// and fixed class names go into it).
fn timeline_svg(t: &CoverageTimeline) -> String {
    const W: f64 = 900.0;
    let total = t.window.days().max(1) as f64;
    let mut x = 0.0;
    let mut rects = String::new();
    for s in &t.segments {
        let w = s.range.days() as f64 / total * W;
        let (class, label) = match s.cover {
            Cover::Report => ("report", "report period"),
            Cover::Bridge => ("bridge", "bridge letter"),
            Cover::Gap => ("gap", "gap"),
        };
        rects.push_str(&format!(
            "<rect class=\"tl-{class}\" x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"28\"><title>{} – {}: {label}</title></rect>",
            s.range.start, s.range.end
        ));
        x += w;
    }
    format!(
        "<svg class=\"timeline\" viewBox=\"0 0 {W} 28\" width=\"100%\" height=\"28\" role=\"img\" aria-label=\"Coverage from {} to {}\">{rects}</svg>",
        t.window.start, t.window.end
    )
}

#[derive(Template)]
#[template(path = "engagements.html")]
struct ListPage {
    shell: Shell,
    engagements: Vec<Engagement>,
    letters: Vec<LetterView>,
    timeline: CoverageTimeline,
    svg: String,
    kinds: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    services: Vec<(String, String)>,
    certificates: Vec<CertificateView>,
    programs: Vec<ProgramView>,
    sample_table: attest_domain::sampling::SampleTable,
    /// Per offering and service: (label, gap days, timeline SVG).
    rows: Vec<(String, i64, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn list_view(
    st: &AppState,
    auth: &Auth,
    error: Option<String>,
) -> Result<Response, WebError> {
    let engagements = st
        .app
        .engagements(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let letters = st
        .app
        .bridge_letters(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let timeline = st
        .app
        .coverage_timeline(&auth.caller, 3)
        .await
        .map_err(WebError::page)?;
    let (_, services) = st
        .app
        .services(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let certificates = st
        .app
        .certificates(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let programs = st
        .app
        .soc_programs(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let sample_table = st
        .app
        .sample_table(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let rows = st
        .app
        .coverage_rows(&auth.caller, 3)
        .await
        .map_err(WebError::page)?
        .into_iter()
        .map(|r| {
            let label = match &r.service {
                Some(s) => format!("{} · {s}", r.offering),
                None => format!("{} · all services", r.offering),
            };
            (label, r.timeline.gap_days, timeline_svg(&r.timeline))
        })
        .collect();
    let page = ListPage {
        certificates,
        programs,
        sample_table,
        rows,
        shell: Shell::new(st, auth, "Engagements", "engagements").await?,
        svg: timeline_svg(&timeline),
        engagements,
        letters,
        timeline,
        kinds: EngagementKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        categories: TrustCategory::ALL
            .iter()
            .filter(|c| **c != TrustCategory::Security)
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        services: services.into_iter().map(|s| (s.id, s.name)).collect(),
        can_manage: auth.caller.require(Permission::EngagementManage).is_ok(),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

/// The engagements page answering a form with an error.
pub(super) async fn list_error(
    st: &AppState,
    auth: &Auth,
    error: String,
) -> Result<Response, WebError> {
    list_view(st, auth, Some(error)).await
}

async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    list_view(&st, &auth, None).await
}

async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let many = |k: &str| -> Vec<String> {
        p.iter()
            .filter(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    };
    let opt = |k: &str| Some(one(&p, k)).filter(|v| !v.is_empty());
    let b = EngagementBody {
        kind: one(&p, "kind"),
        title: one(&p, "title"),
        firm: one(&p, "firm"),
        lead_auditor: one(&p, "lead_auditor"),
        as_of: opt("as_of"),
        start: opt("start"),
        end: opt("end"),
        services: many("services"),
        frameworks: Vec::new(),
        categories: many("categories"),
    };
    let r = match engagement_input(b) {
        Ok(i) => st.app.create_engagement(&auth.caller, i).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(e) => Ok(see_other(&format!("/engagements/{}", e.id))),
        Err(e) => list_view(&st, &auth, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "engagement.html")]
struct OnePage {
    shell: Shell,
    e: Engagement,
    d: EngagementDetail,
    basis_ref: String,
    /// Its bridge letters, each with whether it is a live document already.
    letters: Vec<(LetterView, bool)>,
    next: Vec<(&'static str, &'static str)>,
    opinions: Vec<(&'static str, &'static str)>,
    open: bool,
    bridgeable: bool,
    /// The kinds of document this engagement issues.
    doc_kinds: &'static [&'static str],
    can_manage: bool,
    error: Option<String>,
}

async fn one_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    error: Option<String>,
) -> Result<Response, WebError> {
    let d = st
        .app
        .engagement_detail(&auth.caller, id)
        .await
        .map_err(WebError::page)?;
    let e = d.engagement.clone();
    let all = st
        .app
        .engagements(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let letters = st
        .app
        .bridge_letters(&auth.caller)
        .await
        .map_err(WebError::page)?
        .into_iter()
        .filter(|l| l.engagement_id == e.id)
        .map(|l| {
            let issued = d.documents.iter().any(|doc| {
                doc.withdrawn_at.is_none() && doc.letter_id.as_deref() == Some(l.id.as_str())
            });
            (l, issued)
        })
        .collect();
    use EngagementStatus as S;
    let next = match e.status {
        S::Planning => vec![("fieldwork", "Start fieldwork")],
        S::Fieldwork => vec![("reporting", "Move to reporting")],
        _ => vec![],
    };
    let page = OnePage {
        shell: Shell::new(st, auth, &e.title, "engagements").await?,
        basis_ref: e
            .basis_id
            .as_ref()
            .and_then(|b| all.iter().find(|x| &x.id == b))
            .map(|b| b.reference.clone())
            .unwrap_or_default(),
        letters,
        next,
        opinions: Opinion::ALL
            .iter()
            .map(|o| (o.as_str(), o.label()))
            .collect(),
        open: e.status.is_open(),
        bridgeable: e.status == S::Issued && e.kind.is_soc() && e.kind != EngagementKind::Soc3,
        doc_kinds: attest_app::documents::document_kinds(e.kind),
        can_manage: auth.caller.require(Permission::EngagementManage).is_ok(),
        error: error.clone(),
        e,
        d,
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
    one_view(&st, &auth, &id, None).await
}

async fn back<T>(
    st: &AppState,
    auth: &Auth,
    id: &str,
    r: Result<T, AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(see_other(&format!("/engagements/{id}"))),
        Err(e) => one_view(st, auth, id, Some(message(e)?)).await,
    }
}

async fn status(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "status").parse::<EngagementStatus>() {
        Ok(s) => st.app.set_engagement_status(&auth.caller, &id, s).await,
        Err(e) => Err(AppError::invalid("status", e.to_string())),
    };
    back(&st, &auth, &id, r).await
}

async fn opinion(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "opinion").parse::<Opinion>() {
        Ok(o) => {
            st.app
                .record_opinion(&auth.caller, &id, o, &one(&p, "notes"))
                .await
        }
        Err(e) => Err(AppError::invalid("opinion", e.to_string())),
    };
    back(&st, &auth, &id, r).await
}

async fn issue(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.issue_engagement(&auth.caller, &id).await;
    back(&st, &auth, &id, r).await
}

async fn letter(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match day("until", &one(&p, "until")) {
        Ok(until) => {
            st.app
                .create_bridge_letter(
                    &auth.caller,
                    &id,
                    until,
                    &one(&p, "signer"),
                    &one(&p, "changes"),
                    &one(&p, "language"),
                )
                .await
        }
        Err(e) => Err(e),
    };
    back(&st, &auth, &id, r).await
}

async fn letter_document(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, letter)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let r = st.app.bridge_letter_document(&auth.caller, &letter).await;
    back(&st, &auth, &id, r).await
}

async fn add_certificate(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let b = CertificateBody {
        number: one(&p, "number"),
        body: one(&p, "body"),
        standard: one(&p, "standard"),
        scope: one(&p, "scope"),
        issued_on: one(&p, "issued_on"),
        expires_on: one(&p, "expires_on"),
        engagement: None,
    };
    let r = match certificate_input(b) {
        Ok(i) => st.app.add_certificate(&auth.caller, i).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(see_other("/engagements")),
        Err(e) => list_view(&st, &auth, Some(message(e)?)).await,
    }
}

async fn set_program(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let ends: Vec<String> = one(&p, "period_ends")
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let months = one(&p, "period_months").trim().parse::<u32>();
    let weeks = one(&p, "report_weeks").trim().parse::<u32>();
    let r = match (months, weeks) {
        (Ok(m), Ok(w)) => match cadence_of(m, &ends, w) {
            Ok(c) => st
                .app
                .set_soc_program(&auth.caller, &one(&p, "family"), c)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        (Err(_), _) => Err(AppError::invalid(
            "period_months",
            "give a number of months",
        )),
        (_, Err(_)) => Err(AppError::invalid("report_weeks", "give a number of weeks")),
    };
    match r {
        Ok(()) => Ok(see_other("/engagements")),
        Err(e) => list_view(&st, &auth, Some(message(e)?)).await,
    }
}

async fn cuec(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st.app.add_cuec(&auth.caller, &id, &one(&p, "text")).await;
    back(&st, &auth, &id, r).await
}

async fn subservice(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .add_subservice_org(
            &auth.caller,
            &id,
            SubserviceInput {
                name: one(&p, "name"),
                method: one(&p, "method"),
                services: one(&p, "services"),
                their_report: one(&p, "their_report"),
                csocs: one(&p, "csocs"),
            },
        )
        .await;
    back(&st, &auth, &id, r).await
}

async fn add_document(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    mp: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let r = crate::api::engagement::document_upload(&st, &auth, &id, mp).await;
    back(&st, &auth, &id, r).await
}

async fn withdraw_document(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, doc)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let r = st.app.withdraw_document(&auth.caller, &id, &doc).await;
    back(&st, &auth, &id, r).await
}
