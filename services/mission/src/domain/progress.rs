//! Achievement counting for the goal board (PRODUCT.md §4 rates), as pure
//! functions over one team's missions, membership spans and proof rows. The
//! rule (also documented on `ProgressCounts` in the internal proto):
//!
//! - an obligation counts in `required` once it is met or once its period has
//!   closed, so an open period never lowers a rate before it ends; until then it
//!   is `pending` (on today's date);
//! - ONCE: one per mission, for a member who proved it or who was in the team on
//!   its closing day; a done proof counts on its day, an unmet obligation on the
//!   closing day;
//! - REPEAT: per Monday–Sunday week, min(N, days of the week the member was in
//!   the team while the mission was active); each done proof counts on its day,
//!   the unmet rest of a closed week on the member's last such day;
//! - skips are recorded but never done.
//!
//! Day counts therefore sum to week counts, and week counts to totals.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::{Kind, Mission, tz, week_start};

/// Done / required / skipped / pending counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub done: i32,
    pub required: i32,
    pub skipped: i32,
    pub pending: i32,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.done += o.done;
        self.required += o.required;
        self.skipped += o.skipped;
        self.pending += o.pending;
    }

    /// done ÷ required, or None when nothing was required yet.
    pub fn rate(&self) -> Option<f64> {
        (self.required > 0).then(|| f64::from(self.done) / f64::from(self.required))
    }
}

/// A stretch of membership, in team-local days; `to` None while still a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Span {
    /// An open span counts every later day (a week in progress assumes the
    /// member stays).
    fn contains(&self, day: NaiveDate) -> bool {
        day >= self.from && self.to.is_none_or(|t| day <= t)
    }
}

/// What the counting needs of a mission, in team-local days.
#[derive(Debug, Clone, Copy)]
pub struct MissionSpan {
    pub id: Uuid,
    pub kind: Kind,
    pub times_per_week: i32,
    /// Day it was created.
    pub start: NaiveDate,
    /// Last active day when it has closed (ended, or a ONCE deadline passed).
    pub closed_on: Option<NaiveDate>,
}

impl MissionSpan {
    pub fn of(m: &Mission, now: DateTime<Utc>) -> Self {
        let zone = tz(&m.time_zone);
        let local = |t: DateTime<Utc>| t.with_timezone(&zone).date_naive();
        let deadline = m.deadline.filter(|d| *d <= now || m.ended).map(local);
        let ended = m.ended_at.filter(|_| m.ended).map(local);
        let closed_on = match (deadline, ended) {
            (Some(d), Some(e)) => Some(d.min(e)),
            (d, e) => d.or(e),
        };
        Self {
            id: m.id,
            kind: m.kind,
            times_per_week: m.times_per_week.unwrap_or(1).max(1),
            start: local(m.created_at),
            closed_on,
        }
    }
}

/// A live proof or skip (removed-by-review proofs are left out by the caller).
#[derive(Debug, Clone, Copy)]
pub struct ProofRow {
    pub id: Uuid,
    pub mission: Uuid,
    pub member: Uuid,
    pub day: NaiveDate,
    pub done: bool,
    pub at: DateTime<Utc>,
}

/// One member's standing on one mission: the current period (ONCE: the whole
/// mission; REPEAT: this week) and the totals so far.
#[derive(Debug, Clone)]
pub struct Standing {
    pub period: (NaiveDate, NaiveDate),
    pub done: i32,
    pub required: i32,
    pub skipped: i32,
    /// The proof or skip filling the current slot (ONCE: any; REPEAT: today's).
    pub slot: Option<ProofRow>,
    pub can_submit: bool,
    pub last_done_at: Option<DateTime<Utc>>,
    pub totals: Counts,
}

/// Days of [from, to] on which the member was in the team.
fn days_in(spans: &[Span], from: NaiveDate, to: NaiveDate) -> i32 {
    let mut n = 0;
    let mut d = from;
    while d <= to {
        if spans.iter().any(|s| s.contains(d)) {
            n += 1;
        }
        d += Duration::days(1);
    }
    n
}

