//! Policies through the real server, on both backends: a document from a template, named
//! approvers who approve the exact text, publication refused until then, a new draft after
//! publication, reviews, acknowledgements and reminders, the PDF of a published version,
//! bad input refused, other tenants kept out.

use attest_domain::role::Role;
use attest_testkit::{Browser, PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn user_id(b: &Browser) -> String {
    let me = json_of(b.api(Method::GET, "/api/v1/me", None).await, StatusCode::OK).await;
    me["user_id"].as_str().unwrap().to_owned()
}

async fn post(b: &Browser, path: &str) -> reqwest::Response {
    b.api(Method::POST, path, Some(json!({}))).await
}

server_test!(
    policies_are_approved_published_and_acknowledged,
    |srv: TestServer| async move {
        let org = srv.org("Policy Co").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let owner_id = user_id(&owner).await;
        let cm_id = user_id(&cm).await;

        let templates = json_of(
            viewer
                .api(Method::GET, "/api/v1/policies/templates", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(templates.as_array().unwrap().len() >= 5);

        // Bad input is refused with the field named, and nothing is created.
        let cases = [
            (json!({"template": "nope"}), "template"),
            (json!({"title": "X", "body": "  "}), "body"),
            (json!({"title": "", "body": "text"}), "title"),
            (
                json!({"title": "X", "body": "t", "review_months": 0}),
                "review_months",
            ),
            (
                json!({"title": "X", "body": "t", "approvers": ["not-a-uuid"]}),
                "approvers",
            ),
            (json!({"title": "X", "body": "t", "kind": "memo"}), "kind"),
            (json!({"title": "X"}), "body"),
        ];
        for (body, field) in cases {
            let e = json_of(
                cm.api(Method::POST, "/api/v1/policies", Some(body)).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let r = viewer
            .api(
                Method::POST,
                "/api/v1/policies",
                Some(json!({"template": "access-control-policy"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            json_of(
                viewer.api(Method::GET, "/api/v1/policies", None).await,
                StatusCode::OK
            )
            .await
            .as_array()
            .unwrap()
            .is_empty()
        );

        // From a template, with the organisation's name filled in; two approvers.
        let v = json_of(
            cm.api(
                Method::POST,
                "/api/v1/policies",
                Some(
                    json!({"template": "information-security-policy", "owner_id": cm_id,
                    "approvers": [owner_id, cm_id], "review_months": 12}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let id = v["summary"]["id"].as_str().unwrap().to_owned();
        assert_eq!(v["summary"]["ref"], "POL-001");
        assert_eq!(v["summary"]["title"], "Information security policy");
        assert!(v["body"].as_str().unwrap().contains("Policy Co"));
        assert!(!v["body"].as_str().unwrap().contains("{{organisation}}"));
        assert_eq!(v["version"]["state"], "draft");
        let e = json_of(
            cm.api(
                Method::POST,
                "/api/v1/policies",
                Some(json!({"template": "information-security-policy"})),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["error"]["field"], "title");

        // Publication waits for every approver; a viewer is no approver.
        let e = json_of(
            post(&cm, &format!("/api/v1/policies/{id}/publish")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(e.to_string().contains("waiting for the approval"), "{e}");
        let r = post(&viewer, &format!("/api/v1/policies/{id}/approve")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        json_of(
            post(&owner, &format!("/api/v1/policies/{id}/approve")).await,
            StatusCode::OK,
        )
        .await;
        // An edit after an approval: that approval no longer counts.
        let v = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/policies/{id}/draft"),
                Some(json!({"body": "# Information security policy\n\nWe protect information.\n", "note": "Shorter"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["approvals"][0]["current"], false);
        json_of(
            post(&cm, &format!("/api/v1/policies/{id}/approve")).await,
            StatusCode::OK,
        )
        .await;
        let e = json_of(
            post(&cm, &format!("/api/v1/policies/{id}/publish")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(e.to_string().contains("approval"), "{e}");
        json_of(
            post(&owner, &format!("/api/v1/policies/{id}/approve")).await,
            StatusCode::OK,
        )
        .await;
        // A draft has no PDF.
        let r = cm.get(&format!("/api/v1/policies/{id}/pdf")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v = json_of(
            post(&cm, &format!("/api/v1/policies/{id}/publish")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["version"]["state"], "published");
        assert_eq!(v["summary"]["published_version"], 1);
        let due = v["summary"]["review_due"].as_str().unwrap().to_owned();
        assert!(due.as_str() > v["summary"]["published_on"].as_str().unwrap());
        // Every active staff member (not auditors) is to read it.
        let staff = v["summary"]["to_acknowledge"].as_u64().unwrap();
        assert!(staff >= 4, "{v}");

        // Acknowledgements and reminders.
        let list = json_of(
            viewer.api(Method::GET, "/api/v1/policies", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list[0]["mine_pending"], true);
        let v = json_of(
            post(&viewer, &format!("/api/v1/policies/{id}/acknowledge")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["summary"]["acknowledged"], 1);
        assert_eq!(v["summary"]["mine_pending"], false);
        assert_eq!(v["pending"].as_array().unwrap().len() as u64, staff - 1);
        let r = json_of(
            post(&cm, &format!("/api/v1/policies/{id}/remind")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["reminded"].as_u64().unwrap(), staff - 1);
        let r = post(&viewer, &format!("/api/v1/policies/{id}/remind")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // The PDF of the version in force.
        let pdf = viewer.get(&format!("/api/v1/policies/{id}/pdf")).await;
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

        // A new draft after publication; version 1 stays in force until it is published.
        let v = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/policies/{id}/draft"),
                Some(json!({"body": "# Information security policy\n\nWe protect information, and say how.\n"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["version"]["version"], 2);
        assert_eq!(v["summary"]["published_version"], 1);
        let v1 = json_of(
            viewer
                .api(
                    Method::GET,
                    &format!("/api/v1/policies/{id}?version=1"),
                    None,
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            v1["body"],
            "# Information security policy\n\nWe protect information.\n"
        );
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/policies/{id}/draft"),
                Some(json!({"body": "# Information security policy\n\nWe protect information, and say how.\n"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "no-change", "{e}");

        // A review that changes nothing.
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/policies/{id}/review"),
                Some(json!({"note": ""})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "note");
        let v = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/policies/{id}/review"),
                Some(json!({"note": "Checked against the new contract terms"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(v["last_reviewed_on"].is_string());

        // Another organisation sees none of it.
        let other = srv.org("Elsewhere").await;
        let stranger = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        let r = stranger
            .api(Method::GET, &format!("/api/v1/policies/{id}"), None)
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = post(&stranger, &format!("/api/v1/policies/{id}/acknowledge")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let trail = json_of(
            cm.api(Method::GET, "/api/v1/audit-trail?limit=100", None)
                .await,
            StatusCode::OK,
        )
        .await
        .to_string();
        for action in [
            "policy.create",
            "policy.draft",
            "policy.approve",
            "policy.publish",
            "policy.acknowledge",
            "policy.remind",
            "policy.review",
        ] {
            assert!(trail.contains(action), "{action} missing");
        }
    }
);
