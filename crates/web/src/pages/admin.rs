//! Administration: members and invitations, organisation settings, the audit trail.

use askama::Template;
use attest_app::identity::session::OrgSettings;
use attest_app::identity::sso::SsoSettings;
use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::role::Role;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::{Shell, render, render_status};
use crate::AppState;
use crate::api::audit::TrailQuery;
use crate::api::identity::{InvitationDto, MemberDto};
use crate::auth::Auth;
use crate::error::{ApiPath, ApiQuery, PageForm, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    let manage = Access::Perm(Permission::MembersManage);
    r.page(
        Method::GET,
        "/members",
        Access::Perm(Permission::MembersRead),
        members,
    )
    .page(Method::POST, "/members/invite", manage, invite)
    .page(
        Method::POST,
        "/members/service-accounts",
        Access::Perm(Permission::TokensManage),
        create_service_account,
    )
    .page(Method::POST, "/members/{user_id}/role", manage, change_role)
    .page(
        Method::POST,
        "/members/{user_id}/deactivate",
        manage,
        deactivate,
    )
    .page(
        Method::POST,
        "/members/{user_id}/reactivate",
        manage,
        reactivate,
    )
    .page(
        Method::POST,
        "/members/{user_id}/reset-link",
        manage,
        reset_link,
    )
    .page(
        Method::POST,
        "/members/invitations/{invitation_id}/revoke",
        manage,
        revoke_invitation,
    )
    .page(
        Method::GET,
        "/settings",
        Access::Perm(Permission::ProgramRead),
        settings,
    )
    .page(
        Method::POST,
        "/settings",
        Access::Perm(Permission::OrgManage),
        save_settings,
    )
    .page(
        Method::POST,
        "/settings/sso",
        Access::Perm(Permission::OrgManage),
        save_sso,
    )
    .page(
        Method::POST,
        "/settings/retention",
        Access::Perm(Permission::EvidenceDispose),
        save_retention,
    )
    .page(
        Method::POST,
        "/settings/retention/apply",
        Access::Perm(Permission::EvidenceDispose),
        apply_retention,
    )
    .page(
        Method::GET,
        "/audit-trail",
        Access::Perm(Permission::AuditTrailRead),
        audit_trail,
    )
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    shell: Shell,
    members: Vec<MemberDto>,
    invitations: Vec<InvitationDto>,
    roles: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    can_review: bool,
    can_service: bool,
    link: Option<(String, String)>,
    error: Option<String>,
}

