//! Evidence bytes, content-addressed by SHA-256 and deduplicated per organisation, kept in a
//! local directory or in S3-compatible object storage through `object_store`.
//!
//! Layout: `<org id>/<first two hex digits>/<sha256 hex>`. A blob is written under a
//! `staging/` name while it streams in and is hashed, then renamed to its content address, so
//! a half-written upload is never visible under a content address.

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use attest_domain::OrgId;
use attest_domain::audit::Hash;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

/// What went wrong with a blob.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content is larger than allowed.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The content's SHA-256 is not the one the client declared.
    #[error("the content's SHA-256 is {actual}, not the declared {declared}")]
    HashMismatch { declared: String, actual: String },
    /// The content stream failed (the client disconnected or sent a truncated body).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// No blob has that address.
    #[error("blob not found")]
    NotFound,
    /// The stored bytes no longer hash to their address (the blob was altered or damaged).
    #[error("the stored file is corrupt: its SHA-256 is {actual}, not {expected}")]
    Corrupt { expected: String, actual: String },
    /// The store is misconfigured.
    #[error("{0}")]
    Config(String),
    /// The object store failed (disk full, network, permissions).
    #[error("storage failed: {0}")]
    Store(#[from] object_store::Error),
}

/// A blob result.
pub type BlobResult<T> = Result<T, BlobError>;

/// Settings of an S3-compatible bucket.
#[derive(Clone, Default)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL for non-AWS services (`http://127.0.0.1:9000`).
    pub endpoint: Option<String>,
    /// Region (`us-east-1` when unset).
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
    /// Allow plain HTTP (for a local test server).
    pub allow_http: bool,
    /// Key prefix inside the bucket.
    pub prefix: Option<String>,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A blob that was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its SHA-256.
    pub sha256: Hash,
    /// Its size in bytes.
    pub size: u64,
    /// Its first bytes (up to 8 KiB), for content-type sniffing.
    pub head: Vec<u8>,
    /// Whether the same content was already stored for this organisation.
    pub deduplicated: bool,
}

/// One blob found by [`BlobStore::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlob {
    /// The owning organisation.
    pub org: OrgId,
    /// The content address.
    pub sha256: Hash,
    /// Size in bytes.
    pub size: u64,
}

/// Where blobs live. Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

const SNIFF_BYTES: usize = 8 * 1024;

/// Size of each part written to the store: S3's smallest allowed part is 5 MiB. With one
/// part in flight and one filling, an upload holds about two parts in memory, whatever its
/// size.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Bytes handed to the hashing thread at a time: large enough that waking it costs nothing
/// next to the hashing, small enough to keep memory flat.
const HASH_BATCH_BYTES: usize = 1024 * 1024;

/// SHA-256 on a thread of its own. Hashing is the one step of an ingest that cannot be split
/// (each block depends on the last) and takes a core's worth of time; on its own thread it
/// overlaps with receiving and writing, so an ingest runs at the speed of the hash alone.
struct PipelinedHasher {
    batch: Vec<Bytes>,
    batched: usize,
    tx: tokio::sync::mpsc::Sender<Vec<Bytes>>,
    done: tokio::task::JoinHandle<Hash>,
}

impl PipelinedHasher {
    fn start() -> Self {
        // Four batches in the queue: at most about 5 MiB waiting to be hashed.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Bytes>>(4);
        let done = tokio::task::spawn_blocking(move || {
            let mut h = Sha256::new();
            while let Some(batch) = rx.blocking_recv() {
                for b in batch {
                    h.update(&b);
                }
            }
            h.finalize().into()
        });
        Self {
            batch: Vec::new(),
            batched: 0,
            tx,
            done,
        }
    }

