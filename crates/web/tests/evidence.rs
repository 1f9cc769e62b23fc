//! Evidence through the real server, on both backends: streamed uploads, sniffing, names,
//! deduplication, downloads, versions, legal hold and disposal, freshness and coverage,
//! period gaps, paging, and the bad inputs that must leave nothing behind.

use attest_domain::role::Role;
use attest_testkit::{Backend, Browser, PASSWORD, TestServer, json_of, server_test};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

async fn control(b: &Browser, reference: &str, frequency: &str) -> String {
    let c = json_of(
        b.api(
            Method::POST,
            "/api/v1/controls",
            Some(
                json!({"ref": reference, "title": format!("Control {reference}"),
                        "frequency": frequency, "status": "implemented"}),
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    c["id"].as_str().unwrap().to_owned()
}

fn form(title: &str, controls: &str, extra: &[(&str, &str)], name: &str, bytes: Vec<u8>) -> Form {
    let mut f = Form::new()
        .text("title", title.to_owned())
        .text("controls", controls.to_owned());
    for (k, v) in extra {
        f = f.text(k.to_string(), v.to_string());
    }
    f.part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("text/html")
            .unwrap(),
    )
}

async fn upload(b: &Browser, path: &str, f: Form) -> reqwest::Response {
    b.client
        .post(format!("{}{path}", b.url))
        .header("x-csrf-token", &b.csrf)
        .multipart(f)
        .send()
        .await
        .unwrap()
}

/// Files under the blob directory (content addresses and anything else).
fn blob_files(srv: &TestServer) -> Vec<std::path::PathBuf> {
    attest_testkit::files_under(srv.blob_dir.path())
}

async fn items(b: &Browser, query: &str) -> Vec<Value> {
    let page = json_of(
        b.api(Method::GET, &format!("/api/v1/evidence{query}"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

/// Every title of a filtered list, two per page, following the cursors.
async fn all_pages(b: &Browser, filter: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = json_of(
            b.api(
                Method::GET,
                &format!("/api/v1/evidence?limit=2{filter}{cursor}"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        for e in page["items"].as_array().unwrap() {
            seen.push(e["title"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => return seen,
        }
    }
}

async fn a_5_15(b: &Browser) -> (String, String) {
    let cov = json_of(
        b.api(Method::GET, "/api/v1/coverage/iso27001-2022", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let r = cov["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "A.5.15")
        .unwrap()
        .clone();
    (
        r["status"].as_str().unwrap().to_owned(),
        r["reasons"].to_string(),
    )
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

server_test!(
    files_upload_sniff_dedupe_and_download,
    |srv: TestServer| async move {
        let org = srv.org("Files").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let c = control(&cm, "BK-1", "quarterly").await;

        let e = json_of(
            upload(
                &cm,
                "/api/v1/evidence/files",
                form(
                    "Backup restore test",
                    &c,
                    &[
                        ("effective_from", "2026-10-01"),
                        ("collected_on", "2026-10-02"),
                    ],
                    "../../etc/restore test.txt",
                    PDF.to_vec(),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let sha = hex::encode(Sha256::digest(PDF));
        assert_eq!(e["sha256"], sha);
        assert_eq!(
            e["content_type"], "application/pdf",
            "sniffed, not declared"
        );
        assert_eq!(e["file_name"], "restore test.txt");
        assert_eq!(e["effective_from"], "2026-10-01");
        assert_eq!(e["collected_on"], "2026-10-02");
        assert_eq!(e["source"], "manual");
        assert_eq!(e["version"], 1);

        // The same bytes again: a second item, one blob.
        let again = json_of(
            upload(
                &cm,
                "/api/v1/evidence/files",
                form(
                    "Same file",
                    &c,
                    &[("sha256", &sha)],
                    "copy.pdf",
                    PDF.to_vec(),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(again["sha256"], sha);
        let files = blob_files(&srv);
        assert_eq!(files.len(), 1, "{files:?}");

        let id = e["id"].as_str().unwrap();
        let r = cm.get(&format!("/api/v1/evidence/{id}/file")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "application/pdf");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(
            cd.starts_with("attachment;") && cd.contains("restore test.txt"),
            "{cd}"
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

        // HTML is served as an attachment, never inline.
        let html = json_of(
            upload(
                &cm,
                "/api/v1/evidence/files",
                form(
                    "Page",
                    &c,
                    &[],
                    "x.html",
                    b"<html><script>alert(1)</script></html>".to_vec(),
                ),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let r = cm
            .get(&format!(
                "/api/v1/evidence/{}/file",
                html["id"].as_str().unwrap()
            ))
            .await;
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );

        // Another organisation sees none of it.
        let other = srv.org("Others").await;
        let ocm = srv
            .sign_in(other.email(Role::ComplianceManager), PASSWORD)
            .await;
        assert_eq!(
            ocm.get(&format!("/api/v1/evidence/{id}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ocm.get(&format!("/api/v1/evidence/{id}/file"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert!(items(&ocm, "").await.is_empty());
        // Nor can it attach evidence to this organisation's control.
        let r = upload(
            &ocm,
            "/api/v1/evidence/files",
            form("Sneaky", &c, &[], "a.txt", b"x".to_vec()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

server_test!(
    bad_uploads_leave_nothing_behind,
    |srv: TestServer| async move {
        let org = srv.org("Bad").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let c = control(&cm, "X-1", "monthly").await;

        // A wrong declared hash.
        let r = upload(
            &cm,
            "/api/v1/evidence/files",
            form(
                "Wrong hash",
                &c,
                &[("sha256", &"00".repeat(32))],
                "a.pdf",
                PDF.to_vec(),
            ),
        )
        .await;
        let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["error"]["field"], "sha256", "{body}");

        // No title, no controls, bad dates, unknown field, file not last.
        for (extra, field) in [
            (vec![("effective_from", "2026-13-01")], "effective_from"),
            (
                vec![
                    ("effective_from", "2026-05-01"),
                    ("effective_until", "2026-04-01"),
                ],
                "effective_until",
            ),
            (vec![("colour", "blue")], "colour"),
        ] {
            let r = upload(
                &cm,
                "/api/v1/evidence/files",
                form("Dates", &c, &extra, "a.pdf", PDF.to_vec()),
            )
            .await;
            let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(body["error"]["field"], field, "{body}");
        }
        let r = upload(
            &cm,
            "/api/v1/evidence/files",
            form("", &c, &[], "a.pdf", PDF.to_vec()),
        )
        .await;
        assert_eq!(
            json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await["error"]["field"],
            "title"
        );
        let r = upload(
            &cm,
            "/api/v1/evidence/files",
            Form::new()
                .text("controls", c.clone())
                .part("file", Part::bytes(PDF.to_vec()).file_name("a.pdf"))
                .text("title", "after the file"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // A truncated body: the multipart never ends.
        let boundary = "XyZbOuNdArY";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nCut\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"controls\"\r\n\r\n{c}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.bin\"\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&[7u8; 100_000]);
        let r = cm
            .client
            .post(format!("{}/api/v1/evidence/files", cm.url))
            .header("x-csrf-token", &cm.csrf)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());

        // Endless repeated fields before the file are cut off.
        let mut f = Form::new().text("title", "Many");
        for _ in 0..300 {
            f = f.text("controls", "x".repeat(1000));
        }
        let f = f.part("file", Part::bytes(PDF.to_vec()).file_name("a.pdf"));
        let r = upload(&cm, "/api/v1/evidence/files", f).await;
        let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("256 KiB"),
            "{body}"
        );

        assert!(items(&cm, "?all_versions=true").await.is_empty());
        assert!(blob_files(&srv).is_empty(), "{:?}", blob_files(&srv));

        // A viewer cannot upload; a control owner only to their own controls.
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        let r = upload(
            &viewer,
            "/api/v1/evidence/files",
            form("Viewer", &c, &[], "a.pdf", PDF.to_vec()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let co = srv.sign_in(org.email(Role::ControlOwner), PASSWORD).await;
        let r = upload(
            &co,
            "/api/v1/evidence/files",
            form("Not mine", &c, &[], "a.pdf", PDF.to_vec()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_refused_whole() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(srv) = TestServer::start_configured(backend, |c| c.upload_limit = 64 * 1024).await
        else {
            continue;
        };
        let org = srv.org("Limit").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let c = control(&cm, "L-1", "annual").await;
        let r = upload(
            &cm,
            "/api/v1/evidence/files",
            form("Big", &c, &[], "big.bin", vec![1u8; 200 * 1024]),
        )
        .await;
        let body = json_of(r, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(body["error"]["code"], "too_large", "{body}");
        assert!(items(&cm, "").await.is_empty());
        assert!(blob_files(&srv).is_empty());
        // Just under the limit is fine.
        json_of(
            upload(
                &cm,
                "/api/v1/evidence/files",
                form("Small", &c, &[], "ok.bin", vec![1u8; 60 * 1024]),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
}

server_test!(
    freshness_drives_coverage_and_the_overdue_lists,
    |srv: TestServer| async move {
        let org = srv.org("Fresh").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        json_of(
            cm.api(
                Method::PUT,
                "/api/v1/frameworks/iso27001-2022/use",
                Some(json!({"in_use": true})),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let c = control(&cm, "AC-1", "quarterly").await;
        json_of(
            cm.api(
                Method::POST,
                &format!("/api/v1/controls/{c}/links"),
                Some(json!({"framework": "iso27001-2022", "requirement": "A.5.15"})),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let (s, why) = a_5_15(&cm).await;
        assert_eq!(s, "partial", "{why}");
        assert!(why.contains("no evidence covering today"), "{why}");
        let overdue = json_of(
            cm.api(Method::GET, "/api/v1/evidence/overdue", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(overdue[0]["control_ref"], "AC-1");
        assert_eq!(overdue[0]["state"], "missing");

        // Old evidence: overdue since the day after it stopped covering.
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(json!({"title": "Q1 access review", "controls": [c],
                    "url": "https://wiki.example/reviews/q1",
                    "collected_on": "2025-01-05", "effective_from": "2025-01-01"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let overdue = json_of(
            cm.api(Method::GET, "/api/v1/evidence/overdue", None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(overdue[0]["state"], "overdue");
        assert_eq!(overdue[0]["date"], "2025-04-01");

        // Evidence covering today makes it implemented, and due within a quarter.
        let today = attest_domain::Timestamp::now().date();
        let rec = json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(json!({"title": "Access review export", "controls": [c],
                    "record": {"reviewed": 42, "revoked": 3},
                    "source": "automated"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(rec["kind"], "record");
        assert_eq!(rec["source"], "automated");
        assert_eq!(rec["effective_from"], today.to_string());
        let (s, why) = a_5_15(&cm).await;
        assert_eq!(s, "implemented", "{why}");
        let overdue = json_of(
            cm.api(Method::GET, "/api/v1/evidence/overdue", None).await,
            StatusCode::OK,
        )
        .await;
        assert!(overdue.as_array().unwrap().is_empty(), "{overdue}");
        let due30 = json_of(
            cm.api(Method::GET, "/api/v1/evidence/due?days=30", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(due30.as_array().unwrap().is_empty(), "{due30}");
        let due = json_of(
            cm.api(Method::GET, "/api/v1/evidence/due?days=120", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(due[0]["control_ref"], "AC-1", "{due}");

        // A period with a gap.
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(json!({"title": "H2 review", "controls": [c], "url": "https://wiki.example/h2",
                    "collected_on": "2025-07-02", "effective_from": "2025-05-01", "effective_until": "2025-12-31"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let p = json_of(
            cm.api(
                Method::GET,
                &format!("/api/v1/evidence/period?start=2025-01-01&end=2025-12-31&control={c}"),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            p[0]["coverage"]["gaps"],
            json!([{"start": "2025-04-01", "end": "2025-04-30"}]),
            "{p}"
        );
        assert_eq!(p[0]["evidence"].as_array().unwrap().len(), 2);
        let r = cm
            .api(
                Method::GET,
                "/api/v1/evidence/period?start=2025-12-31&end=2025-01-01",
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

server_test!(versions_hold_and_disposal, |srv: TestServer| async move {
    let org = srv.org("Keep").await;
    let cm = srv
        .sign_in(org.email(Role::ComplianceManager), PASSWORD)
        .await;
    let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
    let c = control(&cm, "LG-1", "annual").await;
    let v1 = json_of(
        upload(
            &cm,
            "/api/v1/evidence/files",
            form(
                "Logging config",
                &c,
                &[],
                "log.txt",
                b"retention = 30d\n".to_vec(),
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id1 = v1["id"].as_str().unwrap().to_owned();
    let v2 = json_of(
        upload(
            &cm,
            &format!("/api/v1/evidence/{id1}/versions/files"),
            form(
                "Logging config",
                &c,
                &[],
                "log.txt",
                b"retention = 90d\n".to_vec(),
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["supersedes"], id1.as_str());
    assert_eq!(v2["lineage_id"], id1.as_str());
    let id2 = v2["id"].as_str().unwrap().to_owned();
    // Correcting the old version again is refused; the old one stays readable.
    let r = upload(
        &cm,
        &format!("/api/v1/evidence/{id1}/versions/files"),
        form("Fork", &c, &[], "log.txt", b"x".to_vec()),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let listed: Vec<String> = items(&cm, "")
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, vec![id2.clone()]);
    assert_eq!(items(&cm, "?all_versions=true").await.len(), 2);
    let detail = json_of(
        cm.get(&format!("/api/v1/evidence/{id1}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["versions"].as_array().unwrap().len(), 2);
    assert_eq!(detail["evidence"]["superseded_by"], id2.as_str());
    assert_eq!(
        cm.get(&format!("/api/v1/evidence/{id1}/file"))
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        b"retention = 30d\n"
    );

    // Legal hold blocks disposal; only an owner disposes.
    json_of(
        cm.api(
            Method::POST,
            &format!("/api/v1/evidence/{id2}/legal-hold"),
            Some(json!({"on": true, "reason": "litigation 2026-17"})),
        )
        .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let r = cm
        .api(
            Method::POST,
            &format!("/api/v1/evidence/{id2}/dispose"),
            Some(json!({"reason": "tidy"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = owner
        .api(
            Method::POST,
            &format!("/api/v1/evidence/{id2}/dispose"),
            Some(json!({"reason": "tidy"})),
        )
        .await;
    let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["error"]["rule"], "legal-hold", "{body}");
    assert_eq!(blob_files(&srv).len(), 2);
    json_of(
        owner
            .api(
                Method::POST,
                &format!("/api/v1/evidence/{id1}/legal-hold"),
                Some(json!({"on": false, "reason": "case closed"})),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    json_of(
        owner
            .api(
                Method::POST,
                &format!("/api/v1/evidence/{id2}/dispose"),
                Some(json!({"reason": "past retention"})),
            )
            .await,
        StatusCode::NO_CONTENT,
    )
    .await;
    assert!(blob_files(&srv).is_empty(), "{:?}", blob_files(&srv));
    assert_eq!(
        cm.get(&format!("/api/v1/evidence/{id1}/file"))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let detail = json_of(
        cm.get(&format!("/api/v1/evidence/{id2}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(detail["evidence"]["disposed_at"].is_string());
    assert_eq!(detail["evidence"]["disposal_reason"], "past retention");

    // Every step is in the trail, and it verifies.
    let trail = srv
        .app
        .audit_entries(
            &attest_app::Caller::cli(Some(org.id)),
            &attest_store::audit::EntryFilter {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "evidence.add",
        "evidence.correct",
        "evidence.hold",
        "evidence.release",
        "evidence.dispose",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
});

server_test!(paging_and_filters, |srv: TestServer| async move {
    let org = srv.org("Pages").await;
    let cm = srv
        .sign_in(org.email(Role::ComplianceManager), PASSWORD)
        .await;
    let a = control(&cm, "P-1", "monthly").await;
    let b = control(&cm, "P-2", "monthly").await;
    // Item i covers a period that starts (5 - i) months into 2025: the later an item was
    // uploaded, the earlier the period it covers, so the two orders differ.
    for i in 0..5 {
        let ctl = if i % 2 == 0 { &a } else { &b };
        json_of(
            cm.api(
                Method::POST,
                "/api/v1/evidence",
                Some(json!({"title": format!("Item {i}"), "controls": [ctl],
                    "url": format!("https://x.example/{i}"),
                    "effective_from": format!("2025-{:02}-01", 5 - i),
                    "effective_until": "2025-12-31"})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    assert_eq!(
        all_pages(&cm, "").await,
        ["Item 4", "Item 3", "Item 2", "Item 1", "Item 0"]
    );
    // Evidence of one control, and of a control set, page through each control's links.
    assert_eq!(
        all_pages(&cm, &format!("&control={a}")).await,
        ["Item 4", "Item 2", "Item 0"]
    );
    let me = json_of(
        cm.api(Method::GET, "/api/v1/me", None).await,
        StatusCode::OK,
    )
    .await;
    let owner_id = me["user_id"].as_str().unwrap().to_owned();
    for (c, r) in [(&a, "P-1"), (&b, "P-2")] {
        json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/controls/{c}"),
                Some(
                    json!({"ref": r, "title": format!("Control {r}"), "frequency": "monthly",
                    "status": "implemented", "owner_id": owner_id}),
                ),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    assert_eq!(
        all_pages(&cm, &format!("&owner={owner_id}")).await,
        ["Item 4", "Item 3", "Item 2", "Item 1", "Item 0"]
    );
    // Filtered by a day, the list is ordered by the period covered, latest first.
    assert_eq!(
        all_pages(&cm, "&effective_on=2025-06-01").await,
        ["Item 0", "Item 1", "Item 2", "Item 3", "Item 4"]
    );
    assert_eq!(
        all_pages(&cm, "&effective_on=2025-03-15").await,
        ["Item 2", "Item 3", "Item 4"]
    );
    assert_eq!(
        all_pages(&cm, &format!("&effective_on=2025-06-01&control={b}")).await,
        ["Item 1", "Item 3"]
    );
    // A cursor of one order does not page the other.
    let first = json_of(
        cm.api(Method::GET, "/api/v1/evidence?limit=2", None).await,
        StatusCode::OK,
    )
    .await;
    let next = first["next"].as_str().unwrap();
    let r = cm
        .api(
            Method::GET,
            &format!("/api/v1/evidence?limit=2&effective_on=2025-06-01&cursor={next}"),
            None,
        )
        .await;
    let body = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body.to_string().contains("cursor"), "{body}");
    assert_eq!(items(&cm, &format!("?control={a}")).await.len(), 3);
    assert_eq!(items(&cm, "?q=item%203").await.len(), 1);
    // Case does not matter, and a wildcard character is matched as itself.
    assert_eq!(items(&cm, "?q=ITEM%203").await.len(), 1);
    assert_eq!(items(&cm, "?q=item%25").await.len(), 0);
    assert_eq!(items(&cm, "?q=tem").await.len(), 5);
    let r = cm.api(Method::GET, "/api/v1/evidence?limit=0", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = cm
        .api(Method::GET, "/api/v1/evidence?cursor=garbage", None)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = cm
        .api(
            Method::POST,
            "/api/v1/evidence",
            Some(json!({"title": "Both", "controls": [a], "url": "https://x", "record": {}})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = cm
        .api(
            Method::POST,
            "/api/v1/evidence",
            Some(json!({"title": "Script", "controls": [a], "url": "javascript:alert(1)"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

server_test!(
    retention_rule_disposes_what_is_past_it,
    |srv: TestServer| async move {
        let org = srv.org("Keeper").await;
        let owner = srv.sign_in(org.email(Role::Owner), PASSWORD).await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let c = control(&owner, "K-1", "annual").await;
        let add = |title: &'static str, from: &'static str, until: &'static str| {
            let owner = &owner;
            let c = c.clone();
            async move {
                json_of(
                owner
                    .api(
                        Method::POST,
                        "/api/v1/evidence",
                        Some(json!({"title": title, "controls": [c], "url": "https://x.example/r",
                            "collected_on": from, "effective_from": from, "effective_until": until})),
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
            }
        };
        let old = add("Old review", "2019-01-01", "2019-12-31").await;
        let held = add("Old but held", "2019-01-01", "2019-12-31").await;
        let recent = add("Recent review", "2026-01-01", "2026-12-31").await;
        json_of(
            owner
                .api(
                    Method::POST,
                    &format!("/api/v1/evidence/{held}/legal-hold"),
                    Some(json!({"on": true, "reason": "litigation"})),
                )
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;

        // Without a rule there is nothing to apply; a rule under a year is refused; only owners
        // set it.
        let r = owner
            .api(Method::POST, "/api/v1/evidence-retention/apply", None)
            .await;
        json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let r = owner
            .api(
                Method::PUT,
                "/api/v1/evidence-retention",
                Some(json!({"keep_days": 30})),
            )
            .await;
        let e = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(e["error"]["field"], "keep_days", "{e}");
        let r = cm
            .api(
                Method::PUT,
                "/api/v1/evidence-retention",
                Some(json!({"keep_days": 730})),
            )
            .await;
        json_of(r, StatusCode::FORBIDDEN).await;
        json_of(
            owner
                .api(
                    Method::PUT,
                    "/api/v1/evidence-retention",
                    Some(json!({"keep_days": 730})),
                )
                .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let rule = json_of(
            cm.api(Method::GET, "/api/v1/evidence-retention", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(rule["keep_days"], 730);

        // Applying it disposes of the old item only: the held one and the recent one stay.
        let run = json_of(
            owner
                .api(Method::POST, "/api/v1/evidence-retention/apply", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(run["disposed"], json!([old]), "{run}");
        for (id, gone) in [(&old, true), (&held, false), (&recent, false)] {
            let d = json_of(
                cm.get(&format!("/api/v1/evidence/{id}")).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(d["evidence"]["disposed_at"].is_string(), gone, "{id}");
        }
        let old_detail = json_of(
            cm.get(&format!("/api/v1/evidence/{old}")).await,
            StatusCode::OK,
        )
        .await;
        assert!(
            old_detail["evidence"]["disposal_reason"]
                .as_str()
                .unwrap()
                .starts_with("retention rule: kept 730 days")
        );
        // A second run finds nothing more.
        let run = json_of(
            owner
                .api(Method::POST, "/api/v1/evidence-retention/apply", None)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(run["disposed"], json!([]));
    }
);
