//! The compliance program: frameworks (catalogs, import, export, use), requirements search,
//! controls and their links, proposals, coverage, crosswalks, migrations, services.

use std::collections::BTreeMap;

use attest_app::control::{ControlFilter, ControlInput, ControlView, Proposal};
use attest_app::coverage::FrameworkCoverage;
use attest_app::framework::{FrameworkSummary, ImportFile};
use attest_app::mapping::{Crosswalk, Decision, Migration};
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::control::{ControlStatus, Frequency};
use attest_domain::framework::Requirement;
use attest_domain::mapping::Relationship;
use attest_store::control::Control;
use axum::Extension;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::perm;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(list_frameworks))
        .api(perm(Permission::ProgramRead), routes!(get_framework))
        .api(perm(Permission::FrameworkManage), routes!(use_framework))
        .api(perm(Permission::ProgramRead), routes!(export_framework))
        .body_limit(attest_app::framework::IMPORT_LIMIT * 4)
        .api(
            perm(Permission::FrameworkManage),
            routes!(import_frameworks),
        )
        .api(perm(Permission::ProgramRead), routes!(search_requirements))
        .api(perm(Permission::ProgramRead), routes!(list_controls))
        .api(perm(Permission::ControlManage), routes!(create_control))
        .api(perm(Permission::ProgramRead), routes!(get_control))
        .api(perm(Permission::ControlUpdateOwn), routes!(update_control))
        .api(perm(Permission::ControlUpdateOwn), routes!(link_control))
        .api(perm(Permission::ControlUpdateOwn), routes!(unlink_control))
        .api(perm(Permission::ControlUpdateOwn), routes!(decide_proposal))
        .api(perm(Permission::ProgramRead), routes!(coverage_overview))
        .api(perm(Permission::ProgramRead), routes!(coverage))
        .api(perm(Permission::ProgramRead), routes!(crosswalk))
        .api(perm(Permission::FrameworkManage), routes!(review_mapping))
        .api(perm(Permission::FrameworkManage), routes!(add_mapping))
        .api(perm(Permission::ProgramRead), routes!(migration))
        .api(perm(Permission::FrameworkManage), routes!(apply_migration))
        .api(perm(Permission::ProgramRead), routes!(list_services))
        .api(perm(Permission::ServiceManage), routes!(create_service))
        .api(perm(Permission::ServiceManage), routes!(create_family))
}

/// A framework as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkDto {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Publisher.
    pub publisher: String,
    /// Description.
    pub description: String,
    /// Shipped with Attest.
    pub built_in: bool,
    /// For a baseline: the catalog it selects from.
    pub profile_of: Option<String>,
    /// Requirements coverage is judged on.
    pub requirement_count: usize,
    /// The organisation uses it.
    pub in_use: bool,
}

impl From<FrameworkSummary> for FrameworkDto {
    fn from(s: FrameworkSummary) -> Self {
        Self {
            id: s.id,
            name: s.name,
            version: s.version,
            publisher: s.publisher,
            description: s.description,
            built_in: s.built_in,
            profile_of: s.profile_of,
            requirement_count: s.requirements,
            in_use: s.in_use,
        }
    }
}

/// A requirement.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementDto {
    /// Id.
    pub id: String,
    /// Parent id.
    pub parent: Option<String>,
    /// Kind (`clause`, `control`, `criterion`, …).
    pub kind: String,
    /// Title.
    pub title: String,
    /// Text.
    pub text: Option<String>,
    /// Properties.
    pub props: BTreeMap<String, String>,
    /// Withdrawn by its publisher.
    pub withdrawn: bool,
    /// Coverage is judged on it.
    pub assessable: bool,
}

impl From<&Requirement> for RequirementDto {
    fn from(r: &Requirement) -> Self {
        Self {
            id: r.id.clone(),
            parent: r.parent.clone(),
            kind: r.kind.clone(),
            title: r.title.clone(),
            text: r.text.clone(),
            props: r.props.clone(),
            withdrawn: r.withdrawn,
            assessable: r.assessable,
        }
    }
}

/// A framework with its requirements.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkDetailDto {
    /// The framework.
    #[serde(flatten)]
    pub framework: FrameworkDto,
    /// Every requirement, parents first.
    pub requirements: Vec<RequirementDto>,
}

