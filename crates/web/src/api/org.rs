//! The organisation and its settings.

use attest_app::Permission;
use attest_app::identity::session::OrgSettings;
use attest_app::org::OrgView;
use axum::Extension;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use utoipa_axum::routes;

use super::perm;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(get_organisation))
        .api(perm(Permission::OrgManage), routes!(update_organisation))
        .api(perm(Permission::OrgManage), routes!(get_sso))
        .api(perm(Permission::OrgManage), routes!(put_sso))
}

/// Single sign-on settings (the client secret is never shown).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoDto {
    /// Issuer URL (https; http only on this machine).
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret: write-only; omit or leave empty to keep the stored one.
    #[serde(default, skip_serializing)]
    pub client_secret: String,
    /// Role of accounts created at first sign-in.
    pub default_role: String,
    /// The ID token claim that lists groups.
    pub group_claim: Option<String>,
    /// Group → role.
    #[serde(default)]
    pub group_roles: std::collections::BTreeMap<String, String>,
    /// Offer single sign-on.
    pub enabled: bool,
    /// Require it of everyone but owners.
    pub required: bool,
    /// The redirect URI to register at the identity provider (read-only).
    #[serde(default)]
    pub redirect_uri: String,
}

/// The organisation's single sign-on settings (owners).
#[utoipa::path(get, path = "/api/v1/sso", tag = "organisation",
    responses((status = 200, body = SsoDto), (status = 404, body = ErrorBody)))]
async fn get_sso(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<SsoDto>, WebError> {
    let s = st
        .app
        .sso_settings(&auth.caller)
        .await?
        .ok_or(attest_app::AppError::NotFound("single sign-on settings"))?;
    Ok(axum::Json(SsoDto {
        issuer: s.issuer,
        client_id: s.client_id,
        client_secret: String::new(),
        default_role: s.default_role,
        group_claim: s.group_claim,
        group_roles: s.group_roles,
        enabled: s.enabled,
        required: s.required,
        redirect_uri: st.app.sso_redirect(),
    }))
}

/// Sets the organisation's single sign-on (owners); the provider must answer discovery.
#[utoipa::path(put, path = "/api/v1/sso", tag = "organisation", request_body = SsoDto,
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn put_sso(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<SsoDto>,
) -> Result<http::StatusCode, WebError> {
    let settings = attest_app::identity::sso::SsoSettings {
        issuer: b.issuer,
        client_id: b.client_id,
        client_secret: b.client_secret,
        default_role: b.default_role,
        group_claim: b.group_claim,
        group_roles: b.group_roles,
        enabled: b.enabled,
        required: b.required,
    };
    st.app.configure_sso(&auth.caller, settings).await?;
    Ok(http::StatusCode::NO_CONTENT)
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationDto {
    /// Id.
    pub id: String,
    /// Short name used in the trust portal's address.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Every staff member must use a second factor.
    pub mfa_required: bool,
}

impl From<OrgView> for OrganisationDto {
    fn from(v: OrgView) -> Self {
        Self {
            id: v.org.id.to_string(),
            slug: v.org.slug.to_string(),
            name: v.org.name,
            created_at: v.org.created_at.to_rfc3339(),
            mfa_required: v.settings.mfa_required,
        }
    }
}

/// Changes to the organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationUpdate {
    /// New name.
    pub name: Option<String>,
    /// Require a second factor from every staff member.
    pub mfa_required: Option<bool>,
}

/// The organisation the caller acts in.
#[utoipa::path(get, path = "/api/v1/organisation", tag = "organisation",
    responses((status = 200, body = OrganisationDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn get_organisation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<OrganisationDto>, WebError> {
    Ok(axum::Json(st.app.organisation(&auth.caller).await?.into()))
}

/// Renames the organisation or changes its settings (owners).
#[utoipa::path(patch, path = "/api/v1/organisation", tag = "organisation", request_body = OrganisationUpdate,
    responses((status = 200, body = OrganisationDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_organisation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(body): ApiJson<OrganisationUpdate>,
) -> Result<axum::Json<OrganisationDto>, WebError> {
    let current = st.app.organisation(&auth.caller).await?;
    let settings = OrgSettings {
        mfa_required: body.mfa_required.unwrap_or(current.settings.mfa_required),
    };
    let name = body.name.unwrap_or(current.org.name);
    Ok(axum::Json(
        st.app
            .update_organisation(&auth.caller, &name, settings)
            .await?
            .into(),
    ))
}
