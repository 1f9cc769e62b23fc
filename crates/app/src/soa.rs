//! The Statement of Applicability (ISO/IEC 27001 6.1.3 d): decisions on every Annex A
//! control of the chosen version, everything else derived from the data (implementation
//! status from coverage, controls, the risks they treat, their latest evidence), approval
//! that freezes a version under a hash, versions compared, and the exports.

use std::collections::{BTreeMap, HashMap};

use attest_domain::soa::{
    self as domain, ApprovedSoa, ControlRef, Decision, EvidenceRef, Gap, Reason, RiskRef,
    RowChange, SoaContent, SoaRow,
};
use attest_domain::{OrgId, Timestamp};
use attest_report::soa::SoaDocument;
use attest_store::soa::{self as store_soa, StoredDecision, Version};
use attest_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};

use crate::audit_trail::{Event, record};
use crate::coverage::{CoverageInputs, compute};
use crate::framework::FrameworkSummary;
use crate::{App, AppError, AppResult, Caller, Permission};

/// What the history says about a version.
#[derive(Debug, Clone, Serialize)]
pub struct SoaVersionInfo {
    /// Its number.
    pub version: i64,
    /// The Annex A version.
    pub framework_id: String,
    /// Approved (frozen) or draft.
    pub approved: bool,
    /// Who opened it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// Who approved it.
    pub approver: Option<String>,
    /// When.
    pub approved_at: Option<Timestamp>,
    /// The approval note.
    pub note: String,
    /// The hash of the frozen content.
    pub hash: Option<String>,
}

impl From<&Version> for SoaVersionInfo {
    fn from(v: &Version) -> Self {
        Self {
            version: v.version,
            framework_id: v.framework_id.clone(),
            approved: v.approved,
            created_by: v.created_by.clone(),
            created_at: v.created_at,
            approver: v.approver_name.clone(),
            approved_at: v.approved_at,
            note: v.note.clone(),
            hash: v.content_hash.clone(),
        }
    }
}

/// A version of the statement as shown: the content, what blocks approval, the history.
#[derive(Debug, Clone, Serialize)]
pub struct SoaView {
    /// The version shown (none before the first decision).
    pub version: Option<SoaVersionInfo>,
    /// Its content: frozen when approved, computed from the data when a draft.
    pub content: SoaContent,
    /// What blocks approval.
    pub gaps: Vec<Gap>,
    /// Inconsistencies worth a look.
    pub warnings: Vec<Gap>,
    /// Applicable, excluded, undecided.
    pub applicable: usize,
    /// Excluded.
    pub excluded: usize,
    /// Not decided.
    pub undecided: usize,
    /// Whether decisions can be made on it (it is the draft, or nothing exists yet).
    pub editable: bool,
    /// For the latest approved version: the data behind it have changed since (a new
    /// draft would differ).
    pub stale: bool,
    /// Every version, newest first.
    pub history: Vec<SoaVersionInfo>,
}

/// A decision as a caller gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionInput {
    /// The Annex A control (`A.5.1`).
    pub control: String,
    /// Applicable (true), excluded (false), or none to clear the decision.
    pub applicable: Option<bool>,
    /// The reasons.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// The justification.
    #[serde(default)]
    pub justification: String,
}

/// The formats the statement exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SoaFormat {
    /// Typeset PDF.
    Pdf,
    /// Excel workbook.
    Xlsx,
    /// CSV.
    Csv,
    /// OSCAL system security plan (JSON).
    Oscal,
}

impl std::str::FromStr for SoaFormat {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pdf" => Ok(SoaFormat::Pdf),
            "xlsx" => Ok(SoaFormat::Xlsx),
            "csv" => Ok(SoaFormat::Csv),
            "oscal" => Ok(SoaFormat::Oscal),
            other => Err(AppError::invalid(
                "format",
                format!("unknown format `{other}` (expected pdf, xlsx, csv or oscal)"),
            )),
        }
    }
}

/// An exported document.
#[derive(Debug, Clone)]
pub struct SoaExport {
    /// Its media type.
    pub content_type: &'static str,
    /// A file name.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

const JUSTIFICATION_MAX: usize = 4_000;
const DECISIONS_MAX: usize = 200;

fn conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Unique { .. } => AppError::Conflict {
            field: "version".into(),
            message: "someone changed the Statement of Applicability at the same moment: reload and try again".into(),
        },
        other => other.into(),
    }
}

