//! Turning a request's credentials (session cookie or bearer token) into a caller, and CSRF
//! protection for every state-changing request that a browser could be tricked into sending.

use attest_app::identity::session::{Resolved, SessionState};
use attest_app::{AppError, AppResult, Caller, secret};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, ORIGIN, USER_AGENT};
use http::{HeaderValue, Method};
use std::net::SocketAddr;

use crate::AppState;

/// The session cookie's name (with the `__Host-` prefix when served over TLS).
pub fn session_cookie_name(st: &AppState) -> &'static str {
    if st.web.secure_cookies {
        "__Host-attest_session"
    } else {
        "attest_session"
    }
}

fn csrf_cookie_name(st: &AppState) -> &'static str {
    if st.web.secure_cookies {
        "__Host-attest_csrf"
    } else {
        "attest_csrf"
    }
}

/// The credentials a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing.
    None,
    /// A session cookie.
    Session(String),
    /// An API token.
    Bearer(String),
}

/// A cookie's value from the request.
pub fn cookie<'a>(req: &'a http::request::Parts, name: &str) -> Option<&'a str> {
    cookie_in(req.headers.get_all(COOKIE).iter(), name)
}

pub(crate) fn cookie_in<'a>(
    headers: impl Iterator<Item = &'a HeaderValue>,
    name: &str,
) -> Option<&'a str> {
    headers
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Which credentials the request carries (a bearer token wins over a cookie).
pub fn credentials(req: &Request, st: &AppState) -> Credentials {
    if let Some(v) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Credentials::Bearer(t.trim().to_owned());
    }
    match cookie_in(
        req.headers().get_all(COOKIE).iter(),
        session_cookie_name(st),
    ) {
        Some(v) if !v.is_empty() => Credentials::Session(v.to_owned()),
        _ => Credentials::None,
    }
}

/// The session part of [`Auth`].
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Where the session stands.
    pub state: SessionState,
    /// The signed-in user's name.
    pub display_name: String,
    /// The signed-in user's e-mail.
    pub email: String,
    /// The session's id hash.
    pub id_hash: String,
}

/// Who is asking, as the handlers see it.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The caller for use cases.
    pub caller: Caller,
    /// The session, for browser requests.
    pub session: Option<SessionInfo>,
    /// The CSRF token forms on the page must carry.
    pub csrf: String,
    /// Whether the CSRF token came from the request (a cookie or the session) rather than
    /// being made for this response.
    csrf_known: bool,
}

impl Auth {
    /// Whether someone is fully signed in.
    pub fn signed_in(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.state == SessionState::Active)
            || matches!(self.caller.via, attest_app::authz::Via::Token(_))
    }
}

/// The client's address: the socket's peer, or the first `X-Forwarded-For` hop when Attest
/// runs behind a trusted proxy.
pub fn client_ip(req: &Request, st: &AppState) -> Option<String> {
    if st.web.trust_proxy
        && let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return Some(first.trim().to_owned());
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// What resolving a caller needs from the request, copied out of it.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// Client address.
    pub ip: Option<String>,
    /// User agent (first 300 characters).
    pub user_agent: Option<String>,
    /// The pre-sign-in CSRF cookie, if any.
    pub csrf_cookie: Option<String>,
}

impl RequestInfo {
    /// Copies what is needed out of a request.
    pub fn of(req: &Request, st: &AppState) -> Self {
        Self {
            ip: client_ip(req, st),
            user_agent: req
                .headers()
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(300).collect()),
            csrf_cookie: cookie_in(req.headers().get_all(COOKIE).iter(), csrf_cookie_name(st))
                .map(str::to_owned),
        }
    }
}

/// Resolves the caller. Also returns a `Set-Cookie` for a fresh CSRF cookie when an
/// anonymous browser had none.
pub async fn resolve(
    st: &AppState,
    creds: &Credentials,
    info: RequestInfo,
) -> AppResult<(Auth, Option<HeaderValue>)> {
    let RequestInfo {
        ip,
        user_agent: ua,
        csrf_cookie,
    } = info;
    match creds {
        Credentials::Bearer(t) => {
            let caller = st.app.resolve_token(t, ip, ua).await?;
            Ok((
                Auth {
                    caller,
                    session: None,
                    csrf: String::new(),
                    csrf_known: true,
                },
                None,
            ))
        }
        Credentials::Session(token) => match st
            .app
            .resolve_session(token, ip.clone(), ua.clone())
            .await?
        {
            Some(Resolved {
                caller,
                session,
                user,
                state,
            }) => Ok((
                Auth {
                    caller,
                    csrf: session.csrf_token.clone(),
                    session: Some(SessionInfo {
                        state,
                        display_name: user.display_name,
                        email: user.email,
                        id_hash: session.id_hash,
                    }),
                    csrf_known: true,
                },
                None,
            )),
            None => Ok(anonymous(st, csrf_cookie.as_deref(), ip, ua)),
        },
        Credentials::None => Ok(anonymous(st, csrf_cookie.as_deref(), ip, ua)),
    }
}

