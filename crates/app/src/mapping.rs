//! Mappings as an organisation sees them: the shipped sets, links derived through a pivot,
//! links people added, and people's reviews of each; the crosswalk between two frameworks,
//! and a framework upgrade shown as a migration.

use std::collections::HashMap;

use attest_domain::OrgId;
use attest_domain::Timestamp;
use attest_domain::framework::Framework;
use attest_domain::mapping::Relationship;
use attest_store::control as store_ctl;
use attest_store::framework::{self as store_fw, Review};
use serde::Serialize;

use crate::audit_trail::{Event, record};
use crate::framework::base_id;
use crate::{App, AppError, AppResult, Caller, Permission};

/// A link from one requirement to another, with where it comes from.
#[derive(Debug, Clone)]
pub(crate) struct OrgEdge {
    pub framework: String,
    pub requirement: String,
    pub rel: Relationship,
    pub provenance: String,
    pub note: Option<String>,
}

type Key = (String, String, String, String);

/// The mappings usable for proposals in one organisation.
pub(crate) struct OrgMappings<'a> {
    app: &'a App,
    reviews: HashMap<Key, Review>,
}

fn key(a: &str, ra: &str, b: &str, rb: &str) -> Key {
    (a.to_owned(), ra.to_owned(), b.to_owned(), rb.to_owned())
}

impl<'a> OrgMappings<'a> {
    pub(crate) async fn load(app: &'a App, org: OrgId) -> AppResult<Self> {
        let reviews = store_fw::reviews(&app.store, org)
            .await?
            .into_iter()
            .map(|r| {
                (
                    key(
                        &r.source_framework,
                        &r.source_id,
                        &r.target_framework,
                        &r.target_id,
                    ),
                    r,
                )
            })
            .collect();
        Ok(Self { app, reviews })
    }

    /// A review of the link between two requirements, in either orientation.
    fn review(&self, a: &str, ra: &str, b: &str, rb: &str) -> Option<&Review> {
        self.reviews
            .get(&key(a, ra, b, rb))
            .or_else(|| self.reviews.get(&key(b, rb, a, ra)))
    }

    /// Every usable link from a requirement: shipped links not rejected, and derived or
    /// added links a person confirmed.
    pub(crate) fn edges_from(&self, fw: &str, req: &str) -> Vec<OrgEdge> {
        let mut out = Vec::new();
        let idx = self.app.catalogs.mappings();
        for e in idx.edges(fw, req) {
            let review = self.review(fw, req, &e.framework, &e.requirement);
            if review.is_some_and(|r| r.status == "rejected") {
                continue;
            }
            let set = idx.set(&e.set);
            let mut provenance = set
                .map(|s| format!("{}: {}", s.authority, s.name))
                .unwrap_or_else(|| e.set.clone());
            if let Some(r) = review {
                provenance.push_str(&format!("; confirmed by {}", r.reviewed_by));
            }
            out.push(OrgEdge {
                framework: e.framework.clone(),
                requirement: e.requirement.clone(),
                rel: e.rel,
                provenance,
                note: e.note.clone(),
            });
        }
        for r in self
            .reviews
            .values()
            .filter(|r| r.status == "confirmed" && r.origin != "shipped")
        {
            let Ok(rel) = r.relationship.parse::<Relationship>() else {
                continue;
            };
            let what = if r.origin == "derived" {
                format!("derived via {}, confirmed by {}", r.path, r.reviewed_by)
            } else {
                format!("added by {}", r.reviewed_by)
            };
            let note = Some(r.note.clone()).filter(|n| !n.is_empty());
            if r.source_framework == fw && r.source_id == req {
                out.push(OrgEdge {
                    framework: r.target_framework.clone(),
                    requirement: r.target_id.clone(),
                    rel,
                    provenance: what,
                    note,
                });
            } else if r.target_framework == fw && r.target_id == req {
                out.push(OrgEdge {
                    framework: r.source_framework.clone(),
                    requirement: r.source_id.clone(),
                    rel: rel.inverse(),
                    provenance: what,
                    note,
                });
            }
        }
        out
    }
}

