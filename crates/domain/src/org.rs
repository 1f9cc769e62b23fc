//! Organisations (tenants).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{OrgId, Timestamp};

/// A URL-safe, unique short name of an organisation (`acme-cloud`), used by the trust portal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why text is not a valid slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a valid short name: use 2 to 48 lower-case letters, digits and single hyphens, starting with a letter"
)]
pub struct InvalidSlug(pub String);

impl Slug {
    /// Validates a slug.
    pub fn parse(s: &str) -> Result<Self, InvalidSlug> {
        let ok = (2..=48).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && !s.ends_with('-')
            && !s.contains("--")
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidSlug(s.to_owned()))
        }
    }

    /// Derives a slug from a display name (`Acme Cloud, Inc.` → `acme-cloud-inc`).
    pub fn from_name(name: &str) -> Self {
        let mut out = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let mut out: String = out.trim_matches('-').chars().take(40).collect();
        while out.ends_with('-') {
            out.pop();
        }
        if out.is_empty() {
            out.push_str("org");
        } else if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.insert_str(0, "org-");
        } else if out.len() < 2 {
            out.push_str("-org");
        }
        Self(out)
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidSlug;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organisation's display name: 1 to 200 characters, trimmed.
pub fn validate_org_name(name: &str) -> Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the organisation name must not be empty");
    }
    if name.chars().count() > 200 {
        return Err("the organisation name must be at most 200 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("the organisation name must not contain control characters");
    }
    Ok(name.to_owned())
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Its id.
    pub id: OrgId,
    /// Its unique short name.
    pub slug: Slug,
    /// Its display name.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            Slug::from_name("Acme Cloud, Inc.").as_str(),
            "acme-cloud-inc"
        );
        assert_eq!(Slug::from_name("42 Labs").as_str(), "org-42-labs");
        assert_eq!(Slug::from_name("한국").as_str(), "org");
        assert_eq!(Slug::from_name("X").as_str(), "x-org");
        assert!(Slug::parse("acme").is_ok());
        assert!(Slug::parse("Acme").is_err());
        assert!(Slug::parse("a--b").is_err());
        assert!(Slug::parse("-ab").is_err());
    }
}
