//! The audit trail's hash chain (DOMAIN.md rule 8).
//!
//! Each organisation has its own chain. An entry is recorded as one canonical text (every
//! field, separated by U+001F, which no field can contain), and its hash is
//! `SHA-256(entry text ‖ previous entry's hash)`. Editing, deleting or reordering any entry
//! breaks a link that [`ChainVerifier`] reports. Keeping the whole record in one text makes
//! verification a single sequential read, fast enough for millions of entries a second.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Timestamp;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

const VERSION_TAG: &str = "attest.audit.v1";
const GENESIS_DOMAIN: &[u8] = b"attest.audit.genesis.v1\0";
/// Separates the fields of an entry's canonical text.
pub const SEPARATOR: char = '\u{1f}';

/// The fields of one audit entry, as they are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFields<'a> {
    /// The chain the entry belongs to: an organisation id, or [`INSTANCE_CHAIN`].
    pub chain: &'a str,
    /// Position in the chain, starting at 1.
    pub seq: i64,
    /// When the change happened.
    pub at: Timestamp,
    /// Who made it, e.g. `user:0190…` (see [`Actor`]).
    pub actor: &'a str,
    /// What was done, e.g. `control.create`.
    pub action: &'a str,
    /// The kind of object changed, e.g. `control`.
    pub object_type: &'a str,
    /// The object's id.
    pub object_id: &'a str,
    /// The object before the change, as canonical JSON, or empty.
    pub before: &'a str,
    /// The object after the change, as canonical JSON, or empty.
    pub after: &'a str,
}

/// The id of the chain that records events outside any organisation (for example a failed
/// sign-in for an unknown e-mail address).
pub const INSTANCE_CHAIN: &str = "instance";

/// Why an entry cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit field {0} contains a control character")]
pub struct InvalidField(pub &'static str);

impl<'a> EntryFields<'a> {
    /// The canonical text recorded and hashed. Fails if a field holds a control character
    /// (JSON escapes them, so only the short identifying fields can).
    pub fn canonical(&self) -> Result<String, InvalidField> {
        for (name, v) in [
            ("chain", self.chain),
            ("actor", self.actor),
            ("action", self.action),
            ("object_type", self.object_type),
            ("object_id", self.object_id),
            ("before", self.before),
            ("after", self.after),
        ] {
            if v.contains(SEPARATOR)
                || (name != "before" && name != "after" && v.chars().any(char::is_control))
            {
                return Err(InvalidField(name));
            }
        }
        let sep = SEPARATOR;
        Ok(format!(
            "{VERSION_TAG}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{}",
            self.chain,
            self.seq,
            self.at.as_micros(),
            self.actor,
            self.action,
            self.object_type,
            self.object_id,
            self.before,
            self.after
        ))
    }

    /// Reads an entry's canonical text back into its fields.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut it = text.split(SEPARATOR);
        if it.next()? != VERSION_TAG {
            return None;
        }
        let f = EntryFields {
            chain: it.next()?,
            seq: it.next()?.parse().ok()?,
            at: Timestamp::from_micros(it.next()?.parse().ok()?),
            actor: it.next()?,
            action: it.next()?,
            object_type: it.next()?,
            object_id: it.next()?,
            before: it.next()?,
            after: it.next()?,
        };
        if it.next().is_some() {
            return None;
        }
        Some(f)
    }
}

/// The hash of an entry: SHA-256 over its canonical text and the previous entry's hash.
pub fn entry_hash(canonical: &[u8], prev: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(canonical);
    h.update(prev);
    h.finalize().into()
}

/// The hash a chain starts from; bound to the chain's id so entries cannot be moved between
/// organisations.
pub fn genesis_hash(chain: &str) -> Hash {
    let mut h = Sha256::new();
    h.update(GENESIS_DOMAIN);
    h.update(chain.as_bytes());
    h.finalize().into()
}

