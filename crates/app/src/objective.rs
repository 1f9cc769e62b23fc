//! Information security objectives and measurement (ISO/IEC 27001 6.2, 9.1): objectives
//! with a metric, a target and a due date; metrics computed from Attest's own data and
//! recorded once a day (so they trend), or measured by people.

use std::collections::HashMap;

use attest_domain::objective::{
    COMPUTED, Direction, ObjectiveStatus, coverage_metric, manual_metric, status,
};
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::objective::{self as store_obj, Objective};
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::risk::{RiskFilter, text};
use crate::{App, AppError, AppResult, Caller, Permission};

/// How far back trends go.
const TREND_DAYS: i64 = 180;

/// A metric one can set an objective on.
#[derive(Debug, Clone, Serialize)]
pub struct MetricInfo {
    /// Its id.
    pub id: String,
    /// A label.
    pub label: String,
}

/// An objective as a caller gives it.
#[derive(Debug, Clone)]
pub struct ObjectiveInput {
    /// Title.
    pub title: String,
    /// What and why.
    pub description: String,
    /// Who is accountable.
    pub owner_id: Option<UserId>,
    /// A computed metric's id, or `manual`.
    pub metric: String,
    /// The target.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
    /// By when.
    pub due_on: Option<Date>,
}

/// An objective with where it stands and its trend.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveRow {
    /// Id.
    pub id: String,
    /// `OBJ-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Owner's id.
    pub owner_id: Option<UserId>,
    /// Owner's name.
    pub owner: Option<String>,
    /// The metric.
    pub metric: String,
    /// Its label.
    pub metric_label: String,
    /// Whether people measure it.
    pub manual: bool,
    /// The target.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
    /// By when.
    pub due_on: Option<Date>,
    /// The latest value.
    pub latest: Option<f64>,
    /// Where it stands.
    pub status: ObjectiveStatus,
    /// The values of the last 180 days, oldest first.
    pub trend: Vec<(Date, f64)>,
}

/// The objectives and the metrics available.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectivesView {
    /// Every objective.
    pub objectives: Vec<ObjectiveRow>,
    /// Metrics an objective can use (plus `manual`).
    pub metrics: Vec<MetricInfo>,
    /// Today's value of every computed metric.
    pub current: Vec<(String, f64)>,
}

impl App {
    /// The computed metrics available to the organisation: the fixed ones and the
    /// coverage of each framework in use.
    async fn metric_catalog(&self, org: OrgId) -> AppResult<Vec<MetricInfo>> {
        let mut out: Vec<MetricInfo> = COMPUTED
            .iter()
            .map(|(id, label, _)| MetricInfo {
                id: (*id).to_owned(),
                label: (*label).to_owned(),
            })
            .collect();
        for f in self.frameworks_in_use(org).await? {
            out.push(MetricInfo {
                id: coverage_metric(&f.id),
                label: format!("Coverage of {} (%)", f.name),
            });
        }
        Ok(out)
    }

    /// Today's value of every computed metric.
    pub async fn measure(&self, caller: &Caller) -> AppResult<Vec<(String, f64)>> {
        caller.require(Permission::ProgramRead)?;
        let every_risk = RiskFilter::default();
        let (ncs, register, overdue, policies, soa, coverage) = tokio::try_join!(
            self.nonconformities(caller),
            self.risk_register(caller, &every_risk),
            self.overdue_controls(caller, None),
            self.policies(caller),
            self.soa(caller, None),
            self.coverage_overview(caller),
        )?;
        let (acked, required) = policies.iter().fold((0, 0), |(a, r), p| {
            (a + p.acknowledged, r + p.to_acknowledge)
        });
        let mut out = vec![
            (
                "open-nonconformities".to_owned(),
                ncs.iter().filter(|n| n.nc.closed_on.is_none()).count() as f64,
            ),
            (
                "overdue-nonconformities".to_owned(),
                ncs.iter().filter(|n| n.overdue).count() as f64,
            ),
            (
                "risks-above-appetite".to_owned(),
                register.needing_decision as f64,
            ),
            ("controls-overdue-evidence".to_owned(), overdue.len() as f64),
            ("soa-undecided".to_owned(), soa.undecided as f64),
        ];
        if required > 0 {
            out.push((
                "policy-acknowledgement".to_owned(),
                (acked as f64 * 1000.0 / required as f64).round() / 10.0,
            ));
        }
        for c in coverage {
            out.push((
                coverage_metric(&c.framework.id),
                f64::from(c.percent_implemented()),
            ));
        }
        Ok(out)
    }

    /// Records today's computed values (the day's latest measurement stands, so the trend
    /// keeps one point per day).
    pub async fn record_metrics(&self, caller: &Caller) -> AppResult<Vec<(String, f64)>> {
        let org = caller.require(Permission::ProgramRead)?;
        let values = self.measure(caller).await?;
        let today = Timestamp::now().date();
        let mut tx = self.store.begin().await?;
        for (m, v) in &values {
            store_obj::record_value(&mut tx, org, m, today, *v, "attest").await?;
        }
        tx.commit().await?;
        Ok(values)
    }

