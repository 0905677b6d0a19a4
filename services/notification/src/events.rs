//! Domain events → notifications. The [`Consumer`] runs inside the
//! de-duplicating transaction of the common event sink: it resolves the
//! recipients (the team's active members from moim, never the actor, never
//! anyone who blocked the actor), writes one inbox row per recipient and the
//! push rows in that transaction, and keeps the event-fed state (devices of
//! revoked sessions, withdrawn members, the team copy for reminders).
//! Pushes go out after the commit (see `sink`).

use std::sync::Arc;

use chrono::Utc;
use moing_common::outbox::{EventHandler, HandleError};
use moing_proto::moing::events::v1::{Event, event::Payload};
use sqlx::MySqlConnection;
use uuid::Uuid;

use crate::{
    domain::{Draft, Kind, clip},
    peers::{PeerError, Peers},
    store,
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

fn sticker_emoji(kind: i32) -> (&'static str, &'static str) {
    match kind {
        1 => ("CLAP", "👏"),
        2 => ("FIRE", "🔥"),
        3 => ("MUSCLE", "💪"),
        4 => ("PARTY", "🎉"),
        5 => ("LOVE", "❤️"),
        _ => ("UNSPECIFIED", "✨"),
    }
}

/// `닉네임님이` or a neutral subject when the nickname is unknown.
fn who(nick: &Option<String>) -> String {
    match nick {
        Some(n) => format!("{n}님이"),
        None => "팀원이".to_owned(),
    }
}

/// The notifications one event causes: drafts with their candidate
/// recipients (`None`: every active member) before membership and blocks.
enum Plan {
    Nothing,
    Team {
        drafts: Vec<(Draft, Option<Vec<Uuid>>)>,
    },
}

impl Consumer {
    async fn plan(&self, event: &Event, conn: &mut MySqlConnection) -> Result<Plan, HandleError> {
        let Some(payload) = &event.payload else {
            return Ok(Plan::Nothing);
        };
        let actor = uuid(&event.actor_member_id);
        let team = uuid(&event.team_id);
        let now = moing_common::clock::now();
        // Member-level events first: they need no team.
        match payload {
            Payload::SessionRevoked(e) => {
                if let Some(session) = uuid(&e.session_id) {
                    store::delete_session_device(conn, actor, session).await?;
                }
                return Ok(Plan::Nothing);
            }
            Payload::MemberWithdrawn(_) => {
                if let Some(member) = actor {
                    store::erase_member(conn, member).await?;
                }
                return Ok(Plan::Nothing);
            }
            Payload::TeamCreated(e) => {
                if let Some(team) = team {
                    upsert_team(conn, team, &e.team_name, &e.time_zone, now).await?;
                }
                return Ok(Plan::Nothing);
            }
            Payload::TeamUpdated(e) => {
                if let Some(team) = team {
                    sqlx::query("UPDATE team SET name = ?, updated_at = ? WHERE team_id = ?")
                        .bind(&e.team_name)
                        .bind(store::naive(now))
                        .bind(team)
                        .execute(&mut *conn)
                        .await?;
                }
                return Ok(Plan::Nothing);
            }
            Payload::TeamFinished(_) => {
                if let Some(team) = team {
                    deactivate_team(conn, team, now).await?;
                }
                return Ok(Plan::Nothing);
            }
            _ => {}
        }
        let Some(team) = team else {
            return Ok(Plan::Nothing);
        };
        let nick = match actor {
            Some(a) => self.peers.nickname(a).await,
            None => None,
        };
        let base = |kind: Kind, team_name: &str| Draft::new(kind, Some(team), team_name, actor);
        let t = team;
        let drafts: Vec<(Draft, Option<Vec<Uuid>>)> = match payload {
            Payload::MissionCreated(e) => vec![(
                base(Kind::MissionCreated, &e.team_name)
                    .text(
                        format!("{}에 새로운 미션이 등장했어요! 🔥", e.team_name),
                        match &nick {
                            Some(n) => format!("{n}님의 미션 · {}", e.mission_title),
                            None => e.mission_title.clone(),
                        },
                    )
                    .path(format!("/teams/{t}/missions/{}", e.mission_id))
                    .with("mission_id", &e.mission_id),
                None,
            )],
            Payload::ProofSubmitted(e) => vec![(
                base(Kind::ProofSubmitted, &e.team_name)
                    .text(
                        format!("{} 미션을 인증했어요! 📸", who(&nick)),
                        format!("[{}] {}", e.team_name, e.mission_title),
                    )
                    .path(format!(
                        "/teams/{t}/missions/{}/proofs/{}",
                        e.mission_id, e.proof_id
                    ))
                    .with("mission_id", &e.mission_id)
                    .with("proof_id", &e.proof_id),
                None,
            )],
            Payload::PostCreated(e) if e.is_notice => vec![(
                notice(base, t, &e.team_name, &e.post_id, &e.post_title),
                None,
            )],
            Payload::PostUpdated(e) if e.became_notice => vec![(
                notice(base, t, &e.team_name, &e.post_id, &e.post_title),
                None,
            )],
            Payload::VoteOpened(e) => vec![(
                base(Kind::VoteOpened, &e.team_name)
                    .text(
                        format!("{}에 새 투표가 열렸어요! 🗳️", e.team_name),
                        e.vote_title.clone(),
                    )
                    .path(format!("/teams/{t}/votes/{}", e.vote_id))
                    .with("vote_id", &e.vote_id),
                None,
            )],
            Payload::ProofCommentCreated(e) => one(
                &e.proof_author_member_id,
                base(Kind::ProofCommented, &e.team_name)
                    .text(
                        format!("{} 내 인증에 댓글을 남겼어요 💬", who(&nick)),
                        clip(&e.content, 100),
                    )
                    .path(format!(
                        "/teams/{t}/missions/{}/proofs/{}",
                        e.mission_id, e.proof_id
                    ))
                    .with("mission_id", &e.mission_id)
                    .with("proof_id", &e.proof_id)
                    .with("comment_id", &e.comment_id),
            ),
            Payload::PostCommentCreated(e) => one(
                &e.post_author_member_id,
                base(Kind::PostCommented, &e.team_name)
                    .text(
                        format!("{} 내 글에 댓글을 남겼어요 💬", who(&nick)),
                        format!("[{}] {}", e.post_title, clip(&e.content_excerpt, 100)),
                    )
                    .path(format!("/teams/{t}/posts/{}", e.post_id))
                    .with("post_id", &e.post_id)
                    .with("comment_id", &e.comment_id),
            ),
            Payload::HeartAdded(e) => one(
                &e.proof_author_member_id,
                base(Kind::ProofHearted, &e.team_name)
                    .text(
                        format!("{} 내 인증에 하트를 보냈어요 ❤️", who(&nick)),
                        format!("[{}] {}", e.team_name, e.mission_title),
                    )
                    .path(format!(
                        "/teams/{t}/missions/{}/proofs/{}",
                        e.mission_id, e.proof_id
                    ))
                    .with("mission_id", &e.mission_id)
                    .with("proof_id", &e.proof_id),
            ),
            Payload::StickerAdded(e) => {
                let (name, emoji) = sticker_emoji(e.sticker);
                one(
                    &e.proof_author_member_id,
                    base(Kind::ProofStickered, &e.team_name)
                        .text(
                            format!("{} 내 인증에 {emoji} 스티커를 붙였어요", who(&nick)),
                            format!("[{}] {}", e.team_name, e.mission_title),
                        )
                        .path(format!(
                            "/teams/{t}/missions/{}/proofs/{}",
                            e.mission_id, e.proof_id
                        ))
                        .with("mission_id", &e.mission_id)
                        .with("proof_id", &e.proof_id)
                        .with("sticker", name),
                )
            }
            Payload::MemberPoked(e) => {
                let (title, body) = if e.message.trim().is_empty() {
                    (
                        "어라… 왜 이렇게 발등이 뜨겁지? 🤔".to_owned(),
                        format!(
                            "{} [{}] 미션 인증을 기다리고 있어요! 어서 인증해 볼까요?",
                            who(&nick),
                            e.mission_title
                        ),
                    )
                } else {
                    (
                        format!("{} 불을 던졌어요! 🔥", who(&nick)),
                        clip(e.message.trim(), 100),
                    )
                };
                one(
                    &e.target_member_id,
                    base(Kind::Poked, &e.team_name)
                        .text(title, body)
                        .path(format!("/teams/{t}/missions/{}", e.mission_id))
                        .with("mission_id", &e.mission_id)
                        .with("poke_id", &e.poke_id),
                )
            }
            Payload::MemberJoined(e) => vec![(
                base(Kind::MemberJoined, &e.team_name)
                    .text(
                        format!("{}에 새 멤버가 들어왔어요! 👋", e.team_name),
                        match &nick {
                            Some(n) => format!("{n}님과 함께 달려 봐요"),
                            None => "새 멤버와 함께 달려 봐요".to_owned(),
                        },
                    )
                    .path(format!("/teams/{t}/members"))
                    .with("member_id", &e.member_id),
                None,
            )],
            Payload::LeaderChanged(e) => {
                let new_leader = uuid(&e.new_leader_member_id);
                let leader_nick = match new_leader {
                    Some(l) => self.peers.nickname(l).await,
                    None => None,
                };
                let draft = |title: String, body: String| {
                    base(Kind::LeadershipHandedOver, &e.team_name)
                        .text(title, body)
                        .path(format!("/teams/{t}"))
                        .with("new_leader_member_id", &e.new_leader_member_id)
                };
                let mut out = vec![];
                if let Some(l) = new_leader {
                    out.push((
                        draft(
                            format!("{}의 새 리더가 되었어요 👑", e.team_name),
                            "이제 모임을 이끌어 주세요!".to_owned(),
                        ),
                        Some(vec![l]),
                    ));
                }
                let others = self.peers.team(t).await.map_err(peer)?.map(|info| {
                    info.members
                        .into_iter()
                        .filter(|m| Some(*m) != new_leader)
                        .collect::<Vec<_>>()
                });
                if let Some(others) = others {
                    out.push((
                        draft(
                            format!("{}의 리더가 바뀌었어요", e.team_name),
                            match leader_nick {
                                Some(n) => format!("{n}님이 새 리더예요"),
                                None => "새 리더와 함께 계속 달려 봐요".to_owned(),
                            },
                        ),
                        Some(others),
                    ));
                }
                out
            }
            Payload::TeamDisbanded(e) => {
                deactivate_team(conn, t, now).await?;
                if e.last_member_left {
                    return Ok(Plan::Nothing);
                }
                // The team may already be unreadable: the event lists the members.
                let members: Vec<Uuid> = e
                    .member_ids
                    .iter()
                    .filter_map(|m| uuid(m))
                    .filter(|m| Some(*m) != actor)
                    .collect();
                let members = self
                    .peers
                    .without_blockers(actor, members)
                    .await
                    .map_err(peer)?;
                let draft = base(Kind::TeamDisbanded, &e.team_name)
                    .text(
                        format!("{} 모임이 해산되었어요", e.team_name),
                        "3일 동안은 지난 기록을 볼 수 있어요".to_owned(),
                    )
                    .path(format!("/teams/{t}"));
                let source = format!("event:{}", event.id);
                store::fan_out(conn, &source, &draft, &members, now).await?;
                return Ok(Plan::Nothing);
            }
            _ => vec![],
        };
        if drafts.is_empty() {
            return Ok(Plan::Nothing);
        }
        Ok(Plan::Team { drafts })
    }
}

fn notice(
    base: impl Fn(Kind, &str) -> Draft,
    t: Uuid,
    team_name: &str,
    post_id: &str,
    title: &str,
) -> Draft {
    base(Kind::NoticePosted, team_name)
        .text(format!("{team_name}에 새 공지가 올라왔어요! 📢"), title)
        .path(format!("/teams/{t}/posts/{post_id}"))
        .with("post_id", post_id)
}

/// A notification for one named member (the author or the poked member).
fn one(member: &str, draft: Draft) -> Vec<(Draft, Option<Vec<Uuid>>)> {
    match uuid(member) {
        Some(m) => vec![(draft, Some(vec![m]))],
        None => vec![],
    }
}

async fn upsert_team(
    conn: &mut MySqlConnection,
    team: Uuid,
    name: &str,
    time_zone: &str,
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tz = if time_zone.parse::<chrono_tz::Tz>().is_ok() {
        time_zone
    } else {
        crate::domain::DEFAULT_TIME_ZONE.name()
    };
    sqlx::query(
        "INSERT INTO team (team_id, name, time_zone, active, updated_at) VALUES (?, ?, ?, TRUE, ?) \
         ON DUPLICATE KEY UPDATE name = VALUES(name), time_zone = VALUES(time_zone), updated_at = VALUES(updated_at)",
    )
    .bind(team)
    .bind(name)
    .bind(tz)
    .bind(store::naive(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn deactivate_team(
    conn: &mut MySqlConnection,
    team: Uuid,
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE team SET active = FALSE, updated_at = ? WHERE team_id = ?")
        .bind(store::naive(now))
        .bind(team)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, conn: &mut MySqlConnection, event: &Event) -> Result<(), HandleError> {
        let Plan::Team { drafts } = self.plan(event, conn).await? else {
            return Ok(());
        };
        let Some(team) = uuid(&event.team_id) else {
            return Ok(());
        };
        let actor = uuid(&event.actor_member_id);
        let source = format!("event:{}", event.id);
        let now = moing_common::clock::now();
        for (draft, only) in drafts {
            let resolved = self
                .peers
                .recipients(team, actor, only.as_deref())
                .await
                .map_err(peer)?;
            let Some((_, recipients)) = resolved else {
                tracing::info!(team_id = %team, event_id = %event.id, "team unknown to moim: no notification");
                return Ok(());
            };
            store::fan_out(conn, &source, &draft, &recipients, now).await?;
        }
        Ok(())
    }
}
