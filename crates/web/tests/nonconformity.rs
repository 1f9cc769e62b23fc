//! Nonconformities through the real server, on both backends: raised with what they involve,
//! numbered, worked, refused closure without root cause, action and verification, a changed
//! action verified again, closed, and locked once closed.

use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn close(b: &attest_testkit::Browser, id: &str) -> reqwest::Response {
    b.api(
        Method::POST,
        &format!("/api/v1/nonconformities/{id}/close"),
        None,
    )
    .await
}

server_test!(
    nonconformities_close_only_after_verification,
    |srv: TestServer| async move {
        let org = srv.org("Finder").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let control = json_of(
        cm.api(
            Method::POST,
            "/api/v1/controls",
            Some(json!({"ref": "AC-1", "title": "Access reviews", "frequency": "quarterly", "status": "implemented"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
        let control_id = control["id"].as_str().unwrap().to_owned();
        let evidence = json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(
                    json!({"title": "Q2 review sign-off", "controls": [control_id],
                    "url": "https://reviews.example/q2"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let evidence_id = evidence["id"].as_str().unwrap().to_owned();
        let mut body = json!({
            "title": "Quarterly access review skipped",
            "source": "internal-audit",
            "severity": "minor",
            "framework": "iso27001-2022",
            "requirement": "A.5.18",
            "control_id": control_id,
            "evidence_id": evidence_id,
            "due_on": "2020-02-01",
        });
        let nc = json_of(
            cm.api(Method::POST, "/api/v1/nonconformities", Some(body.clone()))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(nc["ref"], "NC-001");
        assert_eq!(nc["evidence_id"], evidence_id.as_str());
        let id = nc["id"].as_str().unwrap().to_owned();
        let second = json_of(
        cm.api(
            Method::POST,
            "/api/v1/nonconformities",
            Some(json!({"title": "Improve onboarding", "source": "raised", "severity": "opportunity"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
        assert_eq!(second["ref"], "NC-002");

        let list = json_of(
            viewer
                .api(Method::GET, "/api/v1/nonconformities", None)
                .await,
            StatusCode::OK,
        )
        .await;
        let first = list
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id.as_str())
            .unwrap();
        assert_eq!(first["overdue"], true);
        assert_eq!(first["blocker"], "record the root cause first");

        // Closing is refused until cause, action and verification are recorded.
        let e = json_of(close(&cm, &id).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["error"]["rule"], "verification-required", "{e}");
        body["root_cause"] = json!("The reviewer left; nobody else was assigned");
        body["corrective_action"] = json!("A deputy reviewer for every review");
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/nonconformities/{id}"),
                Some(body.clone()),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let e = json_of(close(&cm, &id).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(e.to_string().contains("verify the effectiveness"), "{e}");
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/nonconformities/{id}/verify"),
                Some(json!({"verification": "Q3 review done on time by the deputy"})),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        // Changing the action undoes the verification.
        body["corrective_action"] = json!("A deputy reviewer, and a reminder a week before");
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/nonconformities/{id}"),
                Some(body.clone()),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        json_of(close(&cm, &id).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/nonconformities/{id}/verify"),
                Some(json!({"verification": "Q4 review done on time"})),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let r = close(&cm, &id).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let done = json_of(
            cm.api(Method::GET, &format!("/api/v1/nonconformities/{id}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(done["closed_on"].is_string());
        assert_eq!(done["overdue"], false);
        // Closed is closed.
        let r = cm
            .api(
                Method::PUT,
                &format!("/api/v1/nonconformities/{id}"),
                Some(body.clone()),
            )
            .await;
        let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["error"]["rule"], "nonconformity-closed");

        // Bad input names its field; viewers may not raise; other tenants see nothing.
        for (patch, field) in [
            (json!({"severity": "critical"}), "severity"),
            (json!({"source": "gossip"}), "source"),
            (json!({"title": " "}), "title"),
            (json!({"requirement": "Z.9"}), "requirement"),
            (json!({"control_id": "nope"}), "control_id"),
            (json!({"evidence_id": "nope"}), "evidence_id"),
            (json!({"due_on": "tomorrow"}), "due_on"),
        ] {
            let mut b = json!({"title": "X", "source": "raised", "severity": "minor",
            "framework": "iso27001-2022", "requirement": "A.5.18"});
            for (k, v) in patch.as_object().unwrap() {
                b[k] = v.clone();
            }
            let r = cm
                .api(Method::POST, "/api/v1/nonconformities", Some(b))
                .await;
            let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let r = viewer
            .api(
                Method::POST,
                "/api/v1/nonconformities",
                Some(json!({"title": "X", "source": "raised", "severity": "minor"})),
            )
            .await;
        json_of(r, StatusCode::FORBIDDEN).await;
        let other = srv.org("Other").await;
        let them = srv.sign_in(other.email(Role::Viewer), PASSWORD).await;
        let r = them
            .api(Method::GET, &format!("/api/v1/nonconformities/{id}"), None)
            .await;
        json_of(r, StatusCode::NOT_FOUND).await;
    }
);
