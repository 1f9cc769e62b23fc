//! The evidence pages: the list with filters and upload, an item with its versions, preview,
//! legal hold and disposal, and what is overdue or due.

use askama::Template;
use attest_app::evidence::{ControlFreshness, EvidenceQuery, EvidenceView};
use attest_app::{AppError, Permission};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;

use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::evidence::{date, user_id};
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, PageForm, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let own = Access::Perm(Permission::ControlUpdateOwn);
    r.page(Method::GET, "/evidence", read, list)
        .body_limit(usize::MAX)
        .page(Method::POST, "/evidence/upload", own, upload)
        .page(Method::GET, "/evidence/due", read, due)
        .page(Method::GET, "/evidence/{evidence_id}", read, item)
        .page(
            Method::GET,
            "/evidence/{evidence_id}/preview",
            read,
            preview,
        )
        .body_limit(usize::MAX)
        .page(
            Method::POST,
            "/evidence/{evidence_id}/versions",
            own,
            new_version,
        )
        .page(
            Method::POST,
            "/evidence/{evidence_id}/legal-hold",
            Access::Perm(Permission::EvidenceHold),
            legal_hold,
        )
        .page(
            Method::POST,
            "/evidence/{evidence_id}/dispose",
            Access::Perm(Permission::EvidenceDispose),
            dispose,
        )
}

/// An evidence row as listed.
struct Row {
    id: String,
    title: String,
    kind: &'static str,
    version: i64,
    from: String,
    until: String,
    collected: String,
    size: String,
}

fn size_text(n: Option<i64>) -> String {
    match n {
        None => String::new(),
        Some(n) if n < 1024 => format!("{n} B"),
        Some(n) if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        Some(n) if n < 1024 * 1024 * 1024 => format!("{:.1} MiB", n as f64 / 1048576.0),
        Some(n) => format!("{:.2} GiB", n as f64 / 1073741824.0),
    }
}

fn row(e: &EvidenceView) -> Row {
    Row {
        id: e.id.clone(),
        title: e.title.clone(),
        kind: e.kind.label(),
        version: e.version,
        from: e.effective_from.to_string(),
        until: e
            .effective_until
            .map(|d| d.to_string())
            .unwrap_or_else(|| "one window".into()),
        collected: e.collected_on.to_string(),
        size: size_text(e.size),
    }
}

#[derive(Template)]
#[template(path = "evidence.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Row>,
    controls: Vec<(String, String)>,
    members: Vec<(String, String)>,
    control: String,
    owner: String,
    framework: String,
    requirement: String,
    on: String,
    q: String,
    next: Option<String>,
    can_upload: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    control: Option<String>,
    owner: Option<String>,
    framework: Option<String>,
    requirement: Option<String>,
    on: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

async fn list_view(
    st: &AppState,
    auth: &Auth,
    q: ListQuery,
    error: Option<String>,
) -> Result<Response, WebError> {
    let shell = Shell::new(st, auth, "Evidence", "evidence").await?;
    let blank = |s: &Option<String>| s.clone().unwrap_or_default();
    let mut error = error;
    let mut query = EvidenceQuery {
        control: q.control.clone().filter(|s| !s.is_empty()),
        q: q.q.clone().filter(|s| !s.is_empty()),
        cursor: q.cursor.clone().filter(|s| !s.is_empty()),
        ..EvidenceQuery::default()
    };
    match (
        q.framework.as_deref().unwrap_or_default(),
        q.requirement.as_deref().unwrap_or_default(),
    ) {
        ("", "") => {}
        (f, r) if !f.is_empty() && !r.is_empty() => {
            query.requirement = Some((f.to_owned(), r.trim().to_owned()))
        }
        _ => error = Some("Give both a framework and a requirement.".into()),
    }
    match user_id("owner", q.owner.as_deref()) {
        Ok(u) => query.owner = u,
        Err(e) => error = Some(e.to_string()),
    }
    match date("on", q.on.as_deref()) {
        Ok(d) => query.effective_on = d,
        Err(e) => error = Some(e.to_string()),
    }
    let page = match st.app.list_evidence(&auth.caller, query).await {
        Ok(p) => p,
        Err(e) => {
            error = Some(message(e)?);
            attest_app::evidence::EvidencePage {
                items: Vec::new(),
                next: None,
            }
        }
    };
    let controls = st
        .app
        .controls(&auth.caller, &attest_app::control::ControlFilter::default())
        .await
        .map_err(WebError::page)?
        .into_iter()
        .map(|c| {
            (
                c.control.id.clone(),
                format!("{} {}", c.control.reference, c.control.title),
            )
        })
        .collect();
    let members = st
        .app
        .assignable_people(&auth.caller)
        .await
        .map_err(WebError::page)?
        .into_iter()
        .map(|(id, n)| (id.to_string(), n))
        .collect();
    let next = page.next.map(|n| {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("control", &q.control),
            ("owner", &q.owner),
            ("framework", &q.framework),
            ("requirement", &q.requirement),
            ("on", &q.on),
            ("q", &q.q),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                u.append_pair(k, v);
            }
        }
        u.append_pair("cursor", &n);
        format!("/evidence?{}", u.finish())
    });
    let view = ListPage {
        shell,
        rows: page.items.iter().map(row).collect(),
        controls,
        members,
        control: blank(&q.control),
        owner: blank(&q.owner),
        framework: blank(&q.framework),
        requirement: blank(&q.requirement),
        on: blank(&q.on),
        q: blank(&q.q),
        next,
        can_upload: auth.caller.require(Permission::ControlUpdateOwn).is_ok(),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
    } else {
        render(&view)
    })
}