/// Every framework, built in and imported, with whether the organisation uses it.
#[utoipa::path(get, path = "/api/v1/frameworks", tag = "frameworks", responses((status = 200, body = Vec<FrameworkDto>)))]
async fn list_frameworks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Vec<FrameworkDto>>, WebError> {
    Ok(axum::Json(
        st.app
            .frameworks(&auth.caller)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A framework with its requirements.
#[utoipa::path(get, path = "/api/v1/frameworks/{framework_id}", tag = "frameworks",
    params(("framework_id" = String, Path, description = "Framework id, e.g. iso27001-2022")),
    responses((status = 200, body = FrameworkDetailDto), (status = 404, body = ErrorBody)))]
async fn get_framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<FrameworkDetailDto>, WebError> {
    let (f, used) = st.app.framework(&auth.caller, &id).await?;
    Ok(axum::Json(FrameworkDetailDto {
        framework: FrameworkSummary::of(&f, used).into(),
        requirements: f.requirements.iter().map(Into::into).collect(),
    }))
}

/// Whether the organisation uses a framework.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseFramework {
    /// Use it (true) or stop (false).
    pub in_use: bool,
}

/// Starts or stops using a framework.
#[utoipa::path(put, path = "/api/v1/frameworks/{framework_id}/use", tag = "frameworks", request_body = UseFramework,
    params(("framework_id" = String, Path, description = "Framework id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn use_framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<UseFramework>,
) -> Result<StatusCode, WebError> {
    st.app
        .set_framework_in_use(&auth.caller, &id, b.in_use)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Export format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `oscal` (default), `csv`, `xlsx` or `yaml`.
    pub format: Option<String>,
}

/// Exports a framework (a baseline as its resolved OSCAL catalog).
#[utoipa::path(get, path = "/api/v1/frameworks/{framework_id}/export", tag = "frameworks", params(("framework_id" = String, Path, description = "Framework id"), ExportQuery),
    responses((status = 200, description = "The file"), (status = 404, body = ErrorBody)))]
async fn export_framework(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, WebError> {
    let e = st
        .app
        .export_framework(&auth.caller, &id, q.format.as_deref().unwrap_or("oscal"))
        .await?;
    Ok(crate::download(e.content_type, &e.filename, e.bytes))
}

/// Reads uploaded files from a multipart body (fields named `file`).
pub(crate) async fn files(mut mp: Multipart) -> Result<Vec<ImportFile>, AppError> {
    let mut out = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(AppError::invalid(
                    "file",
                    format!("the upload is malformed or too large: {}", e.body_text()),
                ));
            }
        };
        let name = field.file_name().unwrap_or("upload").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| AppError::invalid("file", format!("{name}: {}", e.body_text())))?;
        if !bytes.is_empty() {
            out.push(ImportFile {
                name,
                bytes: bytes.to_vec(),
            });
        }
    }
    Ok(out)
}

/// Imports frameworks, all or nothing: OSCAL catalogs and profiles (`.json`; give a profile
/// with the catalog it imports), Attest YAML, CSV or XLSX, as multipart fields named `file`.
#[utoipa::path(post, path = "/api/v1/frameworks/import", tag = "frameworks",
    request_body(content_type = "multipart/form-data", description = "One or more `file` fields"),
    responses((status = 201, body = Vec<FrameworkDto>), (status = 422, description = "Every problem, with where it is", body = ErrorBody)))]
async fn import_frameworks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let files = files(mp).await?;
    let done = st.app.import_frameworks(&auth.caller, files).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(done.into_iter().map(FrameworkDto::from).collect::<Vec<_>>()),
    )
        .into_response())
}

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// An id prefix (`A.5.1`) or words (`access review`).
    pub q: String,
    /// At most this many (default 50).
    pub limit: Option<usize>,
}

/// A requirement found.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitDto {
    /// Framework id.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
    /// Title.
    pub title: String,
}

