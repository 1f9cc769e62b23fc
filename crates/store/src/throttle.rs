//! Sign-in throttling counters, kept in the database so every node sees the same counts.

use attest_domain::Timestamp;

use crate::{StoreResult, Tx};

/// A throttle counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Failures in the current window.
    pub failures: i64,
    /// When the window started.
    pub window_start: Timestamp,
    /// Locked until then.
    pub locked_until: Option<Timestamp>,
}

/// Reads a counter (locking its row on PostgreSQL until the transaction ends).
pub async fn get(tx: &mut Tx, key: &str) -> StoreResult<Option<Counter>> {
    let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(f, w, l)| Counter {
        failures: f,
        window_start: Timestamp::from_micros(w),
        locked_until: l.map(Timestamp::from_micros),
    }))
}

/// Writes a counter.
pub async fn put(tx: &mut Tx, key: &str, c: &Counter) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until",
    )
    .bind(key)
    .bind(c.failures)
    .bind(c.window_start.as_micros())
    .bind(c.locked_until.map(Timestamp::as_micros))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Clears a counter (after a successful sign-in or a password reset).
pub async fn clear(tx: &mut Tx, key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
