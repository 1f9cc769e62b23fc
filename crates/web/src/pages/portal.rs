//! The trust portal's staff page: settings, offerings with their English and Korean texts,
//! FAQ and resources, and which issued documents are published.

use askama::Template;
use attest_app::portal::{OfferingInput, PortalAdmin, SettingsInput};
use attest_app::{AppError, Permission};
use attest_domain::engagement::EngagementKind;
use attest_store::portal::Item;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiPath, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let manage = Access::Perm(Permission::PortalManage);
    r.page(Method::GET, "/portal", manage, show)
        .page(Method::POST, "/portal/settings", manage, settings)
        .page(Method::GET, "/portal/logo", manage, show_logo)
        .page(Method::POST, "/portal/logo", manage, logo)
        .page(Method::POST, "/portal/logo/remove", manage, remove_logo)
        .page(Method::POST, "/portal/offerings", manage, offering)
        .page(
            Method::POST,
            "/portal/offerings/{key}/delete",
            manage,
            delete_offering,
        )
        .page(Method::POST, "/portal/offerings/{key}/faqs", manage, faq)
        .page(
            Method::POST,
            "/portal/offerings/{key}/resources",
            manage,
            resource,
        )
        .page(
            Method::POST,
            "/portal/faqs/{faq_id}/remove",
            manage,
            remove_faq,
        )
        .page(
            Method::POST,
            "/portal/resources/{resource_id}/remove",
            manage,
            remove_resource,
        )
        .page(
            Method::POST,
            "/portal/documents/{document_id}",
            manage,
            publish,
        )
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    shell: Shell,
    a: PortalAdmin,
    kinds: Vec<(&'static str, &'static str)>,
    standards: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

async fn view(st: &AppState, auth: &Auth, error: Option<String>) -> Result<Response, WebError> {
    let a = st
        .app
        .portal_admin(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let page = PortalPage {
        shell: Shell::new(st, auth, "Trust portal", "portal").await?,
        a,
        kinds: EngagementKind::ALL
            .iter()
            .filter(|k| k.is_soc() || **k == EngagementKind::Pentest)
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        standards: vec![
            ("iso27001-2022", "ISO/IEC 27001:2022"),
            ("iso27001-2013", "ISO/IEC 27001:2013"),
        ],
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn back<T>(st: &AppState, auth: &Auth, r: Result<T, AppError>) -> Result<Response, WebError> {
    match r {
        Ok(_) => Ok(see_other("/portal")),
        Err(e) => view(st, auth, Some(message(e)?)).await,
    }
}

async fn show(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    view(&st, &auth, None).await
}

async fn settings(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .set_portal_settings(
            &auth.caller,
            SettingsInput {
                enabled: one(&p, "enabled") == "on",
                name_en: one(&p, "name_en"),
                name_ko: one(&p, "name_ko"),
                intro_en: one(&p, "intro_en"),
                intro_ko: one(&p, "intro_ko"),
                colour: one(&p, "colour"),
                auto_domains: one(&p, "auto_domains")
                    .split([',', ' ', '\n'])
                    .map(str::to_owned)
                    .collect(),
                host: one(&p, "host"),
            },
        )
        .await;
    back(&st, &auth, r).await
}

async fn show_logo(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    let l = st
        .app
        .staff_portal_logo(&auth.caller)
        .await
        .map_err(WebError::page)?;
    Ok(crate::pages::trust::logo_response(l, false))
}

async fn logo(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let r = crate::api::portal::logo_upload(&st, &auth, mp).await;
    back(&st, &auth, r).await
}

async fn remove_logo(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    let r = st.app.remove_portal_logo(&auth.caller).await;
    back(&st, &auth, r).await
}

fn all(p: &[(String, String)], k: &str) -> Vec<String> {
    p.iter()
        .filter(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
        .collect()
}

async fn offering(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = match one(&p, "position").trim() {
        "" => Ok(0),
        n => n
            .parse::<i64>()
            .map_err(|_| AppError::invalid("position", "give a whole number")),
    };
    let r = match r {
        Ok(position) => {
            st.app
                .put_offering(
                    &auth.caller,
                    one(&p, "key").trim(),
                    OfferingInput {
                        position,
                        title_en: one(&p, "title_en"),
                        title_ko: one(&p, "title_ko"),
                        overview_en: one(&p, "overview_en"),
                        overview_ko: one(&p, "overview_ko"),
                        relation_en: one(&p, "relation_en"),
                        relation_ko: one(&p, "relation_ko"),
                        cycle_en: one(&p, "cycle_en"),
                        cycle_ko: one(&p, "cycle_ko"),
                        reports: all(&p, "reports"),
                        standards: all(&p, "standards"),
                        published: one(&p, "published") == "on",
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    back(&st, &auth, r).await
}

async fn delete_offering(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st.app.delete_offering(&auth.caller, &key).await;
    back(&st, &auth, r).await
}

async fn faq(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .add_faq(
            &auth.caller,
            &key,
            (&one(&p, "question_en"), &one(&p, "question_ko")),
            (&one(&p, "answer_en"), &one(&p, "answer_ko")),
        )
        .await;
    back(&st, &auth, r).await
}

async fn resource(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(key): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .add_resource(
            &auth.caller,
            &key,
            (&one(&p, "title_en"), &one(&p, "title_ko")),
            &one(&p, "url"),
        )
        .await;
    back(&st, &auth, r).await
}

async fn remove_faq(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st
        .app
        .remove_portal_item(&auth.caller, Item::Faq, &id)
        .await;
    back(&st, &auth, r).await
}

async fn remove_resource(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st
        .app
        .remove_portal_item(&auth.caller, Item::Resource, &id)
        .await;
    back(&st, &auth, r).await
}

async fn publish(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let r = st
        .app
        .publish_document(&auth.caller, &id, one(&p, "published") == "1")
        .await;
    back(&st, &auth, r).await
}