/// A member's standing from their proofs on the mission (`rows`: this member
/// and mission only, any days).
pub fn standing(m: &Mission, spans: &[Span], rows: &[ProofRow], now: DateTime<Utc>) -> Standing {
    let span = MissionSpan::of(m, now);
    let today = m.today(now);
    let (period, required, slot) = match m.kind {
        Kind::Once => {
            let end = m
                .deadline
                .map(|d| d.with_timezone(&tz(&m.time_zone)).date_naive())
                .unwrap_or(today)
                .max(span.start);
            (
                (span.start, end),
                1,
                rows.iter().min_by_key(|p| (!p.done, p.day)).copied(),
            )
        }
        Kind::Repeat => {
            let monday = week_start(today);
            let sunday = monday + Duration::days(6);
            let last = sunday.min(span.closed_on.unwrap_or(NaiveDate::MAX));
            let days = days_in(spans, monday.max(span.start), last);
            let n = span.times_per_week;
            let required = if days == 0 { n } else { n.min(days) };
            (
                (monday, sunday),
                required,
                rows.iter().find(|p| p.day == today).copied(),
            )
        }
    };
    let in_period = |p: &&ProofRow| p.day >= period.0 && p.day <= period.1;
    let done = rows.iter().filter(in_period).filter(|p| p.done).count() as i32;
    let skipped = rows.iter().filter(in_period).filter(|p| !p.done).count() as i32;
    let ledger = ledger(
        &[span],
        &HashMap::from([(Uuid::nil(), spans.to_vec())]),
        &rows
            .iter()
            .map(|p| ProofRow {
                member: Uuid::nil(),
                ..*p
            })
            .collect::<Vec<_>>(),
        today,
    );
    Standing {
        period,
        done,
        required,
        skipped,
        can_submit: m.open(now) && slot.is_none() && done + skipped < required,
        slot,
        last_done_at: rows.iter().filter(|p| p.done).map(|p| p.at).max(),
        totals: sum(ledger.get(&Uuid::nil()), NaiveDate::MIN, today),
    }
}

/// Per (member, day) counts.
pub type Ledger = HashMap<Uuid, BTreeMap<NaiveDate, Counts>>;

fn bump(ledger: &mut Ledger, member: Uuid, day: NaiveDate, f: impl FnOnce(&mut Counts)) {
    f(ledger.entry(member).or_default().entry(day).or_default());
}

/// One member's proofs on one mission, and the member's spans.
struct Obligation<'a> {
    m: &'a MissionSpan,
    member: Uuid,
    spans: &'a [Span],
    rows: &'a [&'a ProofRow],
    today: NaiveDate,
}

impl Obligation<'_> {
    fn in_team(&self, d: NaiveDate) -> bool {
        self.spans.iter().any(|s| s.contains(d))
    }

    /// ONCE: done on the first done proof's day; else required on the closing
    /// day (if a member then), or pending today while open.
    fn once(&self, ledger: &mut Ledger) {
        let (m, member, today) = (self.m, self.member, self.today);
        if let Some(p) = self.rows.iter().filter(|p| p.done).min_by_key(|p| p.day) {
            bump(ledger, member, p.day, |c| {
                c.done += 1;
                c.required += 1;
            });
        } else if let Some(closed) = m.closed_on {
            if self.in_team(closed) {
                bump(ledger, member, closed, |c| c.required += 1);
            }
        } else if self.in_team(today) {
            bump(ledger, member, today, |c| c.pending += 1);
        }
    }

    /// REPEAT: every week from the start to `last`.
    fn repeat(&self, ledger: &mut Ledger, last: NaiveDate) {
        if last < self.m.start {
            return;
        }
        let mut week = week_start(self.m.start);
        while week <= last {
            self.week(ledger, week);
            week += Duration::days(7);
        }
    }

    /// One week of a REPEAT mission: each done proof on its day, the unmet
    /// rest on the member's last day in it (pending today while it is open).
    fn week(&self, ledger: &mut Ledger, week: NaiveDate) {
        let (m, member, today) = (self.m, self.member, self.today);
        let from = week.max(m.start);
        // The whole week (or up to the close), so an open week
        // owes what the member can still do in it.
        let to = (week + Duration::days(6)).min(m.closed_on.unwrap_or(NaiveDate::MAX));
        let mut days_in = 0;
        let mut last_in = None;
        let mut d = from;
        while d <= to {
            if self.in_team(d) {
                days_in += 1;
                last_in = Some(d);
            }
            d += Duration::days(1);
        }
        let done: Vec<&&ProofRow> = self
            .rows
            .iter()
            .filter(|p| p.done && p.day >= week && p.day <= to)
            .collect();
        for p in &done {
            bump(ledger, member, p.day, |c| {
                c.done += 1;
                c.required += 1;
            });
        }
        let rest = m.times_per_week.min(days_in) - done.len() as i32;
        if let (true, Some(l)) = (rest > 0, last_in) {
            let left_then = self.spans.iter().any(|s| s.to == Some(l));
            let closed = l < today || m.closed_on == Some(l) || left_then;
            bump(ledger, member, if closed { l } else { today }, |c| {
                if closed {
                    c.required += rest;
                } else {
                    c.pending += rest;
                }
            });
        }
    }
}

