//! Signing in and out, the second factor, and turning a session cookie into a [`Caller`].

use attest_domain::audit::Actor;
use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::org as store_org;
use attest_store::session::{self as store_session, Session};
use attest_store::user::{self as store_user, Membership, User};
use serde::Serialize;

use super::{normalise_email, password, throttle};
use crate::audit_trail::{Event, record};
use crate::authz::Via;
use crate::secret;
use crate::{App, AppError, AppResult, Caller};

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// Fully signed in.
    Active,
    /// The second factor is still due.
    MfaPending,
    /// The organisation requires MFA and the user has not enrolled yet.
    MfaEnrolmentRequired,
    /// The user must choose a new password first.
    PasswordChangeRequired,
}

/// A session resolved for a request.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The caller it makes.
    pub caller: Caller,
    /// The stored session.
    pub session: Session,
    /// The user.
    pub user: User,
    /// Where the session stands.
    pub state: SessionState,
}

/// A session just opened: the cookie value is shown once.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The cookie value.
    pub token: String,
    /// The CSRF token for forms.
    pub csrf_token: String,
    /// Where the session stands.
    pub state: SessionState,
}

/// Settings stored per organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OrgSettings {
    /// Every staff member must use a second factor.
    #[serde(default)]
    pub mfa_required: bool,
}

impl App {
    pub(crate) async fn org_settings(&self, org: OrgId) -> AppResult<OrgSettings> {
        let v = store_org::settings(&self.store, org).await?;
        Ok(serde_json::from_value(v).unwrap_or_default())
    }

    /// Whether the organisation requires single sign-on of a member with this role (owners
    /// keep their password as a way in when the identity provider fails).
    pub(crate) async fn sso_required_for(&self, org: OrgId, role: Role) -> AppResult<bool> {
        // Owners keep a way in; external auditors are not in the organisation's directory.
        if matches!(role, Role::Owner | Role::Auditor) {
            return Ok(false);
        }
        Ok(attest_store::sso::config(&self.store, org)
            .await?
            .is_some_and(|c| c.enabled && c.required))
    }

