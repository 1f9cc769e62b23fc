//! Backups: one portable archive of everything (every table's rows and every evidence blob),
//! taken from a consistent snapshot while the server runs, and restorable into an empty
//! database of either backend. This is also how an installation moves from SQLite to
//! PostgreSQL.
//!
//! The archive is a tar file: `attest-backup/tables/NN-<table>.jsonl` (a header line with
//! the columns, then one JSON array per row), `attest-backup/blobs/<org>/<sha256>`, and
//! `attest-backup/manifest.json` last, with the counts a restore checks.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use attest_domain::Timestamp;
use attest_domain::audit::parse_hash;
use attest_store::Store;
use attest_store::backup::{self as store_backup, ColumnSpec, TABLES};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use crate::{App, AppError, AppResult};

const ROOT: &str = "attest-backup";
const FORMAT: &str = "attest-backup";
const FORMAT_VERSION: u32 = 1;

/// What an archive holds, written last into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `attest-backup`.
    pub format: String,
    /// Archive format version.
    pub format_version: u32,
    /// The schema (latest migration) the rows match.
    pub schema_version: i64,
    /// The backend it was taken from.
    pub source_backend: String,
    /// When the snapshot was taken.
    pub created_at: Timestamp,
    /// Rows per table.
    pub tables: Vec<TableCount>,
    /// Number of blobs.
    pub blobs: u64,
    /// Bytes of blobs.
    pub blob_bytes: u64,
}

/// Rows of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCount {
    /// Table.
    pub table: String,
    /// Rows.
    pub rows: u64,
}

#[derive(Serialize, Deserialize)]
struct TableHeader {
    table: String,
    columns: Vec<ColumnSpec>,
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("backup file: {e}"))
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::invalid("archive", msg)
}

fn append_file(
    builder: &mut tar::Builder<BufWriter<File>>,
    name: &str,
    file: &mut File,
) -> AppResult<()> {
    use std::io::Seek;
    file.flush().map_err(io)?;
    file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    builder.append_file(name, file).map_err(io)
}

impl App {
    /// Writes a backup archive to `path` (the `attest backup` command).
    pub async fn backup_to(&self, path: &Path) -> AppResult<Manifest> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let out = File::create(path).map_err(|e| {
            AppError::invalid("file", format!("cannot create {}: {e}", path.display()))
        })?;
        let mut builder = tar::Builder::new(BufWriter::new(out));
        let mut snapshot = self.store.begin_snapshot().await?;
        let created_at = Timestamp::now();
        let mut counts = Vec::new();
        let mut blob_keys: Vec<(String, String)> = Vec::new();
        for (i, table) in TABLES.iter().filter(|t| t.backed_up).enumerate() {
            let mut tmp = tempfile_in(dir)?;
            let mut w = BufWriter::new(&mut tmp);
            let mut wrote_header = false;
            let is_blobs = table.name == "blobs";
            let rows = store_backup::dump_table(&mut snapshot, table, |cols, row| {
                let line =
                    |w: &mut BufWriter<&mut File>, v: String| -> Result<(), std::io::Error> {
                        w.write_all(v.as_bytes())?;
                        w.write_all(b"\n")
                    };
                if !wrote_header {
                    let h = TableHeader {
                        table: table.name.to_owned(),
                        columns: cols.to_vec(),
                    };
                    line(&mut w, serde_json::to_string(&h).unwrap_or_default())
                        .map_err(|e| attest_store::StoreError::Archive(e.to_string()))?;
                    wrote_header = true;
                }
                if is_blobs {
                    let get = |name: &str| -> String {
                        cols.iter()
                            .position(|c| c.name == name)
                            .and_then(|p| row.get(p))
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    blob_keys.push((get("org_id"), get("sha256")));
                }
                line(&mut w, serde_json::Value::Array(row).to_string())
                    .map_err(|e| attest_store::StoreError::Archive(e.to_string()))
            })
            .await?;
            w.flush().map_err(io)?;
            drop(w);
            append_file(
                &mut builder,
                &format!("{ROOT}/tables/{i:02}-{}.jsonl", table.name),
                &mut tmp,
            )?;
            counts.push(TableCount {
                table: table.name.to_owned(),
                rows,
            });
        }
        snapshot.rollback().await?;
        let mut blob_bytes = 0;
        for (org, sha) in &blob_keys {
            let (Ok(org_id), Some(hash)) = (org.parse(), parse_hash(sha)) else {
                return Err(AppError::Internal(format!(
                    "malformed blob row {org}/{sha}"
                )));
            };
            let (_, mut stream) = self.blobs.get(org_id, &hash).await.map_err(|e| {
                AppError::Internal(format!(
                    "blob {org}/{sha} is listed but cannot be read: {e} (run `attest verify`)"
                ))
            })?;
            let mut tmp = tempfile_in(dir)?;
            {
                let mut w = BufWriter::new(&mut tmp);
                while let Some(chunk) = stream.try_next().await? {
                    w.write_all(&chunk).map_err(io)?;
                    blob_bytes += chunk.len() as u64;
                }
                w.flush().map_err(io)?;
            }
            append_file(&mut builder, &format!("{ROOT}/blobs/{org}/{sha}"), &mut tmp)?;
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            schema_version: Store::schema_version(),
            source_backend: self.store.backend().name().into(),
            created_at,
            tables: counts,
            blobs: blob_keys.len() as u64,
            blob_bytes,
        };
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(u64::try_from(created_at.as_micros() / 1_000_000).unwrap_or(0));
        header.set_cksum();
        builder
            .append_data(
                &mut header,
                format!("{ROOT}/manifest.json"),
                json.as_slice(),
            )
            .map_err(io)?;
        builder.into_inner().map_err(io)?.flush().map_err(io)?;
        Ok(manifest)
    }