    async fn update(&mut self, chunk: Bytes) -> BlobResult<()> {
        self.batched += chunk.len();
        self.batch.push(chunk);
        if self.batched >= HASH_BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> BlobResult<()> {
        self.batched = 0;
        let batch = std::mem::take(&mut self.batch);
        self.tx
            .send(batch)
            .await
            .map_err(|_| BlobError::Interrupted("the hashing thread stopped".into()))
    }

    async fn finish(mut self) -> BlobResult<Hash> {
        if !self.batch.is_empty() {
            self.flush().await?;
        }
        drop(self.tx);
        self.done
            .await
            .map_err(|e| BlobError::Interrupted(format!("the hashing thread failed: {e}")))
    }
}

impl BlobStore {
    /// Blobs in a local directory (created if missing).
    pub fn local(dir: &FsPath) -> BlobResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| BlobError::Config(format!("cannot create {}: {e}", dir.display())))?;
        let dir: PathBuf = dir
            .canonicalize()
            .map_err(|e| BlobError::Config(format!("cannot open {}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)?;
        Ok(Self {
            inner: Arc::new(fs),
            description: format!("local directory {}", dir.display()),
        })
    }

    /// Blobs in an S3-compatible bucket.
    pub fn s3(cfg: &S3Config) -> BlobResult<Self> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(cfg.region.clone().unwrap_or_else(|| "us-east-1".into()))
            .with_allow_http(cfg.allow_http);
        if let Some(e) = &cfg.endpoint {
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        if let Some(k) = &cfg.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &cfg.secret_access_key {
            b = b.with_secret_access_key(s);
        }
        let s3 = b.build()?;
        let inner: Arc<dyn ObjectStore> = match cfg.prefix.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => Arc::new(object_store::prefix::PrefixStore::new(s3, p)),
            None => Arc::new(s3),
        };
        Ok(Self {
            inner,
            description: format!("S3 bucket {}", cfg.bucket),
        })
    }

    /// Wraps any object store (used by tests to inject failures).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>, description: &str) -> Self {
        Self {
            inner,
            description: description.to_owned(),
        }
    }

    /// A human description (`local directory …`, `S3 bucket …`).
    pub fn description(&self) -> &str {
        &self.description
    }

    fn key(org: OrgId, sha: &Hash) -> Path {
        let hex = hex::encode(sha);
        Path::from(format!("{org}/{}/{hex}", &hex[..2]))
    }

