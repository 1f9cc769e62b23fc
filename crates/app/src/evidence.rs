//! Evidence: files, links and records that prove controls operated, dated by the period they
//! cover. Files stream into the content-addressed blob store before their row is written; a
//! failed upload leaves no row, and no blob under an address nobody uses.

use std::collections::{BTreeMap, HashMap};

use attest_domain::control::Frequency;
use attest_domain::evidence::{
    DateRange, EvidenceKind, EvidenceSource, Freshness, PeriodCoverage, covered_span, freshness,
    period_coverage, sanitise_file_name,
};
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::control::{self as store_ctl, Control};
use attest_store::evidence::{self as store_ev, Evidence, Filter};
use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;
use serde::Serialize;
use time::Date;

use crate::audit_trail::{Event, record};
use crate::{App, AppError, AppResult, Caller, Permission};

/// Longest title.
const TITLE_MAX: usize = 300;
/// Longest description.
const DESCRIPTION_MAX: usize = 20_000;
/// Largest structured record.
pub const RECORD_MAX: usize = 1024 * 1024;

/// What an evidence item holds.
pub enum Content<S> {
    /// A file, streamed.
    File {
        /// The name the client gave (sanitised before use).
        name: String,
        /// The bytes.
        body: S,
        /// The SHA-256 the client declares (hex), checked against the content.
        declared_sha256: Option<String>,
    },
    /// A link.
    Link {
        /// The URL (http or https).
        url: String,
    },
    /// A structured record.
    Record {
        /// The JSON value.
        json: serde_json::Value,
    },
}

/// What describes a new evidence item or version.
#[derive(Debug, Clone, Default)]
pub struct EvidenceInput {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Ids of the controls it supports (at least one).
    pub controls: Vec<String>,
    /// The day it was collected (default today).
    pub collected_on: Option<Date>,
    /// First day it proves (default: the day collected).
    pub effective_from: Option<Date>,
    /// Last day it proves (default: one window of each control's frequency).
    pub effective_until: Option<Date>,
}

/// An evidence version with what it supports.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceDetail {
    /// The version asked for.
    pub evidence: EvidenceView,
    /// The controls it supports: (id, ref, title).
    pub controls: Vec<(String, String, String)>,
    /// Every version of the item, oldest first.
    pub versions: Vec<EvidenceView>,
}

/// An evidence version as shown.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceView {
    /// Id.
    pub id: String,
    /// The first version's id.
    pub lineage_id: String,
    /// Version number.
    pub version: i64,
    /// The version it corrects.
    pub supersedes: Option<String>,
    /// The version correcting it.
    pub superseded_by: Option<String>,
    /// file, link, record.
    pub kind: EvidenceKind,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// How it arrived.
    pub source: EvidenceSource,
    /// SHA-256 (hex) of the file.
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
    /// Sniffed content type.
    pub content_type: Option<String>,
    /// Sanitised file name.
    pub file_name: Option<String>,
    /// URL of a link.
    pub url: Option<String>,
    /// JSON of a record.
    pub record: Option<serde_json::Value>,
    /// Collected on.
    pub collected_on: Date,
    /// Effective from.
    pub effective_from: Date,
    /// Effective until (none: one window of each control's frequency).
    pub effective_until: Option<Date>,
    /// Who collected it.
    pub collected_by: String,
    /// When it was stored (RFC 3339).
    pub created_at: String,
    /// Under legal hold.
    pub legal_hold: bool,
    /// When it was disposed of (RFC 3339).
    pub disposed_at: Option<String>,
    /// Why.
    pub disposal_reason: Option<String>,
}

impl From<&Evidence> for EvidenceView {
    fn from(e: &Evidence) -> Self {
        Self {
            id: e.id.clone(),
            lineage_id: e.lineage_id.clone(),
            version: e.version,
            supersedes: e.supersedes.clone(),
            superseded_by: e.superseded_by.clone(),
            kind: e.kind,
            title: e.title.clone(),
            description: e.description.clone(),
            source: e.source,
            sha256: e.sha256.clone(),
            size: e.size,
            content_type: e.content_type.clone(),
            file_name: e.file_name.clone(),
            url: e.url.clone(),
            record: e
                .record
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            collected_on: e.collected_on,
            effective_from: e.effective_from,
            effective_until: e.effective_until,
            collected_by: e.collected_by.clone(),
            created_at: e.created_at.to_rfc3339(),
            legal_hold: e.legal_hold,
            disposed_at: e.disposed_at.map(|t| t.to_rfc3339()),
            disposal_reason: e.disposal_reason.clone(),
        }
    }
}

