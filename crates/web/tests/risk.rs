//! The risk register through the real server, on both backends: the matrix and appetite,
//! assets, risks rated inherent and residual, heat maps, acceptance by the risk's owner only,
//! renewal after a material change, and bad input refused with nothing changed.

use attest_domain::role::Role;
use attest_testkit::{Browser, PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn user_id(b: &Browser) -> String {
    let me = json_of(b.api(Method::GET, "/api/v1/me", None).await, StatusCode::OK).await;
    me["user_id"].as_str().unwrap().to_owned()
}

fn risk(reference: &str, owner: &str, inherent: (u8, u8), residual: (u8, u8)) -> Value {
    json!({
        "ref": reference,
        "title": format!("Risk {reference}"),
        "threat": "Ransomware",
        "vulnerability": "Unpatched servers",
        "owner_id": owner,
        "inherent_likelihood": inherent.0,
        "inherent_impact": inherent.1,
        "residual_likelihood": residual.0,
        "residual_impact": residual.1,
        "treatment": "modify",
        "treatment_plan": "Patch monthly",
        "treatment_due": "2027-03-31",
    })
}

async fn register(b: &Browser, query: &str) -> Value {
    json_of(
        b.api(Method::GET, &format!("/api/v1/risks{query}"), None)
            .await,
        StatusCode::OK,
    )
    .await
}

server_test!(
    risks_are_rated_mapped_and_accepted,
    |srv: TestServer| async move {
        let org = srv.org("Risky").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let control_owner = srv.sign_in(org.email(Role::ControlOwner), PASSWORD).await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let co_id = user_id(&control_owner).await;

        // The default matrix: 5 × 5, appetite 9.
        let m = json_of(
            cm.api(Method::GET, "/api/v1/risk-matrix", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["likelihood"].as_array().unwrap().len(), 5);
        assert_eq!(m["appetite"], 9);

        let asset = json_of(
            cm.api(
                Method::POST,
                "/api/v1/assets",
                Some(json!({"name": "Customer database", "kind": "information",
                "classification": "confidential", "owner_id": co_id})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let asset_id = asset["id"].as_str().unwrap().to_owned();
        let control = json_of(
            cm.api(
                Method::POST,
                "/api/v1/controls",
                Some(
                    json!({"ref": "PM-1", "title": "Patch management", "frequency": "monthly",
                "status": "implemented"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let control_id = control["id"].as_str().unwrap().to_owned();

        // R-1 stays above appetite after treatment (4 × 3 = 12); R-2 is brought within it.
        let mut body = risk("R-1", &co_id, (5, 4), (4, 3));
        body["assets"] = json!([asset_id]);
        body["controls"] = json!([control_id]);
        let r1 = json_of(
            cm.api(Method::POST, "/api/v1/risks", Some(body.clone()))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let r1_id = r1["id"].as_str().unwrap().to_owned();
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/risks",
                Some(risk("R-2", &co_id, (3, 3), (2, 2))),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;

        let reg = register(&viewer, "").await;
        assert_eq!(reg["risks"].as_array().unwrap().len(), 2);
        assert_eq!(reg["needing_decision"], 1);
        let row = &reg["risks"][0];
        assert_eq!(row["ref"], "R-1");
        assert_eq!(
            (
                row["residual_score"].as_u64(),
                row["residual_level"].as_str()
            ),
            (Some(12), Some("High"))
        );
        assert_eq!(row["needs_decision"], true);
        // Heat maps count each risk in its cell: [likelihood - 1][impact - 1].
        assert_eq!(reg["heat"]["inherent"][4][3], 1);
        assert_eq!(reg["heat"]["residual"][3][2], 1);
        assert_eq!(reg["heat"]["residual"][1][1], 1);
        // Filters: by asset, by control, by decision needed, by words.
        for q in [
            format!("?asset={asset_id}"),
            format!("?control={control_id}"),
            "?needs_decision=true".to_owned(),
            "?q=r-1".to_owned(),
            "?level=High".to_owned(),
        ] {
            let reg = register(&cm, &q).await;
            let refs: Vec<&str> = reg["risks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["ref"].as_str().unwrap())
                .collect();
            assert_eq!(refs, ["R-1"], "{q}");
        }

        // Only the risk's owner (or an organisation owner) may accept it.
        let accept = json!({"justification": "Compensated by monitoring until the migration",
        "expires_on": "2099-01-01"});
        let r = cm
            .api(
                Method::POST,
                &format!("/api/v1/risks/{r1_id}/acceptances"),
                Some(json!({"justification": "ok", "expires_on": "2027-06-30"})),
            )
            .await;
        json_of(r, StatusCode::FORBIDDEN).await;
        let r = control_owner
            .api(
                Method::POST,
                &format!("/api/v1/risks/{r1_id}/acceptances"),
                Some(accept),
            )
            .await;
        let err = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(err["error"]["field"], "expires_on", "{err}");
        assert!(register(&cm, "").await["risks"][0]["acceptance"].is_null());
        json_of(
            control_owner
                .api(
                    Method::POST,
                    &format!("/api/v1/risks/{r1_id}/acceptances"),
                    Some(json!({"justification": "Compensated by monitoring",
                    "expires_on": "2027-06-30"})),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let reg = register(&cm, "").await;
        assert_eq!(reg["needing_decision"], 0);
        assert_eq!(reg["risks"][0]["acceptance"]["state"], "valid");
        assert_eq!(
            reg["risks"][0]["acceptance"]["snapshot"]["residual"]["impact"],
            3
        );

        // A material change (the residual impact rises) leaves the acceptance needing renewal.
        body["residual_impact"] = json!(4);
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/risks/{r1_id}"),
                Some(body.clone()),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let detail = json_of(
            cm.api(Method::GET, &format!("/api/v1/risks/{r1_id}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["row"]["acceptance"]["state"], "needs-renewal");
        assert_eq!(detail["row"]["needs_decision"], true);
        assert_eq!(detail["asset_list"][0]["name"], "Customer database");
        assert_eq!(detail["control_list"][0][1], "PM-1");
        // An organisation owner has the authority too.
        json_of(
            owner
                .api(
                    Method::POST,
                    &format!("/api/v1/risks/{r1_id}/acceptances"),
                    Some(json!({"justification": "Renewed", "expires_on": "2027-06-30"})),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(register(&cm, "").await["needing_decision"], 0);

        // The treatment plan's actions: one overdue, then done.
        let action = json_of(
        cm.api(
            Method::POST,
            &format!("/api/v1/risks/{r1_id}/actions"),
            Some(json!({"title": "Patch the database hosts", "owner_id": co_id, "due_on": "2020-01-31"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
        let action_id = action["id"].as_str().unwrap().to_owned();
        let r = cm
            .api(
                Method::POST,
                &format!("/api/v1/risks/{r1_id}/actions"),
                Some(json!({"title": "", "due_on": "2027-01-31"})),
            )
            .await;
        let err = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(err["error"]["field"], "title", "{err}");
        let detail = json_of(
            cm.api(Method::GET, &format!("/api/v1/risks/{r1_id}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["actions"].as_array().unwrap().len(), 1);
        assert_eq!(detail["actions"][0]["overdue"], true);
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/risks/{r1_id}/actions/{action_id}/done"),
                None,
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let r = cm
            .api(
                Method::POST,
                &format!("/api/v1/risks/{r1_id}/actions/{action_id}/done"),
                None,
            )
            .await;
        json_of(r, StatusCode::NOT_FOUND).await;
        let detail = json_of(
            cm.api(Method::GET, &format!("/api/v1/risks/{r1_id}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["actions"][0]["overdue"], false);
        assert!(detail["actions"][0]["done_on"].is_string());

        // Every change is in the trail.
        let trail = json_of(
            cm.api(Method::GET, "/api/v1/audit-trail?limit=100", None)
                .await,
            StatusCode::OK,
        )
        .await;
        let text = trail.to_string();
        for action in [
            "asset.create",
            "risk.create",
            "risk.update",
            "risk.accept",
            "risk.action.add",
            "risk.action.done",
        ] {
            assert!(text.contains(action), "{action} missing");
        }
    }
);

server_test!(
    bad_risk_input_changes_nothing,
    |srv: TestServer| async move {
        let org = srv.org("Careful").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let me = user_id(&cm).await;
        let cases: Vec<(Value, &str)> = vec![
            (risk("R 1", &me, (3, 3), (2, 2)), "ref"),
            (risk("R-1", &me, (6, 3), (2, 2)), "inherent_likelihood"),
            (risk("R-1", &me, (3, 3), (2, 0)), "residual_impact"),
            (risk("R-1", &me, (2, 2), (3, 3)), "residual_likelihood"),
            (
                {
                    let mut b = risk("R-1", &me, (3, 3), (2, 2));
                    b["treatment"] = json!("transfer");
                    b
                },
                "treatment",
            ),
            (
                {
                    let mut b = risk("R-1", &me, (3, 3), (2, 2));
                    b["assets"] = json!(["no-such-asset"]);
                    b
                },
                "assets",
            ),
            (
                {
                    let mut b = risk("R-1", &me, (3, 3), (2, 2));
                    b["treatment_due"] = json!("31/03/2027");
                    b
                },
                "treatment_due",
            ),
        ];
        for (body, field) in cases {
            let r = cm.api(Method::POST, "/api/v1/risks", Some(body)).await;
            let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        // Wrong types are refused by the body parser, with the field named.
        let r = cm
            .api(
                Method::POST,
                "/api/v1/risks",
                Some(json!({"ref": "R-1", "title": "x", "inherent_likelihood": "high"})),
            )
            .await;
        json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        // Viewers read but do not write.
        let r = viewer
            .api(
                Method::POST,
                "/api/v1/risks",
                Some(risk("R-1", &me, (3, 3), (2, 2))),
            )
            .await;
        json_of(r, StatusCode::FORBIDDEN).await;
        assert_eq!(register(&cm, "").await["risks"], json!([]));

        // A 3 × 3 matrix is refused while a risk is rated beyond it; a bad matrix names its field.
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/risks",
                Some(risk("R-1", &me, (5, 5), (4, 4))),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let three = json!({"likelihood": ["Low", "Medium", "High"], "impact": ["Low", "Medium", "High"],
        "levels": [{"name": "Low", "min_score": 1}, {"name": "High", "min_score": 5}], "appetite": 4});
        let r = cm
            .api(Method::PUT, "/api/v1/risk-matrix", Some(three.clone()))
            .await;
        let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["error"]["rule"], "risk-matrix-fits", "{e}");
        let mut bad = three.clone();
        bad["appetite"] = json!(10);
        let e = json_of(
            cm.api(Method::PUT, "/api/v1/risk-matrix", Some(bad)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "appetite", "{e}");
        let m = json_of(
            cm.api(Method::GET, "/api/v1/risk-matrix", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["likelihood"].as_array().unwrap().len(), 5);
        // Another organisation's risk is not found.
        let other = srv.org("Other").await;
        let them = srv
            .sign_in(other.email(Role::ComplianceManager), PASSWORD)
            .await;
        let id = register(&cm, "").await["risks"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = them
            .api(Method::GET, &format!("/api/v1/risks/{id}"), None)
            .await;
        json_of(r, StatusCode::NOT_FOUND).await;
    }
);

async fn import(b: &Browser, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    b.client
        .post(format!("{}/api/v1/risks/import", b.url))
        .header("x-csrf-token", &b.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

server_test!(
    risk_sheets_round_trip_and_bad_ones_change_nothing,
    |srv: TestServer| async move {
        let org = srv.org("Sheets").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        json_of(
        cm.api(
            Method::POST,
            "/api/v1/assets",
            Some(json!({"name": "Payroll", "kind": "information", "classification": "restricted"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
        json_of(
        cm.api(
            Method::POST,
            "/api/v1/controls",
            Some(json!({"ref": "BK-1", "title": "Backups", "frequency": "daily", "status": "implemented"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
        let email = org.email(Role::ComplianceManager).to_owned();
        let csv = format!(
            "ref,title,threat,owner,inherent_likelihood,inherent_impact,residual_likelihood,residual_impact,treatment,treatment_due,assets,controls\n\
         R-1,Payroll leak,Insider,{email},4,5,3,4,modify,2027-03-31,Payroll,BK-1\n\
         R-2,\"Flood, ground floor\",Weather,,2,4,,,retain,,,\n"
        );
        let done = json_of(
            import(&cm, "risks.csv", csv.into_bytes()).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (done["created"].as_u64(), done["updated"].as_u64()),
            (Some(2), Some(0))
        );
        let reg = register(&cm, "").await;
        assert_eq!(reg["risks"][1]["title"], "Flood, ground floor");
        // Untreated, the residual rating is the inherent one.
        assert_eq!(reg["risks"][1]["residual_score"], 8);
        assert_eq!(reg["risks"][0]["assets"].as_array().unwrap().len(), 1);

        // Exports read back unchanged, in both formats; the derived columns are ignored.
        for format in ["csv", "xlsx"] {
            let r = cm
                .get(&format!("/api/v1/risks/export?format={format}"))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            let disposition = r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                disposition.contains(&format!("risks.{format}")),
                "{disposition}"
            );
            let bytes = r.bytes().await.unwrap().to_vec();
            if format == "csv" {
                let text = String::from_utf8(bytes.clone()).unwrap();
                assert!(text.starts_with("ref,title,description"), "{text}");
                assert!(
                    text.contains("Payroll leak") && text.contains(",12,High,"),
                    "{text}"
                );
            }
            let again = json_of(
                import(&cm, &format!("back.{format}"), bytes).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(
                (
                    again["created"].as_u64(),
                    again["updated"].as_u64(),
                    again["unchanged"].as_u64()
                ),
                (Some(0), Some(0), Some(2))
            );
            assert_eq!(
                register(&cm, "").await["risks"],
                reg["risks"],
                "{format} round trip"
            );
        }

        // A sheet with problems names each (line and column) and changes nothing.
        let bad = "ref,title,inherent_likelihood,inherent_impact,treatment,assets,owner\n\
               R-1,Changed title,4,5,modify,,\n\
               R-3,New,9,1,modify,,\n\
               R-4,Other,2,2,transfer,Nowhere,nobody@else.test\n\
               R-4,Twice,2,2,modify,,\n";
        let e = json_of(
            import(&cm, "bad.csv", bad.as_bytes().to_vec()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let text = e.to_string();
        for want in [
            "line 3, inherent_likelihood",
            "line 4, treatment",
            "line 4, assets",
            "line 4, owner",
            "line 5, ref",
        ] {
            assert!(text.contains(want), "{want} missing from {text}");
        }
        assert_eq!(register(&cm, "").await["risks"], reg["risks"]);
        for (name, bytes) in [
            ("risks.txt", b"ref\n".to_vec()),
            ("risks.xlsx", b"not a workbook".to_vec()),
            ("risks.csv", b"colour\nred\n".to_vec()),
        ] {
            json_of(
                import(&cm, name, bytes).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let r = import(&viewer, "risks.csv", b"ref,title\n".to_vec()).await;
        json_of(r, StatusCode::FORBIDDEN).await;
    }
);
