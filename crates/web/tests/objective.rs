//! Objectives through the real server, on both backends: computed metrics follow the data,
//! manual ones are typed, bad input is refused, other tenants are kept out.

use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

server_test!(
    objectives_are_measured_and_trended,
    |srv: TestServer| async move {
        let org = srv.org("Aims").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;

        let cases = [
            (
                json!({"title": "", "metric": "manual", "target": 1, "direction": "at-least"}),
                "title",
            ),
            (
                json!({"title": "X", "metric": "lines-of-code", "target": 1, "direction": "at-least"}),
                "metric",
            ),
            (
                json!({"title": "X", "metric": "manual", "target": 1, "direction": "sideways"}),
                "direction",
            ),
            (
                json!({"title": "X", "metric": "manual", "target": 1, "direction": "at-least", "due_on": "31/12/2026"}),
                "due_on",
            ),
        ];
        for (body, field) in cases {
            let e = json_of(
                cm.api(Method::POST, "/api/v1/objectives", Some(body)).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let r = cm
            .api(
                Method::POST,
                "/api/v1/objectives",
                Some(json!({"title": "X", "metric": "manual", "target": "lots", "direction": "at-least"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = viewer
            .api(
                Method::POST,
                "/api/v1/objectives",
                Some(
                    json!({"title": "X", "metric": "manual", "target": 1, "direction": "at-least"}),
                ),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // A computed metric: no open nonconformity, so met; one raised, and it is not.
        let o = json_of(
            cm.api(
                Method::POST,
                "/api/v1/objectives",
                Some(
                    json!({"title": "No open nonconformities", "metric": "open-nonconformities",
                    "target": 0, "direction": "at-most", "due_on": "2099-12-31"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(o["ref"], "OBJ-001");
        assert_eq!(o["status"], "met");
        assert_eq!(o["latest"], 0.0);
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/nonconformities",
                Some(json!({"title": "Late review", "source": "raised", "severity": "minor"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let v = json_of(
            viewer.api(Method::GET, "/api/v1/objectives", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["objectives"][0]["latest"], 1.0);
        assert_eq!(v["objectives"][0]["status"], "on-track");
        assert_eq!(v["objectives"][0]["trend"].as_array().unwrap().len(), 1);
        assert!(v["metrics"].to_string().contains("risks-above-appetite"));

        // A manual metric: measured by people, never computed; a computed one is not typed.
        let m = json_of(
            cm.api(
                Method::POST,
                "/api/v1/objectives",
                Some(
                    json!({"title": "Phishing test click rate under 5%", "metric": "manual",
                    "target": 5, "direction": "at-most"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(m["status"], "no-data");
        let mid = m["id"].as_str().unwrap().to_owned();
        let m = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/objectives/{mid}/measurements"),
                Some(json!({"value": 3.5})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["status"], "met");
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/objectives/{mid}/measurements"),
                Some(json!({"value": 1, "taken_on": "2999-01-01"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "taken_on");
        let oid = o["id"].as_str().unwrap();
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/objectives/{oid}/measurements"),
                Some(json!({"value": 0})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "metric-computed");

        let other = srv.org("Elsewhere").await;
        let stranger = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        let r = stranger
            .api(
                Method::POST,
                &format!("/api/v1/objectives/{mid}/measurements"),
                Some(json!({"value": 1})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let theirs = json_of(
            stranger.api(Method::GET, "/api/v1/objectives", None).await,
            StatusCode::OK,
        )
        .await;
        assert!(theirs["objectives"].as_array().unwrap().is_empty());
    }
);
