//! The trust portal through the real server, on both backends: the demo data set's public
//! pages in English and Korean (query and browser preference), public documents that
//! download without an account, restricted ones that never do, documents and certificates
//! leaving the page by themselves, and the staff side's checks.

use attest_app::Caller;
use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn page(srv: &TestServer, path: &str, accept_language: Option<&str>) -> (StatusCode, String) {
    let mut req = srv.client().get(format!("{}{path}", srv.url));
    if let Some(l) = accept_language {
        req = req.header("accept-language", l);
    }
    let r = req.send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The document links of a page: (id, is it a download link).
fn document_ids(html: &str) -> Vec<String> {
    html.split("/trust/hanbit-cloud/documents/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or("").to_owned())
        .collect()
}

server_test!(
    the_demo_portal_in_english_and_korean,
    |srv: TestServer| async move {
        let demo = srv.app.load_demo().await.unwrap();
        assert_eq!(demo.slug, "hanbit-cloud");
        assert!(matches!(
            srv.app.load_demo().await,
            Err(attest_app::AppError::Conflict { .. })
        ));

        let (s, home) = page(&srv, "/trust/hanbit-cloud", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(home.contains("<html lang=\"en\">"));
        assert!(home.contains("Hanbit Cloud Trust Center"));
        assert!(home.contains("/trust/hanbit-cloud/iso-27001?lang=en"));
        let (_, ko) = page(&srv, "/trust/hanbit-cloud?lang=ko", None).await;
        assert!(ko.contains("<html lang=\"ko\">"));
        assert!(ko.contains("한빛 클라우드 트러스트 센터"));
        assert!(ko.contains("ISO/IEC 27001 정보 보안 관리 표준"));
        let (_, pref) = page(&srv, "/trust/hanbit-cloud", Some("ko-KR,ko;q=0.9,en;q=0.8")).await;
        assert!(pref.contains("한빛 클라우드 트러스트 센터"));

        // The SOC page: reports per family, the cadence, FAQ; the SOC 3 downloads, the SOC 2
        // report does not.
        let (s, soc) = page(&srv, "/trust/hanbit-cloud/soc?lang=ko", None).await;
        assert_eq!(s, StatusCode::OK);
        for want in [
            "적용 대상 서비스",
            "감사 주기",
            "9월 30일",
            "적정 의견",
            "브리지 레터",
            "자주 묻는 질문",
            "Compute",
            "Hanbit Mail",
        ] {
            assert!(soc.contains(want), "the Korean SOC page shows {want}");
        }
        let public = document_ids(&soc);
        assert!(!public.is_empty(), "a public document is linked");
        let r = srv
            .client()
            .get(format!(
                "{}/trust/hanbit-cloud/documents/{}",
                srv.url, public[0]
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));

        let org = attest_store::org::by_slug(srv.app.store(), "hanbit-cloud")
            .await
            .unwrap()
            .unwrap();
        let cli = Caller::cli(Some(org.id));
        let admin = srv.app.portal_admin(&cli).await.unwrap();
        for (d, _, is_public) in &admin.documents {
            let (s, _) = page(
                &srv,
                &format!("/trust/hanbit-cloud/documents/{}", d.id),
                None,
            )
            .await;
            let want = if *is_public {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(s, want, "{} ({})", d.title, d.kind);
        }
        // Guessing: an unknown id, another slug, an unknown offering, all "not found".
        for path in [
            format!("/trust/hanbit-cloud/documents/{}", uuid::Uuid::now_v7()),
            "/trust/nobody".to_owned(),
            "/trust/hanbit-cloud/nothing".to_owned(),
            format!("/trust/nobody/documents/{}", public[0]),
        ] {
            assert_eq!(
                page(&srv, &path, None).await.0,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }

        // The signed manifest lists the current documents; the key is published.
        let (s, m) = page(&srv, "/trust/hanbit-cloud/soc/manifest.json", None).await;
        assert_eq!(s, StatusCode::OK);
        let signed: attest_domain::manifest::SignedManifest = serde_json::from_str(&m).unwrap();
        let (_, key) = page(&srv, "/trust/hanbit-cloud/key", None).await;
        assert_eq!(key.trim(), signed.public_key);
        let listed = attest_domain::manifest::verify(
            &signed,
            Some(key.trim()),
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert!(
            listed
                .documents
                .iter()
                .any(|d| d.id == public[0] && d.public)
        );
        assert!(
            listed.documents.iter().any(|d| !d.public),
            "restricted documents are listed by hash"
        );
        let (s, verify) = page(&srv, "/trust/hanbit-cloud/verify?lang=ko", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(verify.contains(key.trim()) && verify.contains("매니페스트"));
        assert_eq!(
            page(&srv, "/trust/hanbit-cloud/nothing/manifest.json", None)
                .await
                .0,
            StatusCode::NOT_FOUND
        );

        // A withdrawn document and a withdrawn certificate leave the page by themselves.
        let soc3_doc = admin
            .documents
            .iter()
            .find(|(d, _, p)| *p && d.kind == "report")
            .unwrap();
        srv.app
            .withdraw_document(&cli, &soc3_doc.0.engagement_id, &soc3_doc.0.id)
            .await
            .unwrap();
        let (_, soc) = page(&srv, "/trust/hanbit-cloud/soc", None).await;
        assert!(!soc.contains(&soc3_doc.0.id));
        let (_, m) = page(&srv, "/trust/hanbit-cloud/soc/manifest.json", None).await;
        assert!(
            !m.contains(&soc3_doc.0.sha256),
            "the withdrawn document left the manifest"
        );
        assert_eq!(
            page(
                &srv,
                &format!("/trust/hanbit-cloud/documents/{}", soc3_doc.0.id),
                None
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        let (_, iso) = page(&srv, "/trust/hanbit-cloud/iso-27001", None).await;
        assert!(iso.contains("ECL-ISMS-20417"));
        assert!(
            iso.contains("first surveillance audit")
                || iso.contains("second surveillance audit")
                || iso.contains("recertification audit")
        );
        let cert = srv.app.certificates(&cli).await.unwrap().remove(0);
        srv.app
            .set_certificate_state(
                &cli,
                &cert.certificate.id,
                attest_domain::engagement::CertificateState::Withdrawn,
            )
            .await
            .unwrap();
        let (_, iso) = page(&srv, "/trust/hanbit-cloud/iso-27001", None).await;
        assert!(!iso.contains("ECL-ISMS-20417"));
        assert!(
            document_ids(&iso).is_empty(),
            "the certificate's document left with it"
        );

        // A disabled portal answers nothing.
        let mut s = admin.settings.clone();
        s.enabled = false;
        srv.app
            .set_portal_settings(
                &cli,
                attest_app::portal::SettingsInput {
                    enabled: false,
                    name_en: s.name_en,
                    name_ko: s.name_ko,
                    intro_en: s.intro_en,
                    intro_ko: s.intro_ko,
                    colour: s.colour,
                    auto_domains: s.auto_domains,
                    host: s.host.unwrap_or_default(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            page(&srv, "/trust/hanbit-cloud", None).await.0,
            StatusCode::NOT_FOUND
        );
    }
);

server_test!(
    staff_keep_the_portal_and_bad_input_is_refused,
    |srv: TestServer| async move {
        let org = srv.org("Portal Co").await;
        let cm = srv
            .sign_in(org.email(Role::ComplianceManager), PASSWORD)
            .await;
        let viewer = srv.sign_in(org.email(Role::Viewer), PASSWORD).await;
        assert_eq!(
            viewer
                .api(
                    Method::PUT,
                    "/api/v1/portal/settings",
                    Some(json!({"enabled": true, "name_en": "X"}))
                )
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let e = json_of(
            cm.api(
                Method::PUT,
                "/api/v1/portal/settings",
                Some(json!({"enabled": true, "name_en": "Portal Co", "colour": "red"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "colour");
        json_of(
            cm.api(
                Method::PUT,
                "/api/v1/portal/settings",
                Some(json!({"enabled": true, "name_en": "Portal Co", "name_ko": "포털 주식회사"})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        for (key, body, field) in [
            ("Bad Key", json!({"title_en": "X"}), "key"),
            ("soc", json!({"title_en": ""}), "title_en"),
            (
                "soc",
                json!({"title_en": "SOC", "reports": ["soc9"]}),
                "reports",
            ),
            (
                "iso",
                json!({"title_en": "ISO", "reports": ["iso-stage2"]}),
                "reports",
            ),
            ("verify", json!({"title_en": "Taken"}), "key"),
            (
                "soc",
                json!({"title_en": "SOC", "standards": ["iso9001"]}),
                "standards",
            ),
        ] {
            let e = json_of(
                cm.api(
                    Method::PUT,
                    &format!("/api/v1/portal/offerings/{}", key.replace(' ', "%20")),
                    Some(body),
                )
                .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        json_of(
            cm.api(Method::PUT, "/api/v1/portal/offerings/soc", Some(json!({"title_en": "SOC reports", "reports": ["soc2-type2"], "published": false}))).await,
            StatusCode::OK,
        )
        .await;
        let e = json_of(
            cm.api(
                Method::POST,
                "/api/v1/portal/offerings/soc/resources",
                Some(json!({"title_en": "X", "url": "http://plain.example"})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["field"], "url");
        let f = json_of(
            cm.api(Method::POST, "/api/v1/portal/offerings/soc/faqs", Some(json!({"question_en": "<b>Q</b>?", "answer_en": "<script>alert(1)</script> A."}))).await,
            StatusCode::CREATED,
        )
        .await;
        // A draft offering is not public; published, its texts are escaped.
        assert_eq!(
            page(&srv, "/trust/portal-co/soc", None).await.0,
            StatusCode::NOT_FOUND
        );
        json_of(
            cm.api(Method::PUT, "/api/v1/portal/offerings/soc", Some(json!({"title_en": "SOC reports", "reports": ["soc2-type2"], "published": true}))).await,
            StatusCode::OK,
        )
        .await;
        let (s, html) = page(&srv, "/trust/portal-co/soc?lang=ko", None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("포털 주식회사"), "Korean name");
        assert!(
            html.contains("SOC reports"),
            "English title when there is no Korean one"
        );
        assert!(!html.contains("<script>alert(1)</script>") && !html.contains("<b>Q</b>"));
        assert_eq!(
            cm.api(
                Method::DELETE,
                &format!("/api/v1/portal/faqs/{}", f["id"].as_str().unwrap()),
                None
            )
            .await
            .status(),
            StatusCode::NO_CONTENT
        );
        // Documents of an engagement not yet issued are not published.
        let eng = json_of(
            cm.api(Method::POST, "/api/v1/engagements", Some(json!({"kind": "soc2-type2", "firm": "X", "start": "2025-01-01", "end": "2025-12-31"}))).await,
            StatusCode::CREATED,
        )
        .await;
        let form = reqwest::multipart::Form::new()
            .text("kind", "report")
            .text("title", "Draft report")
            .part(
                "file",
                reqwest::multipart::Part::bytes(attest_testkit::pdf()).file_name("r.pdf"),
            );
        let d = json_of(
            cm.client
                .post(format!(
                    "{}/api/v1/engagements/{}/documents",
                    cm.url,
                    eng["id"].as_str().unwrap()
                ))
                .header("x-csrf-token", &cm.csrf)
                .multipart(form)
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        let e = json_of(
            cm.api(
                Method::PUT,
                &format!("/api/v1/portal/documents/{}", d["id"].as_str().unwrap()),
                Some(json!({"published": true})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(e["error"]["rule"], "not-issued");
        // Another organisation's document is not found.
        let other = srv.org("Other Co").await;
        let stranger = srv
            .sign_in(other.email(Role::ComplianceManager), PASSWORD)
            .await;
        assert_eq!(
            stranger
                .api(
                    Method::PUT,
                    &format!("/api/v1/portal/documents/{}", d["id"].as_str().unwrap()),
                    Some(json!({"published": false}))
                )
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
);
