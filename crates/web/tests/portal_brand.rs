//! The trust portal's last pieces through the real server, on both backends: the logo
//! (uploaded by staff, checked, served with its entity tag, refused in every malformed
//! form without changing what was there), a host name of the organisation's own (answering
//! with that portal only; refused when malformed, Attest's own, or another organisation's),
//! bridge letters issued as restricted documents, and penetration test summaries.

use attest_app::Caller;
use attest_domain::role::Role;
use attest_testkit::{PASSWORD, TestServer, json_of, server_test};
use reqwest::{Method, StatusCode};
use serde_json::json;

const SLUG: &str = "hanbit-cloud";

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([15, 118, 110]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG of more than `bytes` bytes (noise does not compress).
fn big_png(bytes: usize) -> Vec<u8> {
    let side = 500u32;
    let mut state = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    let out = out.into_inner();
    assert!(out.len() > bytes, "{} bytes", out.len());
    out
}

async fn staff(srv: &TestServer) -> (attest_testkit::Browser, Caller) {
    srv.app.load_demo().await.unwrap();
    let org = attest_store::org::by_slug(srv.app.store(), SLUG)
        .await
        .unwrap()
        .unwrap();
    let cli = Caller::cli(Some(org.id));
    let link = srv
        .app
        .invite(&cli, "manager@hanbit.example", Role::ComplianceManager)
        .await
        .unwrap()
        .link;
    let token = link.rsplit('/').next().unwrap().to_owned();
    srv.app
        .accept_invitation(
            &Caller::anonymous(None, None),
            &token,
            Some("Manager"),
            Some(PASSWORD),
        )
        .await
        .unwrap();
    (srv.sign_in("manager@hanbit.example", PASSWORD).await, cli)
}

async fn put_logo(b: &attest_testkit::Browser, bytes: Vec<u8>) -> reqwest::Response {
    b.client
        .put(format!("{}/api/v1/portal/logo", b.url))
        .header("x-csrf-token", &b.csrf)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

server_test!(
    the_logo_is_checked_served_and_cached,
    |srv: TestServer| async move {
        let (b, cli) = staff(&srv).await;
        let anon = srv.client();
        let get = |path: String| {
            let anon = anon.clone();
            async move { anon.get(path).send().await.unwrap() }
        };
        let logo_url = format!("{}/trust/{SLUG}/logo", srv.url);
        assert_eq!(get(logo_url.clone()).await.status(), StatusCode::NOT_FOUND);

        let first = png(160, 48);
        let v = json_of(put_logo(&b, first.clone()).await, StatusCode::OK).await;
        assert_eq!(v["logo"][1], "image/png");
        let r = get(logo_url.clone()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(r.bytes().await.unwrap().as_ref(), first.as_slice());
        let again = anon
            .get(&logo_url)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        // Every page of the portal shows it, under an address that changes with it.
        let home = get(format!("{}/trust/{SLUG}", srv.url))
            .await
            .text()
            .await
            .unwrap();
        assert!(home.contains("id=\"portal-logo\""), "{home}");
        let signin = get(format!("{}/trust/{SLUG}/signin?lang=ko", srv.url))
            .await
            .text()
            .await
            .unwrap();
        assert!(signin.contains(&format!("/trust/{SLUG}/logo?v=")));

        // Refused, each with the field and reason, and the logo stays what it was.
        let truncated = {
            let p = png(64, 64);
            p[..p.len() / 2].to_vec()
        };
        let tiny_gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
        for (bytes, status, says) in [
            (
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
                    .to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "PNG or JPEG",
            ),
            (tiny_gif, StatusCode::UNPROCESSABLE_ENTITY, "gif"),
            (truncated, StatusCode::UNPROCESSABLE_ENTITY, "image"),
            (
                png(3000, 10),
                StatusCode::UNPROCESSABLE_ENTITY,
                "at most 2048",
            ),
            (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "PNG or JPEG"),
            (big_png(620 * 1024), StatusCode::PAYLOAD_TOO_LARGE, "limit"),
        ] {
            let r = put_logo(&b, bytes).await;
            assert_eq!(r.status(), status);
            let body = r.text().await.unwrap();
            assert!(body.contains(says), "{says}: {body}");
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                assert!(body.contains("\"logo\""), "the field is named: {body}");
            }
            let now = get(logo_url.clone()).await;
            assert_eq!(now.headers()["etag"].to_str().unwrap(), etag);
        }

        // The staff page shows and takes it; another organisation's staff see nothing of it.
        let page = b.get("/portal").await.text().await.unwrap();
        assert!(page.contains("/portal/logo?v="), "staff see the logo");
        assert_eq!(b.get("/portal/logo").await.status(), StatusCode::OK);
        let other = srv.org("Other Corp").await;
        let o = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        assert_eq!(o.get("/portal/logo").await.status(), StatusCode::NOT_FOUND);
        let r = o
            .client
            .get(format!("{}/trust/{}/logo", srv.url, other.slug))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // A JPEG replaces it through the staff form (multipart); removing it takes it off.
        let mut jpeg = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(40, 40, image::Rgb([200, 10, 10]))
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .unwrap();
        let form = reqwest::multipart::Form::new().part(
            "logo",
            reqwest::multipart::Part::bytes(jpeg.into_inner()).file_name("logo.jpg"),
        );
        let r = b
            .client
            .post(format!("{}/portal/logo?_csrf={}", srv.url, b.csrf))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            get(logo_url.clone()).await.headers()["content-type"],
            "image/jpeg"
        );
        let r = b.post_form("/portal/logo/remove", &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(get(logo_url.clone()).await.status(), StatusCode::NOT_FOUND);
        let home = get(format!("{}/trust/{SLUG}", srv.url))
            .await
            .text()
            .await
            .unwrap();
        assert!(!home.contains("id=\"portal-logo\""));
        let events: Vec<String> = srv
            .app
            .audit_entries(
                &cli,
                &attest_store::audit::EntryFilter {
                    action: Some("portal.logo".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            events.len(),
            3,
            "two logos set and one removal are in the audit trail"
        );
    }
);

server_test!(
    a_portal_answers_on_its_own_host_name,
    |srv: TestServer| async move {
        let (b, _cli) = staff(&srv).await;
        // (This server sends no mail: a forgotten password is a matter for the organisation.)
        let forgot = srv
            .client()
            .get(format!("{}/trust/{SLUG}/forgot", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(forgot.contains("id=\"forgot-closed\""), "{forgot}");
        let admin = json_of(
            b.api(Method::GET, "/api/v1/portal", None).await,
            StatusCode::OK,
        )
        .await;
        let mut settings = admin["settings"].clone();
        let obj = settings.as_object_mut().unwrap();
        for k in ["updated_at", "logo"] {
            obj.remove(k);
        }
        let with_host = |h: &str| {
            let mut s = settings.clone();
            s["host"] = json!(h);
            s
        };
        // Malformed names, Attest's own address and addresses are refused with the field named.
        for bad in [
            "http://trust.example.com",
            "trust",
            "trust.example.com:8443",
            "10.1.2.3",
            "a..b.example",
            "127.0.0.1",
        ] {
            let r = b
                .api(Method::PUT, "/api/v1/portal/settings", Some(with_host(bad)))
                .await;
            let v = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(v["error"]["field"], "host", "{bad}: {v}");
        }
        let v = json_of(
            b.api(
                Method::PUT,
                "/api/v1/portal/settings",
                Some(with_host("Trust.Hanbit.Example")),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["host"], "trust.hanbit.example");

        let on_host = |path: &str| {
            srv.client()
                .get(format!("{}{path}", srv.url))
                .header("host", "trust.hanbit.example")
                .send()
        };
        let home = on_host("/?lang=ko").await.unwrap();
        assert_eq!(home.status(), StatusCode::OK);
        let home = home.text().await.unwrap();
        assert!(home.contains("한빛 클라우드 트러스트 센터"), "{home}");
        let soc = on_host("/soc").await.unwrap();
        assert_eq!(soc.status(), StatusCode::OK);
        assert!(soc.text().await.unwrap().contains("SOC 2 Type 2"));
        assert_eq!(
            on_host(&format!("/trust/{SLUG}/soc"))
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        let signin = on_host("/signin").await.unwrap();
        assert_eq!(signin.status(), StatusCode::OK);
        // Nothing but that portal answers there: no staff page, no API, no other portal.
        let other = srv.org("Other Corp").await;
        for path in [
            "/login".to_owned(),
            "/api/v1/portal".to_owned(),
            "/portal".to_owned(),
            format!("/trust/{}", other.slug),
            "/trust/nobody/soc".to_owned(),
        ] {
            let r = on_host(&path).await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        }
        // The shared assets are served.
        let css = home
            .split("href=\"")
            .find_map(|s| s.split('"').next().filter(|h| h.starts_with("/assets/")))
            .unwrap()
            .to_owned();
        assert_eq!(on_host(&css).await.unwrap().status(), StatusCode::OK);

        // Another organisation cannot take the name.
        let o = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        let r = o
            .api(
                Method::PUT,
                "/api/v1/portal/settings",
                Some(json!({"enabled": true, "name_en": "Other", "host": "trust.hanbit.example"})),
            )
            .await;
        let v = json_of(r, StatusCode::CONFLICT).await;
        assert_eq!(v["error"]["field"], "host");
        // Two organisations claiming one name at the same moment: the database keeps one.
        let third = srv.org("Third Corp").await;
        let (a, b2) = (Caller::cli(Some(other.id)), Caller::cli(Some(third.id)));
        let (x, y) = tokio::join!(
            srv.app.set_portal_host(&a, "race.example"),
            srv.app.set_portal_host(&b2, "race.example")
        );
        let won = [x.is_ok(), y.is_ok()];
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{x:?} {y:?}");
        for r in [x, y] {
            if let Err(e) = r {
                assert!(
                    matches!(e, attest_app::AppError::Conflict { ref field, .. } if field == "host"),
                    "{e}"
                );
            }
        }
        // An unknown name is Attest as usual; a switched-off portal's name answers nothing.
        let r = srv
            .client()
            .get(format!("{}/login", srv.url))
            .header("host", "unknown.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let mut off = with_host("trust.hanbit.example");
        off["enabled"] = json!(false);
        json_of(
            b.api(Method::PUT, "/api/v1/portal/settings", Some(off))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(on_host("/").await.unwrap().status(), StatusCode::NOT_FOUND);
    }
);

server_test!(
    bridge_letters_and_pentest_summaries_are_restricted_documents,
    |srv: TestServer| async move {
        let (b, cli) = staff(&srv).await;
        // The demo issued the platform SOC 2's letter as a document and published it, and
        // published a penetration test summary.
        let admin = srv.app.portal_admin(&cli).await.unwrap();
        let kinds: Vec<(&str, bool)> = admin
            .documents
            .iter()
            .map(|(d, _, public)| (d.kind.as_str(), *public))
            .collect();
        assert!(kinds.contains(&("bridge-letter", false)), "{kinds:?}");
        assert!(kinds.contains(&("pentest-summary", false)), "{kinds:?}");
        let soc = srv
            .client()
            .get(format!("{}/trust/{SLUG}/soc", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(soc.contains("Bridge letter "), "the letter is listed");
        assert!(soc.contains("Penetration test · "), "the test is listed");
        assert!(soc.contains("Example Offensive Security Ltd"));
        let ko = srv
            .client()
            .get(format!("{}/trust/{SLUG}/soc?lang=ko", srv.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(ko.contains("모의해킹(침투 테스트)"));
        for (d, _, _) in admin
            .documents
            .iter()
            .filter(|(d, _, _)| d.kind == "bridge-letter" || d.kind == "pentest-summary")
        {
            // Never downloadable without an account, and listed as restricted.
            let r = srv
                .client()
                .get(format!("{}/trust/{SLUG}/documents/{}", srv.url, d.id))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{}", d.title);
            assert!(
                soc.contains(&format!("#doc-{}", d.id)),
                "{} linked to the account page",
                d.title
            );
        }
        // The restricted documents a customer can ask for include both.
        let customers = srv.app.portal_customers(&cli).await.unwrap();
        let titles: Vec<&str> = customers
            .documents
            .iter()
            .map(|d| d.title.as_str())
            .collect();
        assert!(
            titles.iter().any(|t| t.starts_with("Bridge letter")),
            "{titles:?}"
        );
        assert!(
            titles
                .iter()
                .any(|t| t.starts_with("Penetration test summary")),
            "{titles:?}"
        );

        // Issuing a letter twice is refused; another SOC 1 letter goes through API and page.
        let letters = json_of(
            b.api(Method::GET, "/api/v1/bridge-letters", None).await,
            StatusCode::OK,
        )
        .await;
        let letters = letters.as_array().unwrap();
        let issued: Vec<String> = admin
            .documents
            .iter()
            .filter_map(|(d, _, _)| d.letter_id.clone())
            .collect();
        let done = &issued[0];
        let r = b
            .api(
                Method::POST,
                &format!("/api/v1/bridge-letters/{done}/document"),
                None,
            )
            .await;
        let v = json_of(r, StatusCode::CONFLICT).await;
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("withdraw it first"),
            "{v}"
        );
        let fresh = letters
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .find(|id| !issued.contains(id))
            .unwrap();
        let d = json_of(
            b.api(
                Method::POST,
                &format!("/api/v1/bridge-letters/{fresh}/document"),
                None,
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(d["kind"], "bridge-letter");
        assert_eq!(d["letter_id"], fresh.as_str());
        assert_eq!(d["content_type"], "application/pdf");
        // Unknown and other organisations' letters are "not found".
        let other = srv.org("Other Corp").await;
        let o = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
        for (who, id) in [(&b, "no-such-letter".to_owned()), (&o, fresh.clone())] {
            let r = who
                .api(
                    Method::POST,
                    &format!("/api/v1/bridge-letters/{id}/document"),
                    None,
                )
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
        }
        // A letter document is not uploadable to a SOC 3, a summary only to a penetration test.
        let soc3 = json_of(
            b.api(Method::GET, "/api/v1/engagements", None).await,
            StatusCode::OK,
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "soc3")
        .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let form = reqwest::multipart::Form::new()
            .text("kind", "bridge-letter")
            .text("title", "Letter")
            .part(
                "file",
                reqwest::multipart::Part::bytes(attest_testkit::pdf().to_vec()).file_name("l.pdf"),
            );
        let r = b
            .client
            .post(format!("{}/api/v1/engagements/{soc3}/documents", srv.url))
            .header("x-csrf-token", &b.csrf)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let v = json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(v["error"]["field"], "kind");
    }
);