    /// The first organisation a password sign-in may open: an active membership in an
    /// organisation that does not require single sign-on of this member.
    async fn first_active_membership(
        &self,
        user: UserId,
        now: Timestamp,
    ) -> AppResult<Option<Membership>> {
        for m in store_user::memberships_of(&self.store, user).await? {
            if m.active_at(now) && !self.sso_required_for(m.org_id, m.role).await? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    async fn state_of(&self, user: &User, session: &Session) -> AppResult<SessionState> {
        if session.mfa_pending {
            return Ok(SessionState::MfaPending);
        }
        if user.must_change_password {
            return Ok(SessionState::PasswordChangeRequired);
        }
        if !user.mfa_enabled()
            && !session.via_sso
            && let Some(org) = session.org_id
            && self.org_settings(org).await?.mfa_required
        {
            return Ok(SessionState::MfaEnrolmentRequired);
        }
        Ok(SessionState::Active)
    }

    /// Signs in with e-mail and password. Failures are counted, throttled and recorded.
    pub async fn sign_in(
        &self,
        anon: &Caller,
        email: &str,
        password_text: &str,
    ) -> AppResult<Opened> {
        let refused =
            || AppError::Unauthenticated("the e-mail address or password is not right".into());
        let Ok(email) = normalise_email(email) else {
            return Err(refused());
        };
        let now = Timestamp::now();
        let keys = throttle::keys(&email, anon.ip.as_deref());
        {
            let mut tx = self.store.begin().await?;
            let checked = throttle::check(&mut tx, &keys, now).await;
            if let Err(e) = checked {
                let user = store_user::by_email_in(&mut tx, &email).await?;
                self.record_auth(
                    &mut tx,
                    anon,
                    user.as_ref(),
                    "auth.sign_in_throttled",
                    &email,
                )
                .await?;
                tx.commit().await?;
                return Err(e);
            }
            tx.commit().await?;
        }
        let user = store_user::by_email(&self.store, &email).await?;
        let usable = user
            .as_ref()
            .filter(|u| u.disabled_at.is_none() && u.kind == "person");
        let ok = password::verify_async(
            password_text.to_owned(),
            usable.and_then(|u| u.password_hash.clone()),
        )
        .await;
        let membership = match usable {
            Some(u) if ok => self.first_active_membership(u.id, now).await?,
            _ => None,
        };
        if let Some(u) = usable.filter(|_| ok && membership.is_none())
            && store_user::memberships_of(&self.store, u.id)
                .await?
                .iter()
                .any(|m| m.active_at(now))
        {
            // The password was right, but every organisation of this person requires SSO.
            let mut tx = self.store.begin().await?;
            self.record_auth(&mut tx, anon, Some(u), "auth.sign_in_sso_required", &email)
                .await?;
            tx.commit().await?;
            return Err(AppError::Unauthenticated(
                "your organisation requires single sign-on: use the single sign-on button".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        let (Some(user), Some(membership)) = (usable.filter(|_| ok), membership) else {
            let locked = throttle::fail(&mut tx, &keys, now).await?;
            self.record_auth(&mut tx, anon, user.as_ref(), "auth.sign_in_failed", &email)
                .await?;
            if locked {
                self.record_auth(&mut tx, anon, user.as_ref(), "auth.lockout", &email)
                    .await?;
            }
            tx.commit().await?;
            return Err(refused());
        };
        throttle::clear_account(&mut tx, &email, anon.ip.as_deref()).await?;
        if let Some(stored) = &user.password_hash
            && password::needs_rehash(stored)
        {
            let fresh = password::hash_async(password_text.to_owned()).await?;
            store_user::set_password(&mut tx, user.id, &fresh, user.must_change_password, now)
                .await?;
        }
        let opened = self
            .open_session(
                &mut tx,
                anon,
                user,
                membership.org_id,
                user.mfa_enabled(),
                false,
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(opened)
    }

    /// Opens a session for a user in an organisation (after a password or SSO sign-in).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open_session(
        &self,
        tx: &mut attest_store::Tx,
        anon: &Caller,
        user: &User,
        org: OrgId,
        mfa_pending: bool,
        via_sso: bool,
        now: Timestamp,
    ) -> AppResult<Opened> {
        let token = secret::token();
        let session = Session {
            id_hash: secret::token_hash(&token),
            kind: "staff".into(),
            user_id: Some(user.id.to_string()),
            org_id: Some(org),
            csrf_token: secret::token(),
            mfa_pending,
            via_sso,
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus(self.config.session_absolute),
            ip: anon.ip.clone(),
            user_agent: anon
                .user_agent
                .as_ref()
                .map(|u| u.chars().take(300).collect()),
            revoked_at: None,
        };
        store_session::insert(tx, &session).await?;
        let caller = Caller {
            actor: Actor::User(user.id),
            user: Some(user.id),
            org: Some(org),
            role: None,
            engagement: None,
            via: Via::Session(session.id_hash.clone()),
            ip: anon.ip.clone(),
            user_agent: anon.user_agent.clone(),
        };
        let action = if via_sso {
            "auth.sign_in_sso"
        } else {
            "auth.sign_in"
        };
        record(
            tx,
            &caller,
            Event::org(org, action, "user", user.id).after(&serde_json::json!({
                "ip": anon.ip, "mfa_pending": mfa_pending, "session": &session.id_hash[..12],
            })),
        )
        .await?;
        let state = self.state_of(user, &session).await?;
        Ok(Opened {
            token,
            csrf_token: session.csrf_token,
            state,
        })
    }

    /// Records an authentication event in the chain of every organisation the user belongs
    /// to (so their administrators see it), or the instance chain for unknown addresses.
    pub(crate) async fn record_auth(
        &self,
        tx: &mut attest_store::Tx,
        anon: &Caller,
        user: Option<&User>,
        action: &str,
        email: &str,
    ) -> AppResult<()> {
        let detail =
            serde_json::json!({ "email": email, "ip": anon.ip, "user_agent": anon.user_agent });
        let orgs: Vec<OrgId> = match user {
            Some(u) => store_user::memberships_of(&self.store, u.id)
                .await?
                .into_iter()
                .map(|m| m.org_id)
                .collect(),
            None => Vec::new(),
        };
        if orgs.is_empty() {
            record(
                tx,
                anon,
                Event::instance(action, "email", email).after(&detail),
            )
            .await?;
        }
        for org in orgs {
            let id = user.map(|u| u.id.to_string()).unwrap_or_default();
            record(tx, anon, Event::org(org, action, "user", id).after(&detail)).await?;
        }
        Ok(())
    }

    /// Turns a session cookie into a caller, or `None` if the session is unknown, revoked,
    /// idle too long, past its absolute end, or its user or membership is no longer active.
    pub async fn resolve_session(
        &self,
        token: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> AppResult<Option<Resolved>> {
        let now = Timestamp::now();
        let Some(session) = store_session::get(&self.store, &secret::token_hash(token)).await?
        else {
            return Ok(None);
        };
        if session.kind != "staff"
            || session.revoked_at.is_some()
            || session.expires_at <= now
            || session.last_seen_at.plus(self.config.session_idle) <= now
        {
            return Ok(None);
        }
        let Some(user_id) = session.staff_user() else {
            return Ok(None);
        };
        let user = store_user::get(&self.store, user_id).await?;
        if user.disabled_at.is_some() {
            return Ok(None);
        }
        let Some(org) = session.org_id else {
            return Ok(None);
        };
        let Some(m) = store_user::membership(&self.store, org, user_id).await? else {
            return Ok(None);
        };
        if !m.active_at(now) || (!session.via_sso && self.sso_required_for(org, m.role).await?) {
            return Ok(None);
        }
        if now.as_micros() - session.last_seen_at.as_micros() > 60_000_000 {
            store_session::touch(&self.store, &session.id_hash, now).await?;
        }
        let state = self.state_of(&user, &session).await?;
        let caller = Caller {
            actor: Actor::User(user.id),
            user: Some(user.id),
            org: Some(org),
            // Until the session is complete, it grants no role at all.
            role: (state == SessionState::Active).then_some(m.role),
            engagement: (m.role == Role::Auditor)
                .then(|| m.engagement_id.clone())
                .flatten(),
            via: Via::Session(session.id_hash.clone()),
            ip,
            user_agent,
        };
        Ok(Some(Resolved {
            caller,
            session,
            user,
            state,
        }))
    }

    /// Signs out: revokes the caller's session.
    pub async fn sign_out(&self, caller: &Caller) -> AppResult<()> {
        let Via::Session(id) = &caller.via else {
            return Ok(());
        };
        let mut tx = self.store.begin().await?;
        if store_session::revoke(&mut tx, id, None, Timestamp::now()).await?
            && let (Some(org), Some(user)) = (caller.org, caller.user)
        {
            record(
                &mut tx,
                caller,
                Event::org(org, "auth.sign_out", "user", user),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The caller's live sessions.
    pub async fn my_sessions(&self, caller: &Caller) -> AppResult<Vec<Session>> {
        let user = caller.require_user()?;
        Ok(store_session::list_of(&self.store, &user.to_string(), Timestamp::now()).await?)
    }

    /// Revokes one of the caller's own sessions (by its id hash).
    pub async fn revoke_my_session(&self, caller: &Caller, id_hash: &str) -> AppResult<()> {
        let user = caller.require_user()?;
        let mut tx = self.store.begin().await?;
        if !store_session::revoke(&mut tx, id_hash, Some(&user.to_string()), Timestamp::now())
            .await?
        {
            return Err(AppError::NotFound("session"));
        }
        if let Some(org) = caller.org {
            record(
                &mut tx,
                caller,
                Event::org(
                    org,
                    "auth.session_revoke",
                    "session",
                    &id_hash[..id_hash.len().min(12)],
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves the caller's session to another organisation they are an active member of.
    pub async fn switch_org(&self, caller: &Caller, org: OrgId) -> AppResult<()> {
        let user = caller.require_user()?;
        let Via::Session(id) = &caller.via else {
            return Err(AppError::Forbidden(
                "only a browser session can switch organisation".into(),
            ));
        };
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let Some(m) = store_user::membership_in(&mut tx, org, user)
            .await?
            .filter(|m| m.active_at(now))
        else {
            return Err(AppError::NotFound("organisation"));
        };
        let session = store_session::get(&self.store, id)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("sign in again".into()))?;
        // A single sign-on proves who someone is only to the organisation whose provider
        // answered: reaching another one takes a sign-in of its own.
        if session.via_sso && Some(org) != caller.org {
            return Err(AppError::Forbidden(
                "you signed in with your organisation's single sign-on: sign in again to reach another organisation".into(),
            ));
        }
        if !session.via_sso && self.sso_required_for(org, m.role).await? {
            return Err(AppError::Forbidden(
                "that organisation requires single sign-on: sign in with it".into(),
            ));
        }
        store_session::set_org(&mut tx, id, org).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "auth.switch_org", "user", user),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the caller's own password (the current one is required unless a change is
    /// forced after a one-time password). Ends the caller's other sessions.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> AppResult<()> {
        let user_id = caller.require_user()?;
        let user = store_user::get(&self.store, user_id).await?;
        password::check_new(new, &user.email)?;
        if !password::verify_async(current.to_owned(), user.password_hash.clone()).await {
            return Err(AppError::invalid(
                "current_password",
                "the current password is not right",
            ));
        }
        if current == new {
            return Err(AppError::invalid(
                "password",
                "choose a password different from the current one",
            ));
        }
        let hash = password::hash_async(new.to_owned()).await?;
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        store_user::set_password(&mut tx, user_id, &hash, false, now).await?;
        let keep = match &caller.via {
            Via::Session(id) => Some(id.as_str()),
            _ => None,
        };
        store_session::revoke_all_of(&mut tx, &user_id.to_string(), keep, now).await?;
        for m in store_user::memberships_of(&self.store, user_id).await? {
            record(
                &mut tx,
                caller,
                Event::org(m.org_id, "auth.password_change", "user", user_id),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The role the caller holds in each organisation they can switch to.
    pub async fn my_organisations(
        &self,
        caller: &Caller,
    ) -> AppResult<Vec<(attest_domain::org::Organisation, Role)>> {
        let user = caller.require_user()?;
        let now = Timestamp::now();
        let mut out = Vec::new();
        for m in store_user::memberships_of(&self.store, user).await? {
            if m.active_at(now) {
                out.push((store_org::get(&self.store, m.org_id).await?, m.role));
            }
        }
        out.sort_by_key(|(o, _)| o.name.to_lowercase());
        Ok(out)
    }
}
