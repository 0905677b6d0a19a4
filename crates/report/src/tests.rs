#![allow(clippy::unwrap_used)]

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::*;

const TEAM: &str = "아침 독서 모임";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A plausible report: `weeks` weekly points from 2025-03-01, `members` ranked
/// members with the caller at `my_rank` (1-based).
fn sample(weeks: usize, members: usize, my_rank: usize) -> Report {
    let start = date(2025, 3, 1);
    let days = (weeks.max(1) * 7) as i64;
    let names = [
        "김민준",
        "이서연",
        "박도윤",
        "최하은",
        "정시우",
        "강지우",
        "조서준",
        "윤하윤",
        "장예준",
        "임수아",
        "한지호",
        "오지민",
        "서은우",
        "신채원",
        "권건우",
        "황다은",
        "안유준",
        "송서윤",
        "전현우",
        "홍지유",
    ];
    let ranking: Vec<RankRow> = (0..members)
        .map(|i| {
            let required = 40;
            let done = 40 - (i as i32 * 37 / members.max(1) as i32);
            RankRow {
                rank: i as i32 + 1,
                name: format!(
                    "{}{}",
                    names[i % names.len()],
                    if i >= names.len() {
                        format!(" {}", i)
                    } else {
                        String::new()
                    }
                ),
                rate: Some(f64::from(done) / f64::from(required)),
                done,
                required,
                me: i + 1 == my_rank,
            }
        })
        .collect();
    let weekly = (0..weeks)
        .map(|i| {
            let t = i as f64;
            WeekPoint {
                start: start + Duration::days(7 * i as i64),
                team_rate: Some(0.55 + 0.3 * (t / 6.0).sin() * (1.0 - t / 120.0)),
                // A gap in weeks 10..=12 (e.g. on holiday): the line must break.
                my_rate: if (10..=12).contains(&i) {
                    None
                } else {
                    Some((0.7 + 0.25 * (t / 4.0).cos()).clamp(0.0, 1.0))
                },
            }
        })
        .collect();
    Report {
        team_name: TEAM.to_owned(),
        period: (start, start + Duration::days(days - 1)),
        days,
        member_count: members,
        team_rate: Some(0.6834),
        my_rate: Some(0.8125),
        average_rate: Some(0.6512),
        my_name: names[(my_rank.max(1) - 1) % names.len()].to_owned(),
        ranking,
        weekly,
        generated_at: Utc.with_ymd_and_hms(2026, 2, 28, 9, 5, 0).unwrap(),
    }
}

/// Runs a poppler tool; a missing binary is a failure, never a skip.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`{tool}` is not installed; the report tests need poppler-utils \
             (apt-get install -y poppler-utils)"
        ),
        Err(e) => panic!("running {tool}: {e}"),
    };
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Writes the PDF to a fresh temporary file, removed on drop.
struct TempPdf(PathBuf);

impl TempPdf {
    fn new(bytes: &[u8]) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "moing-report-{}-{}.pdf",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    fn info(&self) -> String {
        poppler("pdfinfo", &[self.path()])
    }

    fn text(&self) -> String {
        poppler("pdftotext", &["-layout", self.path(), "-"])
    }

    fn pages(&self) -> u32 {
        let info = self.info();
        let line = info
            .lines()
            .find(|l| l.starts_with("Pages:"))
            .unwrap_or_else(|| panic!("no Pages line in pdfinfo output:\n{info}"));
        line["Pages:".len()..].trim().parse().unwrap()
    }
}

impl Drop for TempPdf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn render(report: &Report) -> (Vec<u8>, TempPdf) {
    let bytes = pdf(report).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    let file = TempPdf::new(&bytes);
    (bytes, file)
}

fn assert_one_a4_page(file: &TempPdf, case: &str) {
    let info = file.info();
    assert!(
        info.lines().any(|l| l == "Pages:           1"),
        "{case}: expected exactly one page, pdfinfo said:\n{info}"
    );
    assert_eq!(file.pages(), 1, "{case}");
    assert!(
        info.contains("Page size:       595 x 842 pts (A4)"),
        "{case}: not A4:\n{info}"
    );
}