/// One link of a crosswalk between two frameworks.
#[derive(Debug, Clone, Serialize)]
pub struct CrossLink {
    /// Requirement of the first framework.
    pub source: String,
    /// Its title.
    pub source_title: String,
    /// Requirement of the second framework.
    pub target: String,
    /// Its title.
    pub target_title: String,
    /// How the first relates to the second (`None`: a derived candidate whose relationship a
    /// reviewer must decide).
    pub rel: Option<Relationship>,
    /// `shipped`, `derived` or `user`.
    pub origin: String,
    /// The set and its authority, or the derivation path.
    pub provenance: String,
    /// The mapping's note.
    pub note: Option<String>,
    /// `confirmed`, `rejected`, or `needs-review` (derived links), or `published` (shipped
    /// links nobody reviewed).
    pub review: String,
    /// Who reviewed it, and when.
    pub reviewed_by: Option<String>,
    /// When (RFC 3339).
    pub reviewed_at: Option<String>,
}

/// A crosswalk between two frameworks.
#[derive(Debug, Clone, Serialize)]
pub struct Crosswalk {
    /// The first framework.
    pub from: String,
    /// The second.
    pub to: String,
    /// Whether a mapping set links them directly (else links are derived).
    pub direct: bool,
    /// The links.
    pub links: Vec<CrossLink>,
}

/// A review decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Stand behind the link.
    Confirm,
    /// Refuse it (it is then never used for proposals).
    Reject,
}

/// A framework upgrade: what carries over and what is new.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    /// The framework upgraded from.
    pub from: String,
    /// The framework upgraded to.
    pub to: String,
    /// Links of controls that carry over: (control ref, control id, old requirement, new requirement, relationship).
    pub carried: Vec<CarriedLink>,
    /// Requirements new in the target that no mapping reaches, each with its title.
    pub new_requirements: Vec<(String, String)>,
    /// Target requirements reached by a mapping but by none of the organisation's controls.
    pub uncovered: Vec<(String, String)>,
}

/// A control link that carries over to the new framework.
#[derive(Debug, Clone, Serialize)]
pub struct CarriedLink {
    /// The control's reference.
    pub control_ref: String,
    /// The control's id.
    pub control_id: String,
    /// Requirement in the old framework.
    pub from: String,
    /// Requirement in the new framework.
    pub to: String,
    /// How the old relates to the new.
    pub rel: Relationship,
    /// Whether the control is already linked to the new requirement.
    pub already_linked: bool,
}

fn title(f: &Framework, id: &str) -> String {
    f.requirement(id)
        .map(|r| r.title.clone())
        .unwrap_or_default()
}

