//! Coverage of each framework in use, derived from the controls linked to its requirements.

use std::collections::{BTreeMap, HashMap};

use attest_domain::coverage::{Assessment, LinkedControl, RequirementStatus, assess};
use attest_domain::framework::Framework;
use attest_store::control::{self as store_ctl, Control, Link};
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
    pub links: HashMap<(&'a str, &'a str), Vec<&'a Link>>,
    /// Whether each control's evidence is fresh (absent: not judged).
    pub fresh: HashMap<&'a str, bool>,
}

impl<'a> CoverageInputs<'a> {
    /// Indexes controls and links.
    pub fn new(controls: &'a [Control], links: &'a [Link], fresh: HashMap<&'a str, bool>) -> Self {
        let mut by_req: HashMap<(&str, &str), Vec<&Link>> = HashMap::new();
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
    async fn coverage_for(
        &self,
        caller: &Caller,
        frameworks: Vec<std::sync::Arc<Framework>>,
    ) -> AppResult<Vec<FrameworkCoverage>> {
        let org = caller.require(Permission::ProgramRead)?;
        let controls = store_ctl::list(&self.store, org).await?;
        let links = store_ctl::all_links(&self.store, org).await?;
        let fresh = self.freshness(org, &controls).await?;
        let fresh_ref: HashMap<&str, bool> = fresh.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let inputs = CoverageInputs::new(&controls, &links, fresh_ref);
        let in_use = attest_store::framework::in_use(&self.store, org).await?;
        Ok(frameworks
            .iter()
            .map(|f| compute(f, summary(f, in_use.contains(&f.id)), &inputs))
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

    /// Whether each control's current evidence covers today.
    pub(crate) async fn freshness(
        &self,
        org: attest_domain::OrgId,
        controls: &[Control],
    ) -> AppResult<HashMap<String, bool>> {
        let today = attest_domain::Timestamp::now().date();
        Ok(self
            .control_freshness(org, controls, today)
            .await?
            .into_iter()
            .map(|(c, f)| (c, f.is_fresh()))
            .collect())
    }
}

fn summary(f: &Framework, in_use: bool) -> FrameworkSummary {
    FrameworkSummary::of(f, in_use)
}