/// A stored file as it is served: (file name, content type, size, the bytes as they stream,
/// checked against their SHA-256).
pub type FileStream = (
    String,
    String,
    u64,
    BoxStream<'static, attest_blobs::BlobResult<Bytes>>,
);

/// A filter of the evidence list, as callers give it.
#[derive(Debug, Clone, Default)]
pub struct EvidenceQuery {
    /// A control's id.
    pub control: Option<String>,
    /// A framework requirement: (framework, requirement); evidence of its linked controls.
    pub requirement: Option<(String, String)>,
    /// Evidence of the controls this person owns.
    pub owner: Option<UserId>,
    /// Evidence effective on this day.
    pub effective_on: Option<Date>,
    /// Words in the title.
    pub q: Option<String>,
    /// Include superseded versions.
    pub all_versions: bool,
    /// Continue after this cursor (from the previous page).
    pub cursor: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
}

/// A page of evidence.
#[derive(Debug, Clone, Serialize)]
pub struct EvidencePage {
    /// The items.
    pub items: Vec<EvidenceView>,
    /// Cursor of the next page, if there may be one.
    pub next: Option<String>,
}

/// A control's freshness, for the overdue and due lists.
#[derive(Debug, Clone, Serialize)]
pub struct ControlFreshness {
    /// The control's id.
    pub control_id: String,
    /// Its reference.
    pub control_ref: String,
    /// Its title.
    pub title: String,
    /// Its owner.
    pub owner_id: Option<String>,
    /// Its frequency.
    pub frequency: Frequency,
    /// fresh, overdue or missing.
    pub state: &'static str,
    /// Last day covered (fresh), or first day not covered (overdue).
    pub date: Option<Date>,
}

/// Which part of a period each control's evidence covers.
#[derive(Debug, Clone, Serialize)]
pub struct ControlPeriod {
    /// The control's id.
    pub control_id: String,
    /// Its reference.
    pub control_ref: String,
    /// Covered stretches and gaps.
    pub coverage: PeriodCoverage,
    /// The evidence behind the spans (index as in `coverage.covered`): (id, title, span).
    pub evidence: Vec<(String, String, DateRange)>,
}

fn check_input(i: &EvidenceInput) -> AppResult<()> {
    if i.title.trim().is_empty() {
        return Err(AppError::invalid("title", "give the evidence a title"));
    }
    if i.title.chars().count() > TITLE_MAX {
        return Err(AppError::invalid(
            "title",
            "the title is longer than 300 characters",
        ));
    }
    if i.description.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::invalid(
            "description",
            "the description is longer than 20,000 characters",
        ));
    }
    if i.controls.is_empty() {
        return Err(AppError::invalid(
            "controls",
            "name at least one control the evidence supports",
        ));
    }
    if let (Some(f), Some(u)) = (i.effective_from, i.effective_until)
        && u < f
    {
        return Err(AppError::invalid(
            "effective_until",
            format!("the evidence cannot stop being effective ({u}) before it starts ({f})"),
        ));
    }
    Ok(())
}

pub(crate) fn parse_sha256(s: &str) -> AppResult<[u8; 32]> {
    let bytes = hex::decode(s.trim()).map_err(|_| {
        AppError::invalid(
            "sha256",
            "the declared SHA-256 is not 64 hexadecimal digits",
        )
    })?;
    bytes.try_into().map_err(|_| {
        AppError::invalid(
            "sha256",
            "the declared SHA-256 is not 64 hexadecimal digits",
        )
    })
}

fn check_url(url: &str) -> AppResult<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(AppError::invalid(
            "url",
            "give an http or https address of at most 2,048 characters",
        ));
    }
    Ok(url.to_owned())
}

/// The content type of bytes, from their first bytes (never the client's word).
pub fn sniff(head: &[u8]) -> String {
    if let Some(t) = infer::get(head) {
        return t.mime_type().to_owned();
    }
    if head.is_empty() {
        return "application/octet-stream".into();
    }
    // Text if the head is UTF-8 (allowing a character cut at the end).
    match std::str::from_utf8(head) {
        Ok(_) => "text/plain".into(),
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            "text/plain".into()
        }
        Err(_) => "application/octet-stream".into(),
    }
}

/// The shortest retention rule: a year.
pub const RETENTION_MIN_DAYS: i64 = 365;
/// The longest: a century.
pub const RETENTION_MAX_DAYS: i64 = 36_500;

