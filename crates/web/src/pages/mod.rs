//! The staff web UI and the sign-in pages: server-rendered HTML (askama), no inline scripts.

mod account;
mod admin;
mod engagement;
mod evidence;
mod home;
mod internal_audit;
mod isms;
mod nonconformity;
mod objective;
mod policy;
mod portal;
pub(crate) mod portal_customers;
mod program;
mod risk;
mod signin;
mod soa;
mod trust;
mod trust_customer;
mod workspace;

use askama::Template;
use attest_app::{AppError, Permission};
use axum::response::{Html, IntoResponse, Response};
use http::{Method, StatusCode};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{Kind, WebError, error_page};
use crate::routes::{Access, Registry};

/// URL of the stylesheet.
pub fn css_url() -> String {
    crate::assets::url("app", "css")
}

/// URL of the script.
pub fn js_url() -> String {
    crate::assets::url("app", "js")
}

/// URL of the logo.
pub fn logo_url() -> String {
    crate::assets::url("logo", "svg")
}

/// Registers every page.
pub fn register(r: Registry) -> Registry {
    let r = r.raw(
        Method::GET,
        "/assets/{file}",
        Access::Public,
        Kind::Page,
        crate::assets::serve,
    );
    let r = signin::register(r);
    let r = home::register(r);
    let r = account::register(r);
    let r = program::register(r);
    let r = evidence::register(r);
    let r = risk::register(r);
    let r = isms::register(r);
    let r = nonconformity::register(r);
    let r = soa::register(r);
    let r = policy::register(r);
    let r = objective::register(r);
    let r = internal_audit::register(r);
    let r = engagement::register(r);
    let r = workspace::register(r);
    let r = trust::register(r);
    let r = trust_customer::register(r);
    let r = portal::register(r);
    let r = portal_customers::register(r);
    admin::register(r)
}

/// An organisation in the switcher.
pub struct OrgChoice {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Whether it is the current one.
    pub current: bool,
}

/// A link in the side navigation.
pub struct NavItem {
    /// Text.
    pub label: &'static str,
    /// Target.
    pub href: &'static str,
    /// Whether it is the current page's area.
    pub active: bool,
}

/// A group of links.
pub struct NavSection {
    /// Heading.
    pub title: &'static str,
    /// Links.
    pub items: Vec<NavItem>,
}

/// A message at the top of a page.
pub struct Notice {
    /// `ok`, `error`, `warn` or `info`.
    pub kind: &'static str,
    /// Text.
    pub text: String,
}

/// Everything the staff layout shows around a page.
pub struct Shell {
    /// Page title.
    pub title: String,
    /// The signed-in person's name.
    pub user_name: String,
    /// Their role here.
    pub role_label: &'static str,
    /// Organisations to switch between.
    pub orgs: Vec<OrgChoice>,
    /// Side navigation, filtered by what the role may see.
    pub nav: Vec<NavSection>,
    /// CSRF token for forms.
    pub csrf: String,
    /// A message to show.
    pub notice: Option<Notice>,
}

/// The areas of Attest, by section: (section, label, href, area key, permission needed).
const AREAS: &[(&str, &str, &str, &str, Permission)] = &[
    (
        "Overview",
        "Dashboard",
        "/",
        "home",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Coverage",
        "/coverage",
        "coverage",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Controls",
        "/controls",
        "controls",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Evidence",
        "/evidence",
        "evidence",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "ISMS scope",
        "/isms/scope",
        "isms",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Statement of Applicability",
        "/soa",
        "soa",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Policies",
        "/policies",
        "policies",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Objectives",
        "/objectives",
        "objectives",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Engagements",
        "/engagements",
        "engagements",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Audit requests",
        "/requests",
        "requests",
        Permission::RequestAnswer,
    ),
    (
        "Compliance program",
        "Internal audits",
        "/audits",
        "audits",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Management reviews",
        "/management-reviews",
        "reviews",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Nonconformities",
        "/nonconformities",
        "nonconformities",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Risks",
        "/risks",
        "risks",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Frameworks",
        "/frameworks",
        "frameworks",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Crosswalk",
        "/crosswalk",
        "crosswalk",
        Permission::ProgramRead,
    ),
    (
        "Compliance program",
        "Services",
        "/services",
        "services",
        Permission::ProgramRead,
    ),
    (
        "Administration",
        "Trust portal",
        "/portal",
        "portal",
        Permission::PortalManage,
    ),
    (
        "Administration",
        "Members",
        "/members",
        "members",
        Permission::MembersRead,
    ),
    (
        "Administration",
        "Settings",
        "/settings",
        "settings",
        Permission::ProgramRead,
    ),
    (
        "Administration",
        "Audit trail",
        "/audit-trail",
        "audit",
        Permission::AuditTrailRead,
    ),
];

