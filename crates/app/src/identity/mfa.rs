//! TOTP (RFC 6238) enrolment, verification with replay protection, and recovery codes.

use attest_domain::Timestamp;
use attest_store::session as store_session;
use attest_store::user::{self as store_user, User};
use totp_rs::{Builder, Secret, Totp};

use super::throttle::{self, Rule};
use crate::audit_trail::{Event, record};
use crate::authz::Via;
use crate::secret;
use crate::{App, AppError, AppResult, Caller};

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// Wrong second-factor codes allowed per account before a short lock.
const MFA_RULE: Rule = Rule {
    allowed: 5,
    window_secs: 15 * 60,
    first_lock_secs: 60,
    max_lock_secs: 15 * 60,
};

fn totp(secret_b32: &str, email: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|e| AppError::Internal(format!("stored TOTP secret: {e}")))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some("Attest"))
        .with_account_name(email)
        .build()
        .map_err(|e| AppError::Internal(format!("TOTP: {e}")))
}

/// The time step a code matches (allowing one step of clock drift either way).
fn matching_step(t: &Totp, code: &str, now: Timestamp) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let secs = u64::try_from(now.as_micros() / 1_000_000).ok()?;
    t.check(&code, secs).and_then(|s| i64::try_from(s).ok())
}

fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    secret::token_hash(&normal)
}

/// What a user scans to enrol.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` URL.
    pub url: String,
    /// A PNG QR code of the URL, base64.
    pub qr_png_base64: String,
}

impl App {
    /// Starts (or restarts) TOTP enrolment: a new secret, pending until confirmed.
    pub async fn mfa_begin(&self, caller: &Caller) -> AppResult<Enrolment> {
        let user_id = caller.require_user()?;
        let user = store_user::get(&self.store, user_id).await?;
        let secret_b32 = Secret::from(secret::random_bytes::<20>()).to_base32();
        let t = totp(&secret_b32, &user.email)?;
        let mut tx = self.store.begin().await?;
        store_user::set_pending_totp(&mut tx, user_id, Some(&secret_b32)).await?;
        tx.commit().await?;
        Ok(Enrolment {
            url: t.to_url().map_err(|e| AppError::Internal(e.to_string()))?,
            qr_png_base64: t
                .to_qr_base64()
                .map_err(|e| AppError::Internal(e.to_string()))?,
            secret: secret_b32,
        })
    }

    /// The enrolment waiting for confirmation (to show its QR code again after a wrong code).
    pub async fn mfa_pending(&self, caller: &Caller) -> AppResult<Enrolment> {
        let user = store_user::get(&self.store, caller.require_user()?).await?;
        let Some(pending) = &user.totp_pending_secret else {
            return self.mfa_begin(caller).await;
        };
        let t = totp(pending, &user.email)?;
        Ok(Enrolment {
            url: t.to_url().map_err(|e| AppError::Internal(e.to_string()))?,
            qr_png_base64: t
                .to_qr_base64()
                .map_err(|e| AppError::Internal(e.to_string()))?,
            secret: pending.clone(),
        })
    }

    /// Whether the caller has a second factor.
    pub async fn mfa_enabled(&self, caller: &Caller) -> AppResult<bool> {
        Ok(store_user::get(&self.store, caller.require_user()?)
            .await?
            .mfa_enabled())
    }

