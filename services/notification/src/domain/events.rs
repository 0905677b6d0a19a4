//! What each domain event says to whom: the drafts of event notifications
//! (texts, deep-link paths, data keys) and their audiences. The consumer
//! (`events.rs`) reads the event, asks the peers what it needs and writes.

use uuid::Uuid;

use super::{Draft, Kind, clip};

/// Who gets a draft, before membership and blocks are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every active member of the team (never the actor, nor who blocked them).
    Team,
    /// Only these, if they are active members (never the actor, nor who blocked them).
    Among(Vec<Uuid>),
}

/// A draft and its audience.
pub type Planned = (Draft, Audience);

/// The team event a notification is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub team: Uuid,
    pub team_name: &'a str,
    pub actor: Option<Uuid>,
    /// The actor's nickname, when known.
    pub nick: Option<&'a str>,
}

impl About<'_> {
    fn draft(&self, kind: Kind) -> Draft {
        Draft::new(kind, Some(self.team), self.team_name, self.actor)
    }

    /// `닉네임님이` or a neutral subject when the nickname is unknown.
    fn who(&self) -> String {
        match self.nick {
            Some(n) => format!("{n}님이"),
            None => "팀원이".to_owned(),
        }
    }

    fn proof_path(&self, mission_id: &str, proof_id: &str) -> String {
        format!(
            "/teams/{}/missions/{mission_id}/proofs/{proof_id}",
            self.team
        )
    }
}

/// A sticker as the push text shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sticker {
    Unspecified,
    Clap,
    Fire,
    Muscle,
    Party,
    Love,
}

impl Sticker {
    /// The `sticker` data value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "UNSPECIFIED",
            Self::Clap => "CLAP",
            Self::Fire => "FIRE",
            Self::Muscle => "MUSCLE",
            Self::Party => "PARTY",
            Self::Love => "LOVE",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Self::Unspecified => "✨",
            Self::Clap => "👏",
            Self::Fire => "🔥",
            Self::Muscle => "💪",
            Self::Party => "🎉",
            Self::Love => "❤️",
        }
    }
}

/// A draft for the whole team.
pub fn everyone(draft: Draft) -> Vec<Planned> {
    vec![(draft, Audience::Team)]
}

/// A notification for one named member (the author or the poked member).
pub fn one(member: &str, draft: Draft) -> Vec<Planned> {
    match Uuid::parse_str(member) {
        Ok(m) => vec![(draft, Audience::Among(vec![m]))],
        Err(_) => vec![],
    }
}

pub fn mission_created(a: &About, mission_id: &str, mission_title: &str) -> Draft {
    a.draft(Kind::MissionCreated)
        .text(
            format!("{}에 새로운 미션이 등장했어요! 🔥", a.team_name),
            match a.nick {
                Some(n) => format!("{n}님의 미션 · {mission_title}"),
                None => mission_title.to_owned(),
            },
        )
        .path(format!("/teams/{}/missions/{mission_id}", a.team))
        .with("mission_id", mission_id)
}

pub fn proof_submitted(a: &About, mission_id: &str, proof_id: &str, mission_title: &str) -> Draft {
    a.draft(Kind::ProofSubmitted)
        .text(
            format!("{} 미션을 인증했어요! 📸", a.who()),
            format!("[{}] {mission_title}", a.team_name),
        )
        .path(a.proof_path(mission_id, proof_id))
        .with("mission_id", mission_id)
        .with("proof_id", proof_id)
}

pub fn notice(a: &About, post_id: &str, title: &str) -> Draft {
    a.draft(Kind::NoticePosted)
        .text(format!("{}에 새 공지가 올라왔어요! 📢", a.team_name), title)
        .path(format!("/teams/{}/posts/{post_id}", a.team))
        .with("post_id", post_id)
}

pub fn vote_opened(a: &About, vote_id: &str, vote_title: &str) -> Draft {
    a.draft(Kind::VoteOpened)
        .text(
            format!("{}에 새 투표가 열렸어요! 🗳️", a.team_name),
            vote_title,
        )
        .path(format!("/teams/{}/votes/{vote_id}", a.team))
        .with("vote_id", vote_id)
}

/// The ids of a comment on a proof.
#[derive(Debug, Clone, Copy)]
pub struct ProofComment<'a> {
    pub mission_id: &'a str,
    pub proof_id: &'a str,
    pub comment_id: &'a str,
    pub content: &'a str,
}

pub fn proof_commented(a: &About, c: &ProofComment) -> Draft {
    a.draft(Kind::ProofCommented)
        .text(
            format!("{} 내 인증에 댓글을 남겼어요 💬", a.who()),
            clip(c.content, 100),
        )
        .path(a.proof_path(c.mission_id, c.proof_id))
        .with("mission_id", c.mission_id)
        .with("proof_id", c.proof_id)
        .with("comment_id", c.comment_id)
}

