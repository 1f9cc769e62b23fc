//! Identity and access: sign-in, sessions, MFA, members, invitations, API tokens.

pub mod member;
pub mod mfa;
pub mod password;
pub mod session;
pub mod sso;
pub mod throttle;
pub mod token;

use crate::{AppError, AppResult};

/// Normalises and checks an e-mail address (lower case, one `@`, a dot in the domain).
pub fn normalise_email(email: &str) -> AppResult<String> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        });
    if valid {
        Ok(e)
    } else {
        Err(AppError::invalid(
            "email",
            "enter an e-mail address like name@example.com",
        ))
    }
}

/// Checks a person's display name.
pub fn check_display_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 120 || n.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "display_name",
            "enter a name of 1 to 120 characters",
        ));
    }
    Ok(n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            normalise_email(" Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