async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, WebError> {
    list_view(&st, &auth, q, None).await
}

/// A browser upload without script: the form posts here and lands on the new item.
async fn upload(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: Multipart,
) -> Result<Response, WebError> {
    match crate::api::evidence::upload(&st, &auth, mp, None).await {
        Ok(e) => Ok(see_other(&format!("/evidence/{}?notice=added", e.id))),
        Err(e) => list_view(&st, &auth, ListQuery::default(), Some(message(e)?)).await,
    }
}

async fn new_version(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    match crate::api::evidence::upload(&st, &auth, mp, Some(&id)).await {
        Ok(e) => Ok(see_other(&format!("/evidence/{}?notice=corrected", e.id))),
        Err(e) => item_view(&st, &auth, &id, None, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "evidence_item.html")]
struct ItemPage {
    shell: Shell,
    e: EvidenceView,
    kind: &'static str,
    source: &'static str,
    size: String,
    controls: Vec<(String, String, String)>,
    versions: Vec<Row>,
    current: bool,
    preview: &'static str,
    text: Option<String>,
    record: Option<String>,
    can_correct: bool,
    can_hold: bool,
    can_dispose: bool,
    error: Option<String>,
}

/// How an item can be shown on its page: image, pdf, text or nothing.
fn preview_kind(e: &EvidenceView) -> &'static str {
    match e.content_type.as_deref() {
        _ if e.disposed_at.is_some() => "",
        Some("image/png" | "image/jpeg" | "image/gif" | "image/webp") => "image",
        Some("application/pdf") => "pdf",
        Some("text/plain") if e.size.unwrap_or(0) <= 256 * 1024 => "text",
        _ => "",
    }
}

