//! Frameworks: the built-in catalogs and an organisation's imported ones, which it uses,
//! search, import (all or nothing) and export.

use std::sync::Arc;

use attest_catalog::search::{Hit, SearchIndex};
use attest_catalog::{formats, oscal};
use attest_domain::framework::{Framework, Origin, Problem, valid_framework_id};
use attest_domain::{OrgId, Timestamp};
use attest_store::framework::{self as store_fw, CustomFramework};
use serde::Serialize;

use crate::audit_trail::{Event, record};
use crate::{App, AppError, AppResult, Caller, Permission};

/// A framework as listed.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Publisher.
    pub publisher: String,
    /// Description.
    pub description: String,
    /// Shipped with Attest (else imported by the organisation).
    pub built_in: bool,
    /// For a baseline: the catalog it selects from.
    pub profile_of: Option<String>,
    /// Requirements coverage is judged on.
    #[serde(rename = "requirement_count")]
    pub requirements: usize,
    /// Whether the organisation uses it.
    pub in_use: bool,
}

impl FrameworkSummary {
    /// The summary of a framework.
    pub fn of(f: &Framework, in_use: bool) -> Self {
        Self {
            id: f.id.clone(),
            name: f.name.clone(),
            version: f.version.clone(),
            publisher: f.publisher.clone(),
            description: f.description.clone(),
            built_in: f.origin == Origin::BuiltIn,
            profile_of: f.profile_of.clone(),
            requirements: f.assessable().count(),
            in_use,
        }
    }
}

/// A file to import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// Its name (the extension tells the format).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An exported framework.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub content_type: &'static str,
    /// A file name.
    pub filename: String,
}

/// Largest file accepted for import.
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// The catalog a framework's links are kept against: a baseline's links are its catalog's.
pub fn base_id(f: &Framework) -> &str {
    f.profile_of.as_deref().unwrap_or(&f.id)
}

fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').chars().take(60).collect::<String>();
    if out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out
    } else {
        format!("fw-{out}")
    }
}

impl App {
    /// Every framework the organisation can see: built-in and its own.
    pub(crate) async fn all_frameworks(&self, org: OrgId) -> AppResult<Vec<Arc<Framework>>> {
        let mut all: Vec<Arc<Framework>> = self.catalogs.frameworks().to_vec();
        all.extend(
            store_fw::customs(&self.store, org)
                .await?
                .into_iter()
                .map(|c| Arc::new(c.framework)),
        );
        Ok(all)
    }

    /// A framework the organisation can see.
    pub(crate) async fn find_framework(&self, org: OrgId, id: &str) -> AppResult<Arc<Framework>> {
        if let Some(f) = self.catalogs.framework(id) {
            return Ok(f.clone());
        }
        store_fw::customs(&self.store, org)
            .await?
            .into_iter()
            .find(|c| c.framework.id == id)
            .map(|c| Arc::new(c.framework))
            .ok_or(AppError::NotFound("framework"))
    }

    /// The frameworks the organisation uses.
    pub(crate) async fn frameworks_in_use(&self, org: OrgId) -> AppResult<Vec<Arc<Framework>>> {
        let ids = store_fw::in_use(&self.store, org).await?;
        let all = self.all_frameworks(org).await?;
        Ok(ids
            .iter()
            .filter_map(|id| all.iter().find(|f| &f.id == id).cloned())
            .collect())
    }

    /// Every framework, with whether the organisation uses it.
    pub async fn frameworks(&self, caller: &Caller) -> AppResult<Vec<FrameworkSummary>> {
        let org = caller.require(Permission::ProgramRead)?;
        let used = store_fw::in_use(&self.store, org).await?;
        Ok(self
            .all_frameworks(org)
            .await?
            .iter()
            .map(|f| FrameworkSummary::of(f, used.contains(&f.id)))
            .collect())
    }

    /// One framework with all its requirements.
    pub async fn framework(&self, caller: &Caller, id: &str) -> AppResult<(Arc<Framework>, bool)> {
        let org = caller.require(Permission::ProgramRead)?;
        let f = self.find_framework(org, id).await?;
        let used = store_fw::in_use(&self.store, org).await?.contains(&f.id);
        Ok((f, used))
    }

