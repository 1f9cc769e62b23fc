//! People and access: the caller, sessions, API tokens, service accounts, members,
//! invitations and the access review.

use attest_app::{AppError, Permission};
use attest_domain::UserId;
use attest_domain::role::Role;
use attest_store::invitation::Invitation;
use attest_store::session::Session;
use attest_store::token::ApiToken;
use attest_store::user::{Member, RolePeriod};
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use utoipa_axum::routes;

use super::perm;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiPath, ApiQuery, ErrorBody, WebError};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    r.api(Access::SignedIn, routes!(me))
        .api(Access::SignedIn, routes!(list_sessions))
        .api(Access::SignedIn, routes!(revoke_session))
        .api(perm(Permission::TokensOwn), routes!(list_tokens))
        .api(perm(Permission::TokensOwn), routes!(create_token))
        .api(perm(Permission::TokensOwn), routes!(revoke_token))
        .api(
            perm(Permission::TokensManage),
            routes!(create_service_account),
        )
        .api(perm(Permission::MembersRead), routes!(list_members))
        .api(perm(Permission::MembersManage), routes!(change_member))
        .api(perm(Permission::MembersManage), routes!(deactivate_member))
        .api(perm(Permission::MembersManage), routes!(reactivate_member))
        .api(perm(Permission::MembersManage), routes!(member_reset_link))
        .api(perm(Permission::MembersRead), routes!(list_invitations))
        .api(perm(Permission::MembersManage), routes!(create_invitation))
        .api(perm(Permission::MembersManage), routes!(revoke_invitation))
        .api(perm(Permission::AccessReview), routes!(access_review))
}

fn parse_role(s: &str) -> Result<Role, AppError> {
    s.parse()
        .map_err(|e: attest_domain::role::UnknownRole| AppError::invalid("role", e.to_string()))
}

/// The signed-in caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    /// User id.
    pub user_id: Option<String>,
    /// Organisation id.
    pub organisation_id: Option<String>,
    /// Role in that organisation.
    pub role: Option<String>,
    /// How the caller authenticated: `session` or `token`.
    pub via: String,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
async fn me(Extension(auth): Extension<Auth>) -> axum::Json<MeDto> {
    let c = &auth.caller;
    axum::Json(MeDto {
        user_id: c.user.map(|u| u.to_string()),
        organisation_id: c.org.map(|o| o.to_string()),
        role: c.role.map(|r| r.to_string()),
        via: match c.via {
            attest_app::authz::Via::Token(_) => "token".into(),
            _ => "session".into(),
        },
    })
}

/// A sign-in session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    /// Id (a hash; the cookie value is never shown).
    pub id: String,
    /// Started.
    pub created_at: String,
    /// Last request.
    pub last_seen_at: String,
    /// Ends at the latest.
    pub expires_at: String,
    /// Address at sign-in.
    pub ip: Option<String>,
    /// Browser at sign-in.
    pub user_agent: Option<String>,
    /// Whether it is the session of this request.
    pub current: bool,
}

pub(crate) fn session_dto(s: Session, current: Option<&str>) -> SessionDto {
    SessionDto {
        current: current == Some(s.id_hash.as_str()),
        id: s.id_hash,
        created_at: s.created_at.to_rfc3339(),
        last_seen_at: s.last_seen_at.to_rfc3339(),
        expires_at: s.expires_at.to_rfc3339(),
        ip: s.ip,
        user_agent: s.user_agent,
    }
}

