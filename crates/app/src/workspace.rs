//! The auditor workspace of an engagement: the auditors attached to it, the request list
//! ("provided by client") answered with evidence, findings (with ISO nonconformities raised
//! into the ISMS), comments, the evidence of the period, and the organisation's sample-size
//! table.
//!
//! An external auditor holds [`Permission::EngagementWork`] only, and only for the one
//! engagement their membership is attached to while it is open; [`App::workspace_access`]
//! is where that is decided, and every use case here goes through it.

use std::collections::BTreeMap;

use attest_domain::engagement::EngagementKind;
use attest_domain::nonconformity::{NcSource, Severity};
use attest_domain::role::Role;
use attest_domain::sampling::SampleTable;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::control::Control;
use attest_store::engagement::{self as store_eng, Engagement};
use attest_store::nonconformity::{self as store_nc, Nonconformity};
use attest_store::user as store_user;
use attest_store::workspace::{self as store_ws, AuditRequest, Comment, Finding};
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::engagement::{TestView, test_view};
use crate::risk::text;
use crate::{App, AppError, AppResult, Caller, Permission};

/// Request states.
pub const REQUEST_STATES: [&str; 4] = ["open", "submitted", "accepted", "returned"];

/// A control in the engagement's scope.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeControl {
    /// Id.
    pub id: String,
    /// Reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// How often it operates.
    pub frequency: String,
    /// Its owner's name.
    pub owner: Option<String>,
}

/// An evidence item as the workspace shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRef {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The controls (references) it supports in scope.
    pub controls: Vec<String>,
    /// First day it proves.
    pub effective_from: Date,
    /// Last day it proves.
    pub effective_until: Option<Date>,
}

/// A request with what answers it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    /// The request.
    #[serde(flatten)]
    pub request: AuditRequest,
    /// The engagement's reference.
    pub engagement_ref: String,
    /// The control's reference.
    pub control_ref: Option<String>,
    /// The assignee's name.
    pub assignee: Option<String>,
    /// The evidence given in answer (id, title).
    pub evidence: Vec<(String, String)>,
    /// Open or returned, and past its due day.
    pub overdue: bool,
}

/// A finding as shown.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The control's reference.
    pub control_ref: Option<String>,
    /// The nonconformity's reference (ISO).
    pub nonconformity_ref: Option<String>,
}

/// An auditor attached to the engagement.
#[derive(Debug, Clone, Serialize)]
pub struct AuditorView {
    /// The user.
    pub user_id: UserId,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// When access ends (besides the engagement's closing).
    pub access_until: Option<Timestamp>,
    /// Whether the account can reach the engagement now.
    pub active: bool,
}

/// Counts of requests by state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RequestSummary {
    /// Open (not yet answered).
    pub open: usize,
    /// Answered, waiting for the auditor.
    pub submitted: usize,
    /// Accepted.
    pub accepted: usize,
    /// Returned for more.
    pub returned: usize,
    /// Open or returned past their due day.
    pub overdue: usize,
}

/// Everything of one engagement an auditor works with.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    /// The engagement.
    pub engagement: Engagement,
    /// Controls in scope (mapped to the engagement's frameworks; all when it names none).
    pub controls: Vec<ScopeControl>,
    /// The request list.
    pub requests: Vec<RequestView>,
    /// Requests by state.
    pub summary: RequestSummary,
    /// Control tests with their samples.
    pub tests: Vec<TestView>,
    /// Findings.
    pub findings: Vec<FindingView>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Evidence of in-scope controls that covers days of the period.
    pub evidence: Vec<EvidenceRef>,
    /// The auditors attached.
    pub auditors: Vec<AuditorView>,
    /// Who can be assigned a request: (user, name).
    pub answerers: Vec<(UserId, String)>,
    /// The sample-size table draws use.
    pub sample_table: SampleTable,
    /// Whether the caller manages the engagement (staff) rather than audits it.
    pub manager: bool,
}

/// A request as a caller writes it.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    /// What is asked for.
    pub title: String,
    /// Details.
    pub description: String,
    /// The control (id or reference).
    pub control: Option<String>,
    /// Who answers (default: the control's owner).
    pub assignee: Option<UserId>,
    /// When it is due.
    pub due_on: Option<Date>,
}

/// A finding as a caller raises it.
#[derive(Debug, Clone, Default)]
pub struct FindingInput {
    /// Title.
    pub title: String,
    /// What was found.
    pub description: String,
    /// `exception` (SOC); `major`, `minor`, `observation` (ISO); `critical`, `high`,
    /// `medium`, `low`, `informational` (penetration test).
    pub severity: String,
    /// The control (id or reference).
    pub control: Option<String>,
}

