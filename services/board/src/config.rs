//! Settings of the board service: the shared base sections plus its own.

use moing_common::service::BaseSettings;
use serde::{Deserialize, Serialize};

/// Default gRPC port of the board service.
pub const DEFAULT_PORT: u16 = 50054;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub base: BaseSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base: BaseSettings::development("board", DEFAULT_PORT),
        }
    }
}
