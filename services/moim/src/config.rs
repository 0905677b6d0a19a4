//! Settings of the moim service: the shared base sections plus its own.

use moing_common::service::BaseSettings;
use serde::{Deserialize, Serialize};

/// Default gRPC port of the moim service.
pub const DEFAULT_PORT: u16 = 50052;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("moim", DEFAULT_PORT),
        }
    }
}
