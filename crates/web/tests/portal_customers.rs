//! The trust portal's customers through the real server, on both backends: sign-up with a
//! mailed confirmation link, invitations, the NDA click-through and its versions, access
//! requests with approval, expiry and revocation, allow-listed domains, and downloads of
//! restricted documents through one-time links bound to the account, stamped and logged.
//! Every way around it is refused and logged: no NDA, an old NDA, no grant, an expired or
//! revoked grant, another customer's link, a used or expired link, a withdrawn document,
//! and every portal route walked with restricted documents' ids and foreign tokens.

use attest_app::Caller;
use attest_app::portal_customers::Decision;
use attest_store::customers::DownloadFilter;
use attest_testkit::{Backend, TestServer};
use reqwest::{Method, StatusCode};

const SLUG: &str = "hanbit-cloud";

/// A browser on the portal: its client (with cookies) and the form token of its pages.
struct Visitor {
    client: reqwest::Client,
    csrf: String,
    base: String,
}

impl Visitor {
    async fn new(srv: &TestServer) -> Self {
        let client = srv.client();
        let html = client
            .get(format!("{}/trust/{SLUG}/signin", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = attest_testkit::hidden_csrf(&html).expect("a form token");
        Self {
            client,
            csrf,
            base: srv.url.clone(),
        }
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = vec![("_csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        self.client
            .post(format!("{}/trust/{SLUG}/{path}", self.base))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Asks for a download link: the link's path, or the refusal's status and page.
    async fn link(&self, document: &str) -> Result<String, (StatusCode, String)> {
        let r = self.post(&format!("documents/{document}/link"), &[]).await;
        if r.status() == StatusCode::SEE_OTHER {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            assert!(to.contains("/download/"), "{to}");
            Ok(to)
        } else {
            let s = r.status();
            Err((s, r.text().await.unwrap()))
        }
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The text of a PDF by `pdftotext`, when it is installed (the suite requires it in CI).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed");
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        Err(_) => {
            assert!(
                std::env::var_os("ATTEST_REQUIRE_FONTS").is_none(),
                "pdftotext is required"
            );
            None
        }
    }
}

fn mail_links(dir: &std::path::Path, kind: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        // Quoted-printable may wrap long lines with "=\r\n".
        let text = text.replace("=\r\n", "").replace("=\n", "");
        for part in text.split(&format!("/trust/{SLUG}/{kind}/")).skip(1) {
            let token: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            out.push(token);
        }
    }
    out
}

async fn refusals(srv: &TestServer, cli: &Caller) -> Vec<String> {
    srv.app
        .portal_downloads(
            cli,
            &DownloadFilter {
                outcome: Some("refused".into()),
                limit: 1000,
                ..DownloadFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.outcome)
        .collect()
}

async fn customers_end_to_end(backend: Backend) {
    let mail = tempfile::tempdir().unwrap();
    let mail_url = format!("file://{}", mail.path().display());
    let Some(srv) = TestServer::start_configured(backend, |c| c.mail_url = Some(mail_url)).await
    else {
        return;
    };
    srv.app.load_demo().await.unwrap();
    let org = attest_store::org::by_slug(srv.app.store(), SLUG)
        .await
        .unwrap()
        .unwrap();
    let cli = Caller::cli(Some(org.id));
    let admin = srv.app.portal_customers(&cli).await.unwrap();
    assert_eq!(admin.ndas.len(), 1, "the demo publishes an NDA");
    let restricted: Vec<String> = admin.documents.iter().map(|d| d.id.clone()).collect();
    assert!(restricted.len() >= 2, "{restricted:?}");
    let doc = restricted[0].clone();

    // Malformed sign-ups: a precise refusal, nothing created.
    let v = Visitor::new(&srv).await;
    for (form, field) in [
        (
            [
                ("email", "not-an-address"),
                ("name", "Jiwoo Park"),
                ("company", "Customer Co"),
                ("password", "a long enough password"),
            ],
            "e-mail address",
        ),
        (
            [
                ("email", "jiwoo@customer.example"),
                ("name", ""),
                ("company", "Customer Co"),
                ("password", "a long enough password"),
            ],
            "name",
        ),
        (
            [
                ("email", "jiwoo@customer.example"),
                ("name", "Jiwoo Park"),
                ("company", "Customer Co"),
                ("password", "short"),
            ],
            "12",
        ),
        (
            [
                ("email", "jiwoo@customer.example"),
                ("name", "Jiwoo Park"),
                ("company", &"x".repeat(201)),
                ("password", "a long enough password"),
            ],
            "company",
        ),
    ] {
        let r = v.post("signup", &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains(field), "{field}: {body}");
    }
    assert!(
        srv.app
            .portal_customers(&cli)
            .await
            .unwrap()
            .accounts
            .is_empty()
    );

    // Sign-up; the confirmation link comes by mail; before it, no sign-in.
    let form = [
        ("email", "Jiwoo@Customer.example"),
        ("name", "Jiwoo Park"),
        ("company", "Customer Co"),
        ("password", "correct horse battery"),
    ];
    let r = v.post("signup", &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let links = mail_links(mail.path(), "verify-email");
    assert_eq!(links.len(), 1, "one confirmation mail");
    let signin = [
        ("email", "jiwoo@customer.example"),
        ("password", "correct horse battery"),
    ];
    let r = v.post("signin", &signin).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v.post(&format!("verify-email/{}", "x".repeat(43)), &[])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = v.post(&format!("verify-email/{}", links[0]), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        v.post(&format!("verify-email/{}", links[0]), &[])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a confirmation link works once"
    );
    // The same address again: the same answer, no second account, no mail (confirmed).
    let again = Visitor::new(&srv).await;
    assert_eq!(again.post("signup", &form).await.status(), StatusCode::OK);
    assert_eq!(mail_links(mail.path(), "verify-email").len(), 1);
    let r = v
        .post(
            "signin",
            &[
                ("email", "jiwoo@customer.example"),
                ("password", "wrong password!!"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = v.post("signin", &signin).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let account = v.get(&format!("/trust/{SLUG}/account")).await;
    assert_eq!(account.status(), StatusCode::OK);
    let account = account.text().await.unwrap();
    assert!(account.contains("Jiwoo Park"), "{account}");
    assert!(account.contains("nda-accept"));

    // No NDA yet, then no grant: refused, and logged with the reason.
    let (s, page) = v.link(&doc).await.unwrap_err();
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("accept the NDA"), "{page}");
    assert_eq!(
        v.post("nda", &[("version", "7"), ("language", "en")])
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        v.post("nda", &[("version", "1"), ("language", "ko")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let acc = srv.app.portal_customers(&cli).await.unwrap().acceptances;
    assert_eq!(acc.len(), 1);
    assert_eq!(acc[0].language, "ko");
    assert_eq!(acc[0].text_sha256, admin.ndas[0].sha256_ko);
    assert!(!acc[0].ip.is_empty());
    assert_eq!(v.link(&doc).await.unwrap_err().0, StatusCode::FORBIDDEN);

    // Requests: bad ones refused; a good one waits for staff.
    for form in [
        vec![("reason", "vendor review"), ("days", "30")],
        vec![("documents", doc.as_str()), ("reason", ""), ("days", "30")],
        vec![
            ("documents", doc.as_str()),
            ("reason", "vendor review"),
            ("days", "0"),
        ],
        vec![
            ("documents", doc.as_str()),
            ("reason", "vendor review"),
            ("days", "many"),
        ],
        vec![
            ("documents", "0190a0a0-0000-7000-8000-000000000000"),
            ("reason", "vendor review"),
            ("days", "30"),
        ],
    ] {
        assert_eq!(
            v.post("access", &form).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form:?}"
        );
    }
    let r = v
        .post(
            "access",
            &[
                ("documents", doc.as_str()),
                ("reason", "Annual vendor review"),
                ("days", "30"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(v.link(&doc).await.unwrap_err().0, StatusCode::FORBIDDEN);
    let queue = srv.app.portal_customers(&cli).await.unwrap().requests;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].state, "requested");
    assert!(queue[0].nda_current);
    let request = queue[0].request.id.clone();
    srv.app
        .decide_access(&cli, &request, Decision::Approve(30), "ok")
        .await
        .unwrap();
    assert!(
        srv.app
            .decide_access(&cli, &request, Decision::Deny, "")
            .await
            .is_err(),
        "decided once"
    );

    // The link works once, only for this account, only signed in.
    let link = v.link(&doc).await.unwrap();
    let stranger = srv.client();
    assert_eq!(
        stranger
            .get(format!("{}{link}", srv.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, other_link) = srv
        .app
        .portal_invite(&cli, "mina@other.example", "Mina Lee", "Other Co")
        .await
        .unwrap();
    let other = Visitor::new(&srv).await;
    let token = other_link.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        other
            .post(
                &format!("invitation/{token}"),
                &[("password", "another good password")]
            )
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        other.get(&link).await.status(),
        StatusCode::FORBIDDEN,
        "another customer's link"
    );
    let r = v.get(&link).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let stamped = r.bytes().await.unwrap();
    assert!(stamped.starts_with(b"%PDF-"));
    let original = admin.documents.iter().find(|d| d.id == doc).unwrap();
    assert_ne!(
        sha256_hex(&stamped),
        original.sha256,
        "every copy is stamped"
    );
    if let Some(text) = pdf_text(&stamped) {
        assert!(text.contains("Jiwoo Park"), "{text}");
        assert!(text.contains("jiwoo@customer.example"));
        assert!(text.contains("Customer Co"));
    }
    assert_eq!(
        v.get(&link).await.status(),
        StatusCode::FORBIDDEN,
        "a link works once"
    );
    let served = srv
        .app
        .portal_downloads(
            &cli,
            &DownloadFilter {
                outcome: Some("served".into()),
                limit: 10,
                ..DownloadFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].email, "jiwoo@customer.example");
    assert_eq!(served[0].sha256, sha256_hex(&stamped));
    let trail =
        attest_store::audit::list(srv.app.store(), &org.id.to_string(), &Default::default())
            .await
            .unwrap();
    assert!(
        trail.iter().any(|e| e.action == "portal.download"),
        "the audit trail covers downloads"
    );

    // A new NDA version asks again.
    srv.app
        .publish_nda(&cli, "Version two of the NDA.", "")
        .await
        .unwrap();
    let (s, page) = v.link(&doc).await.unwrap_err();
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("new version of the NDA"), "{page}");
    assert_eq!(
        v.post("nda", &[("version", "2"), ("language", "en")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let link2 = v.link(&doc).await.unwrap();

    // An expired link, an expired grant, a revoked grant, a withdrawn document.
    let pool = srv.app.store().pool();
    sqlx::query(
        "UPDATE portal_tokens SET expires_at = 1 WHERE purpose = 'download' AND used_at IS NULL",
    )
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        v.get(&link2).await.status(),
        StatusCode::FORBIDDEN,
        "an expired link"
    );
    sqlx::query("UPDATE portal_access_requests SET expires_at = 1")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        v.link(&doc).await.unwrap_err().0,
        StatusCode::FORBIDDEN,
        "an expired grant"
    );
    let r2 = v
        .post(
            "access",
            &[
                ("documents", doc.as_str()),
                ("reason", "Renewal"),
                ("days", "10"),
            ],
        )
        .await;
    assert_eq!(r2.status(), StatusCode::SEE_OTHER);
    let queue = srv.app.portal_customers(&cli).await.unwrap().requests;
    let open = queue
        .iter()
        .find(|q| q.state == "requested")
        .unwrap()
        .request
        .id
        .clone();
    assert!(queue.iter().any(|q| q.state == "expired"));
    srv.app
        .decide_access(&cli, &open, Decision::Approve(10), "")
        .await
        .unwrap();
    let link3 = v.link(&doc).await.unwrap();
    srv.app
        .decide_access(&cli, &open, Decision::Revoke, "contract ended")
        .await
        .unwrap();
    assert_eq!(
        v.get(&link3).await.status(),
        StatusCode::FORBIDDEN,
        "links die with the grant"
    );
    assert_eq!(
        v.link(&doc).await.unwrap_err().0,
        StatusCode::FORBIDDEN,
        "a revoked grant"
    );

    // Allow-listed domain: approved at once; a withdrawn document is refused.
    let mut s = srv.app.portal_admin(&cli).await.unwrap().settings;
    s.auto_domains = vec!["other.example".into()];
    srv.app
        .set_portal_settings(
            &cli,
            attest_app::portal::SettingsInput {
                enabled: s.enabled,
                name_en: s.name_en,
                name_ko: s.name_ko,
                intro_en: s.intro_en,
                intro_ko: s.intro_ko,
                colour: s.colour,
                auto_domains: s.auto_domains,
                host: s.host.unwrap_or_default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        other
            .post("nda", &[("version", "2"), ("language", "en")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let r = other
        .post(
            "access",
            &[
                ("documents", doc.as_str()),
                ("reason", "Due diligence"),
                ("days", "5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let link4 = other
        .link(&doc)
        .await
        .expect("an allow-listed domain is approved at once");
    let document = attest_store::workspace::documents(srv.app.store(), org.id, None)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == doc)
        .unwrap();
    let engagement = attest_store::engagement::list(srv.app.store(), org.id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == document.engagement_id)
        .unwrap();
    srv.app
        .withdraw_document(&cli, &engagement.reference, &doc)
        .await
        .unwrap();
    assert_eq!(
        other.get(&link4).await.status(),
        StatusCode::FORBIDDEN,
        "a withdrawn document"
    );

    let reasons = refusals(&srv, &cli).await;
    for want in [
        "no-nda",
        "no-grant",
        "not-signed-in",
        "other-account",
        "link-used",
        "old-nda",
        "link-expired",
        "grant-expired",
        "grant-revoked",
        "withdrawn",
    ] {
        assert!(
            reasons.iter().any(|r| r == want),
            "{want} is logged: {reasons:?}"
        );
    }

    // Every portal route, walked with the restricted documents' ids, another customer's and
    // made-up tokens, anonymously and as a customer with no grant: never a restricted PDF.
    let stranger = Visitor::new(&srv).await;
    let (_, third) = srv
        .app
        .portal_invite(&cli, "nobody@third.example", "No Body", "Third Co")
        .await
        .unwrap();
    let t = third.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        stranger
            .post(
                &format!("invitation/{t}"),
                &[("password", "a third good password")]
            )
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let anonymous = Visitor::new(&srv).await;
    let unused = v.link(&restricted[1]).await;
    let tokens: Vec<String> = [link.clone(), link4.clone()]
        .into_iter()
        .chain(unused.ok())
        .map(|l| {
            l.rsplit('/')
                .next()
                .unwrap()
                .split('?')
                .next()
                .unwrap()
                .to_owned()
        })
        .chain([attest_app::secret::token()])
        .collect();
    let mut walked = 0;
    for spec in srv.specs.iter().filter(|s| s.path.starts_with("/trust/")) {
        for id in &restricted {
            for token in &tokens {
                let path = spec
                    .path
                    .replace("{slug}", SLUG)
                    .replace("{offering}", "soc")
                    .replace("{document_id}", id)
                    .replace("{token}", token);
                for who in [&stranger, &anonymous] {
                    let r = if spec.method == Method::GET {
                        who.get(&path).await
                    } else {
                        let rel = path
                            .trim_start_matches(&format!("/trust/{SLUG}/"))
                            .to_owned();
                        who.post(
                            &rel,
                            &[
                                ("documents", id.as_str()),
                                ("reason", "x"),
                                ("days", "1"),
                                ("password", "a fourth good password"),
                                ("version", "2"),
                            ],
                        )
                        .await
                    };
                    walked += 1;
                    assert!(
                        !r.status().is_server_error(),
                        "{} {path}: {}",
                        spec.method,
                        r.status()
                    );
                    let pdf = r
                        .headers()
                        .get("content-type")
                        .is_some_and(|c| c == "application/pdf");
                    if pdf {
                        let body = r.bytes().await.unwrap();
                        let sha = sha256_hex(&body);
                        assert!(
                            !admin.documents.iter().any(|d| d.sha256 == sha),
                            "{} {path} served a restricted document",
                            spec.method
                        );
                        panic!(
                            "{} {path} served a PDF to someone without a grant",
                            spec.method
                        );
                    }
                }
            }
        }
    }
    assert!(walked > 100, "{walked} requests");
}

/// A customer who forgot their password: the mailed one-time link, the same answer for an
/// address without an account, a weak password refused, every session ended by the change.
async fn password_reset(backend: Backend) {
    let mail = tempfile::tempdir().unwrap();
    let mail_url = format!("file://{}", mail.path().display());
    let Some(srv) = TestServer::start_configured(backend, |c| c.mail_url = Some(mail_url)).await
    else {
        return;
    };
    srv.app.load_demo().await.unwrap();
    let org = attest_store::org::by_slug(srv.app.store(), SLUG)
        .await
        .unwrap()
        .unwrap();
    let cli = Caller::cli(Some(org.id));
    let (_, link) = srv
        .app
        .portal_invite(&cli, "mina@customer.example", "Mina Lee", "Customer Co")
        .await
        .unwrap();
    let invited = link.rsplit('/').next().unwrap().to_owned();
    let v = Visitor::new(&srv).await;
    let r = v
        .post(
            &format!("invitation/{invited}"),
            &[("password", "lantern copper meadow 1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        v.get(&format!("/trust/{SLUG}/account")).await.status(),
        StatusCode::OK
    );

    // Asking: the same answer with or without an account; only the account gets a mail.
    let asker = Visitor::new(&srv).await;
    let signin = asker
        .get(&format!("/trust/{SLUG}/signin?lang=ko"))
        .await
        .text()
        .await
        .unwrap();
    assert!(signin.contains("비밀번호를 잊으셨나요?"));
    let a = asker
        .post("forgot", &[("email", "nobody@customer.example")])
        .await;
    assert_eq!(a.status(), StatusCode::OK);
    let a = a.text().await.unwrap();
    let b = asker
        .post("forgot", &[("email", "Mina@Customer.example")])
        .await;
    assert_eq!(b.status(), StatusCode::OK);
    let b = b.text().await.unwrap();
    assert!(a.contains("customer-notice") && b.contains("customer-notice"));
    assert_eq!(
        a.replace(char::is_whitespace, ""),
        b.replace(char::is_whitespace, ""),
        "no difference tells who is a customer"
    );
    let r = asker.post("forgot", &[("email", "not an address")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let links = mail_links(mail.path(), "reset");
    assert_eq!(links.len(), 1, "one mail, to the account");
    let token = links[0].clone();

    // Made-up links are refused; the real one shows the form; a weak password keeps it.
    let bogus = asker
        .get(&format!(
            "/trust/{SLUG}/reset/{}",
            attest_app::secret::token()
        ))
        .await;
    assert_eq!(bogus.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = asker
        .get(&format!("/trust/{SLUG}/reset/{token}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("mina@customer.example"), "{form}");
    let weak = asker
        .post(&format!("reset/{token}"), &[("password", "short")])
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await.unwrap().contains("reset-password"));
    let done = asker
        .post(
            &format!("reset/{token}"),
            &[("password", "lantern copper meadow 2")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("customer-notice"));
    // The link worked once; the old session ended; only the new password signs in.
    let again = asker
        .post(
            &format!("reset/{token}"),
            &[("password", "lantern copper meadow 3")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v.get(&format!("/trust/{SLUG}/account")).await.status(),
        StatusCode::SEE_OTHER,
        "the session before the change is over"
    );
    let old = asker
        .post(
            "signin",
            &[
                ("email", "mina@customer.example"),
                ("password", "lantern copper meadow 1"),
            ],
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = asker
        .post(
            "signin",
            &[
                ("email", "mina@customer.example"),
                ("password", "lantern copper meadow 2"),
            ],
        )
        .await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
    let trail = attest_store::audit::list(
        srv.app.store(),
        &org.id.to_string(),
        &attest_store::audit::EntryFilter {
            action: Some("portal.password_reset".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(trail.len(), 1, "the change is in the audit trail");
    // A disabled account gets no link.
    let account = srv
        .app
        .portal_customers(&cli)
        .await
        .unwrap()
        .accounts
        .into_iter()
        .find(|(a, _)| a.email == "mina@customer.example")
        .unwrap()
        .0;
    srv.app
        .set_customer_disabled(&cli, &account.id, true)
        .await
        .unwrap();
    let r = Visitor::new(&srv)
        .await
        .post("forgot", &[("email", "mina@customer.example")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(mail_links(mail.path(), "reset").len(), 1, "no new mail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_sqlite() {
    password_reset(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_postgres() {
    password_reset(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_sqlite() {
    customers_end_to_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_postgres() {
    customers_end_to_end(Backend::Postgres).await;
}
