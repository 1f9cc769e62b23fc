//! The Statement of Applicability through the real server, on both backends: derived rows,
//! decisions, the completeness check, approval by top management only, frozen versions,
//! new drafts, comparison, exports, tenants kept apart, concurrent writers.

use attest_domain::role::Role;
use attest_testkit::{Browser, PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn soa(b: &Browser, query: &str) -> Value {
    json_of(
        b.api(Method::GET, &format!("/api/v1/soa{query}"), None)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn decide(b: &Browser, decisions: Value) -> reqwest::Response {
    b.api(
        Method::PUT,
        "/api/v1/soa/decisions",
        Some(json!({ "decisions": decisions })),
    )
    .await
}

fn row<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["content"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in the statement"))
}

/// Every Annex A control of the statement except `skip`, applicable for best practice.
fn all_applicable(v: &Value, skip: &[&str]) -> Value {
    Value::Array(
        v["content"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !skip.contains(&r["id"].as_str().unwrap()))
            .map(|r| json!({"control": r["id"], "applicable": true, "reasons": ["best-practice"]}))
            .collect(),
    )
}

server_test!(
    soa_is_derived_decided_approved_and_frozen,
    |srv: TestServer| async move {
        let org = srv.org("Applicable").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;

        // Empty organisation: 93 controls of the 2022 Annex A, nothing decided, no version.
        let v = soa(&viewer, "").await;
        assert!(v["version"].is_null());
        assert_eq!(v["content"]["framework_id"], "iso27001-2022");
        assert_eq!(v["content"]["rows"].as_array().unwrap().len(), 93);
        assert_eq!(v["undecided"], 93);
        assert_eq!(v["gaps"].as_array().unwrap().len(), 93);
        assert_eq!(row(&v, "A.8.1")["group"], "A.8 Technological controls");

        // A control linked to A.5.15, a risk it treats, evidence it produced.
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
        let r = cm
            .api(
                Method::POST,
                &format!("/api/v1/controls/{control_id}/links"),
                Some(json!({"framework": "iso27001-2022", "requirement": "A.5.15"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/risks",
                Some(
                    json!({"ref": "R-1", "title": "Stale access rights", "inherent_likelihood": 4,
                    "inherent_impact": 4, "residual_likelihood": 2, "residual_impact": 2,
                    "treatment": "modify", "controls": [control_id]}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(
                    json!({"title": "Q3 access review", "controls": [control_id],
                    "url": "https://reviews.example/q3"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;

        // Bad decisions are refused whole, naming the field; nothing is opened.
        let cases = [
            (
                json!([{"control": "A.5.1", "applicable": true}, {"control": "A.99.1", "applicable": true}]),
                "decisions[1].control",
            ),
            (
                json!([{"control": "A.5.1", "applicable": true}, {"control": "A.5.1", "applicable": false}]),
                "decisions[1].control",
            ),
            (
                json!([{"control": "A.5.1", "applicable": true, "reasons": ["whim"]}]),
                "decisions[0].reasons",
            ),
            (
                json!([{"control": "A.5.1", "applicable": false, "justification": "x".repeat(4001)}]),
                "decisions[0].justification",
            ),
            (json!([]), "decisions"),
        ];
        for (body, field) in cases {
            let e = json_of(decide(&cm, body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let e = json_of(
            cm.api(
                Method::PUT,
                "/api/v1/soa/decisions",
                Some(json!({"decisions": [{"control": "A.5.1", "applicable": "yes"}]})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(e.to_string().contains("applicable"), "{e}");
        assert!(
            soa(&viewer, "").await["history"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // A viewer may not decide.
        let r = decide(&viewer, json!([{"control": "A.5.1", "applicable": true}])).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // The first decision opens draft 1; risk treatment is derived from the data.
        let v = json_of(
            decide(
                &cm,
                json!([{"control": "A.5.15", "applicable": true, "reasons": ["contractual"]}]),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["version"]["version"], 1);
        assert_eq!(v["version"]["approved"], false);
        let a515 = row(&v, "A.5.15");
        assert_eq!(a515["reasons"], json!(["risk-treatment", "contractual"]));
        assert_eq!(a515["status"], "implemented");
        assert_eq!(a515["controls"][0]["reference"], "AC-1");
        assert_eq!(a515["risks"][0]["reference"], "R-1");
        assert_eq!(a515["evidence"][0]["title"], "Q3 access review");

        // Approval: top management only, and never while incomplete (nothing changes).
        let r = cm
            .api(Method::POST, "/api/v1/soa/approve", Some(json!({})))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let e = json_of(
            owner
                .api(Method::POST, "/api/v1/soa/approve", Some(json!({})))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(e.to_string().contains("92 controls"), "{e}");
        let v = soa(&cm, "").await;
        let mut decisions = all_applicable(&v, &["A.5.15", "A.7.1", "A.7.2"]);
        decisions
            .as_array_mut()
            .unwrap()
            .push(json!({"control": "A.7.1", "applicable": false, "justification": "No offices: staff work remotely"}));
        decisions
            .as_array_mut()
            .unwrap()
            .push(json!({"control": "A.7.2", "applicable": false}));
        json_of(decide(&cm, decisions).await, StatusCode::OK).await;
        let e = json_of(
            owner
                .api(Method::POST, "/api/v1/soa/approve", Some(json!({})))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let text = e.to_string();
        assert!(
            text.contains("A.7.2 is excluded without a justification"),
            "{text}"
        );
        assert_eq!(soa(&viewer, "").await["version"]["approved"], false);

        json_of(
            decide(
                &cm,
                json!([{"control": "A.7.2", "applicable": false, "justification": "No physical entry points of our own"}]),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let v = json_of(
            owner
                .api(
                    Method::POST,
                    "/api/v1/soa/approve",
                    Some(json!({"note": "Management review 2026"})),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["version"]["version"], 1);
        assert_eq!(v["version"]["approved"], true);
        let hash = v["version"]["hash"].as_str().unwrap().to_owned();
        assert_eq!(hash.len(), 64);
        assert_eq!(
            (v["applicable"].clone(), v["excluded"].clone()),
            (json!(91), json!(2))
        );
        assert_eq!(v["editable"], false);
        assert_eq!(v["stale"], false);
        // Nothing left to approve.
        let e = json_of(
            owner
                .api(Method::POST, "/api/v1/soa/approve", Some(json!({})))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "soa-no-draft", "{e}");

        // Exports of the approved version.
        let csv = cm.get("/api/v1/soa/export?format=csv&version=1").await;
        assert_eq!(csv.status(), StatusCode::OK);
        let csv = csv.text().await.unwrap();
        assert_eq!(csv.lines().count(), 94);
        assert!(csv.contains("A.7.1,"), "{csv}");
        let xlsx = cm.get("/api/v1/soa/export?format=xlsx").await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
        let oscal = json_of(
            cm.get("/api/v1/soa/export?format=oscal").await,
            StatusCode::OK,
        )
        .await;
        let reqs =
            &oscal["system-security-plan"]["control-implementation"]["implemented-requirements"];
        assert_eq!(reqs.as_array().unwrap().len(), 93);
        let pdf = cm.get("/api/v1/soa/export?format=pdf").await;
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
        let e = json_of(
            cm.get("/api/v1/soa/export?format=docx").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "format");

        // The data behind it change: the approved version stays as it was, and says so.
        let r = cm
            .api(
                Method::PUT,
                &format!("/api/v1/controls/{control_id}"),
                Some(json!({"ref": "AC-1", "title": "Access reviews", "frequency": "quarterly", "status": "partial"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let v = soa(&viewer, "").await;
        assert_eq!(v["stale"], true);
        assert_eq!(row(&v, "A.5.15")["status"], "implemented");
        assert_eq!(v["version"]["hash"], hash.as_str());

        // A change opens draft 2; version 1 stays frozen; the two compare.
        let v = json_of(
            decide(
                &cm,
                json!([{"control": "A.7.1", "applicable": true, "reasons": ["legal"], "justification": "New office opened"}]),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["version"]["version"], 2);
        assert_eq!(v["version"]["approved"], false);
        assert_eq!(row(&v, "A.5.15")["status"], "partial");
        let v1 = soa(&viewer, "?version=1").await;
        assert_eq!(row(&v1, "A.7.1")["applicable"], false);
        assert_eq!(v1["version"]["hash"], hash.as_str());
        let d = json_of(
            viewer
                .api(Method::GET, "/api/v1/soa/diff?from=1&to=2", None)
                .await,
            StatusCode::OK,
        )
        .await;
        let changes = d["changes"].as_array().unwrap();
        let ids: Vec<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["A.5.15", "A.7.1"], "{d}");
        let a71 = &changes[1]["changes"];
        assert_eq!(a71[0]["field"], "decision");
        assert_eq!(a71[0]["before"], "Excluded");
        assert_eq!(a71[0]["after"], "Applicable");
        let r = viewer
            .api(Method::GET, "/api/v1/soa/diff?from=1&to=9", None)
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // Switching the draft to the 2013 Annex A: 114 controls, decided afresh.
        let r = cm
            .api(
                Method::PUT,
                "/api/v1/soa/framework",
                Some(json!({"framework": "nist-800-53r5"})),
            )
            .await;
        let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["error"]["field"], "framework");
        let v = json_of(
            cm.api(
                Method::PUT,
                "/api/v1/soa/framework",
                Some(json!({"framework": "iso27001-2013"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["content"]["rows"].as_array().unwrap().len(), 114);
        assert_eq!(v["undecided"], 114);
        let v = json_of(
            cm.api(
                Method::PUT,
                "/api/v1/soa/framework",
                Some(json!({"framework": "iso27001-2022"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["undecided"], 0);
        assert_eq!(v["version"]["version"], 2);

        // Another organisation sees none of it.
        let other = srv.org("Elsewhere").await;
        let stranger = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        let r = stranger
            .api(Method::GET, "/api/v1/soa?version=1", None)
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(
            soa(&stranger, "").await["history"]
                .as_array()
                .unwrap()
                .is_empty()
        );

        // Every change is in the trail.
        let trail = json_of(
            cm.api(Method::GET, "/api/v1/audit-trail?limit=300", None)
                .await,
            StatusCode::OK,
        )
        .await
        .to_string();
        for action in ["soa.draft", "soa.decide", "soa.approve", "soa.framework"] {
            assert!(trail.contains(action), "{action} missing");
        }
    }
);

server_test!(
    concurrent_decisions_open_one_draft,
    |srv: TestServer| async move {
        let org = srv.org("Racing").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let v = soa(&cm, "").await;
        json_of(decide(&cm, all_applicable(&v, &[])).await, StatusCode::OK).await;
        json_of(
            owner
                .api(Method::POST, "/api/v1/soa/approve", Some(json!({})))
                .await,
            StatusCode::OK,
        )
        .await;
        // Eight writers at once after an approval: each either lands in the one new draft
        // or is told to retry; never two drafts, never a lost approval.
        let ids = [
            "A.5.1", "A.5.2", "A.5.3", "A.5.4", "A.5.5", "A.5.6", "A.5.7", "A.5.8",
        ];
        let results = futures::future::join_all(ids.iter().map(|id| {
            decide(
                &cm,
                json!([{"control": id, "applicable": false, "justification": format!("{id} not used")}]),
            )
        }))
        .await;
        let mut ok = 0;
        for r in results {
            match r.status() {
                StatusCode::OK => ok += 1,
                StatusCode::CONFLICT => {}
                s => panic!("unexpected {s}: {}", r.text().await.unwrap()),
            }
        }
        assert!(ok >= 1);
        let v = soa(&cm, "").await;
        let history = v["history"].as_array().unwrap();
        assert_eq!(history.len(), 2, "{history:?}");
        assert_eq!(history[0]["version"], 2);
        assert_eq!(history[0]["approved"], false);
        assert_eq!(history[1]["approved"], true);
        assert_eq!(v["excluded"], ok);
    }
);
