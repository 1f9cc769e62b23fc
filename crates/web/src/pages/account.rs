//! The signed-in person's own account: password, second factor, sessions and API tokens.

use askama::Template;
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::role::Role;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::{Shell, render, render_status, see_other};
use crate::AppState;
use crate::api::identity::{SessionDto, TokenDto, session_dto};
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, PageForm, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    r.page(Method::GET, "/account", Access::SignedIn, account)
        .page(
            Method::POST,
            "/account/sessions/{session_id}/revoke",
            Access::SignedIn,
            revoke_session,
        )
        .page(
            Method::GET,
            "/account/password",
            Access::PasswordChange,
            password_page,
        )
        .page(
            Method::POST,
            "/account/password",
            Access::PasswordChange,
            change_password,
        )
        .page(Method::GET, "/account/mfa", Access::MfaSetup, mfa_page)
        .page(Method::POST, "/account/mfa", Access::MfaSetup, mfa_confirm)
        .page(
            Method::POST,
            "/account/mfa/disable",
            Access::SignedIn,
            mfa_disable,
        )
        .page(
            Method::GET,
            "/account/tokens",
            Access::Perm(Permission::TokensOwn),
            tokens_page,
        )
        .page(
            Method::POST,
            "/account/tokens",
            Access::Perm(Permission::TokensOwn),
            create_token,
        )
        .page(
            Method::POST,
            "/account/tokens/{token_id}/revoke",
            Access::Perm(Permission::TokensOwn),
            revoke_token,
        )
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    email: String,
    mfa_enabled: bool,
    recovery_left: i64,
    sessions: Vec<SessionDto>,
}

async fn account_page(st: &AppState, auth: &Auth, shell: Shell) -> Result<Response, WebError> {
    let current = auth.session.as_ref().map(|s| s.id_hash.clone());
    let sessions = st
        .app
        .my_sessions(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let recovery_left = st
        .app
        .recovery_codes_left(&auth.caller)
        .await
        .map_err(WebError::page)?;
    Ok(render(&AccountPage {
        shell,
        email: auth
            .session
            .as_ref()
            .map(|s| s.email.clone())
            .unwrap_or_default(),
        mfa_enabled: recovery_left > 0
            || st
                .app
                .mfa_enabled(&auth.caller)
                .await
                .map_err(WebError::page)?,
        recovery_left,
        sessions: sessions
            .into_iter()
            .map(|s| session_dto(s, current.as_deref()))
            .collect(),
    }))
}

#[derive(Deserialize, Default)]
struct AccountQuery {
    notice: Option<String>,
}

async fn account(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::new(&st, &auth, "Your account", "account")
        .await?
        .notice_code(
            q.notice.as_deref(),
            &[(
                "audit-ended",
                "Your access as an auditor has ended: the engagement was issued or withdrawn, or its access date passed. Ask the organisation for a new invitation if you audit it again.",
            )],
        );
    account_page(&st, &auth, shell).await
}

async fn revoke_session(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    st.app
        .revoke_my_session(&auth.caller, &id)
        .await
        .map_err(WebError::page)?;
    let shell = Shell::new(&st, &auth, "Your account", "account")
        .await?
        .notice("ok", "That session is signed out.");
    account_page(&st, &auth, shell).await
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    csrf: String,
    forced: bool,
    error: Option<String>,
}

fn forced(auth: &Auth) -> bool {
    auth.session.as_ref().is_some_and(|s| {
        s.state == attest_app::identity::session::SessionState::PasswordChangeRequired
    })
}

async fn password_page(Extension(auth): Extension<Auth>) -> Response {
    render(&PasswordPage {
        forced: forced(&auth),
        csrf: auth.csrf,
        error: None,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    password: String,
}

async fn change_password(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .change_password(&auth.caller, &f.current_password, &f.password)
        .await
    {
        Ok(()) => Ok(see_other("/?notice=password-changed")),
        Err(e @ AppError::Invalid { .. }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                forced: forced(&auth),
                csrf: auth.csrf,
                error: Some(e.to_string()),
            },
        )),
        Err(e) => Err(WebError::page(e)),
    }
}

#[derive(Template)]
#[template(path = "account_mfa.html")]
struct MfaSetupPage {
    csrf: String,
    required: bool,
    qr: String,
    secret: String,
    error: Option<String>,
    recovery_codes: Option<Vec<String>>,
}

fn mfa_required(auth: &Auth) -> bool {
    auth.session.as_ref().is_some_and(|s| {
        s.state == attest_app::identity::session::SessionState::MfaEnrolmentRequired
    })
}

async fn mfa_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    let e = st
        .app
        .mfa_begin(&auth.caller)
        .await
        .map_err(WebError::page)?;
    Ok(render(&MfaSetupPage {
        required: mfa_required(&auth),
        csrf: auth.csrf,
        qr: e.qr_png_base64,
        secret: e.secret,
        error: None,
        recovery_codes: None,
    }))
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn mfa_confirm(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, WebError> {
    match st.app.mfa_confirm(&auth.caller, &f.code).await {
        Ok(codes) => Ok(render(&MfaSetupPage {
            required: false,
            csrf: auth.csrf,
            qr: String::new(),
            secret: String::new(),
            error: None,
            recovery_codes: Some(codes),
        })),
        Err(err @ AppError::Invalid { .. }) => {
            // Show the same secret again so the person can retry with their app as set up.
            let e = st
                .app
                .mfa_pending(&auth.caller)
                .await
                .map_err(WebError::page)?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &MfaSetupPage {
                    required: mfa_required(&auth),
                    csrf: auth.csrf,
                    qr: e.qr_png_base64,
                    secret: e.secret,
                    error: Some(err.to_string()),
                    recovery_codes: None,
                },
            ))
        }
        Err(e) => Err(WebError::page(e)),
    }
}

