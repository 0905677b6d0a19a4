//! Outbound HTTP (social providers, FCM): one reqwest client per use, rustls
//! with the ring provider (no C crypto build), and deadlines on every request.

use std::{sync::Once, time::Duration};

static PROVIDER: Once = Once::new();

/// A client with connect and total deadlines.
pub fn client(connect_timeout: Duration, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(builder(connect_timeout, timeout).build()?)
}

/// The builder behind [`client`], for a use that tunes it further (FCM: HTTP/2
/// without TLS to a local stand-in, the connection pool).
pub fn builder(connect_timeout: Duration, timeout: Duration) -> reqwest::ClientBuilder {
    PROVIDER.call_once(|| {
        // Fails only if another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent("moing-backend")
}
