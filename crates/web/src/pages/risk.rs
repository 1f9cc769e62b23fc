//! The risk pages: the register with its heat maps, a risk with its acceptances, the asset
//! register, and the matrix and appetite.

use askama::Template;
use attest_app::risk::{AssetInput, MatrixInput, RiskDetail, RiskInput, RiskRegister};
use attest_app::{AppError, Permission};
use attest_domain::risk::{
    AcceptanceState, AssetKind, Classification, Level, RiskMatrix, RiskStatus, Treatment,
};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};

use super::program::{one, pairs};
use super::{Shell, message, render, render_status, see_other};
use crate::AppState;
use crate::api::evidence::{date, user_id};
use crate::api::risk::RiskQuery;
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let read = Access::Perm(Permission::ProgramRead);
    let manage = Access::Perm(Permission::RiskManage);
    r.page(Method::GET, "/risks", read, risks)
        .page(Method::POST, "/risks", manage, create_risk)
        .body_limit(attest_app::risk_sheet::SHEET_LIMIT * 2)
        .page(Method::POST, "/risks/import", manage, import)
        .page(Method::GET, "/risks/matrix", read, matrix)
        .page(Method::POST, "/risks/matrix", manage, set_matrix)
        .page(Method::GET, "/risks/{risk_id}", read, risk)
        .page(Method::POST, "/risks/{risk_id}", manage, update_risk)
        .page(Method::POST, "/risks/{risk_id}/actions", manage, add_action)
        .page(
            Method::POST,
            "/risks/{risk_id}/actions/{action_id}/done",
            manage,
            complete_action,
        )
        .page(
            Method::POST,
            "/risks/{risk_id}/accept",
            Access::Perm(Permission::RiskAccept),
            accept,
        )
        .page(Method::GET, "/risks/assets", read, assets)
        .page(Method::POST, "/risks/assets", manage, create_asset)
}

fn page_err(e: AppError) -> WebError {
    WebError::page(e)
}

