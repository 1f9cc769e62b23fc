//! Policies and procedures (ISO/IEC 27001 5.2, 7.5): Markdown documents with versions, an
//! owner, named approvers who approve the exact text, publication, a review cadence with
//! due dates, and staff acknowledgements with reminders; PDF of a published version;
//! templates for the usual ISMS set, written by the Attest team.

use std::collections::{HashMap, HashSet};

use attest_domain::policy::{
    DocumentKind, REVIEW_MONTHS, VersionState, body_hash, publication_blocker, review_due,
};
use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::policy::{self as store_pol, Approval, Policy, Version};
use attest_store::user as store_user;
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::risk::text;
use crate::{App, AppError, AppResult, Caller, Permission};

/// A template of the usual ISMS set: (slug, title, kind, Markdown).
pub const TEMPLATES: &[(&str, &str, DocumentKind, &str)] = &[
    (
        "information-security-policy",
        "Information security policy",
        DocumentKind::Policy,
        include_str!("../policies/information-security-policy.md"),
    ),
    (
        "access-control-policy",
        "Access control policy",
        DocumentKind::Policy,
        include_str!("../policies/access-control-policy.md"),
    ),
    (
        "acceptable-use-policy",
        "Acceptable use policy",
        DocumentKind::Policy,
        include_str!("../policies/acceptable-use-policy.md"),
    ),
    (
        "backup-policy",
        "Backup policy",
        DocumentKind::Policy,
        include_str!("../policies/backup-policy.md"),
    ),
    (
        "supplier-security-policy",
        "Supplier security policy",
        DocumentKind::Policy,
        include_str!("../policies/supplier-security-policy.md"),
    ),
    (
        "incident-response-procedure",
        "Incident response procedure",
        DocumentKind::Procedure,
        include_str!("../policies/incident-response-procedure.md"),
    ),
];

const BODY_MAX: usize = 200_000;
const APPROVERS_MAX: usize = 10;

/// A document's details as a caller gives them.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: DocumentKind,
    /// Who keeps it.
    pub owner_id: Option<UserId>,
    /// Who must approve each version (at least one before publication).
    pub approvers: Vec<UserId>,
    /// Review cadence in months.
    pub review_months: u32,
    /// Whether staff must acknowledge each published version.
    pub ack_required: bool,
}

/// A row of the document list.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    /// Id.
    pub id: String,
    /// `POL-001`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: DocumentKind,
    /// Owner's name.
    pub owner: Option<String>,
    /// The version in force.
    pub published_version: Option<i64>,
    /// Since when.
    pub published_on: Option<Date>,
    /// An open draft.
    pub draft_version: Option<i64>,
    /// When the next review is due.
    pub review_due: Option<Date>,
    /// Whether that is past.
    pub review_overdue: bool,
    /// Staff who acknowledged the version in force.
    pub acknowledged: usize,
    /// Staff who must.
    pub to_acknowledge: usize,
    /// Whether the caller still has to acknowledge it.
    pub mine_pending: bool,
}

/// A version in a document's history.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// Its number.
    pub version: i64,
    /// Its state.
    pub state: VersionState,
    /// What changed.
    pub note: String,
    /// Who wrote it.
    pub created_by: String,
    /// Last edit.
    pub updated_at: Timestamp,
    /// When it was published.
    pub published_on: Option<Date>,
    /// The SHA-256 of its text.
    pub body_hash: String,
}

/// An approval as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalInfo {
    /// Who.
    pub name: String,
    /// When.
    pub approved_at: Timestamp,
    /// Whether it was given to the version's current text.
    pub current: bool,
}

/// An acknowledgement as shown.
#[derive(Debug, Clone, Serialize)]
pub struct AckInfo {
    /// Who.
    pub name: String,
    /// When.
    pub acked_at: Timestamp,
}

