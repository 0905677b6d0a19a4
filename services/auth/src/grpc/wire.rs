//! Proto ⇄ domain for auth: the validated inputs read from requests
//! (field-level violations) and the encoders of members, tokens, sessions and
//! keys into `pb::…` messages.

use chrono::{DateTime, Datelike, Utc};
use moing_common::{Validator, outbox::timestamp, token::Jwk};
use moing_proto::moing::{
    auth::v1::{self as pb, sign_in_request::Credential},
    common::v1::ImageRef,
};
use uuid::Uuid;

use crate::{
    domain::{self, Gender, Member, ProfileChange, Provider, SignIn, SignUp, Status},
    error::AuthError,
    sessions::{Issued, SessionInfo},
};

// ---- enums -----------------------------------------------------------------

impl From<Status> for pb::MemberStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => Self::Pending,
            Status::Active => Self::Active,
            Status::Withdrawn => Self::Withdrawn,
        }
    }
}

/// A gender on the wire (UNSPECIFIED when not given).
pub fn gender_pb(g: Option<Gender>) -> pb::Gender {
    match g {
        None => pb::Gender::Unspecified,
        Some(Gender::Male) => pb::Gender::Male,
        Some(Gender::Female) => pb::Gender::Female,
        Some(Gender::Other) => pb::Gender::Other,
    }
}

impl From<Provider> for pb::SocialProvider {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Kakao => Self::Kakao,
            Provider::Google => Self::Google,
            Provider::Apple => Self::Apple,
            Provider::Development => Self::Development,
        }
    }
}

/// A gender from its wire number: None for UNSPECIFIED, a violation for unknown numbers.
fn gender(v: &mut Validator, field: &str, n: i32) -> Option<Gender> {
    match pb::Gender::try_from(n) {
        Ok(pb::Gender::Unspecified) => None,
        Ok(pb::Gender::Male) => Some(Gender::Male),
        Ok(pb::Gender::Female) => Some(Gender::Female),
        Ok(pb::Gender::Other) => Some(Gender::Other),
        Err(_) => {
            v.violation(field, "unknown value");
            None
        }
    }
}

// ---- request inputs --------------------------------------------------------

/// A provider token or id token: required, at most 8 KiB.
pub fn token_field(v: &mut Validator, field: &str, token: &str) -> String {
    let t = token.trim();
    if t.is_empty() {
        v.violation(field, "is required");
    } else if t.len() > 8192 {
        v.violation(field, "is too long");
    }
    t.to_owned()
}

fn credential(v: &mut Validator, credential: Option<Credential>) -> Option<(Provider, String)> {
    match credential {
        None => {
            v.violation(
                "credential",
                "one of kakao, google, apple or development is required",
            );
            None
        }
        Some(Credential::Kakao(c)) => Some((
            Provider::Kakao,
            token_field(v, "kakao.access_token", &c.access_token),
        )),
        Some(Credential::Google(c)) => Some((
            Provider::Google,
            token_field(v, "google.id_token", &c.id_token),
        )),
        Some(Credential::Apple(c)) => Some((
            Provider::Apple,
            token_field(v, "apple.id_token", &c.id_token),
        )),
        Some(Credential::Development(c)) => Some((
            Provider::Development,
            domain::nickname(v, "development.nickname", &c.nickname),
        )),
    }
}

fn device(v: &mut Validator, device: Option<pb::DeviceInfo>) -> (String, i32) {
    match device {
        None => {
            v.violation("device", "is required");
            (String::new(), 0)
        }
        Some(d) => {
            let name = v.text("device.name", &d.name, 1, 50);
            let platform_ok = matches!(
                pb::DevicePlatform::try_from(d.platform),
                Ok(pb::DevicePlatform::Android | pb::DevicePlatform::Ios | pb::DevicePlatform::Web)
            );
            v.check(
                platform_ok,
                "device.platform",
                "must be ANDROID, IOS or WEB",
            );
            (name, d.platform)
        }
    }
}

impl TryFrom<pb::SignInRequest> for SignIn {
    type Error = AuthError;

    fn try_from(body: pb::SignInRequest) -> Result<Self, AuthError> {
        let mut v = Validator::new();
        let credential = credential(&mut v, body.credential);
        let (device_name, platform) = device(&mut v, body.device);
        v.finish()?;
        let Some((provider, credential)) = credential else {
            return Err(AuthError::Invalid(vec![]));
        };
        Ok(SignIn {
            provider,
            credential,
            device_name,
            platform,
        })
    }
}

