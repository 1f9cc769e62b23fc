//! The Statement of Applicability pages: the statement with its decisions form, approval,
//! versions, comparison and exports.

use askama::Template;
use attest_app::soa::{DecisionInput, SoaView};
use attest_app::{AppError, Permission};
use attest_domain::soa::{Reason, RowChange};
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
use crate::error::{ApiQuery, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    r.page(
        Method::GET,
        "/soa",
        Access::Perm(Permission::ProgramRead),
        statement,
    )
    .page(
        Method::GET,
        "/soa/diff",
        Access::Perm(Permission::ProgramRead),
        diff,
    )
    .page(
        Method::POST,
        "/soa/decisions",
        Access::Perm(Permission::IsmsManage),
        decide,
    )
    .page(
        Method::POST,
        "/soa/framework",
        Access::Perm(Permission::IsmsManage),
        framework,
    )
    .page(
        Method::POST,
        "/soa/drafts",
        Access::Perm(Permission::IsmsManage),
        new_draft,
    )
    .page(
        Method::POST,
        "/soa/approve",
        Access::Perm(Permission::IsmsApprove),
        approve,
    )
}

/// A row of the table as shown.
struct Row {
    id: String,
    title: String,
    /// "" (undecided), "applicable" or "excluded".
    decision: &'static str,
    decision_label: &'static str,
    reasons: Vec<&'static str>,
    reason_labels: String,
    justification: String,
    status: &'static str,
    status_class: &'static str,
    controls: Vec<String>,
    risks: Vec<String>,
    evidence: Vec<String>,
    gap: bool,
}

/// A group heading and its rows.
struct Group {
    name: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "soa.html")]
struct SoaPage {
    shell: Shell,
    heading: String,
    framework_id: String,
    framework_name: String,
    frameworks: Vec<(&'static str, &'static str)>,
    /// Version number shown, if any.
    version: Option<i64>,
    approved: bool,
    approver: String,
    approved_on: String,
    hash: String,
    note: String,
    latest: bool,
    editable: bool,
    stale: bool,
    applicable: usize,
    excluded: usize,
    undecided: usize,
    gaps: Vec<String>,
    warnings: Vec<String>,
    groups: Vec<Group>,
    reasons: Vec<(&'static str, &'static str)>,
    /// Version, status, framework, approver, date.
    history: Vec<(i64, &'static str, String, String, String)>,
    can_manage: bool,
    can_approve: bool,
    error: Option<String>,
    problems: Vec<String>,
    export_query: String,
}

fn day(t: attest_domain::Timestamp) -> String {
    t.to_rfc3339().chars().take(10).collect()
}

fn status_class(s: attest_domain::coverage::RequirementStatus) -> &'static str {
    use attest_domain::coverage::RequirementStatus as S;
    match s {
        S::Implemented => "ok",
        S::Partial => "warn",
        S::Planned => "info",
        S::NotCovered => "bad",
        S::NotApplicable => "",
    }
}

fn framework_name(id: &str) -> &'static str {
    match id {
        "iso27001-2013" => "ISO/IEC 27001:2013",
        _ => "ISO/IEC 27001:2022",
    }
}

