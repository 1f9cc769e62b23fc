//! Audit engagements, opinions, issued reports, bridge letters and the coverage timeline.

use attest_app::Permission;
use attest_app::engagement::{CertificateInput, EngagementInput, SubserviceInput, TestInput};
use attest_domain::engagement::{
    Cadence, CertificateState, EngagementKind, EngagementStatus, Opinion, TrustCategory,
};
use axum::Extension;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::internal_audit::day;
use super::{json, parse, perm};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ErrorBody, WebError};
use crate::routes::Registry;

pub(super) fn register(r: Registry) -> Registry {
    r.api(perm(Permission::ProgramRead), routes!(list))
        .api(perm(Permission::EngagementManage), routes!(create))
        .api(perm(Permission::ProgramRead), routes!(get_one))
        .api(perm(Permission::EngagementManage), routes!(status))
        .api(perm(Permission::EngagementManage), routes!(opinion))
        .api(perm(Permission::EngagementManage), routes!(issue))
        .api(perm(Permission::EngagementManage), routes!(create_letter))
        .api(perm(Permission::ProgramRead), routes!(letters))
        .api(perm(Permission::ProgramRead), routes!(letter_pdf))
        .api(perm(Permission::EngagementManage), routes!(letter_document))
        .api(perm(Permission::ProgramRead), routes!(coverage_timeline))
        .api(perm(Permission::ProgramRead), routes!(certificates))
        .api(perm(Permission::EngagementManage), routes!(add_certificate))
        .api(
            perm(Permission::EngagementManage),
            routes!(certificate_state),
        )
        .api(perm(Permission::ProgramRead), routes!(programs))
        .api(perm(Permission::EngagementManage), routes!(set_program))
        .api(perm(Permission::EngagementManage), routes!(add_subservice))
        .api(perm(Permission::EngagementManage), routes!(add_cuec))
        .api(perm(Permission::EngagementManage), routes!(add_document))
        .api(perm(Permission::ProgramRead), routes!(document_file))
        .api(
            perm(Permission::EngagementManage),
            routes!(withdraw_document),
        )
        .api(perm(Permission::EngagementWork), routes!(create_test))
        .api(perm(Permission::EngagementWork), routes!(test_result))
}

/// Every engagement, latest period first.
#[utoipa::path(get, path = "/api/v1/engagements", tag = "engagements", responses((status = 200, body = Object)))]
async fn list(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.engagements(&auth.caller).await?)
}

/// An engagement as planned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementBody {
    /// iso-stage1, iso-stage2, iso-surveillance, iso-recertification, internal, soc1-type1,
    /// soc1-type2, soc2-type1, soc2-type2, soc3 or pentest.
    pub kind: String,
    /// Title (default: kind and period).
    #[serde(default)]
    pub title: String,
    /// Audit firm or certification body.
    pub firm: String,
    /// Lead auditor.
    #[serde(default)]
    pub lead_auditor: String,
    /// Type 1: the as-of date (YYYY-MM-DD).
    pub as_of: Option<String>,
    /// Type 2 and audits: first day.
    pub start: Option<String>,
    /// Last day.
    pub end: Option<String>,
    /// Services in scope (ids).
    #[serde(default)]
    pub services: Vec<String>,
    /// Frameworks in scope (ids).
    #[serde(default)]
    pub frameworks: Vec<String>,
    /// SOC 2: trust services categories (security is always in).
    #[serde(default)]
    pub categories: Vec<String>,
}

pub(crate) fn engagement_input(b: EngagementBody) -> Result<EngagementInput, attest_app::AppError> {
    let opt = |field: &str, v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| day(field, s))
            .transpose()
    };
    let period = match (opt("start", &b.start)?, opt("end", &b.end)?) {
        (Some(s), Some(e)) => Some((s, e)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(attest_app::AppError::invalid(
                "end",
                "give the period's last day",
            ));
        }
        (None, Some(_)) => {
            return Err(attest_app::AppError::invalid(
                "start",
                "give the period's first day",
            ));
        }
    };
    Ok(EngagementInput {
        kind: parse::<EngagementKind>("kind", &b.kind)?,
        title: b.title,
        firm: b.firm,
        lead_auditor: b.lead_auditor,
        as_of: opt("as_of", &b.as_of)?,
        period,
        services: b.services,
        frameworks: b.frameworks,
        categories: b
            .categories
            .iter()
            .map(|c| parse::<TrustCategory>("categories", c))
            .collect::<Result<_, _>>()?,
    })
}

/// Plans an engagement (rule 1 for its dates; rule 2 for a SOC 3).
#[utoipa::path(post, path = "/api/v1/engagements", tag = "engagements", request_body = EngagementBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<EngagementBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let e = st
        .app
        .create_engagement(&auth.caller, engagement_input(b)?)
        .await?;
    Ok((StatusCode::CREATED, json(&e)?))
}

