//! The dashboard.

use askama::Template;
use attest_app::Permission;
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
    r.page(
        Method::GET,
        "/",
        Access::Perm(Permission::ProgramRead),
        home,
    )
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    org_name: String,
    members: usize,
    mfa_enabled: bool,
    recent: Vec<EntryRow>,
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
    Ok(render(&HomePage {
        shell,
        org_name: org.org.name,
        members,
        mfa_enabled: st
            .app
            .mfa_enabled(&auth.caller)
            .await
            .map_err(WebError::page)?,
        recent,
    }))
}