    /// Stores a stream of bytes for an organisation; at most `limit` bytes; when `declared` is
    /// given, the content must hash to it. Nothing is left under a content address on failure.
    pub async fn put_stream<S, E>(
        &self,
        org: OrgId,
        mut body: S,
        limit: u64,
        declared: Option<Hash>,
    ) -> BlobResult<StoredBlob>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        let staging = Path::from(format!("staging/{}", uuid::Uuid::now_v7()));
        let upload = self.inner.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = PipelinedHasher::start();
        let mut size: u64 = 0;
        let mut head = Vec::new();
        let result: BlobResult<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(BlobError::TooLarge { limit });
                }
                if head.len() < SNIFF_BYTES {
                    let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                hasher.update(chunk.clone()).await?;
                writer.wait_for_capacity(1).await?;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = writer.abort().await;
            let _ = self.inner.delete(&staging).await;
            return Err(e);
        }
        // Both finish together: the last part is written while the last bytes are hashed.
        let (written, hashed) = tokio::join!(writer.finish(), hasher.finish());
        let sha256 = match (written, hashed) {
            (Ok(_), Ok(sha256)) => sha256,
            (Err(e), _) => {
                let _ = self.inner.delete(&staging).await;
                return Err(e.into());
            }
            (_, Err(e)) => {
                let _ = self.inner.delete(&staging).await;
                return Err(e);
            }
        };
        if let Some(d) = declared
            && d != sha256
        {
            let _ = self.inner.delete(&staging).await;
            return Err(BlobError::HashMismatch {
                declared: hex::encode(d),
                actual: hex::encode(sha256),
            });
        }
        let key = Self::key(org, &sha256);
        let deduplicated = self.inner.head(&key).await.is_ok();
        if deduplicated {
            self.inner.delete(&staging).await?;
        } else if let Err(e) = self.inner.rename(&staging, &key).await {
            let _ = self.inner.delete(&staging).await;
            return Err(e.into());
        }
        Ok(StoredBlob {
            sha256,
            size,
            head,
            deduplicated,
        })
    }

    /// Stores bytes already in memory.
    pub async fn put_bytes(&self, org: OrgId, bytes: Bytes, limit: u64) -> BlobResult<StoredBlob> {
        let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
        self.put_stream(org, Box::pin(stream), limit, None).await
    }

    /// Stores bytes whose address is known (restoring a backup); checks the hash.
    pub async fn put_verified(&self, org: OrgId, sha256: Hash, bytes: Bytes) -> BlobResult<()> {
        let actual: Hash = Sha256::digest(&bytes).into();
        if actual != sha256 {
            return Err(BlobError::HashMismatch {
                declared: hex::encode(sha256),
                actual: hex::encode(actual),
            });
        }
        self.inner
            .put(&Self::key(org, &sha256), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// The blob's bytes as a stream, and its size. The bytes are hashed as they stream and
    /// the last chunk is held back until the hash matches the address: altered bytes end the
    /// stream with [`BlobError::Corrupt`] before it is complete, so a download of a damaged
    /// blob is never received whole.
    pub async fn get(
        &self,
        org: OrgId,
        sha256: &Hash,
    ) -> BlobResult<(u64, BoxStream<'static, BlobResult<Bytes>>)> {
        let (size, raw) = self.get_raw(org, sha256).await?;
        Ok((size, Verified::new(raw, *sha256).boxed()))
    }

    async fn get_raw(
        &self,
        org: OrgId,
        sha256: &Hash,
    ) -> BlobResult<(u64, BoxStream<'static, BlobResult<Bytes>>)> {
        match self.inner.get(&Self::key(org, sha256)).await {
            Ok(r) => {
                let size = r.meta.size;
                Ok((size, r.into_stream().map_err(BlobError::from).boxed()))
            }
            Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// The whole blob in memory (for small blobs: previews, stamping), checked against its
    /// address.
    pub async fn get_bytes(&self, org: OrgId, sha256: &Hash) -> BlobResult<Bytes> {
        let bytes = match self.inner.get(&Self::key(org, sha256)).await {
            Ok(r) => r.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let actual: Hash = Sha256::digest(&bytes).into();
        if &actual != sha256 {
            return Err(corrupt(sha256, &actual));
        }
        Ok(bytes)
    }

    /// Whether a blob exists.
    pub async fn exists(&self, org: OrgId, sha256: &Hash) -> BlobResult<bool> {
        match self.inner.head(&Self::key(org, sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a blob (disposal and retention only).
    pub async fn delete(&self, org: OrgId, sha256: &Hash) -> BlobResult<()> {
        match self.inner.delete(&Self::key(org, sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every blob under a content address, with anything that does not look like one
    /// returned as a stray path (left-over staging files, foreign files).
    pub async fn list(&self) -> BlobResult<(Vec<ListedBlob>, Vec<String>)> {
        let mut blobs = Vec::new();
        let mut strays = Vec::new();
        let mut it = self.inner.list(None);
        while let Some(meta) = it.try_next().await? {
            let path = meta.location.to_string();
            match parse_key(&path) {
                Some((org, sha256)) => blobs.push(ListedBlob {
                    org,
                    sha256,
                    size: meta.size,
                }),
                None => strays.push(path),
            }
        }
        Ok((blobs, strays))
    }

    /// Re-hashes a stored blob.
    pub async fn rehash(&self, org: OrgId, sha256: &Hash) -> BlobResult<Hash> {
        let (_, mut stream) = self.get_raw(org, sha256).await?;
        let mut h = Sha256::new();
        while let Some(chunk) = stream.try_next().await? {
            h.update(&chunk);
        }
        Ok(h.finalize().into())
    }
}

fn corrupt(expected: &Hash, actual: &Hash) -> BlobError {
    BlobError::Corrupt {
        expected: hex::encode(expected),
        actual: hex::encode(actual),
    }
}

/// A blob's stream checked against its address, one chunk behind (see [`BlobStore::get`]).
struct Verified {
    inner: BoxStream<'static, BlobResult<Bytes>>,
    /// `None` once the stream has ended or failed.
    hasher: Option<Sha256>,
    expected: Hash,
    held: Option<Bytes>,
}

impl Verified {
    fn new(inner: BoxStream<'static, BlobResult<Bytes>>, expected: Hash) -> Self {
        Self {
            inner,
            hasher: Some(Sha256::new()),
            expected,
            held: None,
        }
    }
}

impl Stream for Verified {
    type Item = BlobResult<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        loop {
            let Some(hasher) = this.hasher.as_mut() else {
                return Poll::Ready(None);
            };
            match futures::ready!(this.inner.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => {
                    hasher.update(&chunk);
                    if let Some(previous) = this.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Some(Err(e)) => {
                    this.hasher = None;
                    return Poll::Ready(Some(Err(e)));
                }
                None => {
                    let actual: Hash = this.hasher.take().unwrap_or_default().finalize().into();
                    return Poll::Ready(if actual == this.expected {
                        this.held.take().map(Ok)
                    } else {
                        this.held = None;
                        Some(Err(corrupt(&this.expected, &actual)))
                    });
                }
            }
        }
    }
}

fn parse_key(path: &str) -> Option<(OrgId, Hash)> {
    let mut parts = path.split('/');
    let org: OrgId = parts.next()?.parse().ok()?;
    let prefix = parts.next()?;
    let hex_text = parts.next()?;
    if parts.next().is_some() || !hex_text.starts_with(prefix) || prefix.len() != 2 {
        return None;
    }
    let sha = attest_domain::audit::parse_hash(hex_text)?;
    Some((org, sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_deduplicates_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let org = OrgId::new();
        let a = store
            .put_bytes(org, Bytes::from_static(b"hello"), 100)
            .await
            .unwrap();
        assert!(!a.deduplicated);
        assert_eq!(
            hex::encode(a.sha256),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let b = store
            .put_bytes(org, Bytes::from_static(b"hello"), 100)
            .await
            .unwrap();
        assert!(b.deduplicated);
        assert_eq!(
            store.get_bytes(org, &a.sha256).await.unwrap(),
            Bytes::from_static(b"hello")
        );
        let (blobs, strays) = store.list().await.unwrap();
        assert_eq!(blobs.len(), 1);
        assert!(strays.is_empty(), "{strays:?}");
    }

    #[tokio::test]
    async fn altered_bytes_never_stream_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let org = OrgId::new();
        // Three chunks of the local store's reads, so the stream has a head and a tail.
        let content = vec![7u8; 20 * 1024 * 1024];
        let b = store
            .put_bytes(org, Bytes::from(content.clone()), u64::MAX)
            .await
            .unwrap();
        let read_all = |store: BlobStore| async move {
            let (_, stream) = store.get(org, &b.sha256).await.unwrap();
            stream.collect::<Vec<_>>().await
        };
        let chunks = read_all(store.clone()).await;
        let got: Vec<u8> = chunks
            .into_iter()
            .flat_map(|c| c.unwrap().to_vec())
            .collect();
        assert!(got == content, "intact bytes stream whole");

        // Flip one byte on disk: the stream fails before its last chunk.
        let hex = hex::encode(b.sha256);
        let path = dir.path().join(org.to_string()).join(&hex[..2]).join(&hex);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let chunks = read_all(store.clone()).await;
        let (oks, errs): (Vec<_>, Vec<_>) = chunks.into_iter().partition(Result::is_ok);
        let sent: usize = oks.iter().map(|c| c.as_ref().unwrap().len()).sum();
        assert!(sent < content.len(), "sent {sent} of {}", content.len());
        assert!(matches!(errs.as_slice(), [Err(BlobError::Corrupt { .. })]));
        assert!(matches!(
            store.get_bytes(org, &b.sha256).await,
            Err(BlobError::Corrupt { .. })
        ));
        // Verification re-hashes the raw bytes and reports what they are.
        assert_ne!(store.rehash(org, &b.sha256).await.unwrap(), b.sha256);
    }

    #[tokio::test]
    async fn refuses_oversized_and_wrong_hash_leaving_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let org = OrgId::new();
        let err = store
            .put_bytes(org, Bytes::from_static(b"0123456789"), 5)
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 5 }));
        let stream = futures::stream::iter([Ok::<_, String>(Bytes::from_static(b"abc"))]);
        let err = store
            .put_stream(org, stream, 100, Some([7; 32]))
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::HashMismatch { .. }));
        let stream = futures::stream::iter([
            Ok(Bytes::from_static(b"abc")),
            Err("client went away".to_string()),
        ]);
        let err = store.put_stream(org, stream, 100, None).await.unwrap_err();
        assert!(matches!(err, BlobError::Interrupted(_)));
        let (blobs, strays) = store.list().await.unwrap();
        assert!(
            blobs.is_empty() && strays.is_empty(),
            "{blobs:?} {strays:?}"
        );
    }
}
