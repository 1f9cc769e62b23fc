//! The common controls hub: an organisation's controls, their links to requirements of any
//! framework, and the links the mapping sets propose for the other frameworks in use.

use std::collections::{BTreeMap, HashSet};

use attest_domain::control::{ControlStatus, Frequency, valid_control_ref};
use attest_domain::mapping::{Coverage, Relationship};
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::control::{self as store_ctl, Control, Family, Link, Service};
use attest_store::user as store_user;
use serde::Serialize;

use crate::audit_trail::{Event, record};
use crate::framework::base_id;
use crate::mapping::OrgMappings;
use crate::{App, AppError, AppResult, Caller, Permission};

/// What a person gives to create or change a control.
#[derive(Debug, Clone)]
pub struct ControlInput {
    /// Reference (`AC-01`).
    pub reference: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Owner.
    pub owner: Option<UserId>,
    /// Frequency.
    pub frequency: Frequency,
    /// Status.
    pub status: ControlStatus,
    /// Services it applies to.
    pub services: Vec<String>,
}

/// A link as shown with a control.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// Framework id.
    pub framework: String,
    /// Framework name.
    pub framework_name: String,
    /// Requirement id.
    pub requirement: String,
    /// Requirement title.
    pub title: String,
    /// Full or partial.
    pub coverage: Coverage,
    /// `manual` or `proposal`.
    pub origin: String,
    /// The mapping that proposed it, in words.
    pub via: String,
    /// Who linked it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A link the mapping sets propose for a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// Target framework.
    pub framework: String,
    /// Target framework's name.
    pub framework_name: String,
    /// Target requirement.
    pub requirement: String,
    /// Its title.
    pub title: String,
    /// How much of it the control would cover.
    pub coverage: Coverage,
    /// The control's linked requirement the proposal comes from (`iso27001-2022 A.5.15`).
    pub from: String,
    /// The relationship of that requirement to the proposed one.
    pub rel: Relationship,
    /// Where the mapping comes from (`NIST`, `Attest`, a person), and its set or path.
    pub provenance: String,
    /// The mapping's note.
    pub note: Option<String>,
}

/// A control with everything shown about it.
#[derive(Debug, Clone, Serialize)]
pub struct ControlView {
    /// The control.
    pub control: Control,
    /// The owner's name.
    pub owner_name: Option<String>,
    /// Services it applies to.
    pub services: Vec<Service>,
    /// Its links.
    pub links: Vec<LinkView>,
    /// Links the mapping sets propose.
    pub proposals: Vec<Proposal>,
}

/// A row of the control list.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRow {
    /// The control.
    pub control: Control,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Number of links.
    pub links: usize,
}

/// Filters for the control list.
#[derive(Debug, Clone, Default)]
pub struct ControlFilter {
    /// Only this owner.
    pub owner: Option<UserId>,
    /// Only this status.
    pub status: Option<ControlStatus>,
    /// Only controls linked to this framework (and requirement).
    pub framework: Option<String>,
    /// Requirement within `framework`.
    pub requirement: Option<String>,
    /// Words in reference, title or description.
    pub text: Option<String>,
}

fn check_input(i: &ControlInput) -> AppResult<()> {
    if !valid_control_ref(i.reference.trim()) {
        return Err(AppError::invalid(
            "ref",
            "use 1 to 32 letters, digits, dots, hyphens or underscores, like AC-01",
        ));
    }
    if i.title.trim().is_empty() || i.title.chars().count() > 300 {
        return Err(AppError::invalid(
            "title",
            "give a title of 1 to 300 characters",
        ));
    }
    if i.description.chars().count() > 20_000 {
        return Err(AppError::invalid(
            "description",
            "the description is longer than 20,000 characters",
        ));
    }
    Ok(())
}

impl App {
    /// Refuses, naming `field`, a person who is not an active member (owners of controls,
    /// risks, assets and actions).
    pub(crate) async fn check_member(
        &self,
        org: OrgId,
        field: &str,
        user: Option<UserId>,
    ) -> AppResult<()> {
        if let Some(u) = user
            && store_user::membership(&self.store, org, u)
                .await?
                .is_none_or(|m| m.deactivated_at.is_some())
        {
            return Err(AppError::invalid(
                field,
                "the owner must be an active member of the organisation",
            ));
        }
        Ok(())
    }