async fn page(
    st: &AppState,
    auth: &Auth,
    v: SoaView,
    error: Option<String>,
    problems: Vec<String>,
) -> Result<Response, WebError> {
    let gap_ids: std::collections::HashSet<&str> =
        v.gaps.iter().map(|g| g.control.as_str()).collect();
    let mut groups: Vec<Group> = Vec::new();
    for r in &v.content.rows {
        let row = Row {
            id: r.id.clone(),
            title: r.title.clone(),
            decision: match r.applicable {
                Some(true) => "applicable",
                Some(false) => "excluded",
                None => "",
            },
            decision_label: r.decision_label(),
            reasons: r.reasons.iter().map(|x| x.as_str()).collect(),
            reason_labels: r.reason_labels(),
            justification: r.justification.clone(),
            status: r.status.label(),
            status_class: status_class(r.status),
            controls: r
                .controls
                .iter()
                .map(|c| format!("{} {}", c.reference, c.title))
                .collect(),
            risks: r
                .risks
                .iter()
                .map(|k| format!("{} {}", k.reference, k.title))
                .collect(),
            evidence: r
                .evidence
                .iter()
                .map(|e| format!("{} ({})", e.title, e.effective_from))
                .collect(),
            gap: gap_ids.contains(r.id.as_str()),
        };
        match groups.last_mut() {
            Some(g) if g.name == r.group => g.rows.push(row),
            _ => groups.push(Group {
                name: r.group.clone(),
                rows: vec![row],
            }),
        }
    }
    let latest = v.history.first().map(|h| h.version);
    let info = v.version.as_ref();
    let page = SoaPage {
        shell: Shell::new(st, auth, "Statement of Applicability", "soa").await?,
        heading: match info {
            Some(i) if i.approved => format!("Version {} · approved", i.version),
            Some(i) => format!("Version {} · draft", i.version),
            None => "No decision yet".into(),
        },
        framework_id: v.content.framework_id.clone(),
        framework_name: v.content.framework_name.clone(),
        frameworks: attest_domain::soa::ANNEX_A_FRAMEWORKS
            .iter()
            .map(|f| (*f, framework_name(f)))
            .collect(),
        version: info.map(|i| i.version),
        approved: info.is_some_and(|i| i.approved),
        approver: info.and_then(|i| i.approver.clone()).unwrap_or_default(),
        approved_on: info
            .and_then(|i| i.approved_at)
            .map(day)
            .unwrap_or_default(),
        hash: info.and_then(|i| i.hash.clone()).unwrap_or_default(),
        note: info.map(|i| i.note.clone()).unwrap_or_default(),
        latest: info.map(|i| i.version) == latest,
        editable: v.editable,
        stale: v.stale,
        applicable: v.applicable,
        excluded: v.excluded,
        undecided: v.undecided,
        gaps: v.gaps.iter().map(|g| g.problem.clone()).collect(),
        warnings: v.warnings.iter().map(|g| g.problem.clone()).collect(),
        groups,
        reasons: Reason::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        history: v
            .history
            .iter()
            .map(|h| {
                (
                    h.version,
                    if h.approved { "Approved" } else { "Draft" },
                    framework_name(&h.framework_id).to_owned(),
                    h.approver.clone().unwrap_or_default(),
                    h.approved_at.map(day).unwrap_or_default(),
                )
            })
            .collect(),
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        can_approve: auth.caller.require(Permission::IsmsApprove).is_ok(),
        export_query: info
            .map(|i| format!("&version={}", i.version))
            .unwrap_or_default(),
        error: error.clone(),
        problems,
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

#[derive(Deserialize, Default)]
struct SoaQuery {
    version: Option<i64>,
}

async fn statement(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<SoaQuery>,
) -> Result<Response, WebError> {
    let v = st
        .app
        .soa(&auth.caller, q.version)
        .await
        .map_err(WebError::page)?;
    page(&st, &auth, v, None, Vec::new()).await
}

/// Shows the latest statement with a refusal's message (and its list, for approval).
async fn refused(st: &AppState, auth: &Auth, e: AppError) -> Result<Response, WebError> {
    let (error, problems) = match e {
        AppError::Rejected { message, problems } => {
            (message, problems.into_iter().map(|p| p.message).collect())
        }
        other => (message(other)?, Vec::new()),
    };
    let v = st
        .app
        .soa(&auth.caller, None)
        .await
        .map_err(WebError::page)?;
    page(st, auth, v, Some(error), problems).await
}

/// The decisions form: only the rows whose decision, reasons or justification changed
/// are sent (so the trail records what someone actually changed).
async fn decide(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let current = st
        .app
        .soa(&auth.caller, None)
        .await
        .map_err(WebError::page)?;
    let mut inputs = Vec::new();
    for r in &current.content.rows {
        let key = |prefix: &str| format!("{prefix}.{}", r.id);
        if !p.iter().any(|(k, _)| *k == key("d")) {
            continue;
        }
        let applicable = match one(&p, &key("d")).as_str() {
            "applicable" => Some(true),
            "excluded" => Some(false),
            _ => None,
        };
        let mut reasons = Vec::new();
        for (_, v) in p.iter().filter(|(k, _)| *k == key("r")) {
            match v.parse::<Reason>() {
                Ok(x) => reasons.push(x),
                Err(e) => {
                    return refused(&st, &auth, AppError::invalid("reasons", e.to_string())).await;
                }
            }
        }
        reasons.sort();
        reasons.dedup();
        let justification = one(&p, &key("j")).trim().to_owned();
        if applicable == r.applicable && reasons == r.reasons && justification == r.justification {
            continue;
        }
        inputs.push(DecisionInput {
            control: r.id.clone(),
            applicable,
            reasons,
            justification,
        });
    }
    if inputs.is_empty() {
        return Ok(see_other("/soa"));
    }
    match st.app.decide_soa(&auth.caller, inputs).await {
        Ok(_) => Ok(see_other("/soa")),
        Err(e) => refused(&st, &auth, e).await,
    }
}

async fn framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    match st
        .app
        .set_soa_framework(&auth.caller, &one(&p, "framework"))
        .await
    {
        Ok(_) => Ok(see_other("/soa")),
        Err(e) => refused(&st, &auth, e).await,
    }
}

async fn new_draft(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    match st.app.new_soa_draft(&auth.caller).await {
        Ok(_) => Ok(see_other("/soa")),
        Err(e) => refused(&st, &auth, e).await,
    }
}

async fn approve(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    match st.app.approve_soa(&auth.caller, &one(&p, "note")).await {
        Ok(_) => Ok(see_other("/soa")),
        Err(e) => refused(&st, &auth, e).await,
    }
}

#[derive(Template)]
#[template(path = "soa_diff.html")]
struct DiffPage {
    shell: Shell,
    from: i64,
    to: i64,
    changes: Vec<RowChange>,
    versions: Vec<i64>,
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i64,
    to: i64,
}

async fn diff(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Response, WebError> {
    let (_, _, changes) = st
        .app
        .soa_diff(&auth.caller, q.from, q.to)
        .await
        .map_err(WebError::page)?;
    let versions = st
        .app
        .soa(&auth.caller, None)
        .await
        .map_err(WebError::page)?
        .history
        .iter()
        .map(|h| h.version)
        .collect();
    Ok(render(&DiffPage {
        shell: Shell::new(&st, &auth, "Compare SoA versions", "soa").await?,
        from: q.from,
        to: q.to,
        changes,
        versions,
    }))
}
