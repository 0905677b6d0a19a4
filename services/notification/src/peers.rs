//! The services notification asks: moim (team members, blocks, meeting days),
//! mission (unproven members, due missions, last week's progress), board
//! (closing votes, non-voters) and auth (nicknames for push texts, best
//! effort). Each call has the channel's deadline; callers decide what an
//! outage means (an event is retried, a reminder round finds nothing due).

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use moing_common::{client::InternalChannel, service::BaseSettings};
use moing_proto::moing::{
    auth::v1::{GetMemberRequest, auth_internal_service_client::AuthInternalServiceClient},
    board::v1::board_internal_service_client::BoardInternalServiceClient,
    mission::v1::mission_internal_service_client::MissionInternalServiceClient,
    moim::v1::{
        FilterBlockedByRequest, GetTeamSummaryRequest, MembershipState,
        team_internal_service_client::TeamInternalServiceClient,
    },
};
use tonic::Code;
use uuid::Uuid;

/// A dependency failed; the caller retries later.
#[derive(Debug, thiserror::Error)]
#[error("{service} {code:?}: {message}")]
pub struct PeerError {
    pub service: &'static str,
    pub code: Code,
    pub message: String,
}

impl PeerError {
    pub fn from_status(service: &'static str, s: tonic::Status) -> Self {
        Self {
            service,
            code: s.code(),
            message: s.message().chars().take(200).collect(),
        }
    }

    /// The service does not serve this RPC (yet) or cannot be reached.
    pub fn is_absent(&self) -> bool {
        matches!(self.code, Code::Unimplemented | Code::Unavailable)
    }
}

/// What fan-outs need of a team.
#[derive(Debug, Clone)]
pub struct TeamInfo {
    pub team_id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub leader: Option<Uuid>,
    /// Active members.
    pub members: Vec<Uuid>,
}

pub struct Peers {
    pub moim: TeamInternalServiceClient<InternalChannel>,
    pub mission: Option<MissionInternalServiceClient<InternalChannel>>,
    pub board: Option<BoardInternalServiceClient<InternalChannel>>,
    auth: Option<AuthInternalServiceClient<InternalChannel>>,
    nicknames: Mutex<HashMap<Uuid, (String, Instant)>>,
    rosters: Rosters,
}

/// Each team's roster and who in it blocked whom, as moim last said, kept
/// for `ttl` and dropped as soon as an event says they changed (a member
/// joined, left or was removed, the leader changed, the team ended, a block
/// was added or lifted): a fan-out then costs no call to moim. Another
/// replica may get the event instead; `ttl` bounds how long this one reuses
/// what it knew.
#[derive(Default)]
struct Rosters {
    ttl: Duration,
    teams: Cached<Uuid, TeamInfo>,
    /// (team, actor) → the team's members who blocked the actor.
    blockers: Cached<(Uuid, Uuid), HashSet<Uuid>>,
}

/// A cached answer and when it was fetched.
type Cached<K, V> = Mutex<HashMap<K, (V, Instant)>>;

/// Entries kept at most; the cache is emptied beyond (a bound, not an LRU).
const CACHE_LIMIT: usize = 10_000;

impl Rosters {
    fn get<K: std::hash::Hash + Eq, V: Clone>(
        &self,
        map: &Mutex<HashMap<K, (V, Instant)>>,
        key: &K,
    ) -> Option<V> {
        let map = map.lock().ok()?;
        let (value, at) = map.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    fn put<K: std::hash::Hash + Eq, V>(
        &self,
        map: &Mutex<HashMap<K, (V, Instant)>>,
        key: K,
        value: V,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut map) = map.lock() {
            if map.len() >= CACHE_LIMIT {
                map.clear();
            }
            map.insert(key, (value, Instant::now()));
        }
    }
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").finish_non_exhaustive()
    }
}

const NICKNAME_TTL: Duration = Duration::from_secs(60);

fn ids(list: &[String]) -> Vec<Uuid> {
    list.iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect()
}

impl Peers {
    /// moim is required; mission, board and auth are used when configured.
    /// `roster_ttl`: how long a team's roster is reused (zero: never).
    pub fn from_settings(base: &BaseSettings, roster_ttl: Duration) -> anyhow::Result<Self> {
        let optional = |name: &str| -> anyhow::Result<Option<InternalChannel>> {
            if base.services.contains_key(name) {
                Ok(Some(base.internal_channel(name)?))
            } else {
                Ok(None)
            }
        };
        Ok(Self {
            moim: TeamInternalServiceClient::new(base.internal_channel("moim")?),
            mission: optional("mission")?.map(MissionInternalServiceClient::new),
            board: optional("board")?.map(BoardInternalServiceClient::new),
            auth: optional("auth")?.map(AuthInternalServiceClient::new),
            nicknames: Mutex::new(HashMap::new()),
            rosters: Rosters {
                ttl: roster_ttl,
                ..Rosters::default()
            },
        })
    }

    /// The team's roster, from the cache while it is fresh.
    pub async fn roster(&self, team: Uuid) -> Result<Option<TeamInfo>, PeerError> {
        if let Some(info) = self.rosters.get(&self.rosters.teams, &team) {
            return Ok(Some(info));
        }
        let info = self.team(team).await?;
        if let Some(info) = &info {
            self.rosters.put(&self.rosters.teams, team, info.clone());
        }
        Ok(info)
    }

