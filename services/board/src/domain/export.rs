//! The activity export's CSV (PRODUCT.md §7): UTF-8 with a byte-order mark so
//! spreadsheet programs read Korean, a header row, one row per member per day
//! per mission, then each member's totals and rate over the period and the
//! team's rate. The counts come from mission's GetTeamActivity (the goal
//! board's one rule); this module only lays them out. Cells a spreadsheet
//! would run as a formula (`= + - @`, tab, carriage return first) are
//! neutralised with a leading apostrophe.

use std::borrow::Cow;

use chrono::NaiveDate;

/// Counts of one row (the goal board's meaning: a skip is not done).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityCounts {
    pub required: i32,
    pub done: i32,
    pub skipped: i32,
    pub pending: i32,
}

impl ActivityCounts {
    pub fn add(&mut self, o: &ActivityCounts) {
        self.required += o.required;
        self.done += o.done;
        self.skipped += o.skipped;
        self.pending += o.pending;
    }

    pub fn rate(&self) -> Option<f64> {
        (self.required > 0).then(|| f64::from(self.done) / f64::from(self.required))
    }
}

/// A member as the export shows them: a stable id (withdrawn members get a
/// pseudonym that stays the same across exports of the team) and a name.
#[derive(Debug, Clone)]
pub struct ExportMember {
    pub id: String,
    pub nickname: String,
    pub active: bool,
    pub totals: ActivityCounts,
}

/// One member's counts on one mission on one day.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub day: NaiveDate,
    /// Index into the members.
    pub member: usize,
    pub mission_id: String,
    pub mission_title: String,
    /// TEXT, PHOTO or LINK.
    pub way: &'static str,
    pub counts: ActivityCounts,
}

pub const CSV_HEADER: [&str; 12] = [
    "row_type",
    "date",
    "member_id",
    "nickname",
    "mission_id",
    "mission_title",
    "proof_way",
    "required",
    "done",
    "skipped",
    "pending",
    "rate",
];

/// A cell a spreadsheet would evaluate, made inert.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

fn rate_cell(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.4}")).unwrap_or_default()
}

/// The mean of the active members' rates that exist: the goal board's team rate.
pub fn team_rate_of(members: &[ExportMember]) -> Option<f64> {
    let rates: Vec<f64> = members
        .iter()
        .filter(|m| m.active)
        .filter_map(|m| m.totals.rate())
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

/// The whole CSV file.
pub fn csv(
    members: &[ExportMember],
    rows: &[ExportRow],
    period: (NaiveDate, NaiveDate),
    team_rate: Option<f64>,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::with_capacity(64 + rows.len() * 96);
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(CSV_HEADER)?;
    let counts = |c: &ActivityCounts| {
        [
            c.required.to_string(),
            c.done.to_string(),
            c.skipped.to_string(),
            c.pending.to_string(),
        ]
    };
    for r in rows {
        let Some(m) = members.get(r.member) else {
            continue;
        };
        let [req, done, skipped, pending] = counts(&r.counts);
        w.write_record([
            "day",
            &r.day.to_string(),
            &neutralise(&m.id),
            &neutralise(&m.nickname),
            &neutralise(&r.mission_id),
            &neutralise(&r.mission_title),
            r.way,
            &req,
            &done,
            &skipped,
            &pending,
            "",
        ])?;
    }
    let span = format!("{}~{}", period.0, period.1);
    for m in members {
        let [req, done, skipped, pending] = counts(&m.totals);
        w.write_record([
            "member_total",
            &span,
            &neutralise(&m.id),
            &neutralise(&m.nickname),
            "",
            "",
            "",
            &req,
            &done,
            &skipped,
            &pending,
            &rate_cell(m.totals.rate()),
        ])?;
    }
    w.write_record([
        "team_rate",
        &span,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        &rate_cell(team_rate),
    ])?;
    w.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_korean_survives() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("달리기"), "달리기");
        let members = vec![ExportMember {
            id: "m1".into(),
            nickname: "=HYPERLINK(\"x\")".into(),
            active: true,
            totals: ActivityCounts {
                required: 4,
                done: 3,
                skipped: 1,
                pending: 0,
            },
        }];
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
        let rows = vec![ExportRow {
            day,
            member: 0,
            mission_id: "x".into(),
            mission_title: "아침, \"운동\"".into(),
            way: "TEXT",
            counts: ActivityCounts {
                required: 1,
                done: 1,
                ..Default::default()
            },
        }];
        let bytes = csv(&members, &rows, (day, day), team_rate_of(&members)).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\"아침, \"\"운동\"\"\""));
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""));
        assert!(text.contains("member_total,2026-03-02~2026-03-02,m1"));
        assert!(text.trim_end().ends_with("0.7500"));
    }
}
