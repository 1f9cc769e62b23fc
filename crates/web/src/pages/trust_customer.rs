//! The trust portal's customer pages: sign-up (confirmed by an e-mailed link) or an
//! invitation, sign-in, the account page with the NDA click-through, the restricted
//! documents and access requests, and downloads through short-lived links bound to the
//! account. Customers have their own session cookie, separate from staff sessions.

use askama::Template;
use attest_app::AppError;
use attest_app::portal::Lang;
use attest_app::portal_customers::{Client, Customer, CustomerView, SignUp};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::program::{one, pairs};
use super::trust::{Chrome, LangQuery, chrome, lang_of};
use super::{render_status, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, WebError};
use crate::i18n::Tr;
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let p = Access::Public;
    r.page(Method::GET, "/trust/{slug}/signin", p, signin_page)
        .page(Method::POST, "/trust/{slug}/signin", p, signin)
        .page(Method::GET, "/trust/{slug}/signup", p, signup_page)
        .page(Method::POST, "/trust/{slug}/signup", p, signup)
        .page(
            Method::GET,
            "/trust/{slug}/verify-email/{token}",
            p,
            verify_page,
        )
        .page(
            Method::POST,
            "/trust/{slug}/verify-email/{token}",
            p,
            verify,
        )
        .page(
            Method::GET,
            "/trust/{slug}/invitation/{token}",
            p,
            invitation_page,
        )
        .page(
            Method::POST,
            "/trust/{slug}/invitation/{token}",
            p,
            accept_invitation,
        )
        .page(Method::GET, "/trust/{slug}/forgot", p, forgot_page)
        .page(Method::POST, "/trust/{slug}/forgot", p, forgot)
        .page(Method::GET, "/trust/{slug}/reset/{token}", p, reset_page)
        .page(Method::POST, "/trust/{slug}/reset/{token}", p, reset)
        .page(Method::POST, "/trust/{slug}/signout", p, signout)
        .page(Method::GET, "/trust/{slug}/account", p, account)
        .page(Method::POST, "/trust/{slug}/nda", p, accept_nda)
        .page(Method::POST, "/trust/{slug}/access", p, request_access)
        .page(
            Method::POST,
            "/trust/{slug}/documents/{document_id}/link",
            p,
            link,
        )
        .page(Method::GET, "/trust/{slug}/download/{token}", p, download)
}

/// The customer session cookie's name (`__Host-` prefixed over TLS).
fn cookie_name(st: &AppState) -> &'static str {
    if st.web.secure_cookies {
        "__Host-attest_portal"
    } else {
        "attest_portal"
    }
}

fn session_of<'a>(st: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    crate::auth::cookie_in(headers.get_all(header::COOKIE).iter(), cookie_name(st))
        .filter(|v| !v.is_empty())
}

fn set_cookie(st: &AppState, token: &str, max_age: i64) -> HeaderValue {
    let v = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        cookie_name(st),
        if st.web.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn client(auth: &Auth) -> Client {
    Client {
        ip: auth.caller.ip.clone(),
        user_agent: auth.caller.user_agent.clone(),
    }
}

async fn customer(
    st: &AppState,
    slug: &str,
    headers: &HeaderMap,
) -> Result<Option<Customer>, WebError> {
    match session_of(st, headers) {
        Some(t) => st
            .app
            .portal_customer(slug, t)
            .await
            .map_err(WebError::page),
        None => Ok(None),
    }
}

/// What a page shows.
enum View {
    SignIn {
        email: String,
    },
    SignUp {
        can_mail: bool,
        email: String,
        name: String,
        company: String,
    },
    Message,
    Verify {
        token: String,
    },
    /// Choosing a password through a one-time link: `invitation` or `reset`.
    Password {
        kind: &'static str,
        token: String,
        email: String,
    },
    Forgot {
        can_mail: bool,
        email: String,
    },
    Account(Box<CustomerView>),
}

#[derive(Template)]
#[template(path = "trust_customer.html")]
struct CustomerPage {
    c: Chrome,
    tr: Tr,
    heading: String,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    view: View,
}

impl CustomerPage {
    fn date(&self, t: &attest_domain::Timestamp) -> String {
        t.date().to_string()
    }

    /// A message with one argument.
    fn t1(&self, id: &str, key: &str, value: &str) -> String {
        self.tr.args(id, &[(key, value)])
    }

    /// A request's state as of now.
    fn state(&self, r: &attest_store::customers::AccessRequest) -> String {
        match (r.status.as_str(), r.expires_at) {
            ("approved", Some(end)) if end > attest_domain::Timestamp::now() => {
                self.t1("req-approved", "date", &self.date(&end))
            }
            ("approved", _) => self.tr.t("req-expired"),
            (s, _) => self.tr.t(&format!("req-{s}")),
        }
    }

    fn signed_in_as(&self, a: &attest_store::customers::Account) -> String {
        self.tr.args(
            "signed-in-as",
            &[
                ("name", &a.name),
                ("email", &a.email),
                ("company", &a.company),
            ],
        )
    }
}

/// The text shown for a refusal a customer can act on; anything else is an error page.
fn customer_message(e: AppError) -> Result<String, WebError> {
    match e {
        AppError::Unauthenticated(m) => Ok(m),
        e @ AppError::Throttled { .. } => Ok(e.to_string()),
        e => super::message(e),
    }
}

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_)
        | AppError::Rule {
            rule: "portal-access",
            ..
        } => StatusCode::FORBIDDEN,
        AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