/// Who performed an audited action, in the canonical text form stored in the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff user.
    User(crate::UserId),
    /// An API token, and the user it acts for.
    Token { token: String, user: crate::UserId },
    /// A customer signed in to the trust portal.
    Portal(String),
    /// The `attest` command line run by an operator on the server.
    Cli,
    /// Attest itself (retention rules, scheduled jobs).
    System,
    /// Someone not signed in (for example a failed sign-in).
    Anonymous,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(u) => write!(f, "user:{u}"),
            Actor::Token { token, user } => write!(f, "token:{token}/user:{user}"),
            Actor::Portal(a) => write!(f, "portal:{a}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// Canonical JSON for the `before`/`after` fields: keys sorted, no insignificant whitespace.
pub fn canonical_json<T: Serialize>(value: &T) -> String {
    // `serde_json::Value` keeps object keys in a BTreeMap (sorted) without the
    // `preserve_order` feature, so a round trip through it sorts every level.
    match serde_json::to_value(value) {
        Ok(v) => v.to_string(),
        Err(_) => String::new(),
    }
}

/// The first problem found while walking a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry is missing or out of place: the sequence numbers are not contiguous.
    #[error(
        "entry {found} follows entry {previous}: entries {expected}..{found} are missing or reordered"
    )]
    Gap {
        previous: i64,
        expected: i64,
        found: i64,
    },
    /// The entry does not point at the hash of the entry before it.
    #[error("entry {seq} does not link to the entry before it (reordered or replaced)")]
    BrokenLink { seq: i64 },
    /// The entry's content does not match its stored hash.
    #[error("entry {seq} was altered: its content does not match its hash")]
    Altered { seq: i64 },
    /// The entry's recorded text is not a valid entry, or claims another position or chain.
    #[error("entry {seq} is malformed or claims another place in the trail")]
    Malformed { seq: i64 },
    /// The chain ends before the recorded head: entries were removed from its end.
    #[error(
        "the chain ends at entry {last} but its head records entry {head}: entries were removed"
    )]
    Truncated { last: i64, head: i64 },
    /// The recorded head does not match the last entry.
    #[error("the chain's head does not match entry {seq}")]
    HeadMismatch { seq: i64 },
    /// A search column (actor, action, object, time) disagrees with the recorded entry.
    #[error("entry {seq}'s search columns disagree with its recorded content")]
    IndexMismatch { seq: i64 },
}

/// Walks one chain entry by entry, in sequence order, and reports the first broken link.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    chain: String,
    prefix: String,
    last_seq: i64,
    last_hash: Hash,
}

impl ChainVerifier {
    /// Starts verifying the chain with the given id.
    pub fn new(chain: &str) -> Self {
        Self {
            chain: chain.to_owned(),
            prefix: format!("{VERSION_TAG}{SEPARATOR}{chain}{SEPARATOR}"),
            last_seq: 0,
            last_hash: genesis_hash(chain),
        }
    }

    /// The chain's id.
    pub fn chain(&self) -> &str {
        &self.chain
    }

    /// The hash the next entry must link to.
    pub fn last_hash(&self) -> Hash {
        self.last_hash
    }

    /// Number of entries accepted so far.
    pub fn verified(&self) -> i64 {
        self.last_seq
    }

    /// Checks the next entry as read from storage: its row number, canonical text and hex
    /// hash. An [`ChainBreak::Altered`] result may really be a broken link; callers that kept
    /// the stored previous hash can tell with [`classify_failure`].
    pub fn check(
        &mut self,
        seq: i64,
        canonical: &[u8],
        stored_hex: &[u8],
    ) -> Result<(), ChainBreak> {
        let expected = self.last_seq + 1;
        if seq != expected {
            return Err(ChainBreak::Gap {
                previous: self.last_seq,
                expected,
                found: seq,
            });
        }
        // The text must name this chain and this position, so an entry cannot be replayed
        // elsewhere with its hash recomputed around it.
        let rest = canonical
            .strip_prefix(self.prefix.as_bytes())
            .ok_or(ChainBreak::Malformed { seq })?;
        if !starts_with_seq(rest, seq) {
            return Err(ChainBreak::Malformed { seq });
        }
        let hash = entry_hash(canonical, &self.last_hash);
        if !hex_eq(&hash, stored_hex) {
            return Err(ChainBreak::Altered { seq });
        }
        self.last_seq = seq;
        self.last_hash = hash;
        Ok(())
    }

