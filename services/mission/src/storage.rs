//! Photos in a private S3 bucket (aws-sdk-s3, path-style, static credentials):
//! presigned PUT URLs with the content type and length signed, presigned GET
//! URLs, HeadObject to confirm an upload, DeleteObject when a proof goes.
//! Locally the bucket is the embedded devs3 server, which checks SigV4 for real.

use std::time::Duration;

use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    presigning::PresigningConfig,
};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use serde::{Deserialize, Serialize};

use crate::error::MissionError;

/// Largest accepted image.
pub const MAX_BYTES: i64 = 10 * 1024 * 1024;
/// Accepted image types and their key extensions.
pub const TYPES: [(&str, &str); 4] = [
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("image/heic", "heic"),
];

/// Bytes read from an upload to recognise its format.
pub const SNIFF_BYTES: usize = 16;

/// The accepted content type whose signature `head` (an object's first
/// bytes) carries: JPEG (`FF D8 FF`), PNG (its 8-byte signature), WebP
/// (`RIFF....WEBP`) or HEIC (an ISO-BMFF `ftyp` box with a HEIF brand).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    const HEIF_BRANDS: [&[u8; 4]; 8] = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
    ];
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && HEIF_BRANDS.iter().any(|b| &head[8..12] == *b)
    {
        Some("image/heic")
    } else {
        None
    }
}

/// S3 secret keys of development set-ups: the default (devs3) and compose's MinIO.
pub const DEV_SECRET_KEYS: &[&str] = &["moing-dev-secret", "moing-compose-secret"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Settings {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub put_ttl_secs: u64,
    pub get_ttl_secs: u64,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            bucket: "moing-media".into(),
            access_key: "moing-dev-access".into(),
            secret_key: DEV_SECRET_KEYS[0].into(),
            put_ttl_secs: 300,
            get_ttl_secs: 600,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Storage {
    client: Client,
    bucket: String,
    put_ttl: Duration,
    get_ttl: Duration,
}

/// What HeadObject says about an uploaded object.
#[derive(Debug, Clone)]
pub struct Object {
    pub length: i64,
    pub content_type: String,
}

impl Storage {
    pub fn new(s: &S3Settings) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&s.endpoint)
            .region(Region::new(s.region.clone()))
            .credentials_provider(Credentials::new(
                &s.access_key,
                &s.secret_key,
                None,
                None,
                "moing-static",
            ))
            .force_path_style(true)
            // A presigned PUT cannot carry a checksum of a body the SDK never sees.
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .http_client(http)
            .build();
        Self {
            client: Client::from_conf(config),
            bucket: s.bucket.clone(),
            put_ttl: Duration::from_secs(s.put_ttl_secs),
            get_ttl: Duration::from_secs(s.get_ttl_secs),
        }
    }

    pub fn put_ttl(&self) -> Duration {
        self.put_ttl
    }

    pub fn get_ttl(&self) -> Duration {
        self.get_ttl
    }

    /// A presigned PUT for exactly this type and length; returns URL and headers to send.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: i64,
    ) -> Result<(String, Vec<(String, String)>), MissionError> {
        let config = PresigningConfig::expires_in(self.put_ttl)
            .map_err(|e| MissionError::Internal(e.into()))?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| MissionError::Internal(anyhow::anyhow!("presign put: {e}")))?;
        let headers = req
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok((req.uri().to_owned(), headers))
    }

    pub async fn presign_get(&self, key: &str) -> Result<String, MissionError> {
        let config = PresigningConfig::expires_in(self.get_ttl)
            .map_err(|e| MissionError::Internal(e.into()))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| MissionError::Internal(anyhow::anyhow!("presign get: {e}")))?;
        Ok(req.uri().to_owned())
    }

    /// The object at `key`, or None when nothing was uploaded there.
    pub async fn head(&self, key: &str) -> Result<Option<Object>, MissionError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Object {
                length: out.content_length().unwrap_or(0),
                content_type: out.content_type().unwrap_or("").to_owned(),
            })),
            Err(e) => {
                let not_found = e.as_service_error().is_some_and(|s| s.is_not_found())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if not_found {
                    Ok(None)
                } else {
                    tracing::warn!(error = %e, "s3 head failed");
                    Err(MissionError::Unavailable("photo storage"))
                }
            }
        }
    }

    /// The first `n` bytes of the object at `key` (fewer when it is shorter),
    /// or None when nothing was uploaded there.
    pub async fn prefix(&self, key: &str, n: usize) -> Result<Option<Vec<u8>>, MissionError> {
        let last = n.saturating_sub(1);
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{last}"))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let not_found = e.as_service_error().is_some_and(|s| s.is_no_such_key())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if not_found {
                    return Ok(None);
                }
                tracing::warn!(error = %e, "s3 get failed");
                return Err(MissionError::Unavailable("photo storage"));
            }
        };
        let bytes = out.body.collect().await.map_err(|e| {
            tracing::warn!(error = %e, "s3 read failed");
            MissionError::Unavailable("photo storage")
        })?;
        let mut bytes = bytes.into_bytes().to_vec();
        // A server ignoring the range sends the whole object: keep the prefix.
        bytes.truncate(n);
        Ok(Some(bytes))
    }

    pub async fn delete(&self, key: &str) -> Result<(), MissionError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "s3 delete failed");
                MissionError::Unavailable("photo storage")
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod sniff_tests {
    use super::sniff;

    #[test]
    fn recognises_image_signatures_only() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("image/heic"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0"), Some("image/heic"));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), None);
        assert_eq!(sniff(b"hello, this is text"), None);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }
}
