//! Who may do what: the one place Attest decides. Every use case asks
//! [`Caller::require`] for the [`Permission`] it needs; anything not granted in [`allows`] is
//! refused (default deny), and every organisation-owned object is then looked up within the
//! caller's organisation only, so another tenant's id is simply "not found".

use attest_domain::audit::Actor;
use attest_domain::role::Role;
use attest_domain::{OrgId, UserId};

use crate::{AppError, AppResult};

/// Something a use case needs to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Read the organisation's compliance program (dashboard, frameworks, controls, …).
    ProgramRead,
    /// Change organisation settings (name, MFA requirement, single sign-on).
    OrgManage,
    /// See the members and invitations.
    MembersRead,
    /// Invite, change roles, deactivate (never above one's own role).
    MembersManage,
    /// Export the access review.
    AccessReview,
    /// Create and revoke one's own API tokens.
    TokensOwn,
    /// Manage service accounts and every token of the organisation.
    TokensManage,
    /// Read the audit trail.
    AuditTrailRead,
    /// Choose frameworks, import and review mappings.
    FrameworkManage,
    /// Create controls and change any control.
    ControlManage,
    /// Change the controls one owns (status, description) and link them.
    ControlUpdateOwn,
    /// Manage services and product families.
    ServiceManage,
    /// Put evidence under legal hold and lift it.
    EvidenceHold,
    /// Dispose of evidence (an explicit, audited decision).
    EvidenceDispose,
    /// Keep the risk register: the matrix and appetite, assets, risks and their treatment.
    RiskManage,
    /// Keep the ISMS documents: scope and context, the Statement of Applicability's
    /// decisions, policies and procedures.
    IsmsManage,
    /// Accept a residual risk; the use case also requires being the risk's owner or an owner
    /// of the organisation.
    RiskAccept,
    /// Approve ISMS documents for top management: the Statement of Applicability.
    IsmsApprove,
    /// Approve a policy or procedure; the use case also requires being one of its named
    /// approvers.
    DocumentApprove,
    /// Record having read a published policy (one's own acknowledgement).
    Acknowledge,
    /// Plan audit engagements, record opinions, issue reports, write bridge letters.
    EngagementManage,
    /// Work inside an engagement: requests, samples, test results, findings, comments.
    /// An auditor holds it for the one engagement they are attached to, while it is open.
    EngagementWork,
    /// Answer the audit requests assigned to oneself, with evidence and comments.
    RequestAnswer,
    /// Run the trust portal: settings, offerings, their texts, published documents.
    PortalManage,
}

impl Permission {
    /// Every permission (for the route-enumeration test and documentation).
    pub const ALL: [Permission; 24] = [
        Permission::ProgramRead,
        Permission::OrgManage,
        Permission::MembersRead,
        Permission::MembersManage,
        Permission::AccessReview,
        Permission::TokensOwn,
        Permission::TokensManage,
        Permission::AuditTrailRead,
        Permission::FrameworkManage,
        Permission::ControlManage,
        Permission::ControlUpdateOwn,
        Permission::ServiceManage,
        Permission::EvidenceHold,
        Permission::EvidenceDispose,
        Permission::RiskManage,
        Permission::RiskAccept,
        Permission::IsmsManage,
        Permission::IsmsApprove,
        Permission::DocumentApprove,
        Permission::Acknowledge,
        Permission::EngagementManage,
        Permission::EngagementWork,
        Permission::RequestAnswer,
        Permission::PortalManage,
    ];
}