impl App {
    /// The statement computed from the data, for `framework`, with these decisions.
    async fn soa_live(
        &self,
        org: OrgId,
        framework: &str,
        decisions: &[StoredDecision],
    ) -> AppResult<SoaContent> {
        let f = self.find_framework(org, framework).await?;
        let snap = self.program_snapshot(org).await?;
        let today = Timestamp::now().date();
        let fresh = crate::evidence::freshness_of(&snap.controls, &snap.spans, today);
        let fresh_ref: HashMap<&str, bool> = fresh
            .iter()
            .map(|(k, v)| (k.as_str(), v.is_fresh()))
            .collect();
        let inputs = CoverageInputs::new(&snap.controls, &snap.links, fresh_ref);
        let coverage = compute(&f, FrameworkSummary::of(&f, true), &inputs);
        let status: HashMap<&str, _> = coverage
            .requirements
            .iter()
            .map(|r| (r.id.as_str(), r))
            .collect();
        let controls: HashMap<&str, &attest_store::control::Control> =
            snap.controls.iter().map(|c| (c.id.as_str(), c)).collect();

        let risks = attest_store::risk::risks(&self.store, org).await?;
        let risk_by_id: HashMap<&str, &attest_store::risk::Risk> =
            risks.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut risks_of: HashMap<String, Vec<&str>> = HashMap::new();
        for (risk, control) in attest_store::risk::all_control_links(&self.store, org).await? {
            if let Some(r) = risk_by_id.get(risk.as_str()) {
                risks_of.entry(control).or_default().push(&r.id);
            }
        }

        let annex: Vec<&attest_domain::framework::Requirement> = f
            .requirements
            .iter()
            .filter(|r| r.kind == "control" && r.id.starts_with("A."))
            .collect();
        let mut linked: Vec<String> = annex
            .iter()
            .filter_map(|r| status.get(r.id.as_str()))
            .flat_map(|c| c.controls.iter().map(|(id, _)| id.clone()))
            .collect();
        linked.sort();
        linked.dedup();
        let latest = store_soa::latest_evidence(&self.store, org, &linked).await?;
        let mut evidence_of: HashMap<&str, Vec<&(String, String, String, String)>> = HashMap::new();
        for e in &latest {
            evidence_of.entry(e.0.as_str()).or_default().push(e);
        }
        let decided: HashMap<&str, &Decision> = decisions
            .iter()
            .map(|d| (d.requirement_id.as_str(), &d.decision))
            .collect();

        let rows = annex
            .into_iter()
            .map(|r| {
                let cov = status.get(r.id.as_str());
                let mut ctl: Vec<ControlRef> = Vec::new();
                let mut rk: BTreeMap<String, RiskRef> = BTreeMap::new();
                let mut ev: Vec<EvidenceRef> = Vec::new();
                for (cid, _) in cov.map(|c| c.controls.as_slice()).unwrap_or_default() {
                    let Some(c) = controls.get(cid.as_str()) else {
                        continue;
                    };
                    ctl.push(ControlRef {
                        reference: c.reference.clone(),
                        title: c.title.clone(),
                        status: c.status,
                    });
                    for rid in risks_of.get(cid.as_str()).into_iter().flatten() {
                        let risk = risk_by_id[rid];
                        rk.insert(
                            risk.reference.clone(),
                            RiskRef {
                                reference: risk.reference.clone(),
                                title: risk.title.clone(),
                            },
                        );
                    }
                    for e in evidence_of.get(cid.as_str()).into_iter().flatten() {
                        ev.push(EvidenceRef {
                            control: c.reference.clone(),
                            id: e.1.clone(),
                            title: e.2.clone(),
                            effective_from: e.3.clone(),
                        });
                    }
                }
                ctl.sort();
                ev.sort();
                let decision = decided.get(r.id.as_str()).copied();
                let group = r
                    .parent
                    .as_deref()
                    .and_then(|p| f.requirement(p))
                    .map(|p| format!("{} {}", p.id, p.title))
                    .unwrap_or_default();
                SoaRow {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    group,
                    applicable: decision.map(|d| d.applicable),
                    reasons: domain::effective_reasons(decision, !rk.is_empty()),
                    justification: decision
                        .map(|d| d.justification.clone())
                        .unwrap_or_default(),
                    status: cov.map_or(
                        attest_domain::coverage::RequirementStatus::NotCovered,
                        |c| c.status,
                    ),
                    controls: ctl,
                    risks: rk.into_values().collect(),
                    evidence: ev,
                }
            })
            .collect();
        Ok(SoaContent {
            framework_id: f.id.clone(),
            framework_name: f.name.clone(),
            rows,
        })
    }