    /// Checks the end of the chain against the head recorded beside it.
    pub fn finish(&self, head_seq: i64, head_hash: &Hash) -> Result<(), ChainBreak> {
        if head_seq > self.last_seq {
            return Err(ChainBreak::Truncated {
                last: self.last_seq,
                head: head_seq,
            });
        }
        if head_seq < self.last_seq || head_hash != &self.last_hash {
            return Err(ChainBreak::HeadMismatch { seq: self.last_seq });
        }
        Ok(())
    }
}

/// Tells an altered entry from a broken link once [`ChainVerifier::check`] failed: if the
/// entry's stored previous hash is not the hash it should link to, the link is broken.
pub fn classify_failure(
    seq: i64,
    expected_prev: &Hash,
    stored_prev_hex: Option<&str>,
) -> ChainBreak {
    match stored_prev_hex.and_then(parse_hash) {
        Some(p) if &p != expected_prev => ChainBreak::BrokenLink { seq },
        Some(_) => ChainBreak::Altered { seq },
        None => ChainBreak::Malformed { seq },
    }
}

/// Whether `text` starts with `seq` in decimal (canonical: no sign, no leading zero) and then
/// the separator; compares digit by digit, without formatting the number.
fn starts_with_seq(text: &[u8], seq: i64) -> bool {
    let Some(end) = text.iter().position(|&b| b == SEPARATOR as u8) else {
        return false;
    };
    let digits = &text[..end];
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && digits.len() > 1) {
        return false;
    }
    // At most 19 digits: fits in a u64 without overflow.
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return false;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    u64::try_from(seq) == Ok(n)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Compares a digest with its lower-case hex text without decoding (decoding costs more
/// than the hash when verifying millions of entries).
fn hex_eq(hash: &Hash, hex_text: &[u8]) -> bool {
    if hex_text.len() != 64 {
        return false;
    }
    hash.iter().zip(hex_text.chunks_exact(2)).all(|(b, pair)| {
        pair[0] == HEX[usize::from(b >> 4)] && pair[1] == HEX[usize::from(b & 0xf)]
    })
}

/// Parses a stored hex digest.
pub fn parse_hash(hex_text: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sequence_prefix_is_exact() {
        let sep = super::SEPARATOR;
        let ok = |t: &str, n| super::starts_with_seq(t.as_bytes(), n);
        assert!(ok(&format!("12{sep}rest"), 12));
        assert!(!ok(&format!("12{sep}rest"), 1));
        assert!(!ok(&format!("012{sep}rest"), 12));
        assert!(!ok(&format!("-12{sep}rest"), -12));
        assert!(!ok("12", 12));
        assert!(!ok(&format!("{sep}rest"), 0));
        assert!(ok(&format!("0{sep}"), 0));
        assert!(!ok(&format!("9999999999999999999{sep}"), i64::MAX));
        assert!(ok(&format!("{}{sep}", i64::MAX), i64::MAX));
    }

    use super::*;
    use proptest::prelude::*;

    #[derive(Clone)]
    struct Row {
        seq: i64,
        text: String,
        prev: Hash,
        hash: String,
    }

    fn build(chain: &str, actions: &[String]) -> Vec<Row> {
        let mut prev = genesis_hash(chain);
        let mut out = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            let seq = i as i64 + 1;
            let after = format!("{{\"n\":{seq}}}");
            let text = EntryFields {
                chain,
                seq,
                at: Timestamp::from_micros(seq * 1000),
                actor: "cli",
                action: a,
                object_type: "thing",
                object_id: "x",
                before: "",
                after: &after,
            }
            .canonical()
            .unwrap();
            let hash = entry_hash(text.as_bytes(), &prev);
            out.push(Row {
                seq,
                text,
                prev,
                hash: hex::encode(hash),
            });
            prev = hash;
        }
        out
    }

    fn verify(chain: &str, rows: &[Row], head: Option<(i64, Hash)>) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::new(chain);
        for r in rows {
            let expected_prev = v.last_hash();
            v.check(r.seq, r.text.as_bytes(), r.hash.as_bytes())
                .map_err(|e| match e {
                    ChainBreak::Altered { seq } => {
                        classify_failure(seq, &expected_prev, Some(&hex::encode(r.prev)))
                    }
                    other => other,
                })?;
        }
        let (seq, hash) = head.unwrap_or((0, genesis_hash(chain)));
        v.finish(seq, &hash)
    }

    fn actions(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("a{i}")).collect()
    }

    fn head(rows: &[Row]) -> Option<(i64, Hash)> {
        let last = rows.last()?;
        Some((last.seq, parse_hash(&last.hash)?))
    }

    #[test]
    fn canonical_text_round_trips() {
        let f = EntryFields {
            chain: "org",
            seq: 7,
            at: Timestamp::from_micros(42),
            actor: "user:1",
            action: "control.update",
            object_type: "control",
            object_id: "c1",
            before: "{\"a\":\"x\\u001fy\"}",
            after: "",
        };
        let text = f.canonical().unwrap();
        assert_eq!(EntryFields::parse(&text), Some(f));
        let bad = EntryFields {
            actor: "user\u{1f}1",
            ..f
        };
        assert_eq!(bad.canonical(), Err(InvalidField("actor")));
    }

    #[test]
    fn intact_chain_verifies() {
        let e = build("org", &actions(5));
        assert_eq!(verify("org", &e, head(&e)), Ok(()));
    }

    #[test]
    fn each_tampering_is_reported() {
        let e = build("org", &actions(5));
        let h = head(&e);

        let mut edited = e.clone();
        edited[2].text = edited[2].text.replace("a2", "forged");
        assert_eq!(
            verify("org", &edited, h),
            Err(ChainBreak::Altered { seq: 3 })
        );

        let mut deleted = e.clone();
        deleted.remove(1);
        assert!(matches!(
            verify("org", &deleted, h),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3,
                ..
            })
        ));

        let mut reordered = e.clone();
        reordered.swap(1, 2);
        reordered[1].seq = 2;
        reordered[2].seq = 3;
        assert_eq!(
            verify("org", &reordered, h),
            Err(ChainBreak::Malformed { seq: 2 })
        );

        assert_eq!(
            verify("org", &e[..4], h),
            Err(ChainBreak::Truncated { last: 4, head: 5 })
        );

        // The same entries do not verify as another organisation's chain.
        assert_eq!(
            verify("other", &e, h),
            Err(ChainBreak::Malformed { seq: 1 })
        );
    }

    #[test]
    fn a_rehashed_replacement_breaks_the_next_link() {
        let mut e = build("org", &actions(3));
        let h = head(&e);
        // Forge entry 2 and recompute its own hash correctly: entry 3 no longer links to it.
        e[1].text = e[1].text.replace("a1", "forged");
        let forged = entry_hash(e[1].text.as_bytes(), &e[1].prev);
        e[1].hash = hex::encode(forged);
        assert_eq!(verify("org", &e, h), Err(ChainBreak::BrokenLink { seq: 3 }));
    }

    proptest! {
        #[test]
        fn any_single_edit_is_detected(n in 1usize..30, victim in 0usize..30, text in "[a-z]{1,8}") {
            let victim = victim % n;
            let mut e = build("org", &actions(n));
            let h = head(&e);
            let original = e[victim].text.clone();
            e[victim].text = original.replace(&format!("a{victim}"), &text);
            prop_assume!(e[victim].text != original);
            prop_assert!(verify("org", &e, h).is_err());
        }
    }
}