    /// The team's membership changed: its roster and blocks are asked again.
    pub fn forget_team(&self, team: Uuid) {
        if let Ok(mut teams) = self.rosters.teams.lock() {
            teams.remove(&team);
        }
        if let Ok(mut blockers) = self.rosters.blockers.lock() {
            blockers.retain(|(t, _), _| *t != team);
        }
    }

    /// A block was added or lifted (or a member withdrew): every cached
    /// answer about blocks is asked again.
    pub fn forget_blocks(&self) {
        if let Ok(mut blockers) = self.rosters.blockers.lock() {
            blockers.clear();
        }
    }

    /// The team with its active members; None when moim does not know it.
    pub async fn team(&self, team: Uuid) -> Result<Option<TeamInfo>, PeerError> {
        let result = self
            .moim
            .clone()
            .get_team_summary(GetTeamSummaryRequest {
                team_id: team.to_string(),
                include_past_members: false,
                include_hidden: false,
            })
            .await;
        let summary = match result {
            Ok(r) => r.into_inner().team,
            Err(s) if s.code() == Code::NotFound => return Ok(None),
            Err(s) => return Err(PeerError::from_status("moim", s)),
        };
        Ok(summary.map(|t| TeamInfo {
            team_id: team,
            name: t.name,
            time_zone: t.time_zone,
            leader: Uuid::parse_str(&t.leader_member_id).ok(),
            members: t
                .memberships
                .iter()
                .filter(|m| m.state == MembershipState::Active as i32)
                .filter_map(|m| Uuid::parse_str(&m.member_id).ok())
                .collect(),
        }))
    }

    /// Of `candidates`, those who blocked `actor` (one batch call).
    pub async fn blockers_of(
        &self,
        actor: Uuid,
        candidates: &[Uuid],
    ) -> Result<HashSet<Uuid>, PeerError> {
        let mut out = HashSet::new();
        for chunk in candidates.chunks(500) {
            let r = self
                .moim
                .clone()
                .filter_blocked_by(FilterBlockedByRequest {
                    actor_member_id: actor.to_string(),
                    candidate_member_ids: chunk.iter().map(Uuid::to_string).collect(),
                })
                .await
                .map_err(|s| PeerError::from_status("moim", s))?;
            out.extend(ids(&r.into_inner().blocker_member_ids));
        }
        Ok(out)
    }

    /// Recipients of a team event: active members (optionally only `only`),
    /// never the actor, never anyone who blocked the actor. None when the
    /// team is unknown.
    pub async fn recipients(
        &self,
        team: Uuid,
        actor: Option<Uuid>,
        only: Option<&[Uuid]>,
    ) -> Result<Option<(TeamInfo, Vec<Uuid>)>, PeerError> {
        let Some(info) = self.roster(team).await? else {
            return Ok(None);
        };
        let mut candidates: Vec<Uuid> = match only {
            Some(only) => only
                .iter()
                .copied()
                .filter(|m| info.members.contains(m))
                .collect(),
            None => info.members.clone(),
        };
        candidates.retain(|m| Some(*m) != actor);
        if let Some(actor) = actor {
            let blockers = self.team_blockers(&info, actor).await?;
            candidates.retain(|m| !blockers.contains(m));
        }
        Ok(Some((info, candidates)))
    }

    /// The team's members who blocked `actor`, from the cache while fresh.
    async fn team_blockers(
        &self,
        info: &TeamInfo,
        actor: Uuid,
    ) -> Result<HashSet<Uuid>, PeerError> {
        let key = (info.team_id, actor);
        if let Some(blockers) = self.rosters.get(&self.rosters.blockers, &key) {
            return Ok(blockers);
        }
        let others: Vec<Uuid> = info
            .members
            .iter()
            .copied()
            .filter(|m| *m != actor)
            .collect();
        let blockers = if others.is_empty() {
            HashSet::new()
        } else {
            self.blockers_of(actor, &others).await?
        };
        self.rosters
            .put(&self.rosters.blockers, key, blockers.clone());
        Ok(blockers)
    }

    /// Drops the candidates who blocked `actor`.
    pub async fn without_blockers(
        &self,
        actor: Option<Uuid>,
        mut candidates: Vec<Uuid>,
    ) -> Result<Vec<Uuid>, PeerError> {
        if let Some(actor) = actor
            && !candidates.is_empty()
        {
            let blockers = self.blockers_of(actor, &candidates).await?;
            candidates.retain(|m| !blockers.contains(m));
        }
        Ok(candidates)
    }

    /// The member's nickname for a push text; None when auth is not
    /// configured or does not answer (texts then do without it).
    pub async fn nickname(&self, member: Uuid) -> Option<String> {
        if let Ok(cache) = self.nicknames.lock()
            && let Some((name, at)) = cache.get(&member)
            && at.elapsed() < NICKNAME_TTL
        {
            return Some(name.clone());
        }
        let auth = self.auth.as_ref()?;
        let result = auth
            .clone()
            .get_member(GetMemberRequest {
                member_id: member.to_string(),
            })
            .await;
        match result {
            Ok(r) => {
                let name = r.into_inner().member.map(|m| m.nickname)?;
                if name.is_empty() {
                    return None;
                }
                if let Ok(mut cache) = self.nicknames.lock() {
                    if cache.len() > 10_000 {
                        cache.clear();
                    }
                    cache.insert(member, (name.clone(), Instant::now()));
                }
                Some(name)
            }
            Err(s) => {
                tracing::debug!(member_id = %member, code = ?s.code(), "nickname lookup failed");
                None
            }
        }
    }
}
