//! The frameworks and controls hub through the real server, on both backends: linking a
//! control, proposals implied by the mapping sets, coverage, imports (good and bad), exports,
//! the crosswalk with derived links and their review, and the 2013 → 2022 migration.

use attest_domain::role::Role;
use attest_testkit::{Browser, PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn new_control(b: &Browser, reference: &str, status: &str) -> String {
    let c = json_of(
        b.api(
            Method::POST,
            "/api/v1/controls",
            Some(json!({
                "ref": reference,
                "title": format!("Control {reference}"),
                "description": "What the control does.",
                "frequency": "quarterly",
                "status": status,
            })),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = c["id"].as_str().expect("control id").to_owned();
    if status == "implemented" {
        // Implemented counts in full only with evidence covering today.
        json_of(
            b.api(
                Method::POST,
                "/api/v1/evidence",
                Some(
                    json!({"title": format!("{reference} operating"), "controls": [id],
                    "url": "https://evidence.example/run"}),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    id
}

async fn link(b: &Browser, control: &str, fw: &str, req: &str) -> Value {
    json_of(
        b.api(
            Method::POST,
            &format!("/api/v1/controls/{control}/links"),
            Some(json!({"framework": fw, "requirement": req})),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    json_of(
        b.api(Method::GET, &format!("/api/v1/controls/{control}"), None)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn status_of(b: &Browser, fw: &str, req: &str) -> (String, Vec<String>) {
    let cov = json_of(
        b.api(Method::GET, &format!("/api/v1/coverage/{fw}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let r = cov["requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .find(|r| r["id"] == req)
        .unwrap_or_else(|| panic!("{req} not in the coverage of {fw}"))
        .clone();
    (
        r["status"].as_str().unwrap().to_owned(),
        r["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect(),
    )
}

async fn use_framework(b: &Browser, fw: &str) {
    json_of(
        b.api(
            Method::PUT,
            &format!("/api/v1/frameworks/{fw}/use"),
            Some(json!({"in_use": true})),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

fn proposals(detail: &Value) -> Vec<(String, String, String)> {
    detail["proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .map(|p| {
            (
                p["framework"].as_str().unwrap().to_owned(),
                p["requirement"].as_str().unwrap().to_owned(),
                p["coverage"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

server_test!(
    a_control_on_a_5_15_covers_soc2_and_csf_after_acceptance,
    |srv: TestServer| async move {
        let org = srv.org("Hub").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        for fw in ["iso27001-2022", "soc2-tsc-2017", "nist-csf-2.0"] {
            use_framework(&cm, fw).await;
        }
        let id = new_control(&cm, "AC-01", "implemented").await;

        let (before, _) = status_of(&cm, "soc2-tsc-2017", "CC6.1").await;
        assert_eq!(before, "not-covered");
        let (before_csf, _) = status_of(&cm, "nist-csf-2.0", "PR.AA-05").await;
        assert_eq!(before_csf, "not-covered");

        let detail = link(&cm, &id, "iso27001-2022", "A.5.15").await;
        let (iso, reasons) = status_of(&cm, "iso27001-2022", "A.5.15").await;
        assert_eq!(iso, "implemented", "{reasons:?}");

        let props = proposals(&detail);
        let cc61 = props
            .iter()
            .find(|p| p.0 == "soc2-tsc-2017" && p.1 == "CC6.1")
            .unwrap_or_else(|| panic!("no CC6.1 proposal in {props:?}"));
        assert_eq!(
            cc61.2, "partial",
            "intersects-with implies partial coverage"
        );
        let csf: Vec<_> = props.iter().filter(|p| p.0 == "nist-csf-2.0").collect();
        assert!(!csf.is_empty(), "no CSF 2.0 proposal in {props:?}");
        let p0 = &detail["proposals"][0];
        assert!(
            p0["provenance"].as_str().is_some_and(|s| !s.is_empty()),
            "a proposal says where it comes from: {p0}"
        );

        // Proposals are not coverage until a person accepts them.
        let (still, _) = status_of(&cm, "soc2-tsc-2017", "CC6.1").await;
        assert_eq!(still, "not-covered");

        for (fw, req, _) in props
            .iter()
            .filter(|p| p.0 == "soc2-tsc-2017" || p.0 == "nist-csf-2.0")
        {
            json_of(
                cm.api(
                    Method::POST,
                    &format!("/api/v1/controls/{id}/proposals"),
                    Some(json!({"framework": fw, "requirement": req, "accept": true})),
                )
                .await,
                StatusCode::NO_CONTENT,
            )
            .await;
        }
        let (after, reasons) = status_of(&cm, "soc2-tsc-2017", "CC6.1").await;
        assert_eq!(after, "partial", "{reasons:?}");
        assert!(
            reasons.iter().any(|r| r.contains("AC-01")),
            "the reasons name the control: {reasons:?}"
        );
        let (csf_fw, csf_req, _) = csf[0];
        let (after_csf, _) = status_of(&cm, csf_fw, csf_req).await;
        assert_ne!(after_csf, "not-covered");

        let detail = json_of(
            cm.api(Method::GET, &format!("/api/v1/controls/{id}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        let accepted = detail["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["requirement"] == "CC6.1")
            .expect("accepted link")
            .clone();
        assert_eq!(accepted["origin"], "proposal");
        assert!(accepted["via"].as_str().unwrap().contains("A.5.15"));
        assert!(
            proposals(&detail)
                .iter()
                .all(|p| p.0 != "soc2-tsc-2017" || p.1 != "CC6.1")
        );

        // A rejected proposal is not proposed again (on a second control).
        let req = "CC6.2";
        let other = new_control(&cm, "AC-02", "planned").await;
        let d2 = link(&cm, &other, "iso27001-2022", "A.5.15").await;
        assert!(proposals(&d2).iter().any(|p| p.1 == req));
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/controls/{other}/proposals"),
                Some(json!({"framework": "soc2-tsc-2017", "requirement": req, "accept": false})),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let d2 = json_of(
            cm.api(Method::GET, &format!("/api/v1/controls/{other}"), None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            !proposals(&d2).iter().any(|p| p.1 == req),
            "a rejected proposal came back"
        );

        // The overview has a line per framework in use.
        let all = json_of(
            cm.api(Method::GET, "/api/v1/coverage", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    }
);

server_test!(
    control_owners_change_only_their_own_controls,
    |srv: TestServer| async move {
        let org = srv.org("Owners").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let owner = srv.sign_in(org.email(Role::ControlOwner), PASSWORD).await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let id = new_control(&cm, "OPS-1", "planned").await;

        // Not theirs: refused.
        let r = owner
            .api(
                Method::POST,
                &format!("/api/v1/controls/{id}/links"),
                Some(json!({"framework": "iso27001-2022", "requirement": "A.8.13"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = owner
            .api(
                Method::POST,
                "/api/v1/controls",
                Some(json!({"ref": "X-1", "title": "Mine"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = viewer
            .api(
                Method::POST,
                &format!("/api/v1/controls/{id}/links"),
                Some(json!({"framework": "iso27001-2022", "requirement": "A.8.13"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // Once it is theirs, they may link it.
        let me = json_of(
            owner.api(Method::GET, "/api/v1/me", None).await,
            StatusCode::OK,
        )
        .await;
        let owner_id = me["user_id"].as_str().expect("own id").to_owned();
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/controls/{id}"),
                Some(json!({"ref": "OPS-1", "title": "Backups", "owner_id": owner_id})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        link(&owner, &id, "iso27001-2022", "A.8.13").await;

        // Linking to a requirement that does not exist names it.
        let r = cm
            .api(
                Method::POST,
                &format!("/api/v1/controls/{id}/links"),
                Some(json!({"framework": "iso27001-2022", "requirement": "A.9.99"})),
            )
            .await;
        assert!(r.status().is_client_error());
        let body = r.text().await.unwrap();
        assert!(body.contains("A.9.99"), "{body}");
    }
);

async fn import(b: &Browser, files: &[(&str, &[u8])]) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in files {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    b.client
        .post(format!("{}/api/v1/frameworks/import", b.url))
        .header("x-csrf-token", &b.csrf)
        .multipart(form)
        .send()
        .await
        .expect("import")
}

async fn framework_ids(b: &Browser) -> Vec<String> {
    json_of(
        b.api(Method::GET, "/api/v1/frameworks", None).await,
        StatusCode::OK,
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|f| f["id"].as_str().unwrap().to_owned())
    .collect()
}

const GOOD_YAML: &str = "id: acme-baseline\nname: Acme baseline\nversion: \"1\"\npublisher: Acme\nrequirements:\n  - id: AB-1\n    kind: control\n    title: Inventory\n  - id: AB-1.1\n    parent: AB-1\n    kind: control\n    title: Owners recorded\n";

server_test!(
    imports_are_all_or_nothing_and_list_every_problem,
    |srv: TestServer| async move {
        let org = srv.org("Importer").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let before = framework_ids(&cm).await;

        let bad_yaml = "id: broken\nname: Broken\nversion: \"1\"\npublisher: Acme\nrequirements:\n  - id: B-1\n    title: One\n  - id: B-1\n    title: Again\n  - id: B-2\n    parent: B-9\n    title: Orphan\n";
        let r = import(
            &cm,
            &[
                ("good.yaml", GOOD_YAML.as_bytes()),
                ("bad.yaml", bad_yaml.as_bytes()),
            ],
        )
        .await;
        let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let problems = body["error"]["problems"].as_array().expect("problems");
        let text = body.to_string();
        assert!(problems.len() >= 2, "{body}");
        assert!(text.contains("B-1") && text.contains("B-9"), "{body}");
        assert!(
            problems
                .iter()
                .all(|p| p["at"].as_str().is_some_and(|a| !a.is_empty())),
            "every problem says where: {body}"
        );
        assert_eq!(
            framework_ids(&cm).await,
            before,
            "nothing imported, not even the good file"
        );

        // Malformed OSCAL, a spreadsheet that is not one, and a profile without its catalog.
        for (name, bytes) in [
            ("cat.json", &b"{\"catalog\": {\"uuid\": 12"[..]),
            ("sheet.xlsx", &b"PK\x03\x04 not really a zip"[..]),
            (
                "profile.json",
                &br#"{"profile": {"uuid": "7f6c1f4e-6d1e-4d59-9f3f-5c6f2b1f0a11", "metadata": {"title": "P", "last-modified": "2026-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"}, "imports": [{"href": "missing_catalog.json", "include-all": {}}]}}"#[..],
            ),
        ] {
            let r = import(&cm, &[(name, bytes)]).await;
            let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(
                body["error"]["problems"]
                    .as_array()
                    .is_some_and(|p| !p.is_empty()),
                "{name}: {body}"
            );
        }
        assert_eq!(framework_ids(&cm).await, before);

        // A CSV with a cycle.
        let csv = "id,parent,title\nC-1,C-2,One\nC-2,C-1,Two\n";
        let body = json_of(
            import(&cm, &[("cycle.csv", csv.as_bytes())]).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body.to_string().to_lowercase().contains("cycle"), "{body}");

        // The good file alone imports; importing it again is a conflict.
        let done = json_of(
            import(&cm, &[("good.yaml", GOOD_YAML.as_bytes())]).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            done[0]["requirement_count"], 1,
            "AB-1 has a child, so only AB-1.1 is assessed: {done}"
        );
        assert!(framework_ids(&cm).await.contains(&"acme-baseline".into()));
        let r = import(&cm, &[("good.yaml", GOOD_YAML.as_bytes())]).await;
        assert!(r.status().is_client_error(), "{}", r.status());

        // Another organisation does not see it.
        let other = srv.org("Elsewhere").await;
        let ocm = srv
            .sign_in(other.email(Role::ComplianceManager), PASSWORD)
            .await;
        assert!(!framework_ids(&ocm).await.contains(&"acme-baseline".into()));
        let r = ocm
            .api(Method::GET, "/api/v1/frameworks/acme-baseline", None)
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // Exports: CSV and XLSX of the imported one, OSCAL of a built-in profile.
        let csv = cm
            .get("/api/v1/frameworks/acme-baseline/export?format=csv")
            .await;
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(
            csv.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("attachment")
        );
        let text = csv.text().await.unwrap();
        assert!(text.contains("AB-1.1"), "{text}");
        let xlsx = cm
            .get("/api/v1/frameworks/acme-baseline/export?format=xlsx")
            .await;
        assert_eq!(xlsx.status(), StatusCode::OK);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
        let oscal = json_of(
            cm.get("/api/v1/frameworks/nist-800-53r5-moderate/export?format=oscal")
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(oscal["catalog"]["uuid"].is_string());
        let r = cm
            .get("/api/v1/frameworks/acme-baseline/export?format=pdf")
            .await;
        assert!(r.status().is_client_error());
    }
);

server_test!(
    derived_crosswalk_links_need_review_until_confirmed,
    |srv: TestServer| async move {
        let org = srv.org("Walker").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let cw = json_of(
            cm.api(
                Method::GET,
                "/api/v1/crosswalk?from=nist-csf-2.0&to=soc2-tsc-2017",
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(cw["direct"], false);
        let links = cw["links"].as_array().unwrap();
        assert!(!links.is_empty());
        assert!(links.iter().all(|l| l["origin"] == "derived"
            && l["review"] == "needs-review"
            && l["provenance"].as_str().unwrap().contains("iso27001-2022")));
        let first = links[0].clone();
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/crosswalk/reviews",
                Some(json!({
                    "from": "nist-csf-2.0", "source": first["source"],
                    "to": "soc2-tsc-2017", "target": first["target"],
                    "decision": "confirm", "relationship": "intersects-with",
                    "note": "checked by the security team"
                })),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let cw = json_of(
            cm.api(
                Method::GET,
                "/api/v1/crosswalk?from=nist-csf-2.0&to=soc2-tsc-2017",
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let again = cw["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["source"] == first["source"] && l["target"] == first["target"])
            .unwrap()
            .clone();
        assert_eq!(again["review"], "confirmed");
        assert_eq!(again["rel"], "intersects-with");
        let me = json_of(
            cm.api(Method::GET, "/api/v1/me", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            again["reviewed_by"].as_str().unwrap(),
            format!("user:{}", me["user_id"].as_str().unwrap()),
            "{again}"
        );
        assert!(again["reviewed_at"].is_string());

        // Shipped links say who published them.
        let cw = json_of(
            cm.api(
                Method::GET,
                "/api/v1/crosswalk?from=nist-csf-2.0&to=iso27001-2022",
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(cw["direct"], true);
        assert!(cw["links"].as_array().unwrap().iter().all(
            |l| l["origin"] == "shipped" && l["provenance"].as_str().unwrap().contains("NIST")
        ));

        // A bad decision and an unknown requirement are refused.
        let r = cm
            .api(
                Method::POST,
                "/api/v1/crosswalk/reviews",
                Some(json!({
                    "from": "nist-csf-2.0", "source": "XX.YY-99",
                    "to": "soc2-tsc-2017", "target": "CC6.1", "decision": "confirm",
                    "relationship": "equal"
                })),
            )
            .await;
        assert!(r.status().is_client_error());
        let r = cm
            .api(
                Method::POST,
                "/api/v1/crosswalk/reviews",
                Some(json!({
                    "from": "nist-csf-2.0", "source": first["source"],
                    "to": "soc2-tsc-2017", "target": first["target"], "decision": "maybe"
                })),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

server_test!(
    the_2013_to_2022_migration_carries_links_over,
    |srv: TestServer| async move {
        let org = srv.org("Upgrader").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let id = new_control(&cm, "BK-1", "implemented").await;
        link(&cm, &id, "iso27001-2013", "A.12.3.1").await;
        let m = json_of(
            cm.api(
                Method::GET,
                "/api/v1/migration?from=iso27001-2013&to=iso27001-2022",
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let carried = m["carried"].as_array().unwrap();
        assert!(
            carried
                .iter()
                .any(|c| c["control_ref"] == "BK-1" && c["to"] == "A.8.13"),
            "{m}"
        );
        let new: Vec<&str> = m["new_requirements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap())
            .collect();
        assert_eq!(new.len(), 11, "the 11 controls new in 2022: {new:?}");
        for c in ["A.5.7", "A.5.23", "A.8.28"] {
            assert!(new.contains(&c), "{c} is new in 2022: {new:?}");
        }
        let applied = json_of(
            cm.api(
                Method::POST,
                "/api/v1/migration/apply?from=iso27001-2013&to=iso27001-2022",
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(applied["links_added"].as_u64().unwrap() >= 1);
        let (st, _) = status_of(&cm, "iso27001-2022", "A.8.13").await;
        assert_eq!(st, "implemented");
    }
);
