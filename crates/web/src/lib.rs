//! Attest's HTTP layer: thin axum handlers over the application's use cases. The JSON API
//! lives under `/api/v1` (OpenAPI at `/api/openapi.json`), the staff UI and the sign-in
//! pages are server-rendered, and every route passes through the [`routes`] registry.

pub mod api;
mod assets;
pub mod auth;
pub mod error;
mod hosts;
pub mod i18n;
pub mod pages;
pub mod routes;
mod security;

use std::net::SocketAddr;
use std::time::Duration;

use attest_app::App;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{error_page, json_error};
use crate::routes::{Registry, RouteSpec};

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address people reach Attest at.
    pub public_url: String,
    /// Mark cookies `Secure` and send HSTS (Attest is reached over TLS).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (Attest is behind a proxy).
    pub trust_proxy: bool,
    /// Largest request body for ordinary requests, in bytes.
    pub body_limit: usize,
}

impl WebConfig {
    /// The scheme and host of the public URL (`https://attest.example.com`).
    pub fn public_origin(&self) -> String {
        url::Url::parse(&self.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            trust_proxy: false,
            body_limit: 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// HTTP settings.
    pub web: std::sync::Arc<WebConfig>,
}

/// Every route, registered with its access rule.
pub fn registry(state: AppState) -> Registry {
    let r = Registry::new(state);
    let r = api::register(r);
    pages::register(r)
}

/// The complete router: routes, OpenAPI document, fallbacks and the middleware stack.
pub fn router(state: AppState) -> (Router, Vec<RouteSpec>) {
    router_with(state, |r| r)
}

/// The router with extra routes added to the registry (tests add deliberately broken ones).
pub fn router_with(
    state: AppState,
    extend: impl FnOnce(Registry) -> Registry,
) -> (Router, Vec<RouteSpec>) {
    let (routes, openapi, specs) = extend(registry(state.clone())).finish();
    let openapi = api::document(openapi);
    let router = routes
        .route("/api/openapi.json", axum::routing::get(move || async move { axum::Json(openapi) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.web.body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(CatchPanicLayer::custom(|_| json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error", None)))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state.clone());
    // Outside the routes, so that a portal's own host name is mapped before routing.
    let router =
        Router::new()
            .fallback_service(router)
            .layer(axum::middleware::from_fn_with_state(
                state,
                hosts::portal_hosts,
            ));
    (router, specs)
}

async fn not_found(req: axum::extract::Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        json_error(StatusCode::NOT_FOUND, "not_found", "no such endpoint", None)
    } else {
        error_page(StatusCode::NOT_FOUND, "There is no page at this address.")
    }
}

async fn method_not_allowed(req: axum::extract::Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not accept that method",
            None,
        )
    } else {
        error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "This page does not accept that kind of request.",
        )
    }
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let (router, _) = router(state);
    serve_router(listener, router).await
}

/// Serves a router built by [`router_with`].
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
    // Requests still running after this long are cut off.
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        std::process::exit(0);
    });
}

/// Health check: the process answers.
pub(crate) async fn healthz() -> impl IntoResponse {
    "ok"
}

/// Readiness: the database answers.
pub(crate) async fn readyz(axum::extract::State(st): axum::extract::State<AppState>) -> Response {
    match st.app.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// A file download: never rendered inline, never sniffed.
pub(crate) fn download(content_type: &str, filename: &str, bytes: Vec<u8>) -> Response {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(http::header::CONTENT_DISPOSITION, v);
    }
    resp
}