#[test]
fn korean_year_report_is_one_page_with_text() {
    let report = sample(52, 20, 4);
    let (bytes, file) = render(&report);
    assert_one_a4_page(&file, "52 weeks");
    let text = file.text();
    assert!(text.contains(TEAM), "team name missing:\n{text}");
    assert!(text.contains("2025-03-01"), "period missing:\n{text}");
    for needle in [
        "기간 2025-03-01 ~ 2026-02-27 (364일)",
        "멤버 20명",
        "팀 달성률",
        "68%",
        "81%",
        "(평균 65%)",
        "주간 달성률 추이",
        "03-01",
        "순위",
        "완료/필요",
        "최하은 (나)",
        "MOING · 생성 2026-02-28 09:05 UTC",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    // The font is subset: far smaller than the 700 KB TTF.
    assert!(bytes.len() < 150_000, "PDF is {} bytes", bytes.len());

    preview("52-weeks", &bytes);
}

/// With MOING_REPORT_PREVIEW=DIR, keeps a copy of the PDF there to look at.
fn preview(case: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("MOING_REPORT_PREVIEW") {
        std::fs::create_dir_all(&dir).unwrap();
        let name: String = case
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.pdf")), bytes).unwrap();
    }
}

#[test]
fn edge_cases_stay_on_one_page() {
    let mut cases: Vec<(&str, Report)> = Vec::new();

    cases.push(("no weekly points", sample(0, 5, 1)));
    cases.push(("one point", sample(1, 5, 2)));

    let mut none = sample(8, 6, 3);
    none.team_rate = None;
    none.my_rate = None;
    none.average_rate = None;
    for w in &mut none.weekly {
        w.team_rate = None;
        w.my_rate = None;
    }
    for r in &mut none.ranking {
        r.rate = None;
        r.done = 0;
        r.required = 0;
    }
    cases.push(("all rates None", none));

    cases.push(("60 points", sample(60, 12, 1)));
    cases.push(("30 ranking rows", sample(12, 30, 7)));
    cases.push(("caller ranked last of 30", sample(12, 30, 30)));
    cases.push(("empty ranking", sample(4, 0, 0)));

    let mut long = sample(10, 8, 2);
    let long_name: String = "가나다라마바사아자차카타파하ABCDEFGHIJ"
        .repeat(10)
        .chars()
        .take(200)
        .collect();
    assert_eq!(long_name.chars().count(), 200);
    long.team_name = long_name.clone();
    long.my_name = long_name.clone();
    long.ranking[1].name = long_name.clone();
    long.ranking[3].name = "W".repeat(200);
    cases.push(("200-character names", long));

    let mut odd = sample(5, 3, 1);
    odd.team_rate = Some(f64::NAN);
    odd.my_rate = Some(1.7);
    odd.average_rate = Some(-0.2);
    odd.team_name = "📚 새벽\n러닝\t크루 🏃".to_owned();
    cases.push(("odd values", odd));

    for (case, report) in &cases {
        let (bytes, file) = render(report);
        preview(case, &bytes);
        assert_one_a4_page(&file, case);
        let text = file.text();
        match *case {
            "30 ranking rows" => {
                assert!(text.contains("… 외 6명"), "{case}:\n{text}");
            }
            "caller ranked last of 30" => {
                assert!(text.contains("… 외 6명"), "{case}:\n{text}");
                assert!(text.contains("(나)"), "{case}: caller row hidden:\n{text}");
            }
            "no weekly points" => assert!(text.contains("아직 주간 기록이 없습니다"), "{case}"),
            "all rates None" => {
                assert!(text.contains("아직 달성률 데이터가 없습니다"), "{case}");
                assert!(text.contains('—'), "{case}");
            }
            "200-character names" => {
                assert!(text.contains('…'), "{case}: not truncated:\n{text}");
                let head: String = long_name.chars().take(30).collect();
                assert!(!text.contains(&head), "{case}: name not cut");
            }
            "odd values" => {
                assert!(text.contains("새벽 러닝 크루"), "{case}:\n{text}");
                assert!(text.contains("100%"), "{case}");
            }
            _ => {}
        }
    }
}

#[test]
fn ranking_overflow_keeps_the_caller_visible() {
    let rows = sample(1, 30, 28).ranking;
    let lines = table_lines(&rows, 25);
    assert_eq!(lines.len(), 25);
    assert!(matches!(lines[22], Line::Row(r) if r.rank == 23));
    assert!(matches!(lines[23], Line::More(6)));
    assert!(matches!(lines[24], Line::Row(r) if r.me && r.rank == 28));

    let rows = sample(1, 30, 3).ranking;
    let lines = table_lines(&rows, 25);
    assert_eq!(lines.len(), 25);
    assert!(matches!(lines[24], Line::More(6)));

    let rows = sample(1, 25, 25).ranking;
    assert_eq!(table_lines(&rows, 25).len(), 25);
}

#[test]
fn percent_formatting() {
    assert_eq!(percent(None), "—");
    assert_eq!(percent(Some(f64::NAN)), "—");
    assert_eq!(percent(Some(0.0)), "0%");
    assert_eq!(percent(Some(0.6834)), "68%");
    assert_eq!(percent(Some(0.995)), "100%");
    assert_eq!(percent(Some(3.0)), "100%");
}

/// Prints the render time of the 52-week, 20-member report (run with
/// `--release -- --nocapture` for meaningful numbers).
#[test]
fn render_timing() {
    let report = sample(52, 20, 4);
    let first = Instant::now();
    let bytes = pdf(&report).unwrap();
    let first = first.elapsed();
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        pdf(&report).unwrap();
    }
    let avg = start.elapsed() / runs;
    println!(
        "render 52 weeks / 20 members: first {:.1} ms, mean of {runs} {:.1} ms, {} bytes",
        first.as_secs_f64() * 1e3,
        avg.as_secs_f64() * 1e3,
        bytes.len()
    );
}
