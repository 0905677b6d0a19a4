//! ExportTeamActivity on real MariaDB, with three weeks of history: a member
//! who joined late, one who left, skips, a ONCE mission that closed. The
//! CSV's member totals equal the goal board's ranking counts, each member's
//! rows sum to their total, and the PDF is one page with the team name.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use moing_proto::moing::board::v1::*;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn seoul_today() -> NaiveDate {
    (moing_common::clock::now() + Duration::hours(9)).date_naive()
}

struct Seeded {
    team: String,
    leader: Member,
    stays: Member,
    late: Member,
    leaver: Member,
}

/// Three weeks of history written into moim's and mission's schemas.
async fn seed(app: &TestApp) -> anyhow::Result<Seeded> {
    let (leader, stays, late, leaver) = (app.member(), app.member(), app.member(), app.member());
    let (team, code) = app.team(&leader).await;
    for m in [&stays, &late, &leaver] {
        app.join(&code, m).await;
    }
    let team_id = Uuid::parse_str(&team)?;
    let now = moing_common::clock::now();
    let today = seoul_today();
    sqlx::query("UPDATE team SET start_date = ? WHERE id = ?")
        .bind(today - Duration::days(21))
        .bind(team_id)
        .execute(&app.moim_db.pool)
        .await?;
    for (m, joined, left) in [
        (&leader, 22, None),
        (&stays, 22, None),
        (&late, 6, None),
        (&leaver, 22, Some(4)),
    ] {
        sqlx::query("UPDATE membership SET joined_at = ?, state = ?, left_at = ? WHERE team_id = ? AND member_id = ?")
            .bind((now - Duration::days(joined)).naive_utc())
            .bind(if left.is_some() { "LEFT" } else { "ACTIVE" })
            .bind(left.map(|l: i64| (now - Duration::days(l)).naive_utc()))
            .bind(team_id)
            .bind(m.id)
            .execute(&app.moim_db.pool)
            .await?;
    }
    let (repeat, once) = (Uuid::now_v7(), Uuid::now_v7());
    let created = (now - Duration::days(20)).naive_utc();
    sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, times_per_week, state, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '=아침 운동', 'REPEAT', 'PHOTO', 3, 'ACTIVE', ?, 'Asia/Seoul', ?, ?)")
        .bind(repeat).bind(team_id).bind(leader.id).bind(created).bind(created)
        .execute(&app.mission_db.pool).await?;
    let ended = (now - Duration::days(12)).naive_utc();
    sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, deadline, state, end_reason, ended_at, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '책 한 권', 'ONCE', 'TEXT', ?, 'ENDED', 'DEADLINE', ?, ?, 'Asia/Seoul', ?, ?)")
        .bind(once).bind(team_id).bind(ended).bind(ended).bind(leader.id).bind(created).bind(created)
        .execute(&app.mission_db.pool).await?;
    // (member, mission, days ago, done)
    let proofs = [
        (&leader, repeat, 18, true),
        (&leader, repeat, 16, true),
        (&leader, repeat, 11, true),
        (&leader, once, 15, true),
        (&stays, repeat, 18, true),
        (&stays, repeat, 17, false),
        (&stays, repeat, 9, true),
        (&leaver, repeat, 18, true),
        (&leaver, once, 14, true),
        (&leaver, repeat, 6, true),
        (&late, repeat, 3, true),
        (&late, repeat, 2, false),
    ];
    let mut slots: HashMap<(Uuid, NaiveDate), i32> = HashMap::new();
    for (m, mission, ago, done) in proofs {
        let day = today - Duration::days(ago);
        let week = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        let slot = slots.entry((m.id, week)).or_insert(0);
        let is_once = mission == once;
        sqlx::query("INSERT INTO proof (id, team_id, mission_id, member_id, status, way, body_text, day, week_start, week_slot, is_once, created_at) VALUES (?, ?, ?, ?, ?, 'TEXT', '완료', ?, ?, ?, ?, ?)")
            .bind(Uuid::now_v7()).bind(team_id).bind(mission).bind(m.id)
            .bind(if done { "DONE" } else { "SKIPPED" })
            .bind(day).bind(week).bind(if is_once { 0 } else { *slot }).bind(is_once)
            .bind((now - Duration::days(ago)).naive_utc())
            .execute(&app.mission_db.pool).await?;
        if !is_once {
            *slot += 1;
        }
    }
    Ok(Seeded {
        team,
        leader,
        stays,
        late,
        leaver,
    })
}

