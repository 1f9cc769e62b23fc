//! Sign-in throttling: per client address, per account and address, and per account, with
//! locks that grow but are capped, so an attacker can slow a user down but never lock them
//! out for good (and a password reset always clears the account's locks).

use attest_domain::Timestamp;
use attest_store::Tx;
use attest_store::throttle::{self, Counter};

use crate::{AppError, AppResult};

/// One throttle and its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Failures allowed within the window before a lock.
    pub allowed: i64,
    /// The window, in seconds.
    pub window_secs: i64,
    /// First lock, in seconds (doubling with each further failure).
    pub first_lock_secs: i64,
    /// Longest lock, in seconds.
    pub max_lock_secs: i64,
}

/// Every address: many accounts from one place.
pub const PER_IP: Rule = Rule {
    allowed: 50,
    window_secs: 15 * 60,
    first_lock_secs: 15 * 60,
    max_lock_secs: 15 * 60,
};
/// One account from one address: the guessing case.
pub const PER_ACCOUNT_IP: Rule = Rule {
    allowed: 5,
    window_secs: 15 * 60,
    first_lock_secs: 60,
    max_lock_secs: 15 * 60,
};
/// One account from anywhere: distributed guessing.
pub const PER_ACCOUNT: Rule = Rule {
    allowed: 30,
    window_secs: 60 * 60,
    first_lock_secs: 5 * 60,
    max_lock_secs: 15 * 60,
};

/// The counter after one more failure at `now`, and whether it now locks.
pub fn after_failure(rule: &Rule, current: Option<Counter>, now: Timestamp) -> (Counter, bool) {
    let window = time::Duration::seconds(rule.window_secs);
    let mut c = match current {
        Some(c) if c.window_start.plus(window) > now => c,
        _ => Counter {
            failures: 0,
            window_start: now,
            locked_until: None,
        },
    };
    c.failures += 1;
    let over = c.failures - rule.allowed;
    let locks = over > 0;
    if locks {
        let exp = u32::try_from(over - 1).unwrap_or(u32::MAX).min(20);
        let secs = rule
            .first_lock_secs
            .saturating_mul(1_i64 << exp)
            .min(rule.max_lock_secs);
        c.locked_until = Some(now.plus(time::Duration::seconds(secs)));
    }
    (c, locks)
}

/// The throttle keys of a sign-in attempt.
pub fn keys(email: &str, ip: Option<&str>) -> Vec<(String, Rule)> {
    let ip = ip.unwrap_or("unknown");
    vec![
        (format!("ip:{ip}"), PER_IP),
        (format!("acct-ip:{email}|{ip}"), PER_ACCOUNT_IP),
        (format!("acct:{email}"), PER_ACCOUNT),
    ]
}

/// Refuses the attempt if any of its keys is locked.
pub async fn check(tx: &mut Tx, keys: &[(String, Rule)], now: Timestamp) -> AppResult<()> {
    let mut wait = 0i64;
    for (k, _) in keys {
        if let Some(c) = throttle::get(tx, k).await?
            && let Some(until) = c.locked_until
            && until > now
        {
            wait = wait.max((until.as_micros() - now.as_micros()) / 1_000_000 + 1);
        }
    }
    if wait > 0 {
        return Err(AppError::Throttled {
            retry_after: wait as u64,
        });
    }
    Ok(())
}

/// Counts a failure on every key; returns whether any key became locked.
pub async fn fail(tx: &mut Tx, keys: &[(String, Rule)], now: Timestamp) -> AppResult<bool> {
    let mut locked = false;
    for (k, rule) in keys {
        let (c, l) = after_failure(rule, throttle::get(tx, k).await?, now);
        throttle::put(tx, k, &c).await?;
        locked |= l;
    }
    Ok(locked)
}

/// Clears the account's counters after a successful sign-in or a password reset.
pub async fn clear_account(tx: &mut Tx, email: &str, ip: Option<&str>) -> AppResult<()> {
    if let Some(ip) = ip {
        throttle::clear(tx, &format!("acct-ip:{email}|{ip}")).await?;
    }
    throttle::clear(tx, &format!("acct:{email}")).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn locks_after_the_allowed_failures_and_grows() {
        let now = Timestamp::from_micros(0);
        let mut c = None;
        for _ in 0..5 {
            let (n, locked) = after_failure(&PER_ACCOUNT_IP, c, now);
            assert!(!locked);
            c = Some(n);
        }
        let (n, locked) = after_failure(&PER_ACCOUNT_IP, c, now);
        assert!(locked);
        assert_eq!(n.locked_until, Some(now.plus(time::Duration::seconds(60))));
        let (n, _) = after_failure(&PER_ACCOUNT_IP, Some(n), now);
        assert_eq!(n.locked_until, Some(now.plus(time::Duration::seconds(120))));
    }

    proptest! {
        /// However many failures, a lock never exceeds its cap: nobody is locked out for good.
        #[test]
        fn locks_are_capped(failures in 1usize..500, gap_secs in 0i64..120) {
            for rule in [PER_IP, PER_ACCOUNT_IP, PER_ACCOUNT] {
                let mut c = None;
                let mut now = Timestamp::from_micros(1_000_000);
                for _ in 0..failures {
                    let (n, _) = after_failure(&rule, c, now);
                    if let Some(until) = n.locked_until {
                        prop_assert!(until.as_micros() - now.as_micros() <= rule.max_lock_secs * 1_000_000);
                    }
                    c = Some(n);
                    now = now.plus(time::Duration::seconds(gap_secs));
                }
            }
        }
    }
}
