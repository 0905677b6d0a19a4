//! A drill's team, set up through the services' public gRPC APIs: members by
//! development sign-in and sign-up (auth), a device and quiet hours off for
//! each (notification), a team everyone joins (moim), ONCE TEXT missions
//! (mission).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt, stream};
use moing_proto::moing::{
    auth::v1::{
        DevelopmentCredential, DeviceInfo, DevicePlatform as AuthPlatform, SignInRequest,
        SignUpRequest, auth_service_client::AuthServiceClient, sign_in_request::Credential,
    },
    mission::v1::{
        CreateMissionRequest, MissionKind, ProofWay, mission_service_client::MissionServiceClient,
    },
    moim::v1::{
        CreateInviteRequest, CreateTeamRequest, JoinTeamRequest,
        team_service_client::TeamServiceClient,
    },
    notification::v1::{
        DevicePlatform, NotificationSettings, RegisterDeviceRequest,
        UpdateNotificationSettingsRequest, notification_service_client::NotificationServiceClient,
    },
};
use moing_testkit::{bearer, seoul_date};
use tonic::{Code, Status, transport::Channel};
use uuid::Uuid;

pub const AUTH: &str = "http://127.0.0.1:50051";
pub const MOIM: &str = "http://127.0.0.1:50052";
pub const MISSION: &str = "http://127.0.0.1:50053";

/// One member of the drill's team.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    pub access: String,
    /// The FCM token of its one device.
    pub push_token: String,
}

/// The drill's team.
#[derive(Debug, Clone)]
pub struct Team {
    pub id: Uuid,
    pub members: Vec<Member>,
    pub missions: Vec<String>,
}

pub async fn channel(url: &str) -> anyhow::Result<Channel> {
    tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(20))
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// A random run label: nicknames, push tokens and the team name carry it.
pub fn run_label() -> String {
    Uuid::new_v4().simple().to_string()[..6].to_owned()
}

/// `members` members, each with a device; the first leads a new team the
/// others join; `missions` ONCE missions created by the members in turn.
pub async fn team(
    mode: &str,
    run: &str,
    members: usize,
    missions: usize,
    notification: &str,
) -> anyhow::Result<Team> {
    let auth = AuthServiceClient::new(channel(AUTH).await?);
    let notes = NotificationServiceClient::new(channel(notification).await?);
    let mut all = Vec::with_capacity(members);
    for i in 0..members {
        let m = member(&auth, mode, &format!("drill-{run}-{i}")).await?;
        device(&notes, &m).await?;
        all.push(m);
    }
    let teams = TeamServiceClient::new(channel(MOIM).await?);
    let team_id = create_team(&teams, &all, run).await?;
    let missions = create_missions(&team_id.to_string(), &all, missions).await?;
    println!(
        "[drill] {mode}: set up team {team_id}: {members} members, {} missions (run {run})",
        missions.len()
    );
    Ok(Team {
        id: team_id,
        members: all,
        missions,
    })
}