fn anonymous(
    st: &AppState,
    csrf_cookie: Option<&str>,
    ip: Option<String>,
    ua: Option<String>,
) -> (Auth, Option<HeaderValue>) {
    let existing = csrf_cookie.filter(|v| {
        v.len() == 43
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let (csrf, set, known) = match existing {
        Some(v) => (v.to_owned(), None, true),
        None => {
            let t = secret::token();
            let cookie = format!(
                "{}={t}; Path=/; HttpOnly; SameSite=Lax{}",
                csrf_cookie_name(st),
                if st.web.secure_cookies {
                    "; Secure"
                } else {
                    ""
                }
            );
            (t, HeaderValue::from_str(&cookie).ok(), false)
        }
    };
    (
        Auth {
            caller: Caller::anonymous(ip, ua),
            session: None,
            csrf,
            csrf_known: known,
        },
        set,
    )
}

/// The `Set-Cookie` that opens a session.
pub fn session_cookie(st: &AppState, token: &str) -> HeaderValue {
    let max_age = st.app.config().session_absolute.whole_seconds();
    let v = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        session_cookie_name(st),
        if st.web.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(st: &AppState) -> HeaderValue {
    let v = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        session_cookie_name(st),
        if st.web.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a response sets a new session (so the stale-cookie cleanup must not undo it).
pub fn is_sign_in_response(resp: &Response) -> bool {
    resp.headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|s| s.contains("attest_session=") && !s.contains("Max-Age=0"))
        })
}

const FORM_LIMIT: usize = 1024 * 1024;

/// Refuses a state-changing request from a browser that does not carry the CSRF token of
/// its session (or of its pre-sign-in cookie), or that comes from another origin. API calls
/// authenticated by a bearer token are not exposed to CSRF and need no token.
pub async fn check_csrf(st: &AppState, auth: &Auth, req: &mut Request) -> AppResult<()> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if matches!(auth.caller.via, attest_app::authz::Via::Token(_)) {
        return Ok(());
    }
    let refuse = |why: &str| AppError::Forbidden(format!("{why}: reload the page and try again"));
    if let Some(origin) = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok())
        && origin != "null"
    {
        let host = req
            .headers()
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let same = origin.split_once("://").map(|(_, h)| h) == Some(host)
            || st.web.public_origin() == origin;
        if !same {
            st.app
                .record_refusal(
                    &auth.caller,
                    "security.csrf_refused",
                    serde_json::json!({"reason": "cross-origin", "origin": origin}),
                )
                .await?;
            return Err(refuse("this request came from another site"));
        }
    }
    let provided = if let Some(h) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        Some(h.to_owned())
    } else {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if ct.starts_with("application/x-www-form-urlencoded") {
            let body = std::mem::replace(req.body_mut(), Body::empty());
            let bytes = axum::body::to_bytes(body, FORM_LIMIT)
                .await
                .map_err(|_| AppError::TooLarge("the form is larger than 1 MiB".into()))?;
            let token = url::form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == "_csrf")
                .map(|(_, v)| v.into_owned());
            *req.body_mut() = Body::from(bytes);
            token
        } else if ct.starts_with("multipart/form-data") {
            req.uri().query().and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "_csrf")
                    .map(|(_, v)| v.into_owned())
            })
        } else {
            None
        }
    };
    let ok = auth.csrf_known
        && provided
            .as_deref()
            .is_some_and(|p| secret::constant_time_eq(p, &auth.csrf));
    if !ok {
        st.app
            .record_refusal(
                &auth.caller,
                "security.csrf_refused",
                serde_json::json!({
                    "reason": if provided.is_some() { "token mismatch" } else { "token missing" },
                    "method": req.method().as_str(),
                    "path": req.uri().path(),
                }),
            )
            .await?;
        return Err(refuse(
            "the form is out of date or its security token is missing",
        ));
    }
    Ok(())
}