/// Searches every framework by id and words.
#[utoipa::path(get, path = "/api/v1/requirements/search", tag = "frameworks", params(SearchQuery), responses((status = 200, body = Vec<HitDto>)))]
async fn search_requirements(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<axum::Json<Vec<HitDto>>, WebError> {
    let hits = st
        .app
        .search_requirements(&auth.caller, &q.q, q.limit.unwrap_or(50))
        .await?;
    Ok(axum::Json(
        hits.into_iter()
            .map(|h| HitDto {
                framework: h.framework,
                requirement: h.requirement,
                title: h.title,
            })
            .collect(),
    ))
}

/// A control.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlDto {
    /// Id.
    pub id: String,
    /// The organisation's reference (`AC-01`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Owner's user id.
    pub owner_id: Option<String>,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// continuous, daily, weekly, monthly, quarterly, annual, per-event.
    pub frequency: String,
    /// planned, partial, implemented, not-applicable.
    pub status: String,
    /// Number of requirement links (in lists).
    pub link_count: Option<usize>,
    /// Last change.
    pub updated_at: String,
}

pub(crate) fn control_dto(
    c: &Control,
    owner_name: Option<String>,
    links: Option<usize>,
) -> ControlDto {
    ControlDto {
        id: c.id.clone(),
        reference: c.reference.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        owner_id: c.owner_id.map(|u| u.to_string()),
        owner_name,
        frequency: c.frequency.to_string(),
        status: c.status.to_string(),
        link_count: links,
        updated_at: c.updated_at.to_rfc3339(),
    }
}

/// Filters for the control list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ControlQuery {
    /// Owner's user id.
    pub owner: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Linked to this framework.
    pub framework: Option<String>,
    /// … and this requirement of it.
    pub requirement: Option<String>,
    /// Words in reference, title or description.
    pub q: Option<String>,
}

impl ControlQuery {
    pub(crate) fn filter(&self) -> Result<ControlFilter, AppError> {
        let blank = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Ok(ControlFilter {
            owner: match blank(&self.owner) {
                Some(o) => Some(
                    o.parse::<UserId>()
                        .map_err(|_| AppError::invalid("owner", "not a user id"))?,
                ),
                None => None,
            },
            status: match blank(&self.status) {
                Some(s) => Some(
                    s.parse::<ControlStatus>()
                        .map_err(|e| AppError::invalid("status", e.to_string()))?,
                ),
                None => None,
            },
            framework: blank(&self.framework),
            requirement: blank(&self.requirement),
            text: blank(&self.q),
        })
    }
}

/// The controls, filtered.
#[utoipa::path(get, path = "/api/v1/controls", tag = "controls", params(ControlQuery), responses((status = 200, body = Vec<ControlDto>)))]
async fn list_controls(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<ControlQuery>,
) -> Result<axum::Json<Vec<ControlDto>>, WebError> {
    let rows = st.app.controls(&auth.caller, &q.filter()?).await?;
    Ok(axum::Json(
        rows.iter()
            .map(|r| control_dto(&r.control, r.owner_name.clone(), Some(r.links)))
            .collect(),
    ))
}

/// A control to create or the new state of one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlBody {
    /// Reference (`AC-01`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Owner's user id.
    pub owner_id: Option<String>,
    /// Frequency (default annual).
    pub frequency: Option<String>,
    /// Status (default planned).
    pub status: Option<String>,
    /// Ids of the services it applies to.
    #[serde(default)]
    pub services: Vec<String>,
}

impl ControlBody {
    pub(crate) fn input(self) -> Result<ControlInput, AppError> {
        Ok(ControlInput {
            reference: self.reference,
            title: self.title,
            description: self.description,
            owner: match self.owner_id.as_deref().filter(|s| !s.is_empty()) {
                Some(o) => Some(
                    o.parse()
                        .map_err(|_| AppError::invalid("owner_id", "not a user id"))?,
                ),
                None => None,
            },
            frequency: self
                .frequency
                .as_deref()
                .unwrap_or("annual")
                .parse::<Frequency>()
                .map_err(|e| AppError::invalid("frequency", e.to_string()))?,
            status: self
                .status
                .as_deref()
                .unwrap_or("planned")
                .parse::<ControlStatus>()
                .map_err(|e| AppError::invalid("status", e.to_string()))?,
            services: self.services,
        })
    }
}

/// Creates a control.
#[utoipa::path(post, path = "/api/v1/controls", tag = "controls", request_body = ControlBody,
    responses((status = 201, body = ControlDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ControlBody>,
) -> Result<Response, WebError> {
    let c = st.app.create_control(&auth.caller, b.input()?).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(control_dto(&c, None, Some(0))),
    )
        .into_response())
}

