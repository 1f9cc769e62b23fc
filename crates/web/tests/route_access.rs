//! Every route of the router, API and pages, refuses an unauthenticated request, a request
//! with too small a role, and a request naming another organisation's object — without
//! leaking whether the object exists. The routes come from the registry, so a new route is
//! covered the moment it is added; a route whose parameters have no fixture fails the test.

use std::collections::{BTreeMap, HashMap};

use attest_app::Caller;
use attest_app::authz::allows;
use attest_domain::role::Role;
use attest_testkit::{Access, Browser, PASSWORD, RouteSpec, TestOrg, TestServer, server_test};
use attest_web::error::Kind;
use reqwest::{Method, StatusCode};

/// Routes that anyone may reach, signed in or not.
const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/login",
    "/logout",
    "/invitations/{token}",
    "/password-reset/{token}",
    "/sso/start",
    "/sso/callback",
    "/assets/{file}",
    "/trust/{slug}",
    "/trust/{slug}/brand.css",
    "/trust/{slug}/logo",
    "/trust/{slug}/documents/{document_id}",
    "/trust/{slug}/{offering}",
    "/trust/{slug}/verify",
    "/trust/{slug}/key",
    "/trust/{slug}/{offering}/manifest.json",
    "/trust/{slug}/signin",
    "/trust/{slug}/signup",
    "/trust/{slug}/verify-email/{token}",
    "/trust/{slug}/invitation/{token}",
    "/trust/{slug}/signout",
    "/trust/{slug}/forgot",
    "/trust/{slug}/reset/{token}",
    "/trust/{slug}/account",
    "/trust/{slug}/nda",
    "/trust/{slug}/access",
    "/trust/{slug}/documents/{document_id}/link",
    "/trust/{slug}/download/{token}",
];

