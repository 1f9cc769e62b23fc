//! The JSON API under `/api/v1`, documented by OpenAPI 3.1 generated from the handlers.

pub(crate) mod audit;
pub(crate) mod engagement;
pub(crate) mod evidence;
pub(crate) mod identity;
pub(crate) mod internal_audit;
mod isms;
pub(crate) mod nonconformity;
pub(crate) mod objective;
mod org;
mod policy;
pub(crate) mod portal;
pub(crate) mod portal_customers;
pub(crate) mod program;
pub(crate) mod risk;
mod soa;
pub(crate) mod workspace;

use attest_app::Permission;
use http::Method;
use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};

use crate::error::Kind;
use crate::routes::{Access, Registry};

/// Registers every API route.
pub fn register(r: Registry) -> Registry {
    let r = r
        .raw(
            Method::GET,
            "/healthz",
            Access::Public,
            Kind::Api,
            crate::healthz,
        )
        .raw(
            Method::GET,
            "/readyz",
            Access::Public,
            Kind::Api,
            crate::readyz,
        );
    let r = org::register(r);
    let r = audit::register(r);
    let r = program::register(r);
    let r = evidence::register(r);
    let r = risk::register(r);
    let r = isms::register(r);
    let r = nonconformity::register(r);
    let r = soa::register(r);
    let r = policy::register(r);
    let r = objective::register(r);
    let r = internal_audit::register(r);
    let r = engagement::register(r);
    let r = workspace::register(r);
    let r = portal::register(r);
    let r = portal_customers::register(r);
    identity::register(r)
}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (`attest_…`) created in Account → API tokens; scoped to one organisation and a role."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "attest_session",
                "A browser session (`__Host-attest_session` over TLS). Requests that change anything must also send the session's CSRF token in the X-CSRF-Token header.",
            ))),
        );
        let req = |name: &str| {
            utoipa::openapi::security::SecurityRequirement::new(name, Vec::<String>::new())
        };
        api.security = Some(vec![req("api_token"), req("session")]);
    }
}

/// The final OpenAPI document: title, version, auth schemes.
pub fn document(mut api: OpenApi) -> OpenApi {
    api.info = InfoBuilder::new()
        .title("Attest API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The compliance program of a service organisation: ISMS, SOC reports, controls, evidence and the trust portal. \
             Errors always have the shape {\"error\": {\"code\", \"message\", \"field\"?}}.",
        ))
        .build();
    Security.modify(&mut api);
    api
}

/// Shorthand used by the resource modules.
/// A use case's result as a JSON body.
pub(crate) fn json<T: serde::Serialize>(
    v: &T,
) -> Result<axum::Json<serde_json::Value>, crate::error::WebError> {
    serde_json::to_value(v)
        .map(axum::Json)
        .map_err(|e| attest_app::AppError::Internal(e.to_string()).into())
}

/// A text form parsed, or refused naming `field` with the type's own message.
pub(crate) fn parse<T: std::str::FromStr>(field: &str, s: &str) -> Result<T, attest_app::AppError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| attest_app::AppError::invalid(field, e.to_string()))
}

pub(crate) fn perm(p: Permission) -> Access {
    Access::Perm(p)
}
