//! The route registry: every route of Attest is registered here with the access it needs,
//! and one middleware enforces it before any handler or body extractor runs. A route cannot
//! be added without saying who may reach it, and the registry is what the route-enumeration
//! test walks, so new routes are covered by that test automatically.

use attest_app::Permission;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodFilter, MethodRouter};
use http::Method;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::AppState;
use crate::auth::{self, Auth, Credentials};
use crate::error::{Kind, WebError};

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in pages, health checks, assets, the trust portal).
    Public,
    /// A browser session that has passed its password and waits for its second factor.
    MfaStep,
    /// A signed-in person changing their own password (also allowed while a change is due).
    PasswordChange,
    /// A signed-in person enrolling a second factor (also while their organisation requires
    /// one they have not set up yet).
    MfaSetup,
    /// Any fully signed-in staff member, whatever their role: their own account and sessions.
    SignedIn,
    /// A signed-in staff member whose role grants the permission.
    Perm(Permission),
}

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path template, e.g. `/api/v1/members/{user_id}`.
    pub path: String,
    /// Who may reach it.
    pub access: Access,
    /// JSON API or HTML page.
    pub kind: Kind,
}

/// Collects routes with their access rules; builds the router and the OpenAPI document.
pub struct Registry {
    api: OpenApiRouter<AppState>,
    specs: Vec<RouteSpec>,
    state: AppState,
    next_limit: Option<usize>,
}

fn filter_of(m: &Method) -> MethodFilter {
    match *m {
        Method::GET => MethodFilter::GET,
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        _ => MethodFilter::HEAD,
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(state: AppState) -> Self {
        Self {
            api: OpenApiRouter::new(),
            specs: Vec::new(),
            state,
            next_limit: None,
        }
    }

    /// Lets the next route registered accept bodies up to `bytes` (uploads).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.next_limit = Some(bytes);
        self
    }

    fn guard(
        &mut self,
        access: Access,
        kind: Kind,
        mr: MethodRouter<AppState>,
    ) -> MethodRouter<AppState> {
        let mr = match self.next_limit.take() {
            Some(limit) => mr.layer(axum::extract::DefaultBodyLimit::max(limit)),
            None => mr,
        };
        mr.layer(middleware::from_fn_with_state(
            self.state.clone(),
            move |st: State<AppState>, req: Request, next: Next| gate(access, kind, st, req, next),
        ))
    }

    /// Adds a JSON API operation documented with `#[utoipa::path]` (via `routes!`).
    pub fn api(
        mut self,
        access: Access,
        (schemas, paths, mr): UtoipaMethodRouter<AppState>,
    ) -> Self {
        for (path, item) in &paths.paths {
            for (method, present) in [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ] {
                if present {
                    self.specs.push(RouteSpec {
                        method,
                        path: path.clone(),
                        access,
                        kind: Kind::Api,
                    });
                }
            }
        }
        let mr = self.guard(access, Kind::Api, mr);
        self.api = self.api.routes((schemas, paths, mr));
        self
    }

    /// Adds an HTML page (or form target).
    pub fn page<H, T>(mut self, method: Method, path: &str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let mr = self.guard(
            access,
            Kind::Page,
            axum::routing::on(filter_of(&method), handler),
        );
        self.specs.push(RouteSpec {
            method,
            path: path.to_owned(),
            access,
            kind: Kind::Page,
        });
        self.api = self.api.route(path, mr);
        self
    }

    /// Adds an undocumented JSON or file route (downloads, the OpenAPI document itself).
    pub fn raw<H, T>(
        mut self,
        method: Method,
        path: &str,
        access: Access,
        kind: Kind,
        handler: H,
    ) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let mr = self.guard(access, kind, axum::routing::on(filter_of(&method), handler));
        self.specs.push(RouteSpec {
            method,
            path: path.to_owned(),
            access,
            kind,
        });
        self.api = self.api.route(path, mr);
        self
    }

    /// Every registered route.
    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The router (still needing its state) and the OpenAPI document.
    pub fn finish(
        self,
    ) -> (
        axum::Router<AppState>,
        utoipa::openapi::OpenApi,
        Vec<RouteSpec>,
    ) {
        let (router, api) = self.api.split_for_parts();
        (router, api, self.specs)
    }
}

