//! The archive of reconciliation files in S3.
//!
//! A day's files are written here before they go anywhere else, each object
//! at most once (`If-None-Match: *`), so every later delivery sends the same
//! bytes as the first. Each object carries its SHA-256 as metadata, so that
//! a re-run can tell "already archived" from "archived with other bytes".

use std::path::Path;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

/// The metadata key holding an object's SHA-256 (hex).
const SHA256: &str = "sha256";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("S3: {0}")]
    S3(String),
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug> From<SdkError<E, R>>
    for Error
{
    fn from(err: SdkError<E, R>) -> Self {
        Error::S3(DisplayErrorContext(err).to_string())
    }
}

/// What [`Archive::put_once`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archived {
    /// This call wrote the object.
    Written,
    /// The object was already there with the same SHA-256.
    AlreadyThere,
    /// The object was already there with other bytes: never overwritten.
    Differs,
}

/// The archive bucket.
#[derive(Clone, Debug)]
pub struct Archive {
    client: Client,
    bucket: String,
}

impl Archive {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Archive {
            client,
            bucket: bucket.into(),
        }
    }

    /// The bucket named by `ARCHIVE_BUCKET`. Call once per process, during init.
    pub fn from_env(aws: &SdkConfig) -> Result<Self, Error> {
        let bucket = std::env::var("ARCHIVE_BUCKET")
            .map_err(|_| Error::Config("ARCHIVE_BUCKET is not set".into()))?;
        Ok(Archive::new(Client::new(aws), bucket))
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Writes the object at `key` from the file at `path`, unless an object
    /// is already there: an archived object never changes.
    pub async fn put_once(&self, key: &str, path: &Path, sha256: &str) -> Result<Archived, Error> {
        let body = ByteStream::from_path(path).await.map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        self.put_body_once(key, body, sha256).await
    }

    /// As [`Archive::put_once`], from bytes in memory (manifests, reports).
    pub async fn put_bytes_once(
        &self,
        key: &str,
        bytes: Vec<u8>,
        sha256: &str,
    ) -> Result<Archived, Error> {
        self.put_body_once(key, ByteStream::from(bytes), sha256)
            .await
    }

    /// Writes (or replaces) the object at `key`: reports, which say what a
    /// run found, not what was sent.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await?;
        Ok(())
    }

    /// The keys under `prefix`, in order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            keys.extend(
                page?
                    .contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    async fn put_body_once(
        &self,
        key: &str,
        body: ByteStream,
        sha256: &str,
    ) -> Result<Archived, Error> {
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .metadata(SHA256, sha256)
            .body(body)
            .send()
            .await;
        match put {
            Ok(_) => Ok(Archived::Written),
            // 412: something is there already; 409: a concurrent conditional write.
            Err(err)
                if matches!(
                    err.code(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) =>
            {
                match self.sha256(key).await? {
                    Some(stored) if stored == sha256 => Ok(Archived::AlreadyThere),
                    _ => Ok(Archived::Differs),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The SHA-256 recorded with the object at `key`, if the object exists.
    pub async fn sha256(&self, key: &str) -> Result<Option<String>, Error> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(
                head.metadata()
                    .and_then(|m| m.get(SHA256))
                    .cloned()
                    .unwrap_or_default(),
            )),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The object at `key`, streaming, if it exists.
    pub async fn get(&self, key: &str) -> Result<Option<ByteStream>, Error> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(object) => Ok(Some(object.body)),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The object at `key` as a reader, streaming, if it exists.
    pub async fn reader(
        &self,
        key: &str,
    ) -> Result<Option<impl tokio::io::AsyncBufRead + Unpin + use<>>, Error> {
        Ok(self.get(key).await?.map(ByteStream::into_async_read))
    }

    /// The whole object at `key` in memory (manifests and reports, small).
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let Some(body) = self.get(key).await? else {
            return Ok(None);
        };
        let bytes = body
            .collect()
            .await
            .map_err(|e| Error::S3(format!("reading {key}: {e}")))?;
        Ok(Some(bytes.to_vec()))
    }

    /// Creates the bucket (development and tests; in AWS the template does).
    pub async fn create_bucket(&self) -> Result<(), Error> {
        use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
        let region = self
            .client
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default();
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}
