//! The documents an engagement issues: the report of a SOC examination, the certificate, the
//! Statement of Applicability and the assessment report of an ISO audit. They are files the
//! auditor hands over (PDF), stored in the blob store under their SHA-256, never changed:
//! a corrected document is added and the old one withdrawn. The trust portal serves them.

use attest_domain::Timestamp;
use attest_domain::engagement::EngagementKind;
use attest_store::workspace::{self as store_ws, Document};
use bytes::Bytes;
use futures::Stream;

use crate::audit_trail::{Event, record};
use crate::risk::text;
use crate::{App, AppError, AppResult, Caller, Permission};

/// The kinds of document an engagement of this kind issues: a SOC 1 or SOC 2 report may be
/// followed by bridge letters (signed by management, uploaded, or typeset by Attest from a
/// letter written here); a penetration test issues its summary.
pub fn document_kinds(kind: EngagementKind) -> &'static [&'static str] {
    match kind {
        EngagementKind::Soc3 => &["report"],
        k if k.is_soc() => &["report", "bridge-letter"],
        EngagementKind::Internal => &["assessment-report"],
        EngagementKind::Pentest => &["pentest-summary"],
        _ => &["certificate", "soa", "assessment-report"],
    }
}

impl App {
    /// Adds a document an engagement issues (a PDF), while the engagement is not withdrawn.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_document<S, E>(
        &self,
        caller: &Caller,
        key: &str,
        kind: &str,
        title: &str,
        language: &str,
        file_name: &str,
        body: S,
    ) -> AppResult<Document>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let org = caller.require(Permission::EngagementManage)?;
        let e = self.find_engagement(org, key).await?;
        self.store_document(caller, &e, kind, title, language, file_name, body, None)
            .await
    }

    /// Typesets a bridge letter and adds it as a `bridge-letter` document of its report, to
    /// be published on the portal like the report (restricted). One live document per letter.
    pub async fn bridge_letter_document(
        &self,
        caller: &Caller,
        letter_id: &str,
    ) -> AppResult<Document> {
        let org = caller.require(Permission::EngagementManage)?;
        let letter = attest_store::engagement::letters(&self.store, org)
            .await?
            .into_iter()
            .find(|b| b.id == letter_id)
            .ok_or(AppError::NotFound("bridge letter"))?;
        let e = self.find_engagement(org, &letter.engagement_id).await?;
        if let Some(d) = store_ws::documents(&self.store, org, Some(&e.id))
            .await?
            .into_iter()
            .find(|d| d.letter_id.as_deref() == Some(letter_id) && d.withdrawn_at.is_none())
        {
            return Err(already_issued(&d));
        }
        let (file_name, bytes) = self.bridge_letter_pdf(caller, letter_id).await?;
        let title = if letter.language == "ko" {
            format!("브리지 레터 {} ~ {}", letter.starts_on, letter.ends_on)
        } else {
            format!("Bridge letter {} to {}", letter.starts_on, letter.ends_on)
        };
        let body = futures::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(bytes))]);
        self.store_document(
            caller,
            &e,
            "bridge-letter",
            &title,
            &letter.language,
            &file_name,
            body,
            Some(letter.id.clone()),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_document<S, E>(
        &self,
        caller: &Caller,
        e: &attest_store::engagement::Engagement,
        kind: &str,
        title: &str,
        language: &str,
        file_name: &str,
        body: S,
        letter_id: Option<String>,
    ) -> AppResult<Document>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let org = caller.require(Permission::EngagementManage)?;
        let allowed = document_kinds(e.kind);
        if !allowed.contains(&kind) {
            return Err(AppError::invalid(
                "kind",
                format!(
                    "a {} issues {}, not `{kind}`",
                    e.kind.label(),
                    allowed.join(", ")
                ),
            ));
        }
        let title = text("title", title, 300, true)?;
        if !matches!(language, "en" | "ko") {
            return Err(AppError::invalid(
                "language",
                format!("unknown language `{language}` (expected en or ko)"),
            ));
        }
        if e.status == attest_domain::engagement::EngagementStatus::Withdrawn {
            return Err(AppError::Rule {
                rule: "engagement-closed",
                message: format!("{} was withdrawn: it issues nothing", e.reference),
            });
        }
        let stored = self
            .blobs
            .put_stream(org, body, self.config.upload_limit, None)
            .await?;
        let content_type = crate::evidence::sniff(&stored.head);
        let sha = hex::encode(stored.sha256);
        if content_type != "application/pdf" {
            if !stored.deduplicated {
                // Nothing refers to these bytes: they leave with the refusal.
                let _ = self.blobs.delete(org, &stored.sha256).await;
            }
            return Err(AppError::invalid(
                "file",
                format!("a {kind} is a PDF; this file is {content_type}"),
            ));
        }
        // A restricted document is stamped for each customer who takes it: a PDF that cannot
        // be (encrypted, unreadable) is refused now rather than at a customer's download.
        if let Err(e) = self.check_stampable(org, &stored.sha256).await {
            if !stored.deduplicated {
                let _ = self.blobs.delete(org, &stored.sha256).await;
            }
            return Err(e);
        }
        let now = Timestamp::now();
        let d = Document {
            id: uuid::Uuid::now_v7().to_string(),
            engagement_id: e.id.clone(),
            kind: kind.to_owned(),
            title,
            language: language.to_owned(),
            sha256: sha.clone(),
            size: stored.size as i64,
            content_type: content_type.clone(),
            file_name: attest_domain::evidence::sanitise_file_name(file_name),
            uploaded_by: caller.actor_text(),
            created_at: now,
            withdrawn_at: None,
            published_at: None,
            letter_id,
        };
        let mut tx = self.store.begin().await?;
        attest_store::evidence::put_blob(&mut tx, org, &sha, d.size, &content_type, now).await?;
        if let Err(err) = store_ws::insert_document(&mut tx, org, &d).await {
            // Two requests issuing the same letter at once: the database keeps one.
            return Err(match (err, &d.letter_id) {
                (attest_store::StoreError::Unique { .. }, Some(_)) => AppError::Conflict {
                    field: "letter".into(),
                    message: "this bridge letter was issued as a document at the same moment"
                        .into(),
                },
                (other, _) => other.into(),
            });
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.document", "engagement", &e.id).after(&d),
        )
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Withdraws a document (it stays on record; the portal stops offering it).
    pub async fn withdraw_document(&self, caller: &Caller, key: &str, id: &str) -> AppResult<()> {
        let org = caller.require(Permission::EngagementManage)?;
        let e = self.find_engagement(org, key).await?;
        let doc = store_ws::documents(&self.store, org, Some(&e.id))
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(AppError::NotFound("document"))?;
        let mut tx = self.store.begin().await?;
        if !store_ws::withdraw_document(&mut tx, org, id, Timestamp::now()).await? {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "this document was already withdrawn".into(),
            });
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "engagement.document_withdraw", "engagement", &e.id).before(&doc),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The documents of an engagement, oldest first.
    pub async fn documents(&self, caller: &Caller, key: &str) -> AppResult<Vec<Document>> {
        let org = caller.require(Permission::ProgramRead)?;
        let e = self.find_engagement(org, key).await?;
        Ok(store_ws::documents(&self.store, org, Some(&e.id)).await?)
    }

    /// A document's file for staff: (file name, content type, size, stream).
    pub async fn document_file(
        &self,
        caller: &Caller,
        key: &str,
        id: &str,
    ) -> AppResult<crate::evidence::FileStream> {
        let org = caller.require(Permission::ProgramRead)?;
        let e = self.find_engagement(org, key).await?;
        let d = store_ws::documents(&self.store, org, Some(&e.id))
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(AppError::NotFound("document"))?;
        self.document_bytes(org, d).await
    }

    /// Whether the stored PDF can be read and stamped.
    async fn check_stampable(&self, org: attest_domain::OrgId, hash: &[u8; 32]) -> AppResult<()> {
        use futures::TryStreamExt;
        let (_, stream) = self.blobs.get(org, hash).await?;
        let bytes: Vec<u8> = stream
            .map_ok(|b| b.to_vec())
            .try_concat()
            .await
            .map_err(|e| AppError::Internal(format!("reading the upload back: {e}")))?;
        tokio::task::spawn_blocking(move || attest_report::stamp::check(&bytes))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map(|_| ())
            .map_err(|e| AppError::invalid("file", e.to_string()))
    }

    /// The bytes of a stored document, checked against its SHA-256 as they stream.
    pub(crate) async fn document_bytes(
        &self,
        org: attest_domain::OrgId,
        d: Document,
    ) -> AppResult<crate::evidence::FileStream> {
        let hash: [u8; 32] = hex::decode(&d.sha256)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| AppError::Internal(format!("document {}: bad sha256", d.id)))?;
        let (size, stream) = self.blobs.get(org, &hash).await?;
        Ok((d.file_name, d.content_type, size, stream))
    }
}

fn already_issued(d: &Document) -> AppError {
    AppError::Conflict {
        field: "letter".into(),
        message: format!(
            "this bridge letter is already document {} (“{}”): withdraw it first to issue it again",
            d.id, d.title
        ),
    }
}
