//! `attest portal verify`: a customer checks that a document they hold is authentic and
//! current, against the organisation's signed manifest (fetched over https or read from a
//! file). Nothing here needs a database.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use attest_domain::manifest::{SignedManifest, find, verify as verify_signature};
use sha2::{Digest, Sha256};

/// The largest manifest read (a list of documents, not a document).
const MANIFEST_MAX: u64 = 4 * 1024 * 1024;

async fn load(source: &str) -> anyhow::Result<SignedManifest> {
    let local = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
    ];
    if source.starts_with("http://") && !local.iter().any(|l| source.starts_with(l)) {
        anyhow::bail!(
            "--manifest: fetch it over https (plain http is accepted only from this machine)"
        );
    }
    let bytes = if source.starts_with("https://") || source.starts_with("http://") {
        let resp = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?
            .get(source)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("--manifest: cannot fetch {source}: {e}"))?;
        if !resp.status().is_success() {
            anyhow::bail!("--manifest: {source} answered {}", resp.status());
        }
        if resp.content_length().is_some_and(|n| n > MANIFEST_MAX) {
            anyhow::bail!("--manifest: {source} is larger than 4 MiB: not a manifest");
        }
        let b = resp.bytes().await?;
        if b.len() as u64 > MANIFEST_MAX {
            anyhow::bail!("--manifest: {source} is larger than 4 MiB: not a manifest");
        }
        b.to_vec()
    } else {
        let mut b = Vec::new();
        std::fs::File::open(source)
            .map_err(|e| anyhow::anyhow!("--manifest: {source}: {e}"))?
            .take(MANIFEST_MAX + 1)
            .read_to_end(&mut b)?;
        if b.len() as u64 > MANIFEST_MAX {
            anyhow::bail!("--manifest: {source} is larger than 4 MiB: not a manifest");
        }
        b
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("--manifest: not a signed manifest: {e}"))
}

fn sha256_of(file: &Path) -> anyhow::Result<String> {
    let mut f =
        std::fs::File::open(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Runs `attest portal verify`.
pub async fn verify(file: &Path, manifest: &str, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let sha = sha256_of(file)?;
    let signed = load(manifest).await?;
    let m = match verify_signature(&signed, key, time::OffsetDateTime::now_utc()) {
        Ok(m) => m,
        Err(why) => {
            eprintln!("NOT VERIFIED: {why}");
            return Ok(ExitCode::FAILURE);
        }
    };
    match find(m, &sha) {
        Some(d) => {
            println!("VERIFIED: {} is \"{}\"", file.display(), d.title);
            println!("  {} · {}", m.organisation, d.subject);
            println!(
                "  listed as current in the manifest of {} made {}",
                m.portal, m.issued_at
            );
            println!("  SHA-256 {sha}");
            if key.is_none() {
                // Anyone can sign a manifest with a key of their own: without the
                // organisation's key this proves nothing yet (exit code 2).
                eprintln!(
                    "  KEY NOT CHECKED: signed by {}; compare it with the key the organisation gave you, or pass it with --key",
                    signed.public_key
                );
                return Ok(ExitCode::from(2));
            }
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "NOT CURRENT: {} (SHA-256 {sha}) is not among the current documents of {} (manifest made {}): it was altered, superseded or withdrawn, or belongs to another offering",
                file.display(),
                m.portal,
                m.issued_at
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