/// A document with one version (the draft, else the one in force, unless another is asked).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    /// The list row.
    pub summary: PolicySummary,
    /// Owner id.
    pub owner_id: Option<UserId>,
    /// Review cadence in months.
    pub review_months: u32,
    /// Whether staff acknowledge it.
    pub ack_required: bool,
    /// Last review without change.
    pub last_reviewed_on: Option<Date>,
    /// Approvers: (id, name).
    pub approvers: Vec<(UserId, String)>,
    /// The version shown, with its text.
    pub version: Option<VersionInfo>,
    /// Its Markdown text.
    pub body: String,
    /// Approvals of the version shown.
    pub approvals: Vec<ApprovalInfo>,
    /// What blocks publishing the draft.
    pub blocker: Option<String>,
    /// Acknowledgements of the version shown (published or superseded).
    pub acks: Vec<AckInfo>,
    /// Staff yet to acknowledge the version in force.
    pub pending: Vec<String>,
    /// The latest reminder about the version in force: (when, by).
    pub last_reminder: Option<(Timestamp, String)>,
    /// Every version, newest first.
    pub history: Vec<VersionInfo>,
    /// Whether the caller may approve the draft now.
    pub can_approve: bool,
}

fn info(v: &Version) -> VersionInfo {
    VersionInfo {
        version: v.version,
        state: v.state,
        note: v.note.clone(),
        created_by: v.created_by.clone(),
        updated_at: v.updated_at,
        published_on: v.published_on,
        body_hash: v.body_hash.clone(),
    }
}

fn conflict(e: attest_store::StoreError) -> AppError {
    match e {
        attest_store::StoreError::Unique { field } if field == "title" => AppError::Conflict {
            field: "title".into(),
            message: "another document has this title".into(),
        },
        attest_store::StoreError::Unique { field } => AppError::Conflict {
            field,
            message: "someone changed this document at the same moment: reload and try again"
                .into(),
        },
        other => other.into(),
    }
}

/// Staff who read policies: active members other than auditors.
async fn staff(app: &App, org: OrgId) -> AppResult<Vec<(UserId, String)>> {
    let now = Timestamp::now();
    Ok(store_user::members(&app.store, org)
        .await?
        .into_iter()
        .filter(|m| m.membership.active_at(now) && m.membership.role != Role::Auditor)
        .map(|m| (m.user.id, m.user.display_name))
        .collect())
}

impl App {
    async fn check_policy_input(&self, org: OrgId, p: &PolicyInput) -> AppResult<PolicyInput> {
        let title = text("title", &p.title, 200, true)?;
        if !REVIEW_MONTHS.contains(&p.review_months) {
            return Err(AppError::invalid(
                "review_months",
                format!(
                    "review every {} to {} months",
                    REVIEW_MONTHS.start(),
                    REVIEW_MONTHS.end()
                ),
            ));
        }
        self.check_member(org, "owner_id", p.owner_id).await?;
        let mut approvers = p.approvers.clone();
        approvers.sort();
        approvers.dedup();
        if approvers.len() > APPROVERS_MAX {
            return Err(AppError::invalid(
                "approvers",
                format!("name at most {APPROVERS_MAX} approvers"),
            ));
        }
        for a in &approvers {
            self.check_member(org, "approvers", Some(*a))
                .await
                .map_err(|_| {
                    AppError::invalid("approvers", "every approver must be an active member")
                })?;
        }
        Ok(PolicyInput {
            title,
            kind: p.kind,
            owner_id: p.owner_id,
            approvers,
            review_months: p.review_months,
            ack_required: p.ack_required,
        })
    }