    /// Confirms enrolment with a code from the authenticator; returns the recovery codes,
    /// shown this once.
    pub async fn mfa_confirm(&self, caller: &Caller, code: &str) -> AppResult<Vec<String>> {
        let user_id = caller.require_user()?;
        let user = store_user::get(&self.store, user_id).await?;
        let Some(pending) = &user.totp_pending_secret else {
            return Err(AppError::invalid(
                "code",
                "start the enrolment again: no authenticator is waiting to be confirmed",
            ));
        };
        let now = Timestamp::now();
        let Some(step) = matching_step(&totp(pending, &user.email)?, code, now) else {
            let mut tx = self.store.begin().await?;
            self.record_for_user(&mut tx, caller, &user, "auth.mfa_enrol_failed")
                .await?;
            tx.commit().await?;
            return Err(AppError::invalid(
                "code",
                "that code is not right: check the time on your device and try the current code",
            ));
        };
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let p = secret::readable_password(12).to_lowercase();
                format!("{}-{}-{}", &p[..4], &p[4..8], &p[8..])
            })
            .collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let mut tx = self.store.begin().await?;
        store_user::set_totp(&mut tx, user_id, Some(pending), Some(step), now).await?;
        store_user::set_recovery_codes(&mut tx, user_id, &hashes).await?;
        self.record_for_user(&mut tx, caller, &user, "auth.mfa_enabled")
            .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns MFA off for the caller (their password is required).
    pub async fn mfa_disable(&self, caller: &Caller, password_text: &str) -> AppResult<()> {
        let user_id = caller.require_user()?;
        let user = store_user::get(&self.store, user_id).await?;
        if !super::password::verify_async(password_text.to_owned(), user.password_hash.clone())
            .await
        {
            return Err(AppError::invalid("password", "the password is not right"));
        }
        if let Some(org) = caller.org
            && self.org_settings(org).await?.mfa_required
        {
            return Err(AppError::Rule {
                rule: "mfa-required",
                message: "your organisation requires a second factor: it cannot be turned off"
                    .into(),
            });
        }
        let mut tx = self.store.begin().await?;
        store_user::set_totp(&mut tx, user_id, None, None, Timestamp::now()).await?;
        self.record_for_user(&mut tx, caller, &user, "auth.mfa_disabled")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Completes a sign-in that waits for its second factor, with a TOTP code or a recovery
    /// code. A code is accepted once; wrong codes are counted and throttled.
    pub async fn mfa_verify(&self, caller: &Caller, code: &str) -> AppResult<()> {
        let user_id = caller.require_user()?;
        let Via::Session(session_id) = &caller.via else {
            return Err(AppError::Forbidden(
                "only a browser sign-in has a second step".into(),
            ));
        };
        let user = store_user::get(&self.store, user_id).await?;
        let Some(secret_b32) = &user.totp_secret else {
            return Err(AppError::Forbidden(
                "this account has no second factor".into(),
            ));
        };
        let now = Timestamp::now();
        let keys = [(format!("mfa:{user_id}"), MFA_RULE)];
        let mut tx = self.store.begin().await?;
        throttle::check(&mut tx, &keys, now).await?;
        let step = matching_step(&totp(secret_b32, &user.email)?, code, now);
        let accepted = match step {
            Some(s) => store_user::advance_totp_step(&mut tx, user_id, s).await?,
            None => {
                store_user::use_recovery_code(&mut tx, user_id, &recovery_hash(code), now).await?
            }
        };
        if !accepted {
            let locked = throttle::fail(&mut tx, &keys, now).await?;
            let action = if step.is_some() {
                "auth.mfa_replayed"
            } else {
                "auth.mfa_failed"
            };
            self.record_for_user(&mut tx, caller, &user, action).await?;
            if locked {
                self.record_for_user(&mut tx, caller, &user, "auth.lockout")
                    .await?;
            }
            tx.commit().await?;
            return Err(AppError::invalid(
                "code",
                if step.is_some() {
                    "that code was already used: wait for the next one"
                } else {
                    "that code is not right"
                },
            ));
        }
        attest_store::throttle::clear(&mut tx, &keys[0].0).await?;
        store_session::complete_mfa(&mut tx, session_id).await?;
        let action = if step.is_some() {
            "auth.mfa_verified"
        } else {
            "auth.recovery_code_used"
        };
        self.record_for_user(&mut tx, caller, &user, action).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unused recovery codes the caller has left.
    pub async fn recovery_codes_left(&self, caller: &Caller) -> AppResult<i64> {
        Ok(store_user::recovery_codes_left(&self.store, caller.require_user()?).await?)
    }

    async fn record_for_user(
        &self,
        tx: &mut attest_store::Tx,
        caller: &Caller,
        user: &User,
        action: &str,
    ) -> AppResult<()> {
        for m in store_user::memberships_of(&self.store, user.id).await? {
            record(tx, caller, Event::org(m.org_id, action, "user", user.id)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_neighbours_only() {
        let secret_b32 = Secret::from([7u8; 20]).to_base32();
        let t = totp(&secret_b32, "a@example.com").unwrap();
        let now = Timestamp::from_micros(1_790_000_000_000_000);
        let secs = 1_790_000_000u64;
        let code = t.generate(secs).to_string();
        assert_eq!(matching_step(&t, &code, now), Some((secs / 30) as i64));
        let old = t.generate(secs - 120).to_string();
        assert_eq!(matching_step(&t, &old, now), None);
        assert_eq!(
            recovery_hash("ABCD-efgh-2345"),
            recovery_hash("abcdefgh2345")
        );
    }
}
