//! Members' display data (nickname, profile image key) from auth's internal
//! BatchGetMembers, in batches of 100. Used by every service that shows authors.

use std::collections::HashMap;

use moing_proto::moing::auth::v1::{
    BatchGetMembersRequest, auth_internal_service_client::AuthInternalServiceClient,
};
use uuid::Uuid;

use crate::client::InternalChannel;

/// Nickname and image key per member id. Empty entries where auth is
/// unavailable: lists still work and names fill in again when auth answers.
pub async fn names(
    client: &AuthInternalServiceClient<InternalChannel>,
    ids: &[Uuid],
) -> HashMap<Uuid, (String, String)> {
    let mut out = HashMap::new();
    let mut unique: Vec<Uuid> = ids.to_vec();
    unique.sort();
    unique.dedup();
    for chunk in unique.chunks(100) {
        let req = BatchGetMembersRequest {
            member_ids: chunk.iter().map(Uuid::to_string).collect(),
        };
        match client.clone().batch_get_members(req).await {
            Ok(resp) => {
                for m in resp.into_inner().members {
                    if let Ok(id) = Uuid::parse_str(&m.member_id) {
                        out.insert(id, (m.nickname, m.image_key));
                    }
                }
            }
            Err(e) => tracing::warn!(code = ?e.code(), "display data unavailable"),
        }
    }
    out
}