impl App {
    /// The crosswalk between two frameworks: the direct links of their mapping sets, or, when
    /// there is no set, the links derived through a pivot framework, each with its review.
    pub async fn crosswalk(&self, caller: &Caller, from: &str, to: &str) -> AppResult<Crosswalk> {
        let org = caller.require(Permission::ProgramRead)?;
        let fa = self.find_framework(org, from).await?;
        let fb = self.find_framework(org, to).await?;
        let (a, b) = (base_id(&fa).to_owned(), base_id(&fb).to_owned());
        if a == b {
            return Err(AppError::invalid("to", "choose two different frameworks"));
        }
        let m = OrgMappings::load(self, org).await?;
        let idx = self.catalogs.mappings();
        let direct = !idx.direct_sets(&a, &b).is_empty();
        let review_fields = |r: Option<&Review>, default: &str| match r {
            Some(r) => (
                r.status.clone(),
                Some(r.reviewed_by.clone()),
                Some(Timestamp::from_micros(r.reviewed_at).to_rfc3339()),
            ),
            None => (default.to_owned(), None, None),
        };
        let mut links = Vec::new();
        let in_b = |id: &str| fb.requirement(id).is_some();
        let in_a = |id: &str| fa.requirement(id).is_some();
        if direct {
            for (src, e) in idx.direct(&a, &b) {
                if !in_a(&src) || !in_b(&e.requirement) {
                    continue;
                }
                let set = idx.set(&e.set);
                let (review, by, at) =
                    review_fields(m.review(&a, &src, &b, &e.requirement), "published");
                links.push(CrossLink {
                    source_title: title(&fa, &src),
                    target_title: title(&fb, &e.requirement),
                    source: src,
                    target: e.requirement.clone(),
                    rel: Some(e.rel),
                    origin: "shipped".into(),
                    provenance: set
                        .map(|s| format!("{}: {} ({})", s.authority, s.name, s.date))
                        .unwrap_or_default(),
                    note: e.note.clone(),
                    review,
                    reviewed_by: by,
                    reviewed_at: at,
                });
            }
        } else {
            for d in idx.derive(&a, &b) {
                if !in_a(&d.source) || !in_b(&d.target) {
                    continue;
                }
                let r = m.review(&a, &d.source, &b, &d.target);
                let (review, by, at) = review_fields(r, "needs-review");
                let rel = r.and_then(|r| r.relationship.parse().ok()).or(d.rel);
                links.push(CrossLink {
                    source_title: title(&fa, &d.source),
                    target_title: title(&fb, &d.target),
                    provenance: format!("derived: {}", d.path()),
                    source: d.source,
                    target: d.target,
                    rel,
                    origin: "derived".into(),
                    note: None,
                    review,
                    reviewed_by: by,
                    reviewed_at: at,
                });
            }
        }
        for r in m.reviews.values().filter(|r| r.origin == "user") {
            let (src, tgt, rel) = if r.source_framework == a && r.target_framework == b {
                (
                    r.source_id.clone(),
                    r.target_id.clone(),
                    r.relationship.parse().ok(),
                )
            } else if r.source_framework == b && r.target_framework == a {
                (
                    r.target_id.clone(),
                    r.source_id.clone(),
                    r.relationship
                        .parse::<Relationship>()
                        .ok()
                        .map(Relationship::inverse),
                )
            } else {
                continue;
            };
            links.push(CrossLink {
                source_title: title(&fa, &src),
                target_title: title(&fb, &tgt),
                source: src,
                target: tgt,
                rel,
                origin: "user".into(),
                provenance: format!("added by {}", r.reviewed_by),
                note: Some(r.note.clone()).filter(|n| !n.is_empty()),
                review: r.status.clone(),
                reviewed_by: Some(r.reviewed_by.clone()),
                reviewed_at: Some(Timestamp::from_micros(r.reviewed_at).to_rfc3339()),
            });
        }
        links.sort_by(|x, y| (&x.source, &x.target).cmp(&(&y.source, &y.target)));
        Ok(Crosswalk {
            from: fa.id.clone(),
            to: fb.id.clone(),
            direct,
            links,
        })
    }

