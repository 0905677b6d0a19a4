//! A TCP forwarder that can simulate a dependency outage (Redis, a database):
//! while down it drops every open connection and refuses new ones at once.

use std::net::SocketAddr;

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct Outage {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    stop: CancellationToken,
}

impl Outage {
    /// Forwards 127.0.0.1:<random> to `target`.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (up, rx) = watch::channel(true);
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = token.cancelled() => break,
                    a = listener.accept() => a,
                };
                let Ok((mut inbound, _)) = accepted else {
                    continue;
                };
                if !*rx.borrow() {
                    continue; // dropped: connection refused in effect
                }
                let mut rx = rx.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = rx.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Ok(Self { addr, up, stop })
    }

    pub fn set_up(&self, up: bool) {
        let _ = self.up.send(up);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