struct Ctx {
    lang: Lang,
    slug: String,
    org_name: String,
    logo: Option<String>,
    csrf: String,
}

async fn ctx(
    st: &AppState,
    slug: &str,
    q: &LangQuery,
    headers: &HeaderMap,
    auth: &Auth,
) -> Result<Ctx, WebError> {
    let lang = lang_of(q, headers);
    let h = st
        .app
        .portal_home(slug, lang)
        .await
        .map_err(WebError::page)?;
    Ok(Ctx {
        lang,
        slug: h.slug.clone(),
        org_name: h.org_name.clone(),
        logo: h.logo.clone(),
        csrf: auth.csrf.clone(),
    })
}

fn page(
    x: &Ctx,
    heading_id: &str,
    view: View,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = Tr(x.lang);
    let p = CustomerPage {
        c: chrome(x.lang, &x.org_name, &x.slug, x.logo.as_deref()),
        tr,
        heading: tr.t(heading_id),
        notice,
        error,
        csrf: x.csrf.clone(),
        view,
    };
    let mut resp = render_status(status, &p);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The page again with the refusal's message (and its status), or an error page for a
/// failure the customer cannot act on.
fn refused(x: &Ctx, heading_id: &str, view: View, e: AppError) -> Result<Response, WebError> {
    let status = status_of(&e);
    Ok(page(
        x,
        heading_id,
        view,
        None,
        Some(customer_message(e)?),
        status,
    ))
}

fn to(x: &Ctx, path: &str) -> String {
    format!("/trust/{}/{path}?lang={}", x.slug, x.lang.as_str())
}

async fn signin_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    if customer(&st, &slug, &headers).await?.is_some() {
        return Ok(see_other(&to(&x, "account")));
    }
    Ok(page(
        &x,
        "customer-sign-in",
        View::SignIn {
            email: String::new(),
        },
        None,
        None,
        StatusCode::OK,
    ))
}

async fn signin(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let p = pairs(&body);
    let email = one(&p, "email");
    match st
        .app
        .portal_sign_in(&slug, &email, &one(&p, "password"), &client(&auth))
        .await
    {
        Ok((_, token)) => {
            let mut resp = see_other(&to(&x, "account"));
            resp.headers_mut()
                .append(header::SET_COOKIE, set_cookie(&st, &token, 12 * 3600));
            Ok(resp)
        }
        Err(e) => refused(&x, "customer-sign-in", View::SignIn { email }, e),
    }
}

async fn signup_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    Ok(page(
        &x,
        "customer-sign-up",
        View::SignUp {
            can_mail: st.app.can_send_mail(),
            email: String::new(),
            name: String::new(),
            company: String::new(),
        },
        None,
        None,
        StatusCode::OK,
    ))
}

