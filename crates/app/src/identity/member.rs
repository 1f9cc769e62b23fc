//! Members of an organisation: invitations, roles, deactivation, password resets and the
//! access review.

use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::invitation::{self as store_inv, Invitation};
use attest_store::session as store_session;
use attest_store::user::{self as store_user, Member, Membership, RolePeriod, User};
use serde::Serialize;

use super::{check_display_name, normalise_email, password, throttle};
use crate::audit_trail::{Event, record};
use crate::secret;
use crate::{App, AppError, AppResult, Caller, Permission};

/// An invitation just created: the link is shown once.
#[derive(Debug, Clone)]
pub struct Invited {
    /// The invitation.
    pub invitation: Invitation,
    /// The link to pass to the invitee.
    pub link: String,
}

/// What an invitation link shows before it is accepted.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationView {
    /// The organisation's name.
    pub org_name: String,
    /// The invited address.
    pub email: String,
    /// The role offered.
    pub role: Role,
    /// Whether the address already has an account (then it signs in to accept).
    pub existing_account: bool,
    /// For an auditor: the engagement (reference and title) and the last day of access.
    pub engagement: Option<(String, Option<time::Date>)>,
}

fn role_check(caller: &Caller, role: Role) -> AppResult<()> {
    let mine = caller.role.unwrap_or(Role::Viewer);
    if mine.may_grant(role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "you cannot grant the role {}, which is above your own",
            role.label()
        )))
    }
}

impl App {
    /// The organisation's members.
    pub async fn members(&self, caller: &Caller) -> AppResult<Vec<Member>> {
        let org = caller.require(Permission::MembersRead)?;
        Ok(store_user::members(&self.store, org).await?)
    }

    /// Open invitations.
    pub async fn invitations(&self, caller: &Caller) -> AppResult<Vec<Invitation>> {
        let org = caller.require(Permission::MembersRead)?;
        Ok(store_inv::open(&self.store, org, Timestamp::now()).await?)
    }

    /// Invites someone by e-mail with a role (never above the inviter's). Returns the
    /// single-use link, valid for the configured time.
    pub async fn invite(&self, caller: &Caller, email: &str, role: Role) -> AppResult<Invited> {
        let org = caller.require(Permission::MembersManage)?;
        role_check(caller, role)?;
        // An auditor invited this way is attached to no engagement and sees nothing until
        // invited to one (`invite_auditor`).
        self.invite_as(caller, org, email, role, None).await
    }