/// One engagement (by id or reference) with its subservice organisations and CUECs.
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}", tag = "engagements",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.engagement_detail(&auth.caller, &id).await?)
}

/// A new status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// fieldwork, reporting or withdrawn.
    pub status: String,
}

/// Moves an engagement on, or withdraws it.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/status", tag = "engagements", request_body = StatusBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn status(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<StatusBody>,
) -> Result<axum::Json<Value>, WebError> {
    let s = parse::<EngagementStatus>("status", &b.status)?;
    json(&st.app.set_engagement_status(&auth.caller, &id, s).await?)
}

/// An opinion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionBody {
    /// unqualified, qualified, adverse or disclaimer.
    pub opinion: String,
    /// The exceptions behind a modified opinion (required unless unqualified).
    #[serde(default)]
    pub notes: String,
}

/// Records the auditor's opinion on a SOC report.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/opinion", tag = "engagements", request_body = OpinionBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn opinion(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OpinionBody>,
) -> Result<axum::Json<Value>, WebError> {
    let o = parse::<Opinion>("opinion", &b.opinion)?;
    json(
        &st.app
            .record_opinion(&auth.caller, &id, o, &b.notes)
            .await?,
    )
}

/// Issues the report.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/issue", tag = "engagements",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn issue(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.issue_engagement(&auth.caller, &id).await?)
}

/// A bridge letter to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LetterBody {
    /// The last day it covers (YYYY-MM-DD).
    pub until: String,
    /// Who signs for management.
    pub signer: String,
    /// Changes disclosed (empty: no material change).
    #[serde(default)]
    pub changes: String,
    /// `en` (default) or `ko`.
    pub language: Option<String>,
}

/// Writes a bridge letter after this issued report (rule 4).
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/bridge-letters", tag = "engagements", request_body = LetterBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create_letter(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LetterBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let until = day("until", &b.until)?;
    let l = st
        .app
        .create_bridge_letter(
            &auth.caller,
            &id,
            until,
            &b.signer,
            &b.changes,
            b.language.as_deref().unwrap_or("en"),
        )
        .await?;
    Ok((StatusCode::CREATED, json(&l)?))
}

/// Every bridge letter, latest first.
#[utoipa::path(get, path = "/api/v1/bridge-letters", tag = "engagements", responses((status = 200, body = Object)))]
async fn letters(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.bridge_letters(&auth.caller).await?)
}

/// A bridge letter as PDF.
#[utoipa::path(get, path = "/api/v1/bridge-letters/{letter_id}/pdf", tag = "engagements",
    params(("letter_id" = String, Path, description = "Bridge letter id")),
    responses((status = 200, description = "The PDF"), (status = 404, body = ErrorBody)))]
async fn letter_pdf(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<axum::response::Response, WebError> {
    let (name, bytes) = st.app.bridge_letter_pdf(&auth.caller, &id).await?;
    Ok(crate::download("application/pdf", &name, bytes))
}

/// Typesets a bridge letter and adds it as a `bridge-letter` document of its report, to be
/// published on the trust portal (restricted, like the report).
#[utoipa::path(post, path = "/api/v1/bridge-letters/{letter_id}/document", tag = "engagements",
    params(("letter_id" = String, Path, description = "Bridge letter id")),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn letter_document(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let d = st.app.bridge_letter_document(&auth.caller, &id).await?;
    Ok((StatusCode::CREATED, json(&d)?))
}

/// How far back.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// Years to look back (1 to 10, default 3).
    pub years: Option<u32>,
    /// Only this offering: `soc1` or `soc2`.
    pub offering: Option<String>,
    /// Only reports covering this service (id).
    pub service: Option<String>,
}

/// Which days are covered by a report period, by a bridge letter, or are gaps (rule 3).
#[utoipa::path(get, path = "/api/v1/coverage-timeline", tag = "engagements", params(TimelineQuery),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn coverage_timeline(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<TimelineQuery>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .coverage_timeline_of(
                &auth.caller,
                q.years.unwrap_or(3),
                q.offering.as_deref(),
                q.service.as_deref(),
            )
            .await?,
    )
}

/// Every ISO certificate with its status today and its milestones.
#[utoipa::path(get, path = "/api/v1/certificates", tag = "engagements", responses((status = 200, body = Object)))]
async fn certificates(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.certificates(&auth.caller).await?)
}

/// An ISO certificate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateBody {
    /// The certificate number.
    pub number: String,
    /// The certification body.
    pub body: String,
    /// `iso27001-2022` or `iso27001-2013`.
    pub standard: String,
    /// The certified scope.
    pub scope: String,
    /// Issued (YYYY-MM-DD).
    pub issued_on: String,
    /// Expires (YYYY-MM-DD).
    pub expires_on: String,
    /// The audit that led to it (id or reference).
    pub engagement: Option<String>,
}