fn all(p: &[(String, String)], k: &str) -> Vec<String> {
    p.iter()
        .filter(|(n, v)| n == k && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect()
}

/// A CSS class for a level: its position among the matrix's levels.
fn level_class(m: &RiskMatrix, score: u32) -> String {
    let level = m.level(score);
    let i = m.levels().iter().position(|l| l == level).unwrap_or(0);
    // Spread however many levels there are over the five colour steps.
    let step = if m.levels().len() <= 1 {
        0
    } else {
        i * 4 / (m.levels().len() - 1)
    };
    format!("lvl-{step}")
}

struct HeatCell {
    count: u32,
    score: u32,
    level: String,
    class: String,
    above: bool,
}

struct HeatRow {
    label: String,
    cells: Vec<HeatCell>,
}

struct HeatView {
    title: &'static str,
    impacts: Vec<String>,
    rows: Vec<HeatRow>,
}

fn heat_view(title: &'static str, m: &RiskMatrix, counts: &[Vec<u32>]) -> HeatView {
    // Most likely on top, as risk matrices are drawn.
    let rows = (0..m.likelihood().len())
        .rev()
        .map(|l| HeatRow {
            label: m.likelihood()[l].clone(),
            cells: (0..m.impact().len())
                .map(|i| {
                    let score = ((l + 1) * (i + 1)) as u32;
                    HeatCell {
                        count: counts.get(l).and_then(|r| r.get(i)).copied().unwrap_or(0),
                        score,
                        level: m.level(score).name.clone(),
                        class: level_class(m, score),
                        above: m.above_appetite(score),
                    }
                })
                .collect(),
        })
        .collect();
    HeatView {
        title,
        impacts: m.impact().to_vec(),
        rows,
    }
}

/// The fields of the risk form, as typed.
struct RiskForm {
    reference: String,
    title: String,
    description: String,
    threat: String,
    vulnerability: String,
    owner: String,
    inherent_likelihood: String,
    inherent_impact: String,
    residual_likelihood: String,
    residual_impact: String,
    treatment: String,
    treatment_plan: String,
    treatment_due: String,
    status: String,
    assets: Vec<String>,
    controls: Vec<String>,
}

impl RiskForm {
    fn blank() -> Self {
        Self {
            reference: String::new(),
            title: String::new(),
            description: String::new(),
            threat: String::new(),
            vulnerability: String::new(),
            owner: String::new(),
            inherent_likelihood: "3".into(),
            inherent_impact: "3".into(),
            residual_likelihood: "2".into(),
            residual_impact: "2".into(),
            treatment: "modify".into(),
            treatment_plan: String::new(),
            treatment_due: String::new(),
            status: "open".into(),
            assets: Vec::new(),
            controls: Vec::new(),
        }
    }

    fn of(p: &[(String, String)]) -> Self {
        Self {
            reference: one(p, "ref"),
            title: one(p, "title"),
            description: one(p, "description"),
            threat: one(p, "threat"),
            vulnerability: one(p, "vulnerability"),
            owner: one(p, "owner_id"),
            inherent_likelihood: one(p, "inherent_likelihood"),
            inherent_impact: one(p, "inherent_impact"),
            residual_likelihood: one(p, "residual_likelihood"),
            residual_impact: one(p, "residual_impact"),
            treatment: one(p, "treatment"),
            treatment_plan: one(p, "treatment_plan"),
            treatment_due: one(p, "treatment_due"),
            status: one(p, "status"),
            assets: all(p, "assets"),
            controls: all(p, "controls"),
        }
    }

    fn from_detail(d: &RiskDetail) -> Self {
        let r = &d.row.risk;
        Self {
            reference: r.reference.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            threat: r.threat.clone(),
            vulnerability: r.vulnerability.clone(),
            owner: r.owner_id.map(|u| u.to_string()).unwrap_or_default(),
            inherent_likelihood: r.inherent.likelihood.to_string(),
            inherent_impact: r.inherent.impact.to_string(),
            residual_likelihood: r.residual.likelihood.to_string(),
            residual_impact: r.residual.impact.to_string(),
            treatment: r.treatment.as_str().into(),
            treatment_plan: r.treatment_plan.clone(),
            treatment_due: r
                .treatment_due
                .map(attest_domain::evidence::day_text)
                .unwrap_or_default(),
            status: r.status.as_str().into(),
            assets: d.row.assets.clone(),
            controls: d.row.controls.clone(),
        }
    }

    fn input(&self) -> Result<RiskInput, AppError> {
        let step = |field: &str, v: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid(field, "choose a step of the scale"))
        };
        Ok(RiskInput {
            reference: self.reference.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            threat: self.threat.clone(),
            vulnerability: self.vulnerability.clone(),
            owner: user_id("owner_id", Some(&self.owner))?,
            inherent: (
                step("inherent_likelihood", &self.inherent_likelihood)?,
                step("inherent_impact", &self.inherent_impact)?,
            ),
            residual: (
                step("residual_likelihood", &self.residual_likelihood)?,
                step("residual_impact", &self.residual_impact)?,
            ),
            treatment: crate::api::parse("treatment", &self.treatment)?,
            treatment_plan: self.treatment_plan.clone(),
            treatment_due: date("treatment_due", Some(&self.treatment_due))?,
            status: crate::api::parse("status", &self.status)?,
            assets: self.assets.clone(),
            controls: self.controls.clone(),
        })
    }
}

/// The choices the risk form offers.
struct Choices {
    members: Vec<(String, String)>,
    likelihood: Vec<(String, String)>,
    impact: Vec<(String, String)>,
    treatments: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    assets: Vec<(String, String)>,
    controls: Vec<(String, String)>,
}