async fn signup(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let p = pairs(&body);
    let input = SignUp {
        email: one(&p, "email"),
        name: one(&p, "name"),
        company: one(&p, "company"),
        password: one(&p, "password"),
    };
    let keep = View::SignUp {
        can_mail: st.app.can_send_mail(),
        email: input.email.clone(),
        name: input.name.clone(),
        company: input.company.clone(),
    };
    match st
        .app
        .portal_sign_up(&slug, input, x.lang, &client(&auth))
        .await
    {
        Ok(()) => Ok(page(
            &x,
            "customer-check-mail-title",
            View::Message,
            Some(Tr(x.lang).t("customer-check-mail")),
            None,
            StatusCode::OK,
        )),
        Err(e) => refused(&x, "customer-sign-up", keep, e),
    }
}

async fn verify_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    Ok(page(
        &x,
        "customer-verify-title",
        View::Verify { token },
        None,
        None,
        StatusCode::OK,
    ))
}

async fn verify(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    match st
        .app
        .portal_verify_email(&slug, &token, &client(&auth))
        .await
    {
        Ok(a) => Ok(page(
            &x,
            "customer-sign-in",
            View::SignIn { email: a.email },
            Some(Tr(x.lang).t("customer-verified")),
            None,
            StatusCode::OK,
        )),
        Err(e) => refused(&x, "customer-verify-title", View::Message, e),
    }
}

async fn invitation_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let account = st.app.portal_invitation(&slug, &token).await;
    password_form(&x, "invitation", token, account, None)
}

/// The form choosing a password through a one-time link (`invitation` or `reset`) for the
/// link's account, with the refusal of the last try if any; the refusal alone when the link
/// itself is not (or no longer) valid.
fn password_form(
    x: &Ctx,
    kind: &'static str,
    token: String,
    account: Result<attest_store::customers::Account, AppError>,
    refusal: Option<AppError>,
) -> Result<Response, WebError> {
    let heading = if kind == "reset" {
        "customer-reset-title"
    } else {
        "customer-invitation-title"
    };
    match (account, refusal) {
        (Ok(a), None) => Ok(page(
            x,
            heading,
            View::Password {
                kind,
                token,
                email: a.email,
            },
            None,
            None,
            StatusCode::OK,
        )),
        (Ok(a), Some(e)) => refused(
            x,
            heading,
            View::Password {
                kind,
                token,
                email: a.email,
            },
            e,
        ),
        (Err(e), None) | (Err(_), Some(e)) => refused(x, heading, View::Message, e),
    }
}

async fn accept_invitation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let p = pairs(&body);
    match st
        .app
        .portal_accept_invitation(&slug, &token, &one(&p, "password"), &client(&auth))
        .await
    {
        Ok((_, session)) => {
            let mut resp = see_other(&to(&x, "account"));
            resp.headers_mut()
                .append(header::SET_COOKIE, set_cookie(&st, &session, 12 * 3600));
            Ok(resp)
        }
        Err(e) => {
            let account = st.app.portal_invitation(&slug, &token).await;
            password_form(&x, "invitation", token, account, Some(e))
        }
    }
}

async fn forgot_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    Ok(page(
        &x,
        "customer-forgot-title",
        View::Forgot {
            can_mail: st.app.can_send_mail(),
            email: String::new(),
        },
        None,
        None,
        StatusCode::OK,
    ))
}

async fn forgot(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let email = one(&pairs(&body), "email");
    match st
        .app
        .portal_forgot_password(&slug, &email, x.lang, &client(&auth))
        .await
    {
        Ok(()) => Ok(page(
            &x,
            "customer-check-mail-title",
            View::Message,
            Some(Tr(x.lang).t("customer-forgot-sent")),
            None,
            StatusCode::OK,
        )),
        Err(e) => {
            let keep = View::Forgot {
                can_mail: st.app.can_send_mail(),
                email,
            };
            refused(&x, "customer-forgot-title", keep, e)
        }
    }
}

async fn reset_page(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let account = st.app.portal_reset_account(&slug, &token).await;
    password_form(&x, "reset", token, account, None)
}

async fn reset(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let p = pairs(&body);
    match st
        .app
        .portal_reset_password(&slug, &token, &one(&p, "password"), &client(&auth))
        .await
    {
        Ok(a) => {
            // Whatever session this browser had is over (every session of the account is).
            let mut resp = page(
                &x,
                "customer-sign-in",
                View::SignIn { email: a.email },
                Some(Tr(x.lang).t("customer-reset-done")),
                None,
                StatusCode::OK,
            );
            resp.headers_mut()
                .append(header::SET_COOKIE, set_cookie(&st, "", 0));
            Ok(resp)
        }
        Err(e) => {
            let account = st.app.portal_reset_account(&slug, &token).await;
            password_form(&x, "reset", token, account, Some(e))
        }
    }
}