/// The caller's own live sessions.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "identity", responses((status = 200, body = Vec<SessionDto>)))]
async fn list_sessions(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Vec<SessionDto>>, WebError> {
    let current = auth.session.as_ref().map(|s| s.id_hash.clone());
    let list = st.app.my_sessions(&auth.caller).await?;
    Ok(axum::Json(
        list.into_iter()
            .map(|s| session_dto(s, current.as_deref()))
            .collect(),
    ))
}

/// Ends one of the caller's own sessions.
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}", tag = "identity",
    params(("session_id" = String, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_session(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(session_id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app.revoke_my_session(&auth.caller, &session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API token (never its secret, except once when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The secret's first characters.
    pub prefix: String,
    /// Role granted.
    pub role: String,
    /// The user or service account it acts as.
    pub user_id: String,
    /// Created.
    pub created_at: String,
    /// Expires.
    pub expires_at: String,
    /// Revoked.
    pub revoked_at: Option<String>,
    /// Last used.
    pub last_used_at: Option<String>,
}

impl From<ApiToken> for TokenDto {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            role: t.role.to_string(),
            user_id: t.user_id.to_string(),
            created_at: t.created_at.to_rfc3339(),
            expires_at: t.expires_at.to_rfc3339(),
            revoked_at: t.revoked_at.map(|t| t.to_rfc3339()),
            last_used_at: t.last_used_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Tokens the caller may see.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "identity", responses((status = 200, body = Vec<TokenDto>)))]
async fn list_tokens(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Vec<TokenDto>>, WebError> {
    Ok(axum::Json(
        st.app
            .tokens(&auth.caller)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A new token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Name (what it is for).
    pub name: String,
    /// Role, at most the creator's.
    pub role: String,
    /// Lifetime in days (1–366).
    pub expires_in_days: i64,
    /// A service account to act as (owners); the creator when absent.
    pub service_account_id: Option<String>,
}

/// A created token, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenDto {
    /// The token.
    pub token: TokenDto,
    /// The secret: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// Creates an API token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "identity", request_body = NewToken,
    responses((status = 201, body = CreatedTokenDto), (status = 422, body = ErrorBody)))]
async fn create_token(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<Response, WebError> {
    let role = parse_role(&body.role)?;
    let for_user = match body.service_account_id.as_deref() {
        Some(s) => Some(
            s.parse::<UserId>()
                .map_err(|_| AppError::NotFound("service account"))?,
        ),
        None => None,
    };
    let created = st
        .app
        .create_token(
            &auth.caller,
            &body.name,
            role,
            body.expires_in_days,
            for_user,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedTokenDto {
            token: created.token.into(),
            secret: created.secret,
        }),
    )
        .into_response())
}

/// Revokes a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "identity",
    params(("token_id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(token_id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app.revoke_token(&auth.caller, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new service account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceAccount {
    /// Name.
    pub name: String,
    /// Role, at most the creator's.
    pub role: String,
}

/// A member of the organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    /// User id.
    pub user_id: String,
    /// `person` or `service`.
    pub kind: String,
    /// E-mail.
    pub email: String,
    /// Name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Role held since.
    pub role_since: String,
    /// Deactivated at.
    pub deactivated_at: Option<String>,
    /// Access ends at (auditors).
    pub expires_at: Option<String>,
    /// Second factor enabled.
    pub mfa_enabled: bool,
}

impl From<Member> for MemberDto {
    fn from(m: Member) -> Self {
        Self {
            mfa_enabled: m.user.mfa_enabled(),
            user_id: m.user.id.to_string(),
            kind: m.user.kind,
            email: m.user.email,
            display_name: m.user.display_name,
            role: m.membership.role.to_string(),
            role_since: m.membership.role_since.to_rfc3339(),
            deactivated_at: m.membership.deactivated_at.map(|t| t.to_rfc3339()),
            expires_at: m.membership.expires_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Creates a service account (owners).
#[utoipa::path(post, path = "/api/v1/service-accounts", tag = "identity", request_body = NewServiceAccount,
    responses((status = 201, body = MemberDto), (status = 422, body = ErrorBody)))]
async fn create_service_account(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(body): ApiJson<NewServiceAccount>,
) -> Result<Response, WebError> {
    let role = parse_role(&body.role)?;
    let u = st
        .app
        .create_service_account(&auth.caller, &body.name, role)
        .await?;
    let members = st.app.members(&auth.caller).await?;
    let m = members
        .into_iter()
        .find(|m| m.user.id == u.id)
        .ok_or(AppError::NotFound("service account"))?;
    Ok((StatusCode::CREATED, axum::Json(MemberDto::from(m))).into_response())
}

/// The organisation's members.
#[utoipa::path(get, path = "/api/v1/members", tag = "members", responses((status = 200, body = Vec<MemberDto>)))]
async fn list_members(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Vec<MemberDto>>, WebError> {
    Ok(axum::Json(
        st.app
            .members(&auth.caller)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A change to a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    /// New role.
    pub role: String,
}

fn user_id(s: &str) -> Result<UserId, WebError> {
    s.parse()
        .map_err(|_| WebError::api(AppError::NotFound("member")))
}

/// Changes a member's role.
#[utoipa::path(patch, path = "/api/v1/members/{user_id}", tag = "members", request_body = MemberChange,
    params(("user_id" = String, Path, description = "Member's user id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_member(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MemberChange>,
) -> Result<StatusCode, WebError> {
    st.app
        .change_role(&auth.caller, user_id(&id)?, parse_role(&body.role)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deactivates a member: sessions end and tokens stop at once.
#[utoipa::path(post, path = "/api/v1/members/{user_id}/deactivate", tag = "members",
    params(("user_id" = String, Path, description = "Member's user id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn deactivate_member(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app
        .deactivate_member(&auth.caller, user_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reactivates a member.
#[utoipa::path(post, path = "/api/v1/members/{user_id}/reactivate", tag = "members",
    params(("user_id" = String, Path, description = "Member's user id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn reactivate_member(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app
        .reactivate_member(&auth.caller, user_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A single-use link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDto {
    /// The link to pass on.
    pub link: String,
    /// Until when it works.
    pub expires_at: Option<String>,
}

/// Creates a single-use password reset link for a member (pass it on yourself).
#[utoipa::path(post, path = "/api/v1/members/{user_id}/reset-link", tag = "members",
    params(("user_id" = String, Path, description = "Member's user id")),
    responses((status = 201, body = LinkDto), (status = 404, body = ErrorBody)))]
async fn member_reset_link(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, WebError> {
    let link = st
        .app
        .member_reset_link(&auth.caller, user_id(&id)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(LinkDto {
            link,
            expires_at: None,
        }),
    )
        .into_response())
}

/// An open invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationDto {
    /// Id.
    pub id: String,
    /// Invited address.
    pub email: String,
    /// Role offered.
    pub role: String,
    /// Invited by.
    pub created_by: String,
    /// Created.
    pub created_at: String,
    /// Expires.
    pub expires_at: String,
}

impl From<Invitation> for InvitationDto {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.to_string(),
            created_by: i.created_by,
            created_at: i.created_at.to_rfc3339(),
            expires_at: i.expires_at.to_rfc3339(),
        }
    }
}

/// Open invitations.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "members", responses((status = 200, body = Vec<InvitationDto>)))]
async fn list_invitations(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> Result<axum::Json<Vec<InvitationDto>>, WebError> {
    Ok(axum::Json(
        st.app
            .invitations(&auth.caller)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// A new invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Address to invite.
    pub email: String,
    /// Role to offer (at most the inviter's).
    pub role: String,
}

/// A created invitation, with its link shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitationDto {
    /// The invitation.
    pub invitation: InvitationDto,
    /// The single-use link to send to the invitee.
    pub link: String,
}

/// Invites someone.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "members", request_body = NewInvitation,
    responses((status = 201, body = CreatedInvitationDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_invitation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<Response, WebError> {
    let invited = st
        .app
        .invite(&auth.caller, &body.email, parse_role(&body.role)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedInvitationDto {
            invitation: invited.invitation.into(),
            link: invited.link,
        }),
    )
        .into_response())
}

/// Revokes an open invitation.
#[utoipa::path(delete, path = "/api/v1/invitations/{invitation_id}", tag = "members",
    params(("invitation_id" = String, Path, description = "Invitation id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_invitation(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    st.app.revoke_invitation(&auth.caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Output format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// One period in which someone held a role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolePeriodDto {
    /// User id.
    pub user_id: String,
    /// E-mail.
    pub email: String,
    /// Name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// From.
    pub from: String,
    /// Until (absent while current).
    pub until: Option<String>,
    /// Granted by.
    pub granted_by: String,
}

impl From<RolePeriod> for RolePeriodDto {
    fn from(p: RolePeriod) -> Self {
        Self {
            user_id: p.user_id.to_string(),
            email: p.email,
            display_name: p.display_name,
            role: p.role.to_string(),
            from: p.from.to_rfc3339(),
            until: p.until.map(|t| t.to_rfc3339()),
            granted_by: p.granted_by,
        }
    }
}

/// CSV of the access review.
pub(crate) fn access_review_csv(periods: Vec<RolePeriod>) -> String {
    let esc = |s: &str| {
        // Cells a spreadsheet would run as a formula are prefixed with a quote.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    };
    let mut out = String::from("email,name,role,from,until,granted_by\r\n");
    for p in periods {
        let row = [
            esc(&p.email),
            esc(&p.display_name),
            esc(p.role.as_str()),
            esc(&p.from.to_rfc3339()),
            esc(&p.until.map(|t| t.to_rfc3339()).unwrap_or_default()),
            esc(&p.granted_by),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Who held which role since when (ISO/IEC 27001 A.5.18); `?format=csv` for a spreadsheet.
#[utoipa::path(get, path = "/api/v1/access-review", tag = "members", params(FormatQuery),
    responses((status = 200, body = Vec<RolePeriodDto>), (status = 403, body = ErrorBody)))]
async fn access_review(
    State(st): State<AppState>,
    Extension(auth): Extension<Auth>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, WebError> {
    let periods = st.app.access_review(&auth.caller).await?;
    match q.format.as_deref() {
        Some("csv") => Ok((
            [
                (http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"access-review.csv\"",
                ),
            ],
            access_review_csv(periods),
        )
            .into_response()),
        None | Some("json") => Ok(axum::Json(
            periods
                .into_iter()
                .map(RolePeriodDto::from)
                .collect::<Vec<_>>(),
        )
        .into_response()),
        Some(other) => Err(WebError::api(AppError::invalid(
            "format",
            format!("unknown format `{other}`: use json or csv"),
        ))),
    }
}
