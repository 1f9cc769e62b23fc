//! Instants in UTC with microsecond precision, the resolution every backend stores exactly.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant, truncated to whole microseconds so that it survives a round trip through
/// any storage backend unchanged (the audit chain hashes it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current instant.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// From microseconds since the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// From a date-time in any offset (sub-microsecond digits are dropped).
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        Self((dt.unix_timestamp_nanos() / 1_000) as i64)
    }

    /// As a UTC date-time.
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The calendar date in UTC.
    pub fn date(self) -> time::Date {
        self.to_datetime().date()
    }

    /// This instant plus a duration.
    pub fn plus(self, d: time::Duration) -> Self {
        Self(self.0.saturating_add(d.whole_microseconds() as i64))
    }

    /// RFC 3339 text in UTC, e.g. `2026-11-23T10:00:00.123456Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime().format(&Rfc3339).unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &Rfc3339)
            .map(Self::from_datetime)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_micros() {
        let t = Timestamp::from_micros(1_790_000_000_123_456);
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(text, "\"2026-09-21T14:13:20.123456Z\"");
        let back: Timestamp = serde_json::from_str(&text).unwrap();
        assert_eq!(back, t);
    }
}