async fn signout(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    if let Some(t) = session_of(&st, &headers) {
        st.app
            .portal_sign_out(&slug, t)
            .await
            .map_err(WebError::page)?;
    }
    let mut resp = see_other(&to(&x, "signin"));
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&st, "", 0));
    Ok(resp)
}

/// The account page of the signed-in customer (else the sign-in page).
async fn account_view(
    st: &AppState,
    x: &Ctx,
    headers: &HeaderMap,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let Some(c) = customer(st, &x.slug, headers).await? else {
        return Ok(see_other(&to(x, "signin")));
    };
    let v = st
        .app
        .portal_customer_view(&c, x.lang)
        .await
        .map_err(WebError::page)?;
    Ok(page(
        x,
        "customer-account",
        View::Account(Box::new(v)),
        notice,
        error,
        status,
    ))
}

async fn account(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let notice = match q.done.as_deref() {
        Some("nda") => Some(Tr(x.lang).t("done-nda")),
        Some("request") => Some(Tr(x.lang).t("done-request")),
        _ => None,
    };
    account_view(&st, &x, &headers, notice, None, StatusCode::OK).await
}

/// Runs a signed-in customer's form; back to the account page with its outcome.
async fn with_customer<F, Fut, T>(
    st: &AppState,
    x: &Ctx,
    headers: &HeaderMap,
    done: &str,
    f: F,
) -> Result<Response, WebError>
where
    F: FnOnce(Customer) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let Some(c) = customer(st, &x.slug, headers).await? else {
        return Ok(see_other(&to(x, "signin")));
    };
    match f(c).await {
        Ok(_) => Ok(see_other(&format!("{}&done={done}", to(x, "account")))),
        Err(e) => {
            let status = status_of(&e);
            let message = customer_message(e)?;
            account_view(st, x, headers, None, Some(message), status).await
        }
    }
}

async fn accept_nda(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let p = pairs(&body);
    let version = one(&p, "version").parse::<i64>().unwrap_or(0);
    let lang = match one(&p, "language").as_str() {
        "ko" => Lang::Ko,
        _ => Lang::En,
    };
    let cl = client(&auth);
    let app = st.app.clone();
    with_customer(&st, &x, &headers, "nda", |c| async move {
        app.portal_accept_nda(&c, version, lang, &cl).await
    })
    .await
}

async fn request_access(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let p = pairs(&body);
    let documents: Vec<String> = p
        .iter()
        .filter(|(k, _)| k == "documents")
        .map(|(_, v)| v.clone())
        .collect();
    let reason = one(&p, "reason");
    let days = one(&p, "days");
    let cl = client(&auth);
    let app = st.app.clone();
    with_customer(&st, &x, &headers, "request", |c| async move {
        let days = days
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::invalid("days", "enter a number of days"))?;
        app.portal_request_access(&c, &documents, &reason, days, &cl)
            .await
    })
    .await
}

async fn link(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, document)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let Some(c) = customer(&st, &slug, &headers).await? else {
        return Ok(see_other(&to(&x, "signin")));
    };
    match st
        .app
        .portal_download_link(&c, &document, &client(&auth))
        .await
    {
        Ok(token) => Ok(see_other(&to(&x, &format!("download/{token}")))),
        Err(e) => {
            let status = status_of(&e);
            let message = customer_message(e)?;
            account_view(&st, &x, &headers, None, Some(message), status).await
        }
    }
}

async fn download(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((slug, token)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let x = ctx(&st, &slug, &q, &headers, &auth).await?;
    let c = customer(&st, &slug, &headers).await?;
    match st
        .app
        .portal_download(&slug, c.as_ref(), &token, &client(&auth))
        .await
    {
        Ok((name, bytes)) => {
            let mut resp = bytes.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            let disposition = format!(
                "attachment; filename=\"{}\"",
                name.replace(['"', '\\'], "_")
            );
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(resp)
        }
        Err(e) => refused(&x, "customer-download-title", View::Message, e),
    }
}