    /// Creates a document with draft 1: the given text, or a template's.
    pub async fn create_policy(
        &self,
        caller: &Caller,
        input: PolicyInput,
        body: &str,
    ) -> AppResult<PolicyView> {
        let org = caller.require(Permission::IsmsManage)?;
        let input = self.check_policy_input(org, &input).await?;
        let body = check_body(body)?;
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let p = Policy {
            id: uuid::Uuid::now_v7().to_string(),
            reference: store_pol::next_ref(&mut tx, org).await?,
            title: input.title.clone(),
            kind: input.kind,
            owner_id: input.owner_id,
            review_months: input.review_months,
            ack_required: input.ack_required,
            last_reviewed_on: None,
            created_at: now,
            updated_at: now,
        };
        store_pol::put(&mut tx, org, &p).await.map_err(conflict)?;
        store_pol::set_approvers(&mut tx, org, &p.id, &input.approvers).await?;
        let v = Version {
            policy_id: p.id.clone(),
            version: 1,
            state: VersionState::Draft,
            body_hash: body_hash(&body),
            body,
            note: "First draft".into(),
            created_by: caller.actor_text(),
            created_at: now,
            updated_at: now,
            published_on: None,
            published_by: None,
        };
        store_pol::insert_version(&mut tx, org, &v)
            .await
            .map_err(conflict)?;
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.create", "policy", &p.id).after(&serde_json::json!({
                "ref": p.reference, "title": p.title, "kind": p.kind,
                "owner_id": p.owner_id, "approvers": input.approvers,
                "review_months": p.review_months, "ack_required": p.ack_required,
                "body_hash": v.body_hash,
            })),
        )
        .await?;
        tx.commit().await?;
        self.policy(caller, &p.id, None).await
    }

    /// Creates a document from one of the templates, with the organisation's name filled in.
    pub async fn create_policy_from_template(
        &self,
        caller: &Caller,
        template: &str,
        mut input: PolicyInput,
    ) -> AppResult<PolicyView> {
        let org = caller.require(Permission::IsmsManage)?;
        let Some((_, title, kind, body)) = TEMPLATES.iter().find(|t| t.0 == template) else {
            return Err(AppError::invalid(
                "template",
                format!(
                    "unknown template `{template}` (expected {})",
                    TEMPLATES.iter().map(|t| t.0).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        if input.title.trim().is_empty() {
            input.title = (*title).to_owned();
        }
        input.kind = *kind;
        let name = attest_store::org::get(&self.store, org).await?.name;
        let body = body.replace("{{organisation}}", &name);
        self.create_policy(caller, input, &body).await
    }

    /// Changes a document's title, kind, owner, approvers and cadence.
    pub async fn update_policy(
        &self,
        caller: &Caller,
        id: &str,
        input: PolicyInput,
    ) -> AppResult<PolicyView> {
        let org = caller.require(Permission::IsmsManage)?;
        let input = self.check_policy_input(org, &input).await?;
        let mut tx = self.store.begin().await?;
        let before = store_pol::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let p = Policy {
            title: input.title.clone(),
            kind: input.kind,
            owner_id: input.owner_id,
            review_months: input.review_months,
            ack_required: input.ack_required,
            updated_at: Timestamp::now(),
            ..before.clone()
        };
        store_pol::put(&mut tx, org, &p).await.map_err(conflict)?;
        store_pol::set_approvers(&mut tx, org, id, &input.approvers).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.update", "policy", id).after(&serde_json::json!({
                "title": p.title, "kind": p.kind, "owner_id": p.owner_id,
                "approvers": input.approvers, "review_months": p.review_months,
                "ack_required": p.ack_required,
            })),
        )
        .await?;
        tx.commit().await?;
        self.policy(caller, id, None).await
    }

    /// Saves the draft's text: the open draft changes (approvals given to the earlier text
    /// no longer count); after a publication, a new draft is opened.
    pub async fn save_policy_draft(
        &self,
        caller: &Caller,
        id: &str,
        body: &str,
        note: &str,
    ) -> AppResult<PolicyView> {
        let org = caller.require(Permission::IsmsManage)?;
        let body = check_body(body)?;
        let note = text("note", note, 500, false)?;
        let now = Timestamp::now();
        let hash = body_hash(&body);
        let mut tx = self.store.begin().await?;
        store_pol::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let versions = store_pol::versions_in(&mut tx, org, id).await?;
        let latest = versions.first();
        let number = match latest {
            Some(v) if v.state == VersionState::Draft => {
                if v.body_hash == hash && v.note == note {
                    return Err(AppError::Rule {
                        rule: "no-change",
                        message: format!("draft {} already says this", v.version),
                    });
                }
                let changed = Version {
                    body: body.clone(),
                    body_hash: hash.clone(),
                    note: note.clone(),
                    updated_at: now,
                    ..v.clone()
                };
                store_pol::update_draft(&mut tx, org, &changed).await?;
                v.version
            }
            _ => {
                if latest.is_some_and(|v| v.body_hash == hash) {
                    return Err(AppError::Rule {
                        rule: "no-change",
                        message: "the text is the same as the version in force".into(),
                    });
                }
                let number = latest.map_or(1, |v| v.version + 1);
                store_pol::insert_version(
                    &mut tx,
                    org,
                    &Version {
                        policy_id: id.to_owned(),
                        version: number,
                        state: VersionState::Draft,
                        body: body.clone(),
                        body_hash: hash.clone(),
                        note: note.clone(),
                        created_by: caller.actor_text(),
                        created_at: now,
                        updated_at: now,
                        published_on: None,
                        published_by: None,
                    },
                )
                .await
                .map_err(conflict)?;
                number
            }
        };
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.draft", "policy", id)
                .after(&serde_json::json!({"version": number, "body_hash": hash, "note": note})),
        )
        .await?;
        tx.commit().await?;
        self.policy(caller, id, None).await
    }

    /// Approves the draft's current text: only a named approver may.
    pub async fn approve_policy(&self, caller: &Caller, id: &str) -> AppResult<PolicyView> {
        let org = caller.require(Permission::DocumentApprove)?;
        let user = caller.require_user()?;
        let mut tx = self.store.begin().await?;
        store_pol::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let approvers: Vec<UserId> = store_pol::all_approvers(&self.store, org)
            .await?
            .into_iter()
            .filter(|(p, _)| p == id)
            .map(|(_, u)| u)
            .collect();
        if !approvers.contains(&user) {
            return Err(AppError::Forbidden(
                "only the document's named approvers may approve it".into(),
            ));
        }
        let versions = store_pol::versions_in(&mut tx, org, id).await?;
        let Some(draft) = versions.first().filter(|v| v.state == VersionState::Draft) else {
            return Err(AppError::Rule {
                rule: "policy-no-draft",
                message: "there is no draft to approve".into(),
            });
        };
        let name = self
            .member_names(org)
            .await?
            .remove(&user)
            .unwrap_or_else(|| caller.actor_text());
        store_pol::approve(
            &mut tx,
            org,
            id,
            &Approval {
                version: draft.version,
                user_id: user,
                user_name: name,
                body_hash: draft.body_hash.clone(),
                approved_at: Timestamp::now(),
            },
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.approve", "policy", id).after(
                &serde_json::json!({"version": draft.version, "body_hash": draft.body_hash}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.policy(caller, id, None).await
    }

    /// Publishes the draft once every named approver approved its text; the version in
    /// force before is superseded and the review cadence starts again.
    pub async fn publish_policy(&self, caller: &Caller, id: &str) -> AppResult<PolicyView> {
        let org = caller.require(Permission::IsmsManage)?;
        let mut tx = self.store.begin().await?;
        store_pol::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let versions = store_pol::versions_in(&mut tx, org, id).await?;
        let Some(draft) = versions.first().filter(|v| v.state == VersionState::Draft) else {
            return Err(AppError::Rule {
                rule: "policy-no-draft",
                message: "there is no draft to publish".into(),
            });
        };
        let names = self.member_names(org).await?;
        let approvers: Vec<(String, String)> = store_pol::all_approvers(&self.store, org)
            .await?
            .into_iter()
            .filter(|(p, _)| p == id)
            .map(|(_, u)| {
                (
                    u.to_string(),
                    names.get(&u).cloned().unwrap_or_else(|| u.to_string()),
                )
            })
            .collect();
        let approved =
            store_pol::approved_by_in(&mut tx, org, id, draft.version, &draft.body_hash).await?;
        if let Some(why) = publication_blocker(&approvers, &approved, &draft.body) {
            return Err(AppError::Rule {
                rule: "policy-approval",
                message: format!("version {} cannot be published: {why}", draft.version),
            });
        }
        let now = Timestamp::now();
        if !store_pol::publish(
            &mut tx,
            org,
            id,
            draft.version,
            now.date(),
            &caller.actor_text(),
            now,
        )
        .await?
        {
            return Err(AppError::Conflict {
                field: "version".into(),
                message: "the draft was published meanwhile".into(),
            });
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.publish", "policy", id).after(
                &serde_json::json!({"version": draft.version, "body_hash": draft.body_hash}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.policy(caller, id, None).await
    }

    /// Records that the document was reviewed and still holds (no new version).
    pub async fn review_policy(
        &self,
        caller: &Caller,
        id: &str,
        note: &str,
    ) -> AppResult<PolicyView> {
        let org = caller.require(Permission::IsmsManage)?;
        let note = text("note", note, 500, true)?;
        let mut tx = self.store.begin().await?;
        let p = store_pol::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        if !store_pol::versions_in(&mut tx, org, id)
            .await?
            .iter()
            .any(|v| v.state == VersionState::Published)
        {
            return Err(AppError::Rule {
                rule: "policy-unpublished",
                message: "publish a version before recording a review".into(),
            });
        }
        let today = Timestamp::now().date();
        store_pol::put(
            &mut tx,
            org,
            &Policy {
                last_reviewed_on: Some(today),
                updated_at: Timestamp::now(),
                ..p
            },
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.review", "policy", id)
                .after(&serde_json::json!({"reviewed_on": today, "note": note})),
        )
        .await?;
        tx.commit().await?;
        self.policy(caller, id, None).await
    }

    /// Records that the caller read the version in force.
    pub async fn acknowledge_policy(&self, caller: &Caller, id: &str) -> AppResult<PolicyView> {
        let org = caller.require(Permission::Acknowledge)?;
        let user = caller.require_user()?;
        let mut tx = self.store.begin().await?;
        store_pol::lock(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let Some(published) = store_pol::versions_in(&mut tx, org, id)
            .await?
            .into_iter()
            .find(|v| v.state == VersionState::Published)
        else {
            return Err(AppError::Rule {
                rule: "policy-unpublished",
                message: "no version is in force yet".into(),
            });
        };
        if store_pol::acknowledge(&mut tx, org, id, published.version, user, Timestamp::now())
            .await?
        {
            record(
                &mut tx,
                caller,
                Event::org(org, "policy.acknowledge", "policy", id).after(
                    &serde_json::json!({"version": published.version, "body_hash": published.body_hash}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        self.policy(caller, id, None).await
    }

    /// Reminds the staff who have not acknowledged the version in force (shown to each of
    /// them on their dashboard and the document); returns how many were reminded.
    pub async fn remind_policy(&self, caller: &Caller, id: &str) -> AppResult<usize> {
        let org = caller.require(Permission::IsmsManage)?;
        let view = self.policy(caller, id, None).await?;
        let Some(version) = view.summary.published_version else {
            return Err(AppError::Rule {
                rule: "policy-unpublished",
                message: "no version is in force yet".into(),
            });
        };
        if view.pending.is_empty() {
            return Err(AppError::Rule {
                rule: "policy-acknowledged",
                message: "everyone has acknowledged the version in force".into(),
            });
        }
        let mut tx = self.store.begin().await?;
        store_pol::add_reminder(
            &mut tx,
            org,
            id,
            version,
            &caller.actor_text(),
            view.pending.len(),
            Timestamp::now(),
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "policy.remind", "policy", id)
                .after(&serde_json::json!({"version": version, "recipients": view.pending})),
        )
        .await?;
        tx.commit().await?;
        Ok(view.pending.len())
    }

    /// Every document with its state, reviews and acknowledgements.
    pub async fn policies(&self, caller: &Caller) -> AppResult<Vec<PolicySummary>> {
        let org = caller.require(Permission::ProgramRead)?;
        let list = store_pol::list(&self.store, org).await?;
        let states = store_pol::version_states(&self.store, org).await?;
        let acks = store_pol::acks(&self.store, org).await?;
        let staff = staff(self, org).await?;
        let names = self.member_names(org).await?;
        let today = Timestamp::now().date();
        let mut published: HashMap<&str, (i64, Option<Date>)> = HashMap::new();
        let mut drafts: HashMap<&str, i64> = HashMap::new();
        for (p, v, s, d) in &states {
            match s {
                VersionState::Published => {
                    published.insert(p, (*v, *d));
                }
                VersionState::Draft => {
                    drafts.insert(p, *v);
                }
                VersionState::Superseded => {}
            }
        }
        let acked: HashSet<(&str, i64, UserId)> = acks
            .iter()
            .map(|(p, v, u, _)| (p.as_str(), *v, *u))
            .collect();
        Ok(list
            .iter()
            .map(|p| {
                let pubd = published.get(p.id.as_str()).copied();
                let due = pubd
                    .and_then(|(_, on)| on)
                    .map(|on| review_due(on, p.last_reviewed_on, p.review_months));
                let (acknowledged, to_acknowledge, mine_pending) = match pubd {
                    Some((v, _)) if p.ack_required => {
                        let done = staff
                            .iter()
                            .filter(|(u, _)| acked.contains(&(p.id.as_str(), v, *u)))
                            .count();
                        let mine = caller.user.is_some_and(|u| {
                            staff.iter().any(|(s, _)| *s == u)
                                && !acked.contains(&(p.id.as_str(), v, u))
                        });
                        (done, staff.len(), mine)
                    }
                    _ => (0, 0, false),
                };
                PolicySummary {
                    id: p.id.clone(),
                    reference: p.reference.clone(),
                    title: p.title.clone(),
                    kind: p.kind,
                    owner: p.owner_id.and_then(|u| names.get(&u).cloned()),
                    published_version: pubd.map(|(v, _)| v),
                    published_on: pubd.and_then(|(_, d)| d),
                    draft_version: drafts.get(p.id.as_str()).copied(),
                    review_due: due,
                    review_overdue: due.is_some_and(|d| d < today),
                    acknowledged,
                    to_acknowledge,
                    mine_pending,
                }
            })
            .collect())
    }

    /// One document with one version (the draft, else the one in force, unless `version`).
    pub async fn policy(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<i64>,
    ) -> AppResult<PolicyView> {
        let org = caller.require(Permission::ProgramRead)?;
        let p = store_pol::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("document"))?;
        let summary = self
            .policies(caller)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(AppError::NotFound("document"))?;
        let versions = store_pol::versions(&self.store, org, id).await?;
        let shown = match version {
            Some(n) => Some(
                versions
                    .iter()
                    .find(|v| v.version == n)
                    .ok_or(AppError::NotFound("document version"))?,
            ),
            None => versions.first(),
        };
        let names = self.member_names(org).await?;
        let approvers: Vec<(UserId, String)> = store_pol::all_approvers(&self.store, org)
            .await?
            .into_iter()
            .filter(|(pid, _)| pid == id)
            .map(|(_, u)| {
                let n = names.get(&u).cloned().unwrap_or_else(|| u.to_string());
                (u, n)
            })
            .collect();
        let all_approvals = store_pol::approvals(&self.store, org, id).await?;
        let approvals: Vec<ApprovalInfo> = shown
            .map(|v| {
                all_approvals
                    .iter()
                    .filter(|a| a.version == v.version)
                    .map(|a| ApprovalInfo {
                        name: a.user_name.clone(),
                        approved_at: a.approved_at,
                        current: a.body_hash == v.body_hash,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let blocker = shown
            .filter(|v| v.state == VersionState::Draft)
            .and_then(|v| {
                let ids: Vec<(String, String)> = approvers
                    .iter()
                    .map(|(u, n)| (u.to_string(), n.clone()))
                    .collect();
                let approved: Vec<String> = all_approvals
                    .iter()
                    .filter(|a| a.version == v.version && a.body_hash == v.body_hash)
                    .map(|a| a.user_id.to_string())
                    .collect();
                publication_blocker(&ids, &approved, &v.body)
            });
        let acks_all = store_pol::acks(&self.store, org).await?;
        let acks: Vec<AckInfo> = shown
            .map(|v| {
                acks_all
                    .iter()
                    .filter(|(pid, n, _, _)| pid == id && *n == v.version)
                    .map(|(_, _, u, t)| AckInfo {
                        name: names.get(u).cloned().unwrap_or_else(|| u.to_string()),
                        acked_at: *t,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let pending = match summary.published_version {
            Some(n) if p.ack_required => {
                let done: HashSet<UserId> = acks_all
                    .iter()
                    .filter(|(pid, v, _, _)| pid == id && *v == n)
                    .map(|(_, _, u, _)| *u)
                    .collect();
                staff(self, org)
                    .await?
                    .into_iter()
                    .filter(|(u, _)| !done.contains(u))
                    .map(|(_, n)| n)
                    .collect()
            }
            _ => Vec::new(),
        };
        let last_reminder = match summary.published_version {
            Some(n) => store_pol::last_reminders(&self.store, org)
                .await?
                .into_iter()
                .filter(|(pid, v, _, _)| pid == id && *v == n)
                .map(|(_, _, t, b)| (t, b))
                .next_back(),
            None => None,
        };
        let can_approve = caller.require(Permission::DocumentApprove).is_ok()
            && caller
                .user
                .is_some_and(|u| approvers.iter().any(|(a, _)| *a == u))
            && shown.is_some_and(|v| v.state == VersionState::Draft);
        Ok(PolicyView {
            summary,
            owner_id: p.owner_id,
            review_months: p.review_months,
            ack_required: p.ack_required,
            last_reviewed_on: p.last_reviewed_on,
            approvers,
            version: shown.map(info),
            body: shown.map(|v| v.body.clone()).unwrap_or_default(),
            approvals,
            blocker,
            acks,
            pending,
            last_reminder,
            history: versions.iter().map(info).collect(),
            can_approve,
        })
    }

    /// A published (or superseded) version as a typeset PDF: (file name, bytes).
    pub async fn policy_pdf(
        &self,
        caller: &Caller,
        id: &str,
        version: Option<i64>,
    ) -> AppResult<(String, Vec<u8>)> {
        let org = caller.require(Permission::ProgramRead)?;
        let view = self.policy(caller, id, version).await?;
        let v = match (version, &view.version) {
            (None, _) => {
                let n = view.summary.published_version.ok_or(AppError::Rule {
                    rule: "policy-unpublished",
                    message: "no version is in force yet: only published versions are exported"
                        .into(),
                })?;
                return Box::pin(self.policy_pdf(caller, id, Some(n))).await;
            }
            (Some(_), Some(v)) if v.state != VersionState::Draft => v.clone(),
            _ => {
                return Err(AppError::Rule {
                    rule: "policy-unpublished",
                    message: "a draft is not exported: publish it first".into(),
                });
            }
        };
        let organisation = attest_store::org::get(&self.store, org).await?.name;
        let approvals: Vec<String> = view
            .approvals
            .iter()
            .filter(|a| a.current)
            .map(|a| format!("{} ({})", a.name, a.approved_at.date()))
            .collect();
        let doc = attest_report::policy::PolicyDocument {
            organisation,
            reference: view.summary.reference.clone(),
            title: view.summary.title.clone(),
            kind: view.summary.kind.label().to_owned(),
            version: v.version,
            state: v.state.label().to_owned(),
            published_on: v.published_on.map(|d| d.to_string()).unwrap_or_default(),
            owner: view.summary.owner.clone().unwrap_or_default(),
            approvals,
            review_due: view
                .summary
                .review_due
                .map(|d| d.to_string())
                .unwrap_or_default(),
            body_hash: v.body_hash.clone(),
            body: view.body.clone(),
            generated_on: Timestamp::now().date(),
        };
        let name = format!(
            "{}-v{}.pdf",
            view.summary.reference.to_lowercase(),
            v.version
        );
        let bytes = crate::typeset(move || attest_report::policy::pdf(&doc)).await?;
        Ok((name, bytes))
    }
}

fn check_body(body: &str) -> AppResult<String> {
    let body = body.replace("\r\n", "\n");
    if body.trim().is_empty() {
        return Err(AppError::invalid("body", "write the document's text"));
    }
    if body.len() > BODY_MAX {
        return Err(AppError::invalid(
            "body",
            format!("the text is longer than {BODY_MAX} bytes"),
        ));
    }
    Ok(body)
}