/// Path parameters filled with objects of the *other* organisation.
async fn fixtures(srv: &TestServer, other: &TestOrg) -> HashMap<&'static str, String> {
    let cli = Caller::cli(Some(other.id));
    let members = srv.app.members(&cli).await.unwrap();
    let viewer = members
        .iter()
        .find(|m| m.user.email == other.email(Role::Viewer))
        .unwrap();
    let invitation = srv
        .app
        .invite(&cli, "someone@elsewhere.test", Role::Viewer)
        .await
        .unwrap();
    let (customer, _) = srv
        .app
        .portal_invite(&cli, "customer@elsewhere.test", "A Customer", "Elsewhere")
        .await
        .unwrap();
    let owner = srv.sign_in(other.email(Role::Owner), PASSWORD).await;
    let token: serde_json::Value = owner
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(serde_json::json!({"name": "other org", "role": "viewer", "expires_in_days": 5})),
        )
        .await
        .json()
        .await
        .unwrap();
    let sessions: serde_json::Value = owner
        .api(Method::GET, "/api/v1/sessions", None)
        .await
        .json()
        .await
        .unwrap();
    let yaml = "id: beta-internal\nname: Beta internal rules\nversion: \"1\"\npublisher: Beta\nrequirements:\n  - {id: R1, kind: rule, title: Keep logs}\n";
    srv.app
        .import_frameworks(
            &cli,
            vec![attest_app::framework::ImportFile {
                name: "beta.yaml".into(),
                bytes: yaml.as_bytes().to_vec(),
            }],
        )
        .await
        .unwrap();
    let control = srv
        .app
        .create_control(
            &cli,
            attest_app::control::ControlInput {
                reference: "B-1".into(),
                title: "Beta's control".into(),
                description: String::new(),
                owner: None,
                frequency: attest_domain::control::Frequency::Annual,
                status: attest_domain::control::ControlStatus::Planned,
                services: vec![],
            },
        )
        .await
        .unwrap();
    let evidence =
        srv.app
            .add_evidence(
                &cli,
                attest_domain::evidence::EvidenceSource::Cli,
                attest_app::evidence::EvidenceInput {
                    title: "Beta's log review".into(),
                    controls: vec![control.id.clone()],
                    ..Default::default()
                },
                attest_app::evidence::Content::<
                    futures::stream::Empty<Result<bytes::Bytes, String>>,
                >::Link {
                    url: "https://beta.example/logs".into(),
                },
            )
            .await
            .unwrap();
    let asset = srv
        .app
        .put_asset(
            &cli,
            None,
            attest_app::risk::AssetInput {
                name: "Beta's ledger".into(),
                kind: attest_domain::risk::AssetKind::Information,
                classification: attest_domain::risk::Classification::Confidential,
                owner: None,
                description: String::new(),
            },
        )
        .await
        .unwrap();
    let risk = srv
        .app
        .put_risk(
            &cli,
            None,
            attest_app::risk::RiskInput {
                reference: "BR-1".into(),
                title: "Beta's risk".into(),
                description: String::new(),
                threat: String::new(),
                vulnerability: String::new(),
                owner: None,
                inherent: (4, 4),
                residual: (3, 4),
                treatment: attest_domain::risk::Treatment::Modify,
                treatment_plan: String::new(),
                treatment_due: None,
                status: attest_domain::risk::RiskStatus::Open,
                assets: vec![asset.id.clone()],
                controls: vec![control.id.clone()],
            },
        )
        .await
        .unwrap();
    let action = srv
        .app
        .add_risk_action(
            &cli,
            &risk.id,
            "Beta's patching",
            None,
            time::macros::date!(2027 - 01 - 31),
        )
        .await
        .unwrap();
    let nc = srv
        .app
        .put_nonconformity(
            &cli,
            None,
            attest_app::nonconformity::NcInput {
                title: "Beta's finding".into(),
                description: String::new(),
                source: attest_domain::nonconformity::NcSource::Raised,
                severity: attest_domain::nonconformity::Severity::Minor,
                requirement: None,
                control_id: None,
                risk_id: None,
                evidence_id: None,
                root_cause: String::new(),
                correction: String::new(),
                corrective_action: String::new(),
                owner: None,
                due_on: None,
            },
        )
        .await
        .unwrap();
    let policy = srv
        .app
        .create_policy(
            &cli,
            attest_app::policy::PolicyInput {
                title: "Beta's policy".into(),
                kind: attest_domain::policy::DocumentKind::Policy,
                owner_id: None,
                approvers: vec![],
                review_months: 12,
                ack_required: true,
            },
            "Beta's rules.",
        )
        .await
        .unwrap();
    let objective = srv
        .app
        .put_objective(
            &cli,
            None,
            attest_app::objective::ObjectiveInput {
                title: "Beta's objective".into(),
                description: String::new(),
                owner_id: None,
                metric: "manual".into(),
                target: 1.0,
                direction: attest_domain::objective::Direction::AtLeast,
                due_on: None,
            },
        )
        .await
        .unwrap();
    let audit = srv
        .app
        .put_internal_audit(
            &cli,
            None,
            attest_app::internal_audit::AuditInput {
                title: "Beta's audit".into(),
                scope: "Everything".into(),
                criteria: "ISO/IEC 27001".into(),
                framework_id: None,
                requirements: vec![],
                auditor: "Someone".into(),
                starts_on: time::macros::date!(2026 - 01 - 10),
                ends_on: time::macros::date!(2026 - 01 - 11),
            },
        )
        .await
        .unwrap();
    let review = srv
        .app
        .put_management_review(
            &cli,
            None,
            time::macros::date!(2026 - 02 - 01),
            "Beta's board",
            "",
            vec![],
        )
        .await
        .unwrap();
    let d = |s: &str| {
        time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).unwrap()
    };
    let report = srv
        .app
        .create_engagement(
            &cli,
            attest_app::engagement::EngagementInput {
                kind: attest_domain::engagement::EngagementKind::Soc2Type2,
                title: String::new(),
                firm: "Beta's auditors".into(),
                lead_auditor: String::new(),
                as_of: None,
                period: Some((d("2025-01-01"), d("2025-12-31"))),
                services: vec![],
                frameworks: vec![],
                categories: vec![],
            },
        )
        .await
        .unwrap();
    let control_test = srv
        .app
        .create_control_test(
            &cli,
            &report.id,
            attest_app::engagement::TestInput {
                control: control.id.clone(),
                kind: "operating".into(),
                population: 90,
                population_note: String::new(),
                seed: Some(7),
            },
        )
        .await
        .unwrap();
    let request = srv
        .app
        .create_request(
            &cli,
            &report.id,
            attest_app::workspace::RequestInput {
                title: "Beta's access list".into(),
                control: Some(control.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let finding = srv
        .app
        .raise_finding(
            &cli,
            &report.id,
            attest_app::workspace::FindingInput {
                title: "Beta's exception".into(),
                severity: "exception".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    srv.app
        .record_opinion(
            &cli,
            &report.id,
            attest_domain::engagement::Opinion::Unqualified,
            "",
        )
        .await
        .unwrap();
    srv.app.issue_engagement(&cli, &report.id).await.unwrap();
    let document = srv
        .app
        .add_document(
            &cli,
            &report.id,
            "report",
            "Beta's SOC 2 report",
            "en",
            "beta.pdf",
            futures::stream::iter(vec![Ok::<_, String>(bytes::Bytes::from_static(
                attest_testkit::pdf(),
            ))]),
        )
        .await
        .unwrap();
    let offering = srv
        .app
        .put_offering(
            &cli,
            "beta-soc",
            attest_app::portal::OfferingInput {
                title_en: "Beta's SOC".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let faq = srv
        .app
        .add_faq(&cli, "beta-soc", ("Beta?", ""), ("Yes.", ""))
        .await
        .unwrap();
    let resource = srv
        .app
        .add_resource(
            &cli,
            "beta-soc",
            ("Beta's page", ""),
            "https://beta.example/",
        )
        .await
        .unwrap();
    let letter = srv
        .app
        .create_bridge_letter(&cli, &report.id, d("2026-02-28"), "Beta's CEO", "", "en")
        .await
        .unwrap();
    let certificate = srv
        .app
        .add_certificate(
            &cli,
            attest_app::engagement::CertificateInput {
                number: "BETA-1".into(),
                body: "Beta's body".into(),
                standard: "iso27001-2022".into(),
                scope: "Everything".into(),
                issued_on: d("2025-01-01"),
                expires_on: d("2027-12-31"),
                engagement: None,
            },
        )
        .await
        .unwrap();
    HashMap::from([
        ("certificate_id", certificate.certificate.id),
        ("account_id", customer.id),
        ("engagement_id", report.id),
        ("test_id", control_test.test.id),
        ("request_id", request.request.id),
        ("document_id", document.id),
        ("key", offering.key),
        ("faq_id", faq.id),
        ("resource_id", resource.id),
        ("finding_id", finding.finding.id),
        ("letter_id", letter.id),
        ("audit_id", audit.id),
        ("review_id", review.id),
        ("objective_id", objective.id),
        ("policy_id", policy.summary.id),
        ("nc_id", nc.id),
        ("evidence_id", evidence.id),
        ("asset_id", asset.id),
        ("action_id", action.id),
        ("risk_id", risk.id),
        ("user_id", viewer.user.id.to_string()),
        ("invitation_id", invitation.invitation.id),
        (
            "token_id",
            token["token"]["id"].as_str().unwrap().to_owned(),
        ),
        ("session_id", sessions[0]["id"].as_str().unwrap().to_owned()),
        ("framework_id", "beta-internal".to_owned()),
        ("requirement_id", "R1".to_owned()),
        ("control_id", control.id),
    ])
}

fn fill(path: &str, fixtures: &HashMap<&'static str, String>) -> Result<String, String> {
    let mut out = String::new();
    for seg in path.split('/').skip(1) {
        out.push('/');
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            out.push_str(fixtures.get(name).ok_or_else(|| {
                format!("no fixture for parameter {{{name}}}: add one to this test")
            })?);
        } else {
            out.push_str(seg);
        }
    }
    Ok(out)
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    csrf: &str,
    spec: &RouteSpec,
    path: &str,
) -> reqwest::Response {
    let url = format!("{base}{path}");
    let req = client.request(spec.method.clone(), &url);
    let req = if spec.method == Method::GET {
        req
    } else {
        match spec.kind {
            Kind::Page => req.form(&[("_csrf", csrf)]),
            Kind::Api => req
                .header("x-csrf-token", csrf)
                .json(&serde_json::json!({})),
        }
    };
    req.send().await.unwrap()
}

/// Which roles a route's rule lets through.
fn admitted(access: Access, role: Role) -> bool {
    match access {
        Access::Public | Access::SignedIn | Access::PasswordChange | Access::MfaSetup => true,
        Access::MfaStep => false,
        Access::Perm(p) => allows(role, p),
    }
}

/// Checks every route; returns the failures.
async fn check(
    srv: &TestServer,
    mine: &BTreeMap<Role, Browser>,
    fixtures: &HashMap<&'static str, String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    // The same parameters naming nothing at all: another organisation's object must get
    // exactly the answer a non-existent one gets.
    let nothing: HashMap<&'static str, String> = fixtures
        .keys()
        .map(|k| (*k, uuid::Uuid::now_v7().to_string()))
        .collect();
    let anonymous = srv.client();
    for spec in &srv.specs {
        let what = format!("{} {}", spec.method, spec.path);
        if spec.access == Access::Public {
            if !PUBLIC.contains(&spec.path.as_str()) {
                failures.push(format!(
                    "{what} is public but not on the list of public routes"
                ));
            }
            continue;
        }
        let path = match fill(&spec.path, fixtures) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{what}: {e}"));
                continue;
            }
        };
        let has_ids = spec.path.contains('{');

        let r = send(&anonymous, &srv.url, "", spec, &path).await;
        let ok = match spec.kind {
            Kind::Api => r.status() == StatusCode::UNAUTHORIZED,
            Kind::Page => {
                r.status() == StatusCode::SEE_OTHER
                    && r.headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .is_some_and(|l| l.starts_with("/login"))
            }
        };
        if !ok {
            failures.push(format!(
                "{what}: unauthenticated request answered {}",
                r.status()
            ));
        }

        for (role, browser) in mine {
            let r = send(&browser.client, &srv.url, &browser.csrf, spec, &path).await;
            let status = r.status();
            if status.is_server_error() {
                failures.push(format!("{what} as {role}: server error {status}"));
            } else if !admitted(spec.access, *role) {
                if status != StatusCode::FORBIDDEN {
                    failures.push(format!("{what} as {role}: expected 403, got {status}"));
                }
            } else if has_ids {
                let absent = send(
                    &browser.client,
                    &srv.url,
                    &browser.csrf,
                    spec,
                    &fill(&spec.path, &nothing).unwrap_or_default(),
                )
                .await
                .status();
                if !status.is_client_error() || status != absent {
                    failures.push(format!(
                        "{what} as {role} naming another organisation's object: got {status}, and {absent} for an object that does not exist"
                    ));
                }
            } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{what} as {role}: refused with {status} although the role is allowed"
                ));
            }
        }
    }
    failures
}