/// A new ACTIVE member: development sign-in then sign-up under a random
/// nickname, drawn again while taken; waits out auth's sign-in limit.
async fn member(
    auth: &AuthServiceClient<Channel>,
    mode: &str,
    push_token: &str,
) -> anyhow::Result<Member> {
    let started = Instant::now();
    let mut limited = false;
    for _ in 0..50 {
        let nickname = format!("d{}", &Uuid::new_v4().simple().to_string()[..9]);
        let signed_in = auth
            .clone()
            .sign_in(SignInRequest {
                credential: Some(Credential::Development(DevelopmentCredential {
                    nickname: nickname.clone(),
                })),
                device: Some(DeviceInfo {
                    name: "moing-drill".into(),
                    platform: AuthPlatform::Android as i32,
                }),
            })
            .await;
        let signed_in = match signed_in {
            Ok(r) => r.into_inner(),
            Err(s) if s.code() == Code::ResourceExhausted => {
                if !limited {
                    println!(
                        "[drill] {mode}: auth's sign-in limit per address reached; waiting for its window"
                    );
                    limited = true;
                }
                if started.elapsed() > Duration::from_secs(130) {
                    bail!("auth's sign-in limit did not clear: {s}");
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
            Err(s) => return Err(s).context("development sign-in (MOING_DEV_SIGN_IN on?)"),
        };
        if !signed_in.sign_up_required {
            continue; // an older member under this nickname
        }
        let access = signed_in.tokens.context("no tokens")?.access_token;
        let up = auth
            .clone()
            .sign_up(bearer(
                &access,
                SignUpRequest {
                    nickname: nickname.clone(),
                    ..Default::default()
                },
            ))
            .await;
        let up = match up {
            Ok(r) => r.into_inner(),
            Err(s) if matches!(s.code(), Code::AlreadyExists | Code::FailedPrecondition) => {
                continue;
            }
            Err(s) => return Err(s).context("sign-up"),
        };
        let id = up.member.context("no member")?.member_id.parse()?;
        return Ok(Member {
            id,
            access: up.access_token,
            push_token: push_token.to_owned(),
        });
    }
    bail!("no free nickname in 50 draws")
}

/// Registers the member's device and turns quiet hours off, so every push of
/// the drill is sent whatever the time of day.
async fn device(notes: &NotificationServiceClient<Channel>, m: &Member) -> anyhow::Result<()> {
    notes
        .clone()
        .register_device(bearer(
            &m.access,
            RegisterDeviceRequest {
                push_token: m.push_token.clone(),
                platform: DevicePlatform::Android as i32,
            },
        ))
        .await
        .context("RegisterDevice")?;
    notes
        .clone()
        .update_notification_settings(bearer(
            &m.access,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings {
                    quiet_hours_enabled: false,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["quiet_hours_enabled".into()],
                }),
            },
        ))
        .await
        .context("UpdateNotificationSettings")?;
    Ok(())
}

async fn create_team(
    teams: &TeamServiceClient<Channel>,
    members: &[Member],
    run: &str,
) -> anyhow::Result<Uuid> {
    let leader = &members[0].access;
    let team = teams
        .clone()
        .create_team(bearer(
            leader,
            CreateTeamRequest {
                name: format!("drill {run}"),
                category: 1,
                start_date: seoul_date(0),
                end_date: seoul_date(30),
                ..Default::default()
            },
        ))
        .await
        .context("CreateTeam")?
        .into_inner()
        .team
        .context("no team")?
        .team_id;
    let code = teams
        .clone()
        .create_invite(bearer(
            leader,
            CreateInviteRequest {
                team_id: team.clone(),
                ..Default::default()
            },
        ))
        .await
        .context("CreateInvite")?
        .into_inner()
        .invite
        .context("no invite")?
        .code;
    for m in &members[1..] {
        teams
            .clone()
            .join_team(bearer(&m.access, JoinTeamRequest { code: code.clone() }))
            .await
            .context("JoinTeam")?;
    }
    Ok(team.parse()?)
}

/// `n` ONCE TEXT missions, created 8 at a time by the members in turn.
async fn create_missions(team: &str, members: &[Member], n: usize) -> anyhow::Result<Vec<String>> {
    let missions = MissionServiceClient::new(channel(MISSION).await?);
    let deadline = prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + 2 * 86_400,
        nanos: 0,
    };
    stream::iter(0..n)
        .map(|i| {
            let client = missions.clone();
            let author = members[i % members.len()].access.clone();
            async move {
                let req = CreateMissionRequest {
                    team_id: team.to_owned(),
                    title: format!("drill mission {i}"),
                    kind: MissionKind::Once as i32,
                    way: ProofWay::Text as i32,
                    deadline: Some(deadline),
                    ..Default::default()
                };
                let created = retry_unknown_team(|| {
                    let mut c = client.clone();
                    let req = bearer(&author, req.clone());
                    async move { c.create_mission(req).await }
                })
                .await
                .context("CreateMission")?;
                created.mission.map(|m| m.id).context("no mission")
            }
        })
        .buffered(8)
        .try_collect()
        .await
}

/// Retries while mission does not know the new team or membership yet.
async fn retry_unknown_team<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
{
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        match call().await {
            Ok(r) => return Ok(r.into_inner()),
            Err(s)
                if matches!(s.code(), Code::NotFound | Code::PermissionDenied)
                    && Instant::now() < until =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(s) => return Err(s),
        }
    }
}