async fn item_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let d = st
        .app
        .evidence(&auth.caller, id)
        .await
        .map_err(WebError::page)?;
    let preview = preview_kind(&d.evidence);
    let text = if preview == "text" {
        match st.app.evidence_file(&auth.caller, id).await {
            Ok((_, _, _, stream)) => {
                use futures::TryStreamExt;
                let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap_or_default();
                Some(String::from_utf8_lossy(&chunks.concat()).into_owned())
            }
            Err(_) => None,
        }
    } else {
        None
    };
    let record = d
        .evidence
        .record
        .as_ref()
        .and_then(|r| serde_json::to_string_pretty(r).ok());
    let current = d.evidence.superseded_by.is_none() && d.evidence.disposed_at.is_none();
    let view = ItemPage {
        shell: Shell::new(st, auth, d.evidence.title.clone(), "evidence")
            .await?
            .notice_code(
                notice,
                &[
                    ("added", "Evidence added."),
                    (
                        "corrected",
                        "New version added; the earlier one stays as it was.",
                    ),
                    ("held", "Legal hold changed."),
                    (
                        "disposed",
                        "Disposed of: the files are deleted, this record stays.",
                    ),
                ],
            ),
        kind: d.evidence.kind.label(),
        source: d.evidence.source.label(),
        size: size_text(d.evidence.size),
        controls: d.controls,
        versions: d.versions.iter().map(row).collect(),
        current,
        preview,
        text,
        record,
        can_correct: current && auth.caller.require(Permission::ControlUpdateOwn).is_ok(),
        can_hold: d.evidence.disposed_at.is_none()
            && auth.caller.require(Permission::EvidenceHold).is_ok(),
        can_dispose: d.evidence.disposed_at.is_none()
            && auth.caller.require(Permission::EvidenceDispose).is_ok(),
        e: d.evidence,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
    } else {
        render(&view)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Notice {
    notice: Option<String>,
}

async fn item(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<Notice>,
) -> Result<Response, WebError> {
    item_view(&st, &auth, &id, q.notice.as_deref(), None).await
}

/// Images and PDFs shown on the item's page: inline, only for those types, sandboxed, and
/// frameable by Attest's own pages only.
async fn preview(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let d = st
        .app
        .evidence(&auth.caller, &id)
        .await
        .map_err(WebError::page)?;
    let kind = preview_kind(&d.evidence);
    if kind != "image" && kind != "pdf" {
        return Err(WebError::page(AppError::NotFound("preview")));
    }
    let (_, content_type, size, stream) = st
        .app
        .evidence_file(&auth.caller, &id)
        .await
        .map_err(WebError::page)?;
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'self'"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct HoldForm {
    on: String,
    reason: String,
}

async fn legal_hold(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<HoldForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .set_legal_hold(&auth.caller, &id, f.on == "true", &f.reason)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/evidence/{id}?notice=held"))),
        Err(e) => item_view(&st, &auth, &id, None, Some(message(e)?)).await,
    }
}

#[derive(Deserialize)]
struct DisposeForm {
    reason: String,
}

async fn dispose(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<DisposeForm>,
) -> Result<Response, WebError> {
    match st.app.dispose_evidence(&auth.caller, &id, &f.reason).await {
        Ok(()) => Ok(see_other(&format!("/evidence/{id}?notice=disposed"))),
        Err(e) => item_view(&st, &auth, &id, None, Some(message(e)?)).await,
    }
}

struct DueRow {
    id: String,
    reference: String,
    title: String,
    owner: String,
    frequency: &'static str,
    when: String,
}

#[derive(Template)]
#[template(path = "evidence_due.html")]
struct DuePage {
    shell: Shell,
    overdue: Vec<DueRow>,
    due: Vec<DueRow>,
    members: Vec<(String, String)>,
    owner: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DueQuery {
    owner: Option<String>,
}

async fn due(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<DueQuery>,
) -> Result<Response, WebError> {
    let owner = user_id("owner", q.owner.as_deref()).map_err(WebError::page)?;
    let members: Vec<(String, String)> = st
        .app
        .assignable_people(&auth.caller)
        .await
        .map_err(WebError::page)?
        .into_iter()
        .map(|(id, n)| (id.to_string(), n))
        .collect();
    let name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|i| members.iter().find(|m| &m.0 == i))
            .map(|m| m.1.clone())
            .unwrap_or_else(|| "nobody".into())
    };
    let to_row = |c: &ControlFreshness, when: String| DueRow {
        id: c.control_id.clone(),
        reference: c.control_ref.clone(),
        title: c.title.clone(),
        owner: name(&c.owner_id),
        frequency: c.frequency.label(),
        when,
    };
    let overdue = st
        .app
        .overdue_controls(&auth.caller, owner)
        .await
        .map_err(WebError::page)?
        .iter()
        .map(|c| {
            let when = match c.date {
                Some(d) => format!("overdue since {d}"),
                None => "no evidence yet".into(),
            };
            to_row(c, when)
        })
        .collect();
    let due = st
        .app
        .evidence_due(&auth.caller, 30)
        .await
        .map_err(WebError::page)?
        .iter()
        .filter(|c| owner.is_none() || c.owner_id == owner.map(|o| o.to_string()))
        .map(|c| {
            let when = c
                .date
                .map(|d| format!("covered until {d}"))
                .unwrap_or_default();
            to_row(c, when)
        })
        .collect();
    Ok(render(&DuePage {
        shell: Shell::new(&st, &auth, "Evidence due", "evidence").await?,
        overdue,
        due,
        owner: q.owner.unwrap_or_default(),
        members,
    }))
}
