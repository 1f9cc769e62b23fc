//! The internal audit programme (ISO/IEC 27001 9.2): planned audits with scope and
//! criteria, a result per requirement, findings raised as nonconformities, completion; and
//! management reviews (9.3) with the clause 9.3.2 inputs gathered from the data, frozen
//! when the review is closed with its decisions.

use std::collections::HashMap;

use attest_domain::internal_audit::{AuditResult, AuditStatus, completion_blocker};
use attest_domain::nonconformity::NcSource;
use attest_domain::{Timestamp, UserId};
use attest_store::internal_audit::{self as store_ia, Audit, ResultRow, Review};
use attest_store::nonconformity::{self as store_nc, Nonconformity};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::audit_trail::{Event, record};
use crate::risk::{RiskFilter, text};
use crate::{App, AppError, AppResult, Caller, Permission};

/// An audit as a caller plans it.
#[derive(Debug, Clone)]
pub struct AuditInput {
    /// Title.
    pub title: String,
    /// What is audited.
    pub scope: String,
    /// Against what.
    pub criteria: String,
    /// The framework whose requirements are audited.
    pub framework_id: Option<String>,
    /// Its requirements in scope.
    pub requirements: Vec<String>,
    /// Who audits.
    pub auditor: String,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
}

/// A requirement in an audit's scope with its result.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeItem {
    /// The requirement.
    pub requirement_id: String,
    /// Its title.
    pub title: String,
    /// What was found.
    pub result: Option<AuditResult>,
    /// Notes.
    pub notes: String,
    /// The nonconformity raised: (id, ref).
    pub nonconformity: Option<(String, String)>,
}

/// An audit with its results.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    /// Id.
    pub id: String,
    /// `IA-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Scope.
    pub scope: String,
    /// Criteria.
    pub criteria: String,
    /// The framework audited.
    pub framework_id: Option<String>,
    /// Who audits.
    pub auditor: String,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
    /// Where it stands.
    pub status: AuditStatus,
    /// The conclusion.
    pub conclusion: String,
    /// Each requirement in scope with its result.
    pub items: Vec<ScopeItem>,
    /// Findings (not conforming, not "not audited").
    pub findings: usize,
    /// What blocks completion (for an audit not completed).
    pub blocker: Option<String>,
}

/// A decision of a management review (9.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// What was decided (an improvement, a change to the ISMS, resources).
    pub decision: String,
    /// Who carries it out.
    #[serde(default)]
    pub owner: String,
    /// By when (YYYY-MM-DD).
    #[serde(default)]
    pub due_on: String,
}

/// The clause 9.3.2 inputs, gathered from the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewInputs {
    /// a) The decisions of the previous review.
    pub previous_decisions: Vec<ReviewDecision>,
    /// b, c) Versions of the scope and context saved since the previous review.
    pub scope_changes: Vec<String>,
    /// d1) Nonconformities: open, of which overdue, closed since the previous review.
    pub nonconformities: (usize, usize, usize),
    /// d2, d4) Objectives: "OBJ-001 title: status (latest / target)".
    pub objectives: Vec<String>,
    /// d3) Internal audits completed since the previous review: "IA-001 title: N finding(s)".
    pub audits: Vec<String>,
    /// f) Risks: in the register, above appetite without acceptance, overdue actions.
    pub risks: (usize, usize, usize),
    /// The Statement of Applicability: "version N approved" or the draft's state.
    pub soa: String,
    /// Policies: reviews overdue, acknowledgements done of required.
    pub policies: (usize, usize, usize),
    /// g) Open opportunities for improvement.
    pub opportunities: Vec<String>,
}

/// A management review.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    /// Id.
    pub id: String,
    /// `MR-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// When.
    pub held_on: Date,
    /// Who attends.
    pub attendees: String,
    /// The inputs: frozen once closed, else gathered now.
    pub inputs: ReviewInputs,
    /// Discussion and the inputs people bring (feedback of interested parties).
    pub notes: String,
    /// The decisions.
    pub decisions: Vec<ReviewDecision>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// By whom.
    pub closed_by: Option<String>,
}

