//! Evidence in the other blob stores, on both database backends: an S3-compatible bucket
//! served by a real S3 server on loopback (uploads, multipart, deduplication, downloads, and
//! `verify` finding corrupt, missing, orphaned and stray objects after tampering in the
//! bucket), and a disk that fills up mid-upload (a clear error, nothing left behind).

use attest_domain::role::Role;
use attest_testkit::stores::{FullDisk, S3Server};
use attest_testkit::{Backend, Browser, TestServer, json_of};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

async fn control(b: &Browser) -> String {
    let c = json_of(
        b.api(
            Method::POST,
            "/api/v1/controls",
            Some(
                json!({"ref": "BK-1", "title": "Backups", "frequency": "quarterly",
                        "status": "implemented"}),
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    c["id"].as_str().unwrap().to_owned()
}

async fn upload(b: &Browser, title: &str, control: &str, bytes: Vec<u8>) -> reqwest::Response {
    upload_with(b, title, control, bytes, &[]).await
}

async fn upload_with(
    b: &Browser,
    title: &str,
    control: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut f = Form::new()
        .text("title", title.to_owned())
        .text("controls", control.to_owned());
    for (k, v) in extra {
        f = f.text(k.to_string(), v.to_string());
    }
    let f = f.part("file", Part::bytes(bytes).file_name("evidence.bin"));
    b.client
        .post(format!("{}/api/v1/evidence/files", b.url))
        .header("x-csrf-token", &b.csrf)
        .multipart(f)
        .send()
        .await
        .unwrap()
}

/// Every object in the bucket.
async fn objects(client: &dyn ObjectStore) -> Vec<String> {
    let mut all: Vec<String> = client
        .list(None)
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    all.sort();
    all
}

/// Bytes that differ in every MiB, so nothing compresses or repeats.
fn bytes(mib: usize, seed: u8) -> Vec<u8> {
    (0..mib * 1024 * 1024)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3] ^ seed)
        .collect()
}

async fn s3_bucket(backend: Backend) {
    let s3 = S3Server::start().await;
    let Some(srv) = TestServer::start_with_blobs(backend, |_| s3.blob_store()).await else {
        return;
    };
    let org = srv.org("Bucket Co").await;
    let cm = srv
        .sign_in(org.email(Role::ComplianceManager), attest_testkit::PASSWORD)
        .await;
    let c = control(&cm).await;
    let bucket = s3.client();

    // A small file, the same bytes again (one object), and a file of several multipart parts.
    let small = b"backup restore test: 2026-11-02, 41 GiB restored in 18 min".to_vec();
    let a = json_of(
        upload(&cm, "Restore test", &c, small.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        upload(&cm, "Same bytes", &c, small.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let big = bytes(17, 7);
    let b = json_of(
        upload(&cm, "Backup log", &c, big.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let sha_a = hex::encode(Sha256::digest(&small));
    let sha_b = hex::encode(Sha256::digest(&big));
    assert_eq!(
        (a["sha256"].as_str(), b["sha256"].as_str()),
        (Some(&*sha_a), Some(&*sha_b))
    );
    let key = |sha: &str| format!("{}/{}/{sha}", org.id, &sha[..2]);
    assert_eq!(objects(&*bucket).await, {
        let mut want = vec![key(&sha_a), key(&sha_b)];
        want.sort();
        want
    });

    // Downloads stream back from the bucket.
    for (e, want) in [(&a, &small), (&b, &big)] {
        let r = cm
            .get(&format!(
                "/api/v1/evidence/{}/file",
                e["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.unwrap().as_ref(), want.as_slice());
    }

    // A wrong declared hash leaves nothing in the bucket, not even a staging object.
    let r = upload_with(
        &cm,
        "Wrong",
        &c,
        bytes(1, 9),
        &[("sha256", &"0".repeat(64))],
    )
    .await;
    json_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(objects(&*bucket).await.len(), 2);

    let report = srv.app.verify_blobs().await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.checked, 2);
    assert_eq!(report.bytes, (small.len() + big.len()) as u64);

    // Someone with access to the bucket rewrites one object, deletes another, and leaves an
    // unrecorded object and a stray file.
    bucket
        .put(&Path::from(key(&sha_a)), b"rewritten".to_vec().into())
        .await
        .unwrap();
    bucket.delete(&Path::from(key(&sha_b))).await.unwrap();
    let orphan = hex::encode(Sha256::digest(b"orphan"));
    bucket
        .put(&Path::from(key(&orphan)), b"orphan".to_vec().into())
        .await
        .unwrap();
    bucket
        .put(&Path::from("notes.txt"), b"hello".to_vec().into())
        .await
        .unwrap();

    let report = srv.app.verify_blobs().await.unwrap();
    assert!(!report.ok());
    let org_id = org.id.to_string();
    assert_eq!(report.corrupt, vec![(org_id.clone(), sha_a.clone())]);
    assert_eq!(report.missing, vec![(org_id.clone(), sha_b.clone())]);
    assert_eq!(report.orphaned, vec![(org_id.clone(), orphan)]);
    assert_eq!(report.strays, vec!["notes.txt".to_owned()]);

    // The altered object is never received whole: the download breaks off before its end.
    // (A file this small fails before its headers are flushed; a large one, after them.)
    let sent = cm
        .client
        .get(format!(
            "{}/api/v1/evidence/{}/file",
            cm.url,
            a["id"].as_str().unwrap()
        ))
        .send()
        .await;
    if let Ok(r) = sent {
        assert!(r.bytes().await.is_err(), "a corrupt blob downloaded whole");
    }
    // The missing one is refused.
    let r = cm
        .get(&format!(
            "/api/v1/evidence/{}/file",
            b["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_bucket_sqlite() {
    s3_bucket(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_bucket_postgres() {
    s3_bucket(Backend::Postgres).await;
}

async fn full_disk(backend: Backend) {
    // Room for 2 MiB of evidence.
    let Some(srv) =
        TestServer::start_with_blobs(backend, |dir| FullDisk::blob_store(dir, 2 << 20)).await
    else {
        return;
    };
    let org = srv.org("Full Co").await;
    let cm = srv
        .sign_in(org.email(Role::ComplianceManager), attest_testkit::PASSWORD)
        .await;
    let c = control(&cm).await;
    json_of(
        upload(&cm, "Fits", &c, bytes(1, 1)).await,
        StatusCode::CREATED,
    )
    .await;
    let head_before = srv
        .app
        .verify_audit_trail(attest_store::audit::VerifyScope::Chain)
        .await
        .unwrap();

    // Three more MiB do not fit: a clear 503, no evidence row, no file left in the store.
    let r = upload(&cm, "Does not fit", &c, bytes(3, 2)).await;
    let body = json_of(r, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("out of space") && message.contains("nothing was saved"),
        "{message}"
    );
    assert!(
        !message.contains(srv.blob_dir.path().to_str().unwrap()),
        "{message}"
    );

    let list = json_of(cm.get("/api/v1/evidence").await, StatusCode::OK).await;
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Fits"]);
    let left = attest_testkit::files_under(srv.blob_dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let report = srv.app.verify_blobs().await.unwrap();
    assert!(report.ok(), "{report:?}");
    // Nothing was recorded in the trail for the failed upload.
    let head_after = srv
        .app
        .verify_audit_trail(attest_store::audit::VerifyScope::Chain)
        .await
        .unwrap();
    assert_eq!(
        head_before.iter().map(|r| r.verified).sum::<i64>(),
        head_after.iter().map(|r| r.verified).sum::<i64>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_sqlite() {
    full_disk(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_postgres() {
    full_disk(Backend::Postgres).await;
}
