//! The trust portal's customers (DOMAIN.md rule 7): accounts made by sign-up with a
//! verified e-mail address or by a staff invitation; the versioned NDA they click through (or
//! sign outside Attest, recorded by staff); access requests that staff approve or deny, with
//! expiry and revocation (or that an allow-listed e-mail domain approves at once); and
//! downloads of restricted documents through short-lived links bound to the account, each
//! PDF stamped on every page with who took it and logged.
//!
//! A restricted document is served only through [`App::portal_download`], and only after
//! [`App::entitlement`] finds, at that moment, a verified and enabled account, the document
//! on a published offering today, the current NDA accepted, and an approved, unexpired,
//! unrevoked grant naming the document. Every refusal is written to the download log with
//! its reason; the customer is told what to do, never anything about other customers or
//! documents.

use attest_domain::audit::Actor;
use attest_domain::{OrgId, Timestamp};
use attest_store::customers::{
    self as store_cust, Acceptance, AccessRequest, Account, Download, DownloadFilter, Nda, Purpose,
    Token,
};
use attest_store::workspace::Document;
use futures::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit_trail::{Event, record};
use crate::authz::Via;
use crate::identity::{normalise_email, password, throttle};
use crate::mail::Mail;
use crate::portal::Lang;
use crate::risk::text;
use crate::secret;
use crate::{App, AppError, AppResult, Caller, Permission};

/// How long a customer's session lasts.
const SESSION_HOURS: i64 = 12;
/// How long an e-mail verification link lasts.
const VERIFY_HOURS: i64 = 24;
/// How long a download link lasts.
const LINK_MINUTES: i64 = 5;
/// The longest grant a customer may ask for, or staff may give.
pub const MAX_GRANT_DAYS: i64 = 365;
/// The largest document the portal stamps (it is read into memory to be stamped).
const STAMP_LIMIT: u64 = 200 * 1024 * 1024;

/// Sign-ups from one address: at most this many an hour.
pub(crate) const SIGNUPS_PER_IP: throttle::Rule = throttle::Rule {
    allowed: 10,
    window_secs: 60 * 60,
    first_lock_secs: 60 * 60,
    max_lock_secs: 60 * 60,
};

/// Where a customer's request comes from.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// Address.
    pub ip: Option<String>,
    /// Browser.
    pub user_agent: Option<String>,
}

impl Client {
    pub(crate) fn ip(&self) -> String {
        self.ip.clone().unwrap_or_default()
    }

    fn ua(&self) -> String {
        self.user_agent.clone().unwrap_or_default()
    }
}

/// A sign-up as the customer types it.
#[derive(Debug, Clone, Default)]
pub struct SignUp {
    /// E-mail address.
    pub email: String,
    /// Name.
    pub name: String,
    /// Company.
    pub company: String,
    /// Password.
    pub password: String,
}

/// A signed-in customer: the organisation and the account.
#[derive(Debug, Clone)]
pub struct Customer {
    /// The organisation whose portal it is.
    pub org: OrgId,
    /// The portal's address slug.
    pub slug: String,
    /// The account.
    pub account: Account,
}

impl Customer {
    fn caller(&self, client: &Client) -> Caller {
        portal_caller(self.org, &self.account.id, client)
    }
}

pub(crate) fn portal_caller(org: OrgId, account: &str, client: &Client) -> Caller {
    Caller {
        actor: Actor::Portal(account.to_owned()),
        user: None,
        org: Some(org),
        role: None,
        engagement: None,
        via: Via::Anonymous,
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    }
}

/// A restricted document as a customer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct RestrictedDocument {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// `report`, `bridge-letter`, `soa`, `assessment-report` or `pentest-summary`.
    pub kind: String,
    /// Language.
    pub language: String,
    /// The engagement's reference and kind label (`SOC 2 Type 2`).
    pub engagement: String,
    /// The period or date it covers.
    pub period: String,
    /// SHA-256 of the original.
    pub sha256: String,
}

/// A customer's own page.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    /// The account.
    pub account: Account,
    /// The current NDA, in the customer's language, with its version (none: no NDA yet).
    pub nda: Option<(i64, String)>,
    /// Whether they accepted the current NDA (true when there is none).
    pub nda_accepted: bool,
    /// Whether they accepted an earlier version only.
    pub nda_outdated: bool,
    /// The restricted documents on the portal, each with the grant's end when they may take
    /// it now.
    pub documents: Vec<(RestrictedDocument, Option<Timestamp>)>,
    /// Their requests, newest first.
    pub requests: Vec<AccessRequest>,
    /// Whether sign-up by e-mail is possible (a mail transport is set up).
    pub can_mail: bool,
}

/// A request as staff see it in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedRequest {
    /// The request.
    pub request: AccessRequest,
    /// The customer.
    pub account: Account,
    /// Titles of the documents asked for.
    pub titles: Vec<String>,
    /// Whether the customer accepted the current NDA.
    pub nda_current: bool,
    /// `requested`, `approved`, `expired`, `denied` or `revoked`, as of now.
    pub state: String,
}

/// What staff see of the portal's customers.
#[derive(Debug, Clone, Serialize)]
pub struct CustomersAdmin {
    /// Accounts, newest first, each with the latest NDA version they accepted.
    pub accounts: Vec<(Account, Option<i64>)>,
    /// Requests, open ones first.
    pub requests: Vec<QueuedRequest>,
    /// NDA versions, newest first.
    pub ndas: Vec<Nda>,
    /// NDA acceptances, newest first.
    pub acceptances: Vec<Acceptance>,
    /// The allow-listed e-mail domains.
    pub auto_domains: Vec<String>,
    /// The restricted documents on the portal now.
    pub documents: Vec<RestrictedDocument>,
    /// Whether mail can be sent.
    pub can_mail: bool,
}

/// A staff decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Grant it for some days.
    Approve(i64),
    /// Refuse it.
    Deny,
    /// End an approved grant now.
    Revoke,
}