    /// Confirms or rejects a shipped or derived link (with the relationship a person stands
    /// behind, required for a derived candidate whose relationship nothing guarantees).
    #[allow(clippy::too_many_arguments)]
    pub async fn review_mapping(
        &self,
        caller: &Caller,
        from: &str,
        source: &str,
        to: &str,
        target: &str,
        decision: Decision,
        rel: Option<Relationship>,
        note: &str,
    ) -> AppResult<()> {
        let org = caller.require(Permission::FrameworkManage)?;
        let walk = self.crosswalk(caller, from, to).await?;
        let link = walk
            .links
            .iter()
            .find(|l| l.source == source && l.target == target && l.origin != "user")
            .ok_or(AppError::NotFound("mapping link"))?;
        let fa = self.find_framework(org, from).await?;
        let fb = self.find_framework(org, to).await?;
        let rel = match (decision, rel.or(link.rel)) {
            (_, Some(r)) => r,
            (Decision::Reject, None) => Relationship::NotRelated,
            (Decision::Confirm, None) => {
                return Err(AppError::invalid(
                    "relationship",
                    "this derived link has no guaranteed relationship: choose the one you confirm",
                ));
            }
        };
        let (a, b) = (base_id(&fa).to_owned(), base_id(&fb).to_owned());
        // Shipped links are stored the way their set maps them.
        let idx = self.catalogs.mappings();
        let set_forward = idx
            .direct_sets(&a, &b)
            .first()
            .is_none_or(|s| s.source_framework == a);
        let (sf, sid, tf, tid, rel) = if link.origin == "shipped" && !set_forward {
            (
                b.clone(),
                target.to_owned(),
                a.clone(),
                source.to_owned(),
                rel.inverse(),
            )
        } else {
            (
                a.clone(),
                source.to_owned(),
                b.clone(),
                target.to_owned(),
                rel,
            )
        };
        let r = Review {
            source_framework: sf,
            source_id: sid,
            target_framework: tf,
            target_id: tid,
            relationship: rel.as_str().into(),
            status: if decision == Decision::Confirm {
                "confirmed"
            } else {
                "rejected"
            }
            .into(),
            origin: link.origin.clone(),
            path: if link.origin == "derived" {
                link.provenance.trim_start_matches("derived: ").to_owned()
            } else {
                String::new()
            },
            note: note.trim().to_owned(),
            reviewed_by: caller.actor_text(),
            reviewed_at: Timestamp::now().as_micros(),
        };
        let mut tx = self.store.begin().await?;
        store_fw::put_review(&mut tx, org, &r).await?;
        let action = if decision == Decision::Confirm {
            "mapping.confirm"
        } else {
            "mapping.reject"
        };
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                action,
                "mapping",
                format!("{a}:{source}->{b}:{target}"),
            )
            .after(&r),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a link of the organisation's own between two requirements.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_mapping(
        &self,
        caller: &Caller,
        from: &str,
        source: &str,
        to: &str,
        target: &str,
        rel: Relationship,
        note: &str,
    ) -> AppResult<()> {
        let org = caller.require(Permission::FrameworkManage)?;
        let fa = self.find_framework(org, from).await?;
        let fb = self.find_framework(org, to).await?;
        if fa.requirement(source).is_none() {
            return Err(AppError::invalid(
                "source",
                format!("{} has no requirement {source}", fa.name),
            ));
        }
        if fb.requirement(target).is_none() {
            return Err(AppError::invalid(
                "target",
                format!("{} has no requirement {target}", fb.name),
            ));
        }
        let (a, b) = (base_id(&fa).to_owned(), base_id(&fb).to_owned());
        if a == b {
            return Err(AppError::invalid("to", "choose two different frameworks"));
        }
        let r = Review {
            source_framework: a.clone(),
            source_id: source.to_owned(),
            target_framework: b.clone(),
            target_id: target.to_owned(),
            relationship: rel.as_str().into(),
            status: "confirmed".into(),
            origin: "user".into(),
            path: String::new(),
            note: note.trim().to_owned(),
            reviewed_by: caller.actor_text(),
            reviewed_at: Timestamp::now().as_micros(),
        };
        let mut tx = self.store.begin().await?;
        store_fw::put_review(&mut tx, org, &r).await?;
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                "mapping.add",
                "mapping",
                format!("{a}:{source}->{b}:{target}"),
            )
            .after(&r),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A framework upgrade (ISO/IEC 27001:2013 → 2022, say) as a migration: which control
    /// links carry over, which requirements are new, which are left without a control.
    pub async fn migration(&self, caller: &Caller, from: &str, to: &str) -> AppResult<Migration> {
        let org = caller.require(Permission::ProgramRead)?;
        let fa = self.find_framework(org, from).await?;
        let fb = self.find_framework(org, to).await?;
        let (a, b) = (base_id(&fa).to_owned(), base_id(&fb).to_owned());
        let m = OrgMappings::load(self, org).await?;
        let controls: HashMap<String, String> = store_ctl::list(&self.store, org)
            .await?
            .into_iter()
            .map(|c| (c.id, c.reference))
            .collect();
        let links = store_ctl::all_links(&self.store, org).await?;
        let linked_to_b: std::collections::HashSet<(String, String)> = links
            .iter()
            .filter(|l| l.framework_id == b)
            .map(|l| (l.control_id.clone(), l.requirement_id.clone()))
            .collect();
        let mut carried = Vec::new();
        let mut reached = std::collections::HashSet::new();
        for l in links.iter().filter(|l| l.framework_id == a) {
            for e in m
                .edges_from(&a, &l.requirement_id)
                .into_iter()
                .filter(|e| e.framework == b)
            {
                reached.insert(e.requirement.clone());
                carried.push(CarriedLink {
                    control_ref: controls.get(&l.control_id).cloned().unwrap_or_default(),
                    control_id: l.control_id.clone(),
                    from: l.requirement_id.clone(),
                    already_linked: linked_to_b
                        .contains(&(l.control_id.clone(), e.requirement.clone())),
                    to: e.requirement,
                    rel: e.rel,
                });
            }
        }
        carried.sort_by(|x, y| (&x.control_ref, &x.to).cmp(&(&y.control_ref, &y.to)));
        let new_ids: Vec<String> = self
            .catalogs
            .mappings()
            .direct_sets(&a, &b)
            .iter()
            .filter(|s| s.source_framework == a)
            .flat_map(|s| s.new_in_target.clone())
            .collect();
        let covered_in_b: std::collections::HashSet<&str> =
            linked_to_b.iter().map(|(_, r)| r.as_str()).collect();
        let new_requirements = new_ids
            .iter()
            .map(|id| (id.clone(), title(&fb, id)))
            .collect();
        let uncovered = fb
            .assessable()
            .filter(|r| {
                !new_ids.contains(&r.id)
                    && !reached.contains(&r.id)
                    && !covered_in_b.contains(r.id.as_str())
            })
            .map(|r| (r.id.clone(), r.title.clone()))
            .collect();
        Ok(Migration {
            from: fa.id.clone(),
            to: fb.id.clone(),
            carried,
            new_requirements,
            uncovered,
        })
    }

    /// Applies a migration: starts using the new framework and accepts every carried-over
    /// link as a proposal. Returns how many links were added.
    pub async fn apply_migration(&self, caller: &Caller, from: &str, to: &str) -> AppResult<usize> {
        caller.require(Permission::FrameworkManage)?;
        self.set_framework_in_use(caller, to, true).await?;
        let m = self.migration(caller, from, to).await?;
        let mut n = 0;
        let mut done = std::collections::HashSet::new();
        for c in m.carried.iter().filter(|c| !c.already_linked) {
            if done.insert((c.control_id.clone(), c.to.clone())) {
                match self
                    .decide_proposal(caller, &c.control_id, &m.to, &c.to, true)
                    .await
                {
                    Ok(()) => n += 1,
                    // Already decided by a person (rejected): leave their decision.
                    Err(AppError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(n)
    }
}

/// A mapping of one requirement, as shown on its page.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementMapping {
    /// The other framework.
    pub framework: String,
    /// The other requirement.
    pub requirement: String,
    /// How this requirement relates to it.
    pub rel: Relationship,
    /// Where the link comes from.
    pub provenance: String,
    /// The note.
    pub note: Option<String>,
}

impl App {
    /// The usable mapping links of a requirement.
    pub async fn requirement_mappings(
        &self,
        caller: &Caller,
        framework: &str,
        requirement: &str,
    ) -> AppResult<Vec<RequirementMapping>> {
        let org = caller.require(Permission::ProgramRead)?;
        let f = self.find_framework(org, framework).await?;
        let m = OrgMappings::load(self, org).await?;
        let mut out: Vec<RequirementMapping> = m
            .edges_from(base_id(&f), requirement)
            .into_iter()
            .map(|e| RequirementMapping {
                framework: e.framework,
                requirement: e.requirement,
                rel: e.rel,
                provenance: e.provenance,
                note: e.note,
            })
            .collect();
        out.sort_by(|a, b| (&a.framework, &a.requirement).cmp(&(&b.framework, &b.requirement)));
        Ok(out)
    }
}