    /// Restores an archive into this (empty, migrated) database and blob store, all or
    /// nothing for the rows. Returns the archive's manifest.
    pub async fn restore_from(&self, path: &Path) -> AppResult<Manifest> {
        if !store_backup::is_empty(&self.store).await? {
            return Err(AppError::Rule {
                rule: "restore-into-empty",
                message:
                    "the target database already holds data: restore into a new, empty database"
                        .into(),
            });
        }
        let file = File::open(path).map_err(|e| {
            AppError::invalid("file", format!("cannot open {}: {e}", path.display()))
        })?;
        let mut archive = tar::Archive::new(BufReader::new(file));
        let mut tx = self.store.begin().await?;
        store_backup::clear_seed_rows(&mut tx).await?;
        let mut counts: Vec<TableCount> = Vec::new();
        let mut blobs = 0u64;
        let mut blob_bytes = 0u64;
        let mut manifest: Option<Manifest> = None;
        let entries = archive
            .entries()
            .map_err(|e| bad(format!("not a tar archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(format!("damaged archive: {e}")))?;
            let name = entry
                .path()
                .map_err(|e| bad(e.to_string()))?
                .to_string_lossy()
                .into_owned();
            let Some(rel) = name.strip_prefix(&format!("{ROOT}/")) else {
                return Err(bad(format!(
                    "unexpected entry {name}: not an Attest backup"
                )));
            };
            if manifest.is_some() {
                return Err(bad(format!("entry {name} follows the manifest")));
            }
            if let Some(table_file) = rel.strip_prefix("tables/") {
                let rows = restore_table(&mut tx, table_file, &mut entry).await?;
                counts.push(rows);
            } else if let Some(blob) = rel.strip_prefix("blobs/") {
                let (org, sha) = blob
                    .split_once('/')
                    .ok_or_else(|| bad(format!("malformed blob entry {name}")))?;
                let (Ok(org_id), Some(hash)) = (org.parse(), parse_hash(sha)) else {
                    return Err(bad(format!("malformed blob entry {name}")));
                };
                let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| bad(format!("{name}: {e}")))?;
                blob_bytes += bytes.len() as u64;
                self.blobs
                    .put_verified(org_id, hash, bytes.into())
                    .await
                    .map_err(|e| bad(format!("{name}: {e}")))?;
                blobs += 1;
            } else if rel == "manifest.json" {
                let mut text = String::new();
                entry
                    .read_to_string(&mut text)
                    .map_err(|e| bad(e.to_string()))?;
                let m: Manifest =
                    serde_json::from_str(&text).map_err(|e| bad(format!("manifest: {e}")))?;
                manifest = Some(m);
            } else {
                return Err(bad(format!("unexpected entry {name}")));
            }
        }
        let m = manifest.ok_or_else(|| {
            bad("the archive has no manifest: it is incomplete (was the backup interrupted?)")
        })?;
        if m.format != FORMAT || m.format_version != FORMAT_VERSION {
            return Err(bad(format!(
                "unsupported archive format {} version {}",
                m.format, m.format_version
            )));
        }
        if m.schema_version != Store::schema_version() {
            return Err(bad(format!(
                "the archive holds schema version {}, this Attest uses {}: restore with the Attest version that made it, then upgrade",
                m.schema_version,
                Store::schema_version()
            )));
        }
        if m.tables != counts || m.blobs != blobs || m.blob_bytes != blob_bytes {
            return Err(bad(
                "the archive's contents do not match its manifest: it is damaged",
            ));
        }
        tx.commit().await?;
        Ok(m)
    }
}

async fn restore_table(
    tx: &mut attest_store::Tx,
    file_name: &str,
    entry: &mut impl Read,
) -> AppResult<TableCount> {
    let mut lines = BufReader::new(entry).lines();
    let header: TableHeader = match lines.next() {
        Some(Ok(l)) => {
            serde_json::from_str(&l).map_err(|e| bad(format!("{file_name}, line 1: {e}")))?
        }
        Some(Err(e)) => return Err(bad(format!("{file_name}: {e}"))),
        // An empty table has no header and no rows.
        None => {
            let table = file_name
                .trim_end_matches(".jsonl")
                .split_once('-')
                .map(|(_, t)| t)
                .unwrap_or(file_name);
            return Ok(TableCount {
                table: table.to_owned(),
                rows: 0,
            });
        }
    };
    let mut batch: Vec<Vec<serde_json::Value>> = Vec::with_capacity(1000);
    let mut rows = 0u64;
    for (i, line) in lines.enumerate() {
        let line = line.map_err(|e| bad(format!("{file_name}: {e}")))?;
        let row: Vec<serde_json::Value> = serde_json::from_str(&line)
            .map_err(|e| bad(format!("{file_name}, line {}: {e}", i + 2)))?;
        batch.push(row);
        rows += 1;
        if batch.len() == 1000 {
            store_backup::insert_rows(tx, &header.table, &header.columns, &batch).await?;
            batch.clear();
        }
    }
    store_backup::insert_rows(tx, &header.table, &header.columns, &batch).await?;
    Ok(TableCount {
        table: header.table,
        rows,
    })
}

fn tempfile_in(dir: &Path) -> AppResult<File> {
    let path = dir.join(format!(
        ".attest-backup-{}.tmp",
        uuid::Uuid::now_v7().simple()
    ));
    let f = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    // Unlinked at once: the open handle keeps the data until it is copied into the archive.
    std::fs::remove_file(&path).map_err(io)?;
    Ok(f)
}
