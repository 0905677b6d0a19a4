//! Domain events → notifications. The [`Consumer`] runs inside the
//! de-duplicating transaction of the common event sink: it keeps the
//! event-fed state (devices of revoked sessions, withdrawn members, the team
//! copy for reminders), drafts the notifications an event causes
//! (`domain::events`), resolves the recipients (the team's active members
//! from moim, never the actor, never anyone who blocked the actor) and writes
//! one inbox row per recipient and the push rows in that transaction
//! (`store`). Pushes go out after the commit (see `sink`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use moing_common::outbox::{EventHandler, HandleError};
use moing_proto::moing::{
    events::v1::{Event, LeaderChanged, TeamDisbanded, event::Payload},
    mission::v1::StickerKind,
};
use sqlx::MySqlConnection;
use uuid::Uuid;

use crate::{
    domain::events::{
        self as drafts, About, Audience, Planned, ProofComment, Sticker, everyone, one,
    },
    peers::{PeerError, Peers},
    store::{self, teams},
};

/// The event consumer of the notification service.
#[derive(Debug, Clone)]
pub struct Consumer {
    pub peers: Arc<Peers>,
}

fn peer(e: PeerError) -> HandleError {
    HandleError::Other(anyhow::anyhow!(e))
}

fn uuid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}

fn sticker(kind: i32) -> Sticker {
    match StickerKind::try_from(kind) {
        Ok(StickerKind::Clap) => Sticker::Clap,
        Ok(StickerKind::Fire) => Sticker::Fire,
        Ok(StickerKind::Muscle) => Sticker::Muscle,
        Ok(StickerKind::Party) => Sticker::Party,
        Ok(StickerKind::Love) => Sticker::Love,
        Ok(StickerKind::Unspecified) | Err(_) => Sticker::Unspecified,
    }
}

/// When the event happened (never later than now): inbox rows are dated by
/// it, so they keep the order of what happened although the events of a
/// delivery are applied at once, and a backlog drained late shows its real
/// times.
fn happened_at(event: &Event) -> DateTime<Utc> {
    let now = moing_common::clock::now();
    event
        .occurred_at
        .as_ref()
        .and_then(moing_common::convert::from_timestamp)
        .filter(|at| *at <= now)
        .unwrap_or(now)
}

/// The team event being handled.
struct Context {
    team: Uuid,
    actor: Option<Uuid>,
    nick: Option<String>,
}

impl Context {
    fn about<'a>(&'a self, team_name: &'a str) -> About<'a> {
        About {
            team: self.team,
            team_name,
            actor: self.actor,
            nick: self.nick.as_deref(),
        }
    }
}