/// A link of a control.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDto {
    /// Framework id.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
    /// Requirement title.
    pub title: String,
    /// `full` or `partial`.
    pub coverage: String,
    /// `manual` or `proposal`.
    pub origin: String,
    /// The mapping that proposed it.
    pub via: String,
    /// Who linked it.
    pub created_by: String,
}

/// A link the mappings propose.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalDto {
    /// Framework id.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
    /// Requirement title.
    pub title: String,
    /// `full` or `partial`.
    pub coverage: String,
    /// The control's link it comes from.
    pub from: String,
    /// The mapping relationship.
    pub relationship: String,
    /// Who stands behind the mapping.
    pub provenance: String,
    /// The mapping's note.
    pub note: Option<String>,
}

pub(crate) fn proposal_dto(p: Proposal) -> ProposalDto {
    ProposalDto {
        framework: p.framework,
        requirement: p.requirement,
        title: p.title,
        coverage: serde_json::to_value(p.coverage)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        from: p.from,
        relationship: p.rel.to_string(),
        provenance: p.provenance,
        note: p.note,
    }
}

/// A control with its services, links and proposals.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlDetailDto {
    /// The control.
    #[serde(flatten)]
    pub control: ControlDto,
    /// Service ids.
    pub services: Vec<String>,
    /// Links.
    pub links: Vec<LinkDto>,
    /// Proposals.
    pub proposals: Vec<ProposalDto>,
}

fn detail(v: ControlView) -> ControlDetailDto {
    ControlDetailDto {
        control: control_dto(&v.control, v.owner_name, Some(v.links.len())),
        services: v.services.into_iter().map(|s| s.id).collect(),
        links: v
            .links
            .into_iter()
            .map(|l| LinkDto {
                framework: l.framework,
                requirement: l.requirement,
                title: l.title,
                coverage: serde_json::to_value(l.coverage)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                origin: l.origin,
                via: l.via,
                created_by: l.created_by,
            })
            .collect(),
        proposals: v.proposals.into_iter().map(proposal_dto).collect(),
    }
}

/// A control with its links and proposals.
#[utoipa::path(get, path = "/api/v1/controls/{control_id}", tag = "controls", params(("control_id" = String, Path, description = "Control id")),
    responses((status = 200, body = ControlDetailDto), (status = 404, body = ErrorBody)))]
async fn get_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<ControlDetailDto>, WebError> {
    Ok(axum::Json(detail(st.app.control(&auth.caller, &id).await?)))
}

/// Changes a control (control owners: the status and description of their own).
#[utoipa::path(put, path = "/api/v1/controls/{control_id}", tag = "controls", request_body = ControlBody, params(("control_id" = String, Path, description = "Control id")),
    responses((status = 200, body = ControlDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ControlBody>,
) -> Result<axum::Json<ControlDto>, WebError> {
    let c = st.app.update_control(&auth.caller, &id, b.input()?).await?;
    Ok(axum::Json(control_dto(&c, None, None)))
}

/// A requirement of a framework.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RequirementRef {
    /// Framework id.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
}

/// Links a control to a requirement (in full).
#[utoipa::path(post, path = "/api/v1/controls/{control_id}/links", tag = "controls", request_body = RequirementRef, params(("control_id" = String, Path, description = "Control id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn link_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RequirementRef>,
) -> Result<StatusCode, WebError> {
    st.app
        .link_control(&auth.caller, &id, &b.framework, &b.requirement)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a link.
#[utoipa::path(delete, path = "/api/v1/controls/{control_id}/links", tag = "controls", params(("control_id" = String, Path, description = "Control id"), RequirementRef),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unlink_control(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RequirementRef>,
) -> Result<StatusCode, WebError> {
    st.app
        .unlink_control(&auth.caller, &id, &q.framework, &q.requirement)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A decision on a proposal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalDecision {
    /// Framework id.
    pub framework: String,
    /// Requirement id.
    pub requirement: String,
    /// Accept (link it) or reject (never propose it again).
    pub accept: bool,
}

/// Accepts or rejects a proposed link.
#[utoipa::path(post, path = "/api/v1/controls/{control_id}/proposals", tag = "controls", request_body = ProposalDecision, params(("control_id" = String, Path, description = "Control id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn decide_proposal(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ProposalDecision>,
) -> Result<StatusCode, WebError> {
    st.app
        .decide_proposal(&auth.caller, &id, &b.framework, &b.requirement, b.accept)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A requirement's coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementCoverageDto {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// implemented, partial, planned, not-covered, not-applicable.
    pub status: String,
    /// Why.
    pub reasons: Vec<String>,
    /// References of linked controls.
    pub controls: Vec<String>,
}

