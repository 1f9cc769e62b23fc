//! Exports of an engagement: its workpapers as a ZIP with an index, and OSCAL 1.2.1
//! assessment results and a plan of action and milestones for its findings.

use std::io::Write;

use attest_domain::{OrgId, Timestamp};
use attest_report::assessment::{
    AssessedControl, AssessedFinding, AssessedTest, AssessmentDocument,
};
use attest_report::spreadsheet_safe;
use attest_store::engagement::{self as store_eng, Engagement};
use attest_store::workspace as store_ws;
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::audit_trail::{Event, record};
use crate::engagement::test_view;
use crate::{App, AppError, AppResult, Caller};

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// Text made safe inside HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A file name safe in a ZIP on every system: letters, digits, `.`, `-`, `_`.
fn safe_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    let name: String = trimmed.chars().take(120).collect();
    if name.is_empty() { "file".into() } else { name }
}

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(internal)?;
    for r in rows {
        w.write_record(r.iter().map(|c| spreadsheet_safe(c).into_owned()))
            .map_err(internal)?;
    }
    w.into_inner().map_err(internal)
}

/// One file of the ZIP as the index lists it.
struct Entry {
    path: String,
    what: String,
    sha256: String,
    size: u64,
}

struct Zip {
    w: zip::ZipWriter<std::fs::File>,
    entries: Vec<Entry>,
}

impl Zip {
    fn add(&mut self, path: &str, what: &str, bytes: &[u8]) -> AppResult<()> {
        self.w
            .start_file(path, SimpleFileOptions::default())
            .map_err(internal)?;
        self.w.write_all(bytes).map_err(internal)?;
        self.entries.push(Entry {
            path: path.to_owned(),
            what: what.to_owned(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        });
        Ok(())
    }
}

impl App {
    /// The engagement as the OSCAL exports read it.
    async fn assessment_document(
        &self,
        org: OrgId,
        e: &Engagement,
    ) -> AppResult<AssessmentDocument> {
        let organisation = attest_store::org::get(&self.store, org).await?.name;
        let controls = attest_store::control::list(&self.store, org).await?;
        let scope = self.scope_controls(org, e).await?;
        let ncs = attest_store::nonconformity::list(&self.store, org).await?;
        let ref_of = |id: &Option<String>| {
            id.as_ref()
                .and_then(|c| controls.iter().find(|x| &x.id == c))
                .map(|c| c.reference.clone())
        };
        let tests = store_eng::tests_of(&self.store, None, org, &e.id)
            .await?
            .into_iter()
            .map(|t| test_view(t, &controls))
            .collect::<AppResult<Vec<_>>>()?;
        let findings = store_ws::findings_of(&self.store, None, org, &e.id).await?;
        let range = e.period.range();
        Ok(AssessmentDocument {
            organisation,
            organisation_id: org.to_string(),
            engagement_id: e.id.clone(),
            engagement_ref: e.reference.clone(),
            title: e.title.clone(),
            kind: e.kind.label().to_owned(),
            firm: e.firm.clone(),
            lead_auditor: e.lead_auditor.clone(),
            period_start: range.start.to_string(),
            period_end: range.end.to_string(),
            status: e.status.as_str().to_owned(),
            opinion: e.opinion.map(|o| o.as_str().to_owned()),
            controls: scope
                .iter()
                .map(|c| AssessedControl {
                    id: c.id.clone(),
                    reference: c.reference.clone(),
                    title: c.title.clone(),
                })
                .collect(),
            tests: tests
                .iter()
                .map(|t| AssessedTest {
                    id: t.test.id.clone(),
                    control_ref: t.control_ref.clone(),
                    kind: t.test.kind.clone(),
                    population: t.test.population,
                    sample_size: t.test.sample_size,
                    seed: t.test.seed.clone(),
                    algorithm: t.test.algorithm.clone(),
                    items: t.items.clone(),
                    results: t
                        .outcome
                        .iter()
                        .map(|(i, r)| (*i, r.result.clone(), r.note.clone()))
                        .collect(),
                    created_at: t.test.created_at.to_rfc3339(),
                })
                .collect(),
            findings: findings
                .iter()
                .map(|f| AssessedFinding {
                    id: f.id.clone(),
                    reference: f.reference.clone(),
                    title: f.title.clone(),
                    description: f.description.clone(),
                    severity: f.severity.clone(),
                    control_ref: ref_of(&f.control_id),
                    test_id: f.test_id.clone(),
                    nonconformity_ref: f
                        .nonconformity_id
                        .as_ref()
                        .and_then(|n| ncs.iter().find(|x| &x.id == n))
                        .map(|n| n.reference.clone()),
                    response: f.response.clone(),
                    created_at: f.created_at.to_rfc3339(),
                })
                .collect(),
            last_modified: e.updated_at.to_rfc3339(),
        })
    }