    /// Reads an approved version's frozen content, checking its hash.
    fn frozen(v: &Version) -> AppResult<ApprovedSoa> {
        let (Some(json), Some(hash)) = (&v.content, &v.content_hash) else {
            return Err(AppError::Internal(format!(
                "approved SoA version {} has no content",
                v.version
            )));
        };
        let content: SoaContent = serde_json::from_str(json)
            .map_err(|e| AppError::Internal(format!("SoA version {}: {e}", v.version)))?;
        ApprovedSoa::from_frozen(content, hash)
            .map_err(|e| AppError::Internal(format!("SoA version {}: {e}", v.version)))
    }

    /// The content of a version: frozen when approved, live when a draft; the latest (or
    /// the live default before any version) when `version` is `None`.
    async fn soa_content(
        &self,
        org: OrgId,
        version: Option<i64>,
    ) -> AppResult<(Option<Version>, SoaContent)> {
        let v = store_soa::get(&self.store, org, version).await?;
        if version.is_some() && v.is_none() {
            return Err(AppError::NotFound("SoA version"));
        }
        let content = match &v {
            Some(v) if v.approved => Self::frozen(v)?.into_content(),
            Some(v) => {
                let d = store_soa::decisions(&self.store, None, org, &v.framework_id).await?;
                self.soa_live(org, &v.framework_id, &d).await?
            }
            None => {
                let d =
                    store_soa::decisions(&self.store, None, org, domain::DEFAULT_FRAMEWORK).await?;
                self.soa_live(org, domain::DEFAULT_FRAMEWORK, &d).await?
            }
        };
        Ok((v, content))
    }

    /// A version of the statement (the latest when `version` is `None`).
    pub async fn soa(&self, caller: &Caller, version: Option<i64>) -> AppResult<SoaView> {
        let org = caller.require(Permission::ProgramRead)?;
        let (v, content) = self.soa_content(org, version).await?;
        let history: Vec<SoaVersionInfo> = store_soa::versions(&self.store, org)
            .await?
            .iter()
            .map(SoaVersionInfo::from)
            .collect();
        let latest = history.first().map(|h| h.version);
        let is_latest = v.as_ref().map(|v| v.version) == latest;
        let stale = match &v {
            Some(v) if v.approved && is_latest => {
                let d = store_soa::decisions(&self.store, None, org, &v.framework_id).await?;
                self.soa_live(org, &v.framework_id, &d).await?.hash() != content.hash()
            }
            _ => false,
        };
        let (applicable, excluded, undecided) = content.counts();
        Ok(SoaView {
            version: v.as_ref().map(SoaVersionInfo::from),
            gaps: content.gaps(),
            warnings: content.warnings(),
            applicable,
            excluded,
            undecided,
            editable: v.as_ref().is_none_or(|v| !v.approved),
            stale,
            history,
            content,
        })
    }

    /// The draft to change, opened when the latest version is approved (or none exists),
    /// and locked for this transaction: (number, framework).
    async fn soa_draft(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        org: OrgId,
        framework: Option<&str>,
    ) -> AppResult<(i64, String)> {
        let now = Timestamp::now();
        let latest = store_soa::latest_in(tx, org).await?;
        let (number, current, open) = match &latest {
            None => (1, domain::DEFAULT_FRAMEWORK.to_owned(), true),
            Some(v) if v.approved => (v.version + 1, v.framework_id.clone(), true),
            Some(v) => (v.version, v.framework_id.clone(), false),
        };
        let framework = framework.unwrap_or(&current).to_owned();
        if open {
            store_soa::open_draft(tx, org, number, &framework, &caller.actor_text(), now)
                .await
                .map_err(conflict)?;
            record(
                tx,
                caller,
                Event::org(org, "soa.draft", "soa", number.to_string())
                    .after(&serde_json::json!({"version": number, "framework": framework})),
            )
            .await?;
        } else if !store_soa::touch_draft(tx, org, number, &framework, now).await? {
            return Err(AppError::Conflict {
                field: "version".into(),
                message:
                    "the Statement of Applicability was approved meanwhile: reload and try again"
                        .into(),
            });
        }
        Ok((number, framework))
    }