    /// Every member's display name, for showing owners.
    pub(crate) async fn member_names(&self, org: OrgId) -> AppResult<BTreeMap<UserId, String>> {
        Ok(store_user::members(&self.store, org)
            .await?
            .into_iter()
            .map(|m| (m.user.id, m.user.display_name))
            .collect())
    }

    async fn check_services(
        &self,
        tx: &mut attest_store::Tx,
        org: OrgId,
        services: &[String],
    ) -> AppResult<()> {
        if !store_ctl::services_exist(tx, org, services).await? {
            return Err(AppError::invalid("services", "a service does not exist"));
        }
        Ok(())
    }

    /// Creates a control.
    pub async fn create_control(&self, caller: &Caller, input: ControlInput) -> AppResult<Control> {
        let org = caller.require(Permission::ControlManage)?;
        check_input(&input)?;
        self.check_member(org, "owner", input.owner).await?;
        let now = Timestamp::now();
        let c = Control {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org,
            reference: input.reference.trim().to_owned(),
            title: input.title.trim().to_owned(),
            description: input.description.trim().to_owned(),
            owner_id: input.owner,
            frequency: input.frequency,
            status: input.status,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        self.check_services(&mut tx, org, &input.services).await?;
        store_ctl::insert(&mut tx, &c).await.map_err(|e| match e {
            attest_store::StoreError::Unique { .. } => AppError::Conflict {
                field: "ref".into(),
                message: format!("a control {} already exists", c.reference),
            },
            other => other.into(),
        })?;
        store_ctl::set_services(&mut tx, org, &c.id, &input.services).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "control.create", "control", &c.id)
                .after(&serde_json::json!({"control": c, "services": input.services})),
        )
        .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The control, checked for write access: any control with `ControlManage`, one's own
    /// with `ControlUpdateOwn`.
    async fn writable_control(
        &self,
        caller: &Caller,
        tx: &mut attest_store::Tx,
        id: &str,
    ) -> AppResult<(OrgId, Control)> {
        let org = caller.require(Permission::ControlUpdateOwn)?;
        let c = store_ctl::get_in(tx, org, id)
            .await?
            .ok_or(AppError::NotFound("control"))?;
        if caller.require(Permission::ControlManage).is_err()
            && (c.owner_id.is_none() || c.owner_id != caller.user)
        {
            return Err(AppError::Forbidden(
                "you can change only the controls you own".into(),
            ));
        }
        Ok((org, c))
    }