/// The role matrix. Auditors get one permission, [`Permission::EngagementWork`], and the use
/// cases holding it narrow it to the engagement they are attached to
/// ([`Caller::engagement`]).
pub fn allows(role: Role, p: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match p {
        P::ProgramRead | P::TokensOwn | P::RiskAccept | P::DocumentApprove | P::Acknowledge => {
            matches!(
                role,
                R::Owner | R::ComplianceManager | R::ControlOwner | R::Viewer
            )
        }
        P::MembersRead
        | P::MembersManage
        | P::AccessReview
        | P::AuditTrailRead
        | P::FrameworkManage
        | P::ControlManage
        | P::ServiceManage
        | P::EvidenceHold
        | P::RiskManage
        | P::IsmsManage
        | P::EngagementManage
        | P::PortalManage => matches!(role, R::Owner | R::ComplianceManager),
        P::ControlUpdateOwn | P::RequestAnswer => {
            matches!(role, R::Owner | R::ComplianceManager | R::ControlOwner)
        }
        P::EngagementWork => matches!(role, R::Owner | R::ComplianceManager | R::Auditor),
        P::OrgManage | P::TokensManage | P::EvidenceDispose | P::IsmsApprove => role == R::Owner,
    }
}

/// How a caller reached Attest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session (the session's id hash).
    Session(String),
    /// An API token (its id).
    Token(String),
    /// The `attest` command line on the server: an operator with full authority.
    Cli,
    /// Attest itself.
    System,
    /// Nobody signed in.
    Anonymous,
}

/// Who is asking, in which organisation, with which role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// How they are recorded in the audit trail.
    pub actor: Actor,
    /// The staff user, if any.
    pub user: Option<UserId>,
    /// The organisation the request acts in.
    pub org: Option<OrgId>,
    /// Their role there.
    pub role: Option<Role>,
    /// For an auditor: the one engagement their membership is attached to.
    pub engagement: Option<String>,
    /// How they came.
    pub via: Via,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl Caller {
    /// Someone not signed in.
    pub fn anonymous(ip: Option<String>, user_agent: Option<String>) -> Self {
        Self {
            actor: Actor::Anonymous,
            user: None,
            org: None,
            role: None,
            engagement: None,
            via: Via::Anonymous,
            ip,
            user_agent,
        }
    }

    /// The operator at the command line, acting in an organisation.
    pub fn cli(org: Option<OrgId>) -> Self {
        Self {
            actor: Actor::Cli,
            user: None,
            org,
            role: org.map(|_| Role::Owner),
            engagement: None,
            via: Via::Cli,
            ip: None,
            user_agent: None,
        }
    }

    /// Attest itself (retention rules, scheduled work).
    pub fn system(org: OrgId) -> Self {
        Self {
            actor: Actor::System,
            user: None,
            org: Some(org),
            role: Some(Role::Owner),
            engagement: None,
            via: Via::System,
            ip: None,
            user_agent: None,
        }
    }

    /// The organisation, if the caller may do `p` there.
    pub fn require(&self, p: Permission) -> AppResult<OrgId> {
        if matches!(self.via, Via::Anonymous) {
            return Err(AppError::Unauthenticated("sign in first".into()));
        }
        let (Some(org), Some(role)) = (self.org, self.role) else {
            return Err(AppError::Forbidden(
                "you are not a member of an organisation".into(),
            ));
        };
        if allows(role, p) {
            Ok(org)
        } else {
            Err(AppError::Forbidden(format!(
                "your role ({}) does not allow this",
                role.label()
            )))
        }
    }

    /// The signed-in staff user, for self-service (own password, MFA, sessions).
    pub fn require_user(&self) -> AppResult<UserId> {
        self.user
            .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))
    }

    /// The audit text of the actor.
    pub fn actor_text(&self) -> String {
        self.actor.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditors_and_viewers_cannot_manage() {
        for p in [
            Permission::MembersManage,
            Permission::OrgManage,
            Permission::TokensManage,
        ] {
            assert!(!allows(Role::Viewer, p));
            assert!(!allows(Role::Auditor, p));
            assert!(allows(Role::Owner, p));
        }
        // Every permission is granted to someone: none is dead.
        for p in Permission::ALL {
            assert!(Role::ALL.into_iter().any(|r| allows(r, p)), "{p:?}");
        }
    }

    #[test]
    fn anonymous_is_refused_as_unauthenticated() {
        let c = Caller::anonymous(None, None);
        assert!(matches!(
            c.require(Permission::ProgramRead),
            Err(AppError::Unauthenticated(_))
        ));
    }
}
