//! Risk management (ISO/IEC 27001 6.1.2, 6.1.3, 8.2, 8.3): the matrix and appetite, the asset
//! register, the risk register with heat maps, and acceptances of residual risk by the risk's
//! owner.

use std::collections::{BTreeMap, HashMap, HashSet};

use attest_domain::control::valid_control_ref;
use attest_domain::risk::{
    AcceptanceState, AssetKind, Classification, Level, MatrixError, RiskMatrix, RiskSnapshot,
    RiskStatus, Treatment, acceptance_state,
};
use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::control as store_ctl;
use attest_store::risk::{self as store_risk, Acceptance, Action, Asset, Risk};
use attest_store::user as store_user;
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::{App, AppError, AppResult, Caller, Permission};

/// What a person gives to create or change an asset.
#[derive(Debug, Clone)]
pub struct AssetInput {
    /// Name, unique in the organisation.
    pub name: String,
    /// Kind.
    pub kind: AssetKind,
    /// Classification.
    pub classification: Classification,
    /// Owner.
    pub owner: Option<UserId>,
    /// Description.
    pub description: String,
}

/// What a person gives to create or change a risk.
#[derive(Debug, Clone)]
pub struct RiskInput {
    /// Reference (`R-001`).
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// The threat.
    pub threat: String,
    /// The vulnerability.
    pub vulnerability: String,
    /// Risk owner.
    pub owner: Option<UserId>,
    /// Inherent likelihood and impact steps.
    pub inherent: (i64, i64),
    /// Residual likelihood and impact steps.
    pub residual: (i64, i64),
    /// Treatment.
    pub treatment: Treatment,
    /// Treatment plan.
    pub treatment_plan: String,
    /// When the plan is due.
    pub treatment_due: Option<Date>,
    /// Open or closed.
    pub status: RiskStatus,
    /// Affected assets' ids.
    pub assets: Vec<String>,
    /// Treating controls' ids.
    pub controls: Vec<String>,
}

/// A proposed matrix, as given.
#[derive(Debug, Clone)]
pub struct MatrixInput {
    /// Likelihood step names, least likely first.
    pub likelihood: Vec<String>,
    /// Impact step names, least severe first.
    pub impact: Vec<String>,
    /// Levels, lowest first.
    pub levels: Vec<Level>,
    /// Highest acceptable score.
    pub appetite: u32,
}

/// The latest acceptance of a risk and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceView {
    /// The record.
    #[serde(flatten)]
    pub acceptance: Acceptance,
    /// Valid, expired or needing renewal.
    pub state: AcceptanceState,
}

/// A risk with everything derived from it.
#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    /// The risk.
    #[serde(flatten)]
    pub risk: Risk,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Inherent score and level.
    pub inherent_score: u32,
    /// Inherent level's name.
    pub inherent_level: String,
    /// Residual score.
    pub residual_score: u32,
    /// Residual level's name.
    pub residual_level: String,
    /// Residual score above the appetite.
    pub above_appetite: bool,
    /// The latest acceptance, if any.
    pub acceptance: Option<AcceptanceView>,
    /// Open, above appetite and without a valid acceptance: flagged everywhere.
    pub needs_decision: bool,
    /// Affected assets' ids.
    pub assets: Vec<String>,
    /// Treating controls' ids.
    pub controls: Vec<String>,
}

/// Counts of risks per cell: `cells[likelihood - 1][impact - 1]`.
#[derive(Debug, Clone, Serialize)]
pub struct HeatMap {
    /// Inherent ratings.
    pub inherent: Vec<Vec<u32>>,
    /// Residual ratings.
    pub residual: Vec<Vec<u32>>,
}

/// The register: the matrix, the (filtered) risks, their heat maps.
#[derive(Debug, Clone, Serialize)]
pub struct RiskRegister {
    /// The matrix they are rated on.
    pub matrix: RiskMatrix,
    /// The risks, by reference.
    pub risks: Vec<RiskRow>,
    /// Heat maps of the listed risks.
    pub heat: HeatMap,
    /// How many listed risks need a decision.
    pub needing_decision: usize,
}