    async fn export_event(
        &self,
        caller: &Caller,
        org: OrgId,
        e: &Engagement,
        what: &str,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.export", "engagement", &e.id)
                .after(&serde_json::json!({"export": what})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The engagement's OSCAL assessment results: (its reference, the document).
    pub async fn oscal_assessment_results(
        &self,
        caller: &Caller,
        key: &str,
    ) -> AppResult<(String, Value)> {
        let (org, e) = self.workspace_access(caller, key).await?;
        let doc = self.assessment_document(org, &e).await?;
        self.export_event(caller, org, &e, "oscal-assessment-results")
            .await?;
        Ok((
            e.reference,
            attest_report::assessment::assessment_results(&doc),
        ))
    }

    /// The engagement's findings as an OSCAL plan of action and milestones.
    pub async fn oscal_poam(&self, caller: &Caller, key: &str) -> AppResult<(String, Value)> {
        let (org, e) = self.workspace_access(caller, key).await?;
        let doc = self.assessment_document(org, &e).await?;
        self.export_event(caller, org, &e, "oscal-poam").await?;
        Ok((e.reference, attest_report::assessment::poam(&doc)))
    }

    /// The engagement's workpapers as a ZIP in a temporary file: (file name, file). It holds
    /// `index.html` and `index.csv` (every file with its SHA-256), the engagement, the
    /// request list, tests with every sampled item, findings, comments, the OSCAL exports,
    /// and the evidence given in answer to requests under `evidence/REQ-…/`.
    pub async fn workpapers(
        &self,
        caller: &Caller,
        key: &str,
    ) -> AppResult<(String, tempfile::NamedTempFile)> {
        let (org, e) = self.workspace_access(caller, key).await?;
        let ws = self.workspace(caller, key).await?;
        let doc = self.assessment_document(org, &e).await?;
        let detail = store_eng::subservices(&self.store, org, &e.id).await?;
        let cuecs = store_eng::cuecs(&self.store, org, &e.id).await?;
        let file = tempfile::NamedTempFile::new().map_err(internal)?;
        let mut z = Zip {
            w: zip::ZipWriter::new(file.reopen().map_err(internal)?),
            entries: Vec::new(),
        };
        let engagement = serde_json::json!({
            "engagement": e, "subservice_organisations": detail, "cuecs": cuecs,
            "scope": ws.controls, "sample_table": ws.sample_table, "auditors": ws.auditors,
        });
        z.add(
            "engagement.json",
            "The engagement, its scope, subservice organisations, CUECs and auditors",
            &serde_json::to_vec_pretty(&engagement).map_err(internal)?,
        )?;
        let requests: Vec<Vec<String>> = ws
            .requests
            .iter()
            .map(|r| {
                vec![
                    r.request.reference.clone(),
                    r.request.title.clone(),
                    r.control_ref.clone().unwrap_or_default(),
                    r.assignee.clone().unwrap_or_default(),
                    r.request.due_on.map(|d| d.to_string()).unwrap_or_default(),
                    r.request.status.clone(),
                    r.evidence
                        .iter()
                        .map(|(id, _)| id.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
            })
            .collect();
        z.add(
            "requests.csv",
            "The request list and its answers",
            &csv_bytes(
                &[
                    "ref", "title", "control", "assignee", "due_on", "status", "evidence",
                ],
                &requests,
            )?,
        )?;
        let mut tests = Vec::new();
        for t in &ws.tests {
            for item in &t.items {
                let r = t.outcome.get(item);
                tests.push(vec![
                    t.control_ref.clone(),
                    t.test.kind.clone(),
                    t.test.population.to_string(),
                    t.test.sample_size.to_string(),
                    t.test.seed.clone(),
                    t.test.algorithm.clone(),
                    item.to_string(),
                    r.map(|r| r.result.clone())
                        .unwrap_or_else(|| "untested".into()),
                    r.map(|r| r.note.clone()).unwrap_or_default(),
                ]);
            }
        }
        z.add(
            "tests.csv",
            "Control tests: every sampled item with its result",
            &csv_bytes(
                &[
                    "control",
                    "kind",
                    "population",
                    "sample_size",
                    "seed",
                    "algorithm",
                    "item",
                    "result",
                    "note",
                ],
                &tests,
            )?,
        )?;
        let findings: Vec<Vec<String>> = ws
            .findings
            .iter()
            .map(|f| {
                vec![
                    f.finding.reference.clone(),
                    f.finding.severity.clone(),
                    f.finding.title.clone(),
                    f.control_ref.clone().unwrap_or_default(),
                    f.nonconformity_ref.clone().unwrap_or_default(),
                    f.finding.description.clone(),
                    f.finding.response.clone(),
                ]
            })
            .collect();
        z.add(
            "findings.csv",
            "Findings and management's responses",
            &csv_bytes(
                &[
                    "ref",
                    "severity",
                    "title",
                    "control",
                    "nonconformity",
                    "description",
                    "response",
                ],
                &findings,
            )?,
        )?;
        let comments: Vec<Vec<String>> = ws
            .comments
            .iter()
            .map(|c| {
                vec![
                    c.created_at.to_rfc3339(),
                    c.author_name.clone(),
                    c.subject_kind.clone(),
                    c.subject_id.clone(),
                    c.body.clone(),
                ]
            })
            .collect();
        z.add(
            "comments.csv",
            "Comments",
            &csv_bytes(
                &["at", "author", "subject", "subject_id", "body"],
                &comments,
            )?,
        )?;
        z.add(
            "oscal/assessment-results.json",
            "OSCAL 1.2.1 assessment results",
            &serde_json::to_vec_pretty(&attest_report::assessment::assessment_results(&doc))
                .map_err(internal)?,
        )?;
        z.add(
            "oscal/poam.json",
            "OSCAL 1.2.1 plan of action and milestones",
            &serde_json::to_vec_pretty(&attest_report::assessment::poam(&doc)).map_err(internal)?,
        )?;
        self.add_answers(org, &ws, &mut z).await?;
        let index_csv = csv_bytes(
            &["path", "contents", "sha256", "size"],
            &z.entries
                .iter()
                .map(|x| {
                    vec![
                        x.path.clone(),
                        x.what.clone(),
                        x.sha256.clone(),
                        x.size.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        )?;
        let html = index_html(&ws, &z.entries);
        z.add("index.csv", "This index", &index_csv)?;
        z.w.start_file("index.html", SimpleFileOptions::default())
            .map_err(internal)?;
        z.w.write_all(html.as_bytes()).map_err(internal)?;
        z.w.finish().map_err(internal)?;
        self.export_event(caller, org, &e, "workpapers").await?;
        Ok((format!("{}-workpapers.zip", e.reference), file))
    }

    /// The evidence given in answer to requests, under `evidence/REQ-…/`: files as stored
    /// (checked against their SHA-256 as they stream), links and records as text.
    async fn add_answers(
        &self,
        org: OrgId,
        ws: &crate::workspace::Workspace,
        z: &mut Zip,
    ) -> AppResult<()> {
        let mut seen = std::collections::BTreeSet::new();
        for r in &ws.requests {
            for (id, _) in &r.evidence {
                let Some(ev) = attest_store::evidence::get(&self.store, org, id).await? else {
                    continue;
                };
                let dir = format!("evidence/{}", safe_name(&r.request.reference));
                let stem = format!("{}-{}", safe_name(&ev.id), safe_name(&ev.title));
                if !seen.insert((dir.clone(), stem.clone())) {
                    continue;
                }
                let what = format!("{} — {}", r.request.reference, ev.title);
                if ev.disposed_at.is_some() {
                    z.add(
                        &format!("{dir}/{stem}.disposed.txt"),
                        &what,
                        b"This evidence was disposed of; only its record remains.",
                    )?;
                } else if let Some(sha) = &ev.sha256 {
                    let name = format!(
                        "{dir}/{stem}-{}",
                        safe_name(ev.file_name.as_deref().unwrap_or("file"))
                    );
                    let hash: [u8; 32] = hex::decode(sha)
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| internal(format!("evidence {}: bad sha256", ev.id)))?;
                    let (size, mut stream) = self.blobs.get(org, &hash).await?;
                    z.w.start_file(name.as_str(), SimpleFileOptions::default())
                        .map_err(internal)?;
                    while let Some(chunk) = stream.next().await {
                        z.w.write_all(&chunk?).map_err(internal)?;
                    }
                    z.entries.push(Entry {
                        path: name,
                        what,
                        sha256: sha.clone(),
                        size,
                    });
                } else if let Some(url) = &ev.url {
                    z.add(&format!("{dir}/{stem}.url.txt"), &what, url.as_bytes())?;
                } else if let Some(rec) = &ev.record {
                    z.add(&format!("{dir}/{stem}.json"), &what, rec.as_bytes())?;
                }
            }
        }
        Ok(())
    }
}

fn index_html(ws: &crate::workspace::Workspace, entries: &[Entry]) -> String {
    let e = &ws.engagement;
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>{} workpapers</title><h1>{} — {}</h1>",
        esc(&e.reference),
        esc(&e.reference),
        esc(&e.title)
    ));
    h.push_str(&format!(
        "<p>{} · {} · period {} · status {}{} · exported {}</p>",
        esc(e.kind.label()),
        esc(&e.firm),
        esc(&e.period.range().to_string()),
        esc(e.status.label()),
        e.opinion
            .map(|o| format!(" · opinion {}", esc(o.label())))
            .unwrap_or_default(),
        esc(&Timestamp::now().to_rfc3339()),
    ));
    h.push_str(&format!(
        "<p>{} controls in scope · {} requests ({} accepted) · {} tests · {} findings</p>",
        ws.controls.len(),
        ws.requests.len(),
        ws.summary.accepted,
        ws.tests.len(),
        ws.findings.len()
    ));
    h.push_str("<h2>Files</h2><table><tr><th>File</th><th>Contents</th><th>SHA-256</th><th>Bytes</th></tr>");
    for x in entries {
        h.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&x.path),
            esc(&x.path),
            esc(&x.what),
            esc(&x.sha256),
            x.size
        ));
    }
    h.push_str("<tr><td>index.csv</td><td>This index as CSV</td><td></td><td></td></tr></table>");
    h.push_str("<h2>Findings</h2><ul>");
    for f in &ws.findings {
        h.push_str(&format!(
            "<li>{} ({}) {}{}</li>",
            esc(&f.finding.reference),
            esc(&f.finding.severity),
            esc(&f.finding.title),
            f.nonconformity_ref
                .as_deref()
                .map(|n| format!(" — {}", esc(n)))
                .unwrap_or_default()
        ));
    }
    h.push_str("</ul></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_zip_cannot_escape_or_hide() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name("접근 통제.pdf"), "접근_통제.pdf");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
