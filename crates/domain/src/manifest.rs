//! The trust portal's signed manifest: per offering, the list of current documents with their
//! SHA-256, signed with the organisation's Ed25519 key, so a customer can check that a report
//! they hold is authentic and current. The signature covers the manifest's canonical JSON
//! (keys sorted, no insignificant whitespace), the same form the audit trail hashes.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::audit::canonical_json;

/// The manifest format's name and version.
pub const FORMAT: &str = "attest-portal-manifest/1";

/// One current document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestDocument {
    /// Its id on the portal.
    pub id: String,
    /// Title.
    pub title: String,
    /// `report`, `bridge-letter`, `certificate`, `soa`, `assessment-report` or
    /// `pentest-summary`.
    pub kind: String,
    /// Its language.
    pub language: String,
    /// SHA-256 of the file (hex).
    pub sha256: String,
    /// Downloadable without an account.
    pub public: bool,
    /// What it attests: "SOC 2 Type 2 · 2025-10-01 – 2026-09-30" or a certificate line.
    pub subject: String,
}

/// The list of an offering's current documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The organisation.
    pub organisation: String,
    /// The offering's page.
    pub portal: String,
    /// The offering's key.
    pub offering: String,
    /// When the list was made (RFC 3339).
    pub issued_at: String,
    /// Until when it may be relied on (RFC 3339): a customer fetches a fresh one after.
    pub valid_until: String,
    /// The current documents.
    pub documents: Vec<ManifestDocument>,
}

/// A manifest with its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedManifest {
    /// The manifest.
    pub manifest: Manifest,
    /// The Ed25519 public key (hex) that signed it.
    pub public_key: String,
    /// The signature of the manifest's canonical JSON (hex).
    pub signature: String,
}

/// Signs a manifest with a secret key.
pub fn sign(manifest: Manifest, secret: &[u8; 32]) -> SignedManifest {
    let key = SigningKey::from_bytes(secret);
    let signature = key.sign(canonical_json(&manifest).as_bytes());
    SignedManifest {
        public_key: hex::encode(key.verifying_key().to_bytes()),
        signature: hex::encode(signature.to_bytes()),
        manifest,
    }
}

/// The public key (hex) of a secret key.
pub fn public_key(secret: &[u8; 32]) -> String {
    hex::encode(SigningKey::from_bytes(secret).verifying_key().to_bytes())
}

fn bytes<const N: usize>(what: &str, hex_text: &str) -> Result<[u8; N], String> {
    hex::decode(hex_text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("the {what} is not {N} bytes of hex"))
}

/// Checks the signature (and, when given, that the key is the one the customer trusts) and
/// that the manifest is still valid at `now`.
pub fn verify<'a>(
    signed: &'a SignedManifest,
    pinned: Option<&str>,
    now: time::OffsetDateTime,
) -> Result<&'a Manifest, String> {
    if signed.manifest.format != FORMAT {
        return Err(format!(
            "unknown manifest format `{}` (expected {FORMAT})",
            signed.manifest.format
        ));
    }
    if let Some(p) = pinned
        && !p.trim().eq_ignore_ascii_case(&signed.public_key)
    {
        return Err("the manifest is signed with another key than the one you trust".to_owned());
    }
    let key = VerifyingKey::from_bytes(&bytes::<32>("public key", &signed.public_key)?)
        .map_err(|_| "the public key is not an Ed25519 key".to_owned())?;
    let sig = Signature::from_bytes(&bytes::<64>("signature", &signed.signature)?);
    key.verify(canonical_json(&signed.manifest).as_bytes(), &sig)
        .map_err(|_| {
            "the signature does not match the manifest: it was altered or not signed by this key"
                .to_owned()
        })?;
    let until = time::OffsetDateTime::parse(
        &signed.manifest.valid_until,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| "the manifest's validity is not a date and time".to_owned())?;
    if now > until {
        return Err(format!(
            "the manifest expired on {}: fetch a fresh one from the portal",
            signed.manifest.valid_until
        ));
    }
    Ok(&signed.manifest)
}

/// The document of a manifest with this SHA-256, if any.
pub fn find<'a>(m: &'a Manifest, sha256: &str) -> Option<&'a ManifestDocument> {
    m.documents
        .iter()
        .find(|d| d.sha256.eq_ignore_ascii_case(sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            organisation: "한빛 Cloud".into(),
            portal: "https://trust.example/trust/hanbit/soc".into(),
            offering: "soc".into(),
            issued_at: "2026-11-24T08:00:00Z".into(),
            valid_until: "2026-11-25T08:00:00Z".into(),
            documents: vec![ManifestDocument {
                id: "d1".into(),
                title: "SOC 3 report".into(),
                kind: "report".into(),
                language: "en".into(),
                sha256: "ab".repeat(32),
                public: true,
                subject: "SOC 3 · 2025-10-01 – 2026-09-30".into(),
            }],
        }
    }

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-11-24 12:00 UTC)
    }

    #[test]
    fn a_signed_manifest_verifies_and_finds_its_documents() {
        let s = sign(manifest(), &[7; 32]);
        let m = verify(&s, None, now()).unwrap();
        assert!(find(m, &"AB".repeat(32)).is_some());
        assert!(find(m, &"cd".repeat(32)).is_none());
        assert!(verify(&s, Some(&public_key(&[7; 32])), now()).is_ok());
        // It survives a JSON round trip.
        let back: SignedManifest =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert!(verify(&back, None, now()).is_ok());
        let later = time::macros::datetime!(2026-11-26 00:00 UTC);
        assert!(verify(&back, None, later).unwrap_err().contains("expired"));
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let s = sign(manifest(), &[7; 32]);
        let mut t = s.clone();
        t.manifest.documents[0].sha256 = "cd".repeat(32);
        assert!(verify(&t, None, now()).unwrap_err().contains("altered"));
        assert!(
            verify(&s, Some(&public_key(&[8; 32])), now())
                .unwrap_err()
                .contains("another key")
        );
        let mut k = s.clone();
        k.public_key = public_key(&[8; 32]);
        assert!(verify(&k, None, now()).is_err());
        let mut f = s;
        f.signature = "00".into();
        assert!(verify(&f, None, now()).unwrap_err().contains("64 bytes"));
    }
}
