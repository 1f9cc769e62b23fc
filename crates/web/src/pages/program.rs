//! The program pages: frameworks, requirements, controls, coverage, crosswalks, migrations
//! and services.

use std::collections::BTreeMap;

use askama::Template;
use attest_app::control::{ControlFilter, ControlInput};
use attest_app::framework::FrameworkSummary;
use attest_app::mapping::{CrossLink, Decision, Migration};
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::control::{ControlStatus, Frequency};
use attest_domain::coverage::RequirementStatus;
use attest_domain::framework::Requirement;
use attest_domain::mapping::{Coverage, Relationship};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, PageForm, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let fw_manage = Access::Perm(Permission::FrameworkManage);
    let own = Access::Perm(Permission::ControlUpdateOwn);
    r.page(Method::GET, "/frameworks", read, frameworks)
        .page(Method::GET, "/frameworks/search", read, search)
        .body_limit(attest_app::framework::IMPORT_LIMIT * 4)
        .page(Method::POST, "/frameworks/import", fw_manage, import)
        .page(
            Method::POST,
            "/frameworks/{framework_id}/use",
            fw_manage,
            use_framework,
        )
        .page(Method::GET, "/frameworks/{framework_id}", read, framework)
        .page(
            Method::GET,
            "/frameworks/{framework_id}/requirements/{requirement_id}",
            read,
            requirement,
        )
        .page(Method::GET, "/controls", read, controls)
        .page(
            Method::POST,
            "/controls",
            Access::Perm(Permission::ControlManage),
            create_control,
        )
        .page(Method::POST, "/controls/link", own, link_from_requirement)
        .page(Method::GET, "/controls/{control_id}", read, control)
        .page(Method::POST, "/controls/{control_id}", own, update_control)
        .page(Method::POST, "/controls/{control_id}/link", own, link)
        .page(Method::POST, "/controls/{control_id}/unlink", own, unlink)
        .page(
            Method::POST,
            "/controls/{control_id}/proposals",
            own,
            decide,
        )
        .page(Method::GET, "/coverage", read, coverage)
        .page(
            Method::GET,
            "/coverage/{framework_id}",
            read,
            coverage_framework,
        )
        .page(Method::GET, "/crosswalk", read, crosswalk)
        .page(Method::POST, "/crosswalk/review", fw_manage, review)
        .page(Method::POST, "/crosswalk/add", fw_manage, add_link)
        .page(Method::GET, "/migration", read, migration)
        .page(Method::POST, "/migration/apply", fw_manage, apply_migration)
        .page(Method::GET, "/services", read, services)
        .page(
            Method::POST,
            "/services",
            Access::Perm(Permission::ServiceManage),
            create_service,
        )
        .page(
            Method::POST,
            "/services/families",
            Access::Perm(Permission::ServiceManage),
            create_family,
        )
}

fn page_err(e: AppError) -> WebError {
    WebError::page(e)
}

fn status_class(s: RequirementStatus) -> &'static str {
    match s {
        RequirementStatus::Implemented => "ok",
        RequirementStatus::Partial => "partial",
        RequirementStatus::Planned => "planned",
        RequirementStatus::NotCovered => "gap",
        RequirementStatus::NotApplicable => "",
    }
}

fn control_class(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Implemented => "ok",
        ControlStatus::Partial => "partial",
        ControlStatus::Planned => "planned",
        ControlStatus::NotApplicable => "",
    }
}

#[derive(Template)]
#[template(path = "frameworks.html")]
struct FrameworksPage {
    shell: Shell,
    frameworks: Vec<FrameworkSummary>,
    can_manage: bool,
    q: String,
    error: Option<String>,
    problems: Vec<(String, String)>,
}