pub(crate) fn certificate_input(
    b: CertificateBody,
) -> Result<CertificateInput, attest_app::AppError> {
    Ok(CertificateInput {
        issued_on: day("issued_on", &b.issued_on)?,
        expires_on: day("expires_on", &b.expires_on)?,
        number: b.number,
        body: b.body,
        standard: b.standard,
        scope: b.scope,
        engagement: b.engagement.filter(|e| !e.is_empty()),
    })
}

/// Records an ISO certificate (rule 5).
#[utoipa::path(post, path = "/api/v1/certificates", tag = "engagements", request_body = CertificateBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn add_certificate(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<CertificateBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let c = st
        .app
        .add_certificate(&auth.caller, certificate_input(b)?)
        .await?;
    Ok((StatusCode::CREATED, json(&c)?))
}

/// A certificate's new state.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateStateBody {
    /// valid, suspended or withdrawn.
    pub state: String,
}

/// Suspends, withdraws or reinstates a certificate.
#[utoipa::path(post, path = "/api/v1/certificates/{certificate_id}/state", tag = "engagements", request_body = CertificateStateBody,
    params(("certificate_id" = String, Path, description = "Certificate id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn certificate_state(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CertificateStateBody>,
) -> Result<axum::Json<Value>, WebError> {
    let s = parse::<CertificateState>("state", &b.state)?;
    json(&st.app.set_certificate_state(&auth.caller, &id, s).await?)
}

/// The SOC programs with the report periods their cadence lays out next.
#[utoipa::path(get, path = "/api/v1/soc-programs", tag = "engagements", responses((status = 200, body = Object)))]
async fn programs(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Value>, WebError> {
    json(&st.app.soc_programs(&auth.caller).await?)
}

/// A SOC program's cadence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramBody {
    /// `soc1` or `soc2`.
    pub family: String,
    /// Months each period lasts (1 to 12).
    pub period_months: u32,
    /// The days periods end on, as MM-DD (`03-31`, `09-30`).
    pub period_ends: Vec<String>,
    /// Weeks from a period's end to its report.
    pub report_weeks: u32,
}

pub(crate) fn cadence_of(
    period_months: u32,
    ends: &[String],
    report_weeks: u32,
) -> Result<Cadence, attest_app::AppError> {
    let period_ends = ends
        .iter()
        .map(|e| {
            let (m, d) = e.trim().split_once('-').unwrap_or(("", ""));
            match (m.parse::<u8>(), d.parse::<u8>()) {
                (Ok(m), Ok(d)) => Ok((m, d)),
                _ => Err(attest_app::AppError::invalid(
                    "period_ends",
                    format!("`{e}` is not a day of the year as MM-DD"),
                )),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Cadence {
        period_months,
        period_ends,
        report_weeks,
    })
}

/// Declares a SOC program's cadence (rule 3).
#[utoipa::path(put, path = "/api/v1/soc-programs", tag = "engagements", request_body = ProgramBody,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn set_program(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(b): ApiJson<ProgramBody>,
) -> Result<axum::Json<Value>, WebError> {
    let c = cadence_of(b.period_months, &b.period_ends, b.report_weeks)?;
    json(&st.app.set_soc_program(&auth.caller, &b.family, c).await?)
}

/// A subservice organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubserviceBody {
    /// Its name.
    pub name: String,
    /// `carve-out` or `inclusive`.
    pub method: String,
    /// What it provides.
    #[serde(default)]
    pub services: String,
    /// Its own report and period.
    #[serde(default)]
    pub their_report: String,
    /// Complementary subservice organisation controls, one per line.
    #[serde(default)]
    pub csocs: String,
}

/// Records a subservice organisation of a SOC report.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/subservice-organisations", tag = "engagements", request_body = SubserviceBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn add_subservice(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<SubserviceBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let d = st
        .app
        .add_subservice_org(
            &auth.caller,
            &id,
            SubserviceInput {
                name: b.name,
                method: b.method,
                services: b.services,
                their_report: b.their_report,
                csocs: b.csocs,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, json(&d)?))
}

/// A CUEC.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CuecBody {
    /// What the customer must do.
    pub text: String,
}

/// Records a complementary user entity control of a SOC report.
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/cuecs", tag = "engagements", request_body = CuecBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn add_cuec(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<CuecBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let d = st.app.add_cuec(&auth.caller, &id, &b.text).await?;
    Ok((StatusCode::CREATED, json(&d)?))
}

/// A control to test.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// The control (id or reference).
    pub control: String,
    /// `design` or `operating`.
    pub kind: String,
    /// How many occurrences the period holds.
    pub population: u32,
    /// Where the population comes from.
    #[serde(default)]
    pub population_note: String,
    /// A seed for the draw (default: a random one, recorded).
    pub seed: Option<u64>,
}

