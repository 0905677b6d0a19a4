//! Domain types and validation of the auth service: members, sign-in and
//! sign-up inputs, profile changes. No wire types (`grpc/wire.rs`), no SQL.

use chrono::{DateTime, NaiveDate, Utc};
use moing_common::Validator;
use uuid::Uuid;

/// What withdrawn members are shown as.
pub const WITHDRAWN_NICKNAME: &str = "(탈퇴한 회원)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Active,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Active => "ACTIVE",
            Self::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(Self::Pending),
            "ACTIVE" => Some(Self::Active),
            "WITHDRAWN" => Some(Self::Withdrawn),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Kakao,
    Google,
    Apple,
    Development,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kakao => "KAKAO",
            Self::Google => "GOOGLE",
            Self::Apple => "APPLE",
            Self::Development => "DEVELOPMENT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "KAKAO" => Some(Self::Kakao),
            "GOOGLE" => Some(Self::Google),
            "APPLE" => Some(Self::Apple),
            "DEVELOPMENT" => Some(Self::Development),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
    Other,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "MALE",
            Self::Female => "FEMALE",
            Self::Other => "OTHER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MALE" => Some(Self::Male),
            "FEMALE" => Some(Self::Female),
            "OTHER" => Some(Self::Other),
            _ => None,
        }
    }
}

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    pub status: Status,
    pub nickname: Option<String>,
    pub introduction: String,
    pub image_key: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub email: Option<String>,
    pub provider: Provider,
    pub created_at: DateTime<Utc>,
    pub signed_up_at: Option<DateTime<Utc>>,
}

/// A validated SignIn: the provider and its credential (a token, or the
/// nickname of a development sign-in) and the device the session is for.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub provider: Provider,
    pub credential: String,
    pub device_name: String,
    /// The device platform's wire number (ANDROID, IOS or WEB), kept with the session.
    pub platform: i32,
}

/// A validated SignUp.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub nickname: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
}

/// The profile fields to change (None = unchanged).
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub nickname: Option<String>,
    pub introduction: Option<String>,
    pub image: Option<String>,
}

/// A validated nickname: 1–10 characters after trimming, no control characters.
pub fn nickname(v: &mut Validator, field: &str, raw: &str) -> String {
    let n = v.text(field, raw, 1, 10);
    if n.chars().any(char::is_control) {
        v.violation(field, "must not contain control characters");
    }
    if n == WITHDRAWN_NICKNAME {
        v.violation(field, "is reserved");
    }
    n
}

/// A profile image key: must be one of this member's uploads,
/// `members/{member_id}/profile/<name>.<jpg|jpeg|png|webp|heic>`.
pub fn profile_image_key(v: &mut Validator, field: &str, member: Uuid, key: &str) -> String {
    let key = key.trim();
    if key.is_empty() {
        return String::new();
    }
    let prefix = format!("members/{member}/profile/");
    let ok = key.len() <= 300
        && key.starts_with(&prefix)
        && key[prefix.len()..]
            .rsplit_once('.')
            .is_some_and(|(name, ext)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && matches!(ext, "jpg" | "jpeg" | "png" | "webp" | "heic")
            });
    if !ok {
        v.violation(
            field,
            format!("must be an uploaded image key under {prefix}"),
        );
    }
    key.to_owned()
}

/// A birth date: a real calendar date, not in the future, after 1900.
pub fn birth_date(v: &mut Validator, field: &str, y: i32, m: i32, d: i32) -> Option<NaiveDate> {
    let date = u32::try_from(m)
        .ok()
        .zip(u32::try_from(d).ok())
        .and_then(|(m, d)| NaiveDate::from_ymd_opt(y, m, d));
    match date {
        // "Today" where it is latest on Earth (UTC+14): a member whose day has
        // begun is never told their birthday is in the future.
        Some(date)
            if date.year_ce().1 >= 1900
                && date
                    <= (moing_common::clock::now() + chrono::Duration::hours(14)).date_naive() =>
        {
            Some(date)
        }
        Some(_) => {
            v.violation(field, "must be between 1900-01-01 and today");
            None
        }
        None => {
            v.violation(field, "is not a valid calendar date");
            None
        }
    }
}

use chrono::Datelike;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames() {
        let mut v = Validator::new();
        assert_eq!(nickname(&mut v, "n", "  모잉 "), "모잉");
        assert!(v.is_empty());
        nickname(&mut v, "n", "   ");
        nickname(&mut v, "n", "abcdefghijk");
        nickname(&mut v, "n", "a\u{7}b");
        nickname(&mut v, "n", WITHDRAWN_NICKNAME);
        assert_eq!(v.finish().expect_err("bad").violations.len(), 4);
    }

    #[test]
    fn image_keys_are_scoped_to_the_member() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        let mut v = Validator::new();
        profile_image_key(&mut v, "k", me, &format!("members/{me}/profile/abc-1.jpg"));
        profile_image_key(&mut v, "k", me, "");
        assert!(v.is_empty());
        profile_image_key(&mut v, "k", me, &format!("members/{other}/profile/abc.jpg"));
        profile_image_key(&mut v, "k", me, &format!("members/{me}/profile/../x.jpg"));
        profile_image_key(&mut v, "k", me, &format!("members/{me}/profile/a.exe"));
        assert_eq!(v.finish().expect_err("bad").violations.len(), 3);
    }

    #[test]
    fn birth_dates() {
        let mut v = Validator::new();
        assert!(birth_date(&mut v, "b", 1990, 2, 28).is_some());
        assert!(birth_date(&mut v, "b", 1990, 2, 30).is_none());
        assert!(birth_date(&mut v, "b", 3000, 1, 1).is_none());
        assert!(birth_date(&mut v, "b", 1990, -1, 1).is_none());
        assert_eq!(v.finish().expect_err("bad").violations.len(), 3);
    }
}
