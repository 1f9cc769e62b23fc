//! Nonconformities and corrective action (ISO/IEC 27001 10.1): raised from an audit or ad hoc,
//! worked through root cause, correction and corrective action, and closed only after the
//! action's effectiveness is verified.

use attest_domain::nonconformity::{NcSource, Severity, closure_blocker};
use attest_domain::{Timestamp, UserId};
use attest_store::control as store_ctl;
use attest_store::nonconformity::{self as store_nc, Nonconformity};
use attest_store::risk as store_risk;
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::risk::text;
use crate::{App, AppError, AppResult, Caller, Permission};

/// What is given to raise or work a nonconformity.
#[derive(Debug, Clone)]
pub struct NcInput {
    /// Title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// Where it was found.
    pub source: NcSource,
    /// How serious.
    pub severity: Severity,
    /// The requirement involved: (framework, requirement).
    pub requirement: Option<(String, String)>,
    /// The control involved.
    pub control_id: Option<String>,
    /// The risk involved.
    pub risk_id: Option<String>,
    /// The evidence involved (an item the finding is about, or that shows it).
    pub evidence_id: Option<String>,
    /// Root cause.
    pub root_cause: String,
    /// Correction.
    pub correction: String,
    /// Corrective action.
    pub corrective_action: String,
    /// Owner of the action.
    pub owner: Option<UserId>,
    /// Due day of the action.
    pub due_on: Option<Date>,
}

/// A nonconformity an audit raises, before its analysis (root cause, correction, action).
#[derive(Debug, Clone)]
pub(crate) struct AuditNc {
    /// Title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// Internal or external audit.
    pub source: NcSource,
    /// How serious.
    pub severity: Severity,
    /// The requirement involved: (framework, requirement).
    pub requirement: (Option<String>, Option<String>),
    /// The control involved.
    pub control_id: Option<String>,
    /// Owner of the action.
    pub owner: Option<UserId>,
    /// Due day of the action.
    pub due_on: Option<Date>,
}

/// A nonconformity as listed.
#[derive(Debug, Clone, Serialize)]
pub struct NcView {
    /// The record.
    #[serde(flatten)]
    pub nc: Nonconformity,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Open and past its due day.
    pub overdue: bool,
    /// Why it cannot be closed yet (none when it can, or is closed).
    pub blocker: Option<&'static str>,
}

fn view(nc: Nonconformity, owner_name: Option<String>, today: Date) -> NcView {
    let open = nc.closed_on.is_none();
    NcView {
        overdue: open && nc.due_on.is_some_and(|d| d < today),
        blocker: if open {
            closure_blocker(
                nc.severity,
                &nc.root_cause,
                &nc.corrective_action,
                nc.verification.is_some(),
            )
        } else {
            None
        },
        owner_name,
        nc,
    }
}

impl App {
    /// Raises a nonconformity found by an audit into the corrective-action loop, in the
    /// audit's transaction (the caller has been checked by the audit's use case).
    pub(crate) async fn raise_audit_nonconformity(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        org: attest_domain::OrgId,
        input: AuditNc,
    ) -> AppResult<Nonconformity> {
        let now = Timestamp::now();
        let n = Nonconformity {
            id: uuid::Uuid::now_v7().to_string(),
            reference: store_nc::next_ref(tx, org).await?,
            title: input.title,
            description: input.description,
            source: input.source,
            severity: input.severity,
            framework_id: input.requirement.0,
            requirement_id: input.requirement.1,
            control_id: input.control_id,
            risk_id: None,
            evidence_id: None,
            raised_by: caller.actor_text(),
            raised_on: now.date(),
            root_cause: String::new(),
            correction: String::new(),
            corrective_action: String::new(),
            owner_id: input.owner,
            due_on: input.due_on,
            verification: None,
            verified_by: None,
            verified_on: None,
            closed_on: None,
            created_at: now,
            updated_at: now,
        };
        store_nc::put(tx, org, &n)
            .await
            .map_err(AppError::ref_clash("nonconformity"))?;
        record(
            tx,
            caller,
            Event::org(org, "nonconformity.raise", "nonconformity", &n.id).after(&n),
        )
        .await?;
        Ok(n)
    }

    /// Every nonconformity, newest first.
    pub async fn nonconformities(&self, caller: &Caller) -> AppResult<Vec<NcView>> {
        let org = caller.require(Permission::ProgramRead)?;
        let names = self.member_names(org).await?;
        let today = Timestamp::now().date();
        Ok(store_nc::list(&self.store, org)
            .await?
            .into_iter()
            .map(|n| {
                let owner = n.owner_id.and_then(|u| names.get(&u).cloned());
                view(n, owner, today)
            })
            .collect())
    }

