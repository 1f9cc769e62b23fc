//! Engagements through the real server, on both backends: rule 1 dates, opinions and
//! issuing, rule 2 for SOC 3, rule 4 bridge letters and their PDF, the coverage timeline,
//! evidence kept while an open engagement examines its period, tenants kept apart.

use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

server_test!(
    soc_reports_bridge_letters_and_the_timeline,
    |srv: TestServer| async move {
        let org = srv.org("Reporting").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let soc2 = json!({"kind": "soc2-type2", "firm": "Example LLP", "start": "2025-04-01",
            "end": "2026-03-31", "categories": ["availability"]});

        for (body, rule) in [
            (
                json!({"kind": "soc2-type2", "firm": "X", "start": "2025-04-01", "end": "2026-04-01"}),
                "rule-1",
            ),
            (
                json!({"kind": "soc2-type2", "firm": "X", "start": "2025-04-01", "end": "2025-04-01"}),
                "rule-1",
            ),
            (
                json!({"kind": "soc1-type1", "firm": "X", "start": "2025-04-01", "end": "2025-05-01"}),
                "rule-1",
            ),
            (
                json!({"kind": "soc3", "firm": "X", "start": "2025-04-01", "end": "2026-03-31"}),
                "rule-2",
            ),
        ] {
            let e = json_of(
                cm.api(Method::POST, "/api/v1/engagements", Some(body))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["error"]["rule"], rule, "{e}");
        }
        let e = json_of(
            cm.api(
                Method::POST,
                "/api/v1/engagements",
                Some(json!({"kind": "soc2-type2", "firm": "X", "categories": ["fun"], "start": "2025-04-01", "end": "2026-03-31"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "categories");
        let r = viewer
            .api(Method::POST, "/api/v1/engagements", Some(soc2.clone()))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        let eng = json_of(
            cm.api(Method::POST, "/api/v1/engagements", Some(soc2))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(eng["ref"], "ENG-001");
        assert_eq!(eng["categories"], json!(["security", "availability"]));
        let id = eng["id"].as_str().unwrap().to_owned();

        // Evidence of the period is kept while the engagement is open.
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
        let ev = json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(
                    json!({"title": "Q3 access review", "url": "https://reviews.example/q3",
                    "controls": [control["id"]], "effective_from": "2025-07-01", "effective_until": "2025-09-30"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let e = json_of(
            owner
                .api(
                    Method::POST,
                    &format!("/api/v1/evidence/{}/dispose", ev["id"].as_str().unwrap()),
                    Some(json!({"reason": "tidy up"})),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "engagement-hold", "{e}");

        // Status moves forward only; the opinion comes before issuing.
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/status"),
                Some(json!({"status": "reporting"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "engagement-status");
        for s in ["fieldwork", "reporting"] {
            json_of(
                cm.api(
                    Method::POST,
                    &format!("/api/v1/engagements/{id}/status"),
                    Some(json!({"status": s})),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/issue"),
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "opinion-required");
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/opinion"),
                Some(json!({"opinion": "qualified"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "notes");
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/opinion"),
                Some(json!({"opinion": "unqualified"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let issued = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/issue"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(issued["status"], "issued");
        let e = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/cuecs"),
                Some(json!({"text": "Too late"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "engagement-closed");

        // Rule 2 now holds: a SOC 3 over (part of) the same period.
        let soc3 = json_of(
            cm.api(
                Method::POST,
                "/api/v1/engagements",
                Some(json!({"kind": "soc3", "firm": "Example LLP", "start": "2025-04-01", "end": "2026-03-31"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(soc3["basis_id"], id.as_str());

        // Rule 4: a bridge letter from 1 April, at most three months, not into the next
        // report's period.
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/engagements",
                Some(json!({"kind": "soc2-type2", "firm": "Example LLP", "start": "2026-06-01", "end": "2027-03-31"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        for (until, why) in [
            ("2026-07-01", "at most 3 months"),
            ("2026-06-15", "next report"),
        ] {
            let e = json_of(
                cm.api(
                    Method::POST,
                    &format!("/api/v1/engagements/{id}/bridge-letters"),
                    Some(json!({"until": until, "signer": "CEO"})),
                )
                .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["error"]["rule"], "rule-4", "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
        let letter = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{id}/bridge-letters"),
                Some(json!({"until": "2026-05-31", "signer": "Kim Minji, CISO", "language": "ko"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(letter["starts_on"], "2026-04-01");
        let pdf = viewer
            .get(&format!(
                "/api/v1/bridge-letters/{}/pdf",
                letter["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(pdf.status(), StatusCode::OK);
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

        // The timeline: the report's period, then the bridge, then a gap until today.
        let t = json_of(
            viewer
                .api(Method::GET, "/api/v1/coverage-timeline?years=2", None)
                .await,
            StatusCode::OK,
        )
        .await;
        let covers: Vec<&str> = t["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["cover"].as_str().unwrap())
            .collect();
        assert_eq!(covers, ["gap", "report", "bridge", "gap"], "{t}");
        let r = viewer
            .api(Method::GET, "/api/v1/coverage-timeline?years=50", None)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let other = srv.org("Elsewhere").await;
        let stranger = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        for path in [
            format!("/api/v1/engagements/{id}"),
            format!(
                "/api/v1/bridge-letters/{}/pdf",
                letter["id"].as_str().unwrap()
            ),
        ] {
            let r = stranger.api(Method::GET, &path, None).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }
);

server_test!(
    certificates_and_programs_follow_their_rules,
    |srv: TestServer| async move {
        let org = srv.org("Certified").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let cert = |number: &str, standard: &str, issued: &str, expires: &str| {
            json!({"number": number, "body": "Example Certification", "standard": standard,
                "scope": "The platform", "issued_on": issued, "expires_on": expires})
        };
        for (body, field, rule) in [
            (
                cert("C-1", "iso27001-2022", "2025-01-10", "2028-01-10"),
                "",
                "rule-5",
            ),
            (
                cert("C-1", "iso27001-2013", "2023-01-10", "2026-01-09"),
                "",
                "rule-5",
            ),
            (
                cert("C-1", "iso27017", "2025-01-10", "2026-01-09"),
                "standard",
                "",
            ),
            (
                cert("C-1", "iso27001-2022", "2025-01-10", "2025-01-10"),
                "",
                "rule-5",
            ),
        ] {
            let e = json_of(
                cm.api(Method::POST, "/api/v1/certificates", Some(body))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            if !field.is_empty() {
                assert_eq!(e["error"]["field"], field, "{e}");
            }
            if !rule.is_empty() {
                assert_eq!(e["error"]["rule"], rule, "{e}");
            }
        }
        let c = json_of(
            cm.api(
                Method::POST,
                "/api/v1/certificates",
                Some(cert("C-1", "iso27001-2022", "2025-01-10", "2028-01-09")),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(c["status"], "valid");
        assert_eq!(c["milestones"][0][1], "2026-01-10");
        let e = json_of(
            cm.api(
                Method::POST,
                "/api/v1/certificates",
                Some(cert("C-1", "iso27001-2022", "2025-02-01", "2028-01-31")),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["error"]["field"], "number");
        let old = json_of(
            cm.api(
                Method::POST,
                "/api/v1/certificates",
                Some(cert("C-0", "iso27001-2013", "2022-11-01", "2025-10-31")),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(old["status"], "expired");
        let id = c["id"].as_str().unwrap();
        let s = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/certificates/{id}/state"),
                Some(json!({"state": "suspended"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(s["status"], "suspended");

        // A cadence of 12-month periods ending 31 March and 30 September.
        let e = json_of(
            cm.api(
                Method::PUT,
                "/api/v1/soc-programs",
                Some(json!({"family": "soc2", "period_months": 12, "period_ends": ["02-30"], "report_weeks": 6})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "period_ends");
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/engagements",
                Some(json!({"kind": "soc2-type2", "firm": "Example LLP", "start": "2025-10-01", "end": "2026-09-30"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let p = json_of(
            cm.api(
                Method::PUT,
                "/api/v1/soc-programs",
                Some(json!({"family": "soc2", "period_months": 12, "period_ends": ["03-31", "09-30"], "report_weeks": 6})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let next = &p["upcoming"];
        assert_eq!(next[0]["period"]["start"], "2026-04-01");
        assert_eq!(next[0]["period"]["end"], "2027-03-31");
        assert_eq!(next[0]["report_due"], "2027-05-12");
        assert_eq!(next[1]["period"]["end"], "2027-09-30");
    }
);