/// Draws a control's sample (seeded, recorded, never re-drawn).
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/tests", tag = "engagements", request_body = TestBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create_test(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TestBody>,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let t = st
        .app
        .create_control_test(
            &auth.caller,
            &id,
            TestInput {
                control: b.control,
                kind: b.kind,
                population: b.population,
                population_note: b.population_note,
                seed: b.seed,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, json(&t)?))
}

/// The result of one sampled item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    /// The item (as drawn).
    pub item: u32,
    /// `pass` or `exception`.
    pub result: String,
    /// What was seen (required for an exception).
    #[serde(default)]
    pub note: String,
}

/// Records the result of one sampled item.
#[utoipa::path(put, path = "/api/v1/engagements/{engagement_id}/tests/{test_id}/results", tag = "engagements", request_body = ResultBody,
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("test_id" = String, Path, description = "Test id")),
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)))]
async fn test_result(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path((id, test)): Path<(String, String)>,
    ApiJson(b): ApiJson<ResultBody>,
) -> Result<axum::Json<Value>, WebError> {
    json(
        &st.app
            .record_test_result(&auth.caller, &id, &test, b.item, &b.result, &b.note)
            .await?,
    )
}

/// Reads a document upload: `kind`, `title`, `language`, then `file` (last).
pub(crate) async fn document_upload(
    st: &AppState,
    auth: &Auth,
    id: &str,
    mut mp: axum::extract::Multipart,
) -> Result<attest_store::workspace::Document, attest_app::AppError> {
    use futures::TryStreamExt;
    let malformed = |e: axum::extract::multipart::MultipartError| {
        attest_app::AppError::invalid(
            "file",
            format!("the upload is malformed: {}", e.body_text()),
        )
    };
    let mut fields: std::collections::BTreeMap<String, String> = Default::default();
    loop {
        let Some(mut field) = mp.next_field().await.map_err(malformed)? else {
            return Err(attest_app::AppError::invalid(
                "file",
                "no `file` field: send the file last, after kind, title and language",
            ));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("document.pdf").to_owned();
            let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
            let language = match get("language") {
                l if l.is_empty() => "en".to_owned(),
                l => l,
            };
            let body = Box::pin(field.map_err(|e| e.body_text()));
            return st
                .app
                .add_document(
                    &auth.caller,
                    id,
                    &get("kind"),
                    &get("title"),
                    &language,
                    &file_name,
                    body,
                )
                .await;
        }
        if !matches!(name.as_str(), "kind" | "title" | "language" | "_csrf") {
            return Err(attest_app::AppError::invalid(
                &name,
                format!("unknown field `{name}` (expected kind, title, language, file)"),
            ));
        }
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if text.len() + chunk.len() > 4096 {
                return Err(attest_app::AppError::invalid(
                    &name,
                    format!("the field `{name}` is longer than 4 KiB"),
                ));
            }
            text.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(text).map_err(|_| {
            attest_app::AppError::invalid(&name, format!("the field `{name}` is not UTF-8 text"))
        })?;
        fields.insert(name, text);
    }
}

/// Adds a document the engagement issues (multipart: kind, title, language, then the PDF).
#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/documents", tag = "engagements",
    params(("engagement_id" = String, Path, description = "Engagement id or reference")),
    request_body(content_type = "multipart/form-data", description = "kind (report, bridge-letter, certificate, soa, assessment-report, pentest-summary), title, language (en, ko), file (a PDF, last)"),
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn add_document(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    mp: axum::extract::Multipart,
) -> Result<(StatusCode, axum::Json<Value>), WebError> {
    let d = document_upload(&st, &auth, &id, mp).await?;
    Ok((StatusCode::CREATED, json(&d)?))
}

/// A document's file.
#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/documents/{document_id}/file", tag = "engagements",
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("document_id" = String, Path, description = "Document id")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn document_file(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path((id, doc)): Path<(String, String)>,
) -> Result<axum::response::Response, WebError> {
    let (name, content_type, size, stream) = st.app.document_file(&auth.caller, &id, &doc).await?;
    Ok(super::evidence::file_response(
        &name,
        &content_type,
        size,
        stream,
    ))
}

/// Withdraws a document (it stays on record).
#[utoipa::path(delete, path = "/api/v1/engagements/{engagement_id}/documents/{document_id}", tag = "engagements",
    params(("engagement_id" = String, Path, description = "Engagement id or reference"), ("document_id" = String, Path, description = "Document id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn withdraw_document(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path((id, doc)): Path<(String, String)>,
) -> Result<StatusCode, WebError> {
    st.app.withdraw_document(&auth.caller, &id, &doc).await?;
    Ok(StatusCode::NO_CONTENT)
}
