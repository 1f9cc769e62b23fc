//! Portals on host names of their own: a request whose `Host` is a name an organisation set
//! for its trust portal is answered by that portal only. `/` is its home, `/iso-27001` an
//! offering (`/trust/{slug}/…` addresses, which the pages link to, work as they are), the
//! UI's assets are shared, and nothing else (no staff page, no API, no other organisation's
//! portal) answers there. Attest's own address, `localhost` and IP addresses never reach the
//! database; any other name is looked up there on each request, so every node agrees at once
//! when staff change it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{StatusCode, Uri};

use crate::AppState;
use crate::error::error_page;

/// The host a request was sent to: lower case, without port; none for an IP address or a
/// name that is not one.
fn host_of(req: &Request) -> Option<String> {
    let raw = req
        .headers()
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))?;
    if raw.starts_with('[') {
        return None;
    }
    let name = raw.rsplit_once(':').map_or(raw, |(h, _)| h);
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name == "localhost" || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return None;
    }
    Some(name)
}

/// Where a path on a portal's own host goes: its address under `/trust/{slug}`, the same
/// path when it already is one or is a shared asset, none when it is another portal's.
fn rewrite(slug: &str, path: &str) -> Option<String> {
    let base = format!("/trust/{slug}");
    if path.starts_with("/assets/")
        || path == base
        || path.strip_prefix(&base).is_some_and(|r| r.starts_with('/'))
    {
        return Some(path.to_owned());
    }
    if path == "/trust" || path.starts_with("/trust/") {
        return None;
    }
    Some(if path == "/" {
        base
    } else {
        format!("{base}{path}")
    })
}

/// Sends requests for a portal's own host name to that portal.
pub async fn portal_hosts(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(host) = host_of(&req) else {
        return next.run(req).await;
    };
    if host.eq_ignore_ascii_case(attest_app::portal_brand::url_host(&st.web.public_url)) {
        return next.run(req).await;
    }
    let slug = match st.app.portal_slug_for_host(&host).await {
        Ok(Some(slug)) => slug,
        Ok(None) => return next.run(req).await,
        Err(e) => {
            tracing::error!(error = %e, host, "looking up a portal host name failed");
            let mut resp = error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The trust portal is not available at the moment.",
            );
            crate::security::apply(&mut resp, st.web.secure_cookies);
            return resp;
        }
    };
    let Some(path) = rewrite(&slug, req.uri().path()) else {
        let mut resp = error_page(StatusCode::NOT_FOUND, "There is no page at this address.");
        crate::security::apply(&mut resp, st.web.secure_cookies);
        return resp;
    };
    let target = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    match target.parse::<Uri>() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => {
            let mut resp = error_page(StatusCode::BAD_REQUEST, "This address is malformed.");
            crate::security::apply(&mut resp, st.web.secure_cookies);
            return resp;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_a_portal_host_stay_in_that_portal() {
        assert_eq!(rewrite("acme", "/").as_deref(), Some("/trust/acme"));
        assert_eq!(
            rewrite("acme", "/soc-2").as_deref(),
            Some("/trust/acme/soc-2")
        );
        assert_eq!(
            rewrite("acme", "/trust/acme").as_deref(),
            Some("/trust/acme")
        );
        assert_eq!(
            rewrite("acme", "/trust/acme/account").as_deref(),
            Some("/trust/acme/account")
        );
        assert_eq!(
            rewrite("acme", "/assets/app.1.css").as_deref(),
            Some("/assets/app.1.css")
        );
        assert_eq!(rewrite("acme", "/trust/other"), None);
        assert_eq!(rewrite("acme", "/trust/acmecorp/soc-2"), None);
        assert_eq!(rewrite("acme", "/trust"), None);
        assert_eq!(
            rewrite("acme", "/api/v1/portal").as_deref(),
            Some("/trust/acme/api/v1/portal")
        );
    }
}
