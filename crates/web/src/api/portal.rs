//! The trust portal's staff side: settings, offerings with their texts in English and
//! Korean, FAQ, resources, and the publication of issued documents.

use attest_app::Permission;
use attest_app::portal::{OfferingInput, SettingsInput};
use attest_store::portal::Item;
use axum::Extension;
use axum::extract::State;
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{json, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::PortalManage), routes!(admin))
        .api(perm(Permission::PortalManage), routes!(settings))
        .api(perm(Permission::PortalManage), routes!(put_offering))
        .api(perm(Permission::PortalManage), routes!(delete_offering))
        .api(perm(Permission::PortalManage), routes!(add_faq))
        .api(perm(Permission::PortalManage), routes!(remove_faq))
        .api(perm(Permission::PortalManage), routes!(add_resource))
        .api(perm(Permission::PortalManage), routes!(remove_resource))
        .api(perm(Permission::PortalManage), routes!(publish))
        .api(perm(Permission::PortalManage), routes!(put_logo))
        .api(perm(Permission::PortalManage), routes!(delete_logo))
}

/// Sets the portal's logo: the request body is a PNG or JPEG (at most 512 KiB and 2048
/// pixels a side), checked by decoding it whole.
#[utoipa::path(put, path = "/api/v1/portal/logo", tag = "portal",
    request_body(content_type = "image/png", description = "The image (PNG or JPEG)"),
    responses((status = 200, body = Object), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_logo(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: axum::body::Body,
) -> Result<axum::Json<Value>, WebError> {
    let stream = body.into_data_stream();
    json(&st.app.set_portal_logo(&auth.caller, stream).await?)
}

/// Removes the portal's logo.
#[utoipa::path(delete, path = "/api/v1/portal/logo", tag = "portal",
    responses((status = 200, body = Object)))]
async fn delete_logo(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.remove_portal_logo(&auth.caller).await?)
}

/// Reads the `file` field of a multipart form (the staff page's logo form) and sets the logo.
pub(crate) async fn logo_upload(
    st: &AppState,
    auth: &Auth,
    mut mp: axum::extract::Multipart,
) -> Result<attest_store::portal::Settings, attest_app::AppError> {
    use futures::TryStreamExt;
    loop {
        let field = mp.next_field().await.map_err(|e| {
            attest_app::AppError::invalid(
                "logo",
                format!("the upload is malformed: {}", e.body_text()),
            )
        })?;
        let Some(field) = field else {
            return Err(attest_app::AppError::invalid(
                "logo",
                "no `logo` field: choose an image",
            ));
        };
        match field.name().unwrap_or_default() {
            "logo" => {
                let body = Box::pin(field.map_err(|e| e.body_text()));
                return st.app.set_portal_logo(&auth.caller, body).await;
            }
            "_csrf" => continue,
            other => {
                return Err(attest_app::AppError::invalid(
                    other,
                    format!("unknown field `{other}` (expected logo)"),
                ));
            }
        }
    }
}

/// The portal as staff keep it: settings, offerings, FAQ, resources, documents.
#[utoipa::path(get, path = "/api/v1/portal", tag = "portal", responses((status = 200, body = Object)))]
async fn admin(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.portal_admin(&auth.caller).await?)
}

/// Portal settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// Whether the public site answers.
    pub enabled: bool,
    /// Name, English.
    pub name_en: String,
    /// Name, Korean (empty: English).
    #[serde(default)]
    pub name_ko: String,
    /// Introduction (Markdown), English.
    #[serde(default)]
    pub intro_en: String,
    /// Korean.
    #[serde(default)]
    pub intro_ko: String,
    /// Brand colour `#rrggbb`.
    #[serde(default)]
    pub colour: String,
    /// E-mail domains whose customers' access requests are approved at once.
    #[serde(default)]
    pub auto_domains: Vec<String>,
    /// A host name of its own on which the portal also answers (`trust.example.com`; empty
    /// or left out: none). Point its DNS at Attest; TLS is the proxy's.
    #[serde(default)]
    pub host: String,
}

/// Saves the portal settings.
#[utoipa::path(put, path = "/api/v1/portal/settings", tag = "portal", request_body = SettingsBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn settings(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<SettingsBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .set_portal_settings(
                &auth.caller,
                SettingsInput {
                    enabled: b.enabled,
                    name_en: b.name_en,
                    name_ko: b.name_ko,
                    intro_en: b.intro_en,
                    intro_ko: b.intro_ko,
                    colour: b.colour,
                    auto_domains: b.auto_domains,
                    host: b.host,
                },
            )
            .await?,
    )
}

