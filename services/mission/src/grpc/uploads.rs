//! Uploads (`uploads.proto`): presigned PUT URLs for proof photos, profile and
//! team images, and presigned GET URLs for the keys the caller may read.

use chrono::{DateTime, Utc};
use moing_common::{Validator, layer::principal, outbox::timestamp};
use moing_proto::moing::mission::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::Missions;
use crate::{
    domain::{NewUpload, UploadScope, Way, photo_prefix},
    error::MissionError,
};

impl Missions {
    /// The object key of a new upload by `member`, once the scope allows it.
    async fn upload_key(
        &self,
        u: &NewUpload,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<String, MissionError> {
        // Short random names: s3s-fs (devs3) keeps per-object metadata in files
        // named after the key, so keys must stay well under ~150 characters.
        let name = format!("{}.{}", &Uuid::new_v4().simple().to_string()[..16], u.ext);
        Ok(match u.scope {
            UploadScope::ProofPhoto { team, mission } => {
                let (access, m) = self.mission_for(team, mission, member).await?;
                if !access.writable {
                    return Err(MissionError::ReadOnly);
                }
                if !m.open(now) {
                    return Err(MissionError::MissionEnded);
                }
                if m.way != Way::Photo {
                    return Err(MissionError::WayMismatch(
                        "this mission is not proved with photos",
                    ));
                }
                format!("{}{name}", photo_prefix(team, mission, member))
            }
            UploadScope::ProfileImage => format!("members/{member}/profile/{name}"),
            UploadScope::TeamImage(Some(team)) => {
                let access = self.access(team, member).await?;
                if !access.leader {
                    return Err(MissionError::NotLeader);
                }
                format!("teams/{team}/image/{name}")
            }
            // A team image before the team exists: the creator's own upload.
            UploadScope::TeamImage(None) => format!("members/{member}/team-images/{name}"),
        })
    }

    pub(super) async fn create_upload_rpc(
        &self,
        req: Request<pb::CreateUploadRequest>,
    ) -> Result<Response<pb::CreateUploadResponse>, Status> {
        let who = principal(&req)?;
        let now = moing_common::clock::now();
        let upload = NewUpload::try_from(req.get_ref())?;
        let key = self.upload_key(&upload, who.member_id, now).await?;
        let (url, headers) = self
            .storage
            .presign_put(&key, &upload.content_type, upload.content_length)
            .await?;
        Ok(Response::new(pb::CreateUploadResponse {
            upload_url: url,
            http_method: "PUT".into(),
            required_headers: headers.into_iter().collect(),
            object_key: key,
            expires_at: Some(timestamp(
                now + chrono::Duration::seconds(self.storage.put_ttl().as_secs() as i64),
            )),
        }))
    }

    /// Whether `member` may read the object at `key`.
    async fn may_read(&self, key: &str, member: Uuid) -> bool {
        if key.contains("..") {
            return false;
        }
        let parts: Vec<&str> = key.split('/').collect();
        match parts.as_slice() {
            ["members", m, ..] if *m == member.to_string() => true,
            // Profile images of others are display data, shown inside shared teams.
            ["members", _, "profile", _] => true,
            ["teams", t, ..] => match Uuid::parse_str(t) {
                Ok(team) => self.access(team, member).await.is_ok(),
                Err(_) => false,
            },
            _ => false,
        }
    }

    pub(super) async fn get_download_urls_rpc(
        &self,
        req: Request<pb::GetDownloadUrlsRequest>,
    ) -> Result<Response<pb::GetDownloadUrlsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        v.check(
            !r.keys.is_empty() && r.keys.len() <= 100,
            "keys",
            "give 1 to 100 keys",
        );
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (mut urls, mut denied) = (Vec::new(), Vec::new());
        for key in &r.keys {
            if self.may_read(key, who.member_id).await {
                let url = self.storage.presign_get(key).await?;
                urls.push(pb::DownloadUrl {
                    key: key.clone(),
                    url,
                    expires_at: Some(timestamp(
                        now + chrono::Duration::seconds(self.storage.get_ttl().as_secs() as i64),
                    )),
                });
            } else {
                denied.push(key.clone());
            }
        }
        Ok(Response::new(pb::GetDownloadUrlsResponse {
            urls,
            denied_keys: denied,
        }))
    }
}