impl App {
    async fn check_audit_input(
        &self,
        org: attest_domain::OrgId,
        i: AuditInput,
    ) -> AppResult<AuditInput> {
        let title = text("title", &i.title, 200, true)?;
        let scope = text("scope", &i.scope, 4_000, true)?;
        let criteria = text("criteria", &i.criteria, 4_000, true)?;
        let auditor = text("auditor", &i.auditor, 200, true)?;
        if i.ends_on < i.starts_on {
            return Err(AppError::invalid(
                "ends_on",
                "the audit cannot end before it starts",
            ));
        }
        let mut requirements: Vec<String> = i
            .requirements
            .iter()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
            .collect();
        requirements.dedup();
        if requirements.len() > 500 {
            return Err(AppError::invalid(
                "requirements",
                "at most 500 requirements per audit",
            ));
        }
        match &i.framework_id {
            Some(fw) => {
                let f = self.find_framework(org, fw).await.map_err(|_| {
                    AppError::invalid("framework_id", format!("no framework `{fw}`"))
                })?;
                if let Some(bad) = requirements.iter().find(|r| f.requirement(r).is_none()) {
                    return Err(AppError::invalid(
                        "requirements",
                        format!("{} has no requirement {bad}", f.name),
                    ));
                }
            }
            None if !requirements.is_empty() => {
                return Err(AppError::invalid(
                    "framework_id",
                    "name the framework the requirements belong to",
                ));
            }
            None => {}
        }
        Ok(AuditInput {
            title,
            scope,
            criteria,
            auditor,
            requirements,
            ..i
        })
    }