/// An offering page.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OfferingBody {
    /// Order on the home page.
    #[serde(default)]
    pub position: i64,
    /// Title, English.
    pub title_en: String,
    /// Title, Korean.
    #[serde(default)]
    pub title_ko: String,
    /// Overview (Markdown), English.
    #[serde(default)]
    pub overview_en: String,
    /// Korean.
    #[serde(default)]
    pub overview_ko: String,
    /// The organisation and this offering, English.
    #[serde(default)]
    pub relation_en: String,
    /// Korean.
    #[serde(default)]
    pub relation_ko: String,
    /// Audit cycle in the organisation's words (empty: stated from the data), English.
    #[serde(default)]
    pub cycle_en: String,
    /// Korean.
    #[serde(default)]
    pub cycle_ko: String,
    /// Engagement kinds whose issued reports it shows (`soc2-type2`, `soc3`, …).
    #[serde(default)]
    pub reports: Vec<String>,
    /// Certificate standards it shows (`iso27001-2022`).
    #[serde(default)]
    pub standards: Vec<String>,
    /// On the public site.
    #[serde(default)]
    pub published: bool,
}

pub(crate) fn offering_input(b: OfferingBody) -> OfferingInput {
    OfferingInput {
        position: b.position,
        title_en: b.title_en,
        title_ko: b.title_ko,
        overview_en: b.overview_en,
        overview_ko: b.overview_ko,
        relation_en: b.relation_en,
        relation_ko: b.relation_ko,
        cycle_en: b.cycle_en,
        cycle_ko: b.cycle_ko,
        reports: b.reports,
        standards: b.standards,
        published: b.published,
    }
}

/// Creates or changes an offering (its key is its address).
#[utoipa::path(put, path = "/api/v1/portal/offerings/{key}", tag = "portal", request_body = OfferingBody,
    params(("key" = String, Path, description = "The offering's key, e.g. iso-27001")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn put_offering(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<OfferingBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .put_offering(&auth.caller, &key, offering_input(b))
            .await?,
    )
}

/// Removes an offering with its FAQ and resources.
#[utoipa::path(delete, path = "/api/v1/portal/offerings/{key}", tag = "portal",
    params(("key" = String, Path, description = "The offering's key")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_offering(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app.delete_offering(&auth.caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A question and its answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqBody {
    /// Question, English.
    pub question_en: String,
    /// Question, Korean.
    #[serde(default)]
    pub question_ko: String,
    /// Answer (Markdown), English.
    pub answer_en: String,
    /// Answer, Korean.
    #[serde(default)]
    pub answer_ko: String,
}

/// Adds a question to an offering's FAQ.
#[utoipa::path(post, path = "/api/v1/portal/offerings/{key}/faqs", tag = "portal", request_body = FaqBody,
    params(("key" = String, Path, description = "The offering's key")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn add_faq(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<FaqBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let f = st
        .app
        .add_faq(
            &auth.caller,
            &key,
            (&b.question_en, &b.question_ko),
            (&b.answer_en, &b.answer_ko),
        )
        .await?;
    Ok((StatusCode::CREATED, json(&f)?))
}

/// Removes a question.
#[utoipa::path(delete, path = "/api/v1/portal/faqs/{faq_id}", tag = "portal",
    params(("faq_id" = String, Path, description = "Question id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn remove_faq(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app
        .remove_portal_item(&auth.caller, Item::Faq, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A link to further reading.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceBody {
    /// Title, English.
    pub title_en: String,
    /// Title, Korean.
    #[serde(default)]
    pub title_ko: String,
    /// An https address.
    pub url: String,
}

/// Adds a resource to an offering.
#[utoipa::path(post, path = "/api/v1/portal/offerings/{key}/resources", tag = "portal", request_body = ResourceBody,
    params(("key" = String, Path, description = "The offering's key")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn add_resource(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<ResourceBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let r = st
        .app
        .add_resource(&auth.caller, &key, (&b.title_en, &b.title_ko), &b.url)
        .await?;
    Ok((StatusCode::CREATED, json(&r)?))
}

/// Removes a resource.
#[utoipa::path(delete, path = "/api/v1/portal/resources/{resource_id}", tag = "portal",
    params(("resource_id" = String, Path, description = "Resource id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn remove_resource(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app
        .remove_portal_item(&auth.caller, Item::Resource, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether a document is on the portal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Published (true) or taken off (false).
    pub published: bool,
}

/// Publishes an issued engagement's document on the portal, or takes it off.
#[utoipa::path(put, path = "/api/v1/portal/documents/{document_id}", tag = "portal", request_body = PublishBody,
    params(("document_id" = String, Path, description = "Document id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn publish(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PublishBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .publish_document(&auth.caller, &id, b.published)
            .await?,
    )
}