    /// One nonconformity.
    pub async fn nonconformity(&self, caller: &Caller, id: &str) -> AppResult<NcView> {
        let org = caller.require(Permission::ProgramRead)?;
        let n = store_nc::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("nonconformity"))?;
        let owner = match n.owner_id {
            Some(u) => self.member_names(org).await?.remove(&u),
            None => None,
        };
        Ok(view(n, owner, Timestamp::now().date()))
    }

    /// Raises a nonconformity (`id` none) or works an open one: its analysis and action.
    pub async fn put_nonconformity(
        &self,
        caller: &Caller,
        id: Option<&str>,
        input: NcInput,
    ) -> AppResult<Nonconformity> {
        let org = caller.require(Permission::IsmsManage)?;
        let title = text("title", &input.title, 300, true)?;
        let description = text("description", &input.description, 20_000, false)?;
        let root_cause = text("root_cause", &input.root_cause, 20_000, false)?;
        let correction = text("correction", &input.correction, 20_000, false)?;
        let corrective_action = text("corrective_action", &input.corrective_action, 20_000, false)?;
        if let Some((fw, req)) = &input.requirement {
            let f = self.find_framework(org, fw).await?;
            if !f.requirements.iter().any(|r| &r.id == req) {
                return Err(AppError::invalid(
                    "requirement",
                    format!("{} has no requirement {req}", f.name),
                ));
            }
        }
        self.check_member(org, "owner_id", input.owner).await?;
        let mut tx = self.store.begin().await?;
        if let Some(c) = &input.control_id
            && store_ctl::get_in(&mut tx, org, c).await?.is_none()
        {
            return Err(AppError::invalid(
                "control_id",
                format!("no control has id {c}"),
            ));
        }
        if let Some(r) = &input.risk_id
            && store_risk::risk_in(&mut tx, org, r).await?.is_none()
        {
            return Err(AppError::invalid("risk_id", format!("no risk has id {r}")));
        }
        if let Some(e) = &input.evidence_id
            && attest_store::evidence::get_in(&mut tx, org, e)
                .await?
                .is_none()
        {
            return Err(AppError::invalid(
                "evidence_id",
                format!("no evidence has id {e}"),
            ));
        }
        let before = match id {
            Some(id) => {
                let b = store_nc::get_in(&mut tx, org, id)
                    .await?
                    .ok_or(AppError::NotFound("nonconformity"))?;
                if b.closed_on.is_some() {
                    return Err(AppError::Rule {
                        rule: "nonconformity-closed",
                        message: format!("{} is closed; raise a new one instead", b.reference),
                    });
                }
                Some(b)
            }
            None => None,
        };
        let now = Timestamp::now();
        let (framework_id, requirement_id) = input.requirement.clone().unzip();
        let n = Nonconformity {
            id: before
                .as_ref()
                .map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.id.clone()),
            reference: match &before {
                Some(b) => b.reference.clone(),
                None => store_nc::next_ref(&mut tx, org).await?,
            },
            title,
            description,
            source: before.as_ref().map_or(input.source, |b| b.source),
            severity: input.severity,
            framework_id,
            requirement_id,
            control_id: input.control_id,
            risk_id: input.risk_id,
            evidence_id: input.evidence_id,
            raised_by: before
                .as_ref()
                .map_or_else(|| caller.actor_text(), |b| b.raised_by.clone()),
            raised_on: before.as_ref().map_or(now.date(), |b| b.raised_on),
            root_cause,
            correction,
            corrective_action,
            owner_id: input.owner,
            due_on: input.due_on,
            // A changed action must be verified again.
            verification: None,
            verified_by: None,
            verified_on: None,
            closed_on: None,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        let keep_verification = before.as_ref().is_some_and(|b| {
            b.corrective_action == n.corrective_action && b.correction == n.correction
        });
        let n = match (&before, keep_verification) {
            (Some(b), true) => Nonconformity {
                verification: b.verification.clone(),
                verified_by: b.verified_by.clone(),
                verified_on: b.verified_on,
                ..n
            },
            _ => n,
        };
        store_nc::put(&mut tx, org, &n)
            .await
            .map_err(AppError::ref_clash("nonconformity"))?;
        let mut event = Event::org(
            org,
            if before.is_some() {
                "nonconformity.update"
            } else {
                "nonconformity.raise"
            },
            "nonconformity",
            &n.id,
        )
        .after(&n);
        if let Some(b) = &before {
            event = event.before(b);
        }
        record(&mut tx, caller, event).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Records the verification of the corrective action's effectiveness (10.1 d).
    pub async fn verify_nonconformity(
        &self,
        caller: &Caller,
        id: &str,
        how: &str,
    ) -> AppResult<()> {
        let org = caller.require(Permission::IsmsManage)?;
        let how = text("verification", how, 20_000, true)?;
        let mut tx = self.store.begin().await?;
        let b = store_nc::get_in(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("nonconformity"))?;
        if b.closed_on.is_some() {
            return Err(AppError::Rule {
                rule: "nonconformity-closed",
                message: format!("{} is closed", b.reference),
            });
        }
        let n = Nonconformity {
            verification: Some(how),
            verified_by: Some(caller.actor_text()),
            verified_on: Some(Timestamp::now().date()),
            updated_at: Timestamp::now(),
            ..b.clone()
        };
        store_nc::put(&mut tx, org, &n).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "nonconformity.verify", "nonconformity", id)
                .before(&b)
                .after(&n),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes a nonconformity: refused until its root cause and corrective action are
    /// recorded (for a major or minor one) and the action's effectiveness is verified.
    pub async fn close_nonconformity(&self, caller: &Caller, id: &str) -> AppResult<()> {
        let org = caller.require(Permission::IsmsManage)?;
        let mut tx = self.store.begin().await?;
        let b = store_nc::get_in(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("nonconformity"))?;
        if b.closed_on.is_some() {
            return Err(AppError::Rule {
                rule: "nonconformity-closed",
                message: format!("{} is already closed", b.reference),
            });
        }
        if let Some(why) = closure_blocker(
            b.severity,
            &b.root_cause,
            &b.corrective_action,
            b.verification.is_some(),
        ) {
            return Err(AppError::Rule {
                rule: "verification-required",
                message: format!("{} cannot be closed: {why}", b.reference),
            });
        }
        let n = Nonconformity {
            closed_on: Some(Timestamp::now().date()),
            updated_at: Timestamp::now(),
            ..b.clone()
        };
        store_nc::put(&mut tx, org, &n).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "nonconformity.close", "nonconformity", id)
                .before(&b)
                .after(&n),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
