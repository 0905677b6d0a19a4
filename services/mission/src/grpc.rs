//! `moing.mission.v1.MissionService`, every RPC: missions, uploads and download
//! URLs, proofs and skips, hearts, stickers and comments, pokes, the team score,
//! reports and their review. Thin handlers — validate, check membership through
//! moim (cached), call the store (or `encouragement`, `reports`, `storage`).

use std::{
    collections::{BTreeSet, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use moing_common::{Validator, layer::principal, outbox::timestamp};
use moing_proto::moing::mission::v1::{self as pb, mission_service_server::MissionService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    access::{Access, Memberships},
    domain::{self, Kind, Mission, Way},
    encouragement::{Comment, Encouragement, Reactions},
    error::MissionError,
    progress::{MissionSpan, Span, Standing, standing},
    reports::{Kind as ReportKind, Reports, View},
    storage::{self, MAX_BYTES, SNIFF_BYTES, Storage, TYPES},
    store::{Body, Proof, Store},
};

#[derive(Debug)]
pub struct Missions {
    pub store: Store,
    pub members: Arc<Memberships>,
    pub encouragement: Encouragement,
    pub storage: Storage,
    pub reports: Reports,
}

fn proof_pb(
    p: &Proof,
    me: Uuid,
    today: chrono::NaiveDate,
    r: &Reactions,
    view: &View,
) -> pb::Proof {
    use pb::proof::Body as B;
    let body = if view.withheld {
        None
    } else if p.skipped {
        p.skip_reason.clone().map(B::SkipReason)
    } else if let Some(t) = &p.text {
        Some(B::Text(t.clone()))
    } else if let Some(l) = &p.link_url {
        Some(B::LinkUrl(l.clone()))
    } else {
        p.photo_key.clone().map(|k| {
            B::Photo(moing_proto::moing::common::v1::ImageRef {
                key: k,
                url: String::new(),
            })
        })
    };
    pb::Proof {
        id: p.id.to_string(),
        team_id: p.team_id.to_string(),
        mission_id: p.mission_id.to_string(),
        author: Some(pb::MemberSummary {
            member_id: p.member_id.to_string(),
            ..Default::default()
        }),
        status: if p.skipped {
            pb::ProofStatus::Skipped
        } else {
            pb::ProofStatus::Done
        } as i32,
        way: p.way.number(),
        body,
        caption: if view.withheld {
            String::new()
        } else {
            p.caption.clone()
        },
        day: Some(moing_common::convert::date(p.day)),
        created_at: Some(timestamp(p.created_at)),
        moderation: Some(view.moderation),
        deletable: p.member_id == me && p.day == today,
        heart_count: r.hearts,
        hearted_by_me: r.hearted_by_me,
        stickers: stickers_pb(r),
        comment_count: r.comments,
    }
}

/// Sticker counts as sent to clients.
fn stickers_pb(r: &Reactions) -> Vec<pb::StickerCount> {
    r.stickers
        .iter()
        .map(|(kind, count, mine)| pb::StickerCount {
            kind: *kind,
            count: *count,
            mine: *mine,
        })
        .collect()
}

/// Sticker kinds are 1..=5 (CLAP, FIRE, MUSCLE, PARTY, LOVE).
fn check_sticker(kind: i32) -> Result<(), MissionError> {
    let mut v = Validator::new();
    v.check(
        (1..=5).contains(&kind),
        "kind",
        "must be CLAP, FIRE, MUSCLE, PARTY or LOVE",
    );
    Ok(v.finish()?)
}

fn comment_pb(
    c: &Comment,
    team: Uuid,
    mission: Uuid,
    me: Uuid,
    leader: bool,
    author_is_leader: bool,
    view: &View,
) -> pb::ProofComment {
    pb::ProofComment {
        id: c.id.to_string(),
        team_id: team.to_string(),
        mission_id: mission.to_string(),
        proof_id: c.proof_id.to_string(),
        author: Some(pb::MemberSummary {
            member_id: c.member_id.to_string(),
            ..Default::default()
        }),
        author_is_leader,
        content: if view.withheld {
            String::new()
        } else {
            c.content.clone()
        },
        created_at: Some(timestamp(c.created_at)),
        deletable: c.member_id == me || leader,
        moderation: Some(view.moderation),
    }
}

impl Missions {
    /// The proof an encouragement targets, with the caller's team access.
    async fn target(
        &self,
        team: &str,
        mission: &str,
        proof: &str,
        me: Uuid,
    ) -> Result<(Access, Mission, Proof), MissionError> {
        let mut v = Validator::new();
        let (team, mission) = ids(&mut v, team, mission);
        let proof = v.id("proof_id", proof).unwrap_or_default();
        v.finish()?;
        let (access, m) = self.mission_for(team, mission, me).await?;
        let p = self
            .store
            .proof(mission, proof)
            .await?
            .ok_or(MissionError::ProofNotFound)?;
        Ok((access, m, p))
    }

    /// Among `authors` (any number, repeats allowed): those blocked in either
    /// direction with `me`, in one call to moim per request.
    async fn blocked_authors(
        &self,
        me: Uuid,
        authors: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashSet<Uuid>, MissionError> {
        let others: BTreeSet<Uuid> = authors.into_iter().filter(|a| *a != me).collect();
        let others: Vec<Uuid> = others.into_iter().collect();
        let mut blocked = HashSet::new();
        // moim takes at most 500 candidates a call; a team is far smaller.
        for chunk in others.chunks(500) {
            blocked.extend(self.members.blocked_either_way(me, chunk).await?);
        }
        Ok(blocked)
    }

    async fn access(&self, team: Uuid, member: Uuid) -> Result<Access, MissionError> {
        self.members.check(team, member).await
    }

    async fn mission_for(
        &self,
        team: Uuid,
        id: Uuid,
        member: Uuid,
    ) -> Result<(Access, Mission), MissionError> {
        let access = self.access(team, member).await?;
        let m = self
            .store
            .mission(team, id)
            .await?
            .ok_or(MissionError::MissionNotFound)?;
        Ok((access, m))
    }

    /// A member's progress on a mission: the current period and the totals
    /// (`joined`: first day of their membership, when known).
    pub async fn progress(
        &self,
        m: &Mission,
        member: Uuid,
        joined: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<pb::MissionProgress, MissionError> {
        let rows = self.store.member_rows(m.team_id, m.id, member).await?;
        let spans = [Span {
            from: joined.unwrap_or(NaiveDate::MIN),
            to: None,
        }];
        Ok(progress_pb(m, &standing(m, &spans, &rows, now)))
    }

    async fn mission_pb(
        &self,
        m: &Mission,
        access: &Access,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<pb::Mission, MissionError> {
        let today = m.today(now);
        let from = match m.kind {
            Kind::Once => MissionSpan::of(m, now).start,
            Kind::Repeat => domain::week_start(today),
        };
        let (done_members, done_today) = self.store.done_members(m.id, from, today).await?;
        let mut pb = mission_fields(m);
        pb.can_manage = access.leader || m.maker_id == member;
        pb.my_progress = Some(self.progress(m, member, access.joined_on, now).await?);
        pb.team_progress = Some(pb::TeamMissionProgress {
            member_count: self.members.team_size(m.team_id).await?,
            done_member_count: done_members as i32,
            done_today_member_count: done_today as i32,
        });
        Ok(pb)
    }

    async fn record(
        &self,
        team: Uuid,
        mission: Uuid,
        member: Uuid,
        body: Body,
        caption: &str,
    ) -> Result<(pb::Proof, pb::MissionProgress), MissionError> {
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, mission, member).await?;
        if !access.writable {
            return Err(MissionError::ReadOnly);
        }
        if !m.open(now) {
            return Err(MissionError::MissionEnded);
        }
        match (&body, m.way) {
            (Body::Skip(_), _) | (Body::Text(_), Way::Text) | (Body::Link(_), Way::Link) => {}
            (Body::Photo(key), Way::Photo) => {
                // The key must be this member's upload for this mission, and the
                // object must exist, be an accepted image and within the limit.
                let prefix = format!("teams/{team}/missions/{mission}/{member}/");
                if !key.starts_with(&prefix) || key.contains("..") {
                    return Err(MissionError::UploadScope);
                }
                // One proof per upload (checked here for a clear answer; the
                // unique key uk_proof_photo settles races).
                if self.store.photo_in_use(key).await? {
                    return Err(MissionError::UploadAlreadyUsed);
                }
                let object = self
                    .storage
                    .head(key)
                    .await?
                    .ok_or(MissionError::UploadNotFound)?;
                if object.length > MAX_BYTES {
                    return Err(MissionError::UploadTooLarge);
                }
                if !TYPES.iter().any(|(t, _)| *t == object.content_type) {
                    return Err(MissionError::UploadType);
                }
                // The declared type is the client's word: the first bytes must
                // be an accepted image's signature.
                let head = self
                    .storage
                    .prefix(key, SNIFF_BYTES)
                    .await?
                    .ok_or(MissionError::UploadNotFound)?;
                if storage::sniff(&head).is_none() {
                    return Err(MissionError::UploadNotImage);
                }
            }
            _ => {
                return Err(MissionError::WayMismatch(
                    "the proof does not match the mission's way",
                ));
            }
        }
        let active = self.members.team_members(team).await?.len();
        let p = self
            .store
            .submit(&m, &access.team_name, member, body, caption, now, active)
            .await?;
        Ok((
            proof_pb(
                &p,
                member,
                m.today(now),
                &Reactions::default(),
                &View {
                    moderation: pb::Moderation {
                        visibility: pb::ContentVisibility::Visible as i32,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            ),
            self.progress(&m, member, access.joined_on, now).await?,
        ))
    }
}

/// A mission's own fields; progress and `can_manage` are the caller's to fill.
pub fn mission_fields(m: &Mission) -> pb::Mission {
    pb::Mission {
        id: m.id.to_string(),
        team_id: m.team_id.to_string(),
        title: m.title.clone(),
        content: m.content.clone(),
        rule: m.rule.clone(),
        kind: m.kind.number(),
        way: m.way.number(),
        deadline: m.deadline.map(timestamp),
        times_per_week: m.times_per_week.unwrap_or(0),
        state: if m.ended {
            pb::MissionState::Ended
        } else {
            pb::MissionState::Active
        } as i32,
        end_reason: match m.end_reason.as_deref() {
            Some("MANUAL") => pb::MissionEndReason::Manual,
            Some("DEADLINE") => pb::MissionEndReason::Deadline,
            Some("TEAM_ENDED") => pb::MissionEndReason::TeamEnded,
            _ => pb::MissionEndReason::Unspecified,
        } as i32,
        ended_at: m.ended_at.map(timestamp),
        maker_member_id: m.maker_id.to_string(),
        created_at: Some(timestamp(m.created_at)),
        updated_at: Some(timestamp(m.updated_at)),
        ..Default::default()
    }
}

/// The wire form of a member's standing on a mission.
pub fn progress_pb(m: &Mission, s: &Standing) -> pb::MissionProgress {
    let slot_status = match &s.slot {
        None => pb::ProofSlotStatus::Open,
        Some(p) if !p.done => pb::ProofSlotStatus::Skipped,
        Some(_) => pb::ProofSlotStatus::Done,
    };
    let result = if !m.ended {
        pb::MissionResult::Unspecified
    } else if s.totals.required == 0 {
        pb::MissionResult::NotRequired
    } else if s.totals.done >= s.totals.required {
        pb::MissionResult::Completed
    } else if s.totals.done > 0 {
        pb::MissionResult::Partial
    } else if s.totals.skipped > 0 {
        pb::MissionResult::Skipped
    } else {
        pb::MissionResult::Missed
    };
    pb::MissionProgress {
        period_start: Some(moing_common::convert::date(s.period.0)),
        period_end: Some(moing_common::convert::date(s.period.1)),
        done_count: s.done,
        required_count: s.required,
        skipped_count: s.skipped,
        period_complete: s.done >= s.required,
        slot_status: slot_status as i32,
        slot_proof_id: s.slot.map(|p| p.id.to_string()).unwrap_or_default(),
        can_submit: s.can_submit,
        last_done_at: s.last_done_at.map(timestamp),
        total_done_count: s.totals.done,
        total_required_count: s.totals.required,
        result: result as i32,
    }
}

fn ids(v: &mut Validator, team: &str, mission: &str) -> (Uuid, Uuid) {
    (
        v.id("team_id", team).unwrap_or_default(),
        v.id("mission_id", mission).unwrap_or_default(),
    )
}

#[tonic::async_trait]
impl MissionService for Missions {
    async fn create_mission(
        &self,
        req: Request<pb::CreateMissionRequest>,
    ) -> Result<Response<pb::CreateMissionResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let title = v.text("title", &r.title, 1, 30);
        let content = v.text("content", &r.content, 0, 300);
        let rule = v.text("rule", &r.rule, 0, 100);
        let kind = Kind::from_number(r.kind);
        v.check(kind.is_some(), "kind", "must be ONCE or REPEAT");
        let way = Way::from_number(r.way);
        v.check(way.is_some(), "way", "must be TEXT, PHOTO or LINK");
        let deadline = v.timestamp("deadline", r.deadline.as_ref());
        let deadline_valid = r.deadline.is_none() || deadline.is_some();
        match kind {
            Some(Kind::Once) => {
                v.check(
                    !deadline_valid || deadline.is_some_and(|d| d > now),
                    "deadline",
                    "a ONCE mission needs a future deadline",
                );
                v.check(
                    deadline.is_none_or(|d| d < now + Duration::days(366)),
                    "deadline",
                    "must be within a year",
                );
                v.check(
                    r.times_per_week == 0,
                    "times_per_week",
                    "only REPEAT missions have a weekly target",
                );
            }
            Some(Kind::Repeat) => {
                v.check(
                    (1..=7).contains(&r.times_per_week),
                    "times_per_week",
                    "must be 1..7",
                );
                v.check(
                    r.deadline.is_none(),
                    "deadline",
                    "REPEAT missions end with the team or by hand",
                );
            }
            None => {}
        }
        v.finish().map_err(MissionError::from)?;
        let (Some(kind), Some(way)) = (kind, way) else {
            return Err(MissionError::Invalid(vec![]).into());
        };
        let access = self.access(team, who.member_id).await?;
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if kind == Kind::Repeat && !access.leader {
            return Err(MissionError::RepeatNeedsLeader.into());
        }
        let m = Mission {
            id: Uuid::now_v7(),
            team_id: team,
            title,
            content,
            rule,
            kind,
            way,
            deadline,
            times_per_week: (kind == Kind::Repeat).then_some(r.times_per_week),
            ended: false,
            end_reason: None,
            ended_at: None,
            maker_id: who.member_id,
            time_zone: access.time_zone.clone(),
            created_at: now,
            updated_at: now,
        };
        self.store.create(&m, &access.team_name).await?;
        Ok(Response::new(pb::CreateMissionResponse {
            mission: Some(self.mission_pb(&m, &access, who.member_id, now).await?),
        }))
    }

    async fn get_mission(
        &self,
        req: Request<pb::GetMissionRequest>,
    ) -> Result<Response<pb::GetMissionResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &req.get_ref().team_id, &req.get_ref().mission_id);
        v.finish().map_err(MissionError::from)?;
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        Ok(Response::new(pb::GetMissionResponse {
            mission: Some(
                self.mission_pb(&m, &access, who.member_id, moing_common::clock::now())
                    .await?,
            ),
        }))
    }

    async fn list_missions(
        &self,
        req: Request<pb::ListMissionsRequest>,
    ) -> Result<Response<pb::ListMissionsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let ended = match r.state {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => {
                v.violation("state", "must be ACTIVE or ENDED");
                None
            }
        };
        v.check((0..=2).contains(&r.kind), "kind", "must be ONCE or REPEAT");
        v.finish().map_err(MissionError::from)?;
        let access = self.access(team, who.member_id).await?;
        let now = moing_common::clock::now();
        let all: Vec<Mission> = self
            .store
            .missions(team, ended)
            .await?
            .into_iter()
            .filter(|m| r.kind == 0 || m.kind.number() == r.kind)
            .collect();
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let mut missions = Vec::with_capacity(chunk.len());
        for m in &chunk {
            missions.push(self.mission_pb(m, &access, who.member_id, now).await?);
        }
        Ok(Response::new(pb::ListMissionsResponse {
            missions,
            next_page_token: next,
        }))
    }

    async fn list_my_missions(
        &self,
        req: Request<pb::ListMyMissionsRequest>,
    ) -> Result<Response<pb::ListMyMissionsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let ended = match r.state {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => {
                v.violation("state", "must be ACTIVE or ENDED");
                None
            }
        };
        v.check((0..=2).contains(&r.kind), "kind", "must be ONCE or REPEAT");
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let mut all = Vec::new();
        for team in self.members.member_teams(who.member_id).await? {
            let Ok(team_id) = Uuid::parse_str(&team.team_id) else {
                continue;
            };
            for m in self.store.missions(team_id, ended).await? {
                if r.kind == 0 || m.kind.number() == r.kind {
                    all.push((team.name.clone(), m));
                }
            }
        }
        all.sort_by_key(|(_, m)| std::cmp::Reverse(m.created_at));
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let mut missions = Vec::with_capacity(chunk.len());
        for (team_name, m) in &chunk {
            let access = self.access(m.team_id, who.member_id).await?;
            missions.push(pb::MyMission {
                mission: Some(self.mission_pb(m, &access, who.member_id, now).await?),
                team_name: team_name.clone(),
            });
        }
        Ok(Response::new(pb::ListMyMissionsResponse {
            missions,
            next_page_token: next,
        }))
    }

    async fn create_upload(
        &self,
        req: Request<pb::CreateUploadRequest>,
    ) -> Result<Response<pb::CreateUploadResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let ext = TYPES
            .iter()
            .find(|(t, _)| *t == r.content_type.trim())
            .map(|(_, e)| *e);
        if r.content_length <= 0 {
            v.violation("content_length", "must be positive");
        }
        v.check(
            (1..=3).contains(&r.purpose),
            "purpose",
            "must be PROOF_PHOTO, PROFILE_IMAGE or TEAM_IMAGE",
        );
        let team = if r.team_id.is_empty() {
            None
        } else {
            v.id("team_id", &r.team_id)
        };
        let mission = if r.mission_id.is_empty() {
            None
        } else {
            v.id("mission_id", &r.mission_id)
        };
        match r.purpose {
            1 => {
                v.check(team.is_some(), "team_id", "is required for a proof photo");
                v.check(
                    mission.is_some(),
                    "mission_id",
                    "is required for a proof photo",
                );
            }
            2 => v.check(
                team.is_none() && mission.is_none(),
                "team_id",
                "a profile image belongs to no team",
            ),
            3 => v.check(
                mission.is_none(),
                "mission_id",
                "a team image belongs to no mission",
            ),
            _ => {}
        }
        v.finish().map_err(MissionError::from)?;
        let Some(ext) = ext else {
            return Err(MissionError::UploadType.into());
        };
        if r.content_length > MAX_BYTES {
            return Err(MissionError::UploadTooLarge.into());
        }
        // Short random names: s3s-fs (devs3) keeps per-object metadata in files
        // named after the key, so keys must stay well under ~150 characters.
        let name = format!("{}.{ext}", &Uuid::new_v4().simple().to_string()[..16]);
        let key = match (r.purpose, team, mission) {
            (1, Some(team), Some(mission)) => {
                let (access, m) = self.mission_for(team, mission, who.member_id).await?;
                if !access.writable {
                    return Err(MissionError::ReadOnly.into());
                }
                if !m.open(now) {
                    return Err(MissionError::MissionEnded.into());
                }
                if m.way != Way::Photo {
                    return Err(MissionError::WayMismatch(
                        "this mission is not proved with photos",
                    )
                    .into());
                }
                format!("teams/{team}/missions/{mission}/{}/{name}", who.member_id)
            }
            (2, _, _) => format!("members/{}/profile/{name}", who.member_id),
            (3, Some(team), _) => {
                let access = self.access(team, who.member_id).await?;
                if !access.leader {
                    return Err(MissionError::NotLeader.into());
                }
                format!("teams/{team}/image/{name}")
            }
            // A team image before the team exists: the creator's own upload.
            (3, None, _) => format!("members/{}/team-images/{name}", who.member_id),
            _ => return Err(MissionError::Invalid(vec![]).into()),
        };
        let (url, headers) = self
            .storage
            .presign_put(&key, r.content_type.trim(), r.content_length)
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

    async fn get_download_urls(
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
            let parts: Vec<&str> = key.split('/').collect();
            let allowed = if key.contains("..") {
                false
            } else {
                match parts.as_slice() {
                    ["members", m, ..] if *m == who.member_id.to_string() => true,
                    // Profile images of others are display data, shown inside shared teams.
                    ["members", _, "profile", _] => true,
                    ["teams", t, ..] => match Uuid::parse_str(t) {
                        Ok(team) => self.access(team, who.member_id).await.is_ok(),
                        Err(_) => false,
                    },
                    _ => false,
                }
            };
            if allowed {
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

    async fn list_poke_targets(
        &self,
        req: Request<pb::ListPokeTargetsRequest>,
    ) -> Result<Response<pb::ListPokeTargetsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (_, m) = self.mission_for(team, id, who.member_id).await?;
        if !m.open(now) {
            return Err(MissionError::MissionEnded.into());
        }
        let roster: Vec<(Uuid, NaiveDate)> = self
            .members
            .team_members(team)
            .await?
            .into_iter()
            .filter(|(x, _)| *x != who.member_id)
            .collect();
        let members: Vec<Uuid> = roster.iter().map(|(x, _)| *x).collect();
        let blocked = self
            .members
            .blocked_either_way(who.member_id, &members)
            .await?;
        let mut targets = Vec::new();
        for (member, joined) in roster.into_iter().filter(|(x, _)| !blocked.contains(x)) {
            let progress = self.progress(&m, member, Some(joined), now).await?;
            if progress.period_complete || progress.slot_status == pb::ProofSlotStatus::Done as i32
            {
                continue;
            }
            let last =
                crate::pokes::last_poke(&self.encouragement.pool, who.member_id, member).await?;
            let next = last.map(|t| t + Duration::hours(1)).filter(|t| *t > now);
            targets.push(pb::PokeTarget {
                member: Some(pb::MemberSummary {
                    member_id: member.to_string(),
                    ..Default::default()
                }),
                done_count: progress.done_count,
                required_count: progress.required_count,
                can_poke_now: next.is_none(),
                next_poke_at: next.map(timestamp),
                last_poked_by_me_at: last.map(timestamp),
            });
        }
        let mut v = Validator::new();
        let (chunk, next) = v.page(&targets, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        Ok(Response::new(pb::ListPokeTargetsResponse {
            targets: chunk,
            next_page_token: next,
        }))
    }

    async fn poke_member(
        &self,
        req: Request<pb::PokeMemberRequest>,
    ) -> Result<Response<pb::PokeMemberResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let target = v
            .id("target_member_id", &r.target_member_id)
            .unwrap_or_default();
        let message = v.text("message", &r.message, 0, 100);
        v.finish().map_err(MissionError::from)?;
        if target == who.member_id {
            return Err(MissionError::PokeSelf.into());
        }
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if !m.open(now) {
            return Err(MissionError::MissionEnded.into());
        }
        let Ok(target_access) = self.members.check(team, target).await else {
            return Err(MissionError::PokeTargetNotFound.into());
        };
        if !self
            .members
            .blocked_either_way(who.member_id, &[target])
            .await?
            .is_empty()
        {
            return Err(MissionError::PokeTargetNotFound.into());
        }
        let progress = self
            .progress(&m, target, target_access.joined_on, now)
            .await?;
        if progress.period_complete || progress.slot_status == pb::ProofSlotStatus::Done as i32 {
            return Err(MissionError::PokeTargetDone.into());
        }
        let Some(poke) = crate::pokes::poke(
            &self.encouragement.pool,
            self.store.outbox(),
            &m,
            &access.team_name,
            who.member_id,
            target,
            &message,
            now,
        )
        .await?
        else {
            let last = crate::pokes::last_poke(&self.encouragement.pool, who.member_id, target)
                .await?
                .unwrap_or(now);
            let wait = (last + Duration::hours(1) - now).num_seconds().max(1);
            return Err(MissionError::PokeTooSoon(wait).into());
        };
        Ok(Response::new(pb::PokeMemberResponse {
            poke: Some(pb::Poke {
                id: poke.to_string(),
                team_id: team.to_string(),
                mission_id: id.to_string(),
                sender_member_id: who.member_id.to_string(),
                target_member_id: target.to_string(),
                message,
                created_at: Some(timestamp(now)),
            }),
            next_poke_at: Some(timestamp(now + Duration::hours(1))),
        }))
    }

    async fn get_team_score(
        &self,
        req: Request<pb::GetTeamScoreRequest>,
    ) -> Result<Response<pb::GetTeamScoreResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let team = v.id("team_id", &req.get_ref().team_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        self.access(team, who.member_id).await?;
        let (points, updated) = crate::pokes::team_score(&self.encouragement.pool, team).await?;
        Ok(Response::new(pb::GetTeamScoreResponse {
            score: Some(crate::pokes::score_pb(team, points, updated, true)),
        }))
    }

    async fn report_proof(
        &self,
        req: Request<pb::ReportProofRequest>,
    ) -> Result<Response<pb::ReportProofResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let text = v.text("text", &r.text, 0, 300);
        v.finish().map_err(MissionError::from)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.reports
            .report(
                ReportKind::Proof,
                p.id,
                m.team_id,
                m.id,
                p.member_id,
                who.member_id,
                r.reason,
                &text,
            )
            .await?;
        let view = self
            .reports
            .view(
                ReportKind::Proof,
                p.id,
                who.member_id,
                p.member_id,
                access.leader,
            )
            .await?;
        Ok(Response::new(pb::ReportProofResponse {
            moderation: Some(view.moderation),
        }))
    }

    async fn report_proof_comment(
        &self,
        req: Request<pb::ReportProofCommentRequest>,
    ) -> Result<Response<pb::ReportProofCommentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let text = v.text("text", &r.text, 0, 300);
        let comment = v.id("comment_id", &r.comment_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let c = self
            .encouragement
            .comments(p.id)
            .await?
            .into_iter()
            .find(|c| c.id == comment)
            .ok_or(MissionError::CommentNotFound)?;
        self.reports
            .report(
                ReportKind::Comment,
                c.id,
                m.team_id,
                m.id,
                c.member_id,
                who.member_id,
                r.reason,
                &text,
            )
            .await?;
        let view = self
            .reports
            .view(
                ReportKind::Comment,
                c.id,
                who.member_id,
                c.member_id,
                access.leader,
            )
            .await?;
        Ok(Response::new(pb::ReportProofCommentResponse {
            moderation: Some(view.moderation),
        }))
    }

    async fn list_reported_content(
        &self,
        req: Request<pb::ListReportedContentRequest>,
    ) -> Result<Response<pb::ListReportedContentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let state = match r.state {
            0 => None,
            1 => Some("PENDING"),
            2 => Some("RESTORED"),
            3 => Some("REMOVED"),
            _ => {
                v.violation("state", "must be PENDING, RESTORED or REMOVED");
                None
            }
        };
        v.finish().map_err(MissionError::from)?;
        let access = self.access(team, who.member_id).await?;
        let mut items = Vec::new();
        for (kind, id, st, hidden, reviewed, reasons) in self.reports.moderated(team, state).await?
        {
            // The leader reviews everything; others see reports on their own content.
            let (author, mission): (Option<Uuid>, Option<Uuid>) = match kind {
                ReportKind::Proof => {
                    let row: Option<(Uuid, Uuid)> =
                        sqlx::query_as("SELECT member_id, mission_id FROM proof WHERE id = ?")
                            .bind(id)
                            .fetch_optional(&self.encouragement.pool)
                            .await
                            .map_err(MissionError::from)?;
                    (row.map(|r| r.0), row.map(|r| r.1))
                }
                ReportKind::Comment => {
                    let row: Option<(Uuid, Uuid)> = sqlx::query_as("SELECT c.member_id, p.mission_id FROM proof_comment c JOIN proof p ON p.id = c.proof_id WHERE c.id = ?").bind(id).fetch_optional(&self.encouragement.pool).await.map_err(MissionError::from)?;
                    (row.map(|r| r.0), row.map(|r| r.1))
                }
            };
            if !access.leader && author != Some(who.member_id) {
                continue;
            }
            items.push(pb::ReportedContent {
                kind: kind.number(),
                content_id: id.to_string(),
                mission_id: mission.map(|m| m.to_string()).unwrap_or_default(),
                report_count: reasons.iter().map(|(_, n)| n).sum(),
                reasons: reasons
                    .iter()
                    .map(|(reason, count)| pb::ReportReasonCount {
                        reason: *reason,
                        count: *count,
                    })
                    .collect(),
                state: match st.as_str() {
                    "REMOVED" => pb::ReviewState::Removed,
                    "RESTORED" => pb::ReviewState::Restored,
                    _ => pb::ReviewState::Pending,
                } as i32,
                hidden_at: Some(timestamp(hidden)),
                reviewed_at: reviewed.map(timestamp),
                ..Default::default()
            });
        }
        let mut v = Validator::new();
        let (chunk, next) = v.page(&items, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        Ok(Response::new(pb::ListReportedContentResponse {
            items: chunk,
            next_page_token: next,
        }))
    }

    async fn review_reported_content(
        &self,
        req: Request<pb::ReviewReportedContentRequest>,
    ) -> Result<Response<pb::ReviewReportedContentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let id = v.id("content_id", &r.content_id).unwrap_or_default();
        v.check(
            (1..=2).contains(&r.kind),
            "kind",
            "must be PROOF or PROOF_COMMENT",
        );
        v.check(
            (1..=2).contains(&r.decision),
            "decision",
            "must be RESTORE or REMOVE",
        );
        v.finish().map_err(MissionError::from)?;
        let access = self.access(team, who.member_id).await?;
        let kind = if r.kind == 1 {
            ReportKind::Proof
        } else {
            ReportKind::Comment
        };
        // Who wrote it: the proof's or the comment's author, within this team.
        let author: Option<Uuid> = match kind {
            ReportKind::Proof => {
                sqlx::query_scalar("SELECT member_id FROM proof WHERE id = ? AND team_id = ?")
                    .bind(id)
                    .bind(team)
                    .fetch_optional(&self.encouragement.pool)
                    .await
                    .map_err(MissionError::from)?
            }
            ReportKind::Comment => sqlx::query_scalar(
                "SELECT member_id FROM proof_comment WHERE id = ? AND team_id = ?",
            )
            .bind(id)
            .bind(team)
            .fetch_optional(&self.encouragement.pool)
            .await
            .map_err(MissionError::from)?,
        };
        let author = author.ok_or(match kind {
            ReportKind::Proof => MissionError::ProofNotFound,
            ReportKind::Comment => MissionError::CommentNotFound,
        })?;
        // The author may ask for a review; the leader decides (PRODUCT.md §6).
        if !access.leader {
            return Err(MissionError::NotLeader.into());
        }
        if author == who.member_id {
            return Err(MissionError::CannotReviewOwn.into());
        }
        self.reports
            .review(kind, id, team, who.member_id, r.decision == 2)
            .await?;
        let view = self
            .reports
            .view(kind, id, who.member_id, author, access.leader)
            .await?;
        Ok(Response::new(pb::ReviewReportedContentResponse {
            item: Some(pb::ReportedContent {
                kind: r.kind,
                content_id: id.to_string(),
                report_count: view.moderation.report_count,
                state: match view.state.as_deref() {
                    Some("REMOVED") => pb::ReviewState::Removed,
                    Some("RESTORED") => pb::ReviewState::Restored,
                    _ => pb::ReviewState::Pending,
                } as i32,
                hidden_at: view.hidden_at.map(timestamp),
                reviewed_at: view.reviewed_at.map(timestamp),
                ..Default::default()
            }),
        }))
    }

    async fn add_heart(
        &self,
        req: Request<pb::AddHeartRequest>,
    ) -> Result<Response<pb::AddHeartResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        if p.member_id == who.member_id {
            return Err(MissionError::OwnProof.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        self.encouragement
            .heart(&m, &access.team_name, &p, who.member_id)
            .await?;
        let r = self.encouragement.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::AddHeartResponse {
            heart_count: r.hearts,
            hearted_by_me: r.hearted_by_me,
        }))
    }

    async fn remove_heart(
        &self,
        req: Request<pb::RemoveHeartRequest>,
    ) -> Result<Response<pb::RemoveHeartResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let (_, _, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.encouragement.unheart(&p, who.member_id).await?;
        let r = self.encouragement.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::RemoveHeartResponse {
            heart_count: r.hearts,
            hearted_by_me: r.hearted_by_me,
        }))
    }

    async fn add_sticker(
        &self,
        req: Request<pb::AddStickerRequest>,
    ) -> Result<Response<pb::AddStickerResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        check_sticker(r.kind)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        if p.member_id == who.member_id {
            return Err(MissionError::OwnProof.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        self.encouragement
            .sticker(&m, &access.team_name, &p, who.member_id, r.kind)
            .await?;
        let reactions = self.encouragement.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::AddStickerResponse {
            stickers: stickers_pb(&reactions),
        }))
    }

    async fn remove_sticker(
        &self,
        req: Request<pb::RemoveStickerRequest>,
    ) -> Result<Response<pb::RemoveStickerResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        check_sticker(r.kind)?;
        let (_, _, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.encouragement
            .unsticker(&p, who.member_id, r.kind)
            .await?;
        let reactions = self.encouragement.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::RemoveStickerResponse {
            stickers: stickers_pb(&reactions),
        }))
    }

    async fn create_proof_comment(
        &self,
        req: Request<pb::CreateProofCommentRequest>,
    ) -> Result<Response<pb::CreateProofCommentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let content = v.text("content", &r.content, 1, 300);
        v.finish().map_err(MissionError::from)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        let c = self
            .encouragement
            .comment(&m, &access.team_name, &p, who.member_id, &content)
            .await?;
        Ok(Response::new(pb::CreateProofCommentResponse {
            comment: Some(comment_pb(
                &c,
                m.team_id,
                m.id,
                who.member_id,
                access.leader,
                access.leader,
                &View::visible(),
            )),
        }))
    }

    async fn list_proof_comments(
        &self,
        req: Request<pb::ListProofCommentsRequest>,
    ) -> Result<Response<pb::ListProofCommentsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let all = self.encouragement.comments(p.id).await?;
        // Comments of members blocked in either direction disappear, as their proofs do.
        let blocked = self
            .blocked_authors(who.member_id, all.iter().map(|c| c.member_id))
            .await?;
        let all: Vec<_> = all
            .into_iter()
            .filter(|c| !blocked.contains(&c.member_id))
            .collect();
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let mut comments = Vec::with_capacity(chunk.len());
        for c in &chunk {
            let view = self
                .reports
                .view(
                    ReportKind::Comment,
                    c.id,
                    who.member_id,
                    c.member_id,
                    access.leader,
                )
                .await?;
            comments.push(comment_pb(
                c,
                m.team_id,
                m.id,
                who.member_id,
                access.leader,
                false,
                &view,
            ));
        }
        Ok(Response::new(pb::ListProofCommentsResponse {
            comments,
            next_page_token: next,
        }))
    }

    async fn delete_proof_comment(
        &self,
        req: Request<pb::DeleteProofCommentRequest>,
    ) -> Result<Response<pb::DeleteProofCommentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let comment = v.id("comment_id", &r.comment_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let (access, _, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let c = self
            .encouragement
            .comments(p.id)
            .await?
            .into_iter()
            .find(|c| c.id == comment)
            .ok_or(MissionError::CommentNotFound)?;
        if c.member_id != who.member_id && !access.leader {
            return Err(MissionError::NotCommentAuthorOrLeader.into());
        }
        let comment_count = self.encouragement.delete_comment(p.id, c.id).await?;
        Ok(Response::new(pb::DeleteProofCommentResponse {
            comment_count,
        }))
    }

    async fn update_mission(
        &self,
        req: Request<pb::UpdateMissionRequest>,
    ) -> Result<Response<pb::UpdateMissionResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(
            !paths.is_empty(),
            "update_mask",
            "list the fields to change",
        );
        v.finish().map_err(MissionError::from)?;
        let (access, mut m) = self.mission_for(team, id, who.member_id).await?;
        if !(access.leader || m.maker_id == who.member_id) {
            return Err(MissionError::NotMakerOrLeader.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if m.ended {
            return Err(MissionError::MissionEnded.into());
        }
        let input = r.mission.unwrap_or_default();
        let mut v = Validator::new();
        for p in &paths {
            match (p.as_str(), m.kind) {
                ("title", _) => m.title = v.text("mission.title", &input.title, 1, 30),
                ("content", _) => m.content = v.text("mission.content", &input.content, 0, 300),
                ("rule", _) => m.rule = v.text("mission.rule", &input.rule, 0, 100),
                ("deadline", Kind::Once) => {
                    let d = v.timestamp("mission.deadline", input.deadline.as_ref());
                    v.check(
                        input.deadline.is_some() && d.is_none_or(|d| d > now),
                        "mission.deadline",
                        "must be in the future",
                    );
                    v.check(
                        d.is_none_or(|d| d < now + Duration::days(366)),
                        "mission.deadline",
                        "must be within a year",
                    );
                    m.deadline = d.or(m.deadline);
                }
                ("times_per_week", Kind::Repeat) => {
                    v.check(
                        (1..=7).contains(&input.times_per_week),
                        "mission.times_per_week",
                        "must be 1..7",
                    );
                    m.times_per_week = Some(input.times_per_week);
                }
                (other, _) => v.violation(
                    "update_mask",
                    format!("path {other:?} cannot be changed on this mission"),
                ),
            }
        }
        v.finish().map_err(MissionError::from)?;
        self.store.update(&m, who.member_id, paths.clone()).await?;
        let m = self
            .store
            .mission(team, id)
            .await?
            .ok_or(MissionError::MissionNotFound)?;
        Ok(Response::new(pb::UpdateMissionResponse {
            mission: Some(self.mission_pb(&m, &access, who.member_id, now).await?),
        }))
    }

    async fn end_mission(
        &self,
        req: Request<pb::EndMissionRequest>,
    ) -> Result<Response<pb::EndMissionResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &req.get_ref().team_id, &req.get_ref().mission_id);
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        if !(access.leader || m.maker_id == who.member_id) {
            return Err(MissionError::NotMakerOrLeader.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if !self
            .store
            .end(&m, Some(who.member_id), "MANUAL", now)
            .await?
        {
            return Err(MissionError::MissionEnded.into());
        }
        let m = self
            .store
            .mission(team, id)
            .await?
            .ok_or(MissionError::MissionNotFound)?;
        Ok(Response::new(pb::EndMissionResponse {
            mission: Some(self.mission_pb(&m, &access, who.member_id, now).await?),
        }))
    }

    async fn submit_proof(
        &self,
        req: Request<pb::SubmitProofRequest>,
    ) -> Result<Response<pb::SubmitProofResponse>, Status> {
        use pb::submit_proof_request::Body as B;
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let caption = v.text("caption", &r.caption, 0, 300);
        let body = match r.body {
            Some(B::Text(t)) => Some(Body::Text(v.text("text", &t, 1, 1000))),
            Some(B::LinkUrl(l)) => {
                v.check(domain::valid_link(&l), "link_url", "must be an http(s) URL");
                Some(Body::Link(l.trim().to_owned()))
            }
            Some(B::PhotoKey(k)) => Some(Body::Photo(v.text("photo_key", &k, 1, 300))),
            None => {
                v.violation("body", "one of text, link_url or photo_key is required");
                None
            }
        };
        v.finish().map_err(MissionError::from)?;
        let body = body.ok_or(MissionError::Invalid(vec![]))?;
        let (proof, progress) = self.record(team, id, who.member_id, body, &caption).await?;
        Ok(Response::new(pb::SubmitProofResponse {
            proof: Some(proof),
            my_progress: Some(progress),
        }))
    }

    async fn skip_mission(
        &self,
        req: Request<pb::SkipMissionRequest>,
    ) -> Result<Response<pb::SkipMissionResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let reason = v.text("reason", &r.reason, 1, 300);
        v.finish().map_err(MissionError::from)?;
        let (proof, progress) = self
            .record(team, id, who.member_id, Body::Skip(reason), "")
            .await?;
        Ok(Response::new(pb::SkipMissionResponse {
            proof: Some(proof),
            my_progress: Some(progress),
        }))
    }

    async fn delete_proof(
        &self,
        req: Request<pb::DeleteProofRequest>,
    ) -> Result<Response<pb::DeleteProofResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let proof_id = v.id("proof_id", &r.proof_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        let p = self
            .store
            .proof(id, proof_id)
            .await?
            .ok_or(MissionError::ProofNotFound)?;
        if p.member_id != who.member_id {
            return Err(MissionError::NotProofAuthor.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if p.day != m.today(now) {
            return Err(MissionError::ProofNotToday.into());
        }
        self.store.delete_proof(&p, now).await?;
        // A deleted photo proof takes its object with it (after the commit; a
        // failure leaves an orphan object, logged, never a broken proof).
        if let Some(key) = &p.photo_key
            && let Err(e) = self.storage.delete(key).await
        {
            tracing::warn!(error = %e, "photo of a deleted proof not removed");
        }
        Ok(Response::new(pb::DeleteProofResponse {
            my_progress: Some(
                self.progress(&m, who.member_id, access.joined_on, now)
                    .await?,
            ),
        }))
    }

    async fn list_proofs(
        &self,
        req: Request<pb::ListProofsRequest>,
    ) -> Result<Response<pb::ListProofsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        v.check(
            (0..=3).contains(&r.author),
            "author",
            "must be ALL, MINE or OTHERS",
        );
        v.check(
            (0..=2).contains(&r.status),
            "status",
            "must be DONE or SKIPPED",
        );
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        let filter = match r.author {
            2 => Some((who.member_id, true)),
            3 => Some((who.member_id, false)),
            _ => None,
        };
        let author = if r.author_member_id.is_empty() {
            None
        } else {
            Uuid::parse_str(&r.author_member_id).ok()
        };
        let all: Vec<Proof> = self
            .store
            .proofs(id, filter)
            .await?
            .into_iter()
            .filter(|p| author.is_none_or(|a| p.member_id == a))
            .filter(|p| r.status == 0 || (r.status == 2) == p.skipped)
            .collect();
        // Blocked members' proofs disappear for the blocker (and the reverse).
        let blocked = self
            .blocked_authors(who.member_id, all.iter().map(|p| p.member_id))
            .await?;
        let all: Vec<Proof> = all
            .into_iter()
            .filter(|p| !blocked.contains(&p.member_id))
            .collect();
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let today = m.today(now);
        let mut proofs = Vec::with_capacity(chunk.len());
        for p in &chunk {
            let reactions = self.encouragement.reactions(p.id, who.member_id).await?;
            let view = self
                .reports
                .view(
                    ReportKind::Proof,
                    p.id,
                    who.member_id,
                    p.member_id,
                    access.leader,
                )
                .await?;
            proofs.push(proof_pb(p, who.member_id, today, &reactions, &view));
        }
        Ok(Response::new(pb::ListProofsResponse {
            proofs,
            next_page_token: next,
        }))
    }

    async fn get_proof(
        &self,
        req: Request<pb::GetProofRequest>,
    ) -> Result<Response<pb::GetProofResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let proof_id = v.id("proof_id", &r.proof_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        let p = self
            .store
            .proof(id, proof_id)
            .await?
            .ok_or(MissionError::ProofNotFound)?;
        let reactions = self.encouragement.reactions(p.id, who.member_id).await?;
        let mut view = self
            .reports
            .view(
                ReportKind::Proof,
                p.id,
                who.member_id,
                p.member_id,
                access.leader,
            )
            .await?;
        // A block in either direction withholds the proof as a report would.
        if !self
            .blocked_authors(who.member_id, [p.member_id])
            .await?
            .is_empty()
        {
            view.hide_for_me();
        }
        Ok(Response::new(pb::GetProofResponse {
            proof: Some(proof_pb(
                &p,
                who.member_id,
                m.today(moing_common::clock::now()),
                &reactions,
                &view,
            )),
        }))
    }
}