async fn frameworks_view(
    st: &AppState,
    auth: &Auth,
    notice: Option<String>,
    error: Option<AppError>,
) -> Result<Response, WebError> {
    let mut shell = Shell::new(st, auth, "Frameworks", "frameworks").await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let (error, problems) = match error {
        Some(AppError::Rejected { message, problems }) => (
            Some(message),
            problems.into_iter().map(|p| (p.at, p.message)).collect(),
        ),
        Some(e) => (Some(message(e)?), Vec::new()),
        None => (None, Vec::new()),
    };
    let page = FrameworksPage {
        shell,
        frameworks: st.app.frameworks(&auth.caller).await.map_err(page_err)?,
        can_manage: auth.caller.require(Permission::FrameworkManage).is_ok(),
        q: String::new(),
        error: error.clone(),
        problems,
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn frameworks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    frameworks_view(&st, &auth, None, None).await
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    hits: Vec<attest_catalog::search::Hit>,
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    q: Option<String>,
}

async fn search(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Response, WebError> {
    let q = q.q.unwrap_or_default();
    let hits = st
        .app
        .search_requirements(&auth.caller, &q, 200)
        .await
        .map_err(page_err)?;
    Ok(render(&SearchPage {
        shell: Shell::new(&st, &auth, "Search", "frameworks").await?,
        q,
        hits,
    }))
}

async fn import(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let result = match crate::api::program::files(mp).await {
        Ok(files) => st.app.import_frameworks(&auth.caller, files).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => {
            let names: Vec<String> = done.iter().map(|f| f.name.clone()).collect();
            frameworks_view(
                &st,
                &auth,
                Some(format!("Imported: {}.", names.join(", "))),
                None,
            )
            .await
        }
        Err(e) => frameworks_view(&st, &auth, None, Some(e)).await,
    }
}

#[derive(Deserialize)]
struct UseForm {
    in_use: String,
}

async fn use_framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<UseForm>,
) -> Result<Response, WebError> {
    st.app
        .set_framework_in_use(&auth.caller, &id, f.in_use == "true")
        .await
        .map_err(page_err)?;
    Ok(see_other("/frameworks"))
}

struct Row {
    id: String,
    title: String,
    kind: String,
    depth: usize,
    assessable: bool,
    withdrawn: bool,
    status: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "framework.html")]
struct FrameworkPage {
    shell: Shell,
    id: String,
    name: String,
    publisher: String,
    version: String,
    description: String,
    in_use: bool,
    rows: Vec<Row>,
}

fn depths(reqs: &[Requirement]) -> BTreeMap<&str, usize> {
    let mut d: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reqs {
        let depth = r
            .parent
            .as_deref()
            .and_then(|p| d.get(p))
            .map_or(0, |p| p + 1);
        d.insert(&r.id, depth);
    }
    d
}

async fn framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let (f, in_use) = st
        .app
        .framework(&auth.caller, &id)
        .await
        .map_err(page_err)?;
    let statuses: BTreeMap<String, RequirementStatus> = if in_use {
        st.app
            .coverage(&auth.caller, &id)
            .await
            .map_err(page_err)?
            .requirements
            .into_iter()
            .map(|r| (r.id, r.status))
            .collect()
    } else {
        BTreeMap::new()
    };
    let depth = depths(&f.requirements);
    let rows = f
        .requirements
        .iter()
        .map(|r| Row {
            id: r.id.clone(),
            title: r.title.clone(),
            kind: r.kind.clone(),
            depth: depth.get(r.id.as_str()).copied().unwrap_or(0).min(5),
            assessable: r.assessable && !r.withdrawn,
            withdrawn: r.withdrawn,
            status: statuses.get(&r.id).map(|s| (status_class(*s), s.label())),
        })
        .collect();
    Ok(render(&FrameworkPage {
        shell: Shell::new(&st, &auth, f.name.clone(), "frameworks").await?,
        id: f.id.clone(),
        name: f.name.clone(),
        publisher: f.publisher.clone(),
        version: f.version.clone(),
        description: f.description.clone(),
        in_use,
        rows,
    }))
}

struct MappingRow {
    framework: String,
    requirement: String,
    rel: Relationship,
    provenance: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "requirement.html")]
struct RequirementPage {
    shell: Shell,
    framework_id: String,
    framework_name: String,
    req: Requirement,
    props: Vec<(String, String)>,
    controls: Vec<(String, String, String)>,
    all_controls: Vec<(String, String, String)>,
    can_link: bool,
    mappings: Vec<MappingRow>,
}