    /// Changes a control. Control owners may change their own controls' status and
    /// description only.
    pub async fn update_control(
        &self,
        caller: &Caller,
        id: &str,
        input: ControlInput,
    ) -> AppResult<Control> {
        check_input(&input)?;
        let mut tx = self.store.begin().await?;
        let (org, before) = self.writable_control(caller, &mut tx, id).await?;
        let manager = caller.require(Permission::ControlManage).is_ok();
        let services_before = store_ctl::services_of(&self.store, org, id).await?;
        if !manager
            && (input.reference.trim() != before.reference
                || input.title.trim() != before.title
                || input.owner != before.owner_id
                || input.frequency != before.frequency
                || {
                    let mut a = input.services.clone();
                    let mut b = services_before.clone();
                    a.sort();
                    b.sort();
                    a != b
                })
        {
            return Err(AppError::Forbidden(
                "as control owner you can change the status and description only".into(),
            ));
        }
        self.check_member(org, "owner", input.owner).await?;
        self.check_services(&mut tx, org, &input.services).await?;
        let after = Control {
            reference: input.reference.trim().to_owned(),
            title: input.title.trim().to_owned(),
            description: input.description.trim().to_owned(),
            owner_id: input.owner,
            frequency: input.frequency,
            status: input.status,
            updated_at: Timestamp::now(),
            ..before.clone()
        };
        store_ctl::update(&mut tx, &after)
            .await
            .map_err(|e| match e {
                attest_store::StoreError::Unique { .. } => AppError::Conflict {
                    field: "ref".into(),
                    message: format!("a control {} already exists", after.reference),
                },
                other => other.into(),
            })?;
        store_ctl::set_services(&mut tx, org, id, &input.services).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "control.update", "control", id)
                .before(&serde_json::json!({"control": before, "services": services_before}))
                .after(&serde_json::json!({"control": after, "services": input.services})),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The controls, filtered.
    pub async fn controls(&self, caller: &Caller, f: &ControlFilter) -> AppResult<Vec<ControlRow>> {
        let org = caller.require(Permission::ProgramRead)?;
        let controls = store_ctl::list(&self.store, org).await?;
        let links = store_ctl::all_links(&self.store, org).await?;
        let names = self.member_names(org).await?;
        let text = f
            .text
            .as_ref()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        let fw_base = match &f.framework {
            Some(id) => Some(base_id(&*self.find_framework(org, id).await?).to_owned()),
            None => None,
        };
        let linked: Option<HashSet<&str>> = fw_base.as_ref().map(|fw| {
            links
                .iter()
                .filter(|l| {
                    &l.framework_id == fw
                        && f.requirement
                            .as_ref()
                            .is_none_or(|r| &l.requirement_id == r)
                })
                .map(|l| l.control_id.as_str())
                .collect()
        });
        Ok(controls
            .into_iter()
            .filter(|c| f.owner.is_none_or(|o| c.owner_id == Some(o)))
            .filter(|c| f.status.is_none_or(|s| c.status == s))
            .filter(|c| {
                linked
                    .as_ref()
                    .is_none_or(|set| set.contains(c.id.as_str()))
            })
            .filter(|c| {
                text.as_ref().is_none_or(|t| {
                    format!("{} {} {}", c.reference, c.title, c.description)
                        .to_lowercase()
                        .contains(t.as_str())
                })
            })
            .map(|c| ControlRow {
                links: links.iter().filter(|l| l.control_id == c.id).count(),
                owner_name: c.owner_id.and_then(|o| names.get(&o).cloned()),
                control: c,
            })
            .collect())
    }

