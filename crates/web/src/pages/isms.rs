//! The ISMS pages: scope and context.

use askama::Template;
use attest_app::isms::{InterestedParty, ScopeDocument, ScopeView};
use attest_app::{AppError, Permission};
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
        "/isms/scope",
        Access::Perm(Permission::ProgramRead),
        scope,
    )
    .page(
        Method::POST,
        "/isms/scope",
        Access::Perm(Permission::IsmsManage),
        save_scope,
    )
}

/// The edit form's fields as typed (lists one per line).
struct ScopeForm {
    statement: String,
    services: Vec<String>,
    locations: String,
    internal_issues: String,
    external_issues: String,
    parties: String,
}

impl ScopeForm {
    fn of(d: &ScopeDocument) -> Self {
        Self {
            statement: d.statement.clone(),
            services: d.services.clone(),
            locations: d.locations.join("\n"),
            internal_issues: d.internal_issues.join("\n"),
            external_issues: d.external_issues.join("\n"),
            parties: d
                .interested_parties
                .iter()
                .map(|p| format!("{}: {}", p.party, p.requirements))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn document(&self) -> ScopeDocument {
        let lines = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
        ScopeDocument {
            statement: self.statement.clone(),
            services: self.services.clone(),
            locations: lines(&self.locations),
            internal_issues: lines(&self.internal_issues),
            external_issues: lines(&self.external_issues),
            interested_parties: self
                .parties
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let (party, requirements) = l.split_once(':').unwrap_or((l, ""));
                    InterestedParty {
                        party: party.to_owned(),
                        requirements: requirements.to_owned(),
                    }
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "isms_scope.html")]
struct ScopePage {
    shell: Shell,
    version: Option<i64>,
    current: bool,
    /// Who saved it, when, and the note.
    saved: Option<(String, String, String)>,
    statement: String,
    service_names: Vec<String>,
    locations: Vec<String>,
    internal_issues: Vec<String>,
    external_issues: Vec<String>,
    parties: Vec<(String, String)>,
    /// Version, saved, by, note.
    history: Vec<(i64, String, String, String)>,
    can_manage: bool,
    services: Vec<(String, String)>,
    form: ScopeForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct ScopeQuery {
    version: Option<i64>,
}

async fn scope_view(
    st: &AppState,
    auth: &Auth,
    version: Option<i64>,
    form: Option<ScopeForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let v: ScopeView = st
        .app
        .isms_scope(&auth.caller, version)
        .await
        .map_err(WebError::page)?;
    let (_, services) = st
        .app
        .services(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let latest = v.history.first().map(|h| h.version);
    let day = |t: attest_domain::Timestamp| t.to_rfc3339().chars().take(10).collect::<String>();
    let page = ScopePage {
        shell: Shell::new(st, auth, "ISMS scope", "isms").await?,
        version: v.version,
        current: v.version == latest,
        saved: v
            .summary
            .as_ref()
            .map(|s| (s.created_by.clone(), day(s.created_at), s.note.clone())),
        statement: v.document.statement.clone(),
        service_names: v.service_names.iter().map(|s| s.1.clone()).collect(),
        locations: v.document.locations.clone(),
        internal_issues: v.document.internal_issues.clone(),
        external_issues: v.document.external_issues.clone(),
        parties: v
            .document
            .interested_parties
            .iter()
            .map(|p| (p.party.clone(), p.requirements.clone()))
            .collect(),
        history: v
            .history
            .iter()
            .map(|h| {
                (
                    h.version,
                    day(h.created_at),
                    h.created_by.clone(),
                    h.note.clone(),
                )
            })
            .collect(),
        can_manage: auth.caller.require(Permission::IsmsManage).is_ok(),
        services: services.into_iter().map(|s| (s.id, s.name)).collect(),
        form: form.unwrap_or_else(|| ScopeForm::of(&v.document)),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn scope(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, WebError> {
    scope_view(&st, &auth, q.version, None, None).await
}

async fn save_scope(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let form = ScopeForm {
        statement: one(&p, "statement"),
        services: p
            .iter()
            .filter(|(k, v)| k == "services" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect(),
        locations: one(&p, "locations"),
        internal_issues: one(&p, "internal_issues"),
        external_issues: one(&p, "external_issues"),
        parties: one(&p, "parties"),
    };
    let result: Result<i64, AppError> = st
        .app
        .save_isms_scope(&auth.caller, form.document(), &one(&p, "note"))
        .await;
    match result {
        Ok(_) => Ok(see_other("/isms/scope")),
        Err(e) => scope_view(&st, &auth, None, Some(form), Some(message(e)?)).await,
    }
}
