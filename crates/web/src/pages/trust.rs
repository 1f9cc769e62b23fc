//! The trust portal's public pages: `/trust/{slug}` (home), `/trust/{slug}/{offering}`, the
//! brand stylesheet and public documents. Language from `?lang=ko|en`, else the browser's
//! preference; the interface is translated with Fluent, the organisation's texts are its
//! own per language (Korean falls back to English).

use askama::Template;
use attest_app::portal::{Lang, PublicDocument};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, header};
use serde::Deserialize;

use super::render;
use crate::AppState;
use crate::error::{ApiPath, ApiQuery, WebError};
use crate::i18n::{Tr, negotiate};
use crate::routes::{Access, Registry};

pub(super) fn register(r: Registry) -> Registry {
    r.page(Method::GET, "/trust/{slug}", Access::Public, home)
        .page(
            Method::GET,
            "/trust/{slug}/brand.css",
            Access::Public,
            brand,
        )
        .page(Method::GET, "/trust/{slug}/logo", Access::Public, logo)
        .page(
            Method::GET,
            "/trust/{slug}/documents/{document_id}",
            Access::Public,
            document,
        )
        .page(
            Method::GET,
            "/trust/{slug}/verify",
            Access::Public,
            verify_page,
        )
        .page(Method::GET, "/trust/{slug}/key", Access::Public, key)
        .page(
            Method::GET,
            "/trust/{slug}/{offering}/manifest.json",
            Access::Public,
            manifest,
        )
        .page(
            Method::GET,
            "/trust/{slug}/{offering}",
            Access::Public,
            offering,
        )
}

#[derive(Deserialize, Default)]
pub(super) struct LangQuery {
    pub(super) lang: Option<String>,
    /// What a customer's form just did (the account page's notice).
    pub(super) done: Option<String>,
}

