//! API tokens for a user or a service account: shown once, stored hashed, scoped to a role
//! no higher than their creator's, expiring, revocable, with their last use recorded.

use attest_domain::audit::Actor;
use attest_domain::role::Role;
use attest_domain::{Timestamp, UserId};
use attest_store::token::{self as store_token, ApiToken};
use attest_store::user::{self as store_user, Membership, User};

use super::check_display_name;
use crate::audit_trail::{Event, record};
use crate::authz::Via;
use crate::secret;
use crate::{App, AppError, AppResult, Caller, Permission};

/// Prefix of every token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "attest_";
/// Longest lifetime of a token.
pub const MAX_DAYS: i64 = 366;

/// A token just created: the secret is shown once.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    /// The stored token.
    pub token: ApiToken,
    /// The secret to give to the client.
    pub secret: String,
}

impl App {
    /// Tokens the caller may see: all of the organisation's with `TokensManage`, else their own.
    pub async fn tokens(&self, caller: &Caller) -> AppResult<Vec<ApiToken>> {
        let org = caller
            .require(Permission::TokensOwn)
            .or_else(|_| caller.require(Permission::TokensManage))?;
        let all = store_token::list(&self.store, org).await?;
        if caller.require(Permission::TokensManage).is_ok() {
            Ok(all)
        } else {
            Ok(all
                .into_iter()
                .filter(|t| Some(t.user_id) == caller.user)
                .collect())
        }
    }

    /// Creates a token acting as `for_user` (the caller when `None`; a service account needs
    /// `TokensManage`), with a role no higher than the caller's, for `days` days.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        role: Role,
        days: i64,
        for_user: Option<UserId>,
    ) -> AppResult<CreatedToken> {
        let org = caller.require(Permission::TokensOwn)?;
        let me = caller.require_user()?;
        let mine = caller.role.unwrap_or(Role::Viewer);
        if !mine.may_grant(role) || role == Role::Auditor {
            return Err(AppError::invalid(
                "role",
                format!("a token's role cannot be above your own ({})", mine.label()),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "give the token a name of 1 to 100 characters",
            ));
        }
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(AppError::invalid(
                "expires_in_days",
                format!("a token lasts 1 to {MAX_DAYS} days"),
            ));
        }
        let target = for_user.unwrap_or(me);
        if target != me {
            caller.require(Permission::TokensManage)?;
            let u = store_user::get(&self.store, target)
                .await
                .map_err(|_| AppError::NotFound("service account"))?;
            let m = store_user::membership(&self.store, org, target).await?;
            if u.kind != "service" || m.is_none() {
                return Err(AppError::NotFound("service account"));
            }
        }
        let secret_text = format!("{TOKEN_PREFIX}{}", secret::token());
        let now = Timestamp::now();
        let token = ApiToken {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org,
            user_id: target,
            name: name.to_owned(),
            token_hash: secret::token_hash(&secret_text),
            prefix: secret_text[..TOKEN_PREFIX.len() + 6].to_owned(),
            role,
            created_by: caller.actor_text(),
            created_at: now,
            expires_at: now.plus(time::Duration::days(days)),
            revoked_at: None,
            last_used_at: None,
        };
        let mut tx = self.store.begin().await?;
        store_token::insert(&mut tx, &token).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "token.create", "api_token", &token.id).after(&token),
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedToken {
            token,
            secret: secret_text,
        })
    }

    /// Revokes a token (one's own, or any with `TokensManage`).
    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> AppResult<()> {
        let org = caller.require(Permission::TokensOwn)?;
        let t = store_token::get(&self.store, org, id)
            .await?
            .ok_or(AppError::NotFound("token"))?;
        if Some(t.user_id) != caller.user {
            caller
                .require(Permission::TokensManage)
                .map_err(|_| AppError::NotFound("token"))?;
        }
        let mut tx = self.store.begin().await?;
        if !store_token::revoke(&mut tx, org, id, Timestamp::now()).await? {
            return Err(AppError::Conflict {
                field: "id".into(),
                message: "the token is already revoked".into(),
            });
        }
        record(
            &mut tx,
            caller,
            Event::org(org, "token.revoke", "api_token", id).before(&t),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a service account (a non-person member that only acts through tokens).
    pub async fn create_service_account(
        &self,
        caller: &Caller,
        name: &str,
        role: Role,
    ) -> AppResult<User> {
        let org = caller.require(Permission::TokensManage)?;
        if !caller.role.unwrap_or(Role::Viewer).may_grant(role) || role == Role::Auditor {
            return Err(AppError::invalid(
                "role",
                "a service account's role cannot be above your own",
            ));
        }
        let name = check_display_name(name)?;
        let now = Timestamp::now();
        let id = UserId::new();
        let user = User {
            id,
            kind: "service".into(),
            email: format!("service-{}@service.attest.invalid", id.0.simple()),
            display_name: name,
            password_hash: None,
            must_change_password: false,
            totp_secret: None,
            totp_pending_secret: None,
            totp_last_step: None,
            totp_enabled_at: None,
            created_at: now,
            disabled_at: None,
        };
        let m = Membership {
            org_id: org,
            user_id: id,
            role,
            role_since: now,
            created_at: now,
            deactivated_at: None,
            expires_at: None,
            engagement_id: None,
        };
        let mut tx = self.store.begin().await?;
        store_user::insert(&mut tx, &user).await?;
        store_user::add_membership(&mut tx, &m, &caller.actor_text()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "service_account.create", "user", id).after(&user),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Turns a bearer token into a caller. Unknown, expired, revoked tokens, and tokens of
    /// deactivated members, are refused (and the refusal of a known token recorded).
    pub async fn resolve_token(
        &self,
        secret_text: &str,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> AppResult<Caller> {
        let refused = || AppError::Unauthenticated("the API token is not valid".into());
        if !secret_text.starts_with(TOKEN_PREFIX) || secret_text.len() > 200 {
            return Err(refused());
        }
        let Some(t) = store_token::by_hash(&self.store, &secret::token_hash(secret_text)).await?
        else {
            return Err(refused());
        };
        let now = Timestamp::now();
        let user = store_user::get(&self.store, t.user_id).await?;
        let membership = store_user::membership(&self.store, t.org_id, t.user_id).await?;
        let live = t.revoked_at.is_none()
            && t.expires_at > now
            && user.disabled_at.is_none()
            && membership.as_ref().is_some_and(|m| m.active_at(now));
        let caller = Caller {
            actor: Actor::Token {
                token: t.id.clone(),
                user: t.user_id,
            },
            user: Some(t.user_id),
            org: Some(t.org_id),
            // Never more than the member holds today, whatever the token says; an auditor's
            // token is an auditor's, whatever role it names.
            engagement: membership
                .as_ref()
                .filter(|m| m.role == Role::Auditor)
                .and_then(|m| m.engagement_id.clone()),
            role: membership.map(|m| {
                if m.role == Role::Auditor || m.role.rank() < t.role.rank() {
                    m.role
                } else {
                    t.role
                }
            }),
            via: Via::Token(t.id.clone()),
            ip,
            user_agent,
        };
        if !live {
            let mut tx = self.store.begin().await?;
            record(
                &mut tx,
                &caller,
                Event::org(t.org_id, "token.refused", "api_token", &t.id),
            )
            .await?;
            tx.commit().await?;
            return Err(refused());
        }
        if t.last_used_at
            .is_none_or(|u| now.as_micros() - u.as_micros() > 60_000_000)
        {
            store_token::touch(&self.store, &t.id, now).await?;
        }
        Ok(caller)
    }
}