impl Shell {
    /// The layout for a signed-in staff member; `area` marks the current navigation item.
    pub async fn new(
        st: &AppState,
        auth: &Auth,
        title: impl Into<String>,
        area: &str,
    ) -> Result<Self, WebError> {
        let orgs = st
            .app
            .my_organisations(&auth.caller)
            .await
            .map_err(WebError::page)?;
        let mut nav: Vec<NavSection> = Vec::new();
        for (section, label, href, key, perm) in AREAS {
            if auth.caller.require(*perm).is_err() {
                continue;
            }
            let item = NavItem {
                label,
                href,
                active: *key == area,
            };
            match nav.iter_mut().find(|s| s.title == *section) {
                Some(s) => s.items.push(item),
                None => nav.push(NavSection {
                    title: section,
                    items: vec![item],
                }),
            }
        }
        Ok(Self {
            title: title.into(),
            user_name: auth
                .session
                .as_ref()
                .map(|s| s.display_name.clone())
                .unwrap_or_default(),
            role_label: auth.caller.role.map(|r| r.label()).unwrap_or(""),
            orgs: orgs
                .into_iter()
                .map(|(o, _)| OrgChoice {
                    current: Some(o.id) == auth.caller.org,
                    id: o.id.to_string(),
                    name: o.name,
                })
                .collect(),
            nav,
            csrf: auth.csrf.clone(),
            notice: None,
        })
    }

    /// With a message.
    pub fn notice(mut self, kind: &'static str, text: impl Into<String>) -> Self {
        self.notice = Some(Notice {
            kind,
            text: text.into(),
        });
        self
    }

    /// With the message a `?notice=` code names (fixed texts only: nothing from the URL is shown).
    pub fn notice_code(self, code: Option<&str>, texts: &[(&str, &'static str)]) -> Self {
        match code.and_then(|c| texts.iter().find(|(k, _)| *k == c)) {
            Some((_, t)) => self.notice("ok", *t),
            None => self,
        }
    }
}

/// Renders a template as a page.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be drawn; the details are in the server log.",
            )
        }
    }
}

/// Renders with a status.
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    let mut r = render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// The form error to show beside a field: `(field, message)` for invalid input, or a page
/// error for anything else.
pub fn form_error(e: AppError) -> Result<(String, String), WebError> {
    match e {
        AppError::Invalid { field, message } | AppError::Conflict { field, message } => {
            Ok((field, message))
        }
        AppError::Rule { message, .. } => Ok((String::new(), message)),
        other => Err(WebError::page(other)),
    }
}

/// A form message from an expected refusal, or the error page for anything else.
pub(crate) fn message(e: attest_app::AppError) -> Result<String, WebError> {
    use attest_app::AppError as E;
    match e {
        E::Invalid { .. }
        | E::Conflict { .. }
        | E::Rule { .. }
        | E::Forbidden(_)
        | E::TooLarge(_)
        | E::NotFound(_) => Ok(e.to_string()),
        other => Err(WebError::page(other)),
    }
}

/// A redirect after a successful form (303 so the browser follows with GET).
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}