/// Downloads per day and per document (the analytics).
#[derive(Debug, Clone, Serialize)]
pub struct DownloadStats {
    /// Per day, oldest first: (day, served, refused).
    pub per_day: Vec<(time::Date, i64, i64)>,
    /// Per document title: served downloads, most first.
    pub per_document: Vec<(String, i64)>,
    /// Per company: served downloads, most first.
    pub per_company: Vec<(String, i64)>,
    /// Refusals per reason, most first.
    pub refusals: Vec<(String, i64)>,
}

/// Why a download is refused, as logged, and what the customer is told.
fn refusal(reason: &'static str) -> AppError {
    let message = match reason {
        "no-nda" => "accept the NDA before downloading restricted documents",
        "old-nda" => {
            "a new version of the NDA was published: read and accept it before your next download"
        }
        "no-grant" => "you have no access to this document: request access first",
        "grant-expired" => "your access to this document has ended: request access again",
        "grant-revoked" => "your access to this document was revoked",
        "account" => "this account cannot download documents",
        "link-expired" => {
            "this download link has expired: start the download again from your account page"
        }
        "link-used" => {
            "this download link was already used: start the download again from your account page"
        }
        _ => "this document is not available",
    };
    AppError::Rule {
        rule: "portal-access",
        message: message.to_owned(),
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl App {
    pub(crate) fn portal_link(&self, slug: &str, path: &str) -> String {
        format!(
            "{}/trust/{slug}/{path}",
            self.config.public_url.trim_end_matches('/')
        )
    }

    /// Signs a customer up: the account waits for its e-mail address to be confirmed by the
    /// link sent to it. An address that already has an account gets the same answer (and,
    /// if still unconfirmed, a new link), so sign-up tells nobody who is a customer.
    pub async fn portal_sign_up(
        &self,
        slug: &str,
        input: SignUp,
        lang: Lang,
        client: &Client,
    ) -> AppResult<()> {
        let (org, settings) = self.portal_org(slug).await?;
        if !self.can_send_mail() {
            return Err(AppError::Rule {
                rule: "mail",
                message: "sign-up by e-mail is not available on this portal: ask the organisation for an invitation".into(),
            });
        }
        let email = normalise_email(&input.email)?;
        let name = text("name", &input.name, 120, true)?;
        let company = text("company", &input.company, 200, true)?;
        password::check_new(&input.password, &email)?;
        let now = Timestamp::now();
        let keys = vec![(format!("portal-signup:{}", client.ip()), SIGNUPS_PER_IP)];
        let mut tx = self.store.begin().await?;
        throttle::check(&mut tx, &keys, now).await?;
        throttle::fail(&mut tx, &keys, now).await?;
        tx.commit().await?;
        let existing = store_cust::account_by_email(&self.store, org, &email).await?;
        let account = match existing {
            Some(a) if a.verified_at.is_some() => return Ok(()),
            Some(a) => a,
            None => {
                let a = Account {
                    id: uuid::Uuid::now_v7().to_string(),
                    email: email.clone(),
                    name,
                    company,
                    password_hash: Some(password::hash_async(input.password).await?),
                    verified_at: None,
                    disabled_at: None,
                    invited_by: None,
                    created_at: now,
                };
                let mut tx = self.store.begin().await?;
                if !store_cust::insert_account(&mut tx, org, &a).await? {
                    // Someone signed up with the same address a moment ago.
                    return Ok(());
                }
                record(
                    &mut tx,
                    &portal_caller(org, &a.id, client),
                    Event::org(org, "portal.sign_up", "portal_account", &a.id).after(&a),
                )
                .await?;
                tx.commit().await?;
                a
            }
        };
        let token = secret::token();
        let mut tx = self.store.begin().await?;
        store_cust::insert_token(
            &mut tx,
            org,
            Purpose::Verify,
            &Token {
                hash: secret::token_hash(&token),
                account_id: account.id.clone(),
                document_id: None,
                created_at: now,
                expires_at: now.plus(time::Duration::hours(VERIFY_HOURS)),
                used_at: None,
            },
        )
        .await?;
        tx.commit().await?;
        let portal = lang.pick(&settings.name_en, &settings.name_ko).to_owned();
        let link = self.portal_link(slug, &format!("verify-email/{token}"));
        let (subject, body) = match lang {
            Lang::Ko => (
                format!("{portal} 신뢰 포털: 이메일 주소를 확인하세요"),
                format!(
                    "{}님,\n\n{portal} 신뢰 포털 가입을 마치려면 {VERIFY_HOURS}시간 안에 아래 링크를 여세요.\n\n{link}\n\n가입하지 않으셨다면 이 메일을 무시하세요.\n",
                    account.name
                ),
            ),
            Lang::En => (
                format!("{portal} trust portal: confirm your e-mail address"),
                format!(
                    "Hello {},\n\nTo finish signing up to the {portal} trust portal, open this link within {VERIFY_HOURS} hours:\n\n{link}\n\nIf you did not sign up, ignore this message.\n",
                    account.name
                ),
            ),
        };
        self.send_mail(Mail {
            to_name: account.name.clone(),
            to: account.email.clone(),
            subject,
            body,
        })
        .await
    }

    /// Confirms a sign-up's e-mail address with the link's token.
    pub async fn portal_verify_email(
        &self,
        slug: &str,
        token: &str,
        client: &Client,
    ) -> AppResult<Account> {
        let (org, _) = self.portal_org(slug).await?;
        let invalid = || AppError::Rule {
            rule: "link",
            message: "this link is not valid or has expired: sign up again to get a new one".into(),
        };
        let now = Timestamp::now();
        let (t, mut a) = self
            .link_account(org, Purpose::Verify, token)
            .await?
            .ok_or_else(invalid)?;
        let before = a.clone();
        let mut tx = self.store.begin().await?;
        if !store_cust::use_token(&mut tx, &t.hash, now).await? {
            return Err(invalid());
        }
        if a.verified_at.is_none() {
            a.verified_at = Some(now);
            store_cust::update_account(&mut tx, org, &a).await?;
            record(
                &mut tx,
                &portal_caller(org, &a.id, client),
                Event::org(org, "portal.email_verified", "portal_account", &a.id)
                    .before(&before)
                    .after(&a),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(a)
    }

    /// Staff invite a customer: the account exists at once, and the link (shown to staff
    /// once, and mailed when mail is set up) lets the customer choose a password.
    pub async fn portal_invite(
        &self,
        caller: &Caller,
        email: &str,
        name: &str,
        company: &str,
    ) -> AppResult<(Account, String)> {
        let org = caller.require(Permission::PortalManage)?;
        let o = attest_store::org::get(&self.store, org).await?;
        let email = normalise_email(email)?;
        let now = Timestamp::now();
        let a = Account {
            id: uuid::Uuid::now_v7().to_string(),
            email,
            name: text("name", name, 120, true)?,
            company: text("company", company, 200, true)?,
            password_hash: None,
            verified_at: None,
            disabled_at: None,
            invited_by: Some(caller.actor_text()),
            created_at: now,
        };
        let token = secret::token();
        let mut tx = self.store.begin().await?;
        if !store_cust::insert_account(&mut tx, org, &a).await? {
            return Err(AppError::Conflict {
                field: "email".into(),
                message: format!("{} already has a portal account", a.email),
            });
        }
        store_cust::insert_token(
            &mut tx,
            org,
            Purpose::Invite,
            &Token {
                hash: secret::token_hash(&token),
                account_id: a.id.clone(),
                document_id: None,
                created_at: now,
                expires_at: now.plus(self.config.invitation_ttl),
                used_at: None,
            },
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.invite", "portal_account", &a.id).after(&a),
        )
        .await?;
        tx.commit().await?;
        let link = self.portal_link(&o.slug.to_string(), &format!("invitation/{token}"));
        if self.can_send_mail() {
            self.send_mail(Mail {
                to_name: a.name.clone(),
                to: a.email.clone(),
                subject: format!("{}: your trust portal account", o.name),
                body: format!(
                    "Hello {},\n\n{} invites you to its trust portal. Choose your password here (the link works once, for {} days):\n\n{link}\n",
                    a.name,
                    o.name,
                    self.config.invitation_ttl.whole_days()
                ),
            })
            .await?;
        }
        Ok((a, link))
    }

    /// The invited account behind an invitation link that is still valid.
    pub async fn portal_invitation(&self, slug: &str, token: &str) -> AppResult<Account> {
        let (org, _) = self.portal_org(slug).await?;
        let (_, a) = self
            .link_account(org, Purpose::Invite, token)
            .await?
            .ok_or_else(|| AppError::Rule {
                rule: "link",
                message: "this invitation is not valid or has expired: ask for a new one".into(),
            })?;
        Some(a)
            .filter(|a| a.disabled_at.is_none())
            .ok_or(AppError::NotFound("invitation"))
    }

    /// The link a one-time token of this purpose is, and its account, while the link is
    /// unused and unexpired.
    pub(crate) async fn link_account(
        &self,
        org: OrgId,
        purpose: Purpose,
        token: &str,
    ) -> AppResult<Option<(Token, Account)>> {
        let Some(t) = store_cust::token(&self.store, org, purpose, &secret::token_hash(token))
            .await?
            .filter(|t| t.used_at.is_none() && t.expires_at > Timestamp::now())
        else {
            return Ok(None);
        };
        Ok(store_cust::account_by_id(&self.store, org, &t.account_id)
            .await?
            .map(|a| (t, a)))
    }

    /// An invited customer chooses their password; they are signed in (the session token).
    pub async fn portal_accept_invitation(
        &self,
        slug: &str,
        token: &str,
        new_password: &str,
        client: &Client,
    ) -> AppResult<(Account, String)> {
        let (org, _) = self.portal_org(slug).await?;
        let mut a = self.portal_invitation(slug, token).await?;
        password::check_new(new_password, &a.email)?;
        let before = a.clone();
        let now = Timestamp::now();
        a.password_hash = Some(password::hash_async(new_password.to_owned()).await?);
        a.verified_at.get_or_insert(now);
        let mut tx = self.store.begin().await?;
        if !store_cust::use_token(&mut tx, &secret::token_hash(token), now).await? {
            return Err(AppError::Rule {
                rule: "link",
                message: "this invitation was already used".into(),
            });
        }
        store_cust::update_account(&mut tx, org, &a).await?;
        record(
            &mut tx,
            &portal_caller(org, &a.id, client),
            Event::org(org, "portal.invitation_accept", "portal_account", &a.id)
                .before(&before)
                .after(&a),
        )
        .await?;
        let session = open_session(&mut tx, org, &a.id, now).await?;
        tx.commit().await?;
        Ok((a, session))
    }

    /// Signs a customer in; the session token for their cookie.
    pub async fn portal_sign_in(
        &self,
        slug: &str,
        email: &str,
        pw: &str,
        client: &Client,
    ) -> AppResult<(Account, String)> {
        let (org, _) = self.portal_org(slug).await?;
        let wrong = || AppError::Unauthenticated("the e-mail address or password is wrong".into());
        let email = normalise_email(email).map_err(|_| wrong())?;
        let now = Timestamp::now();
        // Namespaced: a customer's failures never lock staff sign-ins from the same address.
        let portal_ip = format!("portal:{org}:{}", client.ip());
        let keys = throttle::keys(&format!("portal:{org}:{email}"), Some(&portal_ip));
        let mut tx = self.store.begin().await?;
        throttle::check(&mut tx, &keys, now).await?;
        tx.commit().await?;
        let account = store_cust::account_by_email(&self.store, org, &email).await?;
        let ok = password::verify_async(
            pw.to_owned(),
            account.as_ref().and_then(|a| a.password_hash.clone()),
        )
        .await;
        let mut tx = self.store.begin().await?;
        let Some(a) = account.filter(|_| ok) else {
            throttle::fail(&mut tx, &keys, now).await?;
            tx.commit().await?;
            return Err(wrong());
        };
        if a.disabled_at.is_some() {
            tx.commit().await?;
            return Err(AppError::Forbidden(
                "this account was disabled by the organisation".into(),
            ));
        }
        if a.verified_at.is_none() {
            tx.commit().await?;
            return Err(AppError::Rule {
                rule: "email-unverified",
                message: "confirm your e-mail address first: open the link we sent you".into(),
            });
        }
        throttle::clear_account(&mut tx, &format!("portal:{org}:{email}"), Some(&portal_ip))
            .await?;
        let session = open_session(&mut tx, org, &a.id, now).await?;
        record(
            &mut tx,
            &portal_caller(org, &a.id, client),
            Event::org(org, "portal.sign_in", "portal_account", &a.id),
        )
        .await?;
        tx.commit().await?;
        Ok((a, session))
    }

    /// The customer a session cookie names, if it is valid on this portal.
    pub async fn portal_customer(&self, slug: &str, session: &str) -> AppResult<Option<Customer>> {
        let Ok((org, _)) = self.portal_org(slug).await else {
            return Ok(None);
        };
        let Some(t) = store_cust::token(
            &self.store,
            org,
            Purpose::Session,
            &secret::token_hash(session),
        )
        .await?
        .filter(|t| t.expires_at > Timestamp::now()) else {
            return Ok(None);
        };
        Ok(store_cust::account_by_id(&self.store, org, &t.account_id)
            .await?
            .filter(|a| a.disabled_at.is_none() && a.verified_at.is_some())
            .map(|account| Customer {
                org,
                slug: slug.to_owned(),
                account,
            }))
    }

    /// Ends a customer's session.
    pub async fn portal_sign_out(&self, slug: &str, session: &str) -> AppResult<()> {
        let Ok((org, _)) = self.portal_org(slug).await else {
            return Ok(());
        };
        let hash = secret::token_hash(session);
        if store_cust::token(&self.store, org, Purpose::Session, &hash)
            .await?
            .is_some()
        {
            let mut tx = self.store.begin().await?;
            store_cust::delete_token(&mut tx, &hash).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The restricted documents on the portal now.
    async fn restricted_documents(&self, org: OrgId) -> AppResult<Vec<RestrictedDocument>> {
        Ok(self
            .portal_shown_documents(org)
            .await?
            .into_iter()
            .filter(|(d, e)| !crate::portal::is_public(&d.kind, e.kind))
            .map(|(d, e)| RestrictedDocument {
                id: d.id,
                title: d.title,
                kind: d.kind,
                language: d.language,
                engagement: format!("{} {}", e.reference, e.kind.label()),
                period: e.period.range().to_string(),
                sha256: d.sha256,
            })
            .collect())
    }

    /// The current NDA version and whether the account accepted it, or only an older one.
    async fn nda_state(&self, org: OrgId, account: &str) -> AppResult<(Option<Nda>, bool, bool)> {
        let current = store_cust::ndas(&self.store, org).await?.into_iter().next();
        let Some(n) = current else {
            return Ok((None, true, false));
        };
        let accepted = store_cust::acceptances(&self.store, org, Some(account)).await?;
        let current_ok = accepted.iter().any(|a| a.version == n.version);
        let older = !current_ok && !accepted.is_empty();
        Ok((Some(n), current_ok, older))
    }

    /// The grant an account holds for a document now: its end, or why there is none.
    fn grant_for(
        requests: &[AccessRequest],
        document: &str,
        now: Timestamp,
    ) -> Result<Timestamp, &'static str> {
        let mut why = "no-grant";
        for r in requests
            .iter()
            .filter(|r| r.documents.iter().any(|d| d == document))
        {
            match (r.status.as_str(), r.expires_at) {
                ("approved", Some(end)) if end > now => return Ok(end),
                // Requests come newest first: the latest one says why.
                ("approved", _) if why == "no-grant" => why = "grant-expired",
                ("revoked", _) if why == "no-grant" => why = "grant-revoked",
                _ => {}
            }
        }
        Err(why)
    }

    /// Whether the account may take the document now: the document, or why not (the reason
    /// logged).
    async fn entitlement(
        &self,
        org: OrgId,
        account: &Account,
        document: &str,
    ) -> AppResult<Result<Document, &'static str>> {
        if account.disabled_at.is_some() || account.verified_at.is_none() {
            return Ok(Err("account"));
        }
        let shown = self.portal_shown_documents(org).await?;
        let Some((d, _)) = shown
            .into_iter()
            .find(|(d, e)| d.id == document && !crate::portal::is_public(&d.kind, e.kind))
        else {
            let withdrawn = attest_store::workspace::documents(&self.store, org, None)
                .await?
                .iter()
                .any(|d| d.id == document && d.withdrawn_at.is_some());
            return Ok(Err(if withdrawn {
                "withdrawn"
            } else {
                "not-available"
            }));
        };
        let (_, nda_ok, older) = self.nda_state(org, &account.id).await?;
        if !nda_ok {
            return Ok(Err(if older { "old-nda" } else { "no-nda" }));
        }
        let requests = store_cust::requests(&self.store, org, Some(&account.id)).await?;
        if let Err(why) = Self::grant_for(&requests, document, Timestamp::now()) {
            return Ok(Err(why));
        }
        Ok(Ok(d))
    }

    /// The customer's own page.
    pub async fn portal_customer_view(&self, c: &Customer, lang: Lang) -> AppResult<CustomerView> {
        let (nda, accepted, older) = self.nda_state(c.org, &c.account.id).await?;
        let requests = store_cust::requests(&self.store, c.org, Some(&c.account.id)).await?;
        let now = Timestamp::now();
        let documents = self
            .restricted_documents(c.org)
            .await?
            .into_iter()
            .map(|d| {
                let until = Self::grant_for(&requests, &d.id, now).ok();
                (d, until)
            })
            .collect();
        Ok(CustomerView {
            account: c.account.clone(),
            nda: nda.map(|n| (n.version, lang.pick(&n.text_en, &n.text_ko).to_owned())),
            nda_accepted: accepted,
            nda_outdated: older,
            documents,
            requests,
            can_mail: self.can_send_mail(),
        })
    }

    /// The customer accepts the NDA version they were shown, in the language they read it
    /// in: recorded with the time, address, browser and the SHA-256 of that exact text.
    pub async fn portal_accept_nda(
        &self,
        c: &Customer,
        version: i64,
        lang: Lang,
        client: &Client,
    ) -> AppResult<Acceptance> {
        let current = store_cust::ndas(&self.store, c.org)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound("NDA"))?;
        if current.version != version {
            return Err(AppError::Conflict {
                field: "version".into(),
                message: format!(
                    "version {version} is not the current NDA (version {}): read the current one",
                    current.version
                ),
            });
        }
        let shown = lang.pick(&current.text_en, &current.text_ko);
        let language = if shown == current.text_en { "en" } else { "ko" };
        let a = Acceptance {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: c.account.id.clone(),
            version,
            language: language.to_owned(),
            text_sha256: sha256_hex(shown),
            accepted_at: Timestamp::now(),
            ip: client.ip(),
            user_agent: client.ua(),
            offline: false,
            recorded_by: Actor::Portal(c.account.id.clone()).to_string(),
            note: String::new(),
        };
        let mut tx = self.store.begin().await?;
        store_cust::insert_acceptance(&mut tx, c.org, &a).await?;
        record(
            &mut tx,
            &c.caller(client),
            Event::org(c.org, "portal.nda_accept", "portal_account", &c.account.id).after(&a),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// The customer asks for restricted documents, saying why and for how long. An
    /// allow-listed e-mail domain is approved at once.
    pub async fn portal_request_access(
        &self,
        c: &Customer,
        documents: &[String],
        reason: &str,
        days: i64,
        client: &Client,
    ) -> AppResult<AccessRequest> {
        let reason = text("reason", reason, 2_000, true)?;
        if !(1..=MAX_GRANT_DAYS).contains(&days) {
            return Err(AppError::invalid(
                "days",
                format!("ask for 1 to {MAX_GRANT_DAYS} days"),
            ));
        }
        let available = self.restricted_documents(c.org).await?;
        let mut ids: Vec<String> = Vec::new();
        for d in documents {
            if !available.iter().any(|a| &a.id == d) {
                return Err(AppError::invalid(
                    "documents",
                    "one of the documents asked for is not available on this portal",
                ));
            }
            if !ids.contains(d) {
                ids.push(d.clone());
            }
        }
        if ids.is_empty() {
            return Err(AppError::invalid(
                "documents",
                "choose at least one document",
            ));
        }
        let settings = self.portal_org(&c.slug).await?.1;
        let domain = c.account.email.rsplit('@').next().unwrap_or_default();
        let auto = settings.auto_domains.iter().any(|d| d == domain);
        let now = Timestamp::now();
        let r = AccessRequest {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: c.account.id.clone(),
            reason,
            days,
            status: if auto { "approved" } else { "requested" }.into(),
            created_at: now,
            decided_by: auto.then(|| "auto".to_owned()),
            decided_at: auto.then_some(now),
            decision_note: if auto {
                format!("approved automatically: {domain} is on the allow-list")
            } else {
                String::new()
            },
            expires_at: auto.then(|| now.plus(time::Duration::days(days))),
            revoked_at: None,
            documents: ids,
        };
        let mut tx = self.store.begin().await?;
        store_cust::insert_request(&mut tx, c.org, &r).await?;
        record(
            &mut tx,
            &c.caller(client),
            Event::org(
                c.org,
                "portal.access_request",
                "portal_access_request",
                &r.id,
            )
            .after(&r),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Appends a refused download to the log.
    async fn log_refusal(
        &self,
        org: OrgId,
        account: Option<&Account>,
        document: &str,
        reason: &str,
        client: &Client,
    ) -> AppResult<()> {
        let title = attest_store::workspace::documents(&self.store, org, None)
            .await?
            .into_iter()
            .find(|d| d.id == document)
            .map(|d| d.title)
            .unwrap_or_default();
        let d = Download {
            id: uuid::Uuid::now_v7().to_string(),
            at: Timestamp::now(),
            account_id: account.map(|a| a.id.clone()),
            email: account.map(|a| a.email.clone()).unwrap_or_default(),
            company: account.map(|a| a.company.clone()).unwrap_or_default(),
            document_id: document.chars().take(100).collect(),
            document_title: title,
            outcome: reason.to_owned(),
            ip: client.ip(),
            user_agent: client.ua(),
            sha256: String::new(),
        };
        let mut tx = self.store.begin().await?;
        store_cust::insert_download(&mut tx, org, &d).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A short-lived, one-time download link for a document the customer may take now.
    /// Refusals are logged with their reason.
    pub async fn portal_download_link(
        &self,
        c: &Customer,
        document: &str,
        client: &Client,
    ) -> AppResult<String> {
        match self.entitlement(c.org, &c.account, document).await? {
            Err(why) => {
                self.log_refusal(c.org, Some(&c.account), document, why, client)
                    .await?;
                Err(refusal(why))
            }
            Ok(d) => {
                let token = secret::token();
                let now = Timestamp::now();
                let mut tx = self.store.begin().await?;
                store_cust::insert_token(
                    &mut tx,
                    c.org,
                    Purpose::Download,
                    &Token {
                        hash: secret::token_hash(&token),
                        account_id: c.account.id.clone(),
                        document_id: Some(d.id),
                        created_at: now,
                        expires_at: now.plus(time::Duration::minutes(LINK_MINUTES)),
                        used_at: None,
                    },
                )
                .await?;
                tx.commit().await?;
                Ok(token)
            }
        }
    }

    /// Serves a download link to the signed-in customer it was made for: the document
    /// stamped on every page with their name, e-mail, company and the time, logged and
    /// recorded in the audit trail. Returns (file name, PDF bytes).
    pub async fn portal_download(
        &self,
        slug: &str,
        customer: Option<&Customer>,
        token: &str,
        client: &Client,
    ) -> AppResult<(String, Vec<u8>)> {
        let (org, settings) = self.portal_org(slug).await?;
        let hash = secret::token_hash(token);
        let t = store_cust::token(&self.store, org, Purpose::Download, &hash).await?;
        let now = Timestamp::now();
        let doc_of = |t: &Option<Token>| {
            t.as_ref()
                .and_then(|t| t.document_id.clone())
                .unwrap_or_default()
        };
        let Some(c) = customer else {
            self.log_refusal(org, None, &doc_of(&t), "not-signed-in", client)
                .await?;
            return Err(AppError::Unauthenticated(
                "sign in to the portal to download this document".into(),
            ));
        };
        let why = match &t {
            None => Some("bad-link"),
            Some(t) if t.account_id != c.account.id => Some("other-account"),
            Some(t) if t.used_at.is_some() => Some("link-used"),
            Some(t) if t.expires_at <= now => Some("link-expired"),
            Some(_) => None,
        };
        if let Some(why) = why {
            self.log_refusal(org, Some(&c.account), &doc_of(&t), why, client)
                .await?;
            return Err(refusal(why));
        }
        let document = doc_of(&t);
        let d = match self.entitlement(org, &c.account, &document).await? {
            Ok(d) => d,
            Err(why) => {
                self.log_refusal(org, Some(&c.account), &document, why, client)
                    .await?;
                return Err(refusal(why));
            }
        };
        let mut tx = self.store.begin().await?;
        let fresh = store_cust::use_token(&mut tx, &hash, now).await?;
        tx.commit().await?;
        if !fresh {
            self.log_refusal(org, Some(&c.account), &document, "link-used", client)
                .await?;
            return Err(refusal("link-used"));
        }
        let file_name = d.file_name.clone();
        let title = d.title.clone();
        let (_, _, size, stream) = self.document_bytes(org, d).await?;
        if size > STAMP_LIMIT {
            return Err(AppError::Internal(format!(
                "document {document} is {size} bytes, more than the portal stamps"
            )));
        }
        let original: Vec<u8> = stream
            .map_ok(|b| b.to_vec())
            .try_concat()
            .await
            .map_err(|e| AppError::Internal(format!("reading document {document}: {e}")))?;
        let download_id = uuid::Uuid::now_v7().to_string();
        let recipient = attest_report::stamp::Recipient {
            name: c.account.name.clone(),
            email: c.account.email.clone(),
            company: c.account.company.clone(),
            at: format!(
                "{} UTC",
                now.to_rfc3339()
                    .get(..16)
                    .unwrap_or_default()
                    .replace('T', " ")
            ),
            organisation: settings.name_en.clone(),
            reference: download_id.clone(),
        };
        let today = now.date();
        let stamped =
            crate::typeset(move || attest_report::stamp::stamp(&original, &recipient, today))
                .await?;
        let log = Download {
            id: download_id,
            at: now,
            account_id: Some(c.account.id.clone()),
            email: c.account.email.clone(),
            company: c.account.company.clone(),
            document_id: document.clone(),
            document_title: title,
            outcome: "served".into(),
            ip: client.ip(),
            user_agent: client.ua(),
            sha256: hex::encode(Sha256::digest(&stamped)),
        };
        let mut tx = self.store.begin().await?;
        store_cust::insert_download(&mut tx, org, &log).await?;
        record(
            &mut tx,
            &c.caller(client),
            Event::org(org, "portal.download", "engagement_document", &document).after(&log),
        )
        .await?;
        tx.commit().await?;
        Ok((file_name, stamped))
    }
}

/// Opens a customer session inside a transaction; the token for the cookie.
async fn open_session(
    tx: &mut attest_store::Tx,
    org: OrgId,
    account: &str,
    now: Timestamp,
) -> AppResult<String> {
    let token = secret::token();
    store_cust::insert_token(
        tx,
        org,
        Purpose::Session,
        &Token {
            hash: secret::token_hash(&token),
            account_id: account.to_owned(),
            document_id: None,
            created_at: now,
            expires_at: now.plus(time::Duration::hours(SESSION_HOURS)),
            used_at: None,
        },
    )
    .await?;
    Ok(token)
}

impl App {
    /// The portal's customers as staff see them: accounts, the request queue, NDA versions
    /// and acceptances.
    pub async fn portal_customers(&self, caller: &Caller) -> AppResult<CustomersAdmin> {
        let org = caller.require(Permission::PortalManage)?;
        let accounts = store_cust::accounts(&self.store, org).await?;
        let ndas = store_cust::ndas(&self.store, org).await?;
        let acceptances = store_cust::acceptances(&self.store, org, None).await?;
        let current = ndas.first().map(|n| n.version);
        let all_docs = attest_store::workspace::documents(&self.store, org, None).await?;
        let now = Timestamp::now();
        let mut requests: Vec<QueuedRequest> = store_cust::requests(&self.store, org, None)
            .await?
            .into_iter()
            .filter_map(|r| {
                let account = accounts.iter().find(|a| a.id == r.account_id)?.clone();
                let titles = r
                    .documents
                    .iter()
                    .map(|id| {
                        all_docs
                            .iter()
                            .find(|d| &d.id == id)
                            .map_or_else(|| id.clone(), |d| d.title.clone())
                    })
                    .collect();
                let nda_current = current.is_none_or(|v| {
                    acceptances
                        .iter()
                        .any(|a| a.account_id == r.account_id && a.version == v)
                });
                let state = match (r.status.as_str(), r.expires_at) {
                    ("approved", Some(end)) if end <= now => "expired",
                    (s, _) => s,
                }
                .to_owned();
                Some(QueuedRequest {
                    request: r,
                    account,
                    titles,
                    nda_current,
                    state,
                })
            })
            .collect();
        requests.sort_by_key(|q| q.state != "requested");
        let latest = |id: &str| {
            acceptances
                .iter()
                .filter(|a| a.account_id == id)
                .map(|a| a.version)
                .max()
        };
        let settings = attest_store::portal::settings(&self.store, org).await?;
        Ok(CustomersAdmin {
            accounts: accounts
                .iter()
                .map(|a| (a.clone(), latest(&a.id)))
                .collect(),
            requests,
            ndas,
            acceptances,
            auto_domains: settings.map(|s| s.auto_domains).unwrap_or_default(),
            documents: self.restricted_documents(org).await?,
            can_mail: self.can_send_mail(),
        })
    }

    /// Publishes a new NDA version: customers must accept it before their next download.
    pub async fn publish_nda(
        &self,
        caller: &Caller,
        text_en: &str,
        text_ko: &str,
    ) -> AppResult<Nda> {
        let org = caller.require(Permission::PortalManage)?;
        let text_en = text("text_en", text_en, 100_000, true)?;
        let text_ko = text("text_ko", text_ko, 100_000, false)?;
        let mut n = Nda {
            version: 0,
            sha256_en: sha256_hex(&text_en),
            sha256_ko: sha256_hex(if text_ko.trim().is_empty() {
                &text_en
            } else {
                &text_ko
            }),
            text_en,
            text_ko,
            published_by: caller.actor_text(),
            published_at: Timestamp::now(),
        };
        let mut tx = self.store.begin().await?;
        n.version = store_cust::insert_nda(&mut tx, org, &n)
            .await
            .map_err(|e| match e {
                attest_store::StoreError::Unique { .. } => AppError::Conflict {
                    field: "version".into(),
                    message: "someone published an NDA at the same moment: reload and try again"
                        .into(),
                },
                other => other.into(),
            })?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.nda_publish", "portal_nda", n.version).after(&n),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Staff record an NDA the customer signed outside Attest (a version of ours, or their
    /// own paper): it counts as accepting that version.
    pub async fn record_offline_nda(
        &self,
        caller: &Caller,
        account: &str,
        version: i64,
        note: &str,
    ) -> AppResult<Acceptance> {
        let org = caller.require(Permission::PortalManage)?;
        let a = store_cust::account_by_id(&self.store, org, account)
            .await?
            .ok_or(AppError::NotFound("portal account"))?;
        let n = store_cust::ndas(&self.store, org)
            .await?
            .into_iter()
            .find(|n| n.version == version)
            .ok_or_else(|| {
                AppError::invalid("version", format!("there is no NDA version {version}"))
            })?;
        let note = text("note", note, 2_000, true)?;
        let acc = Acceptance {
            id: uuid::Uuid::now_v7().to_string(),
            account_id: a.id.clone(),
            version,
            language: "offline".into(),
            text_sha256: n.sha256_en,
            accepted_at: Timestamp::now(),
            ip: String::new(),
            user_agent: String::new(),
            offline: true,
            recorded_by: caller.actor_text(),
            note,
        };
        let mut tx = self.store.begin().await?;
        store_cust::insert_acceptance(&mut tx, org, &acc).await?;
        record(
            &mut tx,
            caller,
            Event::org(org, "portal.nda_offline", "portal_account", &a.id).after(&acc),
        )
        .await?;
        tx.commit().await?;
        Ok(acc)
    }

    /// Approves, denies or revokes an access request.
    pub async fn decide_access(
        &self,
        caller: &Caller,
        id: &str,
        decision: Decision,
        note: &str,
    ) -> AppResult<AccessRequest> {
        let org = caller.require(Permission::PortalManage)?;
        let before = store_cust::requests(&self.store, org, None)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AppError::NotFound("access request"))?;
        let note = text("note", note, 2_000, false)?;
        let now = Timestamp::now();
        let mut r = before.clone();
        let (from, action) = match decision {
            Decision::Approve(days) => {
                if !(1..=MAX_GRANT_DAYS).contains(&days) {
                    return Err(AppError::invalid(
                        "days",
                        format!("grant 1 to {MAX_GRANT_DAYS} days"),
                    ));
                }
                r.status = "approved".into();
                r.days = days;
                r.expires_at = Some(now.plus(time::Duration::days(days)));
                ("requested", "portal.access_approve")
            }
            Decision::Deny => {
                r.status = "denied".into();
                ("requested", "portal.access_deny")
            }
            Decision::Revoke => {
                r.status = "revoked".into();
                r.revoked_at = Some(now);
                ("approved", "portal.access_revoke")
            }
        };
        if before.status != from {
            return Err(AppError::Rule {
                rule: "access-state",
                message: format!(
                    "this request is {}: only a {from} request can be {}",
                    before.status,
                    match decision {
                        Decision::Approve(_) => "approved",
                        Decision::Deny => "denied",
                        Decision::Revoke => "revoked",
                    }
                ),
            });
        }
        if decision != Decision::Revoke {
            r.decided_by = Some(caller.actor_text());
            r.decided_at = Some(now);
        }
        r.decision_note = note;
        let mut tx = self.store.begin().await?;
        if !store_cust::decide_request(&mut tx, org, &r, from).await? {
            return Err(AppError::Conflict {
                field: "status".into(),
                message: "someone decided this request a moment ago: reload".into(),
            });
        }
        if decision == Decision::Revoke {
            // Links already handed out die with the grant.
            store_cust::delete_tokens(&mut tx, &r.account_id, &[Purpose::Download]).await?;
        }
        record(
            &mut tx,
            caller,
            Event::org(org, action, "portal_access_request", &r.id)
                .before(&before)
                .after(&r),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Disables or re-enables a customer account (disabling signs them out everywhere).
    pub async fn set_customer_disabled(
        &self,
        caller: &Caller,
        account: &str,
        disabled: bool,
    ) -> AppResult<Account> {
        let org = caller.require(Permission::PortalManage)?;
        let before = store_cust::account_by_id(&self.store, org, account)
            .await?
            .ok_or(AppError::NotFound("portal account"))?;
        let mut a = before.clone();
        a.disabled_at = disabled.then(|| before.disabled_at.unwrap_or_else(Timestamp::now));
        let mut tx = self.store.begin().await?;
        store_cust::update_account(&mut tx, org, &a).await?;
        if disabled {
            store_cust::delete_tokens(
                &mut tx,
                &a.id,
                &[
                    Purpose::Session,
                    Purpose::Download,
                    Purpose::Invite,
                    Purpose::Verify,
                    Purpose::Reset,
                ],
            )
            .await?;
        }
        record(
            &mut tx,
            caller,
            Event::org(
                org,
                if disabled {
                    "portal.account_disable"
                } else {
                    "portal.account_enable"
                },
                "portal_account",
                &a.id,
            )
            .before(&before)
            .after(&a),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// The download log (served and refused), newest first.
    pub async fn portal_downloads(
        &self,
        caller: &Caller,
        filter: &DownloadFilter,
    ) -> AppResult<Vec<Download>> {
        let org = caller.require(Permission::PortalManage)?;
        if let Some(o) = &filter.outcome
            && !matches!(o.as_str(), "served" | "refused")
        {
            return Err(AppError::invalid("outcome", "outcome is served or refused"));
        }
        let mut f = filter.clone();
        f.limit = f.limit.clamp(1, 100_000);
        Ok(store_cust::downloads(&self.store, org, &f).await?)
    }

    /// The download log as CSV (cells a spreadsheet would run as formulas are defused).
    pub async fn portal_downloads_csv(
        &self,
        caller: &Caller,
        filter: &DownloadFilter,
    ) -> AppResult<String> {
        let rows = self.portal_downloads(caller, filter).await?;
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "id",
            "at",
            "account_id",
            "email",
            "company",
            "document_id",
            "document_title",
            "outcome",
            "ip",
            "user_agent",
            "sha256",
        ];
        let io = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        w.write_record(header).map_err(io)?;
        for d in rows {
            let at = d.at.to_string();
            let cells = [
                d.id.as_str(),
                at.as_str(),
                d.account_id.as_deref().unwrap_or(""),
                &d.email,
                &d.company,
                &d.document_id,
                &d.document_title,
                &d.outcome,
                &d.ip,
                &d.user_agent,
                &d.sha256,
            ];
            w.write_record(
                cells
                    .map(attest_report::spreadsheet_safe)
                    .iter()
                    .map(|c| c.as_ref()),
            )
            .map_err(io)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
        String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Downloads per day over the last `days` days, per document, per company, and the
    /// refusals per reason.
    pub async fn portal_download_stats(
        &self,
        caller: &Caller,
        days: i64,
    ) -> AppResult<DownloadStats> {
        let days = days.clamp(1, 366);
        let today = Timestamp::now().date();
        let first = today - time::Duration::days(days - 1);
        let from =
            Timestamp::from_micros(first.midnight().assume_utc().unix_timestamp() * 1_000_000);
        let rows = self
            .portal_downloads(
                caller,
                &DownloadFilter {
                    from: Some(from),
                    limit: 100_000,
                    ..DownloadFilter::default()
                },
            )
            .await?;
        let mut per_day: Vec<(time::Date, i64, i64)> = (0..days)
            .map(|i| (first + time::Duration::days(i), 0, 0))
            .collect();
        let mut per_document: std::collections::BTreeMap<String, i64> = Default::default();
        let mut per_company: std::collections::BTreeMap<String, i64> = Default::default();
        let mut refusals: std::collections::BTreeMap<String, i64> = Default::default();
        for d in &rows {
            let i = (d.at.date() - first).whole_days();
            let served = d.outcome == "served";
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| per_day.get_mut(i)) {
                if served {
                    slot.1 += 1;
                } else {
                    slot.2 += 1;
                }
            }
            if served {
                *per_document.entry(d.document_title.clone()).or_default() += 1;
                *per_company.entry(d.company.clone()).or_default() += 1;
            } else {
                *refusals.entry(d.outcome.clone()).or_default() += 1;
            }
        }
        let sorted = |m: std::collections::BTreeMap<String, i64>| {
            let mut v: Vec<(String, i64)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        };
        per_day.sort_by_key(|x| x.0);
        Ok(DownloadStats {
            per_day,
            per_document: sorted(per_document),
            per_company: sorted(per_company),
            refusals: sorted(refusals),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(status: &str, expires: Option<i64>, docs: &[&str]) -> AccessRequest {
        AccessRequest {
            id: "r".into(),
            account_id: "a".into(),
            reason: "audit".into(),
            days: 30,
            status: status.into(),
            created_at: Timestamp::from_micros(0),
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            expires_at: expires.map(Timestamp::from_micros),
            revoked_at: None,
            documents: docs.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn a_grant_counts_only_while_approved_and_unexpired() {
        let now = Timestamp::from_micros(1_000);
        assert_eq!(App::grant_for(&[], "d", now), Err("no-grant"));
        let live = req("approved", Some(2_000), &["d"]);
        assert_eq!(
            App::grant_for(std::slice::from_ref(&live), "d", now),
            Ok(Timestamp::from_micros(2_000))
        );
        assert_eq!(App::grant_for(&[live], "other", now), Err("no-grant"));
        let ended = req("approved", Some(1_000), &["d"]);
        assert_eq!(App::grant_for(&[ended], "d", now), Err("grant-expired"));
        let revoked = req("revoked", Some(2_000), &["d"]);
        assert_eq!(
            App::grant_for(std::slice::from_ref(&revoked), "d", now),
            Err("grant-revoked")
        );
        let asked = req("requested", None, &["d"]);
        assert_eq!(App::grant_for(&[asked], "d", now), Err("no-grant"));
        let denied = req("denied", None, &["d"]);
        assert_eq!(
            App::grant_for(&[denied, revoked], "d", now),
            Err("grant-revoked")
        );
    }
}