async fn choices(st: &AppState, auth: &Auth, m: &RiskMatrix) -> Result<Choices, WebError> {
    let steps = |v: &[String]| -> Vec<(String, String)> {
        v.iter()
            .enumerate()
            .map(|(i, n)| ((i + 1).to_string(), n.clone()))
            .collect()
    };
    let members = match st.app.assignable_people(&auth.caller).await {
        Ok(m) => m
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        Err(e) => return Err(page_err(e)),
    };
    let assets = st
        .app
        .assets(&auth.caller)
        .await
        .map_err(page_err)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let controls = st
        .app
        .controls(&auth.caller, &Default::default())
        .await
        .map_err(page_err)?
        .into_iter()
        .map(|c| {
            (
                c.control.id,
                format!("{} {}", c.control.reference, c.control.title),
            )
        })
        .collect();
    Ok(Choices {
        members,
        likelihood: steps(m.likelihood()),
        impact: steps(m.impact()),
        treatments: Treatment::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        statuses: RiskStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        assets,
        controls,
    })
}

struct RiskRowView {
    id: String,
    reference: String,
    title: String,
    owner: String,
    inherent_score: u32,
    inherent_level: String,
    inherent_class: String,
    residual_score: u32,
    residual_level: String,
    residual_class: String,
    treatment: &'static str,
    acceptance: String,
    needs_decision: bool,
    closed: bool,
}

#[derive(Template)]
#[template(path = "risks.html")]
struct RisksPage {
    shell: Shell,
    size: String,
    appetite: u32,
    needing_decision: usize,
    heats: Vec<HeatView>,
    rows: Vec<RiskRowView>,
    levels: Vec<String>,
    q: String,
    level: String,
    treatment: String,
    owner: String,
    needs_decision: bool,
    can_manage: bool,
    form: RiskForm,
    members: Vec<(String, String)>,
    likelihood: Vec<(String, String)>,
    impact: Vec<(String, String)>,
    treatments: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    assets: Vec<(String, String)>,
    controls: Vec<(String, String)>,
    error: Option<String>,
}

async fn risks_view(
    st: &AppState,
    auth: &Auth,
    q: RiskQuery,
    form: RiskForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    risks_view_with(st, auth, q, form, error, None).await
}