impl TryFrom<pb::SignUpRequest> for SignUp {
    type Error = AuthError;

    fn try_from(body: pb::SignUpRequest) -> Result<Self, AuthError> {
        let mut v = Validator::new();
        let nickname = domain::nickname(&mut v, "nickname", &body.nickname);
        let gender = gender(&mut v, "gender", body.gender);
        let birth_date = body
            .birth_date
            .and_then(|d| domain::birth_date(&mut v, "birth_date", d.year, d.month, d.day));
        v.finish()?;
        Ok(SignUp {
            nickname,
            gender,
            birth_date,
        })
    }
}

/// The fields an UpdateMyProfile mask names (the image must be the member's own upload).
pub fn profile_change(
    body: pb::UpdateMyProfileRequest,
    member: Uuid,
) -> Result<ProfileChange, AuthError> {
    let mut v = Validator::new();
    let paths = body.update_mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        v.violation(
            "update_mask",
            "list at least one of nickname, introduction, image",
        );
    }
    let input = body.member.unwrap_or_default();
    let mut change = ProfileChange::default();
    for path in &paths {
        match path.as_str() {
            "nickname" => {
                change.nickname = Some(domain::nickname(&mut v, "member.nickname", &input.nickname))
            }
            "introduction" => {
                change.introduction =
                    Some(v.text("member.introduction", &input.introduction, 0, 100))
            }
            "image" | "image.key" => {
                let key = input.image.as_ref().map(|i| i.key.as_str()).unwrap_or("");
                change.image = Some(domain::profile_image_key(
                    &mut v,
                    "member.image.key",
                    member,
                    key,
                ));
            }
            other => v.violation(
                "update_mask",
                format!("unknown or read-only path {other:?}"),
            ),
        }
    }
    v.finish()?;
    Ok(change)
}

// ---- encoders --------------------------------------------------------------

pub fn member_pb(m: &Member) -> pb::Member {
    pb::Member {
        member_id: m.id.to_string(),
        status: pb::MemberStatus::from(m.status) as i32,
        nickname: m.nickname.clone().unwrap_or_default(),
        introduction: m.introduction.clone(),
        image: (!m.image_key.is_empty()).then(|| ImageRef {
            key: m.image_key.clone(),
            url: String::new(),
        }),
        gender: gender_pb(m.gender) as i32,
        birth_date: m.birth_date.map(|d| moing_proto::google::r#type::Date {
            year: d.year(),
            month: d.month() as i32,
            day: d.day() as i32,
        }),
        provider: pb::SocialProvider::from(m.provider) as i32,
        email: m.email.clone().unwrap_or_default(),
        created_at: Some(timestamp(m.created_at)),
        signed_up_at: m.signed_up_at.map(timestamp),
    }
}

pub fn summary_pb(m: &Member) -> pb::MemberSummary {
    let full = member_pb(m);
    pb::MemberSummary {
        member_id: full.member_id,
        nickname: full.nickname,
        image_key: m.image_key.clone(),
        status: full.status,
    }
}

pub fn tokens_pb(
    access: (String, DateTime<Utc>),
    refresh: &Issued,
    session: Uuid,
) -> pb::AuthTokens {
    pb::AuthTokens {
        access_token: access.0,
        access_token_expires_at: Some(timestamp(access.1)),
        refresh_token: refresh.refresh_token.clone(),
        refresh_token_expires_at: Some(timestamp(refresh.expires_at)),
        session_id: session.to_string(),
    }
}

/// One of the member's sessions; `current` when it is the caller's own.
pub fn session_pb(s: &SessionInfo, current: Uuid) -> pb::Session {
    pb::Session {
        session_id: s.session_id.to_string(),
        device_name: s.device_name.clone(),
        platform: s.platform,
        created_at: Some(timestamp(s.created_at)),
        last_used_at: Some(timestamp(s.last_used_at)),
        expires_at: Some(timestamp(s.expires_at)),
        current: s.session_id == current,
    }
}

pub fn jwk_pb(k: Jwk) -> pb::Jwk {
    pb::Jwk {
        kty: k.kty,
        crv: k.crv,
        x: k.x,
        y: String::new(),
        kid: k.kid,
        alg: k.alg,
        r#use: k.use_,
    }
}