fn ask(team: &str, format: ExportFormat, scope: ExportScope) -> ExportTeamActivityRequest {
    ExportTeamActivityRequest {
        team_id: team.into(),
        format: format as i32,
        scope: scope as i32,
        start_date: None,
        end_date: None,
    }
}

type Records = Vec<HashMap<String, String>>;

fn parse(bytes: &[u8]) -> anyhow::Result<Records> {
    let text = std::str::from_utf8(bytes)?;
    let body = text
        .strip_prefix('\u{feff}')
        .ok_or_else(|| anyhow::anyhow!("no byte-order mark"))?;
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = r.headers()?.iter().map(str::to_owned).collect();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        out.push(
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect(),
        );
    }
    Ok(out)
}

fn n(rec: &HashMap<String, String>, k: &str) -> i32 {
    rec.get(k).and_then(|v| v.parse().ok()).unwrap_or(-1)
}

#[tokio::test]
async fn the_csv_totals_are_the_goal_boards_and_the_pdf_is_one_page() -> anyhow::Result<()> {
    let app = spawn_app().await;
    let s = seed(&app).await?;
    let mut b = app.board.clone();
    let csv = b
        .export_team_activity(as_member(
            &s.stays,
            ask(&s.team, ExportFormat::Csv, ExportScope::Team),
        ))
        .await?
        .into_inner();
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    assert!(csv.file_name.ends_with(".csv"), "{}", csv.file_name);
    let records = parse(&csv.content)?;
    let board = b
        .get_goal_board(as_member(
            &s.stays,
            GetGoalBoardRequest {
                team_id: s.team.clone(),
            },
        ))
        .await?
        .into_inner()
        .goal_board
        .ok_or_else(|| anyhow::anyhow!("no board"))?;

    let totals: HashMap<String, &HashMap<String, String>> = records
        .iter()
        .filter(|r| r.get("row_type").map(String::as_str) == Some("member_total"))
        .map(|r| (r["member_id"].clone(), r))
        .collect();
    // Everyone of the period, the leaver included.
    for m in [&s.leader, &s.stays, &s.late, &s.leaver] {
        assert!(
            totals.contains_key(&m.id.to_string()),
            "{} has totals",
            m.id
        );
    }
    // The board's ranking (active members) has the very same counts.
    assert_eq!(board.ranking.len(), 3);
    for r in &board.ranking {
        let t = totals[&r.member_id];
        assert_eq!(
            (n(t, "done"), n(t, "required")),
            (r.done_count, r.required_count),
            "{}",
            r.member_id
        );
    }
    // Each member's rows sum to their total; a skip is counted, not done.
    for (id, t) in &totals {
        let rows: Vec<_> = records
            .iter()
            .filter(|r| r["row_type"] == "day" && &r["member_id"] == id)
            .collect();
        for k in ["required", "done", "skipped", "pending"] {
            assert_eq!(
                rows.iter().map(|r| n(r, k)).sum::<i32>(),
                n(t, k),
                "{id} {k}"
            );
        }
    }
    assert_eq!(n(totals[&s.stays.id.to_string()], "skipped"), 1);
    assert_eq!(n(totals[&s.late.id.to_string()], "skipped"), 1);
    // The leader's ONCE proof and the closed mission's obligation are counted.
    assert!(records.iter().any(|r| r["mission_title"] == "책 한 권"
        && r["member_id"] == s.leader.id.to_string()
        && n(r, "done") == 1));
    // A title starting with "=" is neutralised; the proof way is the mission's.
    assert!(
        records
            .iter()
            .any(|r| r["mission_title"] == "'=아침 운동" && r["proof_way"] == "PHOTO")
    );
    let team_row = records.last().ok_or_else(|| anyhow::anyhow!("empty"))?;
    assert_eq!(team_row["row_type"], "team_rate");
    let team_rate = board.overall_rates.as_ref().and_then(|o| o.team_rate);
    let csv_rate: Option<f64> = team_row["rate"].parse().ok();
    assert!(
        matches!((team_rate, csv_rate), (Some(a), Some(b)) if (a - b).abs() < 1e-4),
        "{team_rate:?} vs {csv_rate:?}"
    );

    // Scope ME: only my rows and total.
    let mine = parse(
        &b.export_team_activity(as_member(
            &s.late,
            ask(&s.team, ExportFormat::Csv, ExportScope::Me),
        ))
        .await?
        .into_inner()
        .content,
    )?;
    assert!(
        mine.iter()
            .filter(|r| r["row_type"] != "team_rate")
            .all(|r| r["member_id"] == s.late.id.to_string())
    );
    assert!(mine.iter().any(|r| r["row_type"] == "member_total"));

    // A period: only its days.
    let today = seoul_today();
    let mut period = ask(&s.team, ExportFormat::Csv, ExportScope::Team);
    period.start_date = Some(moing_common::convert::date(today - Duration::days(10)));
    period.end_date = Some(moing_common::convert::date(today - Duration::days(8)));
    let within = parse(
        &b.export_team_activity(as_member(&s.leader, period))
            .await?
            .into_inner()
            .content,
    )?;
    for r in within.iter().filter(|r| r["row_type"] == "day") {
        let d: NaiveDate = r["date"].parse()?;
        assert!(
            d >= today - Duration::days(10) && d <= today - Duration::days(8),
            "{d}"
        );
    }

    // PDF: one A4 page with the team name and the period.
    let pdf = b
        .export_team_activity(as_member(
            &s.stays,
            ask(&s.team, ExportFormat::Pdf, ExportScope::Team),
        ))
        .await?
        .into_inner();
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.content.starts_with(b"%PDF"));
    let dir = std::env::temp_dir().join(format!("moing-export-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("report.pdf");
    std::fs::write(&file, &pdf.content)?;
    let info = std::process::Command::new("pdfinfo").arg(&file).output()?;
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")),
        "{info}"
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()?;
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(text.contains("보드팀"), "{text}");
    assert!(
        text.contains(&(today - Duration::days(21)).to_string()),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test]
async fn only_members_export_and_bad_requests_change_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await;
    let leader = app.member();
    let outsider = app.member();
    let (team, _) = app.team(&leader).await;
    let mut b = app.board.clone();
    let made_up = Uuid::now_v7().to_string();
    for t in [&team, &made_up] {
        assert_status(
            b.export_team_activity(as_member(
                &outsider,
                ask(t, ExportFormat::Csv, ExportScope::Team),
            ))
            .await,
            Code::NotFound,
            "TEAM_NOT_FOUND",
        );
    }
    let bad = ExportTeamActivityRequest {
        team_id: team.clone(),
        format: 0,
        scope: 9,
        start_date: Some(moing_common::convert::date(seoul_today())),
        end_date: Some(moing_common::convert::date(
            seoul_today() - Duration::days(1),
        )),
    };
    assert_invalid(
        b.export_team_activity(as_member(&leader, bad)).await,
        &["format", "scope", "end_date"],
    );
    // An empty team exports a header, a total and the team row.
    let empty = b
        .export_team_activity(as_member(
            &leader,
            ask(&team, ExportFormat::Csv, ExportScope::Team),
        ))
        .await?
        .into_inner();
    let records = parse(&empty.content)?;
    assert_eq!(records.len(), 2, "{records:?}");
    Ok(())
}
