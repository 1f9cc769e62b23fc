//! Two `attest` nodes on one database: what one node caches is never stale after a change
//! made through the other (the cache is keyed by the organisation's audit chain head, which
//! the database moves with every change).

use attest_app::control::ControlInput;
use attest_app::{App, AppConfig, Caller};
use attest_blobs::BlobStore;
use attest_domain::control::{ControlStatus, Frequency};
use attest_store::Backend;
use attest_store::testing;

async fn two_nodes_see_each_others_changes(backend: Backend) {
    let Some(db) = testing::fresh(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let node = || {
        App::new(
            db.store.clone(),
            BlobStore::local(dir.path()).unwrap(),
            AppConfig::default(),
        )
    };
    let (a, b) = (node(), node());
    let org = a
        .create_organisation(&Caller::cli(None), "Nodes", "owner@nodes.test")
        .await
        .unwrap()
        .org
        .id;
    let cli = Caller::cli(Some(org));
    a.set_framework_in_use(&cli, "soc2-tsc-2017", true)
        .await
        .unwrap();
    let status = |app: &App| {
        let app = app.clone();
        let cli = cli.clone();
        async move {
            let cov = app.coverage(&cli, "soc2-tsc-2017").await.unwrap();
            cov.requirements
                .iter()
                .find(|r| r.id == "CC6.1")
                .unwrap()
                .status
                .as_str()
        }
    };
    assert_eq!(status(&a).await, "not-covered");
    assert_eq!(
        status(&a).await,
        "not-covered",
        "served from node A's snapshot"
    );

    // Node B adds a control and links it; node A must see it at once.
    let c = b
        .create_control(
            &cli,
            ControlInput {
                reference: "AC-1".into(),
                title: "Logical access".into(),
                description: String::new(),
                owner: None,
                frequency: Frequency::Annual,
                status: ControlStatus::Planned,
                services: vec![],
            },
        )
        .await
        .unwrap();
    b.link_control(&cli, &c.id, "soc2-tsc-2017", "CC6.1")
        .await
        .unwrap();
    assert_eq!(status(&a).await, "planned");
    assert_eq!(status(&b).await, "planned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    two_nodes_see_each_others_changes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    two_nodes_see_each_others_changes(Backend::Postgres).await;
}