pub(super) fn lang_of(q: &LangQuery, headers: &HeaderMap) -> Lang {
    negotiate(
        q.lang.as_deref(),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Common strings of every portal page.
pub(super) struct Chrome {
    pub(super) lang: &'static str,
    pub(super) title: String,
    pub(super) slug: String,
    pub(super) home_label: String,
    pub(super) language_label: String,
    pub(super) account_label: String,
    /// The logo's address, if the organisation has one.
    pub(super) logo: Option<String>,
    /// The other language: (code, its own name).
    pub(super) other: (&'static str, &'static str),
}

pub(super) fn chrome(lang: Lang, org: &str, slug: &str, logo: Option<&str>) -> Chrome {
    let tr = Tr(lang);
    Chrome {
        logo: logo.map(|v| format!("/trust/{slug}/logo?v={v}")),
        lang: lang.as_str(),
        title: tr.args("portal-title", &[("org", org)]),
        slug: slug.to_owned(),
        home_label: tr.t("portal-home"),
        language_label: tr.t("portal-language"),
        account_label: tr.t("customer-account"),
        other: match lang {
            Lang::En => ("ko", "한국어"),
            Lang::Ko => ("en", "English"),
        },
    }
}

#[derive(Template)]
#[template(path = "trust_home.html")]
struct HomePage {
    c: Chrome,
    intro: String,
    heading: String,
    empty: String,
    /// (key, title, status line).
    offerings: Vec<(String, String, String)>,
}

/// A public page: cached briefly by the browser only (a response may carry the visitor's
/// sign-in CSRF cookie, so shared caches must not keep it), varying by language.
pub(super) fn public(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    resp
}

async fn home(
    State(st): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let lang = lang_of(&q, &headers);
    let tr = Tr(lang);
    let h = st
        .app
        .portal_home(&slug, lang)
        .await
        .map_err(WebError::page)?;
    let page = HomePage {
        c: chrome(lang, &h.org_name, &h.slug, h.logo.as_deref()),
        intro: attest_report::markdown::to_html(&h.intro),
        heading: tr.t("portal-offerings"),
        empty: tr.t("portal-no-offerings"),
        offerings: h
            .offerings
            .iter()
            .map(|(k, t, n)| {
                let line = tr.args("portal-current", &[("count", &n.to_string())]);
                (k.clone(), t.clone(), line)
            })
            .collect(),
    };
    Ok(public(render(&page)))
}

/// A document line as the page shows it.
struct DocLine {
    href: Option<String>,
    public: bool,
    title: String,
    language: String,
    sha256: String,
    note: String,
}

/// A report or certificate with its documents.
struct Entry {
    line: String,
    details: Vec<String>,
    docs: Vec<DocLine>,
}

struct Block {
    family: String,
    services: Vec<String>,
    entries: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "trust_offering.html")]
struct OfferingPage {
    c: Chrome,
    key: String,
    heading: String,
    overview_label: String,
    overview: String,
    relation_label: String,
    relation: String,
    in_scope_label: String,
    audits_label: String,
    nothing_label: String,
    blocks: Vec<Block>,
    cycle_label: String,
    cycle: Vec<String>,
    faq_label: String,
    faqs: Vec<(String, String)>,
    resources_label: String,
    resources: Vec<(String, String)>,
    verify_note: String,
    verify_link: String,
    offerings: Vec<(String, String)>,
}

fn doc_lines(tr: Tr, slug: &str, docs: &[PublicDocument]) -> Vec<DocLine> {
    docs.iter()
        .map(|d| DocLine {
            href: Some(if d.public {
                format!("/trust/{slug}/documents/{}", d.id)
            } else {
                format!("/trust/{slug}/account?lang={}#doc-{}", tr.0.as_str(), d.id)
            }),
            public: d.public,
            title: d.title.clone(),
            language: d.language.clone(),
            sha256: d.sha256.clone(),
            note: if d.public {
                tr.t("download")
            } else {
                tr.t("restricted")
            },
        })
        .collect()
}

fn month_day(lang: Lang, (m, d): (u8, u8)) -> String {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match lang {
        Lang::En => format!("{d} {}", EN[usize::from(m.clamp(1, 12)) - 1]),
        Lang::Ko => format!("{m}월 {d}일"),
    }
}

async fn offering(
    State(st): State<AppState>,
    ApiPath((slug, key)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let lang = lang_of(&q, &headers);
    let tr = Tr(lang);
    let o = st
        .app
        .portal_offering(&slug, &key, lang)
        .await
        .map_err(WebError::page)?;
    let blocks = o
        .families
        .iter()
        .map(|b| {
            let mut entries = Vec::new();
            for r in &b.reports {
                let mut details = Vec::new();
                if let Some(d) = r.issued_on {
                    details.push(tr.args("issued-on", &[("date", &d.to_string())]));
                }
                if let Some(op) = &r.opinion {
                    let op = tr.t(&format!("op-{op}"));
                    details.push(tr.args("opinion", &[("opinion", &op)]));
                }
                for (from, until) in &r.bridge_letters {
                    details.push(tr.args(
                        "bridge-letter",
                        &[("from", &from.to_string()), ("until", &until.to_string())],
                    ));
                }
                // SOC report names are the same in every language; a penetration test's is not.
                let kind = if r.kind_id == "pentest" {
                    tr.t("kind-pentest")
                } else {
                    r.kind.clone()
                };
                entries.push(Entry {
                    line: tr.args(
                        "report-line",
                        &[("kind", &kind), ("period", &r.period), ("firm", &r.firm)],
                    ),
                    details,
                    docs: doc_lines(tr, &o.slug, &r.documents),
                });
            }
            for c in &b.certificates {
                let mut details = vec![
                    tr.args(
                        "valid-until",
                        &[
                            ("from", &c.issued_on.to_string()),
                            ("until", &c.expires_on.to_string()),
                        ],
                    ),
                    format!("{}: {}", tr.t("scope"), c.scope),
                ];
                if let Some((which, d)) = &c.next_audit {
                    let which = tr.t(&format!("ms-{which}"));
                    details.push(
                        tr.args("next-audit", &[("which", &which), ("date", &d.to_string())]),
                    );
                }
                entries.push(Entry {
                    line: tr.args(
                        "certificate-line",
                        &[
                            ("standard", &c.standard),
                            ("number", &c.number),
                            ("body", &c.body),
                        ],
                    ),
                    details,
                    docs: doc_lines(tr, &o.slug, &c.documents),
                });
            }
            Block {
                family: b.family.clone().unwrap_or_else(|| tr.t("all-services")),
                services: b.services.clone(),
                entries,
            }
        })
        .collect();
    let mut cycle = Vec::new();
    if !o.cycle.trim().is_empty() {
        cycle.push(o.cycle.clone());
    } else {
        for (program, c) in &o.cadences {
            let ends: Vec<String> = c.period_ends.iter().map(|e| month_day(lang, *e)).collect();
            cycle.push(tr.args(
                "cycle-soc",
                &[
                    ("program", &program.to_uppercase().replace("SOC", "SOC ")),
                    ("months", &c.period_months.to_string()),
                    ("ends", &ends.join(", ")),
                    ("weeks", &c.report_weeks.to_string()),
                ],
            ));
        }
        if o.families.iter().any(|b| !b.certificates.is_empty()) {
            cycle.push(tr.t("cycle-iso"));
        }
    }
    let page = OfferingPage {
        c: chrome(lang, &o.org_name, &o.slug, o.logo.as_deref()),
        key: o.key.clone(),
        heading: o.title.clone(),
        overview_label: tr.t("overview"),
        overview: attest_report::markdown::to_html(&o.overview),
        relation_label: tr.args("relation", &[("org", &o.org_name), ("offering", &o.title)]),
        relation: attest_report::markdown::to_html(&o.relation),
        in_scope_label: tr.t("in-scope"),
        audits_label: tr.t("audits"),
        nothing_label: tr.t("nothing-current"),
        blocks,
        cycle_label: tr.t("audit-cycle"),
        cycle,
        faq_label: tr.t("faq"),
        faqs: o
            .faqs
            .iter()
            .map(|(q, a)| (q.clone(), attest_report::markdown::to_html(a)))
            .collect(),
        resources_label: tr.t("resources"),
        resources: o.resources.clone(),
        verify_note: tr.t("verify-note"),
        verify_link: tr.t("verify-link"),
        offerings: o.offerings.clone(),
    };
    Ok(public(render(&page)))
}

/// The organisation's brand colour as a stylesheet (the pages allow no inline style).
async fn brand(
    State(st): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, WebError> {
    let h = st
        .app
        .portal_home(&slug, Lang::En)
        .await
        .map_err(WebError::page)?;
    // The colour was checked to be #rrggbb when saved.
    let css = format!(":root {{ --brand: {}; }}\n", h.colour);
    let mut resp = css.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    Ok(public(resp))
}

/// The organisation's logo.
async fn logo(
    State(st): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let l = st.app.portal_logo(&slug).await.map_err(WebError::page)?;
    let etag = format!("\"{}\"", l.sha256);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        let mut resp = http::StatusCode::NOT_MODIFIED.into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        return Ok(resp);
    }
    Ok(logo_response(l, true))
}

/// An image response for a logo: its checked type, no sniffing, nothing active, and its
/// SHA-256 as entity tag; public ones may be kept by any cache for five minutes.
pub(crate) fn logo_response(l: attest_app::portal_brand::Logo, public: bool) -> Response {
    let mut resp = l.bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&l.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", l.sha256)) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            "public, max-age=300"
        } else {
            "private, no-cache"
        }),
    );
    resp
}

