//! Single sign-on with OpenID Connect (authorization code flow with PKCE), per organisation:
//! issuer discovery, just-in-time accounts with a default role, roles from an identity
//! provider's group claim, and an "SSO required" rule.

use std::collections::BTreeMap;

use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::sso::{self as store_sso, PendingLogin, SsoConfig};
use attest_store::user::{self as store_user, Membership, User};
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::session::Opened;
use super::{check_display_name, normalise_email};
use crate::audit_trail::{Event, record};
use crate::secret;
use crate::{App, AppError, AppResult, Caller, Permission};

/// How long a sign-in may take at the identity provider.
const LOGIN_TTL_MINUTES: i64 = 10;

/// The settings an owner edits (the client secret is write-only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    /// Issuer URL.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (empty when reading; empty when writing keeps the stored one).
    #[serde(default, skip_serializing)]
    pub client_secret: String,
    /// Role given to accounts created at first sign-in.
    pub default_role: String,
    /// Claim listing groups (for example `groups`).
    pub group_claim: Option<String>,
    /// Group → role.
    pub group_roles: BTreeMap<String, String>,
    /// SSO offered.
    pub enabled: bool,
    /// SSO required for everyone but owners.
    pub required: bool,
}

fn http_client() -> AppResult<reqwest::Client> {
    reqwest::ClientBuilder::new()
        // Following redirects would let an issuer send Attest's requests anywhere.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// An issuer must be `https://`, except on this machine (tests, local providers).
fn check_issuer(issuer: &str) -> AppResult<IssuerUrl> {
    let url = url_parse(issuer)?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && local) {
        return Err(AppError::invalid(
            "issuer",
            "the issuer must be an https:// URL",
        ));
    }
    IssuerUrl::new(issuer.trim_end_matches('/').to_owned())
        .map_err(|e| AppError::invalid("issuer", e.to_string()))
}

fn url_parse(s: &str) -> AppResult<reqwest::Url> {
    reqwest::Url::parse(s).map_err(|_| {
        AppError::invalid(
            "issuer",
            "enter the issuer as a URL, like https://login.example.com",
        )
    })
}

fn parse_role(field: &str, s: &str) -> AppResult<Role> {
    let r: Role = s
        .parse()
        .map_err(|e: attest_domain::role::UnknownRole| AppError::invalid(field, e.to_string()))?;
    if r == Role::Auditor {
        return Err(AppError::invalid(
            field,
            "auditors are attached to an engagement, not given through single sign-on",
        ));
    }
    Ok(r)
}

/// Discovery, then a client for the organisation's provider.
async fn client(
    cfg: &SsoConfig,
    redirect: &str,
) -> AppResult<(
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    reqwest::Client,
)> {
    let http = http_client()?;
    let issuer = check_issuer(&cfg.issuer)?;
    let meta = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| {
            AppError::Unauthenticated(format!(
                "the identity provider cannot be reached or described itself wrongly: {e}"
            ))
        })?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.clone()),
        Some(ClientSecret::new(cfg.client_secret.clone())),
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect.to_owned()).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    Ok((client, http))
}

impl App {
    fn sso_redirect_uri(&self) -> String {
        format!(
            "{}/sso/callback",
            self.config.public_url.trim_end_matches('/')
        )
    }

    /// The organisation's SSO settings (owners).
    pub async fn sso_settings(&self, caller: &Caller) -> AppResult<Option<SsoSettings>> {
        let org = caller.require(Permission::OrgManage)?;
        Ok(store_sso::config(&self.store, org)
            .await?
            .map(|c| SsoSettings {
                issuer: c.issuer,
                client_id: c.client_id,
                client_secret: String::new(),
                default_role: c.default_role,
                group_claim: c.group_claim,
                group_roles: serde_json::from_str(&c.group_roles).unwrap_or_default(),
                enabled: c.enabled,
                required: c.required,
            }))
    }

    /// The address to register at the identity provider as the redirect URI.
    pub fn sso_redirect(&self) -> String {
        self.sso_redirect_uri()
    }

