//! Bad input through the real server: every refusal is a 4xx in the API's one error shape,
//! never a 500, and a refused request leaves the database as it was.

use attest_app::Caller;
use attest_domain::role::Role;
use attest_store::audit::EntryFilter;
use attest_testkit::{PASSWORD, TestServer, server_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn error_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "not the error shape: {body}"
    );
    (status, body)
}

async fn trail_len(srv: &TestServer, org: attest_domain::OrgId) -> usize {
    srv.app
        .audit_entries(
            &Caller::cli(Some(org)),
            &EntryFilter {
                limit: 500,
                ..EntryFilter::default()
            },
        )
        .await
        .unwrap()
        .len()
}

server_test!(
    malformed_requests_get_the_error_shape,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let url = format!("{}/api/v1/tokens", srv.url);
        let before = trail_len(&srv, org.id).await;

        let send = |body: String, ct: &'static str| {
            owner
                .client
                .post(&url)
                .header("x-csrf-token", &owner.csrf)
                .header("content-type", ct)
                .body(body)
                .send()
        };
        let (s, b) = error_of(
            send("{\"name\": ".into(), "application/json")
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["error"]["code"], "invalid");

        let (s, b) = error_of(send("name=x".into(), "text/plain").await.unwrap()).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");
        assert_eq!(b["error"]["code"], "unsupported_media_type");

        let body = json!({"name": "ci", "role": "viewer", "expires_in_days": 30, "colour": "blue"});
        let (s, b) = error_of(send(body.to_string(), "application/json").await.unwrap()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains("colour"),
            "{b}"
        );

        let body = json!({"name": "ci", "role": "viewer", "expires_in_days": "soon"});
        let (s, b) = error_of(send(body.to_string(), "application/json").await.unwrap()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

        let body = json!({"name": "ci", "role": "emperor", "expires_in_days": 30});
        let (s, b) = error_of(send(body.to_string(), "application/json").await.unwrap()).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("role")),
            "{b}"
        );

        let body = json!({"name": "ci", "role": "viewer", "expires_in_days": 5000});
        let (s, b) = error_of(send(body.to_string(), "application/json").await.unwrap()).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("expires_in_days")),
            "{b}"
        );

        // None of it created a token or wrote to the trail.
        let tokens: Value = owner
            .api(Method::GET, "/api/v1/tokens", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(tokens.as_array().unwrap().len(), 0);
        assert_eq!(trail_len(&srv, org.id).await, before);

        let (s, _) = error_of(owner.api(Method::GET, "/api/v1/nothing-here", None).await).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, b) = error_of(
            owner
                .api(Method::DELETE, "/api/v1/organisation", None)
                .await,
        )
        .await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
        );
        let (s, _) = error_of(
            owner
                .api(Method::GET, "/api/v1/audit-trail?limit=lots", None)
                .await,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
);

server_test!(
    conflicts_name_the_field_and_change_nothing,
    |srv: TestServer| async move {
        let org = srv.org("Acme").await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let before = trail_len(&srv, org.id).await;
        let r = owner
            .api(
                Method::POST,
                "/api/v1/invitations",
                Some(json!({"email": org.email(Role::Viewer), "role": "viewer"})),
            )
            .await;
        let (s, b) = error_of(r).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (StatusCode::CONFLICT, Some("email")),
            "{b}"
        );
        let r = owner
            .api(
                Method::POST,
                "/api/v1/invitations",
                Some(json!({"email": "not an address", "role": "viewer"})),
            )
            .await;
        let (s, b) = error_of(r).await;
        assert_eq!(
            (s, b["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("email")),
            "{b}"
        );
        assert_eq!(trail_len(&srv, org.id).await, before);

        // The last owner cannot be demoted: a rule, named.
        let solo = srv.org("Solo").await;
        let members = srv.app.members(&Caller::cli(Some(solo.id))).await.unwrap();
        let solo_owner = srv.sign_in(solo.email(Role::Owner), PASSWORD).await;
        for m in members
            .iter()
            .filter(|m| m.membership.role == Role::Owner && m.user.email != solo.email(Role::Owner))
        {
            let r = solo_owner
                .api(
                    Method::POST,
                    &format!("/api/v1/members/{}/deactivate", m.user.id),
                    None,
                )
                .await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        }
        let me = members
            .iter()
            .find(|m| m.user.email == solo.email(Role::Owner))
            .unwrap();
        let r = solo_owner
            .api(
                Method::PATCH,
                &format!("/api/v1/members/{}", me.user.id),
                Some(json!({"role": "viewer"})),
            )
            .await;
        let (s, b) = error_of(r).await;
        assert_eq!(
            (s, b["error"]["rule"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("last-owner")),
            "{b}"
        );
    }
);

server_test!(
    openapi_documents_every_api_route_and_its_auth,
    |srv: TestServer| async move {
        let doc: Value = reqwest::get(format!("{}/api/openapi.json", srv.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["api_token"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["in"], "cookie");
        for spec in srv.specs.iter().filter(|s| s.path.starts_with("/api/v1/")) {
            let op = &doc["paths"][&spec.path][spec.method.as_str().to_lowercase()];
            assert!(
                op.is_object(),
                "{} {} is missing from the OpenAPI document",
                spec.method,
                spec.path
            );
        }
    }
);
