//! Signing in and out, the second factor, invitations and password reset links.

use askama::Template;
use attest_app::AppError;
use attest_app::identity::member::InvitationView;
use attest_app::identity::session::SessionState;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode, header};
use serde::Deserialize;

use super::{render, render_status, see_other};
use crate::AppState;
use crate::auth::{self, Auth};
use crate::error::{ApiPath, ApiQuery, PageForm, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    r.page(Method::GET, "/login", Access::Public, login_page)
        .page(Method::POST, "/login", Access::Public, login)
        .page(Method::GET, "/login/mfa", Access::MfaStep, mfa_page)
        .page(Method::POST, "/login/mfa", Access::MfaStep, mfa)
        .page(Method::POST, "/logout", Access::Public, logout)
        .page(Method::POST, "/switch-org", Access::SignedIn, switch_org)
        .page(
            Method::GET,
            "/invitations/{token}",
            Access::Public,
            invitation_page,
        )
        .page(
            Method::POST,
            "/invitations/{token}",
            Access::Public,
            accept_invitation,
        )
        .page(Method::POST, "/sso/start", Access::Public, sso_start)
        .page(Method::GET, "/sso/callback", Access::Public, sso_callback)
        .page(
            Method::GET,
            "/password-reset/{token}",
            Access::Public,
            reset_page,
        )
        .page(
            Method::POST,
            "/password-reset/{token}",
            Access::Public,
            reset,
        )
}

