//! Sending e-mail to portal customers (verification and invitation links): over SMTP
//! (`smtp://host:port` with STARTTLS, or `smtps://…`, credentials in the URL), or into a
//! directory as one `.eml` file per message (`file:///path`) for a relay that picks them
//! up, or for tests. With no mail URL set, Attest sends nothing and says so: customers then
//! join by invitation, whose link staff pass on.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{App, AppError, AppResult};

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient's name.
    pub to_name: String,
    /// Recipient's address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

impl App {
    /// Whether a mail transport is set up.
    pub fn can_send_mail(&self) -> bool {
        self.config.mail_url.is_some()
    }

    /// Sends a message through the configured transport.
    pub(crate) async fn send_mail(&self, m: Mail) -> AppResult<()> {
        let Some(url) = self.config.mail_url.as_deref() else {
            return Err(AppError::Rule {
                rule: "mail",
                message: "this Attest sends no e-mail (no mail_url is set)".into(),
            });
        };
        let from: Mailbox = self
            .config
            .mail_from
            .parse()
            .map_err(|e| AppError::Internal(format!("mail_from: {e}")))?;
        let to = Mailbox::new(
            Some(m.to_name.clone()),
            m.to.parse()
                .map_err(|_| AppError::invalid("email", "not an e-mail address"))?,
        );
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(m.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(m.body)
            .map_err(|e| AppError::Internal(format!("composing mail: {e}")))?;
        if let Some(dir) = url.strip_prefix("file://") {
            AsyncFileTransport::<Tokio1Executor>::new(dir)
                .send(message)
                .await
                .map_err(|e| AppError::Internal(format!("writing mail to {dir}: {e}")))?;
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| AppError::Internal(format!("mail_url: {e}")))?
                .build()
                .send(message)
                .await
                .map_err(|e| AppError::Internal(format!("sending mail: {e}")))?;
        }
        Ok(())
    }
}