/// A page cursor: the order's letter (`n` newest, `p` by period), its key and the id.
fn encode_cursor(f: &Filter, e: &Evidence) -> String {
    let order = if f.by_period() { 'p' } else { 'n' };
    format!("{order}{}.{}", f.key_of(e), e.id)
}

fn decode_cursor(s: &str, by_period: bool) -> AppResult<(i64, String)> {
    let bad = || AppError::invalid("cursor", "the cursor is not one Attest gave");
    let rest = s
        .strip_prefix(if by_period { 'p' } else { 'n' })
        .ok_or_else(|| {
            AppError::invalid(
                "cursor",
                "the cursor belongs to a list with other date filters; start from the first page",
            )
        })?;
    let (key, id) = rest.split_once('.').ok_or_else(bad)?;
    let key: i64 = key.parse().map_err(|_| bad())?;
    if id.is_empty() || id.len() > 64 {
        return Err(bad());
    }
    Ok((key, id.to_owned()))
}

impl App {
    /// Controls the caller may attach evidence to: any with `ControlManage`, else their own.
    async fn evidence_controls(&self, caller: &Caller, ids: &[String]) -> AppResult<Vec<Control>> {
        let org = caller.require(Permission::ControlUpdateOwn)?;
        let manage = caller.require(Permission::ControlManage).is_ok();
        let mut out: Vec<Control> = Vec::new();
        for id in ids {
            if out.iter().any(|c| &c.id == id) {
                continue;
            }
            let c = store_ctl::get(&self.store, org, id)
                .await?
                .ok_or_else(|| AppError::invalid("controls", format!("no control {id}")))?;
            if !manage && (c.owner_id.is_none() || c.owner_id != caller.user) {
                return Err(AppError::Forbidden(format!(
                    "you can add evidence only to the controls you own; {} is not yours",
                    c.reference
                )));
            }
            out.push(c);
        }
        Ok(out)
    }