    /// Saves the organisation's SSO settings after checking the provider answers discovery.
    pub async fn configure_sso(&self, caller: &Caller, s: SsoSettings) -> AppResult<()> {
        let org = caller.require(Permission::OrgManage)?;
        check_issuer(&s.issuer)?;
        if s.client_id.trim().is_empty() {
            return Err(AppError::invalid(
                "client_id",
                "enter the client id registered at the identity provider",
            ));
        }
        parse_role("default_role", &s.default_role)?;
        for (group, role) in &s.group_roles {
            if group.trim().is_empty() {
                return Err(AppError::invalid("group_roles", "a group name is empty"));
            }
            parse_role("group_roles", role)?;
        }
        let before = store_sso::config(&self.store, org).await?;
        let secret_text = if s.client_secret.is_empty() {
            before
                .as_ref()
                .map(|b| b.client_secret.clone())
                .unwrap_or_default()
        } else {
            s.client_secret.clone()
        };
        if secret_text.is_empty() {
            return Err(AppError::invalid(
                "client_secret",
                "enter the client secret",
            ));
        }
        let cfg = SsoConfig {
            org_id: org,
            issuer: s.issuer.trim().trim_end_matches('/').to_owned(),
            client_id: s.client_id.trim().to_owned(),
            client_secret: secret_text,
            default_role: s.default_role.clone(),
            group_claim: s.group_claim.clone().filter(|g| !g.trim().is_empty()),
            group_roles: serde_json::to_string(&s.group_roles).unwrap_or_else(|_| "{}".into()),
            enabled: s.enabled,
            required: s.required && s.enabled,
            updated_at: Timestamp::now(),
        };
        if cfg.enabled {
            // Refuse settings that cannot work rather than lock people out later.
            client(&cfg, &self.sso_redirect_uri())
                .await
                .map_err(|e| AppError::invalid("issuer", e.to_string()))?;
        }
        let mut tx = self.store.begin().await?;
        store_sso::put_config(&mut tx, &cfg).await?;
        let shown = |c: &SsoConfig| {
            serde_json::json!({
                "issuer": c.issuer, "client_id": c.client_id, "default_role": c.default_role,
                "group_claim": c.group_claim, "group_roles": c.group_roles, "enabled": c.enabled, "required": c.required,
            })
        };
        let mut e = Event::org(org, "sso.configure", "organisation", org).after(&shown(&cfg));
        if let Some(b) = &before {
            e = e.before(&shown(b));
        }
        record(&mut tx, caller, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a sign-in with an organisation's identity provider: the URL to send the
    /// browser to. The state, nonce and PKCE verifier are kept server-side, single use, and
    /// bound to `browser` (a token only that browser holds), so the answer is accepted only
    /// in the browser that asked.
    pub async fn sso_start(
        &self,
        org_slug: &str,
        return_to: &str,
        browser: &str,
    ) -> AppResult<String> {
        let unknown = || AppError::NotFound("single sign-on for that organisation");
        let org = self
            .organisation_by_slug(org_slug.trim())
            .await
            .map_err(|_| unknown())?;
        let cfg = store_sso::config(&self.store, org.id)
            .await?
            .filter(|c| c.enabled)
            .ok_or_else(unknown)?;
        let (client, _) = client(&cfg, &self.sso_redirect_uri()).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        store_sso::insert_login(
            &mut tx,
            &PendingLogin {
                state_hash: secret::token_hash(state.secret()),
                org_id: org.id,
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                return_to: return_to.to_owned(),
                browser_hash: secret::token_hash(browser),
                created_at: now,
                expires_at: now.plus(time::Duration::minutes(LOGIN_TTL_MINUTES)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in when the provider sends the browser back: checks the state (once),
    /// exchanges the code with the PKCE verifier, verifies the ID token (signature, issuer,
    /// audience, expiry, nonce), then finds, links or creates the account. Returns the
    /// session and where to go.
    pub async fn sso_callback(
        &self,
        anon: &Caller,
        state: &str,
        code: &str,
        browser: &str,
    ) -> AppResult<(Opened, String)> {
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        let pending = store_sso::take_login(&mut tx, &secret::token_hash(state), now).await?;
        let Some(p) = pending else {
            record(
                &mut tx,
                anon,
                Event::instance("auth.sso_refused", "sso", "state").after(
                    &serde_json::json!({"reason": "unknown, used or expired state", "ip": anon.ip}),
                ),
            )
            .await?;
            tx.commit().await?;
            return Err(AppError::Unauthenticated(
                "this sign-in link is unknown, already used or expired: start again".into(),
            ));
        };
        tx.commit().await?;
        let from_other_browser =
            !secret::constant_time_eq(&secret::token_hash(browser), &p.browser_hash);
        let refuse = |reason: String| async move {
            let mut tx = self.store.begin().await?;
            record(
                &mut tx,
                anon,
                Event::org(p.org_id, "auth.sso_refused", "sso", p.org_id)
                    .after(&serde_json::json!({"reason": reason, "ip": anon.ip})),
            )
            .await?;
            tx.commit().await?;
            Err::<(Opened, String), AppError>(AppError::Unauthenticated(format!(
                "single sign-on failed: {reason}"
            )))
        };
        if from_other_browser {
            return refuse("this sign-in was started in another browser: start again here".into())
                .await;
        }
        let Some(cfg) = store_sso::config(&self.store, p.org_id)
            .await?
            .filter(|c| c.enabled)
        else {
            return refuse("single sign-on is turned off for this organisation".into()).await;
        };
        let (client, http) = client(&cfg, &self.sso_redirect_uri()).await?;
        let exchange = match client.exchange_code(AuthorizationCode::new(code.to_owned())) {
            Ok(x) => x,
            Err(e) => return refuse(format!("the provider has no token endpoint: {e}")).await,
        };
        let tokens = match exchange
            .set_pkce_verifier(PkceCodeVerifier::new(p.pkce_verifier.clone()))
            .request_async(&http)
            .await
        {
            Ok(t) => t,
            Err(e) => return refuse(format!("the code was refused by the provider: {e}")).await,
        };
        let Some(id_token) = tokens.id_token() else {
            return refuse("the provider sent no ID token".into()).await;
        };
        let claims =
            match id_token.claims(&client.id_token_verifier(), &Nonce::new(p.nonce.clone())) {
                Ok(c) => c.clone(),
                Err(e) => return refuse(format!("the ID token did not verify: {e}")).await,
            };
        // The token verified; read the claims the standard set does not name from its payload.
        let raw: serde_json::Value = id_token
            .to_string()
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let subject = claims.subject().to_string();
        let email = match claims.email().map(|e| e.to_string()) {
            Some(e) if claims.email_verified() != Some(false) => normalise_email(&e).ok(),
            _ => None,
        };
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| email.clone())
            .unwrap_or_else(|| "Single sign-on user".into());
        let groups: Vec<String> = cfg
            .group_claim
            .as_deref()
            .and_then(|c| raw.get(c))
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mapped: BTreeMap<String, String> =
            serde_json::from_str(&cfg.group_roles).unwrap_or_default();
        let group_role = groups
            .iter()
            .filter_map(|g| mapped.get(g))
            .filter_map(|r| r.parse::<Role>().ok())
            .max_by_key(|r| r.rank());
        let default_role: Role = cfg.default_role.parse().unwrap_or(Role::Viewer);
        match self
            .sso_account(
                anon,
                &cfg,
                &subject,
                email,
                &name,
                group_role,
                default_role,
                now,
            )
            .await
        {
            Ok((user, org)) => {
                let mut tx = self.store.begin().await?;
                let opened = self
                    .open_session(&mut tx, anon, &user, org, false, true, now)
                    .await?;
                tx.commit().await?;
                Ok((opened, p.return_to))
            }
            Err(e) => refuse(e.to_string()).await,
        }
    }

    /// Finds the account for a verified identity, or creates it (just in time), and makes
    /// sure it is an active member with the role the groups give.
    #[allow(clippy::too_many_arguments)]
    async fn sso_account(
        &self,
        anon: &Caller,
        cfg: &SsoConfig,
        subject: &str,
        email: Option<String>,
        name: &str,
        group_role: Option<Role>,
        default_role: Role,
        now: Timestamp,
    ) -> AppResult<(User, OrgId)> {
        let org = cfg.org_id;
        let mut tx = self.store.begin().await?;
        let linked = store_sso::linked_user(&mut tx, &cfg.issuer, subject).await?;
        let user = match linked {
            Some(id) => store_user::get_in(&mut tx, id).await?,
            None => {
                let email = email.ok_or_else(|| {
                    AppError::Unauthenticated(
                        "the provider did not give a verified e-mail address".into(),
                    )
                })?;
                match store_user::by_email_in(&mut tx, &email).await? {
                    // An existing account is linked only if this organisation already has it
                    // as a member: a provider must not take over an account of another tenant.
                    Some(u) if store_user::membership_in(&mut tx, org, u.id).await?.is_some() => u,
                    Some(_) => {
                        return Err(AppError::Unauthenticated(
                            "this e-mail address already has an Attest account: ask an owner to invite it first".into(),
                        ));
                    }
                    None => {
                        let u = User {
                            id: UserId::new(),
                            kind: "person".into(),
                            email,
                            display_name: check_display_name(name).unwrap_or_else(|_| "Single sign-on user".into()),
                            password_hash: None,
                            must_change_password: false,
                            totp_secret: None,
                            totp_pending_secret: None,
                            totp_last_step: None,
                            totp_enabled_at: None,
                            created_at: now,
                            disabled_at: None,
                        };
                        store_user::insert(&mut tx, &u).await?;
                        let acting = Caller { actor: attest_domain::audit::Actor::User(u.id), user: Some(u.id), ..anon.clone() };
                        record(&mut tx, &acting, Event::org(org, "sso.account_create", "user", u.id).after(&u)).await?;
                        u
                    }
                }
                .clone()
            }
        };
        if linked.is_none() {
            store_sso::link(&mut tx, &cfg.issuer, subject, user.id, now).await?;
        }
        if user.disabled_at.is_some() {
            return Err(AppError::Unauthenticated("this account is disabled".into()));
        }
        let acting = Caller {
            actor: attest_domain::audit::Actor::User(user.id),
            user: Some(user.id),
            org: Some(org),
            ..anon.clone()
        };
        match store_user::membership_in(&mut tx, org, user.id).await? {
            None => {
                let m = Membership {
                    org_id: org,
                    user_id: user.id,
                    role: group_role.unwrap_or(default_role),
                    role_since: now,
                    created_at: now,
                    deactivated_at: None,
                    expires_at: None,
                    engagement_id: None,
                };
                store_user::add_membership(&mut tx, &m, "sso").await?;
                record(
                    &mut tx,
                    &acting,
                    Event::org(org, "member.join", "membership", user.id).after(&m),
                )
                .await?;
            }
            Some(m) if !m.active_at(now) => {
                return Err(AppError::Unauthenticated(
                    "your membership of this organisation is deactivated".into(),
                ));
            }
            Some(m) => {
                if let Some(r) = group_role.filter(|r| *r != m.role && m.role != Role::Auditor) {
                    store_user::set_role(&mut tx, org, user.id, r, now, "sso").await?;
                    let after = store_user::membership_in(&mut tx, org, user.id).await?;
                    record(
                        &mut tx,
                        &acting,
                        Event::org(org, "member.role_change", "membership", user.id)
                            .before(&m)
                            .after(&after),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok((user, org))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_https_except_on_this_machine() {
        assert!(check_issuer("https://login.example.com").is_ok());
        assert!(check_issuer("http://127.0.0.1:9000").is_ok());
        assert!(check_issuer("http://login.example.com").is_err());
        assert!(check_issuer("file:///etc/passwd").is_err());
        assert!(check_issuer("not a url").is_err());
    }
}
