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

/// Whether any of the spans meets [from, to].
pub fn overlaps(spans: &[Span], from: NaiveDate, to: NaiveDate) -> bool {
    spans
        .iter()
        .any(|s| s.from <= to && s.to.is_none_or(|t| t >= from))
}

/// What the counting needs of a mission, in team-local days.
#[derive(Debug, Clone)]
pub struct MissionSpan {
    pub id: Uuid,
    pub kind: Kind,
    /// The target of the current week and later.
    pub times_per_week: i32,
    /// Earlier targets: (Monday before which it held, target), in date order.
    pub targets: Vec<(NaiveDate, i32)>,
    /// Day it was created.
    pub start: NaiveDate,
    /// Last active day when it has closed (ended, or a ONCE deadline passed).
    pub closed_on: Option<NaiveDate>,
}

impl MissionSpan {
    /// The weekly target of the week starting on Monday `week`.
    pub fn target(&self, week: NaiveDate) -> i32 {
        self.targets
            .iter()
            .find(|(until, _)| week < *until)
            .map_or(self.times_per_week, |(_, n)| (*n).max(1))
    }

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
            targets: m.targets.clone(),
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
///
/// `sealed`: the counts of closed weeks kept in the database and the Monday
/// they end before; `rows` then need only reach back to that Monday (ONCE
/// missions: their done proofs of any day). None counts the whole history
/// from `rows`.
pub fn standing(
    m: &Mission,
    spans: &[Span],
    rows: &[ProofRow],
    now: DateTime<Utc>,
    sealed: Option<(NaiveDate, Counts)>,
) -> Standing {
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
    let (from, mut totals) = sealed.unwrap_or((NaiveDate::MIN, Counts::default()));
    let ledger = ledger_from(
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
        from,
    );
    totals.add(&sum(ledger.get(&Uuid::nil()), from, today));
    Standing {
        period,
        done,
        required,
        skipped,
        can_submit: m.open(now) && slot.is_none() && done + skipped < required,
        slot,
        last_done_at: rows.iter().filter(|p| p.done).map(|p| p.at).max(),
        totals,
    }
}

/// Per (member, day) counts.
pub type Ledger = HashMap<Uuid, BTreeMap<NaiveDate, Counts>>;

/// The ledger being written: days before `from` are not kept.
struct Sheet {
    ledger: Ledger,
    from: NaiveDate,
}

fn bump(sheet: &mut Sheet, member: Uuid, day: NaiveDate, f: impl FnOnce(&mut Counts)) {
    if day >= sheet.from {
        f(sheet
            .ledger
            .entry(member)
            .or_default()
            .entry(day)
            .or_default());
    }
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
    fn once(&self, ledger: &mut Sheet) {
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
    fn repeat(&self, ledger: &mut Sheet, last: NaiveDate) {
        if last < self.m.start {
            return;
        }
        let mut week = week_start(self.m.start.max(ledger.from));
        while week <= last {
            self.week(ledger, week);
            week += Duration::days(7);
        }
    }

    /// One week of a REPEAT mission: each done proof on its day, the unmet
    /// rest on the member's last day in it (pending today while it is open).
    fn week(&self, ledger: &mut Sheet, week: NaiveDate) {
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
        let rest = m.target(week).min(days_in) - done.len() as i32;
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
    ledger_from(missions, members, proofs, today, NaiveDate::MIN)
}

/// The same counts as [`ledger`] on the days from `from` (a Monday, or
/// `NaiveDate::MIN`) on: weeks are whole from a Monday, so the days before it
/// are not needed, except the done proofs of ONCE missions still open then
/// (an obligation met earlier is not owed again).
pub fn ledger_from(
    missions: &[MissionSpan],
    members: &HashMap<Uuid, Vec<Span>>,
    proofs: &[ProofRow],
    today: NaiveDate,
    from: NaiveDate,
) -> Ledger {
    debug_assert!(from == NaiveDate::MIN || from == week_start(from));
    let mut ledger = Sheet {
        ledger: Ledger::new(),
        from,
    };
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
    ledger.ledger
}

/// What a seal keeps: counts per member and day, and per (mission, member),
/// of the days in [from, until), by the one rule ([`ledger_from`], mission by
/// mission). `proofs` must hold the rows of those days and the earlier done
/// proofs of ONCE missions still open at `from`.
pub type SealCounts = (
    HashMap<Uuid, BTreeMap<NaiveDate, Counts>>,
    HashMap<(Uuid, Uuid), Counts>,
);

pub fn seal_counts(
    missions: &[MissionSpan],
    members: &HashMap<Uuid, Vec<Span>>,
    proofs: &[ProofRow],
    today: NaiveDate,
    (from, until): (NaiveDate, NaiveDate),
) -> SealCounts {
    let mut by_mission: HashMap<Uuid, Vec<ProofRow>> = HashMap::new();
    for p in proofs {
        by_mission.entry(p.mission).or_default().push(*p);
    }
    let mut days: HashMap<Uuid, BTreeMap<NaiveDate, Counts>> = HashMap::new();
    let mut per_mission: HashMap<(Uuid, Uuid), Counts> = HashMap::new();
    for m in missions {
        let rows = by_mission.remove(&m.id).unwrap_or_default();
        let l = ledger_from(std::slice::from_ref(m), members, &rows, today, from);
        for (member, by_day) in l {
            for (day, c) in by_day.range(..until) {
                days.entry(member)
                    .or_default()
                    .entry(*day)
                    .or_default()
                    .add(c);
                per_mission.entry((m.id, member)).or_default().add(c);
            }
        }
    }
    (days, per_mission)
}

/// Ranges of days, inclusive.
pub type Ranges = Vec<(NaiveDate, NaiveDate)>;

/// [a, b] as leading days up to a Monday, whole Monday–Sunday weeks (their
/// Mondays), and trailing days: how kept counts are read and summed.
pub fn split(a: NaiveDate, b: NaiveDate) -> (Ranges, Option<(NaiveDate, NaiveDate)>) {
    let mut days = Vec::new();
    if a > b {
        return (days, None);
    }
    let first_monday = if a == week_start(a) {
        a
    } else {
        week_start(a) + Duration::days(7)
    };
    // The Monday after the last whole week.
    let end_monday = week_start(b + Duration::days(1));
    if first_monday >= end_monday {
        days.push((a, b));
        return (days, None);
    }
    if a < first_monday {
        days.push((a, first_monday - Duration::days(1)));
    }
    if end_monday <= b {
        days.push((end_monday, b));
    }
    (days, Some((first_monday, end_monday - Duration::days(7))))
}

/// Counts read back: the kept days before `until` (per member: days and
/// weeks read, totals of every kept day) and the live ledger from `until` on.
pub struct View<'a> {
    pub until: NaiveDate,
    /// The first day anything can count (the earliest mission's start).
    pub origin: NaiveDate,
    pub days: &'a HashMap<Uuid, BTreeMap<NaiveDate, Counts>>,
    pub weeks: &'a HashMap<Uuid, BTreeMap<NaiveDate, Counts>>,
    pub totals: &'a HashMap<Uuid, Counts>,
    pub live: &'a Ledger,
}

impl View<'_> {
    /// A member's counts over [a, b], and whether any row counted.
    pub fn sum(&self, member: &Uuid, a: NaiveDate, b: NaiveDate) -> (Counts, bool) {
        let mut c = Counts::default();
        let mut any = false;
        if b >= self.until
            && let Some(days) = self.live.get(member)
        {
            let from = a.max(self.until);
            if from <= b {
                for (_, v) in days.range(from..=b) {
                    c.add(v);
                    any = true;
                }
            }
        }
        let Some(last_kept) = self.until.pred_opt() else {
            return (c, any);
        };
        let last = b.min(last_kept);
        if a > last {
            return (c, any);
        }
        if a <= self.origin && last == last_kept {
            if let Some(t) = self.totals.get(member) {
                c.add(t);
                any = true;
            }
            return (c, any);
        }
        let (days, weeks) = split(a, last);
        for (d0, d1) in days {
            if let Some(days) = self.days.get(member) {
                for (_, v) in days.range(d0..=d1) {
                    c.add(v);
                    any = true;
                }
            }
        }
        if let (Some((w0, w1)), Some(weeks)) = (weeks, self.weeks.get(member)) {
            for (_, v) in weeks.range(w0..=w1) {
                c.add(v);
                any = true;
            }
        }
        (c, any)
    }
}

/// The kept rows that [`View::sum`] over each range will read: day ranges and
/// week ranges (Mondays), before `until`; ranges from `origin` to the seal
/// read only the totals.
pub fn kept_ranges(
    ranges: &[(NaiveDate, NaiveDate)],
    origin: NaiveDate,
    until: NaiveDate,
) -> (Ranges, Ranges) {
    let (mut days, mut weeks) = (Vec::new(), Vec::new());
    let Some(last_kept) = until.pred_opt() else {
        return (days, weeks);
    };
    for &(a, b) in ranges {
        let last = b.min(last_kept);
        if a > last || (a <= origin && last == last_kept) {
            continue;
        }
        let (d, w) = split(a, last);
        days.extend(d);
        weeks.extend(w);
    }
    (merge(days), merge(weeks))
}

/// Sorted ranges with overlapping or touching ones joined.
fn merge(mut ranges: Vec<(NaiveDate, NaiveDate)>) -> Vec<(NaiveDate, NaiveDate)> {
    ranges.sort();
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 + Duration::days(7) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
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
mod tests;