pub fn post_commented(
    a: &About,
    post_id: &str,
    post_title: &str,
    comment_id: &str,
    excerpt: &str,
) -> Draft {
    a.draft(Kind::PostCommented)
        .text(
            format!("{} 내 글에 댓글을 남겼어요 💬", a.who()),
            format!("[{post_title}] {}", clip(excerpt, 100)),
        )
        .path(format!("/teams/{}/posts/{post_id}", a.team))
        .with("post_id", post_id)
        .with("comment_id", comment_id)
}

pub fn proof_hearted(a: &About, mission_id: &str, proof_id: &str, mission_title: &str) -> Draft {
    a.draft(Kind::ProofHearted)
        .text(
            format!("{} 내 인증에 하트를 보냈어요 ❤️", a.who()),
            format!("[{}] {mission_title}", a.team_name),
        )
        .path(a.proof_path(mission_id, proof_id))
        .with("mission_id", mission_id)
        .with("proof_id", proof_id)
}

pub fn proof_stickered(
    a: &About,
    sticker: Sticker,
    mission_id: &str,
    proof_id: &str,
    mission_title: &str,
) -> Draft {
    a.draft(Kind::ProofStickered)
        .text(
            format!(
                "{} 내 인증에 {} 스티커를 붙였어요",
                a.who(),
                sticker.emoji()
            ),
            format!("[{}] {mission_title}", a.team_name),
        )
        .path(a.proof_path(mission_id, proof_id))
        .with("mission_id", mission_id)
        .with("proof_id", proof_id)
        .with("sticker", sticker.name())
}

pub fn poked(
    a: &About,
    message: &str,
    mission_id: &str,
    mission_title: &str,
    poke_id: &str,
) -> Draft {
    let (title, body) = if message.trim().is_empty() {
        (
            "어라… 왜 이렇게 발등이 뜨겁지? 🤔".to_owned(),
            format!(
                "{} [{mission_title}] 미션 인증을 기다리고 있어요! 어서 인증해 볼까요?",
                a.who()
            ),
        )
    } else {
        (
            format!("{} 불을 던졌어요! 🔥", a.who()),
            clip(message.trim(), 100),
        )
    };
    a.draft(Kind::Poked)
        .text(title, body)
        .path(format!("/teams/{}/missions/{mission_id}", a.team))
        .with("mission_id", mission_id)
        .with("poke_id", poke_id)
}

pub fn member_joined(a: &About, member_id: &str) -> Draft {
    a.draft(Kind::MemberJoined)
        .text(
            format!("{}에 새 멤버가 들어왔어요! 👋", a.team_name),
            match a.nick {
                Some(n) => format!("{n}님과 함께 달려 봐요"),
                None => "새 멤버와 함께 달려 봐요".to_owned(),
            },
        )
        .path(format!("/teams/{}/members", a.team))
        .with("member_id", member_id)
}

/// A leadership change: the new leader hears they lead, `others` (the
/// members besides the new leader, when the team is known) hear who does.
pub fn leader_changed(
    a: &About,
    new_leader_id: &str,
    leader_nick: Option<&str>,
    others: Option<Vec<Uuid>>,
) -> Vec<Planned> {
    let draft = |title: String, body: String| {
        a.draft(Kind::LeadershipHandedOver)
            .text(title, body)
            .path(format!("/teams/{}", a.team))
            .with("new_leader_member_id", new_leader_id)
    };
    let mut out = vec![];
    if let Ok(l) = Uuid::parse_str(new_leader_id) {
        out.push((
            draft(
                format!("{}의 새 리더가 되었어요 👑", a.team_name),
                "이제 모임을 이끌어 주세요!".to_owned(),
            ),
            Audience::Among(vec![l]),
        ));
    }
    if let Some(others) = others {
        out.push((
            draft(
                format!("{}의 리더가 바뀌었어요", a.team_name),
                match leader_nick {
                    Some(n) => format!("{n}님이 새 리더예요"),
                    None => "새 리더와 함께 계속 달려 봐요".to_owned(),
                },
            ),
            Audience::Among(others),
        ));
    }
    out
}

pub fn team_disbanded(a: &About) -> Draft {
    a.draft(Kind::TeamDisbanded)
        .text(
            format!("{} 모임이 해산되었어요", a.team_name),
            "3일 동안은 지난 기록을 볼 수 있어요".to_owned(),
        )
        .path(format!("/teams/{}", a.team))
}

/// The members a disbanded team's notice goes to: the listed ones but the actor.
pub fn disbanded_members(member_ids: &[String], actor: Option<Uuid>) -> Vec<Uuid> {
    member_ids
        .iter()
        .filter_map(|m| Uuid::parse_str(m).ok())
        .filter(|m| Some(*m) != actor)
        .collect()
}