/// A framework's coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageDto {
    /// The framework.
    pub framework: FrameworkDto,
    /// Requirements per status.
    pub counts: BTreeMap<String, usize>,
    /// Percent implemented (not-applicable left out).
    pub percent_implemented: u32,
    /// Every requirement (omitted in the overview).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementCoverageDto>,
}

fn coverage_dto(c: FrameworkCoverage, with_requirements: bool) -> CoverageDto {
    CoverageDto {
        percent_implemented: c.percent_implemented(),
        counts: c
            .counts
            .iter()
            .map(|(s, n)| (s.as_str().to_owned(), *n))
            .collect(),
        requirements: if with_requirements {
            c.requirements
                .into_iter()
                .map(|r| RequirementCoverageDto {
                    id: r.id,
                    title: r.title,
                    status: r.status.as_str().into(),
                    reasons: r.reasons,
                    controls: r
                        .controls
                        .into_iter()
                        .map(|(_, reference)| reference)
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        },
        framework: c.framework.into(),
    }
}

/// Coverage of every framework in use.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "coverage", responses((status = 200, body = Vec<CoverageDto>)))]
async fn coverage_overview(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Vec<CoverageDto>>, WebError> {
    Ok(axum::Json(
        st.app
            .coverage_overview(&auth.caller)
            .await?
            .into_iter()
            .map(|c| coverage_dto(c, false))
            .collect(),
    ))
}

/// Coverage of one framework, requirement by requirement, with the reasons.
#[utoipa::path(get, path = "/api/v1/coverage/{framework_id}", tag = "coverage", params(("framework_id" = String, Path, description = "Framework id")),
    responses((status = 200, body = CoverageDto), (status = 404, body = ErrorBody)))]
async fn coverage(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<CoverageDto>, WebError> {
    Ok(axum::Json(coverage_dto(
        st.app.coverage(&auth.caller, &id).await?,
        true,
    )))
}

/// Two frameworks.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PairQuery {
    /// First framework.
    pub from: String,
    /// Second framework.
    pub to: String,
}

/// The crosswalk between two frameworks (JSON as returned by Attest: direct links of mapping
/// sets, or derived ones through a pivot, each with provenance and review).
#[utoipa::path(get, path = "/api/v1/crosswalk", tag = "frameworks", params(PairQuery),
    responses((status = 200, description = "The crosswalk", body = serde_json::Value), (status = 404, body = ErrorBody)))]
async fn crosswalk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<PairQuery>,
) -> Result<axum::Json<Crosswalk>, WebError> {
    Ok(axum::Json(
        st.app.crosswalk(&auth.caller, &q.from, &q.to).await?,
    ))
}

/// A review of a mapping link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// First framework.
    pub from: String,
    /// Its requirement.
    pub source: String,
    /// Second framework.
    pub to: String,
    /// Its requirement.
    pub target: String,
    /// `confirm` or `reject`.
    pub decision: String,
    /// The relationship confirmed (required for a derived link without one).
    pub relationship: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: String,
}

fn rel(s: Option<&str>) -> Result<Option<Relationship>, AppError> {
    s.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Relationship>()
                .map_err(|e| AppError::invalid("relationship", e.to_string()))
        })
        .transpose()
}

