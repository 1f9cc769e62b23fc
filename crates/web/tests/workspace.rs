//! The auditor workspace through the real server, on both backends: an external auditor
//! attached to one engagement reaches only it, and only while it is open; requests assigned
//! to control owners, answered with evidence, returned and accepted; samples whose
//! exceptions stay recorded and become findings; ISO findings raising nonconformities; the
//! sample-size table; the exports; every auditor action in the audit trail.

use attest_app::Caller;
use attest_domain::role::Role;
use attest_store::audit::EntryFilter;
use attest_testkit::{Browser, PASSWORD, TestOrg, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn actions(srv: &TestServer, org: attest_domain::OrgId, prefix: &str) -> Vec<Value> {
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
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

async fn user_id(b: &Browser) -> String {
    let me = json_of(b.api(Method::GET, "/api/v1/me", None).await, StatusCode::OK).await;
    me["user_id"].as_str().unwrap().to_owned()
}

/// Invites an auditor to an engagement through the API and accepts as a new person.
async fn auditor(srv: &TestServer, cm: &Browser, engagement: &str, email: &str) -> Browser {
    let inv = json_of(
        cm.api(
            Method::POST,
            &format!("/api/v1/engagements/{engagement}/auditors"),
            Some(json!({"email": email, "until": "2099-12-31"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let token = inv["link"].as_str().unwrap().rsplit('/').next().unwrap();
    srv.app
        .accept_invitation(
            &Caller::anonymous(None, None),
            token,
            Some("External Auditor"),
            Some(PASSWORD),
        )
        .await
        .unwrap();
    srv.sign_in(email, PASSWORD).await
}

async fn engagement(cm: &Browser, body: Value) -> String {
    let e = json_of(
        cm.api(Method::POST, "/api/v1/engagements", Some(body))
            .await,
        StatusCode::CREATED,
    )
    .await;
    e["id"].as_str().unwrap().to_owned()
}

async fn control(cm: &Browser, reference: &str, owner: &str) -> String {
    let c = json_of(
        cm.api(
            Method::POST,
            "/api/v1/controls",
            Some(json!({"ref": reference, "title": format!("Control {reference}"), "frequency": "quarterly",
                "status": "implemented", "owner_id": owner})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    c["id"].as_str().unwrap().to_owned()
}

async fn status(
    b: &Browser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let r = b.api(method, path, body).await;
    let s = r.status();
    let v = r.json().await.unwrap_or(Value::Null);
    (s, v)
}

async fn setup(srv: &TestServer, name: &str) -> (TestOrg, Browser, Browser, String) {
    let org = srv.org(name).await;
    let cm = srv
        .sign_in(org.email(Role::ComplianceManager), PASSWORD)
        .await;
    let co = srv.sign_in(org.email(Role::ControlOwner), PASSWORD).await;
    let co_id = user_id(&co).await;
    (org, cm, co, co_id)
}

server_test!(
    an_auditor_works_in_one_engagement_only,
    |srv: TestServer| async move {
        let (org, cm, co, co_id) = setup(&srv, "Audited").await;
        let ac1 = control(&cm, "AC-1", &co_id).await;
        let soc2 = engagement(
            &cm,
            json!({"kind": "soc2-type2", "firm": "Example LLP", "start": "2025-01-01", "end": "2025-12-31"}),
        )
        .await;
        let iso = engagement(
            &cm,
            json!({"kind": "iso-stage2", "firm": "Cert Body", "start": "2025-06-01", "end": "2025-06-05"}),
        )
        .await;
        let ext = auditor(&srv, &cm, "ENG-001", "ext@audit.test").await;

        // Only its own engagement, only its workspace: everything else is refused.
        let w = json_of(
            ext.api(
                Method::GET,
                &format!("/api/v1/engagements/{soc2}/workspace"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(w["engagement"]["ref"], "ENG-001");
        assert_eq!(w["manager"], false);
        assert_eq!(w["controls"][0]["ref"], "AC-1");
        for path in [
            format!("/api/v1/engagements/{iso}/workspace"),
            "/api/v1/engagements/ENG-002/workspace".to_owned(),
            format!("/api/v1/engagements/{}/workspace", uuid::Uuid::now_v7()),
        ] {
            let (s, e) = status(&ext, Method::GET, &path, None).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
            assert!(
                e["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("auditor-scope"),
                "{e}"
            );
        }
        for path in [
            "/api/v1/engagements",
            "/api/v1/controls",
            "/api/v1/evidence",
            "/api/v1/risks",
            "/api/v1/requests",
        ] {
            assert_eq!(
                ext.api(Method::GET, path, None).await.status(),
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        let (s, _) = status(
            &ext,
            Method::POST,
            &format!("/api/v1/engagements/{iso}/requests"),
            Some(json!({"title": "Outside"})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // An auditor's token is an auditor's, whatever role it names.
        let (s, t) = status(
            &ext,
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "wider", "role": "viewer", "expires_in_days": 5})),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{t}");

        // The auditor asks; the request goes to the control's owner.
        let req = json_of(
            ext.api(
                Method::POST,
                &format!("/api/v1/engagements/{soc2}/requests"),
                Some(json!({"title": "Quarterly access reviews", "control": "AC-1", "due_on": "2026-01-31"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(req["ref"], "REQ-001");
        assert_eq!(req["assignee_id"], co_id.as_str());
        let req_id = req["id"].as_str().unwrap().to_owned();
        let other = json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{soc2}/requests"),
                Some(json!({"title": "Org chart", "assignee": co_id})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let (s, e) = status(
            &ext,
            Method::POST,
            &format!("/api/v1/engagements/{soc2}/requests"),
            Some(json!({"title": "Bad", "assignee": user_id(&ext).await})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("assignee"))
        );

        // The control owner sees it, answers with evidence and submits.
        let mine = json_of(
            co.api(Method::GET, "/api/v1/requests", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine.as_array().unwrap().len(), 2);
        let ev = json_of(
            co.api(
                Method::POST,
                "/api/v1/evidence",
                Some(json!({"title": "Q3 access review", "url": "https://reviews.example/q3",
                    "controls": [ac1], "effective_from": "2025-07-01", "effective_until": "2025-09-30"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let ev_id = ev["id"].as_str().unwrap().to_owned();
        let (s, e) = status(
            &co,
            Method::POST,
            &format!("/api/v1/requests/{}/submit", other["id"].as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!("request-unanswered")
            )
        );
        let (s, e) = status(
            &co,
            Method::POST,
            &format!("/api/v1/requests/{req_id}/evidence"),
            Some(json!({"evidence_id": "nope"})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("evidence_id"))
        );
        json_of(
            co.api(
                Method::POST,
                &format!("/api/v1/requests/{req_id}/evidence"),
                Some(json!({"evidence_id": ev_id})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let r = json_of(
            co.api(
                Method::POST,
                &format!("/api/v1/requests/{req_id}/submit"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["status"], "submitted");
        // Another control owner may not answer it.
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        assert_eq!(
            viewer
                .api(Method::GET, &format!("/api/v1/requests/{req_id}"), None)
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        // Returned with a comment (a return needs one), answered again, accepted.
        let review =
            |decision: &str, comment: &str| json!({"decision": decision, "comment": comment});
        let path = format!("/api/v1/engagements/{soc2}/requests/{req_id}/review");
        let (s, e) = status(&ext, Method::POST, &path, Some(review("return", ""))).await;
        assert_eq!(
            (s, e["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("comment"))
        );
        let r = json_of(
            ext.api(Method::POST, &path, Some(review("return", "Q4 is missing")))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["status"], "returned");
        let comments = json_of(
            co.api(
                Method::GET,
                &format!("/api/v1/requests/{req_id}/comments"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(comments[0]["body"], "Q4 is missing");
        json_of(
            co.api(
                Method::POST,
                &format!("/api/v1/requests/{req_id}/comments"),
                Some(json!({"body": "Q4 attached"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        json_of(
            co.api(
                Method::POST,
                &format!("/api/v1/requests/{req_id}/submit"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        // The organisation does not accept its own answers.
        let (s, e) = status(&cm, Method::POST, &path, Some(review("accept", ""))).await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("auditor-review"))
        );
        let r = json_of(
            ext.api(Method::POST, &path, Some(review("accept", "")))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["status"], "accepted");
        let (s, e) = status(&ext, Method::POST, &path, Some(review("accept", ""))).await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("request-status"))
        );

        // Evidence answering an open engagement's request is kept.
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let (s, e) = status(
            &owner,
            Method::POST,
            &format!("/api/v1/evidence/{ev_id}/dispose"),
            Some(json!({"reason": "tidy"})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("engagement-hold"))
        );

        // The organisation's sample table decides the size; an exception stays and becomes
        // a finding.
        let (s, e) = status(
            &cm,
            Method::PUT,
            "/api/v1/sample-table",
            Some(json!({"annual": 1, "quarterly": 3, "monthly": 2, "weekly": 300, "daily": 25, "many_per_day": 25})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("weekly"))
        );
        assert_eq!(
            ext.api(Method::PUT, "/api/v1/sample-table", Some(json!({"annual": 1, "quarterly": 3, "monthly": 2, "weekly": 5, "daily": 25, "many_per_day": 25}))).await.status(),
            StatusCode::FORBIDDEN
        );
        json_of(
            cm.api(
                Method::PUT,
                "/api/v1/sample-table",
                Some(json!({"annual": 1, "quarterly": 3, "monthly": 2, "weekly": 5, "daily": 25, "many_per_day": 25})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        // Nor does it choose its own sample.
        let (s, e) = status(
            &cm,
            Method::POST,
            &format!("/api/v1/engagements/{soc2}/tests"),
            Some(json!({"control": "AC-1", "kind": "operating", "population": 4, "seed": 1})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("auditor-seed"))
        );
        let t = json_of(
            ext.api(
                Method::POST,
                &format!("/api/v1/engagements/{soc2}/tests"),
                Some(json!({"control": "AC-1", "kind": "operating", "population": 4, "seed": 42})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(t["sample_size"], 3);
        let test_id = t["id"].as_str().unwrap().to_owned();
        let item = t["items"][0].as_u64().unwrap();
        let results = format!("/api/v1/engagements/{soc2}/tests/{test_id}/results");
        json_of(
            ext.api(
                Method::PUT,
                &results,
                Some(json!({"item": item, "result": "exception", "note": "No sign-off"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let (s, e) = status(
            &ext,
            Method::PUT,
            &results,
            Some(json!({"item": item, "result": "pass"})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!("exception-recorded")
            )
        );
        let (s, e) = status(
            &ext,
            Method::POST,
            &format!("/api/v1/engagements/{soc2}/tests"),
            Some(json!({"control": "AC-1", "kind": "operating", "population": 4, "seed": 7})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("sample-recorded"))
        );
        let w = json_of(
            ext.api(
                Method::GET,
                &format!("/api/v1/engagements/{soc2}/workspace"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(w["findings"][0]["ref"], "F-001");
        assert_eq!(w["findings"][0]["severity"], "exception");
        assert_eq!(w["findings"][0]["test_id"], test_id.as_str());
        assert_eq!(w["summary"]["accepted"], 1);
        assert_eq!(w["evidence"][0]["id"], ev_id.as_str());
        let (s, e) = status(
            &ext,
            Method::POST,
            &format!("/api/v1/engagements/{soc2}/findings"),
            Some(json!({"title": "Major", "severity": "major"})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("severity"))
        );
        json_of(
            ext.api(
                Method::POST,
                &format!("/api/v1/engagements/{soc2}/comments"),
                Some(json!({"subject_kind": "test", "subject_id": test_id, "body": "Sample per table"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let (s, _) = status(
            &ext,
            Method::POST,
            &format!("/api/v1/engagements/{soc2}/comments"),
            Some(json!({"subject_kind": "test", "subject_id": "elsewhere", "body": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // Managing stays with staff.
        for (m, p) in [
            (Method::POST, format!("/api/v1/engagements/{soc2}/opinion")),
            (Method::POST, format!("/api/v1/engagements/{soc2}/issue")),
            (Method::POST, format!("/api/v1/engagements/{soc2}/auditors")),
        ] {
            assert_eq!(
                ext.api(m, &p, Some(json!({}))).await.status(),
                StatusCode::FORBIDDEN,
                "{p}"
            );
        }

        // Exports: a ZIP and two OSCAL documents.
        let zip = ext
            .api(
                Method::GET,
                &format!("/api/v1/engagements/{soc2}/workpapers"),
                None,
            )
            .await;
        assert_eq!(zip.status(), StatusCode::OK);
        assert_eq!(zip.headers()["content-type"], "application/zip");
        let bytes = zip.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"));
        let ar = json_of(
            ext.api(
                Method::GET,
                &format!("/api/v1/engagements/{soc2}/oscal/assessment-results"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            ar["assessment-results"]["results"][0]["findings"].is_array(),
            "{ar}"
        );
        let poam = json_of(
            cm.api(
                Method::GET,
                &format!("/api/v1/engagements/{soc2}/oscal/poam"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(poam["plan-of-action-and-milestones"]["poam-items"].is_array());

        // Every auditor action is in the audit trail under the auditor's name.
        let ext_id = user_id(&ext).await;
        let trail = actions(&srv, org.id, "engagement.").await;
        let by_auditor: Vec<&str> = trail
            .iter()
            .filter(|e| e["actor"].as_str().is_some_and(|a| a.contains(&ext_id)))
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "engagement.request",
            "engagement.request_status",
            "engagement.test",
            "engagement.result",
            "engagement.finding",
            "engagement.comment",
            "engagement.export",
        ] {
            assert!(by_auditor.contains(&a), "{a} not in {by_auditor:?}");
        }

        // Issuing the report ends the auditor's access.
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{soc2}/opinion"),
                Some(json!({"opinion": "unqualified"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/engagements/{soc2}/issue"),
                Some(json!({})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let (s, e) = status(
            &ext,
            Method::GET,
            &format!("/api/v1/engagements/{soc2}/workspace"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(
            e["error"]["message"].as_str().unwrap().contains("ended"),
            "{e}"
        );
        // The evidence is free again.
        assert_eq!(
            owner
                .api(
                    Method::POST,
                    &format!("/api/v1/evidence/{ev_id}/dispose"),
                    Some(json!({"reason": "tidy"}))
                )
                .await
                .status(),
            StatusCode::NO_CONTENT
        );
    }
);

server_test!(
    iso_findings_raise_nonconformities_and_access_can_end_early,
    |srv: TestServer| async move {
        let (org, cm, _co, co_id) = setup(&srv, "Certifying").await;
        control(&cm, "A-1", &co_id).await;
        let iso = engagement(
            &cm,
            json!({"kind": "iso-stage2", "firm": "Cert Body", "start": "2026-01-10", "end": "2026-01-14"}),
        )
        .await;
        let ext = auditor(&srv, &cm, &iso, "lead@cert.test").await;
        let (s, e) = status(
            &ext,
            Method::POST,
            &format!("/api/v1/engagements/{iso}/findings"),
            Some(json!({"title": "X", "severity": "exception"})),
        )
        .await;
        assert_eq!(
            (s, e["error"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("severity"))
        );
        let f = json_of(
            ext.api(
                Method::POST,
                &format!("/api/v1/engagements/{iso}/findings"),
                Some(json!({"title": "No access reviews in Q1", "severity": "major", "control": "A-1", "description": "None were done."})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(f["nonconformity_ref"], "NC-001");
        let obs = json_of(
            ext.api(
                Method::POST,
                &format!("/api/v1/engagements/{iso}/findings"),
                Some(json!({"title": "Naming", "severity": "observation"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert!(obs["nonconformity_id"].is_null());
        let ncs = json_of(
            cm.api(Method::GET, "/api/v1/nonconformities", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ncs.as_array().unwrap().len(), 1);
        assert_eq!(ncs[0]["source"], "external-audit");
        assert_eq!(ncs[0]["severity"], "major");
        // Management responds; the auditor cannot.
        let fid = f["id"].as_str().unwrap();
        let path = format!("/api/v1/engagements/{iso}/findings/{fid}/response");
        assert_eq!(
            ext.api(Method::PUT, &path, Some(json!({"response": "x"})))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let r = json_of(
            cm.api(
                Method::PUT,
                &path,
                Some(json!({"response": "Reviews scheduled monthly."})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["response"], "Reviews scheduled monthly.");

        // Staff end the auditor's access early; the account is refused at once.
        let ext_id = user_id(&ext).await;
        assert_eq!(
            cm.api(
                Method::DELETE,
                &format!("/api/v1/engagements/{iso}/auditors/{ext_id}"),
                None
            )
            .await
            .status(),
            StatusCode::NO_CONTENT
        );
        let r = ext
            .api(
                Method::GET,
                &format!("/api/v1/engagements/{iso}/workspace"),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // Another organisation's staff see nothing of it.
        let other = srv.org("Elsewhere").await;
        let stranger = srv
            .sign_in(other.email(Role::ComplianceManager), PASSWORD)
            .await;
        assert_eq!(
            stranger
                .api(
                    Method::GET,
                    &format!("/api/v1/engagements/{iso}/workspace"),
                    None
                )
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert!(
            !actions(&srv, org.id, "engagement.auditor_remove")
                .await
                .is_empty()
        );
    }
);

server_test!(
    an_engagement_issues_pdf_documents,
    |srv: TestServer| async move {
        let (_org, cm, _co, _) = setup(&srv, "Documented").await;
        let soc2 = engagement(
            &cm,
            json!({"kind": "soc2-type2", "firm": "Example LLP", "start": "2025-01-01", "end": "2025-12-31"}),
        )
        .await;
        let upload = |kind: &str, bytes: &'static [u8]| {
            reqwest::multipart::Form::new()
                .text("kind", kind.to_owned())
                .text("title", "SOC 2 Type 2 report 2025")
                .text("language", "en")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("soc2-2025.pdf"),
                )
        };
        let send = |f: reqwest::multipart::Form| {
            cm.client
                .post(format!("{}/api/v1/engagements/{soc2}/documents", cm.url))
                .header("x-csrf-token", &cm.csrf)
                .multipart(f)
                .send()
        };
        let e = json_of(
            send(upload("report", b"just text, not a PDF"))
                .await
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "file", "{e}");
        let e = json_of(
            send(upload("certificate", b"%PDF-1.7\n")).await.unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "kind", "{e}");
        let d = json_of(
            send(upload("report", attest_testkit::pdf())).await.unwrap(),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(d["content_type"], "application/pdf");
        let id = d["id"].as_str().unwrap();
        let detail = json_of(
            cm.api(Method::GET, &format!("/api/v1/engagements/{soc2}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["documents"][0]["id"], id);
        let file = cm
            .api(
                Method::GET,
                &format!("/api/v1/engagements/{soc2}/documents/{id}/file"),
                None,
            )
            .await;
        assert_eq!(file.status(), StatusCode::OK);
        assert!(file.bytes().await.unwrap().starts_with(b"%PDF-1.7"));
        let viewer = srv.sign_in(_org.email(Role::Viewer), PASSWORD).await;
        assert_eq!(
            viewer
                .api(
                    Method::DELETE,
                    &format!("/api/v1/engagements/{soc2}/documents/{id}"),
                    None
                )
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            cm.api(
                Method::DELETE,
                &format!("/api/v1/engagements/{soc2}/documents/{id}"),
                None
            )
            .await
            .status(),
            StatusCode::NO_CONTENT
        );
        let e = json_of(
            cm.api(
                Method::DELETE,
                &format!("/api/v1/engagements/{soc2}/documents/{id}"),
                None,
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(e["error"]["field"], "id");
        let detail = json_of(
            cm.api(Method::GET, &format!("/api/v1/engagements/{soc2}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(detail["documents"][0]["withdrawn_at"].is_string());
    }
);
