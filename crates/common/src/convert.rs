//! Conversions between chrono and the protobuf time types every service uses.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use moing_proto::google::r#type::Date;

/// A UTC instant as a protobuf timestamp.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// The first and last years the API accepts (what MariaDB `DATETIME`/`DATE` hold
/// and what every client can render).
pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 9999;

/// What a violation says about a date or timestamp outside [`MIN_YEAR`]..=[`MAX_YEAR`].
pub const OUT_OF_RANGE: &str = "must be a valid date between the years 1970 and 9999";

fn in_range(year: i32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&year)
}

/// A protobuf timestamp as a UTC instant; None when malformed (nanos outside
/// 0..1e9) or outside the years 1970..=9999.
pub fn from_timestamp(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return None;
    }
    let at = DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)?;
    in_range(at.year()).then_some(at)
}

/// A UTC instant from microseconds since the epoch (page tokens, cursors);
/// None outside the years 1970..=9999.
pub fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).filter(|at| in_range(at.year()))
}

/// A calendar day as `google.type.Date`.
pub fn date(d: NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }
}

/// A `google.type.Date` as a calendar day; None unless it is a full, real date
/// in the years 1970..=9999.
pub fn from_date(d: &Date) -> Option<NaiveDate> {
    if !in_range(d.year) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        d.year,
        u32::try_from(d.month).ok()?,
        u32::try_from(d.day).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let now = crate::clock::now();
        assert_eq!(from_timestamp(&timestamp(now)), Some(now));
        let d: NaiveDate = "2026-11-24".parse().expect("date");
        assert_eq!((date(d).year, date(d).month, date(d).day), (2026, 11, 24));
        assert_eq!(
            from_timestamp(&prost_types::Timestamp {
                seconds: 0,
                nanos: -1
            }),
            None
        );
    }

    #[test]
    fn refuses_dates_outside_the_supported_years() {
        let ts = |seconds, nanos| prost_types::Timestamp { seconds, nanos };
        // 9999-12-31T23:59:59Z is the last accepted instant.
        assert!(from_timestamp(&ts(253_402_300_799, 999_999_999)).is_some());
        assert_eq!(from_timestamp(&ts(253_402_300_800, 0)), None);
        assert_eq!(from_timestamp(&ts(i64::MAX, 0)), None);
        assert_eq!(from_timestamp(&ts(i64::MIN, 0)), None);
        assert_eq!(from_timestamp(&ts(-1, 0)), None);
        assert_eq!(from_timestamp(&ts(0, 1_000_000_000)), None);
        assert!(from_timestamp(&ts(0, 0)).is_some());
        let d = |year, month, day| Date { year, month, day };
        assert!(from_date(&d(9999, 12, 31)).is_some());
        assert_eq!(from_date(&d(10000, 1, 1)), None);
        assert_eq!(from_date(&d(1, 1, 1)), None);
        assert_eq!(from_date(&d(i32::MIN, 1, 1)), None);
        assert_eq!(from_date(&d(2026, i32::MIN, 1)), None);
        assert_eq!(from_micros(i64::MAX), None);
        assert!(from_micros(1_700_000_000_000_000).is_some());
    }
}
