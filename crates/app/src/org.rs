//! Organisations: creating one with its first owner, and its settings.

use attest_domain::org::{Organisation, Slug, validate_org_name};
use attest_domain::role::Role;
use attest_domain::{OrgId, Timestamp, UserId};
use attest_store::org as store_org;
use attest_store::user::{self as store_user, Membership, User};
use serde::Serialize;

use crate::audit_trail::{Event, record};
use crate::identity::session::OrgSettings;
use crate::identity::{check_display_name, normalise_email, password};
use crate::secret;
use crate::{App, AppError, AppResult, Caller, Permission};

/// A new organisation and how its first owner signs in.
#[derive(Debug, Clone)]
pub struct Initialised {
    /// The organisation.
    pub org: Organisation,
    /// The owner's e-mail address.
    pub email: String,
    /// A one-time password to change at first sign-in (`None` when the address already had
    /// an account, which simply becomes owner).
    pub one_time_password: Option<String>,
}

/// What the settings page shows and changes.
#[derive(Debug, Clone, Serialize)]
pub struct OrgView {
    /// The organisation.
    pub org: Organisation,
    /// Its settings.
    pub settings: OrgSettings,
}

impl App {
    /// Creates an organisation and its first owner (the `attest init` command; also how a
    /// new tenant is added on a shared instance).
    pub async fn create_organisation(
        &self,
        caller: &Caller,
        name: &str,
        owner_email: &str,
    ) -> AppResult<Initialised> {
        let name = validate_org_name(name).map_err(|m| AppError::invalid("org", m))?;
        let email = normalise_email(owner_email)?;
        let now = Timestamp::now();
        let existing = store_user::by_email(&self.store, &email).await?;
        let one_time = existing.is_none().then(|| secret::readable_password(20));
        let hash = match &one_time {
            Some(p) => Some(password::hash_async(p.clone()).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let mut slug = Slug::from_name(&name);
        let mut n = 2;
        while store_org::slug_taken(&mut tx, slug.as_str()).await? {
            slug = Slug::parse(&format!(
                "{}-{n}",
                Slug::from_name(&name)
                    .as_str()
                    .chars()
                    .take(40)
                    .collect::<String>()
            ))
            .map_err(|e| AppError::invalid("org", e.to_string()))?;
            n += 1;
        }
        let org = Organisation {
            id: OrgId::new(),
            slug,
            name,
            created_at: now,
        };
        store_org::insert(&mut tx, &org).await?;
        let user_id = match &existing {
            Some(u) => u.id,
            None => {
                let local = email.split('@').next().unwrap_or("owner");
                let user = User {
                    id: UserId::new(),
                    kind: "person".into(),
                    email: email.clone(),
                    display_name: check_display_name(local).unwrap_or_else(|_| "Owner".into()),
                    password_hash: hash,
                    must_change_password: true,
                    totp_secret: None,
                    totp_pending_secret: None,
                    totp_last_step: None,
                    totp_enabled_at: None,
                    created_at: now,
                    disabled_at: None,
                };
                store_user::insert(&mut tx, &user).await?;
                user.id
            }
        };
        let m = Membership {
            org_id: org.id,
            user_id,
            role: Role::Owner,
            role_since: now,
            created_at: now,
            deactivated_at: None,
            expires_at: None,
            engagement_id: None,
        };
        store_user::add_membership(&mut tx, &m, &caller.actor_text()).await?;
        record(
            &mut tx,
            caller,
            Event::org(org.id, "organisation.create", "organisation", org.id).after(&org),
        )
        .await?;
        record(
            &mut tx,
            caller,
            Event::org(org.id, "member.join", "membership", user_id).after(&m),
        )
        .await?;
        tx.commit().await?;
        Ok(Initialised {
            org,
            email,
            one_time_password: one_time,
        })
    }

    /// The caller's current organisation.
    pub async fn organisation(&self, caller: &Caller) -> AppResult<OrgView> {
        let org = caller.require(Permission::ProgramRead)?;
        Ok(OrgView {
            org: store_org::get(&self.store, org).await?,
            settings: self.org_settings(org).await?,
        })
    }

    /// Renames the organisation and changes its settings.
    pub async fn update_organisation(
        &self,
        caller: &Caller,
        name: &str,
        settings: OrgSettings,
    ) -> AppResult<OrgView> {
        let org_id = caller.require(Permission::OrgManage)?;
        let name = validate_org_name(name).map_err(|m| AppError::invalid("name", m))?;
        let before = self.organisation(caller).await?;
        let mut tx = self.store.begin().await?;
        store_org::rename(&mut tx, org_id, &name).await?;
        let mut v = store_org::settings(&self.store, org_id).await?;
        if let (Some(obj), Ok(serde_json::Value::Object(new))) =
            (v.as_object_mut(), serde_json::to_value(&settings))
        {
            obj.extend(new);
        }
        store_org::set_settings(&mut tx, org_id, &v).await?;
        let after = OrgView {
            org: Organisation {
                name,
                ..before.org.clone()
            },
            settings,
        };
        record(
            &mut tx,
            caller,
            Event::org(org_id, "organisation.update", "organisation", org_id)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every organisation on this instance (the command line).
    pub async fn all_organisations(&self) -> AppResult<Vec<Organisation>> {
        Ok(store_org::list(&self.store).await?)
    }

    /// An organisation by its short name (the command line and the trust portal).
    pub async fn organisation_by_slug(&self, slug: &str) -> AppResult<Organisation> {
        store_org::by_slug(&self.store, slug)
            .await?
            .ok_or(AppError::NotFound("organisation"))
    }
}
