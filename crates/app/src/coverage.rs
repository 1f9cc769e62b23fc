//! Coverage of each framework in use, derived from the controls linked to its requirements.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use attest_domain::OrgId;

use attest_domain::coverage::{Assessment, LinkedControl, RequirementStatus, assess};
use attest_domain::framework::Framework;
use attest_store::control::{self as store_ctl, Control, CoverageLink};
use serde::Serialize;

use crate::framework::{FrameworkSummary, base_id};
use crate::{App, AppResult, Caller, Permission};

/// One requirement's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementCoverage {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// Parent id.
    pub parent: Option<String>,
    /// Derived status.
    pub status: RequirementStatus,
    /// Why.
    pub reasons: Vec<String>,
    /// Linked controls: (id, reference).
    pub controls: Vec<(String, String)>,
}

/// A framework's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkCoverage {
    /// The framework.
    pub framework: FrameworkSummary,
    /// How many requirements have each status.
    pub counts: BTreeMap<RequirementStatus, usize>,
    /// Every assessable requirement, in the framework's order.
    pub requirements: Vec<RequirementCoverage>,
}

impl FrameworkCoverage {
    /// Share of requirements implemented (not-applicable ones left out), in percent.
    pub fn percent_implemented(&self) -> u32 {
        let applicable: usize = self
            .counts
            .iter()
            .filter(|(s, _)| **s != RequirementStatus::NotApplicable)
            .map(|(_, n)| n)
            .sum();
        let done = self
            .counts
            .get(&RequirementStatus::Implemented)
            .copied()
            .unwrap_or(0);
        (done * 100).checked_div(applicable).unwrap_or(0) as u32
    }
}

/// The inputs coverage is computed from, read once per request.
pub struct CoverageInputs<'a> {
    /// Controls by id.
    pub controls: HashMap<&'a str, &'a Control>,
    /// Links by (framework, requirement).
    pub links: HashMap<(&'a str, &'a str), Vec<&'a CoverageLink>>,
    /// Whether each control's evidence is fresh (absent: not judged).
    pub fresh: HashMap<&'a str, bool>,
}

impl<'a> CoverageInputs<'a> {
    /// Indexes controls and links.
    pub fn new(
        controls: &'a [Control],
        links: &'a [CoverageLink],
        fresh: HashMap<&'a str, bool>,
    ) -> Self {
        let mut by_req: HashMap<(&str, &str), Vec<&CoverageLink>> = HashMap::new();
        for l in links {
            by_req
                .entry((l.framework_id.as_str(), l.requirement_id.as_str()))
                .or_default()
                .push(l);
        }
        Self {
            controls: controls.iter().map(|c| (c.id.as_str(), c)).collect(),
            links: by_req,
            fresh,
        }
    }
}

/// Computes a framework's coverage: pure, from indexed inputs.
pub fn compute(
    framework: &Framework,
    summary: FrameworkSummary,
    inputs: &CoverageInputs<'_>,
) -> FrameworkCoverage {
    let base = base_id(framework);
    let mut counts: BTreeMap<RequirementStatus, usize> =
        RequirementStatus::ALL.iter().map(|s| (*s, 0)).collect();
    let mut requirements = Vec::new();
    for r in framework.assessable() {
        let links = inputs
            .links
            .get(&(base, r.id.as_str()))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let linked: Vec<LinkedControl<'_>> = links
            .iter()
            .filter_map(|l| {
                let c = inputs.controls.get(l.control_id.as_str())?;
                Some(LinkedControl {
                    control_ref: &c.reference,
                    status: c.status,
                    fresh: inputs.fresh.get(c.id.as_str()).copied(),
                    coverage: l.coverage,
                })
            })
            .collect();
        let Assessment { status, reasons } = assess(&linked);
        *counts.entry(status).or_default() += 1;
        requirements.push(RequirementCoverage {
            id: r.id.clone(),
            title: r.title.clone(),
            kind: r.kind.clone(),
            parent: r.parent.clone(),
            status,
            reasons,
            controls: links
                .iter()
                .filter_map(|l| {
                    inputs
                        .controls
                        .get(l.control_id.as_str())
                        .map(|c| (c.id.clone(), c.reference.clone()))
                })
                .collect(),
        });
    }
    FrameworkCoverage {
        framework: summary,
        counts,
        requirements,
    }
}