async fn members_view(
    st: &AppState,
    auth: &Auth,
    notice: Option<&'static str>,
    link: Option<(String, String)>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let mut shell = Shell::new(st, auth, "Members", "members").await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let members = st.app.members(&auth.caller).await.map_err(WebError::page)?;
    let invitations = st
        .app
        .invitations(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let mine = auth.caller.role.unwrap_or(Role::Viewer);
    let page = MembersPage {
        shell,
        members: members.into_iter().map(Into::into).collect(),
        invitations: invitations.into_iter().map(Into::into).collect(),
        roles: Role::ALL
            .into_iter()
            .rev()
            .filter(|r| mine.may_grant(*r))
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        can_manage: auth.caller.require(Permission::MembersManage).is_ok(),
        can_review: auth.caller.require(Permission::AccessReview).is_ok(),
        can_service: auth.caller.require(Permission::TokensManage).is_ok(),
        link,
        error: error.clone(),
    };
    Ok(if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

/// Turns an expected refusal into a message on the members page.
async fn members_result(
    st: &AppState,
    auth: &Auth,
    r: Result<Option<&'static str>, AppError>,
) -> Result<Response, WebError> {
    match r {
        Ok(notice) => members_view(st, auth, notice, None, None).await,
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::Conflict { .. }
            | AppError::Rule { .. }
            | AppError::Forbidden(_)),
        ) => members_view(st, auth, None, None, Some(e.to_string())).await,
        Err(e) => Err(WebError::page(e)),
    }
}

async fn members(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    members_view(&st, &auth, None, None, None).await
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role: String,
}

fn role(s: &str) -> Result<Role, AppError> {
    s.parse()
        .map_err(|e: attest_domain::role::UnknownRole| AppError::invalid("role", e.to_string()))
}

async fn invite(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<InviteForm>,
) -> Result<Response, WebError> {
    let r = match role(&f.role) {
        Ok(r) => st.app.invite(&auth.caller, &f.email, r).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(inv) => {
            let label = format!("Invitation for {} created.", inv.invitation.email);
            members_view(&st, &auth, None, Some((label, inv.link)), None).await
        }
        Err(e) => members_result(&st, &auth, Err(e)).await,
    }
}

#[derive(Deserialize)]
struct ServiceAccountForm {
    name: String,
    role: String,
}

async fn create_service_account(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<ServiceAccountForm>,
) -> Result<Response, WebError> {
    let r = match role(&f.role) {
        Ok(r) => st
            .app
            .create_service_account(&auth.caller, &f.name, r)
            .await
            .map(|_| {
                Some("Service account created: create a token for it under Account → API tokens.")
            }),
        Err(e) => Err(e),
    };
    members_result(&st, &auth, r).await
}

fn member_id(s: &str) -> Result<UserId, WebError> {
    s.parse()
        .map_err(|_| WebError::page(AppError::NotFound("member")))
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn change_role(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    PageForm(f): PageForm<RoleForm>,
) -> Result<Response, WebError> {
    let user = member_id(&id)?;
    let r = match role(&f.role) {
        Ok(r) => st
            .app
            .change_role(&auth.caller, user, r)
            .await
            .map(|()| Some("Role changed.")),
        Err(e) => Err(e),
    };
    members_result(&st, &auth, r).await
}

async fn deactivate(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st
        .app
        .deactivate_member(&auth.caller, member_id(&id)?)
        .await
        .map(|()| Some("Member deactivated: their sessions and tokens have stopped."));
    members_result(&st, &auth, r).await
}

async fn reactivate(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st
        .app
        .reactivate_member(&auth.caller, member_id(&id)?)
        .await
        .map(|()| Some("Member reactivated."));
    members_result(&st, &auth, r).await
}

async fn reset_link(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    match st
        .app
        .member_reset_link(&auth.caller, member_id(&id)?)
        .await
    {
        Ok(link) => {
            members_view(
                &st,
                &auth,
                None,
                Some(("Password reset link created.".into(), link)),
                None,
            )
            .await
        }
        Err(e) => members_result(&st, &auth, Err(e)).await,
    }
}

async fn revoke_invitation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let r = st
        .app
        .revoke_invitation(&auth.caller, &id)
        .await
        .map(|()| Some("Invitation revoked."));
    members_result(&st, &auth, r).await
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    shell: Shell,
    name: String,
    slug: String,
    mfa_required: bool,
    can_manage: bool,
    error: Option<String>,
    sso: SsoSettings,
    has_sso: bool,
    sso_redirect: String,
    sso_roles: Vec<(&'static str, &'static str)>,
    group_roles_text: String,
    sso_error: Option<String>,
    retention: Option<i64>,
    can_dispose: bool,
    retention_error: Option<String>,
}

async fn settings_view(
    st: &AppState,
    auth: &Auth,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, WebError> {
    settings_view_sso(st, auth, notice, error, None, None, None).await
}

async fn settings_view_sso(
    st: &AppState,
    auth: &Auth,
    notice: Option<&'static str>,
    error: Option<String>,
    sso_error: Option<String>,
    sso_draft: Option<SsoSettings>,
    retention_error: Option<String>,
) -> Result<Response, WebError> {
    let mut shell = Shell::new(st, auth, "Settings", "settings").await?;
    if let Some(n) = notice {
        shell = shell.notice("ok", n);
    }
    let v = st
        .app
        .organisation(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let can_manage = auth.caller.require(Permission::OrgManage).is_ok();
    let stored = if can_manage {
        st.app
            .sso_settings(&auth.caller)
            .await
            .map_err(WebError::page)?
    } else {
        None
    };
    let has_sso = stored.is_some();
    let sso = sso_draft.or(stored).unwrap_or_else(|| SsoSettings {
        default_role: "viewer".into(),
        group_claim: Some("groups".into()),
        ..SsoSettings::default()
    });
    let group_roles_text = sso
        .group_roles
        .iter()
        .map(|(g, r)| format!("{g} = {r}"))
        .collect::<Vec<_>>()
        .join("\n");
    let failed = error.is_some() || sso_error.is_some() || retention_error.is_some();
    let retention = st
        .app
        .evidence_retention(&auth.caller)
        .await
        .map_err(WebError::page)?;
    let page = SettingsPage {
        shell,
        name: v.org.name,
        slug: v.org.slug.to_string(),
        mfa_required: v.settings.mfa_required,
        can_manage,
        error,
        sso,
        has_sso,
        sso_redirect: st.app.sso_redirect(),
        sso_roles: [
            Role::Viewer,
            Role::ControlOwner,
            Role::ComplianceManager,
            Role::Owner,
        ]
        .into_iter()
        .map(|r| (r.as_str(), r.label()))
        .collect(),
        group_roles_text,
        sso_error,
        retention,
        can_dispose: auth.caller.require(Permission::EvidenceDispose).is_ok(),
        retention_error,
    };
    Ok(if failed {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    })
}

async fn settings(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    settings_view(&st, &auth, None, None).await
}

#[derive(Deserialize)]
struct SettingsForm {
    name: String,
    mfa_required: Option<String>,
}

async fn save_settings(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<SettingsForm>,
) -> Result<Response, WebError> {
    let settings = OrgSettings {
        mfa_required: f.mfa_required.is_some(),
    };
    match st
        .app
        .update_organisation(&auth.caller, &f.name, settings)
        .await
    {
        Ok(_) => settings_view(&st, &auth, Some("Settings saved."), None).await,
        Err(e @ AppError::Invalid { .. }) => {
            settings_view(&st, &auth, None, Some(e.to_string())).await
        }
        Err(e) => Err(WebError::page(e)),
    }
}

#[derive(Deserialize)]
struct SsoForm {
    issuer: String,
    client_id: String,
    client_secret: String,
    default_role: String,
    group_claim: String,
    group_roles: String,
    enabled: Option<String>,
    required: Option<String>,
}

/// Parses `group = role` lines.
fn group_roles(text: &str) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    let mut out = std::collections::BTreeMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (g, r) = line.split_once('=').ok_or_else(|| {
            AppError::invalid(
                "group_roles",
                format!("line {}: write it as group = role", i + 1),
            )
        })?;
        out.insert(g.trim().to_owned(), r.trim().to_owned());
    }
    Ok(out)
}

async fn save_sso(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<SsoForm>,
) -> Result<Response, WebError> {
    let draft = SsoSettings {
        issuer: f.issuer,
        client_id: f.client_id,
        client_secret: f.client_secret,
        default_role: f.default_role,
        group_claim: Some(f.group_claim).filter(|g| !g.trim().is_empty()),
        group_roles: Default::default(),
        enabled: f.enabled.is_some(),
        required: f.required.is_some(),
    };
    let result = match group_roles(&f.group_roles) {
        Ok(map) => {
            st.app
                .configure_sso(
                    &auth.caller,
                    SsoSettings {
                        group_roles: map,
                        ..draft.clone()
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => settings_view(&st, &auth, Some("Single sign-on saved."), None).await,
        Err(e @ (AppError::Invalid { .. } | AppError::Rule { .. })) => {
            settings_view_sso(
                &st,
                &auth,
                None,
                None,
                Some(e.to_string()),
                Some(SsoSettings {
                    client_secret: String::new(),
                    ..draft
                }),
                None,
            )
            .await
        }
        Err(e) => Err(WebError::page(e)),
    }
}

/// One row of the audit trail page.
pub struct EntryRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: String,
    pub after: String,
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| json.to_owned())
}

impl From<attest_store::audit::Entry> for EntryRow {
    fn from(e: attest_store::audit::Entry) -> Self {
        Self {
            seq: e.seq,
            at: e
                .at
                .to_datetime()
                .format(&time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
                ))
                .unwrap_or_default(),
            before: if e.before.is_empty() {
                String::new()
            } else {
                pretty(&e.before)
            },
            after: if e.after.is_empty() {
                String::new()
            } else {
                pretty(&e.after)
            },
            actor: e.actor,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
        }
    }
}

#[derive(Template)]
#[template(path = "audit_trail.html")]
struct TrailPage {
    shell: Shell,
    entries: Vec<EntryRow>,
    q_action: String,
    q_object_type: String,
    q_object_id: String,
    q_actor: String,
    older: Option<String>,
}

async fn audit_trail(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<TrailQuery>,
) -> Result<Response, WebError> {
    let shell = Shell::new(&st, &auth, "Audit trail", "audit").await?;
    let mut filter = q.filter();
    filter.limit = filter.limit.clamp(1, 200);
    let entries = st
        .app
        .audit_entries(&auth.caller, &filter)
        .await
        .map_err(WebError::page)?;
    let older = (entries.len() as i64 == filter.limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            let mut params = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("action", &q.action),
                ("object_type", &q.object_type),
                ("object_id", &q.object_id),
                ("actor", &q.actor),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    params.append_pair(k, v);
                }
            }
            params.append_pair("before_seq", &seq.to_string());
            format!("/audit-trail?{}", params.finish())
        });
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(render(&TrailPage {
        shell,
        entries: entries.into_iter().map(Into::into).collect(),
        q_action: opt(&q.action),
        q_object_type: opt(&q.object_type),
        q_object_id: opt(&q.object_id),
        q_actor: opt(&q.actor),
        older,
    }))
}

async fn save_retention(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    PageForm(f): PageForm<RetentionForm>,
) -> Result<Response, WebError> {
    let days = f.keep_days.trim();
    let result = if days.is_empty() {
        Ok(None)
    } else {
        days.parse::<i64>().map(Some).map_err(|_| {
            attest_app::AppError::invalid("keep_days", "give the number of days, or leave it blank")
        })
    };
    let result = match result {
        Ok(d) => st.app.set_evidence_retention(&auth.caller, d).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => settings_view(&st, &auth, Some("Retention rule saved."), None).await,
        Err(e) => {
            let msg = super::message(e)?;
            settings_view_sso(&st, &auth, None, None, None, None, Some(msg)).await
        }
    }
}

#[derive(Deserialize)]
struct RetentionForm {
    keep_days: String,
}

async fn apply_retention(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, WebError> {
    match st.app.apply_evidence_retention(&auth.caller).await {
        Ok(_) => {
            settings_view(
                &st,
                &auth,
                Some("Retention rule applied: the audit trail lists what was disposed of."),
                None,
            )
            .await
        }
        Err(e) => {
            let msg = super::message(e)?;
            settings_view_sso(&st, &auth, None, None, None, None, Some(msg)).await
        }
    }
}