impl App {
    /// The engagement a caller works in, if they may: staff who manage engagements reach
    /// every one; an auditor reaches only the engagement their membership is attached to,
    /// and only while it is open (rule `auditor-scope`). Another engagement's id gives the
    /// same answer whether it exists or not.
    pub(crate) async fn workspace_access(
        &self,
        caller: &Caller,
        key: &str,
    ) -> AppResult<(OrgId, Engagement)> {
        let org = caller.require(Permission::EngagementWork)?;
        if caller.role != Some(Role::Auditor) {
            return Ok((org, self.find_engagement(org, key).await?));
        }
        let outside = || {
            AppError::Forbidden(
                "rule auditor-scope: an auditor works only in the engagement they were invited to"
                    .into(),
            )
        };
        let mine = caller.engagement.as_deref().ok_or_else(outside)?;
        let e = self
            .find_engagement(org, mine)
            .await
            .map_err(|_| outside())?;
        if e.id != key && !e.reference.eq_ignore_ascii_case(key) {
            return Err(outside());
        }
        if !e.status.is_open() {
            return Err(AppError::Forbidden(format!(
                "rule auditor-scope: {} is {}, and an auditor's access ended with it",
                e.reference,
                e.status.label().to_lowercase()
            )));
        }
        Ok((org, e))
    }

