//! Blob stores for tests: a real S3-compatible server on loopback (`s3s-fs`, the S3 protocol
//! served over HTTP from a temporary directory), and a local store whose disk fills up.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use attest_blobs::{BlobStore, S3Config};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, UploadPart,
};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

const ACCESS_KEY: &str = "attest-test";
const SECRET_KEY: &str = "attest-test-secret-key";

/// An S3-compatible server on a free loopback port, serving one bucket from a temporary
/// directory, with signature checking on.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// Where the server keeps the bucket.
    pub root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Server {
    /// Starts the server with an empty bucket.
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let bucket = "attest-evidence".to_owned();
        // s3s-fs keeps a bucket as a directory under its root.
        std::fs::create_dir(root.path().join(&bucket)).expect("bucket directory");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let service = {
            let mut b = S3ServiceBuilder::new(fs);
            b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        Self {
            endpoint,
            bucket,
            root,
            task,
        }
    }

    /// The settings Attest is given for this bucket.
    pub fn config(&self) -> S3Config {
        S3Config {
            bucket: self.bucket.clone(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
            allow_http: true,
            prefix: None,
        }
    }

    /// A blob store on this bucket.
    pub fn blob_store(&self) -> BlobStore {
        BlobStore::s3(&self.config()).expect("S3 blob store")
    }

    /// A plain S3 client on the bucket, to tamper with objects as someone with bucket access.
    pub fn client(&self) -> Arc<dyn ObjectStore> {
        Arc::new(
            object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(&self.bucket)
                .with_region("us-east-1")
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_virtual_hosted_style_request(false)
                .with_access_key_id(ACCESS_KEY)
                .with_secret_access_key(SECRET_KEY)
                .build()
                .expect("S3 client"),
        )
    }
}

/// A local directory whose disk holds only `capacity` more bytes of uploads: writes beyond
/// it fail as a full disk does (`ENOSPC`). Everything else is the real local store.
#[derive(Debug)]
pub struct FullDisk {
    inner: Arc<object_store::local::LocalFileSystem>,
    left: Arc<AtomicU64>,
}

impl FullDisk {
    /// A blob store in `dir` with room for `capacity` bytes.
    pub fn blob_store(dir: &std::path::Path, capacity: u64) -> BlobStore {
        let inner =
            object_store::local::LocalFileSystem::new_with_prefix(dir).expect("local store");
        let store = FullDisk {
            inner: Arc::new(inner),
            left: Arc::new(AtomicU64::new(capacity)),
        };
        BlobStore::from_object_store(Arc::new(store), "local directory (filling up)")
    }
}

impl fmt::Display for FullDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FullDisk({})", self.inner)
    }
}

fn no_space() -> object_store::Error {
    object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "No space left on device (os error 28)",
        )),
    }
}

fn take(left: &AtomicU64, n: u64) -> bool {
    left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(n))
        .is_ok()
}

#[derive(Debug)]
struct FillingUpload {
    inner: Box<dyn MultipartUpload>,
    left: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl MultipartUpload for FillingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        if take(&self.left, data.content_length() as u64) {
            self.inner.put_part(data)
        } else {
            Box::pin(async { Err(no_space()) })
        }
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

#[async_trait::async_trait]
impl ObjectStore for FullDisk {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        if !take(&self.left, payload.content_length() as u64) {
            return Err(no_space());
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Ok(Box::new(FillingUpload {
            inner: self.inner.put_multipart_opts(location, opts).await?,
            left: self.left.clone(),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: futures::stream::BoxStream<'static, object_store::Result<Path>>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(
        &self,
        prefix: Option<&Path>,
    ) -> futures::stream::BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