/// Only local paths may be redirected to after sign-in.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains(['\r', '\n']) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
    org: String,
    sso_open: bool,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn login_page(
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<LoginQuery>,
) -> Response {
    if auth.signed_in() {
        return see_other(&safe_next(q.next.as_deref()));
    }
    let notice = match q.notice.as_deref() {
        Some("password-reset") => {
            Some("Your password was changed. Sign in with the new one.".to_owned())
        }
        Some("signed-out") => Some("You are signed out.".to_owned()),
        Some("joined") => Some("Welcome! Sign in to continue.".to_owned()),
        _ => None,
    };
    render(&LoginPage {
        csrf: auth.csrf,
        next: safe_next(q.next.as_deref()),
        email: String::new(),
        error: None,
        notice,
        org: String::new(),
        sso_open: false,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn step_target(state: SessionState, next: &str) -> String {
    match state {
        SessionState::Active => next.to_owned(),
        SessionState::MfaPending => "/login/mfa".into(),
        SessionState::PasswordChangeRequired => "/account/password".into(),
        SessionState::MfaEnrolmentRequired => "/account/mfa".into(),
    }
}

async fn login(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match st.app.sign_in(&auth.caller, &f.email, &f.password).await {
        Ok(opened) => {
            let mut resp = Redirect::to(&step_target(opened.state, &next)).into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, auth::session_cookie(&st, &opened.token));
            resp
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            let page = LoginPage {
                csrf: auth.csrf,
                next,
                email: f.email,
                error: Some(e.to_string()),
                notice: None,
                org: String::new(),
                sso_open: false,
            };
            let mut resp = render_status(status, &page);
            if let AppError::Throttled { retry_after } = e
                && let Ok(v) = http::HeaderValue::from_str(&retry_after.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

#[derive(Template)]
#[template(path = "login_mfa.html")]
struct MfaPage {
    csrf: String,
    error: Option<String>,
}

async fn mfa_page(Extension(auth): Extension<Auth>) -> Response {
    render(&MfaPage {
        csrf: auth.csrf,
        error: None,
    })
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn mfa(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<CodeForm>,
) -> Response {
    match st.app.mfa_verify(&auth.caller, &f.code).await {
        Ok(()) => see_other("/"),
        Err(e) => render_status(
            crate::error::status_of(&e),
            &MfaPage {
                csrf: auth.csrf,
                error: Some(e.to_string()),
            },
        ),
    }
}

async fn logout(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    st.app
        .sign_out(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let mut resp = see_other("/login?notice=signed-out");
    resp.headers_mut()
        .append(header::SET_COOKIE, auth::clear_session_cookie(&st));
    Ok(resp)
}

#[derive(Deserialize)]
struct OrgForm {
    org: String,
}

async fn switch_org(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<OrgForm>,
) -> Result<Response, WebError> {
    let org = f
        .org
        .parse()
        .map_err(|_| WebError::page(AppError::NotFound("organisation")))?;
    st.app
        .switch_org(&auth.caller, org)
        .await
        .map_err(WebError::page)?;
    Ok(see_other("/"))
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    csrf: String,
    token: String,
    view: InvitationView,
    signed_in: bool,
    display_name: String,
    error: Option<String>,
}

async fn invitation_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(token): ApiPath<String>,
) -> Result<Response, WebError> {
    let view = st
        .app
        .view_invitation(&token)
        .await
        .map_err(WebError::page)?;
    Ok(render(&InvitationPage {
        csrf: auth.csrf.clone(),
        signed_in: auth.signed_in(),
        token,
        view,
        display_name: String::new(),
        error: None,
    }))
}

#[derive(Deserialize)]
struct AcceptForm {
    display_name: Option<String>,
    password: Option<String>,
}

async fn accept_invitation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(token): ApiPath<String>,
    PageForm(f): PageForm<AcceptForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .accept_invitation(
            &auth.caller,
            &token,
            f.display_name.as_deref(),
            f.password.as_deref(),
        )
        .await
    {
        Ok(_) if auth.signed_in() => Ok(see_other("/")),
        Ok(_) => Ok(see_other("/login?notice=joined")),
        Err(e @ (AppError::Invalid { .. } | AppError::Unauthenticated(_))) => {
            let view = st
                .app
                .view_invitation(&token)
                .await
                .map_err(WebError::page)?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &InvitationPage {
                    csrf: auth.csrf.clone(),
                    signed_in: auth.signed_in(),
                    token,
                    view,
                    display_name: f.display_name.unwrap_or_default(),
                    error: Some(e.to_string()),
                },
            ))
        }
        Err(e) => Err(WebError::page(e)),
    }
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    csrf: String,
    token: String,
    usable: bool,
    error: Option<String>,
}

async fn reset_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(token): ApiPath<String>,
) -> Result<Response, WebError> {
    let usable = st
        .app
        .reset_link_usable(&token)
        .await
        .map_err(WebError::page)?;
    let status = if usable {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(render_status(
        status,
        &ResetPage {
            csrf: auth.csrf,
            token,
            usable,
            error: None,
        },
    ))
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

async fn reset(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(token): ApiPath<String>,
    PageForm(f): PageForm<ResetForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .complete_password_reset(&auth.caller, &token, &f.password)
        .await
    {
        Ok(()) => Ok(see_other("/login?notice=password-reset")),
        Err(e @ AppError::Invalid { .. }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage {
                csrf: auth.csrf,
                token,
                usable: true,
                error: Some(e.to_string()),
            },
        )),
        Err(AppError::NotFound(_)) => Ok(render_status(
            StatusCode::NOT_FOUND,
            &ResetPage {
                csrf: auth.csrf,
                token,
                usable: false,
                error: None,
            },
        )),
        Err(e) => Err(WebError::page(e)),
    }
}

#[derive(Template)]
#[template(path = "redirect.html")]
struct RedirectPage {
    url: String,
}

#[derive(Deserialize)]
struct SsoStartForm {
    org: String,
    next: Option<String>,
}

async fn sso_start(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<SsoStartForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match st.app.sso_start(&f.org, &next, &auth.csrf).await {
        // A page that moves on, not a redirect: the login form's Content-Security-Policy
        // (form-action 'self') forbids a form submission from being redirected to another site.
        Ok(url) => render(&RedirectPage { url }),
        Err(e) => render_status(
            crate::error::status_of(&e),
            &LoginPage {
                csrf: auth.csrf,
                next,
                email: String::new(),
                error: Some(e.to_string()),
                notice: None,
                org: f.org,
                sso_open: true,
            },
        ),
    }
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn sso_callback(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> Response {
    let fail = |status: StatusCode, message: String| {
        render_status(
            status,
            &LoginPage {
                csrf: auth.csrf.clone(),
                next: "/".into(),
                email: String::new(),
                error: Some(message),
                notice: None,
                org: String::new(),
                sso_open: true,
            },
        )
    };
    if let Some(err) = q.error {
        let detail = q.error_description.unwrap_or_default();
        return fail(
            StatusCode::UNAUTHORIZED,
            format!(
                "The identity provider refused the sign-in ({err}{}{detail}).",
                if detail.is_empty() { "" } else { ": " }
            ),
        );
    }
    let (Some(state), Some(code)) = (q.state, q.code) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "The identity provider's answer is incomplete: start again.".into(),
        );
    };
    match st
        .app
        .sso_callback(&auth.caller, &state, &code, &auth.csrf)
        .await
    {
        Ok((opened, return_to)) => {
            let mut resp = Redirect::to(&step_target(opened.state, &safe_next(Some(&return_to))))
                .into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, auth::session_cookie(&st, &opened.token));
            resp
        }
        Err(e) => fail(crate::error::status_of(&e), e.to_string()),
    }
}