    /// Plans an audit (`id` none) or changes a planned or running one.
    pub async fn put_internal_audit(
        &self,
        caller: &Caller,
        id: Option<&str>,
        input: AuditInput,
    ) -> AppResult<AuditView> {
        let org = caller.require(Permission::IsmsManage)?;
        let i = self.check_audit_input(org, input).await?;
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let before = match id {
            Some(id) => {
                let b = store_ia::lock(&mut tx, org, id)
                    .await?
                    .ok_or(AppError::NotFound("internal audit"))?;
                if b.status == AuditStatus::Completed {
                    return Err(AppError::Rule {
                        rule: "audit-completed",
                        message: format!("{} is completed; plan a new audit", b.reference),
                    });
                }
                Some(b)
            }
            None => None,
        };
        let a = Audit {
            id: before
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.id.clone()),
            reference: match &before {
                Some(b) => b.reference.clone(),
                None => store_ia::next_ref(&mut tx, org).await?,
            },
            title: i.title,
            scope: i.scope,
            criteria: i.criteria,
            framework_id: i.framework_id,
            requirements: i.requirements,
            auditor: i.auditor,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            status: before.as_ref().map_or(AuditStatus::Planned, |b| b.status),
            conclusion: before
                .as_ref()
                .map(|b| b.conclusion.clone())
                .unwrap_or_default(),
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        store_ia::put(&mut tx, org, &a)
            .await
            .map_err(AppError::ref_clash("internal audit"))?;
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                if before.is_some() {
                    "audit.update"
                } else {
                    "audit.plan"
                },
                "internal_audit",
                &a.id,
            )
            .after(&serde_json::json!({
                "ref": a.reference, "title": a.title, "scope": a.scope, "criteria": a.criteria,
                "framework_id": a.framework_id, "requirements": a.requirements,
                "auditor": a.auditor, "starts_on": a.starts_on, "ends_on": a.ends_on,
            })),
        )
        .await?;
        tx.commit().await?;
        self.internal_audit(caller, &a.id).await
    }

    /// Every audit of the programme, latest first.
    pub async fn internal_audits(&self, caller: &Caller) -> AppResult<Vec<AuditView>> {
        let org = caller.require(Permission::ProgramRead)?;
        let audits = store_ia::list(&self.store, org).await?;
        let mut results: HashMap<String, Vec<ResultRow>> = HashMap::new();
        for (a, r) in store_ia::results(&self.store, org, None).await? {
            results.entry(a).or_default().push(r);
        }
        let ncs: HashMap<String, String> = store_nc::list(&self.store, org)
            .await?
            .into_iter()
            .map(|n| (n.id, n.reference))
            .collect();
        let mut out = Vec::new();
        for a in audits {
            let f = match &a.framework_id {
                Some(fw) => self.find_framework(org, fw).await.ok(),
                None => None,
            };
            let rs = results.remove(&a.id).unwrap_or_default();
            out.push(view(a, rs, f.as_deref(), &ncs));
        }
        Ok(out)
    }

    /// One audit.
    pub async fn internal_audit(&self, caller: &Caller, id: &str) -> AppResult<AuditView> {
        self.internal_audits(caller)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(AppError::NotFound("internal audit"))
    }

    /// Records the result of auditing one requirement in scope (the audit is then in
    /// progress).
    pub async fn record_audit_result(
        &self,
        caller: &Caller,
        id: &str,
        requirement: &str,
        result: AuditResult,
        notes: &str,
    ) -> AppResult<AuditView> {
        let org = caller.require(Permission::IsmsManage)?;
        let notes = text("notes", notes, 4_000, false)?;
        let mut tx = self.store.begin().await?;
        let a = store_ia::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("internal audit"))?;
        if a.status == AuditStatus::Completed {
            return Err(AppError::Rule {
                rule: "audit-completed",
                message: format!("{} is completed; its results cannot change", a.reference),
            });
        }
        if !a.requirements.iter().any(|r| r == requirement) {
            return Err(AppError::invalid(
                "requirement",
                format!("{requirement} is not in the scope of {}", a.reference),
            ));
        }
        store_ia::put_result(
            &mut tx,
            org,
            id,
            &ResultRow {
                requirement_id: requirement.to_owned(),
                result,
                notes: notes.clone(),
                nc_id: None,
                recorded_by: caller.actor_text(),
                recorded_at: Timestamp::now(),
            },
        )
        .await?;
        if a.status == AuditStatus::Planned {
            store_ia::put(
                &mut tx,
                org,
                &Audit {
                    status: AuditStatus::InProgress,
                    updated_at: Timestamp::now(),
                    ..a.clone()
                },
            )
            .await?;
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "audit.result", "internal_audit", id).after(
                &serde_json::json!({"requirement": requirement, "result": result, "notes": notes}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.internal_audit(caller, id).await
    }

    /// Raises the nonconformity of a finding (source: internal audit), linked to the
    /// requirement; the finding remembers it.
    pub async fn raise_audit_finding(
        &self,
        caller: &Caller,
        id: &str,
        requirement: &str,
        owner: Option<UserId>,
        due_on: Option<Date>,
    ) -> AppResult<Nonconformity> {
        let org = caller.require(Permission::IsmsManage)?;
        self.check_member(org, "owner_id", owner).await?;
        let mut tx = self.store.begin().await?;
        let a = store_ia::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("internal audit"))?;
        let found = store_ia::results(&self.store, org, Some(id))
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .find(|r| r.requirement_id == requirement)
            .ok_or_else(|| {
                AppError::invalid(
                    "requirement",
                    format!("no result recorded for {requirement}"),
                )
            })?;
        let Some(severity) = found.result.severity() else {
            return Err(AppError::Rule {
                rule: "not-a-finding",
                message: format!(
                    "{requirement} was found {}: there is nothing to raise",
                    found.result.label().to_lowercase()
                ),
            });
        };
        if found.nc_id.is_some() {
            return Err(AppError::Rule {
                rule: "already-raised",
                message: format!("the finding on {requirement} is already raised"),
            });
        }
        let n = self
            .raise_audit_nonconformity(
                &mut tx,
                caller,
                org,
                crate::nonconformity::AuditNc {
                    title: format!("{}: {} on {requirement}", a.reference, found.result.label()),
                    description: found.notes.clone(),
                    source: NcSource::InternalAudit,
                    severity,
                    requirement: (a.framework_id.clone(), Some(requirement.to_owned())),
                    control_id: None,
                    owner,
                    due_on,
                },
            )
            .await?;
        store_ia::put_result(
            &mut tx,
            org,
            id,
            &ResultRow {
                nc_id: Some(n.id.clone()),
                ..found
            },
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "audit.raise", "internal_audit", id)
                .after(&serde_json::json!({"requirement": requirement, "nonconformity": n.id})),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Completes an audit with its conclusion: refused while a requirement has no result
    /// or a nonconformity found has not been raised.
    pub async fn complete_internal_audit(
        &self,
        caller: &Caller,
        id: &str,
        conclusion: &str,
    ) -> AppResult<AuditView> {
        let org = caller.require(Permission::IsmsManage)?;
        let conclusion = text("conclusion", conclusion, 20_000, false)?;
        let current = self.internal_audit(caller, id).await?;
        let mut tx = self.store.begin().await?;
        let a = store_ia::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("internal audit"))?;
        if a.status == AuditStatus::Completed {
            return Err(AppError::Rule {
                rule: "audit-completed",
                message: format!("{} is already completed", a.reference),
            });
        }
        let items: Vec<(String, Option<AuditResult>, bool)> = current
            .items
            .iter()
            .map(|i| {
                (
                    i.requirement_id.clone(),
                    i.result,
                    i.nonconformity.is_some(),
                )
            })
            .collect();
        if let Some(why) = completion_blocker(&conclusion, &items) {
            return Err(AppError::Rule {
                rule: "audit-incomplete",
                message: format!("{} cannot be completed: {why}", a.reference),
            });
        }
        store_ia::put(
            &mut tx,
            org,
            &Audit {
                status: AuditStatus::Completed,
                conclusion: conclusion.clone(),
                updated_at: Timestamp::now(),
                ..a
            },
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "audit.complete", "internal_audit", id)
                .after(&serde_json::json!({"conclusion": conclusion})),
        )
        .await?;
        tx.commit().await?;
        self.internal_audit(caller, id).await
    }

    /// The clause 9.3.2 inputs as the data say now, since the review before `held_on`.
    async fn review_inputs(&self, caller: &Caller, held_on: Date) -> AppResult<ReviewInputs> {
        let org = caller.require(Permission::ProgramRead)?;
        let previous = store_ia::reviews(&self.store, org)
            .await?
            .into_iter()
            .find(|r| r.closed_at.is_some() && r.held_on < held_on);
        let since = previous.as_ref().map(|p| p.held_on);
        let after = |d: Date| since.is_none_or(|s| d > s);
        let every_risk = RiskFilter::default();
        let (ncs, register, late, audits, objectives, soa, policies, scope) = tokio::try_join!(
            self.nonconformities(caller),
            self.risk_register(caller, &every_risk),
            self.overdue_risk_actions(caller),
            self.internal_audits(caller),
            self.objectives(caller),
            self.soa(caller, None),
            self.policies(caller),
            self.isms_scope(caller, None),
        )?;
        let fmt = |v: Option<f64>| v.map_or_else(|| "no data".to_owned(), |x| format!("{x}"));
        Ok(ReviewInputs {
            previous_decisions: previous
                .as_ref()
                .and_then(|p| serde_json::from_str(&p.decisions).ok())
                .unwrap_or_default(),
            scope_changes: scope
                .history
                .iter()
                .filter(|h| after(h.created_at.date()))
                .map(|h| {
                    format!(
                        "version {} of {}: {}",
                        h.version,
                        h.created_at.date(),
                        h.note
                    )
                })
                .collect(),
            nonconformities: (
                ncs.iter().filter(|n| n.nc.closed_on.is_none()).count(),
                ncs.iter().filter(|n| n.overdue).count(),
                ncs.iter()
                    .filter(|n| n.nc.closed_on.is_some_and(after))
                    .count(),
            ),
            objectives: objectives
                .objectives
                .iter()
                .map(|o| {
                    format!(
                        "{} {}: {} ({} / target {})",
                        o.reference,
                        o.title,
                        o.status.label(),
                        fmt(o.latest),
                        o.target
                    )
                })
                .collect(),
            audits: audits
                .iter()
                .filter(|a| a.status == AuditStatus::Completed && after(a.ends_on))
                .map(|a| format!("{} {}: {} finding(s)", a.reference, a.title, a.findings))
                .collect(),
            risks: (register.risks.len(), register.needing_decision, late.len()),
            soa: match &soa.version {
                Some(v) if v.approved => format!(
                    "version {} approved{}",
                    v.version,
                    if soa.stale {
                        "; the data changed since"
                    } else {
                        ""
                    }
                ),
                Some(v) => format!(
                    "draft version {}, {} control(s) to complete",
                    v.version,
                    soa.gaps.len()
                ),
                None => "not started".into(),
            },
            policies: (
                policies.iter().filter(|p| p.review_overdue).count(),
                policies.iter().map(|p| p.acknowledged).sum(),
                policies.iter().map(|p| p.to_acknowledge).sum(),
            ),
            opportunities: ncs
                .iter()
                .filter(|n| {
                    n.nc.closed_on.is_none()
                        && n.nc.severity == attest_domain::nonconformity::Severity::Opportunity
                })
                .map(|n| format!("{} {}", n.nc.reference, n.nc.title))
                .collect(),
        })
    }

    fn review_view(r: Review, inputs: ReviewInputs) -> AppResult<ReviewView> {
        Ok(ReviewView {
            decisions: serde_json::from_str(&r.decisions)
                .map_err(|e| AppError::Internal(format!("review {}: {e}", r.reference)))?,
            id: r.id,
            reference: r.reference,
            held_on: r.held_on,
            attendees: r.attendees,
            inputs,
            notes: r.notes,
            closed_at: r.closed_at,
            closed_by: r.closed_by,
        })
    }

    /// Every management review, latest first (open ones with their inputs as of now).
    pub async fn management_reviews(&self, caller: &Caller) -> AppResult<Vec<ReviewView>> {
        let org = caller.require(Permission::ProgramRead)?;
        let mut out = Vec::new();
        for r in store_ia::reviews(&self.store, org).await? {
            let inputs = match &r.inputs {
                Some(json) => serde_json::from_str(json)
                    .map_err(|e| AppError::Internal(format!("review {}: {e}", r.reference)))?,
                None => self.review_inputs(caller, r.held_on).await?,
            };
            out.push(Self::review_view(r, inputs)?);
        }
        Ok(out)
    }

    /// Plans a review (`id` none) or records its attendees, notes and decisions.
    pub async fn put_management_review(
        &self,
        caller: &Caller,
        id: Option<&str>,
        held_on: Date,
        attendees: &str,
        notes: &str,
        decisions: Vec<ReviewDecision>,
    ) -> AppResult<ReviewView> {
        let org = caller.require(Permission::IsmsManage)?;
        let attendees = text("attendees", attendees, 2_000, true)?;
        let notes = text("notes", notes, 50_000, false)?;
        if decisions.len() > 100 {
            return Err(AppError::invalid("decisions", "at most 100 decisions"));
        }
        let mut clean = Vec::new();
        for (i, d) in decisions.into_iter().enumerate() {
            let decision = text(
                &format!("decisions[{i}].decision"),
                &d.decision,
                2_000,
                true,
            )?;
            if !d.due_on.trim().is_empty() {
                attest_domain::evidence::parse_day(d.due_on.trim())
                    .map_err(|e| AppError::invalid(&format!("decisions[{i}].due_on"), e))?;
            }
            clean.push(ReviewDecision {
                decision,
                owner: text(&format!("decisions[{i}].owner"), &d.owner, 200, false)?,
                due_on: d.due_on.trim().to_owned(),
            });
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let before = match id {
            Some(id) => {
                let b = store_ia::lock_review(&mut tx, org, id)
                    .await?
                    .ok_or(AppError::NotFound("management review"))?;
                if b.closed_at.is_some() {
                    return Err(AppError::Rule {
                        rule: "review-closed",
                        message: format!("{} is closed; its record does not change", b.reference),
                    });
                }
                Some(b)
            }
            None => None,
        };
        let r = Review {
            id: before
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.id.clone()),
            reference: match &before {
                Some(b) => b.reference.clone(),
                None => store_ia::next_review_ref(&mut tx, org).await?,
            },
            held_on,
            attendees,
            inputs: None,
            notes,
            decisions: serde_json::to_string(&clean)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            closed_at: None,
            closed_by: None,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        store_ia::put_review(&mut tx, org, &r)
            .await
            .map_err(AppError::ref_clash("management review"))?;
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                if before.is_some() {
                    "review.update"
                } else {
                    "review.plan"
                },
                "management_review",
                &r.id,
            )
            .after(&serde_json::json!({
                "ref": r.reference, "held_on": r.held_on, "attendees": r.attendees,
                "notes": r.notes, "decisions": clean,
            })),
        )
        .await?;
        tx.commit().await?;
        let id = r.id.clone();
        self.management_reviews(caller)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(AppError::NotFound("management review"))
    }

    /// Closes a review: its inputs are frozen as they are now, with its decisions.
    pub async fn close_management_review(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<ReviewView> {
        let org = caller.require(Permission::IsmsManage)?;
        let current = self
            .management_reviews(caller)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(AppError::NotFound("management review"))?;
        if current.decisions.is_empty() {
            return Err(AppError::Rule {
                rule: "review-decisions",
                message: "record the review's decisions first (9.3.3)".into(),
            });
        }
        let mut tx = self.store.begin().await?;
        let r = store_ia::lock_review(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("management review"))?;
        if r.closed_at.is_some() {
            return Err(AppError::Rule {
                rule: "review-closed",
                message: format!("{} is already closed", r.reference),
            });
        }
        let inputs = serde_json::to_string(&current.inputs)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let now = Timestamp::now();
        store_ia::put_review(
            &mut tx,
            org,
            &Review {
                inputs: Some(inputs),
                closed_at: Some(now),
                closed_by: Some(caller.actor_text()),
                updated_at: now,
                ..r
            },
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "review.close", "management_review", id)
                .after(&serde_json::json!({"inputs": current.inputs})),
        )
        .await?;
        tx.commit().await?;
        self.management_reviews(caller)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(AppError::NotFound("management review"))
    }
}