    /// Adds an evidence item (version 1).
    pub async fn add_evidence<S, E>(
        &self,
        caller: &Caller,
        source: EvidenceSource,
        input: EvidenceInput,
        content: Content<S>,
    ) -> AppResult<EvidenceView>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.store_evidence(caller, source, input, content, None)
            .await
    }

    /// Corrects an evidence item: a new version linked to the current one, which stays.
    pub async fn correct_evidence<S, E>(
        &self,
        caller: &Caller,
        id: &str,
        source: EvidenceSource,
        input: EvidenceInput,
        content: Content<S>,
    ) -> AppResult<EvidenceView>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let org = caller.require(Permission::ControlUpdateOwn)?;
        let prev = store_ev::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("evidence"))?;
        if prev.superseded_by.is_some() {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "a newer version exists: correct that one".into(),
            });
        }
        if prev.disposed_at.is_some() {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "this evidence was disposed of".into(),
            });
        }
        // The previous version's controls must be the caller's too.
        let prev_controls = store_ev::controls_of(&self.store, org, &prev.id).await?;
        self.evidence_controls(caller, &prev_controls).await?;
        self.store_evidence(caller, source, input, content, Some(prev))
            .await
    }

    async fn store_evidence<S, E>(
        &self,
        caller: &Caller,
        source: EvidenceSource,
        input: EvidenceInput,
        content: Content<S>,
        prev: Option<Evidence>,
    ) -> AppResult<EvidenceView>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let org = caller.require(Permission::ControlUpdateOwn)?;
        check_input(&input)?;
        let controls = self.evidence_controls(caller, &input.controls).await?;
        let now = Timestamp::now();
        let today = now.date();
        let collected_on = input.collected_on.unwrap_or(today);
        if collected_on > today {
            return Err(AppError::invalid(
                "collected_on",
                format!("evidence cannot be collected in the future ({collected_on})"),
            ));
        }
        let effective_from = input.effective_from.unwrap_or(collected_on);
        let mut e = Evidence {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org,
            lineage_id: String::new(),
            version: 1,
            supersedes: None,
            superseded_by: None,
            kind: EvidenceKind::File,
            title: input.title.trim().to_owned(),
            description: input.description.trim().to_owned(),
            source,
            sha256: None,
            size: None,
            content_type: None,
            file_name: None,
            url: None,
            record: None,
            collected_on,
            effective_from,
            effective_until: input.effective_until,
            collected_by: caller.actor_text(),
            created_at: now,
            legal_hold: prev.as_ref().is_some_and(|p| p.legal_hold),
            disposed_at: None,
            disposed_by: None,
            disposal_reason: None,
        };
        e.lineage_id = prev
            .as_ref()
            .map(|p| p.lineage_id.clone())
            .unwrap_or_else(|| e.id.clone());
        e.version = prev.as_ref().map(|p| p.version + 1).unwrap_or(1);
        e.supersedes = prev.as_ref().map(|p| p.id.clone());

        let mut fresh_blob: Option<[u8; 32]> = None;
        match content {
            Content::File {
                name,
                body,
                declared_sha256,
            } => {
                let declared = declared_sha256
                    .as_deref()
                    .filter(|s| !s.trim().is_empty())
                    .map(parse_sha256)
                    .transpose()?;
                let stored = self
                    .blobs
                    .put_stream(org, body, self.config.upload_limit, declared)
                    .await?;
                if !stored.deduplicated {
                    fresh_blob = Some(stored.sha256);
                }
                e.kind = EvidenceKind::File;
                e.sha256 = Some(hex::encode(stored.sha256));
                e.size = Some(stored.size as i64);
                e.content_type = Some(sniff(&stored.head));
                e.file_name = Some(sanitise_file_name(&name));
            }
            Content::Link { url } => {
                e.kind = EvidenceKind::Link;
                e.url = Some(check_url(&url)?);
            }
            Content::Record { json } => {
                let text = serde_json::to_string(&json)
                    .map_err(|err| AppError::invalid("record", err.to_string()))?;
                if text.len() > RECORD_MAX {
                    return Err(AppError::TooLarge(
                        "the record is larger than 1 MiB: upload it as a file".into(),
                    ));
                }
                e.kind = EvidenceKind::Record;
                e.size = Some(text.len() as i64);
                e.record = Some(text);
            }
        }
        let written = self.write_evidence(caller, org, &e, &controls).await;
        if written.is_err()
            && let Some(sha) = fresh_blob
        {
            // Nothing refers to the bytes just stored: take them away again, unless a
            // concurrent upload of the same content recorded them meanwhile.
            let mut tx = self.store.begin().await?;
            if store_ev::blob_users(&mut tx, org, &hex::encode(sha)).await? == 0 {
                let _ = self.blobs.delete(org, &sha).await;
            }
            tx.rollback().await.ok();
        }
        written?;
        Ok(EvidenceView::from(&e))
    }

    async fn write_evidence(
        &self,
        caller: &Caller,
        org: OrgId,
        e: &Evidence,
        controls: &[Control],
    ) -> AppResult<()> {
        let ids: Vec<String> = controls.iter().map(|c| c.id.clone()).collect();
        let mut tx = self.store.begin().await?;
        if let (Some(sha), Some(size)) = (&e.sha256, e.size) {
            store_ev::put_blob(
                &mut tx,
                org,
                sha,
                size,
                e.content_type
                    .as_deref()
                    .unwrap_or("application/octet-stream"),
                e.created_at,
            )
            .await?;
        }
        store_ev::insert(&mut tx, e, &ids)
            .await
            .map_err(|err| match err {
                attest_store::StoreError::Unique { .. } => AppError::Conflict {
                    field: "id".into(),
                    message: "someone corrected this evidence at the same time: reload it".into(),
                },
                other => other.into(),
            })?;
        let action = if e.version == 1 {
            "evidence.add"
        } else {
            "evidence.correct"
        };
        let mut after = serde_json::to_value(EvidenceView::from(e))
            .map_err(|err| AppError::Internal(err.to_string()))?;
        after["controls"] = serde_json::json!(ids);
        record(
            &mut tx,
            caller,
            Event::org(org, action, "evidence", &e.id).after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One evidence version with its controls and every version of its item.
    pub async fn evidence(&self, caller: &Caller, id: &str) -> AppResult<EvidenceDetail> {
        let org = caller.require(Permission::ProgramRead)?;
        let e = store_ev::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("evidence"))?;
        let ids = store_ev::controls_of(&self.store, org, &e.id).await?;
        let mut controls = Vec::new();
        for c in ids {
            if let Some(c) = store_ctl::get(&self.store, org, &c).await? {
                controls.push((c.id, c.reference, c.title));
            }
        }
        controls.sort_by(|a, b| a.1.cmp(&b.1));
        let versions = store_ev::versions(&self.store, org, &e.lineage_id)
            .await?
            .iter()
            .map(EvidenceView::from)
            .collect();
        Ok(EvidenceDetail {
            evidence: EvidenceView::from(&e),
            controls,
            versions,
        })
    }

    /// A page of evidence, newest first.
    pub async fn list_evidence(
        &self,
        caller: &Caller,
        q: EvidenceQuery,
    ) -> AppResult<EvidencePage> {
        let org = caller.require(Permission::ProgramRead)?;
        let limit = q.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(AppError::invalid("limit", "give a page size from 1 to 500"));
        }
        let mut f = Filter {
            control: q.control.clone(),
            q: q.q.clone(),
            all_versions: q.all_versions,
            effective_after: q.effective_on,
            effective_before: q.effective_on,
            limit: limit + 1,
            ..Filter::default()
        };
        let mut among: Option<Vec<String>> = None;
        if let Some((fw, req)) = &q.requirement {
            let f = self.find_framework(org, fw).await?;
            let base = crate::framework::base_id(&f).to_owned();
            let links = store_ctl::all_links(&self.store, org).await?;
            among = Some(
                links
                    .into_iter()
                    .filter(|l| l.framework_id == base && &l.requirement_id == req)
                    .map(|l| l.control_id)
                    .collect(),
            );
        }
        if let Some(owner) = q.owner {
            let mine: Vec<String> = store_ctl::list(&self.store, org)
                .await?
                .into_iter()
                .filter(|c| c.owner_id == Some(owner))
                .map(|c| c.id)
                .collect();
            among = Some(match among {
                Some(a) => a.into_iter().filter(|c| mine.contains(c)).collect(),
                None => mine,
            });
        }
        f.controls = among;
        f.after = q
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, f.by_period()))
            .transpose()?;
        let mut rows = store_ev::list(&self.store, org, &f).await?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|e| encode_cursor(&f, e))
        } else {
            None
        };
        Ok(EvidencePage {
            items: rows.iter().map(EvidenceView::from).collect(),
            next,
        })
    }

    /// The bytes of a file evidence: (file name, content type, size, stream).
    pub async fn evidence_file(&self, caller: &Caller, id: &str) -> AppResult<FileStream> {
        let org = caller.require(Permission::ProgramRead)?;
        self.evidence_file_of(org, id).await
    }

    /// The bytes of a file evidence of an organisation, once the caller is allowed.
    pub(crate) async fn evidence_file_of(&self, org: OrgId, id: &str) -> AppResult<FileStream> {
        let e = store_ev::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("evidence"))?;
        if e.disposed_at.is_some() {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "this evidence was disposed of; its file is gone".into(),
            });
        }
        let sha = e
            .sha256
            .as_deref()
            .ok_or_else(|| AppError::invalid("id", "this evidence is not a file"))?;
        let sha = parse_sha256(sha)?;
        let (size, stream) = self.blobs.get(org, &sha).await?;
        Ok((
            e.file_name.unwrap_or_else(|| "evidence".into()),
            e.content_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            size,
            stream,
        ))
    }

    /// Puts an evidence item (every version) under legal hold, or lifts it.
    pub async fn set_legal_hold(
        &self,
        caller: &Caller,
        id: &str,
        on: bool,
        reason: &str,
    ) -> AppResult<()> {
        let org = caller.require(Permission::EvidenceHold)?;
        if reason.trim().is_empty() {
            return Err(AppError::invalid("reason", "say why"));
        }
        let mut tx = self.store.begin().await?;
        let e = store_ev::get_in(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("evidence"))?;
        store_ev::set_legal_hold(&mut tx, org, &e.lineage_id, on).await?;
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                if on {
                    "evidence.hold"
                } else {
                    "evidence.release"
                },
                "evidence",
                &e.lineage_id,
            )
            .before(&serde_json::json!({"legal_hold": e.legal_hold}))
            .after(&serde_json::json!({"legal_hold": on, "reason": reason.trim()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disposes of an evidence item (every version): an owner's explicit, audited decision,
    /// refused under legal hold. The rows stay as the record of what was disposed of; files no
    /// other evidence uses are deleted.
    pub async fn dispose_evidence(&self, caller: &Caller, id: &str, reason: &str) -> AppResult<()> {
        let org = caller.require(Permission::EvidenceDispose)?;
        if reason.trim().is_empty() {
            return Err(AppError::invalid(
                "reason",
                "say why the evidence is disposed of",
            ));
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let e = store_ev::get_in(&mut tx, org, id)
            .await?
            .ok_or(AppError::NotFound("evidence"))?;
        if e.disposed_at.is_some() {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "this evidence was already disposed of".into(),
            });
        }
        if e.legal_hold {
            return Err(AppError::Rule {
                rule: "legal-hold",
                message: "the evidence is under legal hold: lift the hold first".into(),
            });
        }
        let versions = store_ev::versions(&self.store, org, &e.lineage_id).await?;
        // Evidence of a period an open audit engagement examines is kept until it closes.
        let from = versions.iter().map(|v| v.effective_from).min();
        let until = versions
            .iter()
            .map(|v| v.effective_until.unwrap_or(v.effective_from))
            .max();
        let overlapping = match (from, until) {
            (Some(from), Some(until)) => {
                attest_store::engagement::open_overlapping(&mut tx, org, from, until).await?
            }
            _ => None,
        };
        // So is evidence given in answer to an open engagement's request, whatever its dates.
        let named = match overlapping {
            Some(r) => Some(r),
            None => {
                attest_store::workspace::open_request_naming(&mut tx, org, &e.lineage_id).await?
            }
        };
        if let Some(reference) = named {
            return Err(AppError::Rule {
                rule: "engagement-hold",
                message: format!(
                    "the evidence covers days in the period of open engagement {reference}, or answers one of its requests: it is kept until the engagement is issued or withdrawn"
                ),
            });
        }
        store_ev::dispose(
            &mut tx,
            org,
            &e.lineage_id,
            &caller.actor_text(),
            reason.trim(),
            now,
        )
        .await?;
        let mut gone = Vec::new();
        for v in &versions {
            if let Some(sha) = &v.sha256
                && !gone.contains(sha)
                && store_ev::blob_users(&mut tx, org, sha).await? == 0
            {
                store_ev::delete_blob(&mut tx, org, sha).await?;
                gone.push(sha.clone());
            }
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "evidence.dispose", "evidence", &e.lineage_id).after(
                &serde_json::json!({
                    "versions": versions.iter().map(|v| &v.id).collect::<Vec<_>>(),
                    "reason": reason.trim(),
                    "files_deleted": gone,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        // The rows are committed: delete the bytes. A failure here leaves an orphan that
        // `attest verify` reports, never a row without its file.
        for sha in gone {
            if let Ok(h) = parse_sha256(&sha) {
                let _ = self.blobs.delete(org, &h).await;
            }
        }
        Ok(())
    }

    /// The retention rule: days evidence is kept after the period it covers (none: kept
    /// until an owner disposes of it).
    pub async fn evidence_retention(&self, caller: &Caller) -> AppResult<Option<i64>> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(store_ev::retention(&self.store, org).await?)
    }

    /// Sets or removes the retention rule (owners: it decides disposals). At least a year,
    /// so that an audit period's evidence outlives the audit.
    pub async fn set_evidence_retention(
        &self,
        caller: &Caller,
        keep_days: Option<i64>,
    ) -> AppResult<()> {
        let org = caller.require(Permission::EvidenceDispose)?;
        if let Some(d) = keep_days
            && !(RETENTION_MIN_DAYS..=RETENTION_MAX_DAYS).contains(&d)
        {
            return Err(AppError::invalid(
                "keep_days",
                format!("keep evidence from {RETENTION_MIN_DAYS} to {RETENTION_MAX_DAYS} days"),
            ));
        }
        let before = store_ev::retention(&self.store, org).await?;
        let mut tx = self.store.begin().await?;
        store_ev::set_retention(&mut tx, org, keep_days, Timestamp::now().as_micros()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "evidence.retention", "organisation", org.to_string())
                .before(&serde_json::json!({ "keep_days": before }))
                .after(&serde_json::json!({ "keep_days": keep_days })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies the retention rule: disposes of every item whose period ended more than the
    /// rule's days ago, skipping any under legal hold. Returns the disposed items' ids.
    pub async fn apply_evidence_retention(&self, caller: &Caller) -> AppResult<Vec<String>> {
        let org = caller.require(Permission::EvidenceDispose)?;
        let Some(days) = store_ev::retention(&self.store, org).await? else {
            return Err(AppError::Rule {
                rule: "retention-rule",
                message: "there is no retention rule to apply: set one first".into(),
            });
        };
        let cutoff = Timestamp::now().date() - time::Duration::days(days);
        let reason = format!("retention rule: kept {days} days after the period it covers");
        let mut disposed = Vec::new();
        for id in store_ev::past_retention(&self.store, org, cutoff).await? {
            match self.dispose_evidence(caller, &id, &reason).await {
                Ok(()) => disposed.push(id),
                // Held or disposed of since the list was read: not this run's to dispose.
                Err(AppError::Rule { .. } | AppError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(disposed)
    }

    /// Every control's freshness on `today`, from its current evidence.
    pub(crate) async fn control_freshness(
        &self,
        org: OrgId,
        controls: &[Control],
        today: Date,
    ) -> AppResult<HashMap<String, Freshness>> {
        let spans = store_ev::spans(&self.store, org).await?;
        Ok(freshness_of(controls, &spans, today))
    }

    /// Controls whose evidence does not cover today (overdue or missing), for one owner or all;
    /// not-applicable controls are left out.
    pub async fn overdue_controls(
        &self,
        caller: &Caller,
        owner: Option<UserId>,
    ) -> AppResult<Vec<ControlFreshness>> {
        let org = caller.require(Permission::ProgramRead)?;
        let today = Timestamp::now().date();
        self.freshness_list(
            org,
            owner,
            |f| match f {
                Freshness::Fresh { .. } => None,
                Freshness::Overdue { since } => Some(("overdue", Some(*since))),
                Freshness::Missing => Some(("missing", None)),
            },
            today,
        )
        .await
    }

    /// Controls whose evidence stops covering within `days` days.
    pub async fn evidence_due(
        &self,
        caller: &Caller,
        days: i64,
    ) -> AppResult<Vec<ControlFreshness>> {
        let org = caller.require(Permission::ProgramRead)?;
        if !(1..=366).contains(&days) {
            return Err(AppError::invalid("days", "give 1 to 366 days"));
        }
        let today = Timestamp::now().date();
        let horizon = today + time::Duration::days(days);
        self.freshness_list(
            org,
            None,
            |f| match f {
                Freshness::Fresh { until } if *until < horizon => Some(("fresh", Some(*until))),
                _ => None,
            },
            today,
        )
        .await
    }

    async fn freshness_list(
        &self,
        org: OrgId,
        owner: Option<UserId>,
        pick: impl Fn(&Freshness) -> Option<(&'static str, Option<Date>)>,
        today: Date,
    ) -> AppResult<Vec<ControlFreshness>> {
        let controls: Vec<Control> = store_ctl::list(&self.store, org)
            .await?
            .into_iter()
            .filter(|c| c.status != attest_domain::control::ControlStatus::NotApplicable)
            .filter(|c| owner.is_none() || c.owner_id == owner)
            .collect();
        let fresh = self.control_freshness(org, &controls, today).await?;
        let mut out: Vec<ControlFreshness> = controls
            .iter()
            .filter_map(|c| {
                let (state, date) = pick(&fresh[&c.id])?;
                Some(ControlFreshness {
                    control_id: c.id.clone(),
                    control_ref: c.reference.clone(),
                    title: c.title.clone(),
                    owner_id: c.owner_id.map(|u| u.to_string()),
                    frequency: c.frequency,
                    state,
                    date,
                })
            })
            .collect();
        out.sort_by(|a, b| a.date.cmp(&b.date).then(a.control_ref.cmp(&b.control_ref)));
        Ok(out)
    }

    /// For a period, per control (all, or the ones given), which evidence covers which days
    /// and where the gaps are.
    pub async fn period_coverage(
        &self,
        caller: &Caller,
        period: DateRange,
        only: Option<&[String]>,
    ) -> AppResult<Vec<ControlPeriod>> {
        let org = caller.require(Permission::ProgramRead)?;
        if period.days() > 366 * 3 {
            return Err(AppError::invalid("end", "a period is at most three years"));
        }
        let controls: Vec<Control> = store_ctl::list(&self.store, org)
            .await?
            .into_iter()
            .filter(|c| only.is_none_or(|o| o.contains(&c.id)))
            .collect();
        let mut by_control: BTreeMap<String, Vec<(String, String, DateRange)>> = BTreeMap::new();
        let freq: HashMap<&str, Frequency> = controls
            .iter()
            .map(|c| (c.id.as_str(), c.frequency))
            .collect();
        for (c, id, title, from, until) in
            store_ev::period_rows(&self.store, org, period.start, period.end).await?
        {
            if let Some(f) = freq.get(c.as_str()) {
                let span = covered_span(*f, from, until);
                by_control.entry(c).or_default().push((id, title, span));
            }
        }
        Ok(controls
            .iter()
            .map(|c| {
                let mut ev = by_control.remove(&c.id).unwrap_or_default();
                ev.sort_by_key(|x| x.2);
                let spans: Vec<DateRange> = ev.iter().map(|x| x.2).collect();
                ControlPeriod {
                    control_id: c.id.clone(),
                    control_ref: c.reference.clone(),
                    coverage: period_coverage(period, &spans),
                    evidence: ev,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_ignores_names_and_claims() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff("plain text, ünïcode".as_bytes()), "text/plain");
        assert_eq!(
            sniff(&[0xff, 0xfe, 0x00, 0x01, 0x02]),
            "application/octet-stream"
        );
        // Recognised as HTML whatever it is called; downloads are never rendered inline.
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), "text/html");
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        assert_eq!(
            decode_cursor("n1700000000000000.0190-abc", false).unwrap(),
            (1_700_000_000_000_000, "0190-abc".into())
        );
        assert_eq!(
            decode_cursor("p2460000.0190-abc", true).unwrap(),
            (2_460_000, "0190-abc".into())
        );
        // A cursor of the other order, or none Attest gave.
        assert!(decode_cursor("n1700000000000000.0190-abc", true).is_err());
        assert!(decode_cursor("1700000000000000.0190-abc", false).is_err());
        assert!(decode_cursor("nope", false).is_err());
        assert!(decode_cursor("n12.", false).is_err());
    }

    #[test]
    fn urls_and_hashes_are_checked() {
        assert!(check_url("https://example.com/x").is_ok());
        assert!(check_url("javascript:alert(1)").is_err());
        assert!(check_url("https://exa mple.com").is_err());
        assert!(parse_sha256(&"ab".repeat(32)).is_ok());
        assert!(parse_sha256("abc").is_err());
    }
}

/// Every control's freshness on `today` from the spans of its current evidence:
/// (control, effective from, effective until).
pub fn freshness_of(
    controls: &[Control],
    spans: &[(String, Date, Option<Date>)],
    today: Date,
) -> HashMap<String, Freshness> {
    let mut by: HashMap<&str, Vec<DateRange>> = HashMap::new();
    let freq: HashMap<&str, Frequency> = controls
        .iter()
        .map(|c| (c.id.as_str(), c.frequency))
        .collect();
    for (c, from, until) in spans {
        if let Some(f) = freq.get(c.as_str()) {
            by.entry(c.as_str())
                .or_default()
                .push(covered_span(*f, *from, *until));
        }
    }
    controls
        .iter()
        .map(|c| {
            let s = by.get(c.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            (c.id.clone(), freshness(s, today))
        })
        .collect()
}

/// What re-hashing the blob store found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BlobReport {
    /// Blobs re-hashed.
    pub checked: usize,
    /// Bytes re-hashed.
    pub bytes: u64,
    /// Recorded blobs whose bytes are gone: (organisation, SHA-256).
    pub missing: Vec<(String, String)>,
    /// Recorded blobs whose bytes no longer hash to their address.
    pub corrupt: Vec<(String, String)>,
    /// Bytes in the store that no row records (left by a crash between upload and commit,
    /// or put there by hand).
    pub orphaned: Vec<(String, String)>,
    /// Files in the store that are not under a content address (stray or staging files).
    pub strays: Vec<String>,
    /// Live file evidence whose blob row is missing: (evidence id, SHA-256).
    pub unrecorded: Vec<(String, String)>,
}

impl BlobReport {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        self.missing.is_empty()
            && self.corrupt.is_empty()
            && self.orphaned.is_empty()
            && self.strays.is_empty()
            && self.unrecorded.is_empty()
    }
}

impl App {
    /// Re-hashes every recorded blob and compares the store with the rows (`attest verify`).
    pub async fn verify_blobs(&self) -> AppResult<BlobReport> {
        let mut report = BlobReport::default();
        let rows = store_ev::all_blobs(&self.store).await?;
        let (listed, strays) = self.blobs.list().await?;
        report.strays = strays;
        let recorded: std::collections::HashSet<(String, String)> = rows
            .iter()
            .map(|(o, s, _)| (o.clone(), s.clone()))
            .collect();
        for b in &listed {
            let key = (b.org.to_string(), hex::encode(b.sha256));
            if !recorded.contains(&key) {
                report.orphaned.push(key);
            }
        }
        for (org, sha, _) in rows {
            let (Ok(org_id), Ok(hash)) = (org.parse::<OrgId>(), parse_sha256(&sha)) else {
                report.corrupt.push((org, sha));
                continue;
            };
            match self.blobs.rehash(org_id, &hash).await {
                Ok(actual) if actual == hash => {
                    report.checked += 1;
                    report.bytes += listed
                        .iter()
                        .find(|b| b.org == org_id && b.sha256 == hash)
                        .map(|b| b.size)
                        .unwrap_or(0);
                }
                Ok(_) => report.corrupt.push((org, sha)),
                Err(attest_blobs::BlobError::NotFound) => report.missing.push((org, sha)),
                Err(e) => return Err(e.into()),
            }
        }
        report.unrecorded = store_ev::live_files_without_blob_row(&self.store).await?;
        Ok(report)
    }
}