/// Counts every member's obligations and proofs per day, up to `today`.
/// `proofs` must hold every proof of the members on the missions (all days
/// the missions were active), so weekly targets see the whole week.
pub fn ledger(
    missions: &[MissionSpan],
    members: &HashMap<Uuid, Vec<Span>>,
    proofs: &[ProofRow],
    today: NaiveDate,
) -> Ledger {
    let mut ledger = Ledger::new();
    let mut by_key: HashMap<(Uuid, Uuid), Vec<&ProofRow>> = HashMap::new();
    for p in proofs {
        by_key.entry((p.mission, p.member)).or_default().push(p);
        if !p.done {
            bump(&mut ledger, p.member, p.day, |c| c.skipped += 1);
        }
    }
    for m in missions {
        let last = m.closed_on.unwrap_or(today).min(today);
        for (&member, spans) in members {
            let rows = by_key
                .get(&(m.id, member))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let o = Obligation {
                m,
                member,
                spans,
                rows,
                today,
            };
            match m.kind {
                Kind::Once => o.once(&mut ledger),
                Kind::Repeat => o.repeat(&mut ledger, last),
            }
        }
    }
    ledger
}

/// Sum of a member's counts over [from, to].
pub fn sum(days: Option<&BTreeMap<NaiveDate, Counts>>, from: NaiveDate, to: NaiveDate) -> Counts {
    let mut c = Counts::default();
    if let Some(days) = days
        && from <= to
    {
        for (_, v) in days.range(from..=to) {
            c.add(v);
        }
    }
    c
}

/// Buckets of a series: each (start, end) pair, days or Monday–Sunday weeks
/// clipped to [from, to].
pub fn buckets(week: bool, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = if week {
            (week_start(start) + Duration::days(6)).min(to)
        } else {
            start
        };
        out.push((start, end));
        start = end + Duration::days(1);
    }
    out
}

