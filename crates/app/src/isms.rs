//! The ISMS scope and context (ISO/IEC 27001 clause 4: 4.1 issues, 4.2 interested parties,
//! 4.3 scope) as versioned documented information.

use attest_domain::Timestamp;
use attest_store::control as store_ctl;
use attest_store::isms as store_isms;
use serde::{Deserialize, Serialize};

use crate::audit_trail::{Event, record};
use crate::{App, AppError, AppResult, Caller, Permission};

/// An interested party and what it requires of the ISMS (4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestedParty {
    /// Who (customers, a regulator, staff).
    pub party: String,
    /// Their requirements relevant to information security.
    pub requirements: String,
}

/// The scope document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeDocument {
    /// The scope statement (4.3).
    pub statement: String,
    /// In-scope services (ids).
    pub services: Vec<String>,
    /// In-scope locations.
    pub locations: Vec<String>,
    /// Internal issues (4.1).
    pub internal_issues: Vec<String>,
    /// External issues (4.1).
    pub external_issues: Vec<String>,
    /// Interested parties (4.2).
    pub interested_parties: Vec<InterestedParty>,
}

/// A version in the history.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeVersionSummary {
    /// Its number.
    pub version: i64,
    /// What changed.
    pub note: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A version of the scope with its history.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeView {
    /// Its number (none before the first save).
    pub version: Option<i64>,
    /// The document.
    pub document: ScopeDocument,
    /// The in-scope services: (id, name).
    pub service_names: Vec<(String, String)>,
    /// The version's summary.
    pub summary: Option<ScopeVersionSummary>,
    /// Every version, newest first.
    pub history: Vec<ScopeVersionSummary>,
}

const ITEM_MAX: usize = 500;
const ITEMS_MAX: usize = 200;

fn items(field: &str, v: Vec<String>) -> AppResult<Vec<String>> {
    let v: Vec<String> = v
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if v.len() > ITEMS_MAX {
        return Err(AppError::invalid(
            field,
            format!("at most {ITEMS_MAX} entries"),
        ));
    }
    if let Some(long) = v.iter().find(|s| s.chars().count() > ITEM_MAX) {
        let start: String = long.chars().take(30).collect();
        return Err(AppError::invalid(
            field,
            format!("\"{start}…\" is longer than {ITEM_MAX} characters"),
        ));
    }
    Ok(v)
}

fn summary(v: &store_isms::ScopeVersion) -> ScopeVersionSummary {
    ScopeVersionSummary {
        version: v.version,
        note: v.note.clone(),
        created_by: v.created_by.clone(),
        created_at: v.created_at,
    }
}

impl App {
    /// The scope: the current version, or the one asked for.
    pub async fn isms_scope(&self, caller: &Caller, version: Option<i64>) -> AppResult<ScopeView> {
        let org = caller.require(Permission::ProgramRead)?;
        let found = store_isms::get(&self.store, org, version).await?;
        if version.is_some() && found.is_none() {
            return Err(AppError::NotFound("scope version"));
        }
        let document: ScopeDocument = match &found {
            Some(v) => serde_json::from_str(&v.document)
                .map_err(|e| AppError::Internal(format!("scope version {}: {e}", v.version)))?,
            None => ScopeDocument::default(),
        };
        let (_, services) = self.services(caller).await?;
        let service_names = document
            .services
            .iter()
            .map(|id| {
                let name = services.iter().find(|s| &s.id == id).map_or_else(
                    || "(a service since removed)".to_owned(),
                    |s| s.name.clone(),
                );
                (id.clone(), name)
            })
            .collect();
        Ok(ScopeView {
            version: found.as_ref().map(|v| v.version),
            summary: found.as_ref().map(summary),
            document,
            service_names,
            history: store_isms::history(&self.store, org)
                .await?
                .iter()
                .map(summary)
                .collect(),
        })
    }

    /// Saves the scope as a new version; refused when nothing changed.
    pub async fn save_isms_scope(
        &self,
        caller: &Caller,
        doc: ScopeDocument,
        note: &str,
    ) -> AppResult<i64> {
        let org = caller.require(Permission::IsmsManage)?;
        let statement = doc.statement.trim().to_owned();
        if statement.is_empty() || statement.chars().count() > 20_000 {
            return Err(AppError::invalid(
                "statement",
                "give a scope statement of 1 to 20,000 characters",
            ));
        }
        if note.chars().count() > 500 {
            return Err(AppError::invalid(
                "note",
                "the note is longer than 500 characters",
            ));
        }
        let mut services = items("services", doc.services)?;
        services.sort();
        services.dedup();
        let parties = doc
            .interested_parties
            .into_iter()
            .map(|p| InterestedParty {
                party: p.party.trim().to_owned(),
                requirements: p.requirements.trim().to_owned(),
            })
            .filter(|p| !p.party.is_empty() || !p.requirements.is_empty())
            .collect::<Vec<_>>();
        if parties.len() > ITEMS_MAX {
            return Err(AppError::invalid(
                "interested_parties",
                format!("at most {ITEMS_MAX} parties"),
            ));
        }
        if let Some(p) = parties.iter().find(|p| {
            p.party.is_empty()
                || p.party.chars().count() > 200
                || p.requirements.chars().count() > 2_000
        }) {
            return Err(AppError::invalid(
                "interested_parties",
                format!(
                    "each party needs a name of 1 to 200 characters and requirements of at most 2,000 (see \"{}\")",
                    p.party
                ),
            ));
        }
        let doc = ScopeDocument {
            statement,
            services,
            locations: items("locations", doc.locations)?,
            internal_issues: items("internal_issues", doc.internal_issues)?,
            external_issues: items("external_issues", doc.external_issues)?,
            interested_parties: parties,
        };
        let mut tx = self.store.begin().await?;
        if !store_ctl::services_exist(&mut tx, org, &doc.services).await? {
            return Err(AppError::invalid("services", "a service does not exist"));
        }
        if let Some(current) = store_isms::get(&self.store, org, None).await?
            && serde_json::from_str::<ScopeDocument>(&current.document)
                .ok()
                .as_ref()
                == Some(&doc)
        {
            return Err(AppError::Rule {
                rule: "no-change",
                message: format!("nothing changed since version {}", current.version),
            });
        }
        let json = serde_json::to_string(&doc).map_err(|e| AppError::Internal(e.to_string()))?;
        let version = store_isms::add_version(
            &mut tx,
            org,
            &json,
            note.trim(),
            &caller.actor_text(),
            Timestamp::now(),
        )
        .await
        .map_err(|e| match e {
            attest_store::StoreError::Unique { .. } => AppError::Conflict {
                field: "version".into(),
                message: "someone saved the scope at the same moment: reload and try again".into(),
            },
            other => other.into(),
        })?;
        record(
            &mut tx,
            caller,
            Event::org(org, "isms.scope", "isms_scope", version.to_string()).after(
                &serde_json::json!({"version": version, "document": doc, "note": note.trim()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}
