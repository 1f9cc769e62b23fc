//! Password hashing (argon2id) and the rules a new password must meet.
//!
//! Parameters: argon2id, version 0x13, 19 MiB of memory, 2 passes, 1 lane, 16-byte random
//! salt, 32-byte output — the OWASP Password Storage Cheat Sheet's first recommended
//! configuration. Hashes are PHC strings, so parameters can be raised later and old hashes
//! still verify (and are re-hashed at the next sign-in).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::secret::random_bytes;
use crate::{AppError, AppResult};

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted (argon2 takes any length; this bounds the work per request).
pub const MAX_LENGTH: usize = 256;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(32))
        .expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (CPU-heavy: call from a blocking thread).
pub fn hash(password: &str) -> AppResult<String> {
    let salt = random_bytes::<16>();
    hasher()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored hash (constant time in the hash comparison).
pub fn verify(password: &str, stored: &str) -> bool {
    hasher()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// Whether a stored hash uses weaker parameters than today's and should be replaced.
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with(&format!(
        "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}$"
    ))
}

/// A hash of a random password, verified against when the account does not exist so that
/// an unknown e-mail address takes as long to refuse as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::secret::token()).unwrap_or_default())
}

/// Hashes on a blocking thread, off the async runtime.
pub async fn hash_async(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Verifies on a blocking thread.
pub async fn verify_async(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(h) => verify(&password, &h),
        None => {
            let _ = verify(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Passwords too common to allow, whatever their length (a short built-in list; the length
/// rule does most of the work).
const DENY_LIST: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456123456",
    "qwertyuiop",
    "qwertyuiop123",
    "qwerty123456",
    "1qaz2wsx3edc",
    "1q2w3e4r5t6y",
    "zaq12wsxcde3",
    "asdfghjkl123",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "welcome2024!",
    "welcome2025!",
    "welcome2026!",
    "changeme1234",
    "administrator",
    "admin1234567",
    "administrator1",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "monkey123456",
    "dragon123456",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "starwars1234",
    "whatever1234",
    "abcdefghijkl",
    "abc123abc123",
    "aaaaaaaaaaaa",
    "correcthorsebatterystaple",
    "summer2024!!",
    "summer2025!!",
    "winter2025!!",
    "spring2026!!",
    "autumn2026!!",
    "company12345",
    "security1234",
    "compliance123",
    "attest123456",
    "attestattest",
];

/// Checks a new password: length, not a well-known password, not built from the account's
/// own e-mail address, not one repeated character.
pub fn check_new(password: &str, email: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(AppError::invalid(
            "password",
            format!(
                "use at least {MIN_LENGTH} characters; a passphrase of several words is easiest to remember"
            ),
        ));
    }
    if n > MAX_LENGTH {
        return Err(AppError::invalid(
            "password",
            format!("use at most {MAX_LENGTH} characters"),
        ));
    }
    let lower = password.to_lowercase();
    if DENY_LIST.contains(&lower.as_str()) {
        return Err(AppError::invalid(
            "password",
            "this password is among the most common ones: choose another",
        ));
    }
    let first = lower.chars().next();
    if lower.chars().all(|c| Some(c) == first) {
        return Err(AppError::invalid(
            "password",
            "a password of one repeated character is too easy to guess",
        ));
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(AppError::invalid(
            "password",
            "the password must not contain the name part of your e-mail address",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!needs_rehash(&h));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse battery!", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(check_new("short", "a@b.c").is_err());
        assert!(check_new("Password1234", "a@b.c").is_err());
        assert!(check_new("aaaaaaaaaaaaaa", "a@b.c").is_err());
        assert!(check_new("alice.smith-2026", "alice.smith@example.com").is_err());
        assert!(check_new("plum orbit castle 9", "alice@example.com").is_ok());
    }
}