/// The team rate: the mean of the member rates that exist (PRODUCT.md §4).
pub fn team_rate(rates: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let rates: Vec<f64> = rates.into_iter().flatten().collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn repeat(id: Uuid, n: i32, start: &str, closed: Option<&str>) -> MissionSpan {
        MissionSpan {
            id,
            kind: Kind::Repeat,
            times_per_week: n,
            start: day(start),
            closed_on: closed.map(day),
        }
    }

    fn proof(mission: Uuid, member: Uuid, d: &str, done: bool) -> ProofRow {
        ProofRow {
            id: Uuid::now_v7(),
            at: moing_common::clock::now(),
            mission,
            member,
            day: day(d),
            done,
        }
    }

    // 2026-11-02 is a Monday.
    #[test]
    fn repeat_three_a_week_with_a_skip_and_a_late_joiner() {
        let m = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let members = HashMap::from([
            (
                a,
                vec![Span {
                    from: day("2026-11-02"),
                    to: None,
                }],
            ),
            // b joins on Saturday of the first week: 2 days left, so 2 required.
            (
                b,
                vec![Span {
                    from: day("2026-11-07"),
                    to: None,
                }],
            ),
        ]);
        let proofs = [
            proof(m, a, "2026-11-02", true),
            proof(m, a, "2026-11-03", false), // a skip: not done
            proof(m, a, "2026-11-04", true),
            proof(m, b, "2026-11-08", true),
            proof(m, a, "2026-11-09", true), // second week, still open
        ];
        let today = day("2026-11-10");
        let l = ledger(
            &[repeat(m, 3, "2026-11-02", None)],
            &members,
            &proofs,
            today,
        );
        let first_week = (day("2026-11-02"), day("2026-11-08"));
        let wa = sum(l.get(&a), first_week.0, first_week.1);
        assert_eq!((wa.done, wa.required, wa.skipped), (2, 3, 1));
        let wb = sum(l.get(&b), first_week.0, first_week.1);
        assert_eq!((wb.done, wb.required), (1, 2));
        // The open second week: a's done proof counts, the rest is pending.
        let sa = sum(l.get(&a), day("2026-11-09"), today);
        assert_eq!((sa.done, sa.required, sa.pending), (1, 1, 2));
        // Rates: a 3/4, b 1/2 (b's open week has nothing done yet); team = mean.
        let ta = sum(l.get(&a), day("2026-11-02"), today);
        let tb = sum(l.get(&b), day("2026-11-02"), today);
        assert_eq!((ta.done, ta.required), (3, 4));
        assert_eq!((tb.done, tb.required, tb.pending), (1, 2, 3));
        let team = team_rate([ta.rate(), tb.rate()]).expect("rate");
        assert!((team - 0.625).abs() < 1e-9);
    }

    #[test]
    fn once_missions_count_at_the_proof_or_at_the_close() {
        let (done_one, missed_one, open_one) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (a, b, late) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let span = |f: &str| {
            vec![Span {
                from: day(f),
                to: None,
            }]
        };
        let members = HashMap::from([
            (a, span("2026-11-01")),
            (b, span("2026-11-01")),
            (late, span("2026-11-06")),
        ]);
        let once = |id, start: &str, closed: Option<&str>| MissionSpan {
            id,
            kind: Kind::Once,
            times_per_week: 1,
            start: day(start),
            closed_on: closed.map(day),
        };
        let missions = [
            // Ended on the 5th: a proved it, b skipped it, late was not there.
            once(done_one, "2026-11-02", Some("2026-11-05")),
            // Deadline passed on the 8th, nobody proved it.
            once(missed_one, "2026-11-03", Some("2026-11-08")),
            // Still open.
            once(open_one, "2026-11-09", None),
        ];
        let proofs = [
            proof(done_one, a, "2026-11-03", true),
            proof(done_one, b, "2026-11-03", false),
        ];
        let today = day("2026-11-10");
        let l = ledger(&missions, &members, &proofs, today);
        let all = |m| sum(l.get(&m), day("2026-11-01"), today);
        assert_eq!(
            all(a),
            Counts {
                done: 1,
                required: 2,
                skipped: 0,
                pending: 1
            }
        );
        assert_eq!(
            all(b),
            Counts {
                done: 0,
                required: 2,
                skipped: 1,
                pending: 1
            }
        );
        // The late joiner owes only the mission that closed after they joined.
        assert_eq!(
            all(late),
            Counts {
                done: 0,
                required: 1,
                skipped: 0,
                pending: 1
            }
        );
        // a's done proof counts on its day, the unmet one on the closing day.
        assert_eq!(sum(l.get(&a), day("2026-11-03"), day("2026-11-03")).done, 1);
        assert_eq!(
            sum(l.get(&b), day("2026-11-05"), day("2026-11-05")).required,
            1
        );
    }

    #[test]
    fn an_ended_repeat_mission_closes_its_week_and_leavers_stop_owing() {
        let m = Uuid::now_v7();
        let (stay, leaver) = (Uuid::now_v7(), Uuid::now_v7());
        let members = HashMap::from([
            (
                stay,
                vec![Span {
                    from: day("2026-11-01"),
                    to: None,
                }],
            ),
            // Left on Tuesday of the first week.
            (
                leaver,
                vec![Span {
                    from: day("2026-11-01"),
                    to: Some(day("2026-11-03")),
                }],
            ),
        ]);
        // N = 5, ended on Wednesday the 4th: 3 active days → 3 required.
        let missions = [repeat(m, 5, "2026-11-02", Some("2026-11-04"))];
        let proofs = [proof(m, stay, "2026-11-02", true)];
        let today = day("2026-11-20");
        let l = ledger(&missions, &members, &proofs, today);
        let s = sum(l.get(&stay), day("2026-11-01"), today);
        assert_eq!((s.done, s.required, s.pending), (1, 3, 0));
        // The leaver owed min(5, 2 days) and nothing after leaving.
        let v = sum(l.get(&leaver), day("2026-11-01"), today);
        assert_eq!((v.done, v.required, v.pending), (0, 2, 0));
        assert_eq!(
            sum(l.get(&leaver), day("2026-11-03"), day("2026-11-03")).required,
            2
        );
    }

    #[test]
    fn day_buckets_sum_to_week_buckets() {
        let weeks = buckets(true, day("2026-11-04"), day("2026-11-20"));
        assert_eq!(
            weeks,
            vec![
                (day("2026-11-04"), day("2026-11-08")),
                (day("2026-11-09"), day("2026-11-15")),
                (day("2026-11-16"), day("2026-11-20")),
            ]
        );
        assert_eq!(
            buckets(false, day("2026-11-04"), day("2026-11-06")).len(),
            3
        );
        assert_eq!(team_rate([None, None]), None);
        assert_eq!(team_rate([Some(1.0), None, Some(0.5)]), Some(0.75));
    }
}