async fn risks_view_with(
    st: &AppState,
    auth: &Auth,
    q: RiskQuery,
    form: RiskForm,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let mut shell = Shell::new(st, auth, "Risks", "risks").await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let blank = |s: &Option<String>| s.clone().unwrap_or_default();
    let filter = q.clone().filter().map_err(page_err)?;
    let reg: RiskRegister = st
        .app
        .risk_register(&auth.caller, &filter)
        .await
        .map_err(page_err)?;
    let m = &reg.matrix;
    let c = choices(st, auth, m).await?;
    let page = RisksPage {
        shell,
        size: format!("{} × {}", m.likelihood().len(), m.impact().len()),
        appetite: m.appetite(),
        needing_decision: reg.needing_decision,
        heats: vec![
            heat_view("Inherent", m, &reg.heat.inherent),
            heat_view("Residual", m, &reg.heat.residual),
        ],
        rows: reg
            .risks
            .iter()
            .map(|r| RiskRowView {
                id: r.risk.id.clone(),
                reference: r.risk.reference.clone(),
                title: r.risk.title.clone(),
                owner: r.owner_name.clone().unwrap_or_default(),
                inherent_score: r.inherent_score,
                inherent_level: r.inherent_level.clone(),
                inherent_class: level_class(m, r.inherent_score),
                residual_score: r.residual_score,
                residual_level: r.residual_level.clone(),
                residual_class: level_class(m, r.residual_score),
                treatment: r.risk.treatment.label(),
                acceptance: r
                    .acceptance
                    .as_ref()
                    .map(|a| {
                        format!(
                            "{} until {}",
                            a.state.label(),
                            attest_domain::evidence::day_text(a.acceptance.expires_on)
                        )
                    })
                    .unwrap_or_default(),
                needs_decision: r.needs_decision,
                closed: r.risk.status == RiskStatus::Closed,
            })
            .collect(),
        levels: m.levels().iter().map(|l| l.name.clone()).collect(),
        q: blank(&q.q),
        level: blank(&q.level),
        treatment: blank(&q.treatment),
        owner: blank(&q.owner),
        needs_decision: q.needs_decision.unwrap_or(false),
        can_manage: auth.caller.require(Permission::RiskManage).is_ok(),
        form,
        members: c.members,
        likelihood: c.likelihood,
        impact: c.impact,
        treatments: c.treatments,
        statuses: c.statuses,
        assets: c.assets,
        controls: c.controls,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn risks(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<RiskQuery>,
) -> Result<Response, WebError> {
    risks_view(&st, &auth, q, RiskForm::blank(), None).await
}

async fn create_risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form = RiskForm::of(&pairs(&body));
    let result = match form.input() {
        Ok(input) => st.app.put_risk(&auth.caller, None, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(see_other(&format!("/risks/{}", r.id))),
        Err(e) => risks_view(&st, &auth, RiskQuery::default(), form, Some(message(e)?)).await,
    }
}

struct ActionRow {
    id: String,
    title: String,
    owner: String,
    due_on: String,
    done_on: String,
    overdue: bool,
}

struct AcceptanceRow {
    decided_on: String,
    approver: String,
    expires_on: String,
    justification: String,
    residual: String,
    state: &'static str,
    state_class: &'static str,
}

#[derive(Template)]
#[template(path = "risk.html")]
struct RiskPage {
    shell: Shell,
    id: String,
    inherent: String,
    inherent_class: String,
    residual: String,
    residual_class: String,
    treatment: &'static str,
    owner_name: String,
    appetite: u32,
    needs_decision: bool,
    asset_list: Vec<(String, String)>,
    control_list: Vec<(String, String, String)>,
    acceptances: Vec<AcceptanceRow>,
    actions: Vec<ActionRow>,
    can_accept: bool,
    can_manage: bool,
    form: RiskForm,
    members: Vec<(String, String)>,
    likelihood: Vec<(String, String)>,
    impact: Vec<(String, String)>,
    treatments: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    assets: Vec<(String, String)>,
    controls: Vec<(String, String)>,
    error: Option<String>,
}

async fn risk_view(
    st: &AppState,
    auth: &Auth,
    id: &str,
    form: Option<RiskForm>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let d = st
        .app
        .risk_detail(&auth.caller, id)
        .await
        .map_err(page_err)?;
    let m = &d.matrix;
    let shell = Shell::new(st, auth, d.row.risk.reference.clone(), "risks").await?;
    let c = choices(st, auth, m).await?;
    let rated = |score: u32, level: &str| format!("{score} {level}");
    let is_owner = d.row.risk.owner_id.is_some() && d.row.risk.owner_id == auth.caller.user;
    let page = RiskPage {
        shell,
        id: d.row.risk.id.clone(),
        inherent: rated(d.row.inherent_score, &d.row.inherent_level),
        inherent_class: level_class(m, d.row.inherent_score),
        residual: rated(d.row.residual_score, &d.row.residual_level),
        residual_class: level_class(m, d.row.residual_score),
        treatment: d.row.risk.treatment.label(),
        owner_name: d.row.owner_name.clone().unwrap_or_else(|| "nobody".into()),
        appetite: m.appetite(),
        needs_decision: d.row.needs_decision,
        asset_list: d
            .asset_list
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    format!("{} · {}", a.kind.label(), a.classification.label()),
                )
            })
            .collect(),
        control_list: d.control_list.clone(),
        acceptances: d
            .acceptances
            .iter()
            .rev()
            .map(|a| AcceptanceRow {
                decided_on: attest_domain::evidence::day_text(a.acceptance.decided_on),
                approver: a.acceptance.approver_name.clone(),
                expires_on: attest_domain::evidence::day_text(a.acceptance.expires_on),
                justification: a.acceptance.justification.clone(),
                residual: a.acceptance.snapshot.residual.score().to_string(),
                state: a.state.label(),
                state_class: match a.state {
                    AcceptanceState::Valid => "ok",
                    AcceptanceState::Expired | AcceptanceState::NeedsRenewal => "warn",
                },
            })
            .collect(),
        actions: d
            .actions
            .iter()
            .map(|a| ActionRow {
                id: a.action.id.clone(),
                title: a.action.title.clone(),
                owner: a.owner_name.clone().unwrap_or_default(),
                due_on: attest_domain::evidence::day_text(a.action.due_on),
                done_on: a
                    .action
                    .done_on
                    .map(attest_domain::evidence::day_text)
                    .unwrap_or_default(),
                overdue: a.overdue,
            })
            .collect(),
        can_accept: d.row.risk.status == RiskStatus::Open
            && (is_owner || auth.caller.role == Some(attest_domain::role::Role::Owner)),
        can_manage: auth.caller.require(Permission::RiskManage).is_ok(),
        form: form.unwrap_or_else(|| RiskForm::from_detail(&d)),
        members: c.members,
        likelihood: c.likelihood,
        impact: c.impact,
        treatments: c.treatments,
        statuses: c.statuses,
        assets: c.assets,
        controls: c.controls,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    risk_view(&st, &auth, &id, None, None).await
}

