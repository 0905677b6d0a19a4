//! The one source of "now" for product code.
//!
//! Every service asks [`now`] (or [`today_in`] for a calendar date in a team's
//! zone) instead of `Utc::now()`, so time is an input: production runs on the
//! system clock; a test or a drill can move the whole process to another instant
//! with one environment variable, read once at first use:
//!
//! - `MOING_CLOCK_AT=2026-03-02T23:30:00Z` — the process starts at that instant
//!   and time runs on from there (timeouts, TTLs and leases keep working);
//! - `MOING_CLOCK_AT=23:30` — the same, on today's UTC date at that time of day
//!   (so the shift is under a day and nothing external drifts far);
//! - `MOING_CLOCK_OFFSET=-3600` — the system clock shifted by that many seconds:
//!   the same shift in every process of a run, whenever each one starts
//!   (`scripts/checks/hours.sh` computes it once from a time of day);
//! - unset or empty — the system clock.
//!
//! A shifted clock is refused when `MOING_ENV=production`: it is a test seam.
//! Code that needs an instant of its own (a scheduler tick, a pure rule) takes a
//! `DateTime<Utc>` argument; this module only answers "what time is it now".

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};

/// The environment variable that moves the process clock to an instant (tests only).
pub const CLOCK_ENV: &str = "MOING_CLOCK_AT";
/// The environment variable that shifts the process clock by seconds (tests only).
pub const OFFSET_ENV: &str = "MOING_CLOCK_OFFSET";

/// The offset of the process clock from the system clock.
static OFFSET: OnceLock<Duration> = OnceLock::new();

/// The current instant of the process clock.
pub fn now() -> DateTime<Utc> {
    Utc::now() + offset()
}

/// Today's date in `zone` by the process clock ("today" is always a team's date).
pub fn today_in<Tz: TimeZone>(zone: &Tz) -> NaiveDate {
    now().with_timezone(zone).date_naive()
}

/// How far the process clock is from the system clock (zero in production).
pub fn offset() -> Duration {
    *OFFSET.get_or_init(|| {
        let shifted = match std::env::var(OFFSET_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(secs) => match secs.trim().parse::<i64>() {
                Ok(secs) => Some(Duration::seconds(secs)),
                Err(_) => panic!("{OFFSET_ENV}={secs:?}: expected whole seconds"),
            },
            None => {
                let spec = std::env::var(CLOCK_ENV).unwrap_or_default();
                match parse_at(&spec, Utc::now()) {
                    Ok(at) => at.map(|at| at - Utc::now()),
                    Err(e) => panic!("{CLOCK_ENV}={spec:?}: {e}"),
                }
            }
        };
        match shifted {
            None => Duration::zero(),
            Some(_) if std::env::var("MOING_ENV").as_deref() == Ok("production") => {
                panic!("{CLOCK_ENV}/{OFFSET_ENV} are test seams, refused with MOING_ENV=production")
            }
            Some(offset) => offset,
        }
    })
}

/// Parses a `MOING_CLOCK_AT` value against the system instant `system_now`:
/// `None` for the system clock, or the instant the process clock starts at.
pub fn parse_at(spec: &str, system_now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(spec) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let time = NaiveTime::parse_from_str(spec, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(spec, "%H:%M:%S"))
        .map_err(|_| "expected an RFC 3339 instant or a UTC time of day HH:MM".to_string())?;
    Ok(Some(system_now.date_naive().and_time(time).and_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_of_day_is_today_in_utc_and_an_instant_is_itself() {
        let sys = "2026-11-29T08:10:00Z".parse::<DateTime<Utc>>().expect("t");
        assert_eq!(parse_at("", sys), Ok(None));
        assert_eq!(
            parse_at("23:30", sys),
            Ok(Some("2026-11-29T23:30:00Z".parse().expect("t")))
        );
        assert_eq!(
            parse_at("2026-03-02T15:30:00+09:00", sys),
            Ok(Some("2026-03-02T06:30:00Z".parse().expect("t")))
        );
        assert!(parse_at("half past", sys).is_err());
    }

    #[test]
    fn the_process_clock_runs() {
        let a = now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(now() > a);
    }
}