    /// A control with its links and proposals.
    pub async fn control(&self, caller: &Caller, id: &str) -> AppResult<ControlView> {
        let org = caller.require(Permission::ProgramRead)?;
        let c = store_ctl::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("control"))?;
        let service_ids = store_ctl::services_of(&self.store, org, id).await?;
        let services = store_ctl::services(&self.store, org)
            .await?
            .into_iter()
            .filter(|s| service_ids.contains(&s.id))
            .collect();
        let links = store_ctl::links_of(&self.store, org, id).await?;
        let all = self.all_frameworks(org).await?;
        let link_views = links
            .iter()
            .map(|l| {
                let fw = all.iter().find(|f| f.id == l.framework_id);
                LinkView {
                    framework: l.framework_id.clone(),
                    framework_name: fw
                        .map(|f| f.name.clone())
                        .unwrap_or_else(|| l.framework_id.clone()),
                    requirement: l.requirement_id.clone(),
                    title: fw
                        .and_then(|f| f.requirement(&l.requirement_id))
                        .map(|r| r.title.clone())
                        .unwrap_or_default(),
                    coverage: l.coverage,
                    origin: l.origin.clone(),
                    via: l.via.clone(),
                    created_by: l.created_by.clone(),
                    created_at: l.created_at,
                }
            })
            .collect();
        let proposals = self.proposals_for(org, id, &links).await?;
        let owner_name = match c.owner_id {
            Some(u) => Some(store_user::get(&self.store, u).await?.display_name),
            None => None,
        };
        Ok(ControlView {
            control: c,
            owner_name,
            services,
            links: link_views,
            proposals,
        })
    }

    /// The links the mappings imply for the other frameworks in use, less those already
    /// linked or rejected.
    pub(crate) async fn proposals_for(
        &self,
        org: OrgId,
        control: &str,
        links: &[Link],
    ) -> AppResult<Vec<Proposal>> {
        let in_use = self.frameworks_in_use(org).await?;
        let rejected: HashSet<(String, String)> = store_ctl::rejected(&self.store, org, control)
            .await?
            .into_iter()
            .collect();
        let linked: HashSet<(String, String)> = links
            .iter()
            .map(|l| (l.framework_id.clone(), l.requirement_id.clone()))
            .collect();
        let mappings = OrgMappings::load(self, org).await?;
        let mut out: BTreeMap<(String, String), Proposal> = BTreeMap::new();
        for l in links {
            for e in mappings.edges_from(&l.framework_id, &l.requirement_id) {
                // Target frameworks in use whose catalog is the edge's (a baseline uses its
                // catalog's ids).
                for fw in in_use.iter().filter(|f| base_id(f) == e.framework) {
                    let Some(req) = fw
                        .requirement(&e.requirement)
                        .filter(|r| r.assessable && !r.withdrawn)
                    else {
                        continue;
                    };
                    let key = (e.framework.clone(), e.requirement.clone());
                    if linked.contains(&key) || rejected.contains(&key) {
                        continue;
                    }
                    let Some(edge_cov) = e.rel.coverage() else {
                        continue;
                    };
                    let coverage = if l.coverage == Coverage::Full && edge_cov == Coverage::Full {
                        Coverage::Full
                    } else {
                        Coverage::Partial
                    };
                    let p = Proposal {
                        framework: e.framework.clone(),
                        framework_name: fw.name.clone(),
                        requirement: req.id.clone(),
                        title: req.title.clone(),
                        coverage,
                        from: format!("{} {}", l.framework_id, l.requirement_id),
                        rel: e.rel,
                        provenance: e.provenance.clone(),
                        note: e.note.clone(),
                    };
                    // Keep the proposal that covers most.
                    match out.get(&key) {
                        Some(old)
                            if old.coverage == Coverage::Full || coverage == Coverage::Partial => {}
                        _ => {
                            out.insert(key, p);
                        }
                    }
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// Links a control to a requirement by hand (full coverage).
    pub async fn link_control(
        &self,
        caller: &Caller,
        id: &str,
        framework: &str,
        requirement: &str,
    ) -> AppResult<()> {
        let org = caller.require(Permission::ControlUpdateOwn)?;
        let fw = self.find_framework(org, framework).await?;
        let req = fw.requirement(requirement).ok_or_else(|| {
            AppError::invalid(
                "requirement",
                format!("{} has no requirement {requirement}", fw.name),
            )
        })?;
        if !req.assessable || req.withdrawn {
            return Err(AppError::invalid(
                "requirement",
                format!("{requirement} is a heading or withdrawn: link its requirements instead"),
            ));
        }
        let base = base_id(&fw).to_owned();
        let mut tx = self.store.begin().await?;
        self.writable_control(caller, &mut tx, id).await?;
        let l = Link {
            control_id: id.to_owned(),
            framework_id: base,
            requirement_id: requirement.to_owned(),
            coverage: Coverage::Full,
            origin: "manual".into(),
            via: String::new(),
            created_by: caller.actor_text(),
            created_at: Timestamp::now(),
        };
        store_ctl::link(&mut tx, org, &l).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "control.link", "control", id).after(&l),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a link.
    pub async fn unlink_control(
        &self,
        caller: &Caller,
        id: &str,
        framework: &str,
        requirement: &str,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let (org, _) = self.writable_control(caller, &mut tx, id).await?;
        let base = base_id(&*self.find_framework(org, framework).await?).to_owned();
        if !store_ctl::unlink(&mut tx, org, id, &base, requirement).await? {
            return Err(AppError::NotFound("link"));
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "control.unlink", "control", id)
                .before(&serde_json::json!({"framework": base, "requirement": requirement})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts (links, with the proposed coverage) or rejects a proposal.
    pub async fn decide_proposal(
        &self,
        caller: &Caller,
        id: &str,
        framework: &str,
        requirement: &str,
        accept: bool,
    ) -> AppResult<()> {
        let org = caller.require(Permission::ControlUpdateOwn)?;
        let links = store_ctl::links_of(&self.store, org, id).await?;
        let proposal = self
            .proposals_for(org, id, &links)
            .await?
            .into_iter()
            .find(|p| p.framework == framework && p.requirement == requirement)
            .ok_or(AppError::NotFound("proposal"))?;
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        self.writable_control(caller, &mut tx, id).await?;
        let decision = if accept { "accepted" } else { "rejected" };
        let by = caller.actor_text();
        store_ctl::decide(
            &mut tx,
            org,
            store_ctl::Decision {
                control: id,
                framework,
                requirement,
                decision,
                by: &by,
                at: now,
            },
        )
        .await?;
        if accept {
            let l = Link {
                control_id: id.to_owned(),
                framework_id: framework.to_owned(),
                requirement_id: requirement.to_owned(),
                coverage: proposal.coverage,
                origin: "proposal".into(),
                via: format!(
                    "{} {} {} ({})",
                    proposal.from, proposal.rel, requirement, proposal.provenance
                ),
                created_by: caller.actor_text(),
                created_at: now,
            };
            store_ctl::link(&mut tx, org, &l).await?;
        }
        let action = if accept {
            "control.proposal_accept"
        } else {
            "control.proposal_reject"
        };
        record(
            &mut tx,
            caller,
            Event::org(org, action, "control", id).after(&proposal),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Product families and services.
    pub async fn services(&self, caller: &Caller) -> AppResult<(Vec<Family>, Vec<Service>)> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok((
            store_ctl::families(&self.store, org).await?,
            store_ctl::services(&self.store, org).await?,
        ))
    }

    /// Adds a product family.
    pub async fn create_family(
        &self,
        caller: &Caller,
        name: &str,
        description: &str,
    ) -> AppResult<Family> {
        let org = caller.require(Permission::ServiceManage)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(AppError::invalid(
                "name",
                "give a name of 1 to 120 characters",
            ));
        }
        let f = Family {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_owned(),
            description: description.trim().to_owned(),
        };
        let mut tx = self.store.begin().await?;
        store_ctl::insert_family(&mut tx, org, &f, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "family.create", "product_family", &f.id).after(&f),
        )
        .await?;
        tx.commit().await?;
        Ok(f)
    }

    /// Adds a service, in a product family or none.
    pub async fn create_service(
        &self,
        caller: &Caller,
        name: &str,
        description: &str,
        family: Option<&str>,
    ) -> AppResult<Service> {
        let org = caller.require(Permission::ServiceManage)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(AppError::invalid(
                "name",
                "give a name of 1 to 120 characters",
            ));
        }
        let mut tx = self.store.begin().await?;
        if let Some(fid) = family
            && !store_ctl::family_exists(&mut tx, org, fid).await?
        {
            return Err(AppError::invalid(
                "family",
                "that product family does not exist",
            ));
        }
        let s = Service {
            id: uuid::Uuid::now_v7().to_string(),
            family_id: family.map(str::to_owned),
            name: name.to_owned(),
            description: description.trim().to_owned(),
        };
        store_ctl::insert_service(&mut tx, org, &s, Timestamp::now()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "service.create", "service", &s.id).after(&s),
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }
}

impl App {
    /// The people a control can be assigned to: active members who are persons.
    pub async fn assignable_people(&self, caller: &Caller) -> AppResult<Vec<(UserId, String)>> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(store_user::members(&self.store, org)
            .await?
            .into_iter()
            .filter(|m| m.user.kind == "person" && m.membership.deactivated_at.is_none())
            .map(|m| (m.user.id, m.user.display_name))
            .collect())
    }

    /// Whether coverage takes evidence freshness into account (always: an implemented
    /// control counts in full only while its evidence covers today).
    pub fn judges_freshness(&self) -> bool {
        true
    }
}

impl App {
    /// A control's id by its reference (the command line names controls by reference).
    pub async fn control_id_by_ref(&self, caller: &Caller, reference: &str) -> AppResult<String> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(store_ctl::by_ref(&self.store, org, reference)
            .await?
            .ok_or_else(|| {
                AppError::invalid("control", format!("there is no control {reference}"))
            })?
            .id)
    }
}
