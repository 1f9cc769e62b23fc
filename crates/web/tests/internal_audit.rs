//! The internal audit programme and management reviews through the real server, on both
//! backends: an audit planned with requirements in scope, results recorded, a finding
//! raised as a nonconformity, completion refused until everything is recorded and raised;
//! a management review whose inputs come from the data and are frozen when it is closed.

use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

server_test!(
    audits_raise_findings_and_reviews_freeze_inputs,
    |srv: TestServer| async move {
        let org = srv.org("Audited").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let plan = json!({"title": "ISMS audit 2026", "scope": "The platform and its operations",
            "criteria": "ISO/IEC 27001:2022", "framework_id": "iso27001-2022",
            "requirements": ["9.2", "A.5.15", "A.8.13"], "auditor": "R. Independent",
            "starts_on": "2026-10-05", "ends_on": "2026-10-07"});

        // Bad plans are refused with the field named.
        let mut bad = plan.clone();
        bad["ends_on"] = json!("2026-10-01");
        let mut unknown = plan.clone();
        unknown["requirements"] = json!(["A.99.9"]);
        let mut no_fw = plan.clone();
        no_fw["framework_id"] = json!(null);
        let mut no_auditor = plan.clone();
        no_auditor["auditor"] = json!(" ");
        for (body, field) in [
            (bad, "ends_on"),
            (unknown, "requirements"),
            (no_fw, "framework_id"),
            (no_auditor, "auditor"),
        ] {
            let e = json_of(
                cm.api(Method::POST, "/api/v1/internal-audits", Some(body))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let r = viewer
            .api(Method::POST, "/api/v1/internal-audits", Some(plan.clone()))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        let a = json_of(
            cm.api(Method::POST, "/api/v1/internal-audits", Some(plan))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(a["ref"], "IA-001");
        assert_eq!(a["status"], "planned");
        assert_eq!(a["items"].as_array().unwrap().len(), 3);
        let id = a["id"].as_str().unwrap().to_owned();
        let result = |req: &str, res: &str| json!({"requirement": req, "result": res, "notes": format!("{req} checked")});
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/internal-audits/{id}/results"),
                Some(result("A.5.1", "conforming")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "requirement");
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/internal-audits/{id}/results"),
                Some(result("9.2", "fine")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "result");
        for (req, res) in [("9.2", "conforming"), ("A.5.15", "minor")] {
            json_of(
                cm.api(
                    Method::PUT,
                    &format!("/api/v1/internal-audits/{id}/results"),
                    Some(result(req, res)),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
        let complete_path = format!("/api/v1/internal-audits/{id}/complete");
        let complete =
            |c: &str| cm.api(Method::POST, &complete_path, Some(json!({"conclusion": c})));
        let e = json_of(
            complete("Effective overall").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(e.to_string().contains("record a result for A.8.13"), "{e}");
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/internal-audits/{id}/results"),
                Some(result("A.8.13", "opportunity")),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let e = json_of(
            complete("Effective overall").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            e.to_string()
                .contains("raise the nonconformities found on A.5.15"),
            "{e}"
        );
        // Raising: only a finding, only once.
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/internal-audits/{id}/findings"),
                Some(json!({"requirement": "9.2"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "not-a-finding");
        let nc = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/internal-audits/{id}/findings"),
                Some(json!({"requirement": "A.5.15", "due_on": "2026-12-31"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(nc["source"], "internal-audit");
        assert_eq!(nc["severity"], "minor");
        assert_eq!(nc["requirement_id"], "A.5.15");
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/internal-audits/{id}/findings"),
                Some(json!({"requirement": "A.5.15"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "already-raised");
        let e = json_of(complete(" ").await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(e.to_string().contains("conclusion"), "{e}");
        let a = json_of(
            complete("Effective, one minor finding").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(a["status"], "completed");
        assert_eq!(a["findings"], 2);
        assert_eq!(a["items"][1]["nonconformity"][1], nc["ref"]);
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/internal-audits/{id}/results"),
                Some(result("9.2", "major")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "audit-completed");

        // A management review: inputs from the data, decisions, closed and frozen.
        let e = json_of(
            cm.api(
                Method::POST,
                "/api/v1/management-reviews",
                Some(json!({"held_on": "tomorrow", "attendees": "Board"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "held_on");
        let r = json_of(
            cm.api(
                Method::POST,
                "/api/v1/management-reviews",
                Some(json!({"held_on": "2026-11-20", "attendees": "CEO, CTO, compliance manager"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(r["ref"], "MR-001");
        assert_eq!(r["inputs"]["nonconformities"][0], 1);
        assert!(
            r["inputs"]["audits"][0]
                .as_str()
                .unwrap()
                .contains("IA-001")
        );
        let rid = r["id"].as_str().unwrap().to_owned();
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/management-reviews/{rid}/close"),
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "review-decisions");
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/management-reviews/{rid}"),
                Some(json!({"held_on": "2026-11-20", "attendees": "Board",
                    "decisions": [{"decision": "", "owner": "CTO"}]})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "decisions[0].decision");
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/management-reviews/{rid}"),
                Some(json!({"held_on": "2026-11-20", "attendees": "Board",
                    "notes": "Customers ask for SOC 2 Type 2",
                    "decisions": [{"decision": "Fund a SOC 2 Type 2 audit", "owner": "CEO", "due_on": "2027-03-31"}]})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let closed = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/management-reviews/{rid}/close"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(closed["closed_at"].is_number() || closed["closed_at"].is_string());
        // A later nonconformity does not change the frozen inputs.
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/nonconformities",
                Some(json!({"title": "Another", "source": "raised", "severity": "minor"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let list = json_of(
            viewer
                .api(Method::GET, "/api/v1/management-reviews", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list[0]["inputs"]["nonconformities"][0], 1);
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/management-reviews/{rid}"),
                Some(json!({"held_on": "2026-11-20", "attendees": "Board"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "review-closed");
        // The next review starts from this one's decisions.
        let next = json_of(
            cm.api(
                Method::POST,
                "/api/v1/management-reviews",
                Some(json!({"held_on": "2027-05-20", "attendees": "Board"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            next["inputs"]["previous_decisions"][0]["decision"],
            "Fund a SOC 2 Type 2 audit"
        );
        assert!(next["inputs"]["audits"].as_array().unwrap().is_empty());

        let other = srv.org("Elsewhere").await;
        let stranger = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        let r = stranger
            .api(Method::GET, &format!("/api/v1/internal-audits/{id}"), None)
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = stranger
            .api(
                Method::POST,
                &format!("/api/v1/management-reviews/{rid}/close"),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
);