    /// The objectives with their status and trends (recording today's values first).
    pub async fn objectives(&self, caller: &Caller) -> AppResult<ObjectivesView> {
        let org = caller.require(Permission::ProgramRead)?;
        let current = self.record_metrics(caller).await?;
        let metrics = self.metric_catalog(org).await?;
        let labels: HashMap<&str, &str> = metrics
            .iter()
            .map(|m| (m.id.as_str(), m.label.as_str()))
            .collect();
        let today = Timestamp::now().date();
        let since = today - time::Duration::days(TREND_DAYS);
        let mut trends: HashMap<String, Vec<(Date, f64)>> = HashMap::new();
        for (m, d, v) in store_obj::values_since(&self.store, org, since).await? {
            trends.entry(m).or_default().push((d, v));
        }
        let names = self.member_names(org).await?;
        let objectives = store_obj::list(&self.store, org)
            .await?
            .into_iter()
            .map(|o| {
                let trend = trends.remove(&o.metric).unwrap_or_default();
                let latest = trend.last().map(|t| t.1);
                let manual = o.metric.starts_with("manual:");
                ObjectiveRow {
                    metric_label: if manual {
                        "Measured by hand".to_owned()
                    } else {
                        labels
                            .get(o.metric.as_str())
                            .map_or_else(|| o.metric.clone(), |l| (*l).to_owned())
                    },
                    status: status(latest, o.target, o.direction, o.due_on, today),
                    owner: o.owner_id.and_then(|u| names.get(&u).cloned()),
                    id: o.id,
                    reference: o.reference,
                    title: o.title,
                    description: o.description,
                    owner_id: o.owner_id,
                    metric: o.metric,
                    manual,
                    target: o.target,
                    direction: o.direction,
                    due_on: o.due_on,
                    latest,
                    trend,
                }
            })
            .collect();
        Ok(ObjectivesView {
            objectives,
            metrics,
            current,
        })
    }

    /// Creates an objective (`id` none) or changes one.
    pub async fn put_objective(
        &self,
        caller: &Caller,
        id: Option<&str>,
        input: ObjectiveInput,
    ) -> AppResult<ObjectiveRow> {
        let org = caller.require(Permission::IsmsManage)?;
        let title = text("title", &input.title, 200, true)?;
        let description = text("description", &input.description, 4_000, false)?;
        self.check_member(org, "owner_id", input.owner_id).await?;
        if !input.target.is_finite() {
            return Err(AppError::invalid("target", "give a number"));
        }
        let manual = input.metric == "manual";
        if !manual
            && !self
                .metric_catalog(org)
                .await?
                .iter()
                .any(|m| m.id == input.metric)
        {
            return Err(AppError::invalid(
                "metric",
                format!(
                    "unknown metric `{}` (expected manual or one of GET /api/v1/objectives's metrics)",
                    input.metric
                ),
            ));
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let before = match id {
            Some(id) => Some(
                store_obj::get_in(&mut tx, org, id)
                    .await?
                    .ok_or(AppError::NotFound("objective"))?,
            ),
            None => None,
        };
        let new_id = before
            .as_ref()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.id.clone());
        let o = Objective {
            reference: match &before {
                Some(b) => b.reference.clone(),
                None => store_obj::next_ref(&mut tx, org).await?,
            },
            title,
            description,
            owner_id: input.owner_id,
            metric: if manual {
                manual_metric(&new_id)
            } else {
                input.metric
            },
            target: input.target,
            direction: input.direction,
            due_on: input.due_on,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
            id: new_id,
        };
        store_obj::put(&mut tx, org, &o)
            .await
            .map_err(AppError::ref_clash("objective"))?;
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                if before.is_some() {
                    "objective.update"
                } else {
                    "objective.create"
                },
                "objective",
                &o.id,
            )
            .after(&serde_json::json!({
                "ref": o.reference, "title": o.title, "metric": o.metric, "target": o.target,
                "direction": o.direction, "due_on": o.due_on, "owner_id": o.owner_id,
            })),
        )
        .await?;
        tx.commit().await?;
        let id = o.id.clone();
        self.objectives(caller)
            .await?
            .objectives
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AppError::NotFound("objective"))
    }

    /// Records a measurement of an objective measured by hand (replacing that day's).
    pub async fn measure_objective(
        &self,
        caller: &Caller,
        id: &str,
        value: f64,
        on: Date,
    ) -> AppResult<ObjectiveRow> {
        let org = caller.require(Permission::IsmsManage)?;
        if !value.is_finite() {
            return Err(AppError::invalid("value", "give a number"));
        }
        if on > Timestamp::now().date() {
            return Err(AppError::invalid(
                "taken_on",
                "a measurement cannot be in the future",
            ));
        }
        let mut tx = self.store.begin().await?;
        let o = store_obj::get_in(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("objective"))?;
        if !o.metric.starts_with("manual:") {
            return Err(AppError::Rule {
                rule: "metric-computed",
                message: "this objective's metric is computed by Attest; it cannot be typed".into(),
            });
        }
        store_obj::record_value(&mut tx, org, &o.metric, on, value, &caller.actor_text()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "objective.measure", "objective", id)
                .after(&serde_json::json!({"value": value, "taken_on": on})),
        )
        .await?;
        tx.commit().await?;
        self.objectives(caller)
            .await?
            .objectives
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AppError::NotFound("objective"))
    }
}
