//! Unit and property tests of the counting rules (`super`).
#[cfg(test)]
use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn repeat(id: Uuid, n: i32, start: &str, closed: Option<&str>) -> MissionSpan {
    MissionSpan {
        id,
        kind: Kind::Repeat,
        times_per_week: n,
        targets: vec![],
        start: day(start),
        closed_on: closed.map(day),
    }
}

fn proof(mission: Uuid, member: Uuid, d: &str, done: bool) -> ProofRow {
    ProofRow {
        id: Uuid::now_v7(),
        at: DateTime::UNIX_EPOCH, // a fixed instant: only the day counts
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
        targets: vec![],
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

mod sealed {
    //! Kept counts (sealed in two steps, at two different "todays") plus
    //! the live ledger equal the whole ledger, for any history.
    use proptest::prelude::*;

    use super::super::*;

    const BASE: &str = "2026-01-05"; // a Monday

    fn at(n: i64) -> NaiveDate {
        BASE.parse::<NaiveDate>().expect("date") + Duration::days(n)
    }

    #[derive(Debug, Clone)]
    struct History {
        missions: Vec<MissionSpan>,
        members: HashMap<Uuid, Vec<Span>>,
        proofs: Vec<ProofRow>,
        today: NaiveDate,
        seals: (NaiveDate, NaiveDate),
        ranges: Vec<(NaiveDate, NaiveDate)>,
    }

    type RawMission = (bool, i32, i64, Option<i64>, Vec<(i64, i32)>);
    type RawProof = (usize, usize, i64, bool);

    fn history(
        raw_missions: Vec<RawMission>,
        raw_members: Vec<(i64, Option<i64>)>,
        raw_proofs: Vec<RawProof>,
        today: i64,
        seals: (i64, i64),
        ranges: Vec<(i64, i64)>,
    ) -> History {
        let today = at(today);
        let missions: Vec<MissionSpan> = raw_missions
            .into_iter()
            .map(|(once, n, start, len, targets)| MissionSpan {
                id: Uuid::now_v7(),
                kind: if once { Kind::Once } else { Kind::Repeat },
                times_per_week: n,
                // Earlier targets, each until a Monday, in date order.
                targets: {
                    let mut t: Vec<(NaiveDate, i32)> = targets
                        .into_iter()
                        .map(|(w, n)| (week_start(at(w)), n))
                        .collect();
                    t.sort();
                    t.dedup_by_key(|(w, _)| *w);
                    t
                },
                start: at(start).min(today),
                closed_on: len
                    .map(|l| (at(start) + Duration::days(l)).min(today))
                    .filter(|c| *c < today),
            })
            .collect();
        let ids: Vec<Uuid> = raw_members.iter().map(|_| Uuid::now_v7()).collect();
        let members: HashMap<Uuid, Vec<Span>> = ids
            .iter()
            .zip(&raw_members)
            .map(|(id, (from, len))| {
                let from = at(*from).min(today);
                let to = len.map(|l| from + Duration::days(l)).filter(|t| *t < today);
                (*id, vec![Span { from, to }])
            })
            .collect();
        // Only proofs the product would take: on an active day of the
        // mission, by a member then, within the weekly slots, one per
        // ONCE mission, one a day.
        let mut proofs: Vec<ProofRow> = Vec::new();
        for (mi, who, day, done) in raw_proofs {
            let m = &missions[mi % missions.len()];
            let member = ids[who % ids.len()];
            let day = at(day);
            let open = day >= m.start
                && day <= today
                && m.closed_on.is_none_or(|c| day <= c)
                && members[&member].iter().any(|s| s.contains(day));
            let mine = |p: &&ProofRow| p.mission == m.id && p.member == member;
            let taken = match m.kind {
                Kind::Once => proofs.iter().filter(mine).count() > 0,
                Kind::Repeat => {
                    proofs.iter().filter(mine).any(|p| p.day == day)
                        || proofs
                            .iter()
                            .filter(mine)
                            .filter(|p| week_start(p.day) == week_start(day))
                            .count() as i32
                            >= m.target(week_start(day))
                }
            };
            if open && !taken {
                proofs.push(ProofRow {
                    id: Uuid::now_v7(),
                    mission: m.id,
                    member,
                    day,
                    done,
                    at: DateTime::UNIX_EPOCH, // a fixed instant: only the day counts
                });
            }
        }
        let this_week = week_start(today);
        let s1 = week_start(at(seals.0)).min(this_week);
        let s2 = week_start(at(seals.1)).min(this_week).max(s1);
        History {
            missions,
            members,
            proofs,
            today,
            seals: (s1, s2),
            ranges: ranges
                .into_iter()
                .map(|(a, len)| (at(a), (at(a) + Duration::days(len)).min(today)))
                .filter(|(a, b)| a <= b)
                .collect(),
        }
    }

    /// What the store hands a seal or a live count from `from`: rows of
    /// the days [from, until), and earlier rows of ONCE missions open then.
    fn rows_for(h: &History, from: NaiveDate, until: NaiveDate) -> Vec<ProofRow> {
        h.proofs
            .iter()
            .filter(|p| {
                let m = h.missions.iter().find(|m| m.id == p.mission);
                (p.day >= from && p.day < until)
                    || m.is_some_and(|m| {
                        m.kind == Kind::Once
                            && m.start < from
                            && m.closed_on.is_none_or(|c| c >= from)
                            && p.day < from
                    })
            })
            .copied()
            .collect()
    }

    fn strategy() -> impl Strategy<Value = History> {
        (
            prop::collection::vec(
                (
                    any::<bool>(),
                    1..=7i32,
                    0..50i64,
                    prop::option::of(0..30i64),
                    prop::collection::vec((0..70i64, 1..=7i32), 0..3),
                ),
                1..5,
            ),
            prop::collection::vec((0..50i64, prop::option::of(0..40i64)), 1..5),
            prop::collection::vec(
                (0..8usize, 0..8usize, 0..70i64, prop::bool::weighted(0.8)),
                0..120,
            ),
            20..70i64,
            (0..70i64, 0..70i64),
            prop::collection::vec((-10..70i64, 0..80i64), 1..6),
        )
            .prop_map(|(m, mem, p, today, seals, ranges)| history(m, mem, p, today, seals, ranges))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn kept_plus_live_equals_the_whole_ledger(h in strategy()) {
            let origin = h.missions.iter().map(|m| m.start).min().unwrap_or(h.today);
            let (s1, s2) = h.seals;
            let first = week_start(origin).min(s1);
            // Seal 1 on its own day (a "today" after s1), seal 2 later.
            let (mut days, mut per_mission) = seal_counts(
                &h.missions, &h.members, &rows_for(&h, first, s1), s1.max(h.today - Duration::days(3)).max(s1), (first, s1));
            let (days2, per_mission2) = seal_counts(
                &h.missions, &h.members, &rows_for(&h, s1, s2), h.today, (s1, s2));
            for (m, d) in days2 {
                for (day, c) in d {
                    days.entry(m).or_default().entry(day).or_default().add(&c);
                }
            }
            for (k, c) in per_mission2 {
                per_mission.entry(k).or_default().add(&c);
            }
            let mut weeks: HashMap<Uuid, BTreeMap<NaiveDate, Counts>> = HashMap::new();
            let mut totals: HashMap<Uuid, Counts> = HashMap::new();
            for (m, d) in &days {
                for (day, c) in d {
                    prop_assert!(*day < s2, "nothing kept from the open weeks");
                    prop_assert_eq!(c.pending, 0);
                    weeks.entry(*m).or_default().entry(week_start(*day)).or_default().add(c);
                    totals.entry(*m).or_default().add(c);
                }
            }
            let live_rows = rows_for(&h, s2, NaiveDate::MAX);
            let live = ledger_from(&h.missions, &h.members, &live_rows, h.today, s2);
            let whole = ledger(&h.missions, &h.members, &h.proofs, h.today);
            let view = View { until: s2, origin, days: &days, weeks: &weeks, totals: &totals, live: &live };
            let mut ranges = h.ranges.clone();
            ranges.push((origin - Duration::days(5), h.today));
            ranges.push((s2, h.today));
            for member in h.members.keys() {
                for &(a, b) in &ranges {
                    prop_assert_eq!(view.sum(member, a, b).0, sum(whole.get(member), a, b), "member range {:?}", (a, b));
                }
            }
            // What the kept ranges name is all a view reads.
            let (dr, wr) = kept_ranges(&ranges, origin, s2);
            let only = |all: &HashMap<Uuid, BTreeMap<NaiveDate, Counts>>, rs: &[(NaiveDate, NaiveDate)]| {
                all.iter().map(|(m, d)| (*m, d.iter().filter(|(day, _)| rs.iter().any(|(a, b)| *day >= a && *day <= b)).map(|(k, v)| (*k, *v)).collect())).collect::<HashMap<Uuid, BTreeMap<NaiveDate, Counts>>>()
            };
            let (d_read, w_read) = (only(&days, &dr), only(&weeks, &wr));
            let narrow = View { days: &d_read, weeks: &w_read, ..view };
            for member in h.members.keys() {
                for &(a, b) in &ranges {
                    prop_assert_eq!(narrow.sum(member, a, b).0, sum(whole.get(member), a, b));
                }
            }
            // Per mission (the standings' totals).
            for m in &h.missions {
                let mine: Vec<ProofRow> = h.proofs.iter().filter(|p| p.mission == m.id).copied().collect();
                let whole = ledger(std::slice::from_ref(m), &h.members, &mine, h.today);
                let live_mine: Vec<ProofRow> = live_rows.iter().filter(|p| p.mission == m.id).copied().collect();
                let live = ledger_from(std::slice::from_ref(m), &h.members, &live_mine, h.today, s2);
                for member in h.members.keys() {
                    let mut got = per_mission.get(&(m.id, *member)).copied().unwrap_or_default();
                    got.add(&sum(live.get(member), s2, h.today));
                    prop_assert_eq!(got, sum(whole.get(member), NaiveDate::MIN, h.today));
                }
            }
        }
    }
}