    /// The engagement an auditor is attached to (for their landing page), if open.
    pub async fn my_engagement(&self, caller: &Caller) -> AppResult<Option<Engagement>> {
        let Some(key) = caller.engagement.clone() else {
            return Ok(None);
        };
        match self.workspace_access(caller, &key).await {
            Ok((_, e)) => Ok(Some(e)),
            Err(AppError::Forbidden(_) | AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The controls in an engagement's scope: those mapped to its frameworks (every control
    /// when it names none).
    pub(crate) async fn scope_controls(
        &self,
        org: OrgId,
        e: &Engagement,
    ) -> AppResult<Vec<Control>> {
        let controls = attest_store::control::list(&self.store, org).await?;
        if e.frameworks.is_empty() {
            return Ok(controls);
        }
        let links = attest_store::control::all_links(&self.store, org).await?;
        Ok(controls
            .into_iter()
            .filter(|c| {
                links
                    .iter()
                    .any(|l| l.control_id == c.id && e.frameworks.contains(&l.framework_id))
            })
            .collect())
    }

    /// Current evidence of in-scope controls covering days of the engagement's period.
    pub(crate) async fn period_evidence(
        &self,
        org: OrgId,
        e: &Engagement,
        scope: &[Control],
    ) -> AppResult<Vec<EvidenceRef>> {
        let range = e.period.range();
        let mut out: Vec<EvidenceRef> = Vec::new();
        for (control, id, title, from, until) in
            attest_store::evidence::period_rows(&self.store, org, range.start, range.end).await?
        {
            let Some(c) = scope.iter().find(|c| c.id == control) else {
                continue;
            };
            match out.iter_mut().find(|x| x.id == id) {
                Some(x) => x.controls.push(c.reference.clone()),
                None => out.push(EvidenceRef {
                    id,
                    title,
                    controls: vec![c.reference.clone()],
                    effective_from: from,
                    effective_until: until,
                }),
            }
        }
        Ok(out)
    }

    /// The workspace of an engagement.
    pub async fn workspace(&self, caller: &Caller, key: &str) -> AppResult<Workspace> {
        let (org, e) = self.workspace_access(caller, key).await?;
        let names = self.member_names(org).await?;
        let all_controls = attest_store::control::list(&self.store, org).await?;
        let scope = self.scope_controls(org, &e).await?;
        let today = Timestamp::now().date();
        let answers = store_ws::evidence_of(&self.store, org, &e.id).await?;
        let titles = self.evidence_titles(org, &answers).await?;
        let requests: Vec<RequestView> = store_ws::requests_of(&self.store, org, &e.id)
            .await?
            .into_iter()
            .map(|r| request_view(r, &e, &all_controls, &names, &answers, &titles, today))
            .collect();
        let mut summary = RequestSummary::default();
        for r in &requests {
            match r.request.status.as_str() {
                "open" => summary.open += 1,
                "submitted" => summary.submitted += 1,
                "accepted" => summary.accepted += 1,
                _ => summary.returned += 1,
            }
            summary.overdue += usize::from(r.overdue);
        }
        let tests = store_eng::tests_of(&self.store, None, org, &e.id)
            .await?
            .into_iter()
            .map(|t| test_view(t, &all_controls))
            .collect::<AppResult<_>>()?;
        let ncs = store_nc::list(&self.store, org).await?;
        let findings = store_ws::findings_of(&self.store, None, org, &e.id)
            .await?
            .into_iter()
            .map(|f| finding_view(f, &all_controls, &ncs))
            .collect();
        let now = Timestamp::now();
        let members = store_user::members(&self.store, org).await?;
        let answerers = members
            .iter()
            .filter(|m| {
                m.membership.active_at(now)
                    && crate::authz::allows(m.membership.role, Permission::RequestAnswer)
            })
            .map(|m| (m.user.id, m.user.display_name.clone()))
            .collect();
        let auditors = members
            .into_iter()
            .filter(|m| {
                m.membership.role == Role::Auditor
                    && m.membership.engagement_id.as_deref() == Some(e.id.as_str())
            })
            .map(|m| AuditorView {
                user_id: m.user.id,
                active: m.membership.active_at(now) && e.status.is_open(),
                name: m.user.display_name,
                email: m.user.email,
                access_until: m.membership.expires_at,
            })
            .collect();
        Ok(Workspace {
            controls: scope
                .iter()
                .map(|c| ScopeControl {
                    id: c.id.clone(),
                    reference: c.reference.clone(),
                    title: c.title.clone(),
                    frequency: c.frequency.to_string(),
                    owner: c.owner_id.and_then(|u| names.get(&u).cloned()),
                })
                .collect(),
            evidence: self.period_evidence(org, &e, &scope).await?,
            requests,
            summary,
            tests,
            findings,
            comments: store_ws::comments_of(&self.store, org, &e.id).await?,
            auditors,
            answerers,
            sample_table: store_ws::sample_table(&self.store, None, org).await?,
            manager: caller.role != Some(Role::Auditor)
                && caller.require(Permission::EngagementManage).is_ok(),
            engagement: e,
        })
    }

    /// Invites an external auditor to one engagement, with an optional last day of access
    /// (access also ends when the engagement is issued or withdrawn). Returns the link.
    pub async fn invite_auditor(
        &self,
        caller: &Caller,
        key: &str,
        email: &str,
        until: Option<Date>,
    ) -> AppResult<crate::identity::member::Invited> {
        let org = caller.require(Permission::EngagementManage)?;
        let e = self.find_engagement(org, key).await?;
        crate::engagement::ensure_open(&e)?;
        let today = Timestamp::now().date();
        let until = match until {
            Some(d) if d < today => {
                return Err(AppError::invalid(
                    "until",
                    format!("access cannot end in the past ({d})"),
                ));
            }
            Some(d) => Some(end_of_day(d)?),
            None => None,
        };
        self.invite_as(caller, org, email, Role::Auditor, Some((e.id, until)))
            .await
    }

    /// Ends an auditor's access to the organisation now (their sessions and tokens stop).
    pub async fn remove_auditor(&self, caller: &Caller, key: &str, user: UserId) -> AppResult<()> {
        let org = caller.require(Permission::EngagementManage)?;
        let e = self.find_engagement(org, key).await?;
        let m = store_user::membership(&self.store, org, user)
            .await?
            .filter(|m| m.role == Role::Auditor && m.engagement_id.as_deref() == Some(&e.id))
            .ok_or(AppError::NotFound("auditor"))?;
        let mut tx = self.store.begin().await?;
        let now = Timestamp::now();
        store_user::set_deactivated(&mut tx, org, user, Some(now), &caller.actor_text(), now)
            .await?;
        // A link not yet used would bring them back: it goes too.
        let email = store_user::get_in(&mut tx, user).await?.email;
        attest_store::invitation::revoke_for_email(&mut tx, org, &email, now).await?;
        attest_store::session::revoke_all_of(&mut tx, &user.to_string(), None, now).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.auditor_remove", "engagement", &e.id)
                .before(&m)
                .after(&serde_json::json!({"user": user})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds an item to the request list (auditor or compliance manager).
    pub async fn create_request(
        &self,
        caller: &Caller,
        key: &str,
        input: RequestInput,
    ) -> AppResult<RequestView> {
        let (org, e) = self.workspace_access(caller, key).await?;
        crate::engagement::ensure_open(&e)?;
        let title = text("title", &input.title, 300, true)?;
        let description = text("description", &input.description, 20_000, false)?;
        let scope = self.scope_controls(org, &e).await?;
        let control = match input.control.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) => Some(
                scope
                    .iter()
                    .find(|c| c.id == k || c.reference.eq_ignore_ascii_case(k))
                    .ok_or_else(|| {
                        AppError::invalid(
                            "control",
                            format!("no control `{k}` in the scope of {}", e.reference),
                        )
                    })?,
            ),
        };
        let assignee = input.assignee.or(control.and_then(|c| c.owner_id));
        if let Some(u) = assignee {
            let m = store_user::membership(&self.store, org, u).await?;
            let now = Timestamp::now();
            if !m.is_some_and(|m| {
                m.active_at(now) && crate::authz::allows(m.role, Permission::RequestAnswer)
            }) {
                return Err(AppError::invalid(
                    "assignee",
                    "the assignee must be an active member who can answer requests (control owner, compliance manager or owner)",
                ));
            }
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let r = AuditRequest {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: e.id.clone(),
            reference: store_ws::next_request_ref(&mut tx, org).await?,
            title,
            description,
            control_id: control.map(|c| c.id.clone()),
            assignee_id: assignee,
            due_on: input.due_on,
            status: "open".into(),
            created_by: caller.actor_text(),
            created_at: now,
            updated_at: now,
        };
        store_ws::put_request(&mut tx, org, &r)
            .await
            .map_err(AppError::ref_clash("request"))?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.request", "audit_request", &r.id).after(&r),
        )
        .await?;
        tx.commit().await?;
        self.request(caller, &r.id).await
    }

    /// One request (its assignee, staff who manage engagements, or its engagement's auditor).
    pub async fn request(&self, caller: &Caller, id: &str) -> AppResult<RequestView> {
        let (org, r, e) = self.reach_request(caller, id).await?;
        let names = self.member_names(org).await?;
        let controls = attest_store::control::list(&self.store, org).await?;
        let answers: Vec<(String, String)> = store_ws::evidence_of(&self.store, org, &e.id)
            .await?
            .into_iter()
            .filter(|(req, _)| *req == r.id)
            .collect();
        let titles = self.evidence_titles(org, &answers).await?;
        Ok(request_view(
            r,
            &e,
            &controls,
            &names,
            &answers,
            &titles,
            Timestamp::now().date(),
        ))
    }

    /// The requests assigned to the caller, across open engagements.
    pub async fn my_requests(&self, caller: &Caller) -> AppResult<Vec<RequestView>> {
        let org = caller.require(Permission::RequestAnswer)?;
        let user = caller.require_user()?;
        let names = self.member_names(org).await?;
        let controls = attest_store::control::list(&self.store, org).await?;
        let engagements = store_eng::list(&self.store, org).await?;
        let today = Timestamp::now().date();
        let mut out = Vec::new();
        for r in store_ws::requests_for(&self.store, org, user).await? {
            let Some(e) = engagements.iter().find(|e| e.id == r.engagement_id) else {
                continue;
            };
            if !e.status.is_open() {
                continue;
            }
            let answers: Vec<(String, String)> = store_ws::evidence_of(&self.store, org, &e.id)
                .await?
                .into_iter()
                .filter(|(req, _)| *req == r.id)
                .collect();
            let titles = self.evidence_titles(org, &answers).await?;
            out.push(request_view(
                r, e, &controls, &names, &answers, &titles, today,
            ));
        }
        Ok(out)
    }

    /// The titles of the evidence given in answer: evidence id → title.
    async fn evidence_titles(
        &self,
        org: OrgId,
        answers: &[(String, String)],
    ) -> AppResult<BTreeMap<String, String>> {
        let mut titles = BTreeMap::new();
        for (_, ev) in answers {
            if !titles.contains_key(ev)
                && let Some(x) = attest_store::evidence::get(&self.store, org, ev).await?
            {
                titles.insert(ev.clone(), x.title);
            }
        }
        Ok(titles)
    }

    /// Who may see a request: the engagement's workers (staff managers, its auditor) and the
    /// assignee. Anyone else is told it does not exist.
    async fn reach_request(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<(OrgId, AuditRequest, Engagement)> {
        let org = caller
            .require(Permission::EngagementWork)
            .or_else(|_| caller.require(Permission::RequestAnswer))?;
        let r = store_ws::request(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("request"))?;
        if caller.require(Permission::EngagementWork).is_ok() {
            if let Ok((_, e)) = self.workspace_access(caller, &r.engagement_id).await {
                return Ok((org, r, e));
            }
            if caller.role == Some(Role::Auditor) {
                return Err(AppError::NotFound("request"));
            }
        }
        if caller.user.is_some() && r.assignee_id == caller.user {
            let e = self.find_engagement(org, &r.engagement_id).await?;
            return Ok((org, r, e));
        }
        Err(AppError::NotFound("request"))
    }

    /// Answers a request with an evidence item of the organisation (the assignee, or staff
    /// who manage engagements); allowed while it is open or returned.
    pub async fn answer_request(
        &self,
        caller: &Caller,
        id: &str,
        evidence: &str,
    ) -> AppResult<RequestView> {
        let (org, r, e) = self.answering(caller, id).await?;
        let mut tx = self.store.begin().await?;
        let r = self.lock_request(&mut tx, org, &r.id).await?;
        answerable(&r)?;
        let ev = attest_store::evidence::get_in(&mut tx, org, evidence)
            .await?
            .ok_or_else(|| {
                AppError::invalid("evidence_id", format!("no evidence has id {evidence}"))
            })?;
        if ev.disposed_at.is_some() {
            return Err(AppError::invalid(
                "evidence_id",
                "this evidence was disposed of",
            ));
        }
        let now = Timestamp::now();
        store_ws::attach_evidence(&mut tx, org, &r.id, &ev.id, &caller.actor_text(), now).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.request_answer", "audit_request", &r.id).after(
                &serde_json::json!({"engagement": e.reference, "request": r.reference,
                    "evidence": ev.id, "title": ev.title, "sha256": ev.sha256}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.request(caller, id).await
    }

    /// Hands an answered request to the auditor.
    pub async fn submit_request(&self, caller: &Caller, id: &str) -> AppResult<RequestView> {
        let (org, r, _) = self.answering(caller, id).await?;
        // Answers are only ever added, so reading them before the transaction is safe.
        let answered = store_ws::evidence_of(&self.store, org, &r.engagement_id)
            .await?
            .iter()
            .any(|(req, _)| *req == r.id);
        let mut tx = self.store.begin().await?;
        let r = self.lock_request(&mut tx, org, &r.id).await?;
        answerable(&r)?;
        if !answered {
            return Err(AppError::Rule {
                rule: "request-unanswered",
                message: format!(
                    "{} has no evidence yet: attach some before submitting",
                    r.reference
                ),
            });
        }
        self.move_request(&mut tx, caller, org, r, "submitted", "")
            .await?;
        tx.commit().await?;
        self.request(caller, id).await
    }

    /// The auditor accepts a submitted request or returns it with a comment.
    pub async fn review_request(
        &self,
        caller: &Caller,
        key: &str,
        id: &str,
        accept: bool,
        comment: &str,
    ) -> AppResult<RequestView> {
        let (org, e) = self.workspace_access(caller, key).await?;
        crate::engagement::ensure_open(&e)?;
        // The organisation does not accept its own answers: an external engagement's
        // requests are reviewed by its auditor (staff review only internal audits).
        if caller.role != Some(Role::Auditor) && e.kind != EngagementKind::Internal {
            return Err(AppError::Rule {
                rule: "auditor-review",
                message: format!(
                    "{}'s requests are accepted or returned by its auditor, not by the organisation",
                    e.reference
                ),
            });
        }
        let comment = text("comment", comment, 4_000, !accept)?;
        let mut tx = self.store.begin().await?;
        let r = self.lock_request(&mut tx, org, id).await?;
        if r.engagement_id != e.id {
            return Err(AppError::NotFound("request"));
        }
        if r.status != "submitted" {
            return Err(AppError::Rule {
                rule: "request-status",
                message: format!(
                    "{} is {}: only a submitted request is accepted or returned",
                    r.reference, r.status
                ),
            });
        }
        let to = if accept { "accepted" } else { "returned" };
        self.move_request(&mut tx, caller, org, r, to, &comment)
            .await?;
        tx.commit().await?;
        self.request(caller, id).await
    }

    async fn answering(
        &self,
        caller: &Caller,
        id: &str,
    ) -> AppResult<(OrgId, AuditRequest, Engagement)> {
        let (org, r, e) = self.reach_request(caller, id).await?;
        let manager = caller.role != Some(Role::Auditor)
            && caller.require(Permission::EngagementManage).is_ok();
        if !manager && (caller.user.is_none() || r.assignee_id != caller.user) {
            return Err(AppError::Forbidden(
                "only the person the request is assigned to (or a compliance manager) answers it"
                    .into(),
            ));
        }
        crate::engagement::ensure_open(&e)?;
        Ok((org, r, e))
    }

    async fn lock_request(
        &self,
        tx: &mut attest_store::Tx,
        org: OrgId,
        id: &str,
    ) -> AppResult<AuditRequest> {
        store_ws::lock_request(tx, org, id)
            .await?
            .ok_or(AppError::NotFound("request"))
    }

    async fn move_request(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        org: OrgId,
        r: AuditRequest,
        to: &str,
        comment: &str,
    ) -> AppResult<()> {
        let now = Timestamp::now();
        let after = AuditRequest {
            status: to.to_owned(),
            updated_at: now,
            ..r.clone()
        };
        store_ws::put_request(tx, org, &after).await?;
        if !comment.is_empty() {
            self.insert_comment(tx, caller, org, &r.engagement_id, "request", &r.id, comment)
                .await?;
        }
        record(
            tx,
            caller,
            Event::org(org, "engagement.request_status", "audit_request", &r.id)
                .before(&serde_json::json!({"status": r.status}))
                .after(&serde_json::json!({"status": to, "comment": comment})),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_comment(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        org: OrgId,
        engagement: &str,
        kind: &str,
        subject: &str,
        body: &str,
    ) -> AppResult<Comment> {
        let author_name = match caller.user {
            Some(u) => store_user::get_in(tx, u).await?.display_name,
            None => caller.actor_text(),
        };
        let c = Comment {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: engagement.to_owned(),
            subject_kind: kind.to_owned(),
            subject_id: subject.to_owned(),
            author: caller.actor_text(),
            author_name,
            body: body.to_owned(),
            created_at: Timestamp::now(),
        };
        store_ws::insert_comment(tx, org, &c).await?;
        record(
            tx,
            caller,
            Event::org(org, "engagement.comment", "engagement", engagement).after(&c),
        )
        .await?;
        Ok(c)
    }

    /// Comments on the engagement, a request, a test or a finding of it (its auditor or
    /// staff who manage engagements).
    pub async fn comment(
        &self,
        caller: &Caller,
        key: &str,
        subject_kind: &str,
        subject_id: &str,
        body: &str,
    ) -> AppResult<Comment> {
        let body = text("body", body, 4_000, true)?;
        let (org, e) = self.workspace_access(caller, key).await?;
        crate::engagement::ensure_open(&e)?;
        let exists = match subject_kind {
            "engagement" => subject_id == e.id,
            "request" => store_ws::requests_of(&self.store, org, &e.id)
                .await?
                .iter()
                .any(|r| r.id == subject_id),
            "test" => store_eng::tests_of(&self.store, None, org, &e.id)
                .await?
                .iter()
                .any(|t| t.id == subject_id),
            "finding" => store_ws::findings_of(&self.store, None, org, &e.id)
                .await?
                .iter()
                .any(|f| f.id == subject_id),
            other => {
                return Err(AppError::invalid(
                    "subject_kind",
                    format!(
                        "unknown subject `{other}` (expected engagement, request, test or finding)"
                    ),
                ));
            }
        };
        if !exists {
            return Err(AppError::invalid(
                "subject_id",
                format!("{} has no {subject_kind} {subject_id}", e.reference),
            ));
        }
        let mut tx = self.store.begin().await?;
        let c = self
            .insert_comment(&mut tx, caller, org, &e.id, subject_kind, subject_id, &body)
            .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Comments on a request one can see (its assignee included).
    pub async fn comment_on_request(
        &self,
        caller: &Caller,
        id: &str,
        body: &str,
    ) -> AppResult<Comment> {
        let body = text("body", body, 4_000, true)?;
        let (org, r, e) = self.reach_request(caller, id).await?;
        crate::engagement::ensure_open(&e)?;
        let mut tx = self.store.begin().await?;
        let c = self
            .insert_comment(&mut tx, caller, org, &e.id, "request", &r.id, &body)
            .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The comments on a request one can see.
    pub async fn request_comments(&self, caller: &Caller, id: &str) -> AppResult<Vec<Comment>> {
        let (org, r, e) = self.reach_request(caller, id).await?;
        Ok(store_ws::comments_of(&self.store, org, &e.id)
            .await?
            .into_iter()
            .filter(|c| c.subject_kind == "request" && c.subject_id == r.id)
            .collect())
    }

    /// Raises a finding by hand: an exception in a SOC report, or a major or minor
    /// nonconformity or an observation in an ISO audit. A nonconformity also enters the
    /// ISMS corrective-action loop.
    pub async fn raise_finding(
        &self,
        caller: &Caller,
        key: &str,
        input: FindingInput,
    ) -> AppResult<FindingView> {
        let (org, e) = self.workspace_access(caller, key).await?;
        crate::engagement::ensure_open(&e)?;
        let title = text("title", &input.title, 300, true)?;
        let description = text("description", &input.description, 20_000, false)?;
        let allowed = e.kind.severities();
        if !allowed.contains(&input.severity.as_str()) {
            return Err(AppError::invalid(
                "severity",
                format!(
                    "a finding of a {} is {}, not `{}`",
                    e.kind.label(),
                    allowed.join(", "),
                    input.severity
                ),
            ));
        }
        let controls = attest_store::control::list(&self.store, org).await?;
        let scope = self.scope_controls(org, &e).await?;
        let control = match input.control.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) => Some(
                scope
                    .iter()
                    .find(|c| c.id == k || c.reference.eq_ignore_ascii_case(k))
                    .ok_or_else(|| {
                        AppError::invalid(
                            "control",
                            format!("no control `{k}` in the scope of {}", e.reference),
                        )
                    })?
                    .id
                    .clone(),
            ),
        };
        let mut tx = self.store.begin().await?;
        store_eng::lock(&mut tx, org, &e.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        let f = self
            .insert_finding(
                &mut tx,
                caller,
                org,
                &e,
                NewFinding {
                    title,
                    description,
                    severity: input.severity,
                    control_id: control,
                    test_id: None,
                    items: Vec::new(),
                },
            )
            .await?;
        tx.commit().await?;
        let ncs = store_nc::list(&self.store, org).await?;
        Ok(finding_view(f, &controls, &ncs))
    }

    /// Stores a finding (and, for an ISO major or minor one, its nonconformity).
    pub(crate) async fn insert_finding(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        org: OrgId,
        e: &Engagement,
        new: NewFinding,
    ) -> AppResult<Finding> {
        let now = Timestamp::now();
        let nonconformity_id = match new.severity.as_str() {
            "major" | "minor" if e.kind.is_iso() || e.kind == EngagementKind::Internal => {
                let n = self
                    .raise_audit_nonconformity(
                        tx,
                        caller,
                        org,
                        crate::nonconformity::AuditNc {
                            title: new.title.clone(),
                            description: format!(
                                "{} ({}): {}",
                                e.reference, e.firm, new.description
                            ),
                            source: if e.kind == EngagementKind::Internal {
                                NcSource::InternalAudit
                            } else {
                                NcSource::ExternalAudit
                            },
                            severity: if new.severity == "major" {
                                Severity::Major
                            } else {
                                Severity::Minor
                            },
                            requirement: (None, None),
                            control_id: new.control_id.clone(),
                            owner: None,
                            due_on: None,
                        },
                    )
                    .await?;
                Some(n.id)
            }
            _ => None,
        };
        let f = Finding {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: e.id.clone(),
            reference: store_ws::next_finding_ref(tx, org).await?,
            title: new.title,
            description: new.description,
            severity: new.severity,
            control_id: new.control_id,
            test_id: new.test_id,
            items: serde_json::to_string(&new.items)
                .map_err(|err| AppError::Internal(err.to_string()))?,
            nonconformity_id,
            response: String::new(),
            created_by: caller.actor_text(),
            created_at: now,
            updated_at: now,
        };
        store_ws::put_finding(tx, org, &f)
            .await
            .map_err(AppError::ref_clash("finding"))?;
        record(
            tx,
            caller,
            Event::org(org, "engagement.finding", "engagement", &e.id).after(&f),
        )
        .await?;
        Ok(f)
    }

    /// Records management's response to a finding (staff only, while the engagement is open).
    pub async fn respond_to_finding(
        &self,
        caller: &Caller,
        key: &str,
        id: &str,
        response: &str,
    ) -> AppResult<FindingView> {
        let org = caller.require(Permission::EngagementManage)?;
        let response = text("response", response, 20_000, true)?;
        let e = self.find_engagement(org, key).await?;
        crate::engagement::ensure_open(&e)?;
        let mut tx = self.store.begin().await?;
        store_eng::lock(&mut tx, org, &e.id)
            .await?
            .ok_or(AppError::NotFound("engagement"))?;
        let before = store_ws::findings_of(&self.store, Some(&mut tx), org, &e.id)
            .await?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or(AppError::NotFound("finding"))?;
        let after = Finding {
            response,
            updated_at: Timestamp::now(),
            ..before.clone()
        };
        store_ws::put_finding(&mut tx, org, &after).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.finding_response", "engagement", &e.id)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        let controls = attest_store::control::list(&self.store, org).await?;
        let ncs = store_nc::list(&self.store, org).await?;
        Ok(finding_view(after, &controls, &ncs))
    }

    /// The evidence of the engagement's period an auditor may open: an item of an in-scope
    /// control covering days of the period, or one given in answer to a request.
    pub async fn workspace_evidence_file(
        &self,
        caller: &Caller,
        key: &str,
        evidence: &str,
    ) -> AppResult<crate::evidence::FileStream> {
        let (org, e) = self.workspace_access(caller, key).await?;
        let scope = self.scope_controls(org, &e).await?;
        let in_period = self
            .period_evidence(org, &e, &scope)
            .await?
            .iter()
            .any(|x| x.id == evidence);
        let answered = store_ws::evidence_of(&self.store, org, &e.id)
            .await?
            .iter()
            .any(|(_, x)| x == evidence);
        if !in_period && !answered {
            return Err(AppError::Forbidden(format!(
                "rule auditor-scope: this evidence is neither of {}'s period and scope nor an answer to its requests",
                e.reference
            )));
        }
        let file = self.evidence_file_of(org, evidence).await?;
        let mut tx = self.store.begin().await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.evidence_download", "evidence", evidence)
                .after(&serde_json::json!({"engagement": e.reference})),
        )
        .await?;
        tx.commit().await?;
        Ok(file)
    }

    /// The organisation's sample-size table.
    pub async fn sample_table(&self, caller: &Caller) -> AppResult<SampleTable> {
        let org = caller
            .require(Permission::ProgramRead)
            .or_else(|_| caller.require(Permission::EngagementWork))?;
        Ok(store_ws::sample_table(&self.store, None, org).await?)
    }

    /// Changes the organisation's sample-size table (later draws use it; recorded draws keep
    /// their size).
    pub async fn set_sample_table(
        &self,
        caller: &Caller,
        t: SampleTable,
    ) -> AppResult<SampleTable> {
        let org = caller.require(Permission::EngagementManage)?;
        t.validate().map_err(|m| {
            let field = m.split(':').next().unwrap_or("sample_table").to_owned();
            AppError::invalid(&field, m)
        })?;
        let mut tx = self.store.begin().await?;
        let before = store_ws::sample_table(&self.store, Some(&mut tx), org).await?;
        store_ws::set_sample_table(&mut tx, org, &t, &caller.actor_text(), Timestamp::now())
            .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.sample_table", "organisation", org)
                .before(&before)
                .after(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(t)
    }
}

/// A finding about to be stored.
#[derive(Debug, Clone)]
pub(crate) struct NewFinding {
    pub title: String,
    pub description: String,
    pub severity: String,
    pub control_id: Option<String>,
    pub test_id: Option<String>,
    pub items: Vec<u32>,
}

fn answerable(r: &AuditRequest) -> AppResult<()> {
    if matches!(r.status.as_str(), "open" | "returned") {
        return Ok(());
    }
    Err(AppError::Rule {
        rule: "request-status",
        message: format!(
            "{} is {}: it is answered while open or returned",
            r.reference, r.status
        ),
    })
}

fn end_of_day(d: Date) -> AppResult<Timestamp> {
    let next = d
        .next_day()
        .ok_or_else(|| AppError::invalid("until", "the date is out of range"))?;
    Ok(Timestamp::from_micros(
        next.midnight().assume_utc().unix_timestamp() * 1_000_000 - 1,
    ))
}

fn request_view(
    r: AuditRequest,
    e: &Engagement,
    controls: &[Control],
    names: &BTreeMap<UserId, String>,
    answers: &[(String, String)],
    titles: &BTreeMap<String, String>,
    today: Date,
) -> RequestView {
    RequestView {
        engagement_ref: e.reference.clone(),
        control_ref: r
            .control_id
            .as_ref()
            .and_then(|c| controls.iter().find(|x| &x.id == c))
            .map(|c| c.reference.clone()),
        assignee: r.assignee_id.and_then(|u| names.get(&u).cloned()),
        evidence: answers
            .iter()
            .filter(|(req, _)| *req == r.id)
            .map(|(_, ev)| (ev.clone(), titles.get(ev).cloned().unwrap_or_default()))
            .collect(),
        overdue: matches!(r.status.as_str(), "open" | "returned")
            && r.due_on.is_some_and(|d| d < today),
        request: r,
    }
}

fn finding_view(f: Finding, controls: &[Control], ncs: &[Nonconformity]) -> FindingView {
    FindingView {
        control_ref: f
            .control_id
            .as_ref()
            .and_then(|c| controls.iter().find(|x| &x.id == c))
            .map(|c| c.reference.clone()),
        nonconformity_ref: f
            .nonconformity_id
            .as_ref()
            .and_then(|n| ncs.iter().find(|x| &x.id == n))
            .map(|n| n.reference.clone()),
        finding: f,
    }
}