    /// Stores an invitation: for an auditor, with the engagement and the end of access.
    pub(crate) async fn invite_as(
        &self,
        caller: &Caller,
        org: OrgId,
        email: &str,
        role: Role,
        auditor: Option<(String, Option<Timestamp>)>,
    ) -> AppResult<Invited> {
        let email = normalise_email(email)?;
        if let Some(u) = store_user::by_email(&self.store, &email).await?
            && let Some(m) = store_user::membership(&self.store, org, u.id).await?
            && !(auditor.is_some() && m.role == Role::Auditor)
        {
            return Err(AppError::Conflict {
                field: "email".into(),
                message: if auditor.is_some() {
                    "this person is a member of the organisation's staff: an auditor is external"
                        .into()
                } else {
                    "this person is already a member: change their role instead".into()
                },
            });
        }
        let (engagement_id, access_until) = auditor.unzip();
        let token = secret::token();
        let now = Timestamp::now();
        let inv = Invitation {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org,
            email,
            role,
            token_hash: secret::token_hash(&token),
            created_by: caller.actor_text(),
            created_at: now,
            expires_at: now.plus(self.config.invitation_ttl),
            accepted_at: None,
            revoked_at: None,
            engagement_id,
            access_until: access_until.flatten(),
        };
        let mut tx = self.store.begin().await?;
        store_inv::insert(&mut tx, &inv).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "member.invite", "invitation", &inv.id).after(&inv),
        )
        .await?;
        tx.commit().await?;
        Ok(Invited {
            link: format!(
                "{}/invitations/{token}",
                self.config.public_url.trim_end_matches('/')
            ),
            invitation: inv,
        })
    }

    /// Revokes an open invitation.
    pub async fn revoke_invitation(&self, caller: &Caller, id: &str) -> AppResult<()> {
        let org = caller.require(Permission::MembersManage)?;
        let mut tx = self.store.begin().await?;
        if !store_inv::revoke(&mut tx, org, id, Timestamp::now()).await? {
            return Err(AppError::NotFound("invitation"));
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "member.invitation_revoke", "invitation", id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn usable_invitation(&self, token: &str) -> AppResult<Invitation> {
        let gone =
            || AppError::NotFound("invitation (the link is unknown, used, revoked or expired)");
        let inv = store_inv::by_hash(&self.store, &secret::token_hash(token))
            .await?
            .ok_or_else(gone)?;
        if inv.accepted_at.is_some()
            || inv.revoked_at.is_some()
            || inv.expires_at <= Timestamp::now()
        {
            return Err(gone());
        }
        Ok(inv)
    }

    /// What an invitation link offers (anyone holding the link may look).
    pub async fn view_invitation(&self, token: &str) -> AppResult<InvitationView> {
        let inv = self.usable_invitation(token).await?;
        let org = attest_store::org::get(&self.store, inv.org_id).await?;
        let engagement = match &inv.engagement_id {
            Some(id) => attest_store::engagement::list(&self.store, inv.org_id)
                .await?
                .into_iter()
                .find(|e| &e.id == id)
                .map(|e| {
                    (
                        format!("{} {}", e.reference, e.title),
                        inv.access_until.map(Timestamp::date),
                    )
                }),
            None => None,
        };
        Ok(InvitationView {
            engagement,
            org_name: org.name,
            existing_account: store_user::by_email(&self.store, &inv.email)
                .await?
                .is_some(),
            email: inv.email,
            role: inv.role,
        })
    }

    /// Accepts an invitation. A new person gives a name and password; a person who already
    /// has an account must be signed in as the invited address (`caller.user`).
    pub async fn accept_invitation(
        &self,
        caller: &Caller,
        token: &str,
        display_name: Option<&str>,
        password_text: Option<&str>,
    ) -> AppResult<UserId> {
        let inv = self.usable_invitation(token).await?;
        let now = Timestamp::now();
        let existing = store_user::by_email(&self.store, &inv.email).await?;
        let new_user = match &existing {
            Some(u) => {
                if caller.user != Some(u.id) {
                    return Err(AppError::Unauthenticated(format!(
                        "sign in as {} to accept this invitation",
                        inv.email
                    )));
                }
                None
            }
            None => {
                let name = check_display_name(display_name.unwrap_or_default())?;
                let pw = password_text.unwrap_or_default();
                password::check_new(pw, &inv.email)?;
                Some(User {
                    id: UserId::new(),
                    kind: "person".into(),
                    email: inv.email.clone(),
                    display_name: name,
                    password_hash: Some(password::hash_async(pw.to_owned()).await?),
                    must_change_password: false,
                    totp_secret: None,
                    totp_pending_secret: None,
                    totp_last_step: None,
                    totp_enabled_at: None,
                    created_at: now,
                    disabled_at: None,
                })
            }
        };
        if let Some(eid) = &inv.engagement_id {
            let open = attest_store::engagement::list(&self.store, inv.org_id)
                .await?
                .into_iter()
                .any(|e| &e.id == eid && e.status.is_open());
            if !open {
                return Err(AppError::NotFound(
                    "invitation (the engagement it was for is closed)",
                ));
            }
        }
        let mut tx = self.store.begin().await?;
        if !store_inv::accept(&mut tx, &inv.id, now).await? {
            return Err(AppError::NotFound("invitation (the link was just used)"));
        }
        let user_id = match (&existing, &new_user) {
            (Some(u), _) => u.id,
            (None, Some(u)) => {
                store_user::insert(&mut tx, u).await?;
                u.id
            }
            (None, None) => unreachable!("either an existing or a new user"),
        };
        let m = Membership {
            org_id: inv.org_id,
            user_id,
            role: inv.role,
            role_since: now,
            created_at: now,
            deactivated_at: None,
            expires_at: inv.access_until,
            engagement_id: inv.engagement_id.clone(),
        };
        match (
            &inv.engagement_id,
            store_user::membership_in(&mut tx, inv.org_id, user_id).await?,
        ) {
            // An auditor of an earlier engagement is attached to the new one.
            (Some(engagement), Some(before)) if before.role == Role::Auditor => {
                store_user::attach_auditor(
                    &mut tx,
                    inv.org_id,
                    user_id,
                    engagement,
                    inv.access_until,
                )
                .await?;
            }
            (_, Some(_)) => {
                return Err(AppError::Conflict {
                    field: "email".into(),
                    message: "this person is already a member of the organisation".into(),
                });
            }
            (_, None) => store_user::add_membership(&mut tx, &m, &inv.created_by).await?,
        }
        let acting = Caller {
            actor: attest_domain::audit::Actor::User(user_id),
            user: Some(user_id),
            ..caller.clone()
        };
        record(
            &mut tx,
            &acting,
            Event::org(inv.org_id, "member.join", "membership", user_id).after(&m),
        )
        .await?;
        tx.commit().await?;
        Ok(user_id)
    }

    /// Changes a member's role (not above one's own; the last owner stays an owner).
    pub async fn change_role(&self, caller: &Caller, user: UserId, role: Role) -> AppResult<()> {
        let org = caller.require(Permission::MembersManage)?;
        role_check(caller, role)?;
        if role == Role::Auditor {
            return Err(AppError::invalid(
                "role",
                "an auditor is invited from the engagement they audit (the role alone would show them nothing)",
            ));
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let before = store_user::membership_in(&mut tx, org, user)
            .await?
            .ok_or(AppError::NotFound("member"))?;
        role_check(caller, before.role)?;
        if before.role == role {
            return Ok(());
        }
        if before.role == Role::Owner && store_user::active_owners(&mut tx, org).await? <= 1 {
            return Err(AppError::Rule {
                rule: "last-owner",
                message: "an organisation needs at least one owner: make someone else owner first"
                    .into(),
            });
        }
        store_user::set_role(&mut tx, org, user, role, now, &caller.actor_text()).await?;
        let after = store_user::membership_in(&mut tx, org, user).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "member.role_change", "membership", user)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deactivates a member: their sessions end and their tokens stop working at once.
    pub async fn deactivate_member(&self, caller: &Caller, user: UserId) -> AppResult<()> {
        self.set_member_active(caller, user, false).await
    }

    /// Reactivates a deactivated member.
    pub async fn reactivate_member(&self, caller: &Caller, user: UserId) -> AppResult<()> {
        self.set_member_active(caller, user, true).await
    }

    async fn set_member_active(
        &self,
        caller: &Caller,
        user: UserId,
        active: bool,
    ) -> AppResult<()> {
        let org = caller.require(Permission::MembersManage)?;
        if caller.user == Some(user) {
            return Err(AppError::Rule {
                rule: "self-deactivation",
                message: "you cannot deactivate yourself".into(),
            });
        }
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let before = store_user::membership_in(&mut tx, org, user)
            .await?
            .ok_or(AppError::NotFound("member"))?;
        role_check(caller, before.role)?;
        if before.deactivated_at.is_none() == active {
            return Ok(());
        }
        if !active
            && before.role == Role::Owner
            && store_user::active_owners(&mut tx, org).await? <= 1
        {
            return Err(AppError::Rule {
                rule: "last-owner",
                message: "the last owner cannot be deactivated".into(),
            });
        }
        let at = (!active).then_some(now);
        store_user::set_deactivated(&mut tx, org, user, at, &caller.actor_text(), now).await?;
        if !active {
            store_session::revoke_all_of(&mut tx, &user.to_string(), None, now).await?;
        }
        let after = store_user::membership_in(&mut tx, org, user).await?;
        let action = if active {
            "member.reactivate"
        } else {
            "member.deactivate"
        };
        record(
            &mut tx,
            caller,
            Event::org(org, action, "membership", user)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who held which role since when, for the access review (ISO/IEC 27001 A.5.18).
    pub async fn access_review(&self, caller: &Caller) -> AppResult<Vec<RolePeriod>> {
        let org = caller.require(Permission::AccessReview)?;
        let mut tx = self.store.begin().await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "member.access_review_export", "organisation", org),
        )
        .await?;
        tx.commit().await?;
        Ok(store_user::role_history(&self.store, org).await?)
    }

    /// Creates a single-use password reset link for a member (passed on by the
    /// administrator; Attest sends no e-mail).
    pub async fn member_reset_link(&self, caller: &Caller, user: UserId) -> AppResult<String> {
        let org = caller.require(Permission::MembersManage)?;
        let m = store_user::membership(&self.store, org, user)
            .await?
            .ok_or(AppError::NotFound("member"))?;
        role_check(caller, m.role)?;
        self.reset_link(caller, Some(org), user).await
    }

    /// A reset link for any user (the command line on the server).
    pub(crate) async fn reset_link(
        &self,
        caller: &Caller,
        org: Option<OrgId>,
        user: UserId,
    ) -> AppResult<String> {
        let token = secret::token();
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        store_inv::insert_reset(
            &mut tx,
            &secret::token_hash(&token),
            user,
            now,
            now.plus(self.config.reset_ttl),
        )
        .await?;
        let orgs: Vec<OrgId> = match org {
            Some(o) => vec![o],
            None => store_user::memberships_of(&self.store, user)
                .await?
                .into_iter()
                .map(|m| m.org_id)
                .collect(),
        };
        for o in orgs {
            record(
                &mut tx,
                caller,
                Event::org(o, "auth.password_reset_issued", "user", user),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(format!(
            "{}/password-reset/{token}",
            self.config.public_url.trim_end_matches('/')
        ))
    }

    /// A reset link for an account by e-mail (the `attest user reset-password` command).
    pub async fn cli_reset_link(&self, email: &str) -> AppResult<String> {
        let email = normalise_email(email)?;
        let user = store_user::by_email(&self.store, &email)
            .await?
            .ok_or(AppError::NotFound("account"))?;
        self.reset_link(&Caller::cli(None), None, user.id).await
    }

    /// Whether any account exists (a new installation has none).
    pub async fn any_users(&self) -> AppResult<bool> {
        Ok(store_user::any_exist(&self.store).await?)
    }

    /// Whether a reset link can still be used.
    pub async fn reset_link_usable(&self, token: &str) -> AppResult<bool> {
        Ok(
            store_inv::reset_usable(&self.store, &secret::token_hash(token), Timestamp::now())
                .await?,
        )
    }

    /// Sets a new password with a reset link (once); ends every session of the user and
    /// lifts sign-in locks on the account.
    pub async fn complete_password_reset(
        &self,
        anon: &Caller,
        token: &str,
        new: &str,
    ) -> AppResult<()> {
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let Some(user_id) = store_inv::use_reset(&mut tx, &secret::token_hash(token), now).await?
        else {
            drop(tx);
            let mut tx = self.store.begin().await?;
            self.record_auth(
                &mut tx,
                anon,
                None,
                "auth.password_reset_refused",
                "reset-link",
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::NotFound(
                "reset link (unknown, already used or expired)",
            ));
        };
        let user = store_user::get_in(&mut tx, user_id).await?;
        password::check_new(new, &user.email)?;
        let hash = password::hash_async(new.to_owned()).await?;
        store_user::set_password(&mut tx, user_id, &hash, false, now).await?;
        store_session::revoke_all_of(&mut tx, &user_id.to_string(), None, now).await?;
        throttle::clear_account(&mut tx, &user.email, anon.ip.as_deref()).await?;
        let acting = Caller {
            actor: attest_domain::audit::Actor::User(user_id),
            user: Some(user_id),
            ..anon.clone()
        };
        for m in store_user::memberships_of(&self.store, user_id).await? {
            record(
                &mut tx,
                &acting,
                Event::org(m.org_id, "auth.password_reset", "user", user_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
