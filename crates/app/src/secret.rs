//! Random secrets (session tokens, API tokens, invitation links) and their hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source failing is not recoverable for a security product.
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b
}

/// A 256-bit random token, URL-safe base64 (43 characters).
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The SHA-256 of a token, hex: what is stored instead of the token itself. Tokens carry
/// 256 bits of entropy, so a fast hash is enough (no password stretching needed).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in constant time.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A password people can type: `n` characters from an alphabet without look-alikes.
pub fn readable_password(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<64>() {
            // Rejection sampling keeps every character equally likely.
            let limit = 256 - (256 % ALPHABET.len());
            if usize::from(b) < limit && out.len() < n {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_hash_stably() {
        let a = token();
        let b = token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert_eq!(readable_password(20).len(), 20);
    }
}