#[derive(Deserialize)]
struct DisableForm {
    password: String,
}

async fn mfa_disable(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<DisableForm>,
) -> Result<Response, WebError> {
    let shell = Shell::new(&st, &auth, "Your account", "account").await?;
    let shell = match st.app.mfa_disable(&auth.caller, &f.password).await {
        Ok(()) => shell.notice("ok", "The second factor is off."),
        Err(e @ (AppError::Invalid { .. } | AppError::Rule { .. })) => {
            shell.notice("error", e.to_string())
        }
        Err(e) => return Err(WebError::page(e)),
    };
    account_page(&st, &auth, shell).await
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    shell: Shell,
    tokens: Vec<TokenDto>,
    roles: Vec<(&'static str, &'static str)>,
    service_accounts: Vec<(String, String)>,
    created: Option<String>,
    error: Option<String>,
}

async fn tokens_view(
    st: &AppState,
    auth: &Auth,
    created: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let shell = Shell::new(st, auth, "API tokens", "account").await?;
    let tokens = st.app.tokens(&auth.caller).await.map_err(WebError::page)?;
    let mine = auth.caller.role.unwrap_or(Role::Viewer);
    let roles = Role::ALL
        .into_iter()
        .rev()
        .filter(|r| *r != Role::Auditor && mine.may_grant(*r))
        .map(|r| (r.as_str(), r.label()))
        .collect();
    let service_accounts = if auth.caller.require(Permission::TokensManage).is_ok() {
        st.app
            .members(&auth.caller)
            .await
            .map_err(WebError::page)?
            .into_iter()
            .filter(|m| m.user.kind == "service" && m.membership.deactivated_at.is_none())
            .map(|m| (m.user.id.to_string(), m.user.display_name))
            .collect()
    } else {
        Vec::new()
    };
    let page = TokensPage {
        shell,
        tokens: tokens.into_iter().map(Into::into).collect(),
        roles,
        service_accounts,
        created,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn tokens_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    tokens_view(&st, &auth, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    role: String,
    days: i64,
    service_account: Option<String>,
}

async fn create_token(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<TokenForm>,
) -> Result<Response, WebError> {
    let role: Role = match f.role.parse() {
        Ok(r) => r,
        Err(e) => return tokens_view(&st, &auth, None, Some(format!("{e}"))).await,
    };
    let for_user = match f.service_account.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<UserId>()
                .map_err(|_| WebError::page(AppError::NotFound("service account")))?,
        ),
        None => None,
    };
    match st
        .app
        .create_token(&auth.caller, &f.name, role, f.days, for_user)
        .await
    {
        Ok(created) => tokens_view(&st, &auth, Some(created.secret), None).await,
        Err(e @ AppError::Invalid { .. }) => {
            tokens_view(&st, &auth, None, Some(e.to_string())).await
        }
        Err(e) => Err(WebError::page(e)),
    }
}

async fn revoke_token(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    st.app
        .revoke_token(&auth.caller, &id)
        .await
        .map_err(WebError::page)?;
    Ok(see_other("/account/tokens"))
}