async fn browsers(srv: &TestServer, org: &TestOrg) -> BTreeMap<Role, Browser> {
    let mut out = BTreeMap::new();
    for role in Role::ALL {
        out.insert(role, srv.sign_in(org.email(role), PASSWORD).await);
    }
    out
}

server_test!(
    every_route_refuses_who_it_must,
    |srv: TestServer| async move {
        let a = srv.org("Alpha").await;
        let b = srv.org("Beta").await;
        let fx = fixtures(&srv, &b).await;
        let mine = browsers(&srv, &a).await;
        let failures = check(&srv, &mine, &fx).await;
        assert!(
            failures.is_empty(),
            "{} access failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(
            srv.specs.len() >= 40,
            "the registry lists {} routes",
            srv.specs.len()
        );
    }
);

/// A route that forgets its check (registered as public, reading the store directly) is
/// caught by the same test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_forgets_its_check_is_caught() {
    async fn leak(
        axum::extract::State(st): axum::extract::State<attest_web::AppState>,
    ) -> axum::Json<Vec<String>> {
        let orgs = attest_store::org::list(st.app.store())
            .await
            .unwrap_or_default();
        axum::Json(orgs.into_iter().map(|o| o.name).collect())
    }
    let srv = TestServer::start_with(attest_testkit::Backend::Sqlite, |r| {
        r.raw(
            Method::GET,
            "/api/v1/debug/organisations",
            Access::Public,
            Kind::Api,
            leak,
        )
    })
    .await
    .unwrap();
    let a = srv.org("Alpha").await;
    let b = srv.org("Beta").await;
    let fx = fixtures(&srv, &b).await;
    let mine = browsers(&srv, &a).await;
    let failures = check(&srv, &mine, &fx).await;
    assert_eq!(
        failures,
        vec![
            "GET /api/v1/debug/organisations is public but not on the list of public routes"
                .to_owned()
        ]
    );
}
