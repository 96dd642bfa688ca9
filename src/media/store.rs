//! Where media files live: an [`object_store`] behind one handle.
//!
//! Keys are derived from the content: `{sha[0..2]}/{sha}/original.{ext}` for
//! the uploaded file and `{sha[0..2]}/{sha}/{variant}.{ext}` for its resized
//! renditions, so two uploads of the same bytes share one object, and an
//! object's URL never changes what it serves (cacheable forever).

use std::sync::Arc;

use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::MediaStoreUrl;

/// The configured object store, plus a URL signer when it is S3.
#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    signer: Option<Arc<dyn Signer>>,
    prefix: Option<Path>,
    /// Human-readable kind for logs: `local`, `s3` or `memory`.
    pub kind: &'static str,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore").field("kind", &self.kind).field("prefix", &self.prefix).finish()
    }
}

impl MediaStore {
    /// Opens the store named by `MEDIA_STORE_URL`. A local directory is
    /// created if missing. S3 reads credentials, region and endpoint from the
    /// standard `AWS_*` variables (`Settings::media.s3_config`).
    ///
    /// Errors: the directory cannot be created, or the S3 settings are incomplete.
    pub fn open(url: &MediaStoreUrl, s3_config: &[(String, crate::config::Secret)]) -> anyhow::Result<Self> {
        match url {
            MediaStoreUrl::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create media directory {}: {e}", dir.display()))?;
                // Automatic cleanup removes a file's emptied `{sha}` directory on delete.
                let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
                Ok(Self { inner: Arc::new(store), signer: None, prefix: None, kind: "local" })
            }
            MediaStoreUrl::S3 { bucket, prefix } => {
                let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(bucket);
                for (k, v) in s3_config {
                    let key = match k.as_str() {
                        "AWS_DEFAULT_REGION" => "aws_region".to_owned(),
                        other => other.to_ascii_lowercase(),
                    };
                    let key: object_store::aws::AmazonS3ConfigKey =
                        key.parse().map_err(|e| anyhow::anyhow!("{k}: {e}"))?;
                    builder = builder.with_config(key, v.expose());
                }
                let s3 = Arc::new(
                    builder.build().map_err(|e| anyhow::anyhow!("MEDIA_STORE_URL: cannot open s3://{bucket}: {e}"))?,
                );
                let prefix = (!prefix.is_empty()).then(|| Path::from(prefix.as_str()));
                Ok(Self { inner: s3.clone(), signer: Some(s3), prefix, kind: "s3" })
            }
            MediaStoreUrl::Memory => Ok(Self::in_memory()),
        }
    }

    /// A store in process memory (tests).
    pub fn in_memory() -> Self {
        Self { inner: Arc::new(object_store::memory::InMemory::new()), signer: None, prefix: None, kind: "memory" }
    }

    /// The full object path for `key` (adds the S3 prefix).
    pub fn path(&self, key: &str) -> Path {
        match &self.prefix {
            Some(p) => Path::from(format!("{p}/{key}")),
            None => Path::from(key),
        }
    }

    /// Stores `bytes` at `key` (atomic: readers never see a partial object).
    /// `content_type` is kept as the object's `Content-Type` where the store
    /// supports it (S3: what a pre-signed URL serves), with a one-year
    /// immutable `Cache-Control`.
    pub async fn put(&self, key: &str, bytes: bytes::Bytes, content_type: &str) -> object_store::Result<()> {
        let mut attributes = object_store::Attributes::new();
        if self.kind == "s3" {
            attributes.insert(object_store::Attribute::ContentType, content_type.to_owned().into());
            attributes.insert(object_store::Attribute::CacheControl, "public, max-age=31536000, immutable".into());
        }
        let options = object_store::PutOptions { attributes, ..Default::default() };
        self.inner.put_opts(&self.path(key), PutPayload::from_bytes(bytes), options).await.map(|_| ())
    }

    /// Whether an object exists at `key`.
    pub async fn exists(&self, key: &str) -> object_store::Result<bool> {
        match self.inner.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Reads `key`, or the byte `range` of it.
    pub async fn get(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> object_store::Result<object_store::GetResult> {
        let options =
            object_store::GetOptions { range: range.map(object_store::GetRange::Bounded), ..Default::default() };
        self.inner.get_opts(&self.path(key), options).await
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.inner.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A pre-signed GET URL for `key`, valid `secs` seconds; `None` unless the
    /// store is S3.
    pub async fn signed_url(&self, key: &str, secs: u64) -> Option<object_store::Result<url::Url>> {
        let signer = self.signer.as_ref()?;
        Some(
            signer
                .signed_url(object_store::signer::Method::GET, &self.path(key), std::time::Duration::from_secs(secs))
                .await,
        )
    }

    /// Every object key under `prefix` (relative to the store's own prefix).
    pub async fn list(&self, prefix: &str) -> object_store::Result<Vec<String>> {
        use futures_util::TryStreamExt;
        let full = self.path(prefix);
        let metas: Vec<object_store::ObjectMeta> = self.inner.list(Some(&full)).try_collect().await?;
        let strip = self.prefix.as_ref().map(|p| format!("{p}/"));
        Ok(metas
            .into_iter()
            .map(|m| {
                let s = m.location.to_string();
                match &strip {
                    Some(p) => s.strip_prefix(p.as_str()).unwrap_or(&s).to_owned(),
                    None => s,
                }
            })
            .collect())
    }
}