    /// Records decisions on Annex A controls of the draft (opening one after an approved
    /// version); all or nothing.
    pub async fn decide_soa(
        &self,
        caller: &Caller,
        inputs: Vec<DecisionInput>,
    ) -> AppResult<SoaView> {
        let org = caller.require(Permission::IsmsManage)?;
        if inputs.is_empty() || inputs.len() > DECISIONS_MAX {
            return Err(AppError::invalid(
                "decisions",
                format!("give 1 to {DECISIONS_MAX} decisions"),
            ));
        }
        let mut tx = self.store.begin().await?;
        let (number, framework) = self.soa_draft(&mut tx, caller, org, None).await?;
        let f = self.find_framework(org, &framework).await?;
        let mut seen = std::collections::HashSet::new();
        let now = Timestamp::now();
        for (i, d) in inputs.into_iter().enumerate() {
            let field = format!("decisions[{i}]");
            let control = d.control.trim();
            if !f
                .requirement(control)
                .is_some_and(|r| r.kind == "control" && r.id.starts_with("A."))
            {
                return Err(AppError::invalid(
                    &format!("{field}.control"),
                    format!("`{control}` is not an Annex A control of {}", f.name),
                ));
            }
            if !seen.insert(control.to_owned()) {
                return Err(AppError::invalid(
                    &format!("{field}.control"),
                    format!("{control} is given twice"),
                ));
            }
            let justification = d.justification.trim().to_owned();
            if justification.chars().count() > JUSTIFICATION_MAX {
                return Err(AppError::invalid(
                    &format!("{field}.justification"),
                    format!(
                        "the justification of {control} is longer than {JUSTIFICATION_MAX} characters"
                    ),
                ));
            }
            let mut reasons = d.reasons;
            reasons.sort();
            reasons.dedup();
            let after = match d.applicable {
                None => {
                    store_soa::clear_decision(&mut tx, org, &framework, control).await?;
                    serde_json::json!({"control": control, "decision": null})
                }
                Some(applicable) => {
                    let decision = Decision {
                        applicable,
                        reasons,
                        justification,
                    };
                    store_soa::put_decision(
                        &mut tx,
                        org,
                        &framework,
                        control,
                        &decision,
                        &caller.actor_text(),
                        now,
                    )
                    .await?;
                    serde_json::json!({"control": control, "decision": decision})
                }
            };
            record(
                &mut tx,
                caller,
                Event::org(org, "soa.decide", "soa", number.to_string()).after(&after),
            )
            .await?;
        }
        tx.commit().await?;
        self.soa(caller, None).await
    }