async fn requirement(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((fid, rid)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let (f, _) = st
        .app
        .framework(&auth.caller, &fid)
        .await
        .map_err(page_err)?;
    let req = f
        .requirement(&rid)
        .ok_or_else(|| page_err(AppError::NotFound("requirement")))?
        .clone();
    let linked = st
        .app
        .controls(
            &auth.caller,
            &ControlFilter {
                framework: Some(fid.clone()),
                requirement: Some(rid.clone()),
                ..ControlFilter::default()
            },
        )
        .await
        .map_err(page_err)?;
    let can_link = auth.caller.require(Permission::ControlUpdateOwn).is_ok()
        && req.assessable
        && !req.withdrawn;
    let all_controls = if can_link {
        st.app
            .controls(&auth.caller, &ControlFilter::default())
            .await
            .map_err(page_err)?
            .into_iter()
            .filter(|c| !linked.iter().any(|l| l.control.id == c.control.id))
            .filter(|c| {
                auth.caller.require(Permission::ControlManage).is_ok()
                    || c.control.owner_id == auth.caller.user
            })
            .map(|c| (c.control.id, c.control.reference, c.control.title))
            .collect()
    } else {
        Vec::new()
    };
    let mappings = st
        .app
        .requirement_mappings(&auth.caller, &fid, &rid)
        .await
        .map_err(page_err)?
        .into_iter()
        .map(|m| MappingRow {
            framework: m.framework,
            requirement: m.requirement,
            rel: m.rel,
            provenance: m.provenance,
            note: m.note,
        })
        .collect();
    Ok(render(&RequirementPage {
        shell: Shell::new(
            &st,
            &auth,
            format!("{} {}", req.id, req.title),
            "frameworks",
        )
        .await?,
        framework_id: f.id.clone(),
        framework_name: f.name.clone(),
        props: req
            .props
            .iter()
            .filter(|(k, _)| k.as_str() != "sort-id")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        controls: linked
            .into_iter()
            .map(|c| (c.control.id, c.control.reference, c.control.title))
            .collect(),
        all_controls,
        can_link,
        mappings,
        req,
    }))
}

/// The fields of the control form.
struct ControlForm {
    full: bool,
    reference: String,
    title: String,
    owner: String,
    frequency: String,
    status: String,
    services: Vec<String>,
    description: String,
}

impl ControlForm {
    fn blank() -> Self {
        Self {
            full: true,
            reference: String::new(),
            title: String::new(),
            owner: String::new(),
            frequency: "annual".into(),
            status: "planned".into(),
            services: Vec::new(),
            description: String::new(),
        }
    }
}

/// All pairs of a urlencoded form (checkbox groups repeat their name).
pub(super) fn pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of a form field (empty if absent).
pub(super) fn one(p: &[(String, String)], k: &str) -> String {
    p.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn form_of(p: &[(String, String)]) -> ControlForm {
    ControlForm {
        full: true,
        reference: one(p, "ref"),
        title: one(p, "title"),
        owner: one(p, "owner"),
        frequency: one(p, "frequency"),
        status: one(p, "status"),
        services: p
            .iter()
            .filter(|(k, _)| k == "services")
            .map(|(_, v)| v.clone())
            .collect(),
        description: one(p, "description"),
    }
}

fn input_of(f: &ControlForm) -> Result<ControlInput, AppError> {
    Ok(ControlInput {
        reference: f.reference.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        owner: match f.owner.as_str() {
            "" => None,
            o => Some(
                o.parse::<UserId>()
                    .map_err(|_| AppError::invalid("owner", "not a member"))?,
            ),
        },
        frequency: f
            .frequency
            .parse::<Frequency>()
            .map_err(|e| AppError::invalid("frequency", e.to_string()))?,
        status: f
            .status
            .parse::<ControlStatus>()
            .map_err(|e| AppError::invalid("status", e.to_string()))?,
        services: f.services.clone(),
    })
}

struct ControlRowView {
    id: String,
    reference: String,
    title: String,
    owner: String,
    frequency: &'static str,
    status: &'static str,
    status_class: &'static str,
    links: usize,
}

#[derive(Template)]
#[template(path = "controls.html")]
struct ControlsPage {
    shell: Shell,
    rows: Vec<ControlRowView>,
    members: Vec<(String, String)>,
    frameworks: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    frequencies: Vec<(&'static str, &'static str)>,
    services: Vec<(String, String)>,
    q: String,
    status: String,
    owner: String,
    framework: String,
    requirement: String,
    can_create: bool,
    form: ControlForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct ControlsQuery {
    q: Option<String>,
    status: Option<String>,
    owner: Option<String>,
    framework: Option<String>,
    requirement: Option<String>,
}

async fn member_choices(st: &AppState, auth: &Auth) -> Result<Vec<(String, String)>, WebError> {
    // Control owners may not list members: then only they themselves are offered.
    match st.app.assignable_people(&auth.caller).await {
        Ok(m) => Ok(m
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect()),
        Err(e) => Err(page_err(e)),
    }
}

async fn controls_view(
    st: &AppState,
    auth: &Auth,
    q: ControlsQuery,
    form: ControlForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let shell = Shell::new(st, auth, "Controls", "controls").await?;
    let blank = |s: &Option<String>| s.clone().unwrap_or_default();
    let filter = crate::api::program::ControlQuery {
        owner: q.owner.clone(),
        status: q.status.clone(),
        framework: q.framework.clone(),
        requirement: q.requirement.clone(),
        q: q.q.clone(),
    }
    .filter()
    .map_err(page_err)?;
    let rows = st
        .app
        .controls(&auth.caller, &filter)
        .await
        .map_err(page_err)?;
    let (_, services) = st.app.services(&auth.caller).await.map_err(page_err)?;
    let page = ControlsPage {
        shell,
        rows: rows
            .into_iter()
            .map(|r| ControlRowView {
                id: r.control.id.clone(),
                reference: r.control.reference.clone(),
                title: r.control.title.clone(),
                owner: r.owner_name.unwrap_or_default(),
                frequency: r.control.frequency.label(),
                status: r.control.status.label(),
                status_class: control_class(r.control.status),
                links: r.links,
            })
            .collect(),
        members: member_choices(st, auth).await?,
        frameworks: st
            .app
            .frameworks(&auth.caller)
            .await
            .map_err(page_err)?
            .into_iter()
            .filter(|f| f.in_use)
            .map(|f| (f.id, f.name))
            .collect(),
        statuses: ControlStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        frequencies: Frequency::ALL
            .iter()
            .map(|f| (f.as_str(), f.label()))
            .collect(),
        services: services.into_iter().map(|s| (s.id, s.name)).collect(),
        q: blank(&q.q),
        status: blank(&q.status),
        owner: blank(&q.owner),
        framework: blank(&q.framework),
        requirement: blank(&q.requirement),
        can_create: auth.caller.require(Permission::ControlManage).is_ok(),
        form,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn controls(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<ControlsQuery>,
) -> Result<Response, WebError> {
    controls_view(&st, &auth, q, ControlForm::blank(), None).await
}

async fn create_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let form = form_of(&p);
    match input_of(&form) {
        Ok(input) => match st.app.create_control(&auth.caller, input).await {
            Ok(c) => Ok(see_other(&format!("/controls/{}", c.id))),
            Err(e) => {
                controls_view(
                    &st,
                    &auth,
                    ControlsQuery::default(),
                    form,
                    Some(message(e)?),
                )
                .await
            }
        },
        Err(e) => {
            controls_view(
                &st,
                &auth,
                ControlsQuery::default(),
                form,
                Some(message(e)?),
            )
            .await
        }
    }
}

struct LinkRow {
    framework: String,
    framework_name: String,
    requirement: String,
    title: String,
    full: bool,
    origin: String,
    via: String,
    created_by: String,
}

struct ProposalRow {
    framework: String,
    framework_name: String,
    requirement: String,
    title: String,
    full: bool,
    from: String,
    rel: Relationship,
    provenance: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "control.html")]
struct ControlPage {
    shell: Shell,
    id: String,
    status_label: &'static str,
    status_class: &'static str,
    frequency_label: &'static str,
    owner_name: String,
    links: Vec<LinkRow>,
    proposals: Vec<ProposalRow>,
    frameworks: Vec<(String, String)>,
    frameworks_in_use: usize,
    can_edit: bool,
    members: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    frequencies: Vec<(&'static str, &'static str)>,
    services: Vec<(String, String)>,
    form: ControlForm,
    error: Option<String>,
}

async fn control_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    notice: Option<&str>,
    error: Option<String>,
    form: Option<ControlForm>,
) -> Result<Response, WebError> {
    let v = st.app.control(&auth.caller, id).await.map_err(page_err)?;
    let mut shell = Shell::new(
        st,
        auth,
        format!("{} {}", v.control.reference, v.control.title),
        "controls",
    )
    .await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let manager = auth.caller.require(Permission::ControlManage).is_ok();
    let can_edit = manager
        || (auth.caller.require(Permission::ControlUpdateOwn).is_ok()
            && v.control.owner_id.is_some()
            && v.control.owner_id == auth.caller.user);
    let (_, all_services) = st.app.services(&auth.caller).await.map_err(page_err)?;
    let in_use: Vec<(String, String)> = st
        .app
        .frameworks(&auth.caller)
        .await
        .map_err(page_err)?
        .into_iter()
        .filter(|f| f.in_use)
        .map(|f| (f.id, f.name))
        .collect();
    let form = form.unwrap_or_else(|| ControlForm {
        full: manager,
        reference: v.control.reference.clone(),
        title: v.control.title.clone(),
        owner: v
            .control
            .owner_id
            .map(|o| o.to_string())
            .unwrap_or_default(),
        frequency: v.control.frequency.as_str().into(),
        status: v.control.status.as_str().into(),
        services: v.services.iter().map(|s| s.id.clone()).collect(),
        description: v.control.description.clone(),
    });
    let page = ControlPage {
        shell,
        id: v.control.id.clone(),
        status_label: v.control.status.label(),
        status_class: control_class(v.control.status),
        frequency_label: v.control.frequency.label(),
        owner_name: v.owner_name.clone().unwrap_or_else(|| "nobody yet".into()),
        links: v
            .links
            .into_iter()
            .map(|l| LinkRow {
                framework: l.framework,
                framework_name: l.framework_name,
                requirement: l.requirement,
                title: l.title,
                full: l.coverage == Coverage::Full,
                origin: l.origin,
                via: l.via,
                created_by: l.created_by,
            })
            .collect(),
        proposals: v
            .proposals
            .into_iter()
            .map(|p| ProposalRow {
                framework: p.framework,
                framework_name: p.framework_name,
                requirement: p.requirement,
                title: p.title,
                full: p.coverage == Coverage::Full,
                from: p.from,
                rel: p.rel,
                provenance: p.provenance,
                note: p.note,
            })
            .collect(),
        frameworks_in_use: in_use.len(),
        frameworks: in_use,
        can_edit,
        members: member_choices(st, auth).await?,
        statuses: ControlStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        frequencies: Frequency::ALL
            .iter()
            .map(|f| (f.as_str(), f.label()))
            .collect(),
        services: all_services.into_iter().map(|s| (s.id, s.name)).collect(),
        form,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    control_view(&st, &auth, &id, None, None, None).await
}

async fn update_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let mut form = form_of(&p);
    if auth.caller.require(Permission::ControlManage).is_err() {
        // A control owner's form shows the other fields read-only; keep them as they are.
        let current = st.app.control(&auth.caller, &id).await.map_err(page_err)?;
        form.full = false;
        form.reference = current.control.reference;
        form.title = current.control.title;
        form.owner = current
            .control
            .owner_id
            .map(|o| o.to_string())
            .unwrap_or_default();
        form.frequency = current.control.frequency.as_str().into();
        form.services = current.services.into_iter().map(|s| s.id).collect();
    }
    let result = match input_of(&form) {
        Ok(input) => st
            .app
            .update_control(&auth.caller, &id, input)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => control_view(&st, &auth, &id, Some("Saved."), None, None).await,
        Err(e) => control_view(&st, &auth, &id, None, Some(message(e)?), Some(form)).await,
    }
}

#[derive(Deserialize)]
struct LinkForm {
    framework: String,
    requirement: String,
}

async fn link(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<LinkForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .link_control(&auth.caller, &id, &f.framework, f.requirement.trim())
        .await
    {
        Ok(()) => {
            control_view(
                &st,
                &auth,
                &id,
                Some("Linked. The mappings may now propose links for your other frameworks."),
                None,
                None,
            )
            .await
        }
        Err(e) => control_view(&st, &auth, &id, None, Some(message(e)?), None).await,
    }
}

#[derive(Deserialize)]
struct RequirementLinkForm {
    control: String,
    framework: String,
    requirement: String,
}

async fn link_from_requirement(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<RequirementLinkForm>,
) -> Result<Response, WebError> {
    st.app
        .link_control(&auth.caller, &f.control, &f.framework, &f.requirement)
        .await
        .map_err(page_err)?;
    Ok(see_other(&format!(
        "/frameworks/{}/requirements/{}",
        f.framework, f.requirement
    )))
}

async fn unlink(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<LinkForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .unlink_control(&auth.caller, &id, &f.framework, &f.requirement)
        .await
    {
        Ok(()) => control_view(&st, &auth, &id, Some("Unlinked."), None, None).await,
        Err(e) => control_view(&st, &auth, &id, None, Some(message(e)?), None).await,
    }
}

#[derive(Deserialize)]
struct DecideForm {
    framework: String,
    requirement: String,
    accept: String,
}

async fn decide(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<DecideForm>,
) -> Result<Response, WebError> {
    let accept = f.accept == "true";
    match st
        .app
        .decide_proposal(&auth.caller, &id, &f.framework, &f.requirement, accept)
        .await
    {
        Ok(()) => {
            control_view(
                &st,
                &auth,
                &id,
                Some(if accept {
                    "Proposal accepted: linked."
                } else {
                    "Proposal rejected: it will not be proposed again."
                }),
                None,
                None,
            )
            .await
        }
        Err(e) => control_view(&st, &auth, &id, None, Some(message(e)?), None).await,
    }
}

struct Segment {
    class: &'static str,
    x: usize,
    width: usize,
    label: &'static str,
    count: usize,
}

struct Bar {
    id: String,
    name: String,
    percent: u32,
    summary: String,
    segments: Vec<Segment>,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    shell: Shell,
    bars: Vec<Bar>,
    freshness: bool,
}

fn bar_class(s: RequirementStatus) -> &'static str {
    match s {
        RequirementStatus::Implemented => "bar-ok",
        RequirementStatus::Partial => "bar-partial",
        RequirementStatus::Planned => "bar-planned",
        RequirementStatus::NotCovered => "bar-gap",
        RequirementStatus::NotApplicable => "bar-na",
    }
}

pub(crate) fn summary_text(counts: &BTreeMap<RequirementStatus, usize>) -> String {
    RequirementStatus::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                counts.get(s).copied().unwrap_or(0),
                s.label().to_lowercase()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn coverage(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    let all = st
        .app
        .coverage_overview(&auth.caller)
        .await
        .map_err(page_err)?;
    let bars = all
        .into_iter()
        .map(|c| {
            let total: usize = c.counts.values().sum();
            let mut x = 0;
            let mut segments = Vec::new();
            for s in RequirementStatus::ALL {
                let n = c.counts.get(&s).copied().unwrap_or(0);
                if n == 0 || total == 0 {
                    continue;
                }
                let width = n * 1000 / total;
                segments.push(Segment {
                    class: bar_class(s),
                    x,
                    width,
                    label: s.label(),
                    count: n,
                });
                x += width;
            }
            Bar {
                percent: c.percent_implemented(),
                summary: summary_text(&c.counts),
                id: c.framework.id,
                name: c.framework.name,
                segments,
            }
        })
        .collect();
    Ok(render(&CoveragePage {
        shell: Shell::new(&st, &auth, "Coverage", "coverage").await?,
        bars,
        freshness: st.app.judges_freshness(),
    }))
}

struct CoverageRow {
    id: String,
    title: String,
    class: &'static str,
    label: &'static str,
    reasons: Vec<String>,
    controls: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "coverage_framework.html")]
struct CoverageFrameworkPage {
    shell: Shell,
    id: String,
    name: String,
    summary: String,
    statuses: Vec<(&'static str, &'static str)>,
    status: String,
    rows: Vec<CoverageRow>,
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    status: Option<String>,
}

async fn coverage_framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<Response, WebError> {
    let c = st.app.coverage(&auth.caller, &id).await.map_err(page_err)?;
    let status = q.status.unwrap_or_default();
    let rows = c
        .requirements
        .into_iter()
        .filter(|r| status.is_empty() || r.status.as_str() == status)
        .map(|r| CoverageRow {
            class: status_class(r.status),
            label: r.status.label(),
            id: r.id,
            title: r.title,
            reasons: r.reasons,
            controls: r.controls,
        })
        .collect();
    Ok(render(&CoverageFrameworkPage {
        shell: Shell::new(
            &st,
            &auth,
            format!("Coverage: {}", c.framework.name),
            "coverage",
        )
        .await?,
        summary: summary_text(&c.counts),
        id: c.framework.id,
        name: c.framework.name,
        statuses: RequirementStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        status,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "crosswalk.html")]
struct CrosswalkPage {
    shell: Shell,
    frameworks: Vec<(String, String)>,
    from: String,
    to: String,
    shown: bool,
    direct: bool,
    links: Vec<CrossLink>,
    matrix_cols: Vec<String>,
    matrix_rows: Vec<(String, Vec<usize>)>,
    relationships: Vec<&'static str>,
    can_review: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct PairQuery {
    from: Option<String>,
    to: Option<String>,
}

/// Groups a requirement id for the matrix: the top-level heading it sits under.
fn group_of(f: &attest_domain::framework::Framework, id: &str) -> String {
    let mut cur = f.requirement(id);
    let mut last = id.to_owned();
    while let Some(r) = cur {
        last = r.id.clone();
        cur = r.parent.as_deref().and_then(|p| f.requirement(p));
    }
    last
}

async fn crosswalk_view(
    st: &AppState,
    auth: &Auth,
    from: String,
    to: String,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let mut shell = Shell::new(st, auth, "Crosswalk", "crosswalk").await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let frameworks: Vec<(String, String)> = st
        .app
        .frameworks(&auth.caller)
        .await
        .map_err(page_err)?
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect();
    let shown = !from.is_empty() && !to.is_empty();
    let (mut direct, mut links, mut matrix_cols, mut matrix_rows, mut error) =
        (false, Vec::new(), Vec::new(), Vec::new(), error);
    if shown {
        match st.app.crosswalk(&auth.caller, &from, &to).await {
            Ok(w) => {
                let (fa, _) = st
                    .app
                    .framework(&auth.caller, &from)
                    .await
                    .map_err(page_err)?;
                let (fb, _) = st
                    .app
                    .framework(&auth.caller, &to)
                    .await
                    .map_err(page_err)?;
                let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
                for l in &w.links {
                    *counts
                        .entry((group_of(&fa, &l.source), group_of(&fb, &l.target)))
                        .or_default() += 1;
                }
                let rows: Vec<String> = fa
                    .requirements
                    .iter()
                    .filter(|r| r.parent.is_none())
                    .map(|r| r.id.clone())
                    .collect();
                let cols: Vec<String> = fb
                    .requirements
                    .iter()
                    .filter(|r| r.parent.is_none())
                    .map(|r| r.id.clone())
                    .collect();
                matrix_rows = rows
                    .iter()
                    .map(|r| {
                        (
                            r.clone(),
                            cols.iter()
                                .map(|c| counts.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                                .collect(),
                        )
                    })
                    .collect();
                matrix_cols = cols;
                direct = w.direct;
                links = w.links;
            }
            Err(e) => error = Some(message(e)?),
        }
    }
    Ok(render(&CrosswalkPage {
        shell,
        frameworks,
        from,
        to,
        shown,
        direct,
        links,
        matrix_cols,
        matrix_rows,
        relationships: Relationship::ALL.iter().map(|r| r.as_str()).collect(),
        can_review: auth.caller.require(Permission::FrameworkManage).is_ok(),
        error,
    }))
}

async fn crosswalk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<PairQuery>,
) -> Result<Response, WebError> {
    crosswalk_view(
        &st,
        &auth,
        q.from.unwrap_or_default(),
        q.to.unwrap_or_default(),
        None,
        None,
    )
    .await
}

#[derive(Deserialize)]
struct ReviewForm {
    from: String,
    to: String,
    source: String,
    target: String,
    decision: String,
    relationship: Option<String>,
}

async fn review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<ReviewForm>,
) -> Result<Response, WebError> {
    let decision = if f.decision == "confirm" {
        Decision::Confirm
    } else {
        Decision::Reject
    };
    let rel = f
        .relationship
        .as_deref()
        .filter(|r| !r.is_empty())
        .and_then(|r| r.parse::<Relationship>().ok());
    match st
        .app
        .review_mapping(
            &auth.caller,
            &f.from,
            &f.source,
            &f.to,
            &f.target,
            decision,
            rel,
            "",
        )
        .await
    {
        Ok(()) => crosswalk_view(&st, &auth, f.from, f.to, Some("Review recorded."), None).await,
        Err(e) => crosswalk_view(&st, &auth, f.from, f.to, None, Some(message(e)?)).await,
    }
}

#[derive(Deserialize)]
struct AddForm {
    from: String,
    to: String,
    source: String,
    target: String,
    relationship: String,
    note: Option<String>,
}

async fn add_link(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<AddForm>,
) -> Result<Response, WebError> {
    let result = match f.relationship.parse::<Relationship>() {
        Ok(rel) => {
            st.app
                .add_mapping(
                    &auth.caller,
                    &f.from,
                    f.source.trim(),
                    &f.to,
                    f.target.trim(),
                    rel,
                    f.note.as_deref().unwrap_or(""),
                )
                .await
        }
        Err(e) => Err(AppError::invalid("relationship", e.to_string())),
    };
    match result {
        Ok(()) => crosswalk_view(&st, &auth, f.from, f.to, Some("Link added."), None).await,
        Err(e) => crosswalk_view(&st, &auth, f.from, f.to, None, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "migration.html")]
struct MigrationPage {
    shell: Shell,
    m: Migration,
    can_apply: bool,
}

async fn migration(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<PairQuery>,
) -> Result<Response, WebError> {
    let from = q.from.unwrap_or_else(|| "iso27001-2013".into());
    let to = q.to.unwrap_or_else(|| "iso27001-2022".into());
    let m = st
        .app
        .migration(&auth.caller, &from, &to)
        .await
        .map_err(page_err)?;
    Ok(render(&MigrationPage {
        shell: Shell::new(&st, &auth, "Migration", "frameworks").await?,
        m,
        can_apply: auth.caller.require(Permission::FrameworkManage).is_ok(),
    }))
}

#[derive(Deserialize)]
struct PairForm {
    from: String,
    to: String,
}

async fn apply_migration(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<PairForm>,
) -> Result<Response, WebError> {
    let n = st
        .app
        .apply_migration(&auth.caller, &f.from, &f.to)
        .await
        .map_err(page_err)?;
    let m = st
        .app
        .migration(&auth.caller, &f.from, &f.to)
        .await
        .map_err(page_err)?;
    let shell = Shell::new(&st, &auth, "Migration", "frameworks")
        .await?
        .notice(
            "ok",
            format!("{n} links carried over; {} is now in use.", f.to),
        );
    Ok(render(&MigrationPage {
        shell,
        m,
        can_apply: true,
    }))
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    shell: Shell,
    groups: Vec<(String, Vec<(String, String)>)>,
    families: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn services_view(
    st: &AppState,
    auth: &Auth,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let mut shell = Shell::new(st, auth, "Services", "services").await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let (families, services) = st.app.services(&auth.caller).await.map_err(page_err)?;
    let mut groups: Vec<(String, Vec<(String, String)>)> = families
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                services
                    .iter()
                    .filter(|s| s.family_id.as_deref() == Some(&f.id))
                    .map(|s| (s.name.clone(), s.description.clone()))
                    .collect(),
            )
        })
        .collect();
    let loose: Vec<(String, String)> = services
        .iter()
        .filter(|s| s.family_id.is_none())
        .map(|s| (s.name.clone(), s.description.clone()))
        .collect();
    if !loose.is_empty() || groups.is_empty() {
        groups.push(("Not in a product family".into(), loose));
    }
    let page = ServicesPage {
        shell,
        groups,
        families: families.into_iter().map(|f| (f.id, f.name)).collect(),
        can_manage: auth.caller.require(Permission::ServiceManage).is_ok(),
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn services(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    services_view(&st, &auth, None, None).await
}

#[derive(Deserialize)]
struct ServiceForm {
    name: String,
    description: Option<String>,
    family: Option<String>,
}

async fn create_service(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<ServiceForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .create_service(
            &auth.caller,
            &f.name,
            f.description.as_deref().unwrap_or(""),
            f.family.as_deref().filter(|s| !s.is_empty()),
        )
        .await
    {
        Ok(_) => services_view(&st, &auth, Some("Service added."), None).await,
        Err(e) => services_view(&st, &auth, None, Some(message(e)?)).await,
    }
}

async fn create_family(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<ServiceForm>,
) -> Result<Response, WebError> {
    match st
        .app
        .create_family(
            &auth.caller,
            &f.name,
            f.description.as_deref().unwrap_or(""),
        )
        .await
    {
        Ok(_) => services_view(&st, &auth, Some("Product family added."), None).await,
        Err(e) => services_view(&st, &auth, None, Some(message(e)?)).await,
    }
}
