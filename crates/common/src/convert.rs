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

/// A protobuf timestamp as a UTC instant; None when out of range.
pub fn from_timestamp(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

/// A calendar day as `google.type.Date`.
pub fn date(d: NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }
}

/// A `google.type.Date` as a calendar day; None unless it is a full, real date.
pub fn from_date(d: &Date) -> Option<NaiveDate> {
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
}
