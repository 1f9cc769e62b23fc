//! Staff roles (who may do what is decided in the application layer's `authz` module).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A staff member's role in one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads the program; changes nothing.
    Viewer,
    /// External auditor: reads and tests the scope of one engagement.
    Auditor,
    /// Implements controls, uploads evidence, answers requests.
    ControlOwner,
    /// Owns the program: scope, frameworks, SoA, audits, portal.
    ComplianceManager,
    /// Everything, including members, settings and disposal.
    Owner,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Auditor,
        Role::ControlOwner,
        Role::ComplianceManager,
        Role::Owner,
    ];

    /// The stable text form (`compliance-manager`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::ControlOwner => "control-owner",
            Role::ComplianceManager => "compliance-manager",
            Role::Owner => "owner",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Auditor => "Auditor",
            Role::ControlOwner => "Control owner",
            Role::ComplianceManager => "Compliance manager",
            Role::Owner => "Owner",
        }
    }

    /// Whether a holder of `self` may grant `other` (to an invitee or an API token): never a
    /// role above one's own.
    pub fn may_grant(self, other: Role) -> bool {
        // An auditor's reach is one engagement: it grants nothing wider, not even a viewer's.
        if self == Role::Auditor {
            return other == Role::Auditor;
        }
        other.rank() <= self.rank()
    }

    /// The privilege order used by [`Role::may_grant`]; auditors rank with viewers since
    /// their reach is narrower, not wider.
    pub fn rank(self) -> u8 {
        match self {
            Role::Viewer | Role::Auditor => 0,
            Role::ControlOwner => 1,
            Role::ComplianceManager => 2,
            Role::Owner => 3,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role `{0}` (expected owner, compliance-manager, control-owner, auditor or viewer)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}