fn view(
    a: Audit,
    results: Vec<ResultRow>,
    f: Option<&attest_domain::framework::Framework>,
    ncs: &HashMap<String, String>,
) -> AuditView {
    let by_req: HashMap<&str, &ResultRow> = results
        .iter()
        .map(|r| (r.requirement_id.as_str(), r))
        .collect();
    let items: Vec<ScopeItem> = a
        .requirements
        .iter()
        .map(|req| {
            let r = by_req.get(req.as_str());
            ScopeItem {
                requirement_id: req.clone(),
                title: f
                    .and_then(|f| f.requirement(req))
                    .map(|x| x.title.clone())
                    .unwrap_or_default(),
                result: r.map(|r| r.result),
                notes: r.map(|r| r.notes.clone()).unwrap_or_default(),
                nonconformity: r.and_then(|r| r.nc_id.as_ref()).map(|id| {
                    (
                        id.clone(),
                        ncs.get(id).cloned().unwrap_or_else(|| id.clone()),
                    )
                }),
            }
        })
        .collect();
    let findings = items
        .iter()
        .filter(|i| i.result.and_then(AuditResult::severity).is_some())
        .count();
    let blocker = (a.status != AuditStatus::Completed)
        .then(|| {
            let rows: Vec<(String, Option<AuditResult>, bool)> = items
                .iter()
                .map(|i| {
                    (
                        i.requirement_id.clone(),
                        i.result,
                        i.nonconformity.is_some(),
                    )
                })
                .collect();
            completion_blocker(
                if a.conclusion.is_empty() {
                    "-"
                } else {
                    &a.conclusion
                },
                &rows,
            )
        })
        .flatten();
    AuditView {
        id: a.id,
        reference: a.reference,
        title: a.title,
        scope: a.scope,
        criteria: a.criteria,
        framework_id: a.framework_id,
        auditor: a.auditor,
        starts_on: a.starts_on,
        ends_on: a.ends_on,
        status: a.status,
        conclusion: a.conclusion,
        items,
        findings,
        blocker,
    }
}