/// Keeps the event-fed state; true when that is all the event does.
async fn keep_state(
    conn: &mut MySqlConnection,
    payload: &Payload,
    actor: Option<Uuid>,
    team: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, HandleError> {
    match payload {
        Payload::SessionRevoked(e) => {
            if let Some(session) = uuid(&e.session_id) {
                store::delete_session_device(conn, actor, session).await?;
            }
        }
        Payload::MemberWithdrawn(_) => {
            if let Some(member) = actor {
                store::erase_member(conn, member).await?;
            }
        }
        Payload::TeamCreated(e) => {
            if let Some(team) = team {
                teams::upsert_team(conn, team, &e.team_name, &e.time_zone, now).await?;
            }
        }
        Payload::TeamUpdated(e) => {
            if let Some(team) = team {
                teams::rename_team(conn, team, &e.team_name, now).await?;
            }
        }
        Payload::TeamFinished(_) => {
            if let Some(team) = team {
                teams::deactivate_team(conn, team, now).await?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The notifications to the whole team about new content or members.
fn news(payload: &Payload, c: &Context) -> Option<Vec<Planned>> {
    let draft = match payload {
        Payload::MissionCreated(e) => {
            drafts::mission_created(&c.about(&e.team_name), &e.mission_id, &e.mission_title)
        }
        Payload::ProofSubmitted(e) => drafts::proof_submitted(
            &c.about(&e.team_name),
            &e.mission_id,
            &e.proof_id,
            &e.mission_title,
        ),
        Payload::PostCreated(e) if e.is_notice => {
            drafts::notice(&c.about(&e.team_name), &e.post_id, &e.post_title)
        }
        Payload::PostUpdated(e) if e.became_notice => {
            drafts::notice(&c.about(&e.team_name), &e.post_id, &e.post_title)
        }
        Payload::VoteOpened(e) => {
            drafts::vote_opened(&c.about(&e.team_name), &e.vote_id, &e.vote_title)
        }
        Payload::MemberJoined(e) => drafts::member_joined(&c.about(&e.team_name), &e.member_id),
        _ => return None,
    };
    Some(everyone(draft))
}

/// The notifications to one member: comments, hearts, stickers, pokes.
fn personal(payload: &Payload, c: &Context) -> Vec<Planned> {
    match payload {
        Payload::ProofCommentCreated(e) => one(
            &e.proof_author_member_id,
            drafts::proof_commented(
                &c.about(&e.team_name),
                &ProofComment {
                    mission_id: &e.mission_id,
                    proof_id: &e.proof_id,
                    comment_id: &e.comment_id,
                    content: &e.content,
                },
            ),
        ),
        Payload::PostCommentCreated(e) => one(
            &e.post_author_member_id,
            drafts::post_commented(
                &c.about(&e.team_name),
                &e.post_id,
                &e.post_title,
                &e.comment_id,
                &e.content_excerpt,
            ),
        ),
        Payload::HeartAdded(e) => one(
            &e.proof_author_member_id,
            drafts::proof_hearted(
                &c.about(&e.team_name),
                &e.mission_id,
                &e.proof_id,
                &e.mission_title,
            ),
        ),
        Payload::StickerAdded(e) => one(
            &e.proof_author_member_id,
            drafts::proof_stickered(
                &c.about(&e.team_name),
                sticker(e.sticker),
                &e.mission_id,
                &e.proof_id,
                &e.mission_title,
            ),
        ),
        Payload::MemberPoked(e) => one(
            &e.target_member_id,
            drafts::poked(
                &c.about(&e.team_name),
                &e.message,
                &e.mission_id,
                &e.mission_title,
                &e.poke_id,
            ),
        ),
        _ => vec![],
    }
}

impl Consumer {
    /// Drops what the roster cache knew when the event changes it.
    fn forget_changed(&self, payload: &Payload, team: Option<Uuid>) {
        match payload {
            Payload::MemberJoined(_)
            | Payload::MemberLeft(_)
            | Payload::MemberRemoved(_)
            | Payload::LeaderChanged(_)
            | Payload::TeamFinished(_)
            | Payload::TeamDisbanded(_) => {
                if let Some(team) = team {
                    self.peers.forget_team(team);
                }
            }
            Payload::MemberBlocked(_)
            | Payload::MemberUnblocked(_)
            | Payload::MemberWithdrawn(_) => self.peers.forget_blocks(),
            _ => {}
        }
    }

    /// The new leader hears they lead; the other members hear who does.
    async fn leader_changed(
        &self,
        e: &LeaderChanged,
        c: &Context,
    ) -> Result<Vec<Planned>, HandleError> {
        let new_leader = uuid(&e.new_leader_member_id);
        let leader_nick = match new_leader {
            Some(l) => self.peers.nickname(l).await,
            None => None,
        };
        let others = self.peers.roster(c.team).await.map_err(peer)?.map(|info| {
            info.members
                .into_iter()
                .filter(|m| Some(*m) != new_leader)
                .collect::<Vec<_>>()
        });
        Ok(drafts::leader_changed(
            &c.about(&e.team_name),
            &e.new_leader_member_id,
            leader_nick.as_deref(),
            others,
        ))
    }

    /// The team copy is deactivated; the members the event lists (the team
    /// may already be unreadable) hear it was disbanded.
    async fn team_disbanded(
        &self,
        conn: &mut MySqlConnection,
        event: &Event,
        e: &TeamDisbanded,
        c: &Context,
        now: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        teams::deactivate_team(conn, c.team, now).await?;
        if e.last_member_left {
            return Ok(());
        }
        let members = drafts::disbanded_members(&e.member_ids, c.actor);
        let members = self
            .peers
            .without_blockers(c.actor, members)
            .await
            .map_err(peer)?;
        let draft = drafts::team_disbanded(&c.about(&e.team_name));
        let source = format!("event:{}", event.id);
        store::fan_out(conn, &source, &draft, &members, now).await?;
        Ok(())
    }

    /// Writes each draft to its recipients; stops when moim does not know the team.
    async fn write(
        &self,
        conn: &mut MySqlConnection,
        event: &Event,
        c: &Context,
        planned: Vec<Planned>,
    ) -> Result<(), HandleError> {
        let source = format!("event:{}", event.id);
        let now = happened_at(event);
        for (draft, audience) in planned {
            let only = match &audience {
                Audience::Team => None,
                Audience::Among(members) => Some(members.as_slice()),
            };
            let resolved = self
                .peers
                .recipients(c.team, c.actor, only)
                .await
                .map_err(peer)?;
            let Some((_, recipients)) = resolved else {
                tracing::info!(team_id = %c.team, event_id = %event.id, "team unknown to moim: no notification");
                return Ok(());
            };
            store::fan_out(conn, &source, &draft, &recipients, now).await?;
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, conn: &mut MySqlConnection, event: &Event) -> Result<(), HandleError> {
        let Some(payload) = &event.payload else {
            return Ok(());
        };
        let actor = uuid(&event.actor_member_id);
        let team = uuid(&event.team_id);
        let now = happened_at(event);
        self.forget_changed(payload, team);
        // Member-level events first: they need no team.
        if keep_state(conn, payload, actor, team, now).await? {
            return Ok(());
        }
        let Some(team) = team else {
            return Ok(());
        };
        let nick = match actor {
            Some(a) => self.peers.nickname(a).await,
            None => None,
        };
        let c = Context { team, actor, nick };
        let planned = match payload {
            Payload::LeaderChanged(e) => self.leader_changed(e, &c).await?,
            Payload::TeamDisbanded(e) => {
                return self.team_disbanded(conn, event, e, &c, now).await;
            }
            other => news(other, &c).unwrap_or_else(|| personal(other, &c)),
        };
        self.write(conn, event, &c, planned).await
    }
}
