//! Settings of the mission service: the shared base sections plus its own.

use moing_common::service::BaseSettings;
use serde::{Deserialize, Serialize};

/// Default gRPC port of the mission service.
pub const DEFAULT_PORT: u16 = 50053;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
    /// The private bucket for photos (devs3 locally).
    pub s3: crate::storage::S3Settings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("mission", DEFAULT_PORT),
            s3: Default::default(),
        }
    }
}
