//! Identity and access through the real server: sign-in, throttling, MFA, CSRF, sessions,
//! API tokens, deactivation, password resets — each refusal clear, each attempt recorded.

use attest_app::Caller;
use attest_domain::role::Role;
use attest_store::audit::EntryFilter;
use attest_testkit::{Browser, PASSWORD, TestServer, hidden_csrf, server_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn actions(srv: &TestServer, org: attest_domain::OrgId, prefix: &str) -> Vec<String> {
    let f = EntryFilter {
        action: Some(prefix.to_owned()),
        limit: 500,
        ..EntryFilter::default()
    };
    srv.app
        .audit_entries(&Caller::cli(Some(org)), &f)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn login_form(
    srv: &TestServer,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = client
        .get(format!("{}/login", srv.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_csrf(&page).unwrap();
    client
        .post(format!("{}/login", srv.url))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

server_test!(
    wrong_passwords_are_throttled_and_recorded,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let client = srv.client();
        let email = org.email(Role::Viewer);
        for _ in 0..5 {
            assert_eq!(
                login_form(&srv, &client, email, "wrong wrong wrong")
                    .await
                    .status(),
                StatusCode::UNAUTHORIZED
            );
        }
        // The sixth failure locks this account from this address for a while.
        assert_eq!(
            login_form(&srv, &client, email, "wrong wrong wrong")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let r = login_form(&srv, &client, email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().get("retry-after").is_some());
        let recorded = actions(&srv, org.id, "auth.").await;
        assert_eq!(
            recorded
                .iter()
                .filter(|a| *a == "auth.sign_in_failed")
                .count(),
            6,
            "{recorded:?}"
        );
        assert!(recorded.contains(&"auth.lockout".to_owned()));
        assert!(recorded.contains(&"auth.sign_in_throttled".to_owned()));
        // An unknown address answers exactly like a wrong password.
        let r = login_form(&srv, &srv.client(), "nobody@example.test", "whatever it is").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("the e-mail address or password is not right")
        );
    }
);

fn current_code(secret: &str, offset_secs: i64) -> String {
    let t = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("x")
        .build()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset_secs;
    t.generate(now as u64).to_string()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html.find(start).unwrap() + start.len();
    &html[i..i + html[i..].find(end).unwrap()]
}

server_test!(
    mfa_enrolment_and_second_factor,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let email = org.email(Role::ControlOwner);
        let b = srv.sign_in(email, PASSWORD).await;
        let page = b.get("/account/mfa").await.text().await.unwrap();
        let secret = between(&page, "<code id=\"totp-secret\">", "</code>").to_owned();
        assert!(page.contains("data:image/png;base64,"), "no QR code");
        let r = b.post_form("/account/mfa", &[("code", "123456")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = b
            .post_form("/account/mfa", &[("code", &current_code(&secret, 0))])
            .await;
        let html = r.text().await.unwrap();
        assert!(html.contains("Second factor is on"), "{html}");
        let codes: Vec<String> = html
            .split("<li>")
            .skip(1)
            .map(|s| s.split("</li>").next().unwrap().to_owned())
            .collect();
        assert_eq!(codes.len(), 10);

        // Signing in now stops at the second step; nothing else opens meanwhile.
        let c = srv.client();
        let r = login_form(&srv, &c, email, PASSWORD).await;
        assert_eq!(r.headers()["location"], "/login/mfa");
        let r = c.get(format!("{}/members", srv.url)).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/login/mfa");
        let r = c
            .get(format!("{}/api/v1/me", srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let page = c
            .get(format!("{}/login/mfa", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = hidden_csrf(&page).unwrap();
        let post = |code: String| {
            c.post(format!("{}/login/mfa", srv.url))
                .form(&[("_csrf", csrf.clone()), ("code", code)])
                .send()
        };
        assert_eq!(
            post("000000".into()).await.unwrap().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // The code used at enrolment is spent: a replay is refused.
        let replay = post(current_code(&secret, 0)).await.unwrap();
        assert_eq!(replay.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(replay.text().await.unwrap().contains("already used"));
        let r = post(current_code(&secret, 30)).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            c.get(format!("{}/api/v1/me", srv.url))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );

        // A recovery code works once.
        let c2 = srv.client();
        login_form(&srv, &c2, email, PASSWORD).await;
        let page = c2
            .get(format!("{}/login/mfa", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf2 = hidden_csrf(&page).unwrap();
        let r = c2
            .post(format!("{}/login/mfa", srv.url))
            .form(&[("_csrf", csrf2.as_str()), ("code", codes[0].as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let c3 = srv.client();
        login_form(&srv, &c3, email, PASSWORD).await;
        let page = c3
            .get(format!("{}/login/mfa", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf3 = hidden_csrf(&page).unwrap();
        let r = c3
            .post(format!("{}/login/mfa", srv.url))
            .form(&[("_csrf", csrf3.as_str()), ("code", codes[0].as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let recorded = actions(&srv, org.id, "auth.").await;
        for a in [
            "auth.mfa_enabled",
            "auth.mfa_failed",
            "auth.mfa_replayed",
            "auth.mfa_verified",
            "auth.recovery_code_used",
        ] {
            assert!(
                recorded.contains(&a.to_owned()),
                "{a} not recorded: {recorded:?}"
            );
        }
    }
);

server_test!(organisation_can_require_mfa, |srv: TestServer| async move {
    let org = srv.org("Acme").await;
    let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
    let r = owner
        .api(
            Method::PATCH,
            "/api/v1/organisation",
            Some(json!({"mfa_required": true})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c = srv.client();
    let r = login_form(&srv, &c, org.email(Role::Viewer), PASSWORD).await;
    assert_eq!(r.headers()["location"], "/account/mfa");
    let r = c.get(format!("{}/", srv.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/account/mfa");
});

server_test!(csrf_is_required_and_checked, |srv: TestServer| async move {
    let org = srv.org("Acme").await;
    let a = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
    let b = srv
        .sign_in(org.email(Role::ComplianceManager), PASSWORD)
        .await;
    let body = json!({"email": "new@acme.test", "role": "viewer"});
    let url = format!("{}/api/v1/invitations", srv.url);
    // Missing, forged, and another session's (replayed) token are all refused.
    for token in [
        None,
        Some("forged-token-forged-token-forged-token-forge"),
        Some(b.csrf.as_str()),
    ] {
        let mut req = a.client.post(&url).json(&body);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let e: Value = r.json().await.unwrap();
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("reload the page"),
            "{e}"
        );
    }
    // A form from another site is refused even with a token.
    let r = a
        .client
        .post(&url)
        .header("x-csrf-token", &a.csrf)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = a
        .client
        .post(format!("{}/members/invite", srv.url))
        .form(&[("email", "x@acme.test"), ("role", "viewer")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        actions(&srv, org.id, "security.csrf_refused").await.len(),
        5
    );
    assert!(
        srv.app
            .invitations(&Caller::cli(Some(org.id)))
            .await
            .unwrap()
            .is_empty()
    );
    // With its own token the request goes through.
    let r = a.api(Method::POST, "/api/v1/invitations", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Sign-in without the pre-session token is refused too.
    let r = srv
        .client()
        .post(format!("{}/login", srv.url))
        .form(&[("email", org.email(Role::Owner)), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});

server_test!(
    sessions_can_be_listed_and_revoked,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let first = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let second = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let list: Value = second
            .api(Method::GET, "/api/v1/sessions", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);
        let other = list
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == false)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            second
                .api(Method::DELETE, &format!("/api/v1/sessions/{other}"), None)
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            first.api(Method::GET, "/api/v1/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let r = first.get("/").await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "a revoked session must not open pages"
        );
        // Signing out ends the session for good.
        assert_eq!(
            second.post_form("/logout", &[]).await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            second.api(Method::GET, "/api/v1/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
);

async fn token_for(b: &Browser, role: &str) -> (String, String) {
    let r = b
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "script", "role": role, "expires_in_days": 30})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (
        v["token"]["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

server_test!(
    api_tokens_are_scoped_revocable_and_die_with_their_member,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let r = cm
            .api(
                Method::POST,
                "/api/v1/tokens",
                Some(json!({"name": "too much", "role": "owner", "expires_in_days": 30})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (id, secret) = token_for(&cm, "viewer").await;
        let api = reqwest::Client::new();
        let me: Value = api
            .get(format!("{}/api/v1/me", srv.url))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (me["role"].as_str(), me["via"].as_str()),
            (Some("viewer"), Some("token"))
        );
        // The token's role, not its creator's, decides: a viewer token cannot list members.
        let r = api
            .get(format!("{}/api/v1/members", srv.url))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Bearer requests need no CSRF token.
        let r = api
            .post(format!("{}/api/v1/tokens", srv.url))
            .bearer_auth(&secret)
            .json(&json!({"name": "n", "role": "viewer", "expires_in_days": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let list: Value = cm
            .api(Method::GET, "/api/v1/tokens", None)
            .await
            .json()
            .await
            .unwrap();
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == id.as_str() && t["last_used_at"].is_string())
        );

        assert_eq!(
            cm.api(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.get(format!("{}/api/v1/me", srv.url))
                .bearer_auth(&secret)
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );

        // A deactivated member's tokens stop at once.
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let (_, vsecret) = token_for(&viewer, "viewer").await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let members: Value = owner
            .api(Method::GET, "/api/v1/members", None)
            .await
            .json()
            .await
            .unwrap();
        let vid = members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == org.email(Role::Viewer))
            .unwrap()["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            owner
                .api(
                    Method::POST,
                    &format!("/api/v1/members/{vid}/deactivate"),
                    None
                )
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.get(format!("{}/api/v1/me", srv.url))
                .bearer_auth(&vsecret)
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            viewer.api(Method::GET, "/api/v1/me", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            login_form(&srv, &srv.client(), org.email(Role::Viewer), PASSWORD)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );

        let recorded = actions(&srv, org.id, "token.").await;
        for a in ["token.create", "token.revoke", "token.refused"] {
            assert!(
                recorded.contains(&a.to_owned()),
                "{a} missing: {recorded:?}"
            );
        }
        assert!(actions(&srv, org.id, "member.deactivate").await.len() == 1);
    }
);

server_test!(reset_links_work_once, |srv: TestServer| async move {
    let org = srv.org("Acme").await;
    let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
    let members: Value = owner
        .api(Method::GET, "/api/v1/members", None)
        .await
        .json()
        .await
        .unwrap();
    let vid = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == org.email(Role::Viewer))
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link: Value = owner
        .api(
            Method::POST,
            &format!("/api/v1/members/{vid}/reset-link"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let link = link["link"].as_str().unwrap().to_owned();
    let path = link.trim_start_matches(&srv.url).to_owned();
    let c = srv.client();
    let page = c
        .get(format!("{}{path}", srv.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_csrf(&page).unwrap();
    let weak = c
        .post(format!("{}{path}", srv.url))
        .form(&[("_csrf", csrf.as_str()), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        weak.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a weak password keeps the link usable"
    );
    let ok = c
        .post(format!("{}{path}", srv.url))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("password", "a brand new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let reused = c
        .post(format!("{}{path}", srv.url))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("password", "another new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        login_form(
            &srv,
            &srv.client(),
            org.email(Role::Viewer),
            "a brand new passphrase"
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let recorded = actions(&srv, org.id, "auth.").await;
    assert!(
        recorded.contains(&"auth.password_reset_issued".to_owned())
            && recorded.contains(&"auth.password_reset".to_owned()),
        "{recorded:?}"
    );
});

server_test!(
    roles_cannot_be_granted_above_ones_own,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let r = cm
            .api(
                Method::POST,
                "/api/v1/invitations",
                Some(json!({"email": "boss@acme.test", "role": "owner"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = cm
            .api(
                Method::POST,
                "/api/v1/invitations",
                Some(json!({"email": "helper@acme.test", "role": "control-owner"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let review = cm.get("/api/v1/access-review?format=csv").await;
        assert_eq!(review.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = review.text().await.unwrap();
        assert!(csv.starts_with("email,name,role,from,until,granted_by"));
        assert!(csv.contains(org.email(Role::Auditor)));
        assert!(
            actions(&srv, org.id, "member.access_review_export")
                .await
                .len()
                == 1
        );
    }
);
