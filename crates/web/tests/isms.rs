//! The ISMS scope and context through the real server, on both backends: versions, history,
//! earlier versions readable, bad input and unchanged saves refused with nothing written.

use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

server_test!(
    scope_is_versioned_documented_information,
    |srv: TestServer| async move {
        let org = srv.org("Scoped").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let service = json_of(
            cm.api(
                Method::POST,
                "/api/v1/services",
                Some(json!({"name": "Payments API"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let service_id = service["id"].as_str().unwrap().to_owned();

        // Nothing yet.
        let empty = json_of(
            viewer.api(Method::GET, "/api/v1/isms/scope", None).await,
            StatusCode::OK,
        )
        .await;
        assert!(empty["version"].is_null());

        let first = json!({
            "statement": "The ISMS covers the development and operation of the Payments API.",
            "services": [service_id],
            "locations": ["Seoul office", "  ", "AWS ap-northeast-2"],
            "internal_issues": ["Small security team"],
            "external_issues": ["Card scheme rules"],
            "interested_parties": [{"party": "Customers", "requirements": "SOC 2 report yearly"}],
            "note": "First scope",
        });
        let v1 = json_of(
            cm.api(Method::PUT, "/api/v1/isms/scope", Some(first.clone()))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v1["version"], 1);
        // The same again changes nothing and is refused.
        let r = cm
            .api(Method::PUT, "/api/v1/isms/scope", Some(first.clone()))
            .await;
        let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["error"]["rule"], "no-change", "{e}");

        let mut second = first.clone();
        second["locations"] = json!(["Seoul office", "AWS ap-northeast-2", "Busan office"]);
        second["note"] = json!("Busan office opened");
        json_of(
            cm.api(Method::PUT, "/api/v1/isms/scope", Some(second))
                .await,
            StatusCode::OK,
        )
        .await;

        let now = json_of(
            viewer.api(Method::GET, "/api/v1/isms/scope", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(now["version"], 2);
        assert_eq!(now["document"]["locations"].as_array().unwrap().len(), 3);
        assert_eq!(now["service_names"][0][1], "Payments API");
        assert_eq!(now["history"].as_array().unwrap().len(), 2);
        assert_eq!(now["history"][0]["note"], "Busan office opened");
        let old = json_of(
            viewer
                .api(Method::GET, "/api/v1/isms/scope?version=1", None)
                .await,
            StatusCode::OK,
        )
        .await;
        // Blank entries were dropped when saved.
        assert_eq!(
            old["document"]["locations"],
            json!(["Seoul office", "AWS ap-northeast-2"])
        );
        let r = viewer
            .api(Method::GET, "/api/v1/isms/scope?version=9", None)
            .await;
        json_of(r, StatusCode::NOT_FOUND).await;

        // Bad input names its field and writes nothing; viewers may not write.
        for (body, field) in [
            (json!({"statement": "  "}), "statement"),
            (
                json!({"statement": "x", "services": ["no-such-service"]}),
                "services",
            ),
            (
                json!({"statement": "x", "interested_parties": [{"party": "", "requirements": "y"}]}),
                "interested_parties",
            ),
            (
                json!({"statement": "x", "locations": ["l".repeat(501)]}),
                "locations",
            ),
        ] {
            let r = cm.api(Method::PUT, "/api/v1/isms/scope", Some(body)).await;
            let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let r = viewer
            .api(
                Method::PUT,
                "/api/v1/isms/scope",
                Some(json!({"statement": "Mine now"})),
            )
            .await;
        json_of(r, StatusCode::FORBIDDEN).await;
        let after = json_of(
            cm.api(Method::GET, "/api/v1/isms/scope", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(after["version"], 2);

        // Another organisation sees its own, empty scope.
        let other = srv.org("Elsewhere").await;
        let them = srv.sign_in(other.email(Role::Viewer), PASSWORD).await;
        let theirs = json_of(
            them.api(Method::GET, "/api/v1/isms/scope?version=1", None)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(theirs["error"]["code"], "not_found");
    }
);