/// Enforces a route's access rule, then runs the handler with the caller in the request's
/// extensions. The only place the web layer decides who may pass.
async fn gate(
    access: Access,
    kind: Kind,
    State(st): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let credentials = auth::credentials(&req, &st);
    let info = auth::RequestInfo::of(&req, &st);
    let resolved = match auth::resolve(&st, &credentials, info).await {
        Ok(a) => a,
        Err(e) => return WebError::new(kind, e).into_response(),
    };
    let (auth, set_csrf_cookie) = resolved;
    // Who may pass is decided first, so an anonymous request is told to sign in (401) and
    // a too-small role is refused (403) whatever else is wrong with the request.
    if let Some(r) = refusal(access, kind, &auth, &req) {
        return r;
    }
    if let Err(e) = auth::check_csrf(&st, &auth, &mut req).await {
        return WebError::new(kind, e).into_response();
    }
    req.extensions_mut().insert(auth.clone());
    let mut resp = next.run(req).await;
    if let Some(cookie) = set_csrf_cookie.filter(|_| kind == Kind::Page) {
        resp.headers_mut().append(http::header::SET_COOKIE, cookie);
    }
    if matches!(credentials, Credentials::Session(_))
        && auth.session.is_none()
        && !auth::is_sign_in_response(&resp)
    {
        // The cookie named a session that no longer exists: clear it.
        resp.headers_mut()
            .append(http::header::SET_COOKIE, auth::clear_session_cookie(&st));
    }
    resp
}

fn sign_in_redirect(req: &Request) -> Response {
    let next = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!(
        "/login?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    Redirect::to(&target).into_response()
}

/// The refusal for a request the route's rule does not let through, or `None` to pass.
fn refusal(access: Access, kind: Kind, auth: &Auth, req: &Request) -> Option<Response> {
    use attest_app::identity::session::SessionState as S;
    if access == Access::Public {
        return None;
    }
    let error = |e: attest_app::AppError| Some(WebError::new(kind, e).into_response());
    let state = match (&auth.session, &auth.caller.via) {
        (Some(s), _) => s.state,
        (None, attest_app::authz::Via::Token(_)) => S::Active,
        _ => {
            return match kind {
                Kind::Page => Some(sign_in_redirect(req)),
                Kind::Api => error(attest_app::AppError::Unauthenticated(
                    "sign in or send an API token".into(),
                )),
            };
        }
    };
    // A half-finished sign-in may only finish itself.
    let step_page = match state {
        S::Active => None,
        S::MfaPending => Some("/login/mfa"),
        S::PasswordChangeRequired => Some("/account/password"),
        S::MfaEnrolmentRequired => Some("/account/mfa"),
    };
    let permitted_here = match access {
        Access::Public => true,
        Access::MfaStep => state == S::MfaPending,
        Access::PasswordChange => matches!(state, S::Active | S::PasswordChangeRequired),
        Access::MfaSetup => matches!(state, S::Active | S::MfaEnrolmentRequired),
        Access::SignedIn | Access::Perm(_) => state == S::Active,
    };
    if !permitted_here {
        return match (kind, step_page) {
            (Kind::Page, Some(p)) => Some(Redirect::to(p).into_response()),
            (_, Some(_)) => error(attest_app::AppError::Unauthenticated(
                "finish signing in first".into(),
            )),
            (_, None) => error(attest_app::AppError::Forbidden(
                "this step is not open to you".into(),
            )),
        };
    }
    match access {
        Access::Perm(p) => auth.caller.require(p).err().and_then(error),
        _ => None,
    }
}