    /// Chooses the Annex A version of the draft (2022 by default; 2013 for an organisation
    /// still certified against it). Decisions are kept per version.
    pub async fn set_soa_framework(&self, caller: &Caller, framework: &str) -> AppResult<SoaView> {
        let org = caller.require(Permission::IsmsManage)?;
        if !domain::is_annex_a(framework) {
            return Err(AppError::invalid(
                "framework",
                format!(
                    "`{framework}` is not an Annex A version (expected {})",
                    domain::ANNEX_A_FRAMEWORKS.join(" or ")
                ),
            ));
        }
        let mut tx = self.store.begin().await?;
        let (number, _) = self
            .soa_draft(&mut tx, caller, org, Some(framework))
            .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "soa.framework", "soa", number.to_string())
                .after(&serde_json::json!({"version": number, "framework": framework})),
        )
        .await?;
        tx.commit().await?;
        self.soa(caller, None).await
    }

    /// Opens a new draft after the latest approved version without changing a decision
    /// (to approve again what the data now say).
    pub async fn new_soa_draft(&self, caller: &Caller) -> AppResult<SoaView> {
        let org = caller.require(Permission::IsmsManage)?;
        let mut tx = self.store.begin().await?;
        if store_soa::latest_in(&mut tx, org)
            .await?
            .is_some_and(|v| !v.approved)
        {
            return Err(AppError::Rule {
                rule: "soa-draft-open",
                message: "a draft is already open".into(),
            });
        }
        self.soa_draft(&mut tx, caller, org, None).await?;
        tx.commit().await?;
        self.soa(caller, None).await
    }

    /// Approves the draft: refused while it is incomplete; freezes its content under the
    /// SHA-256 of that content, with the approver and the date.
    pub async fn approve_soa(&self, caller: &Caller, note: &str) -> AppResult<SoaView> {
        let org = caller.require(Permission::IsmsApprove)?;
        let note = note.trim();
        if note.chars().count() > 1_000 {
            return Err(AppError::invalid(
                "note",
                "the note is longer than 1,000 characters",
            ));
        }
        let mut tx = self.store.begin().await?;
        let Some(draft) = store_soa::latest_in(&mut tx, org)
            .await?
            .filter(|v| !v.approved)
        else {
            return Err(AppError::Rule {
                rule: "soa-no-draft",
                message: "there is no draft to approve: make a decision first".into(),
            });
        };
        let now = Timestamp::now();
        // Lock the draft first: a decision committed before this point is read below, one
        // made after waits and then finds the version approved.
        if !store_soa::touch_draft(&mut tx, org, draft.version, &draft.framework_id, now).await? {
            return Err(AppError::Conflict {
                field: "version".into(),
                message: "the draft was approved meanwhile".into(),
            });
        }
        let decisions =
            store_soa::decisions(&self.store, Some(&mut tx), org, &draft.framework_id).await?;
        let content = self.soa_live(org, &draft.framework_id, &decisions).await?;
        let approved = content.approve().map_err(|gaps| AppError::Rejected {
            message: format!(
                "the Statement of Applicability is incomplete: {} control{} still need{} a decision or a justification",
                gaps.len(),
                if gaps.len() == 1 { "" } else { "s" },
                if gaps.len() == 1 { "s" } else { "" },
            ),
            problems: gaps
                .into_iter()
                .map(|g| attest_domain::framework::Problem::new(g.control, g.problem))
                .collect(),
        })?;
        let approver = match caller.user {
            Some(u) => self
                .member_names(org)
                .await?
                .remove(&u)
                .unwrap_or_else(|| caller.actor_text()),
            None => caller.actor_text(),
        };
        let json = serde_json::to_string(approved.content())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if !store_soa::approve(
            &mut tx,
            org,
            draft.version,
            &store_soa::Approval {
                approver_id: caller.user,
                approver_name: &approver,
                at: now,
                note,
                content: &json,
                hash: approved.hash(),
            },
        )
        .await?
        {
            return Err(AppError::Conflict {
                field: "version".into(),
                message: "the draft was approved meanwhile".into(),
            });
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "soa.approve", "soa", draft.version.to_string()).after(
                &serde_json::json!({
                    "version": draft.version,
                    "framework": draft.framework_id,
                    "approver": approver,
                    "hash": approved.hash(),
                    "note": note,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.soa(caller, Some(draft.version)).await
    }

    /// What changed between two versions, control by control.
    pub async fn soa_diff(
        &self,
        caller: &Caller,
        from: i64,
        to: i64,
    ) -> AppResult<(SoaContent, SoaContent, Vec<RowChange>)> {
        let org = caller.require(Permission::ProgramRead)?;
        let (_, a) = self.soa_content(org, Some(from)).await?;
        let (_, b) = self.soa_content(org, Some(to)).await?;
        let changes = domain::diff(&a, &b);
        Ok((a, b, changes))
    }

    /// A version exported as PDF, XLSX, CSV or OSCAL (the latest when `version` is `None`).
    pub async fn soa_export(
        &self,
        caller: &Caller,
        version: Option<i64>,
        format: SoaFormat,
    ) -> AppResult<SoaExport> {
        let org = caller.require(Permission::ProgramRead)?;
        let (v, content) = self.soa_content(org, version).await?;
        let organisation = attest_store::org::get(&self.store, org).await?.name;
        let now = Timestamp::now();
        let modified = v.as_ref().map(|v| v.updated_at).unwrap_or(now).to_rfc3339();
        let render =
            move || -> Result<(&'static str, String, Vec<u8>), attest_report::ReportError> {
                let org_id = org.to_string();
                let doc = SoaDocument {
                    organisation: &organisation,
                    organisation_id: &org_id,
                    version: v.as_ref().map(|v| v.version),
                    approved: v.as_ref().is_some_and(|v| v.approved),
                    approver: v.as_ref().and_then(|v| v.approver_name.as_deref()),
                    approved_on: v.as_ref().and_then(|v| v.approved_at).map(|t| t.date()),
                    hash: v.as_ref().and_then(|v| v.content_hash.as_deref()),
                    generated_on: now.date(),
                    content: &content,
                };
                let (content_type, ext, bytes) = match format {
                    SoaFormat::Pdf => ("application/pdf", "pdf", attest_report::soa::pdf(&doc)?),
                    SoaFormat::Xlsx => (
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "xlsx",
                        attest_report::soa::xlsx(&doc)?,
                    ),
                    SoaFormat::Csv => (
                        "text/csv; charset=utf-8",
                        "csv",
                        attest_report::soa::csv(&doc)?,
                    ),
                    SoaFormat::Oscal => (
                        "application/json",
                        "oscal.json",
                        serde_json::to_vec_pretty(&attest_report::soa::oscal(&doc, &modified)?)?,
                    ),
                };
                Ok((content_type, doc.file_name(ext), bytes))
            };
        let (content_type, file_name, bytes) = crate::typeset(render).await?;
        Ok(SoaExport {
            content_type,
            file_name,
            bytes,
        })
    }
}
