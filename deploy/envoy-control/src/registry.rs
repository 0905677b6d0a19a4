//! `moing.xds.v1.RegistryInternalService`: registration with heartbeats and expiry.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use moing_common::{ApiError, Validator};
use moing_proto::moing::xds::v1::{
    DeregisterRequest, DeregisterResponse, HeartbeatRequest, HeartbeatResponse, RegisterRequest,
    RegisterResponse, registry_internal_service_server::RegistryInternalService,
};
use tonic::{Code, Request, Response, Status};

use crate::discovery::Discovery;

#[derive(Debug)]
pub struct Registry {
    pub discovery: Arc<Discovery>,
    /// The cluster's service credential; registrations must present it.
    pub service_token: String,
}

impl Registry {
    fn authorize<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let presented = req
            .metadata()
            .get(moing_common::layer::SERVICE_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if presented.len() == self.service_token.len()
            && presented
                .bytes()
                .zip(self.service_token.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0
        {
            Ok(())
        } else {
            Err(ApiError::unauthenticated(
                moing_common::error::reason::SERVICE_CREDENTIAL_REQUIRED,
                "registration needs the service credential",
            )
            .into())
        }
    }
}

fn ttl(requested: u32) -> u32 {
    match requested {
        0 => 15,
        n => n.min(300),
    }
}

#[tonic::async_trait]
impl RegistryInternalService for Registry {
    async fn register(
        &self,
        req: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        self.authorize(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let cluster = v.text("cluster", &r.cluster, 1, 63);
        let port = u16::try_from(r.port).ok().filter(|p| *p > 0);
        v.check(port.is_some(), "port", "must be 1-65535");
        let addr = format!("{}:{}", r.host.trim(), r.port)
            .parse::<SocketAddr>()
            .ok();
        let addr = match addr {
            Some(a) => Some(a),
            None => tokio::net::lookup_host(format!("{}:{}", r.host.trim(), r.port))
                .await
                .ok()
                .and_then(|mut a| a.next()),
        };
        v.check(
            addr.is_some(),
            "host",
            "must be an IP address or a resolvable host name",
        );
        v.finish()?;
        let (Some(addr), ttl) = (addr, ttl(r.ttl_seconds)) else {
            return Err(ApiError::invalid(vec![]).into());
        };
        let lease_id = self
            .discovery
            .register(&cluster, addr, Duration::from_secs(u64::from(ttl)));
        tracing::info!(%cluster, %addr, ttl, "endpoint registered");
        Ok(Response::new(RegisterResponse {
            lease_id,
            ttl_seconds: ttl,
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        self.authorize(&req)?;
        let id = req.into_inner().lease_id;
        if self.discovery.heartbeat(&id, Duration::from_secs(15)) {
            Ok(Response::new(HeartbeatResponse { ttl_seconds: 15 }))
        } else {
            Err(ApiError::new(
                Code::NotFound,
                "LEASE_NOT_FOUND",
                "lease unknown or expired; register again",
            )
            .into())
        }
    }

    async fn deregister(
        &self,
        req: Request<DeregisterRequest>,
    ) -> Result<Response<DeregisterResponse>, Status> {
        self.authorize(&req)?;
        let removed = self.discovery.deregister(&req.into_inner().lease_id);
        Ok(Response::new(DeregisterResponse { removed }))
    }
}