/// Filters of the register.
#[derive(Debug, Clone, Default)]
pub struct RiskFilter {
    /// Only this owner's.
    pub owner: Option<UserId>,
    /// Only this treatment.
    pub treatment: Option<Treatment>,
    /// Only this status.
    pub status: Option<RiskStatus>,
    /// Only risks whose residual level has this name.
    pub level: Option<String>,
    /// Only risks needing a decision.
    pub needs_decision: bool,
    /// Only risks affecting this asset.
    pub asset: Option<String>,
    /// Only risks treated by this control.
    pub control: Option<String>,
    /// Words in reference, title, threat or vulnerability.
    pub text: Option<String>,
}

/// A risk with its acceptances, for its page.
#[derive(Debug, Clone, Serialize)]
pub struct RiskDetail {
    /// The row.
    pub row: RiskRow,
    /// Every acceptance, oldest first.
    pub acceptances: Vec<AcceptanceView>,
    /// Affected assets.
    pub asset_list: Vec<Asset>,
    /// Treating controls: (id, ref, title).
    pub control_list: Vec<(String, String, String)>,
    /// The treatment plan's actions, by due day.
    pub actions: Vec<ActionView>,
    /// The matrix.
    pub matrix: RiskMatrix,
}

/// An action of a treatment plan, and whether it is overdue.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    /// The action.
    #[serde(flatten)]
    pub action: Action,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Open and past its due day.
    pub overdue: bool,
}