/// Confirms or rejects a shipped or derived mapping link.
#[utoipa::path(post, path = "/api/v1/crosswalk/reviews", tag = "frameworks", request_body = ReviewBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review_mapping(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<StatusCode, WebError> {
    let decision = match b.decision.as_str() {
        "confirm" => Decision::Confirm,
        "reject" => Decision::Reject,
        _ => return Err(AppError::invalid("decision", "use confirm or reject").into()),
    };
    st.app
        .review_mapping(
            &auth.caller,
            &b.from,
            &b.source,
            &b.to,
            &b.target,
            decision,
            rel(b.relationship.as_deref())?,
            &b.note,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A mapping link of the organisation's own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMapping {
    /// First framework.
    pub from: String,
    /// Its requirement.
    pub source: String,
    /// Second framework.
    pub to: String,
    /// Its requirement.
    pub target: String,
    /// equal, subset-of, superset-of, intersects-with, not-related.
    pub relationship: String,
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// Adds a mapping link of the organisation's own.
#[utoipa::path(post, path = "/api/v1/crosswalk/links", tag = "frameworks", request_body = NewMapping,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_mapping(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<NewMapping>,
) -> Result<StatusCode, WebError> {
    let r = rel(Some(&b.relationship))?
        .ok_or_else(|| AppError::invalid("relationship", "give a relationship"))?;
    st.app
        .add_mapping(
            &auth.caller,
            &b.from,
            &b.source,
            &b.to,
            &b.target,
            r,
            &b.note,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A framework upgrade as a migration (for example from=iso27001-2013&to=iso27001-2022).
#[utoipa::path(get, path = "/api/v1/migration", tag = "frameworks", params(PairQuery),
    responses((status = 200, description = "What carries over and what is new", body = serde_json::Value), (status = 404, body = ErrorBody)))]
async fn migration(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<PairQuery>,
) -> Result<axum::Json<Migration>, WebError> {
    Ok(axum::Json(
        st.app.migration(&auth.caller, &q.from, &q.to).await?,
    ))
}

/// Links applied by a migration.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedDto {
    /// Number of links added.
    pub links_added: usize,
}

/// Applies a migration: uses the new framework and accepts every carried-over link.
#[utoipa::path(post, path = "/api/v1/migration/apply", tag = "frameworks", params(PairQuery), responses((status = 200, body = AppliedDto)))]
async fn apply_migration(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<PairQuery>,
) -> Result<axum::Json<AppliedDto>, WebError> {
    Ok(axum::Json(AppliedDto {
        links_added: st.app.apply_migration(&auth.caller, &q.from, &q.to).await?,
    }))
}

/// Product families and services.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServicesDto {
    /// Product families.
    pub families: Vec<FamilyDto>,
    /// Services.
    pub services: Vec<ServiceDto>,
}

/// A product family.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyDto {
    /// Id (ignored when creating).
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// A service.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDto {
    /// Id (ignored when creating).
    #[serde(default)]
    pub id: String,
    /// Its product family's id.
    pub family_id: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// The in-scope services, grouped into product families.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", responses((status = 200, body = ServicesDto)))]
async fn list_services(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<ServicesDto>, WebError> {
    let (families, services) = st.app.services(&auth.caller).await?;
    Ok(axum::Json(ServicesDto {
        families: families
            .into_iter()
            .map(|f| FamilyDto {
                id: f.id,
                name: f.name,
                description: f.description,
            })
            .collect(),
        services: services
            .into_iter()
            .map(|s| ServiceDto {
                id: s.id,
                family_id: s.family_id,
                name: s.name,
                description: s.description,
            })
            .collect(),
    }))
}

/// Adds a service.
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceDto, responses((status = 201, body = ServiceDto), (status = 409, body = ErrorBody)))]
async fn create_service(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ServiceDto>,
) -> Result<Response, WebError> {
    let s = st
        .app
        .create_service(
            &auth.caller,
            &b.name,
            &b.description,
            b.family_id.as_deref().filter(|f| !f.is_empty()),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ServiceDto {
            id: s.id,
            family_id: s.family_id,
            name: s.name,
            description: s.description,
        }),
    )
        .into_response())
}

/// Adds a product family.
#[utoipa::path(post, path = "/api/v1/product-families", tag = "services", request_body = FamilyDto, responses((status = 201, body = FamilyDto), (status = 409, body = ErrorBody)))]
async fn create_family(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<FamilyDto>,
) -> Result<Response, WebError> {
    let f = st
        .app
        .create_family(&auth.caller, &b.name, &b.description)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FamilyDto {
            id: f.id,
            name: f.name,
            description: f.description,
        }),
    )
        .into_response())
}
