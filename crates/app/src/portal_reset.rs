//! A trust portal customer who forgot their password: a one-time link mailed to the
//! confirmed address of an enabled account (the same answer whether or not the address has
//! one), valid for the configured reset time; choosing a new password through it ends every
//! session, download link and other reset link of the account.

use attest_domain::Timestamp;
use attest_store::customers::{self as store_cust, Account, Purpose, Token};

use crate::audit_trail::{Event, record};
use crate::identity::{normalise_email, password, throttle};
use crate::mail::Mail;
use crate::portal::Lang;
use crate::portal_customers::{Client, SIGNUPS_PER_IP, portal_caller};
use crate::secret;
use crate::{App, AppError, AppResult};

fn invalid_link() -> AppError {
    AppError::Rule {
        rule: "link",
        message: "this link is not valid, was used or has expired: ask for a new one".into(),
    }
}

impl App {
    /// Mails a reset link to the address, when it is the confirmed address of an enabled
    /// account of this portal. The answer is the same either way, so it tells nobody who is
    /// a customer; asking is throttled per client address and per e-mail address.
    pub async fn portal_forgot_password(
        &self,
        slug: &str,
        email: &str,
        lang: Lang,
        client: &Client,
    ) -> AppResult<()> {
        let (org, settings) = self.portal_org(slug).await?;
        if !self.can_send_mail() {
            return Err(AppError::Rule {
                rule: "mail",
                message: "this portal sends no e-mail: ask your contact at the organisation to invite you again".into(),
            });
        }
        let email = normalise_email(email)?;
        let now = Timestamp::now();
        let keys = vec![
            (format!("portal-reset:{}", client.ip()), SIGNUPS_PER_IP),
            (format!("portal-reset:{org}:{email}"), SIGNUPS_PER_IP),
        ];
        let mut tx = self.store.begin().await?;
        throttle::check(&mut tx, &keys, now).await?;
        throttle::fail(&mut tx, &keys, now).await?;
        tx.commit().await?;
        let Some(a) = store_cust::account_by_email(&self.store, org, &email)
            .await?
            .filter(|a| {
                a.verified_at.is_some() && a.disabled_at.is_none() && a.password_hash.is_some()
            })
        else {
            return Ok(());
        };
        let token = secret::token();
        let mut tx = self.store.begin().await?;
        // Only the latest link works.
        store_cust::delete_tokens(&mut tx, &a.id, &[Purpose::Reset]).await?;
        store_cust::insert_token(
            &mut tx,
            org,
            Purpose::Reset,
            &Token {
                hash: secret::token_hash(&token),
                account_id: a.id.clone(),
                document_id: None,
                created_at: now,
                expires_at: now.plus(self.config.reset_ttl),
                used_at: None,
            },
        )
        .await?;
        tx.commit().await?;
        let portal = lang.pick(&settings.name_en, &settings.name_ko).to_owned();
        let link = self.portal_link(slug, &format!("reset/{token}"));
        let minutes = self.config.reset_ttl.whole_minutes();
        let (subject, body) = match lang {
            Lang::Ko => (
                format!("{portal} 신뢰 포털: 비밀번호 재설정"),
                format!(
                    "{}님,\n\n{portal} 신뢰 포털의 새 비밀번호를 정하려면 {minutes}분 안에 아래 링크를 여세요. 링크는 한 번만 쓸 수 있습니다.\n\n{link}\n\n요청하지 않으셨다면 이 메일을 무시하세요. 비밀번호는 바뀌지 않습니다.\n",
                    a.name
                ),
            ),
            Lang::En => (
                format!("{portal} trust portal: reset your password"),
                format!(
                    "Hello {},\n\nTo choose a new password for the {portal} trust portal, open this link within {minutes} minutes. It works once.\n\n{link}\n\nIf you did not ask for it, ignore this message: your password stays as it is.\n",
                    a.name
                ),
            ),
        };
        self.send_mail(Mail {
            to_name: a.name.clone(),
            to: a.email.clone(),
            subject,
            body,
        })
        .await
    }

    /// The account behind a reset link that is still valid.
    pub async fn portal_reset_account(&self, slug: &str, token: &str) -> AppResult<Account> {
        let (org, _) = self.portal_org(slug).await?;
        self.link_account(org, Purpose::Reset, token)
            .await?
            .map(|(_, a)| a)
            .filter(|a| a.disabled_at.is_none())
            .ok_or_else(invalid_link)
    }

    /// Sets a new password through a reset link; the account's sessions, download links and
    /// reset links end. The customer signs in again.
    pub async fn portal_reset_password(
        &self,
        slug: &str,
        token: &str,
        new_password: &str,
        client: &Client,
    ) -> AppResult<Account> {
        let (org, _) = self.portal_org(slug).await?;
        let mut a = self.portal_reset_account(slug, token).await?;
        password::check_new(new_password, &a.email)?;
        a.password_hash = Some(password::hash_async(new_password.to_owned()).await?);
        let now = Timestamp::now();
        let mut tx = self.store.begin().await?;
        if !store_cust::use_token(&mut tx, &secret::token_hash(token), now).await? {
            return Err(invalid_link());
        }
        store_cust::update_account(&mut tx, org, &a).await?;
        store_cust::delete_tokens(
            &mut tx,
            &a.id,
            &[Purpose::Session, Purpose::Download, Purpose::Reset],
        )
        .await?;
        record(
            &mut tx,
            &portal_caller(org, &a.id, client),
            Event::org(org, "portal.password_reset", "portal_account", &a.id),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }
}