/// A trimmed text field of at most `max` characters (and not blank, when `required`).
pub(crate) fn text(field: &str, v: &str, max: usize, required: bool) -> AppResult<String> {
    let t = v.trim();
    if required && t.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("give a {}", field.replace('_', " ")),
        ));
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("the {field} is longer than {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

fn matrix_error(e: MatrixError) -> AppError {
    let field = match &e {
        MatrixError::ScaleSize { scale, .. } => *scale,
        MatrixError::Name { what: "step" } => "likelihood",
        MatrixError::Name { .. } | MatrixError::Levels { .. } => "levels",
        MatrixError::Appetite { .. } => "appetite",
        MatrixError::OffScale { field, .. } => field,
    };
    AppError::invalid(field, e.to_string())
}

fn snapshot(r: &Risk, controls: &[String]) -> RiskSnapshot {
    let mut controls = controls.to_vec();
    controls.sort();
    RiskSnapshot {
        inherent: r.inherent,
        residual: r.residual,
        treatment: r.treatment,
        controls,
    }
}

fn dedup(ids: &[String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.trim().to_owned()).collect();
    v.sort();
    v.dedup();
    v
}

impl App {
    /// The organisation's risk matrix.
    pub async fn risk_matrix(&self, caller: &Caller) -> AppResult<RiskMatrix> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(store_risk::matrix(&self.store, org).await?)
    }

    /// Sets the risk matrix and appetite; refused while a risk is rated beyond the new scales.
    pub async fn set_risk_matrix(
        &self,
        caller: &Caller,
        input: MatrixInput,
    ) -> AppResult<RiskMatrix> {
        let org = caller.require(Permission::RiskManage)?;
        let m = RiskMatrix::new(input.likelihood, input.impact, input.levels, input.appetite)
            .map_err(matrix_error)?;
        let before = store_risk::matrix(&self.store, org).await?;
        let off: Vec<String> = store_risk::risks(&self.store, org)
            .await?
            .into_iter()
            .filter(|r| !m.fits(r.inherent) || !m.fits(r.residual))
            .map(|r| r.reference)
            .collect();
        if !off.is_empty() {
            return Err(AppError::Rule {
                rule: "risk-matrix-fits",
                message: format!(
                    "{} risk(s) are rated beyond the new scales ({}); re-rate them first",
                    off.len(),
                    off.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let mut tx = self.store.begin().await?;
        store_risk::set_matrix(&mut tx, org, &m, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "risk.matrix", "risk_matrix", org.to_string())
                .before(&before)
                .after(&m),
        )
        .await?;
        tx.commit().await?;
        Ok(m)
    }

    /// The asset register, by name.
    pub async fn assets(&self, caller: &Caller) -> AppResult<Vec<Asset>> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(store_risk::assets(&self.store, org).await?)
    }

    /// Creates an asset, or changes one when `id` is given.
    pub async fn put_asset(
        &self,
        caller: &Caller,
        id: Option<&str>,
        input: AssetInput,
    ) -> AppResult<Asset> {
        let org = caller.require(Permission::RiskManage)?;
        let name = text("name", &input.name, 200, true)?;
        let description = text("description", &input.description, 20_000, false)?;
        self.check_member(org, "owner_id", input.owner).await?;
        let mut tx = self.store.begin().await?;
        let before = match id {
            Some(id) => Some(
                store_risk::asset_in(&mut tx, org, id)
                    .await?
                    .ok_or(AppError::NotFound("asset"))?,
            ),
            None => None,
        };
        let now = Timestamp::now();
        let a = Asset {
            id: before
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.id.clone()),
            org_id: org,
            name,
            kind: input.kind,
            classification: input.classification,
            owner_id: input.owner,
            description,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        store_risk::put_asset(&mut tx, &a)
            .await
            .map_err(|e| match e {
                attest_store::StoreError::Unique { .. } => AppError::Conflict {
                    field: "name".into(),
                    message: format!("an asset named {} already exists", a.name),
                },
                other => other.into(),
            })?;
        let action = if before.is_some() {
            "asset.update"
        } else {
            "asset.create"
        };
        let mut event = Event::org(org, action, "asset", &a.id).after(&a);
        if let Some(b) = &before {
            event = event.before(b);
        }
        record(&mut tx, caller, event).await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Creates a risk, or changes one when `id` is given. A change to the ratings, the
    /// treatment or the treating controls leaves an earlier acceptance needing renewal.
    pub async fn put_risk(
        &self,
        caller: &Caller,
        id: Option<&str>,
        input: RiskInput,
    ) -> AppResult<Risk> {
        let org = caller.require(Permission::RiskManage)?;
        let matrix = store_risk::matrix(&self.store, org).await?;
        let mut tx = self.store.begin().await?;
        let (r, _) = self
            .put_risk_in(&mut tx, caller, org, &matrix, id, input)
            .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// [`App::put_risk`] inside a transaction (an import writes many); says whether anything
    /// changed (a change that changes nothing is neither written nor recorded).
    pub(crate) async fn put_risk_in(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        org: OrgId,
        matrix: &RiskMatrix,
        id: Option<&str>,
        input: RiskInput,
    ) -> AppResult<(Risk, bool)> {
        let reference = input.reference.trim().to_owned();
        if !valid_control_ref(&reference) {
            return Err(AppError::invalid(
                "ref",
                "use 1 to 32 letters, digits, dots, hyphens or underscores, like R-001",
            ));
        }
        let title = text("title", &input.title, 300, true)?;
        let description = text("description", &input.description, 20_000, false)?;
        let threat = text("threat", &input.threat, 2_000, false)?;
        let vulnerability = text("vulnerability", &input.vulnerability, 2_000, false)?;
        let treatment_plan = text("treatment_plan", &input.treatment_plan, 20_000, false)?;
        let rate = |prefix: &str, (l, i): (i64, i64)| {
            matrix.rate(l, i).map_err(|e| match e {
                MatrixError::OffScale { field, max } => AppError::invalid(
                    &format!("{prefix}_{field}"),
                    format!("{prefix} {field} must be from 1 to {max}"),
                ),
                other => matrix_error(other),
            })
        };
        let inherent = rate("inherent", input.inherent)?;
        let residual = rate("residual", input.residual)?;
        if residual.score() > inherent.score() {
            return Err(AppError::invalid(
                "residual_likelihood",
                "the residual score cannot be above the inherent score: treatment does not raise a risk",
            ));
        }
        self.check_member(org, "owner_id", input.owner).await?;
        let assets = dedup(&input.assets);
        let controls = dedup(&input.controls);
        for a in &assets {
            if store_risk::asset_in(tx, org, a).await?.is_none() {
                return Err(AppError::invalid("assets", format!("no asset has id {a}")));
            }
        }
        for c in &controls {
            if store_ctl::get_in(tx, org, c).await?.is_none() {
                return Err(AppError::invalid(
                    "controls",
                    format!("no control has id {c}"),
                ));
            }
        }
        let before = match id {
            Some(id) => {
                let r = store_risk::risk_in(tx, org, id)
                    .await?
                    .ok_or(AppError::NotFound("risk"))?;
                let a = store_risk::assets_of(tx, org, id).await?;
                let c = store_risk::controls_of(tx, org, id).await?;
                Some((r, a, c))
            }
            None => None,
        };
        let now = Timestamp::now();
        let r = Risk {
            id: before
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.0.id.clone()),
            org_id: org,
            reference,
            title,
            description,
            threat,
            vulnerability,
            owner_id: input.owner,
            inherent,
            residual,
            treatment: input.treatment,
            treatment_plan,
            treatment_due: input.treatment_due,
            status: input.status,
            created_at: before.as_ref().map_or(now, |b| b.0.created_at),
            updated_at: now,
        };
        if let Some((b, a, c)) = &before
            && *a == assets
            && *c == controls
            && (Risk {
                updated_at: b.updated_at,
                ..r.clone()
            }) == *b
        {
            return Ok((b.clone(), false));
        }
        store_risk::put_risk(tx, &r).await.map_err(|e| match e {
            attest_store::StoreError::Unique { .. } => AppError::Conflict {
                field: "ref".into(),
                message: format!("a risk {} already exists", r.reference),
            },
            other => other.into(),
        })?;
        store_risk::set_assets(tx, org, &r.id, &assets).await?;
        store_risk::set_controls(tx, org, &r.id, &controls).await?;
        let after = serde_json::json!({"risk": r, "assets": assets, "controls": controls});
        let mut event = Event::org(
            org,
            if before.is_some() {
                "risk.update"
            } else {
                "risk.create"
            },
            "risk",
            &r.id,
        )
        .after(&after);
        if let Some((b, a, c)) = &before {
            event = event.before(&serde_json::json!({"risk": b, "assets": a, "controls": c}));
        }
        record(tx, caller, event).await?;
        Ok((r, true))
    }

    /// Records the acceptance of a risk's residual level. Only the risk's owner, or an owner
    /// of the organisation, has the authority.
    pub async fn accept_risk(
        &self,
        caller: &Caller,
        id: &str,
        justification: &str,
        expires_on: Date,
    ) -> AppResult<Acceptance> {
        let org = caller.require(Permission::RiskAccept)?;
        let justification = text("justification", justification, 5_000, true)?;
        let today = Timestamp::now().date();
        if expires_on <= today || expires_on > today + time::Duration::days(3 * 366) {
            return Err(AppError::invalid(
                "expires_on",
                "give an expiry date after today and within three years",
            ));
        }
        let mut tx = self.store.begin().await?;
        let r = store_risk::risk_in(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("risk"))?;
        let is_owner_role = caller.role == Some(Role::Owner);
        if !is_owner_role && (r.owner_id.is_none() || r.owner_id != caller.user) {
            return Err(AppError::Forbidden(
                "only the risk's owner or an owner of the organisation may accept a risk".into(),
            ));
        }
        if r.status == RiskStatus::Closed {
            return Err(AppError::Rule {
                rule: "risk-open",
                message: "the risk is closed; there is nothing to accept".into(),
            });
        }
        let controls = store_risk::controls_of(&mut tx, org, id).await?;
        let a = Acceptance {
            id: uuid::Uuid::now_v7().to_string(),
            risk_id: r.id.clone(),
            approver_id: caller.user,
            approver_name: caller.actor_text(),
            decided_on: today,
            expires_on,
            justification,
            snapshot: snapshot(&r, &controls),
            created_at: Timestamp::now(),
        };
        store_risk::insert_acceptance(&mut tx, org, &a).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "risk.accept", "risk", &r.id).after(&a),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// The risk register, filtered, with heat maps of what is listed.
    pub async fn risk_register(&self, caller: &Caller, f: &RiskFilter) -> AppResult<RiskRegister> {
        let org = caller.require(Permission::ProgramRead)?;
        let matrix = store_risk::matrix(&self.store, org).await?;
        let rows = self.risk_rows(org, &matrix).await?;
        let text = f
            .text
            .as_ref()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        let rows: Vec<RiskRow> = rows
            .into_iter()
            .filter(|r| {
                f.owner.is_none_or(|o| r.risk.owner_id == Some(o))
                    && f.treatment.is_none_or(|t| r.risk.treatment == t)
                    && f.status.is_none_or(|s| r.risk.status == s)
                    && f.level.as_ref().is_none_or(|l| &r.residual_level == l)
                    && (!f.needs_decision || r.needs_decision)
                    && f.asset.as_ref().is_none_or(|a| r.assets.contains(a))
                    && f.control.as_ref().is_none_or(|c| r.controls.contains(c))
                    && text.as_ref().is_none_or(|t| {
                        [
                            &r.risk.reference,
                            &r.risk.title,
                            &r.risk.threat,
                            &r.risk.vulnerability,
                        ]
                        .iter()
                        .any(|s| s.to_lowercase().contains(t.as_str()))
                    })
            })
            .collect();
        let (nl, ni) = (matrix.likelihood().len(), matrix.impact().len());
        let mut heat = HeatMap {
            inherent: vec![vec![0; ni]; nl],
            residual: vec![vec![0; ni]; nl],
        };
        for r in &rows {
            for (map, rating) in [
                (&mut heat.inherent, r.risk.inherent),
                (&mut heat.residual, r.risk.residual),
            ] {
                if let Some(c) = map
                    .get_mut(usize::from(rating.likelihood).wrapping_sub(1))
                    .and_then(|row| row.get_mut(usize::from(rating.impact).wrapping_sub(1)))
                {
                    *c += 1;
                }
            }
        }
        let needing_decision = rows.iter().filter(|r| r.needs_decision).count();
        Ok(RiskRegister {
            matrix,
            risks: rows,
            heat,
            needing_decision,
        })
    }

    /// Every risk with its derived values, by reference: five reads whatever the count, run
    /// side by side.
    async fn risk_rows(&self, org: OrgId, matrix: &RiskMatrix) -> AppResult<Vec<RiskRow>> {
        let (risks, asset_links, control_links, acceptances, members) = tokio::try_join!(
            store_risk::risks(&self.store, org),
            store_risk::all_asset_links(&self.store, org),
            store_risk::all_control_links(&self.store, org),
            store_risk::acceptances(&self.store, org, None),
            store_user::members(&self.store, org),
        )?;
        let mut assets: HashMap<String, Vec<String>> = HashMap::new();
        for (r, a) in asset_links {
            assets.entry(r).or_default().push(a);
        }
        let mut controls: HashMap<String, Vec<String>> = HashMap::new();
        for (r, c) in control_links {
            controls.entry(r).or_default().push(c);
        }
        let mut latest: HashMap<String, Acceptance> = HashMap::new();
        for a in acceptances {
            latest.insert(a.risk_id.clone(), a);
        }
        let names: BTreeMap<UserId, String> = members
            .into_iter()
            .map(|m| (m.user.id, m.user.display_name))
            .collect();
        let today = Timestamp::now().date();
        Ok(risks
            .into_iter()
            .map(|r| {
                let assets = assets.remove(&r.id).unwrap_or_default();
                let controls = controls.remove(&r.id).unwrap_or_default();
                let acceptance = latest.remove(&r.id).map(|a| {
                    let state = acceptance_state(
                        &a.snapshot,
                        a.expires_on,
                        &snapshot(&r, &controls),
                        today,
                    );
                    AcceptanceView {
                        acceptance: a,
                        state,
                    }
                });
                row(r, matrix, &names, acceptance, assets, controls)
            })
            .collect())
    }

    /// One risk with its acceptances, assets and controls.
    pub async fn risk_detail(&self, caller: &Caller, id: &str) -> AppResult<RiskDetail> {
        let org = caller.require(Permission::ProgramRead)?;
        let matrix = store_risk::matrix(&self.store, org).await?;
        let r = store_risk::risk(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("risk"))?;
        let mut tx = self.store.begin().await?;
        let asset_ids = store_risk::assets_of(&mut tx, org, id).await?;
        let control_ids = store_risk::controls_of(&mut tx, org, id).await?;
        tx.commit().await?;
        let today = Timestamp::now().date();
        let now = snapshot(&r, &control_ids);
        let acceptances: Vec<AcceptanceView> = store_risk::acceptances(&self.store, org, Some(id))
            .await?
            .into_iter()
            .map(|a| {
                let state = acceptance_state(&a.snapshot, a.expires_on, &now, today);
                AcceptanceView {
                    acceptance: a,
                    state,
                }
            })
            .collect();
        let wanted: HashSet<&String> = asset_ids.iter().collect();
        let asset_list = store_risk::assets(&self.store, org)
            .await?
            .into_iter()
            .filter(|a| wanted.contains(&a.id))
            .collect();
        let mut control_list = Vec::new();
        for c in &control_ids {
            if let Some(c) = store_ctl::get(&self.store, org, c).await? {
                control_list.push((c.id, c.reference, c.title));
            }
        }
        control_list.sort_by(|a, b| a.1.cmp(&b.1));
        let names = self.member_names(org).await?;
        let latest = acceptances.last().cloned();
        let actions = store_risk::actions(&self.store, org, Some(id))
            .await?
            .into_iter()
            .map(|a| ActionView {
                owner_name: a.owner_id.and_then(|u| names.get(&u).cloned()),
                overdue: a.done_on.is_none() && a.due_on < today,
                action: a,
            })
            .collect();
        Ok(RiskDetail {
            row: row(r, &matrix, &names, latest, asset_ids, control_ids),
            acceptances,
            asset_list,
            control_list,
            actions,
            matrix,
        })
    }

    /// Open treatment actions past their due day, soonest due first.
    pub async fn overdue_risk_actions(&self, caller: &Caller) -> AppResult<Vec<Action>> {
        let org = caller.require(Permission::ProgramRead)?;
        let today = Timestamp::now().date();
        Ok(store_risk::actions(&self.store, org, None)
            .await?
            .into_iter()
            .filter(|a| a.done_on.is_none() && a.due_on < today)
            .collect())
    }

    /// Adds an action to a risk's treatment plan.
    pub async fn add_risk_action(
        &self,
        caller: &Caller,
        risk: &str,
        title: &str,
        owner: Option<UserId>,
        due_on: Date,
    ) -> AppResult<Action> {
        let org = caller.require(Permission::RiskManage)?;
        let title = text("title", title, 500, true)?;
        self.check_member(org, "owner_id", owner).await?;
        let mut tx = self.store.begin().await?;
        store_risk::risk_in(&mut tx, org, risk)
            .await?
            .ok_or(AppError::NotFound("risk"))?;
        let a = Action {
            id: uuid::Uuid::now_v7().to_string(),
            risk_id: risk.to_owned(),
            title,
            owner_id: owner,
            due_on,
            done_on: None,
            created_at: Timestamp::now(),
        };
        store_risk::insert_action(&mut tx, org, &a).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "risk.action.add", "risk", risk).after(&a),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Marks an action of a risk's treatment plan done today.
    pub async fn complete_risk_action(
        &self,
        caller: &Caller,
        risk: &str,
        action: &str,
    ) -> AppResult<()> {
        let org = caller.require(Permission::RiskManage)?;
        let mut tx = self.store.begin().await?;
        let today = Timestamp::now().date();
        if !store_risk::complete_action(&mut tx, org, risk, action, today).await? {
            return Err(AppError::NotFound("open action"));
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "risk.action.done", "risk", risk)
                .after(&serde_json::json!({"action": action, "done_on": attest_domain::evidence::day_text(today)})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn row(
    r: Risk,
    matrix: &RiskMatrix,
    names: &BTreeMap<UserId, String>,
    acceptance: Option<AcceptanceView>,
    assets: Vec<String>,
    controls: Vec<String>,
) -> RiskRow {
    let (inherent_score, residual_score) = (r.inherent.score(), r.residual.score());
    let above_appetite = matrix.above_appetite(residual_score);
    let accepted = acceptance
        .as_ref()
        .is_some_and(|a| a.state == AcceptanceState::Valid);
    RiskRow {
        owner_name: r.owner_id.and_then(|u| names.get(&u).cloned()),
        inherent_level: matrix.level(inherent_score).name.clone(),
        residual_level: matrix.level(residual_score).name.clone(),
        inherent_score,
        residual_score,
        above_appetite,
        needs_decision: r.status == RiskStatus::Open && above_appetite && !accepted,
        acceptance,
        assets,
        controls,
        risk: r,
    }
}