/// A public document (a certificate or a SOC 3 report on the portal today).
async fn document(
    State(st): State<AppState>,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let (name, content_type, size, stream) = st
        .app
        .portal_public_file(&slug, &id)
        .await
        .map_err(WebError::page)?;
    Ok(crate::api::evidence::file_response(
        &name,
        &content_type,
        size,
        stream,
    ))
}

#[derive(Template)]
#[template(path = "trust_verify.html")]
struct VerifyPage {
    c: Chrome,
    heading: String,
    intro: String,
    hash: String,
    attest: String,
    command: String,
    key_label: String,
    key: String,
    manifests_label: String,
    /// (title, manifest URL).
    manifests: Vec<(String, String)>,
}

/// The page explaining how a customer checks a document against the signed manifests.
async fn verify_page(
    State(st): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let lang = lang_of(&q, &headers);
    let tr = Tr(lang);
    let h = st
        .app
        .portal_home(&slug, lang)
        .await
        .map_err(WebError::page)?;
    let key = st
        .app
        .portal_public_key(&slug)
        .await
        .map_err(WebError::page)?;
    let base = st.app.config().public_url.trim_end_matches('/').to_owned();
    let org = [("org", h.org_name.as_str())];
    let first = h.offerings.first().map(|o| o.0.clone()).unwrap_or_default();
    let page = VerifyPage {
        c: chrome(lang, &h.org_name, &h.slug, h.logo.as_deref()),
        heading: tr.t("verify-title"),
        intro: tr.args("verify-intro", &org),
        hash: tr.t("verify-hash"),
        attest: tr.t("verify-attest"),
        command: format!(
            "attest portal verify report.pdf --manifest {base}/trust/{slug}/{first}/manifest.json --key {key}"
        ),
        key_label: tr.args("verify-key", &org),
        key,
        manifests_label: tr.t("verify-manifests"),
        manifests: h
            .offerings
            .iter()
            .map(|(k, t, _)| (t.clone(), format!("/trust/{slug}/{k}/manifest.json")))
            .collect(),
    };
    Ok(public(render(&page)))
}

/// The public key the manifests are signed with (hex).
async fn key(
    State(st): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, WebError> {
    let key = st
        .app
        .portal_public_key(&slug)
        .await
        .map_err(WebError::page)?;
    let mut resp = format!("{key}\n").into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(public(resp))
}

/// An offering's signed manifest.
async fn manifest(
    State(st): State<AppState>,
    ApiPath((slug, key)): ApiPath<(String, String)>,
) -> Result<Response, WebError> {
    let m = st
        .app
        .portal_manifest(&slug, &key)
        .await
        .map_err(WebError::page)?;
    let body = serde_json::to_vec_pretty(&m)
        .map_err(|e| WebError::page(attest_app::AppError::Internal(e.to_string())))?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(public(resp))
}
