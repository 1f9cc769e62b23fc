//! Backup and restore: the archive carries every row and blob from one consistent snapshot,
//! restores into an empty database of either backend (SQLite to PostgreSQL is how an
//! installation grows), and a damaged archive or a non-empty target changes nothing.

use std::path::Path;

use attest_app::{App, AppConfig, AppError, Caller};
use attest_blobs::BlobStore;
use attest_domain::Timestamp;
use attest_domain::role::Role;
use attest_store::audit::VerifyScope;
use attest_store::backup::{self, TABLES};
use attest_store::testing::{self, TestDb};
use attest_store::{Backend, Store};

struct Installation {
    app: App,
    db: TestDb,
    _blobs: tempfile::TempDir,
}

async fn installation(backend: Backend) -> Option<Installation> {
    let db = testing::fresh(backend).await?;
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(
        db.store.clone(),
        BlobStore::local(dir.path()).unwrap(),
        AppConfig::default(),
    );
    Some(Installation {
        app,
        db,
        _blobs: dir,
    })
}

/// An organisation with members, a token, and an evidence blob.
async fn populate(app: &App) -> Vec<u8> {
    let cli = Caller::cli(None);
    let org = app
        .create_organisation(&cli, "Acme Cloud", "owner@acme.test")
        .await
        .unwrap()
        .org;
    let owner = Caller::cli(Some(org.id));
    for (email, role) in [
        ("cm@acme.test", Role::ComplianceManager),
        ("viewer@acme.test", Role::Viewer),
    ] {
        let inv = app.invite(&owner, email, role).await.unwrap();
        let token = inv.link.rsplit('/').next().unwrap().to_owned();
        app.accept_invitation(
            &Caller::anonymous(None, None),
            &token,
            Some("Someone"),
            Some("a long enough password"),
        )
        .await
        .unwrap();
    }
    app.create_service_account(&owner, "CI pipeline", Role::ControlOwner)
        .await
        .unwrap();
    let bytes = b"%PDF-1.7 evidence of a quarterly access review".to_vec();
    let stored = app
        .blobs()
        .put_bytes(org.id, bytes.clone().into(), 1 << 20)
        .await
        .unwrap();
    sqlx_insert_blob(
        app.store(),
        org.id,
        &hex::encode(stored.sha256),
        bytes.len() as i64,
    )
    .await;
    bytes
}

async fn sqlx_insert_blob(store: &Store, org: attest_domain::OrgId, sha: &str, size: i64) {
    let mut tx = store.begin().await.unwrap();
    let cols = [
        ("org_id", "text"),
        ("sha256", "text"),
        ("size", "integer"),
        ("content_type", "text"),
        ("created_at", "integer"),
    ]
    .map(|(n, t)| backup::ColumnSpec {
        name: n.into(),
        ty: serde_json::from_value(serde_json::json!(t)).unwrap(),
    });
    backup::insert_rows(
        &mut tx,
        "blobs",
        &cols,
        &[vec![
            org.to_string().into(),
            sha.into(),
            size.into(),
            "application/pdf".into(),
            Timestamp::now().as_micros().into(),
        ]],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Every backed-up table's rows, for comparing two databases.
async fn contents(store: &Store) -> Vec<(String, Vec<Vec<serde_json::Value>>)> {
    let mut tx = store.begin_snapshot().await.unwrap();
    let mut out = Vec::new();
    for t in TABLES.iter().filter(|t| t.backed_up) {
        let mut rows = Vec::new();
        backup::dump_table(&mut tx, t, |_, row| {
            rows.push(row);
            Ok(())
        })
        .await
        .unwrap();
        out.push((t.name.to_owned(), rows));
    }
    out
}

async fn round_trip(from: Backend, to: Backend) {
    let Some(src) = installation(from).await else {
        return;
    };
    let Some(dst) = installation(to).await else {
        return;
    };
    let bytes = populate(&src.app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attest.backup");
    let manifest = src.app.backup_to(&file).await.unwrap();
    assert_eq!(manifest.blobs, 1);
    assert_eq!(manifest.source_backend, from.name());

    let restored = dst.app.restore_from(&file).await.unwrap();
    assert_eq!(restored, manifest);
    assert_eq!(
        contents(&src.db.store).await,
        contents(&dst.db.store).await,
        "restored rows differ"
    );
    let reports = dst.app.verify_audit_trail(VerifyScope::Full).await.unwrap();
    assert!(reports.iter().all(|r| r.problem.is_none()), "{reports:?}");
    let org = dst.app.all_organisations().await.unwrap().remove(0);
    let sha = attest_domain::audit::parse_hash(&hex::encode(sha2_digest(&bytes))).unwrap();
    assert_eq!(
        dst.app
            .blobs()
            .get_bytes(org.id, &sha)
            .await
            .unwrap()
            .as_ref(),
        bytes.as_slice()
    );

    // Restoring a second time is refused: the target now holds data.
    let again = dst.app.restore_from(&file).await.unwrap_err();
    assert!(
        matches!(
            again,
            AppError::Rule {
                rule: "restore-into-empty",
                ..
            }
        ),
        "{again:?}"
    );
    drop(src.db);
}

fn sha2_digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_sqlite() {
    round_trip(Backend::Sqlite, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres() {
    round_trip(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_to_sqlite() {
    round_trip(Backend::Postgres, Backend::Sqlite).await;
}

async fn damaged_archive_changes_nothing(backend: Backend) {
    let Some(src) = installation(Backend::Sqlite).await else {
        return;
    };
    let Some(dst) = installation(backend).await else {
        return;
    };
    populate(&src.app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attest.backup");
    src.app.backup_to(&file).await.unwrap();
    let full = std::fs::read(&file).unwrap();
    let cut = dir.path().join("cut.backup");
    // Cut before the manifest: the archive looks fine until its end.
    std::fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
    let err = dst.app.restore_from(&cut).await.unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
    assert!(
        backup::is_empty(&dst.db.store).await.unwrap(),
        "a failed restore left rows behind"
    );
    let err = dst
        .app
        .restore_from(Path::new("/nonexistent/archive"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot open"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_archive_changes_nothing_sqlite() {
    damaged_archive_changes_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_archive_changes_nothing_postgres() {
    damaged_archive_changes_nothing(Backend::Postgres).await;
}

async fn backup_while_writing(backend: Backend) {
    let Some(src) = installation(backend).await else {
        return;
    };
    let Some(dst) = installation(Backend::Sqlite).await else {
        return;
    };
    populate(&src.app).await;
    let org = src.app.all_organisations().await.unwrap().remove(0);
    let writer = {
        let app = src.app.clone();
        tokio::spawn(async move {
            let owner = Caller::cli(Some(org.id));
            for i in 0..40 {
                let _ = app
                    .invite(&owner, &format!("person{i}@acme.test"), Role::Viewer)
                    .await
                    .unwrap();
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("live.backup");
    src.app.backup_to(&file).await.unwrap();
    writer.await.unwrap();
    dst.app.restore_from(&file).await.unwrap();
    // Whatever moment the snapshot caught, the restored trail is a whole chain.
    let reports = dst.app.verify_audit_trail(VerifyScope::Full).await.unwrap();
    assert!(reports.iter().all(|r| r.problem.is_none()), "{reports:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_sqlite() {
    backup_while_writing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_postgres() {
    backup_while_writing(Backend::Postgres).await;
}