async fn update_risk(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let form = RiskForm::of(&pairs(&body));
    let result = match form.input() {
        Ok(input) => st.app.put_risk(&auth.caller, Some(&id), input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(see_other(&format!("/risks/{}", r.id))),
        Err(e) => risk_view(&st, &auth, &id, Some(form), Some(message(e)?)).await,
    }
}

async fn accept(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let result = match date("expires_on", Some(&one(&p, "expires_on"))) {
        Ok(Some(until)) => {
            st.app
                .accept_risk(&auth.caller, &id, &one(&p, "justification"), until)
                .await
        }
        Ok(None) => Err(AppError::invalid("expires_on", "give an expiry date")),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/risks/{id}"))),
        Err(e) => risk_view(&st, &auth, &id, None, Some(message(e)?)).await,
    }
}

struct AssetRowView {
    name: String,
    kind: &'static str,
    classification: &'static str,
    owner: String,
    description: String,
}

#[derive(Template)]
#[template(path = "assets.html")]
struct AssetsPage {
    shell: Shell,
    rows: Vec<AssetRowView>,
    can_manage: bool,
    kinds: Vec<(&'static str, &'static str)>,
    classifications: Vec<(&'static str, &'static str)>,
    members: Vec<(String, String)>,
    /// Name, kind, classification and description as typed.
    form: (String, String, String, String),
    error: Option<String>,
}

async fn assets_view(
    st: &AppState,
    auth: &Auth,
    form: (String, String, String, String),
    error: Option<String>,
) -> Result<Response, WebError> {
    let shell = Shell::new(st, auth, "Assets", "risks").await?;
    let members = st
        .app
        .assignable_people(&auth.caller)
        .await
        .map_err(page_err)?;
    let names: std::collections::BTreeMap<String, String> = members
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    let page = AssetsPage {
        shell,
        rows: st
            .app
            .assets(&auth.caller)
            .await
            .map_err(page_err)?
            .into_iter()
            .map(|a| AssetRowView {
                owner: a
                    .owner_id
                    .and_then(|o| names.get(&o.to_string()).cloned())
                    .unwrap_or_default(),
                name: a.name,
                kind: a.kind.label(),
                classification: a.classification.label(),
                description: a.description,
            })
            .collect(),
        can_manage: auth.caller.require(Permission::RiskManage).is_ok(),
        kinds: AssetKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        classifications: Classification::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        members: names.into_iter().collect(),
        form,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn assets(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    assets_view(
        &st,
        &auth,
        (
            String::new(),
            "information".into(),
            "internal".into(),
            String::new(),
        ),
        None,
    )
    .await
}

async fn create_asset(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let form = (
        one(&p, "name"),
        one(&p, "kind"),
        one(&p, "classification"),
        one(&p, "description"),
    );
    let input = || -> Result<AssetInput, AppError> {
        Ok(AssetInput {
            name: form.0.clone(),
            kind: crate::api::parse("kind", &form.1)?,
            classification: crate::api::parse("classification", &form.2)?,
            owner: user_id("owner_id", Some(&one(&p, "owner_id")))?,
            description: form.3.clone(),
        })
    };
    let result = match input() {
        Ok(i) => st.app.put_asset(&auth.caller, None, i).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/risks/assets")),
        Err(e) => assets_view(&st, &auth, form, Some(message(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "risk_matrix.html")]
struct MatrixPage {
    shell: Shell,
    likelihood: String,
    impact: String,
    levels: String,
    appetite: String,
    error: Option<String>,
}

fn levels_text(levels: &[Level]) -> String {
    levels
        .iter()
        .map(|l| format!("{} {}", l.min_score, l.name))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn matrix(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    let m = st.app.risk_matrix(&auth.caller).await.map_err(page_err)?;
    let page = MatrixPage {
        shell: Shell::new(&st, &auth, "Risk matrix", "risks").await?,
        likelihood: m.likelihood().join("\n"),
        impact: m.impact().join("\n"),
        levels: levels_text(m.levels()),
        appetite: m.appetite().to_string(),
        error: None,
    };
    Ok(render(&page))
}

async fn set_matrix(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let lines = |k: &str| -> Vec<String> {
        one(&p, k)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let parsed = || -> Result<MatrixInput, AppError> {
        let levels = lines("levels")
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (score, name) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
                let min_score = score.parse().map_err(|_| {
                    AppError::invalid(
                        "levels",
                        format!(
                            "line {}: start with the level's lowest score, like \"10 High\"",
                            i + 1
                        ),
                    )
                })?;
                Ok(Level {
                    name: name.trim().to_owned(),
                    min_score,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(MatrixInput {
            likelihood: lines("likelihood"),
            impact: lines("impact"),
            levels,
            appetite: one(&p, "appetite")
                .trim()
                .parse()
                .map_err(|_| AppError::invalid("appetite", "give the appetite as a score"))?,
        })
    };
    let result = match parsed() {
        Ok(input) => st.app.set_risk_matrix(&auth.caller, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/risks")),
        Err(e) => {
            let page = MatrixPage {
                shell: Shell::new(&st, &auth, "Risk matrix", "risks").await?,
                likelihood: one(&p, "likelihood"),
                impact: one(&p, "impact"),
                levels: one(&p, "levels"),
                appetite: one(&p, "appetite"),
                error: Some(message(e)?),
            };
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

async fn import(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    mp: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let result = match crate::api::program::files(mp).await {
        Ok(files) if files.len() == 1 => {
            st.app
                .import_risks(&auth.caller, &files[0].name, &files[0].bytes)
                .await
        }
        Ok(_) => Err(AppError::invalid("file", "choose one CSV or XLSX sheet")),
        Err(e) => Err(e),
    };
    let (error, notice) = match result {
        Ok(s) => (
            None,
            Some(format!(
                "Imported: {} risk(s) added, {} changed, {} already as in the sheet.",
                s.created, s.updated, s.unchanged
            )),
        ),
        Err(AppError::Rejected { message, problems }) => {
            let list: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.at, p.message))
                .collect();
            (Some(format!("{message}. {}", list.join("; "))), None)
        }
        Err(e) => (Some(message(e)?), None),
    };
    risks_view_with(
        &st,
        &auth,
        RiskQuery::default(),
        RiskForm::blank(),
        error,
        notice,
    )
    .await
}

async fn add_action(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let p = pairs(&body);
    let result = match (
        date("due_on", Some(&one(&p, "due_on"))),
        user_id("owner_id", Some(&one(&p, "owner_id"))),
    ) {
        (Ok(Some(due)), Ok(owner)) => st
            .app
            .add_risk_action(&auth.caller, &id, &one(&p, "title"), owner, due)
            .await
            .map(|_| ()),
        (Ok(None), _) => Err(AppError::invalid("due_on", "give a due day")),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/risks/{id}"))),
        Err(e) => risk_view(&st, &auth, &id, None, Some(message(e)?)).await,
    }
}

async fn complete_action(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath((id, action)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    match st
        .app
        .complete_risk_action(&auth.caller, &id, &action)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/risks/{id}"))),
        Err(e) => risk_view(&st, &auth, &id, None, Some(message(e)?)).await,
    }
}
