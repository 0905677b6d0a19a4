//! The signing key ring: the current key signs, previous keys stay in the JWKS.

use std::path::Path;

use moing_common::token::{Jwk, SigningKeyPair};

use crate::config::Settings;

#[derive(Debug, Clone)]
pub struct KeyRing {
    pub current: SigningKeyPair,
    pub previous: Vec<SigningKeyPair>,
}

impl KeyRing {
    /// Loads the configured keys; without a configured key, development keeps a
    /// generated one under the state directory (created once, reused after).
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        let current = if settings.tokens.signing_key_file.is_empty() {
            if settings.base.env == moing_common::config::Environment::Production {
                anyhow::bail!("tokens.signing_key_file is required in production");
            }
            dev_key(&settings.dev_signing_key_path())?
        } else {
            read_key(Path::new(&settings.tokens.signing_key_file))?
        };
        let previous = settings
            .tokens
            .previous_key_files
            .iter()
            .map(|p| read_key(Path::new(p)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { current, previous })
    }

    pub fn jwks(&self) -> Vec<Jwk> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(SigningKeyPair::jwk)
            .collect()
    }
}

fn read_key(path: &Path) -> anyhow::Result<SigningKeyPair> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read signing key {}: {e}", path.display()))?;
    SigningKeyPair::from_pkcs8_pem(&pem)
}

fn dev_key(path: &Path) -> anyhow::Result<SigningKeyPair> {
    if path.exists() {
        return read_key(path);
    }
    let key = SigningKeyPair::generate();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, key.to_pkcs8_pem()?)?;
    tracing::info!(path = %path.display(), kid = key.kid(), "generated development signing key");
    Ok(key)
}