impl App {
    /// What coverage is computed from, read once per change of the organisation's data: the
    /// audit chain's head moves with every change (in the change's transaction), so a
    /// snapshot taken at a head is current for as long as the head stays, on every node.
    pub(crate) async fn program_snapshot(&self, org: OrgId) -> AppResult<Arc<ProgramSnapshot>> {
        let head = attest_store::audit::head_seq(&self.store, &org.to_string()).await?;
        if let Some(s) = self.snapshots.get(org, head) {
            return Ok(s);
        }
        // Read after the head: the data is at least as new as `head`.
        let snapshot = Arc::new(ProgramSnapshot {
            controls: store_ctl::list(&self.store, org).await?,
            links: store_ctl::all_links(&self.store, org).await?,
            spans: attest_store::evidence::spans(&self.store, org).await?,
            in_use: attest_store::framework::in_use(&self.store, org).await?,
        });
        self.snapshots.put(org, head, snapshot.clone());
        Ok(snapshot)
    }

    async fn coverage_for(
        &self,
        caller: &Caller,
        frameworks: Vec<std::sync::Arc<Framework>>,
    ) -> AppResult<Vec<FrameworkCoverage>> {
        let org = caller.require(Permission::ProgramRead)?;
        let snap = self.program_snapshot(org).await?;
        let today = attest_domain::Timestamp::now().date();
        let fresh = crate::evidence::freshness_of(&snap.controls, &snap.spans, today);
        let fresh_ref: HashMap<&str, bool> = fresh
            .iter()
            .map(|(k, v)| (k.as_str(), v.is_fresh()))
            .collect();
        let inputs = CoverageInputs::new(&snap.controls, &snap.links, fresh_ref);
        Ok(frameworks
            .iter()
            .map(|f| compute(f, summary(f, snap.in_use.contains(&f.id)), &inputs))
            .collect())
    }

    /// Coverage of one framework.
    pub async fn coverage(&self, caller: &Caller, framework: &str) -> AppResult<FrameworkCoverage> {
        let org = caller.require(Permission::ProgramRead)?;
        let f = self.find_framework(org, framework).await?;
        Ok(self.coverage_for(caller, vec![f]).await?.remove(0))
    }

    /// Coverage of every framework in use.
    pub async fn coverage_overview(&self, caller: &Caller) -> AppResult<Vec<FrameworkCoverage>> {
        let org = caller.require(Permission::ProgramRead)?;
        let fws = self.frameworks_in_use(org).await?;
        self.coverage_for(caller, fws).await
    }
}

fn summary(f: &Framework, in_use: bool) -> FrameworkSummary {
    FrameworkSummary::of(f, in_use)
}

/// The rows coverage is computed from, as of one head of the organisation's audit chain.
#[derive(Debug)]
pub struct ProgramSnapshot {
    /// Controls.
    pub controls: Vec<Control>,
    /// Their links.
    pub links: Vec<CoverageLink>,
    /// Evidence spans: (control, effective from, effective until).
    pub spans: Vec<(String, time::Date, Option<time::Date>)>,
    /// Frameworks in use.
    pub in_use: Vec<String>,
}

/// Snapshots per organisation, each valid while its chain head stays where it was read.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotCache {
    inner: Arc<std::sync::Mutex<HashMap<OrgId, Held>>>,
}

/// A snapshot and the chain head it was read at.
type Held = (i64, Arc<ProgramSnapshot>);

/// Organisations whose snapshot a node keeps at most (any one is dropped beyond it).
const SNAPSHOTS_KEPT: usize = 256;

impl SnapshotCache {
    fn get(&self, org: OrgId, head: i64) -> Option<Arc<ProgramSnapshot>> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&org)
            .filter(|(h, _)| *h == head)
            .map(|(_, s)| s.clone())
    }

    fn put(&self, org: OrgId, head: i64, s: Arc<ProgramSnapshot>) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SNAPSHOTS_KEPT
            && !map.contains_key(&org)
            && let Some(k) = map.keys().next().copied()
        {
            map.remove(&k);
        }
        map.insert(org, (head, s));
    }
}
