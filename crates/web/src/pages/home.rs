//! The dashboard.

use askama::Template;
use attest_app::Permission;
use attest_app::risk::RiskFilter;
use attest_store::audit::EntryFilter;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::Method;
use serde::Deserialize;

use super::admin::EntryRow;
use super::{Shell, render};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiQuery, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    // Any signed-in member: an auditor, who reads no program, is sent to their engagement.
    r.page(Method::GET, "/", Access::SignedIn, home)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    org_name: String,
    members: usize,
    mfa_enabled: bool,
    recent: Vec<EntryRow>,
    /// Frameworks in use: (id, name, percent implemented).
    coverage: Vec<(String, String, u32)>,
    risks: usize,
    risks_needing_decision: usize,
    overdue: usize,
    due_soon: usize,
    late_actions: usize,
    open_ncs: usize,
    overdue_ncs: usize,
    /// The SoA: headline and the line under it.
    soa: (String, String),
    /// Documents whose review is overdue.
    reviews_overdue: usize,
    /// The next review due: (title, date).
    next_review: Option<(String, String)>,
    /// Published documents the caller has still to acknowledge: (id, title).
    to_read: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
struct HomeQuery {
    notice: Option<String>,
}

async fn home(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<HomeQuery>,
) -> Result<Response, WebError> {
    if auth.caller.require(Permission::ProgramRead).is_err()
        && auth.caller.require(Permission::EngagementWork).is_ok()
    {
        return Ok(super::see_other("/audit"));
    }
    if let Err(e) = auth.caller.require(Permission::ProgramRead) {
        return Err(WebError::page(e));
    }
    let shell = Shell::new(&st, &auth, "Dashboard", "home")
        .await?
        .notice_code(
            q.notice.as_deref(),
            &[(
                "password-changed",
                "Your password was changed. Other sessions were signed out.",
            )],
        );
    let org = st
        .app
        .organisation(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let members = match st.app.members(&auth.caller).await {
        Ok(m) => m
            .iter()
            .filter(|m| m.membership.deactivated_at.is_none())
            .count(),
        Err(_) => 0,
    };
    let recent = if auth.caller.require(Permission::AuditTrailRead).is_ok() {
        st.app
            .audit_entries(
                &auth.caller,
                &EntryFilter {
                    limit: 8,
                    ..EntryFilter::default()
                },
            )
            .await
            .map_err(WebError::page)?
            .into_iter()
            .map(Into::into)
            .collect()
    } else {
        Vec::new()
    };
    // The program at a glance (read by anyone who may read the program).
    let app = &st.app;
    let every_risk = RiskFilter::default();
    let (coverage, register, overdue, due, late_actions, ncs, soa, policies) = tokio::try_join!(
        app.coverage_overview(&auth.caller),
        app.risk_register(&auth.caller, &every_risk),
        app.overdue_controls(&auth.caller, None),
        app.evidence_due(&auth.caller, 30),
        app.overdue_risk_actions(&auth.caller),
        app.nonconformities(&auth.caller),
        app.soa(&auth.caller, None),
        app.policies(&auth.caller),
    )
    .map_err(WebError::page)?;
    let next_review = policies
        .iter()
        .filter_map(|p| p.review_due.map(|d| (d, p.title.clone())))
        .min()
        .map(|(d, t)| (t, d.to_string()));
    let soa = match &soa.version {
        None => (
            "None yet".to_owned(),
            "Decide on the Annex A controls".to_owned(),
        ),
        Some(v) if v.approved && soa.stale => (
            format!("v{} approved", v.version),
            "The data changed since approval".to_owned(),
        ),
        Some(v) if v.approved => (
            format!("v{} approved", v.version),
            format!(
                "on {}",
                v.approved_at
                    .map(|t| t.date().to_string())
                    .unwrap_or_default()
            ),
        ),
        Some(v) if soa.gaps.is_empty() => (
            format!("v{} draft", v.version),
            "Complete: ready for approval".to_owned(),
        ),
        Some(v) => (
            format!("v{} draft", v.version),
            format!("{} control(s) to complete", soa.gaps.len()),
        ),
    };
    Ok(render(&HomePage {
        shell,
        org_name: org.org.name,
        members,
        coverage: coverage
            .iter()
            .map(|c| {
                (
                    c.framework.id.clone(),
                    c.framework.name.clone(),
                    c.percent_implemented(),
                )
            })
            .collect(),
        risks: register.risks.len(),
        risks_needing_decision: register.needing_decision,
        overdue: overdue.len(),
        due_soon: due.len(),
        late_actions: late_actions.len(),
        open_ncs: ncs.iter().filter(|n| n.nc.closed_on.is_none()).count(),
        overdue_ncs: ncs.iter().filter(|n| n.overdue).count(),
        soa,
        reviews_overdue: policies.iter().filter(|p| p.review_overdue).count(),
        next_review,
        to_read: policies
            .iter()
            .filter(|p| p.mine_pending)
            .map(|p| (p.id.clone(), p.title.clone()))
            .collect(),
        mfa_enabled: st
            .app
            .mfa_enabled(&auth.caller)
            .await
            .map_err(WebError::page)?,
        recent,
    }))
}