    /// Starts or stops using a framework.
    pub async fn set_framework_in_use(
        &self,
        caller: &Caller,
        id: &str,
        used: bool,
    ) -> AppResult<()> {
        let org = caller.require(Permission::FrameworkManage)?;
        let f = self.find_framework(org, id).await?;
        let mut tx = self.store.begin().await?;
        if store_fw::set_in_use(
            &mut tx,
            org,
            &f.id,
            used,
            &caller.actor_text(),
            Timestamp::now(),
        )
        .await?
        {
            let action = if used {
                "framework.use"
            } else {
                "framework.stop_using"
            };
            record(&mut tx, caller, Event::org(org, action, "framework", &f.id)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Requirements of every framework the organisation can see whose id starts with the
    /// query or whose words contain all of it.
    pub async fn search_requirements(
        &self,
        caller: &Caller,
        query: &str,
        limit: usize,
    ) -> AppResult<Vec<Hit>> {
        let org = caller.require(Permission::ProgramRead)?;
        let limit = limit.clamp(1, 200);
        let mut hits = self.catalogs.search().search(query, limit);
        let customs = store_fw::customs(&self.store, org).await?;
        if !customs.is_empty() && hits.len() < limit {
            let idx = SearchIndex::new(customs.iter().map(|c| &c.framework));
            hits.extend(idx.search(query, limit - hits.len()));
        }
        Ok(hits)
    }

    /// Imports frameworks from files, all or nothing: OSCAL catalogs (`.json`), OSCAL profiles
    /// (`.json`, resolved against a catalog given in the same import or a built-in one),
    /// Attest YAML (`.yaml`), CSV and XLSX. Every problem of every file is reported.
    pub async fn import_frameworks(
        &self,
        caller: &Caller,
        files: Vec<ImportFile>,
    ) -> AppResult<Vec<FrameworkSummary>> {
        let org = caller.require(Permission::FrameworkManage)?;
        if files.is_empty() {
            return Err(AppError::invalid("files", "give at least one file"));
        }
        let existing: Vec<String> = self
            .all_frameworks(org)
            .await?
            .iter()
            .map(|f| f.id.clone())
            .collect();
        let mut problems: Vec<Problem> = Vec::new();
        let mut parsed: Vec<(Framework, Option<String>, String)> = Vec::new();
        // Catalogs first, so that profiles in the same import can resolve against them.
        let mut catalogs: Vec<(String, serde_json::Value)> = Vec::new();
        let mut profiles: Vec<&ImportFile> = Vec::new();
        for f in &files {
            let at = |p: Problem| Problem::new(format!("{}: {}", f.name, p.at), p.message);
            if f.bytes.len() > IMPORT_LIMIT {
                problems.push(Problem::new(
                    &f.name,
                    format!("larger than the {} MiB import limit", IMPORT_LIMIT >> 20),
                ));
                continue;
            }
            let ext = f
                .name
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default();
            let stem = f
                .name
                .rsplit('/')
                .next()
                .unwrap_or(&f.name)
                .rsplit_once('.')
                .map_or(f.name.as_str(), |(s, _)| s);
            let imported = |format: &str| Origin::Imported {
                format: format.into(),
            };
            match ext.as_str() {
                "json" => {
                    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&f.bytes) else {
                        problems.push(Problem::new(&f.name, "not valid JSON"));
                        continue;
                    };
                    if v.get("profile").is_some() {
                        profiles.push(f);
                        continue;
                    }
                    match oscal::parse_catalog(&f.bytes, &slug(stem), imported("oscal")) {
                        Ok(c) => {
                            catalogs.push((f.name.clone(), c.document.clone()));
                            parsed.push((
                                c.framework,
                                Some(String::from_utf8_lossy(&f.bytes).into_owned()),
                                "oscal".into(),
                            ));
                        }
                        Err(ps) => problems.extend(ps.into_iter().map(at)),
                    }
                }
                "yaml" | "yml" => match formats::parse_framework_yaml(
                    &String::from_utf8_lossy(&f.bytes),
                    imported("yaml"),
                ) {
                    Ok(fw) => parsed.push((fw, None, "yaml".into())),
                    Err(ps) => problems.extend(ps.into_iter().map(at)),
                },
                "csv" => match formats::parse_framework_csv(
                    &String::from_utf8_lossy(&f.bytes),
                    imported("csv"),
                ) {
                    Ok(fw) => parsed.push((fw, None, "csv".into())),
                    Err(ps) => problems.extend(ps.into_iter().map(at)),
                },
                "xlsx" => match formats::parse_framework_xlsx(&f.bytes, imported("xlsx")) {
                    Ok(fw) => parsed.push((fw, None, "xlsx".into())),
                    Err(ps) => problems.extend(ps.into_iter().map(at)),
                },
                _ => problems.push(Problem::new(
                    &f.name,
                    "unknown format: give an OSCAL .json, .yaml, .csv or .xlsx file",
                )),
            }
        }
        for f in profiles {
            let at = |p: Problem| Problem::new(format!("{}: {}", f.name, p.at), p.message);
            let stem = f
                .name
                .rsplit('/')
                .next()
                .unwrap_or(&f.name)
                .rsplit_once('.')
                .map_or(f.name.as_str(), |(s, _)| s);
            let builtin_sp = self
                .catalogs
                .oscal_document(attest_catalog::registry::SP800_53_ID);
            let resolved = oscal::resolve_profile(&f.bytes, &|href: &str| {
                let file = href.rsplit('/').next().unwrap_or(href);
                catalogs
                    .iter()
                    .find(|(name, _)| name.rsplit('/').next() == Some(file))
                    .map(|(_, d)| d.clone())
                    .or_else(|| {
                        (file.starts_with("NIST_SP-800-53_rev5_catalog"))
                            .then(|| builtin_sp.clone())
                            .flatten()
                    })
            });
            match resolved {
                Ok(doc) => {
                    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
                    match oscal::parse_catalog(
                        &bytes,
                        &slug(stem),
                        Origin::Imported {
                            format: "oscal-profile".into(),
                        },
                    ) {
                        Ok(c) => parsed.push((
                            c.framework,
                            Some(String::from_utf8_lossy(&bytes).into_owned()),
                            "oscal-profile".into(),
                        )),
                        Err(ps) => problems.extend(ps.into_iter().map(at)),
                    }
                }
                Err(ps) => problems.extend(ps.into_iter().map(at)),
            }
        }
        for (i, (fw, _, _)) in parsed.iter().enumerate() {
            if !valid_framework_id(&fw.id) {
                problems.push(Problem::new(&fw.id, "not a valid framework id"));
            }
            if existing.contains(&fw.id) || parsed[..i].iter().any(|(o, _, _)| o.id == fw.id) {
                problems.push(Problem::new(
                    &fw.id,
                    format!(
                        "a framework with the id `{}` already exists: give this one another id",
                        fw.id
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Rejected {
                message: format!(
                    "nothing was imported: {} problem{} found",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                ),
                problems,
            });
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let mut out = Vec::new();
        for (fw, oscal_doc, format) in parsed {
            let c = CustomFramework {
                framework: fw,
                oscal: oscal_doc,
                created_by: caller.actor_text(),
                created_at: now,
            };
            store_fw::insert_custom(&mut tx, org, &c, &format).await?;
            record(
                &mut tx,
                caller,
                Event::org(org, "framework.import", "framework", &c.framework.id).after(
                    &serde_json::json!({
                        "name": c.framework.name, "version": c.framework.version, "format": format,
                        "requirements": c.framework.requirements.len(),
                    }),
                ),
            )
            .await?;
            out.push(FrameworkSummary::of(&c.framework, false));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Exports a framework as OSCAL (a baseline as its resolved catalog; a catalog imported
    /// from OSCAL exactly as it came), CSV, XLSX or YAML.
    pub async fn export_framework(
        &self,
        caller: &Caller,
        id: &str,
        format: &str,
    ) -> AppResult<Exported> {
        let org = caller.require(Permission::ProgramRead)?;
        let f = self.find_framework(org, id).await?;
        let name = |ext: &str| format!("{}.{ext}", f.id);
        Ok(match format {
            "oscal" | "json" => {
                let doc = match self.catalogs.oscal_document(&f.id) {
                    Some(d) => d,
                    None => {
                        let stored = store_fw::customs(&self.store, org)
                            .await?
                            .into_iter()
                            .find(|c| c.framework.id == f.id)
                            .and_then(|c| c.oscal);
                        match stored.and_then(|s| serde_json::from_str(&s).ok()) {
                            Some(d) => d,
                            None => oscal::export_catalog(&f),
                        }
                    }
                };
                Exported {
                    bytes: serde_json::to_vec_pretty(&doc)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    content_type: "application/oscal.catalog+json",
                    filename: name("oscal.json"),
                }
            }
            "csv" => Exported {
                bytes: formats::export_csv(&f).into_bytes(),
                content_type: "text/csv; charset=utf-8",
                filename: name("csv"),
            },
            "xlsx" => Exported {
                bytes: formats::export_xlsx(&f).map_err(AppError::Internal)?,
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                filename: name("xlsx"),
            },
            "yaml" => Exported {
                bytes: formats::framework_to_yaml(&f).into_bytes(),
                content_type: "application/yaml",
                filename: name("yaml"),
            },
            other => {
                return Err(AppError::invalid(
                    "format",
                    format!("unknown format `{other}`: use oscal, csv, xlsx or yaml"),
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_framework_ids() {
        for s in [
            "My Catalog 2.0",
            "42",
            "NIST_SP-800-53_rev5_MODERATE-baseline_profile",
            "ÄÖ",
        ] {
            assert!(valid_framework_id(&slug(s)), "{s} → {}", slug(s));
        }
    }
}
