//! One-page A4 PDF activity report for a MOING team (Korean labels).
//!
//! [`pdf`] lays out a fixed single page: a title with the period, three summary
//! boxes (team rate, my rate against the member average, my rank), a weekly
//! progress graph drawn as vector paths, the member ranking and a footer. Every
//! part has a fixed height budget, so the result is exactly one page whatever the
//! size of the input: long names are shortened, dense graphs get fewer axis
//! labels and a long ranking ends with a "… 외 N명" line.
//!
//! Text is set in NanumSquare Regular (SIL OFL 1.1, see `fonts/`), which is
//! embedded in the binary; krilla subsets it, so only the glyphs used end up in
//! the PDF.

mod canvas;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;

use canvas::{Align, Canvas, Rgb};

/// One member's line in the ranking table.
#[derive(Debug, Clone, PartialEq)]
pub struct RankRow {
    pub rank: i32,
    pub name: String,
    /// 0.0..=1.0; `None` when nothing was required of the member yet.
    pub rate: Option<f64>,
    pub done: i32,
    pub required: i32,
    /// The member the report is made for; the row is highlighted.
    pub me: bool,
}

/// One point of the weekly progress graph.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekPoint {
    /// First day of the week (team-local).
    pub start: NaiveDate,
    pub team_rate: Option<f64>,
    pub my_rate: Option<f64>,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub team_name: String,
    /// Inclusive, team-local days.
    pub period: (NaiveDate, NaiveDate),
    pub days: i64,
    pub member_count: usize,
    /// 0.0..=1.0; `None` = nothing required yet.
    pub team_rate: Option<f64>,
    pub my_rate: Option<f64>,
    /// The mean of the member rates.
    pub average_rate: Option<f64>,
    pub my_name: String,
    /// Ranked members; rows that do not fit are summarised as "… 외 N명".
    pub ranking: Vec<RankRow>,
    /// Team rate and mine per week; `None` points break the lines.
    pub weekly: Vec<WeekPoint>,
    pub generated_at: DateTime<Utc>,
}

/// A4 portrait in PDF points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;

/// Longest name (in characters) shown before it is cut with "…".
const NAME_CHARS: usize = 20;
const TITLE_CHARS: usize = 40;

const MARGIN: f32 = 40.0;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const CONTENT_WIDTH: f32 = RIGHT - MARGIN;

// Colours.
const TEXT: Rgb = Rgb(0x1f, 0x29, 0x33);
const MUTED: Rgb = Rgb(0x6b, 0x77, 0x85);
const RULE: Rgb = Rgb(0xe3, 0xe7, 0xed);
const BOX_BG: Rgb = Rgb(0xf4, 0xf6, 0xf9);
const HEAD_BG: Rgb = Rgb(0xec, 0xf0, 0xf5);
const TRACK: Rgb = Rgb(0xdf, 0xe4, 0xea);
const AXIS: Rgb = Rgb(0x9a, 0xa3, 0xae);
const GRID: Rgb = Rgb(0xcf, 0xd5, 0xdd);
const TEAM: Rgb = Rgb(0x2f, 0x6b, 0xd8);
const ME: Rgb = Rgb(0xec, 0x7a, 0x12);
const ME_TEXT: Rgb = Rgb(0xb0, 0x55, 0x00);
const ME_BG: Rgb = Rgb(0xff, 0xf2, 0xe2);

// Vertical budget (top-down, points). Each section owns a fixed band.
const SUMMARY_TOP: f32 = 120.0;
const SUMMARY_HEIGHT: f32 = 62.0;
const GRAPH_HEADING: f32 = 212.0;
const PLOT_TOP: f32 = 228.0;
const PLOT_BOTTOM: f32 = 360.0;
const PLOT_LEFT: f32 = MARGIN + 32.0;
const PLOT_RIGHT: f32 = RIGHT - 4.0;
const RANK_HEADING: f32 = 404.0;
const TABLE_TOP: f32 = 414.0;
const TABLE_HEAD_HEIGHT: f32 = 18.0;
const ROW_HEIGHT: f32 = 14.0;
const TABLE_BOTTOM: f32 = 794.0;
const FOOTER_RULE: f32 = 804.0;
const FOOTER_BASELINE: f32 = 820.0;

/// Renders the report as a one-page A4 PDF (595 × 842 pt).
pub fn pdf(report: &Report) -> Result<Vec<u8>> {
    let mut document = Document::new();
    document.set_metadata(metadata(report));

    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).context("A4 page size")?;
    let mut page = document.start_page_with(settings);
    {
        let mut surface = page.surface();
        let mut c = Canvas::new(&mut surface)?;
        header(&mut c, report);
        summary(&mut c, report);
        graph(&mut c, &report.weekly);
        ranking(&mut c, report);
        footer(&mut c, report);
    }
    page.finish();
    document.finish().context("serialising the PDF")
}

fn metadata(report: &Report) -> Metadata {
    let at = report.generated_at;
    let created = krilla::metadata::DateTime::new(u16::try_from(at.year()).unwrap_or(1970))
        .month(two_digits(at.month()))
        .day(two_digits(at.day()))
        .hour(two_digits(at.hour()))
        .minute(two_digits(at.minute()))
        .second(two_digits(at.second()))
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    Metadata::new()
        .title(format!("{} 활동 리포트", report.team_name.trim()))
        .creator("MOING".to_owned())
        .language("ko".to_owned())
        .creation_date(created)
}

fn two_digits(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(0)
}

/// A rate fit for drawing: finite and within 0..=1.
fn clean(rate: Option<f64>) -> Option<f32> {
    rate.filter(|r| r.is_finite())
        .map(|r| r.clamp(0.0, 1.0) as f32)
}

/// "87%", or "—" when there is no rate.
fn percent(rate: Option<f64>) -> String {
    match clean(rate) {
        Some(r) => format!("{}%", (r * 100.0).round() as i32),
        None => "—".to_owned(),
    }
}

fn header(c: &mut Canvas, report: &Report) {
    c.text(MARGIN, 54.0, 9.0, TEAM, "MOING 활동 리포트", Align::Left);
    let title = c.fit(&report.team_name, 22.0, CONTENT_WIDTH, TITLE_CHARS);
    c.text(MARGIN, 80.0, 22.0, TEXT, &title, Align::Left);
    let (from, to) = report.period;
    let sub = format!(
        "기간 {} ~ {} ({}일) · 멤버 {}명",
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d"),
        report.days,
        report.member_count
    );
    c.text(MARGIN, 100.0, 10.0, MUTED, &sub, Align::Left);
    c.hline(MARGIN, RIGHT, 110.0, RULE, 0.8);
}

fn summary(c: &mut Canvas, report: &Report) {
    let gap = 10.0;
    let width = (CONTENT_WIDTH - 2.0 * gap) / 3.0;
    let top = SUMMARY_TOP;
    let boxes = [MARGIN, MARGIN + width + gap, MARGIN + 2.0 * (width + gap)];
    for x in boxes {
        c.rounded_rect(x, top, width, SUMMARY_HEIGHT, 6.0, BOX_BG);
    }

    // Team rate.
    let x = boxes[0] + 12.0;
    c.text(x, top + 18.0, 9.0, MUTED, "팀 달성률", Align::Left);
    c.text(
        x,
        top + 43.0,
        20.0,
        TEXT,
        &percent(report.team_rate),
        Align::Left,
    );
    c.progress(
        x,
        top + 50.0,
        width - 24.0,
        4.0,
        clean(report.team_rate),
        TEAM,
    );

    // My rate against the member average.
    let x = boxes[1] + 12.0;
    let label_prefix = "내 달성률 · ";
    let prefix_width = c.width(label_prefix, 9.0);
    let name = c.fit(
        &report.my_name,
        9.0,
        width - 24.0 - prefix_width,
        NAME_CHARS,
    );
    c.text(
        x,
        top + 18.0,
        9.0,
        MUTED,
        &format!("{label_prefix}{name}"),
        Align::Left,
    );
    let mine = percent(report.my_rate);
    c.text(x, top + 43.0, 20.0, ME_TEXT, &mine, Align::Left);
    let after = x + c.width(&mine, 20.0) + 6.0;
    let avg = format!("(평균 {})", percent(report.average_rate));
    c.text(after, top + 43.0, 9.0, MUTED, &avg, Align::Left);
    c.progress(x, top + 50.0, width - 24.0, 4.0, clean(report.my_rate), ME);
    if let Some(avg) = clean(report.average_rate) {
        // A tick on my bar where the member average lies.
        let tx = x + (width - 24.0) * avg;
        c.vline(tx, top + 48.0, top + 56.0, TEXT, 1.0);
    }

    // My rank.
    let x = boxes[2] + 12.0;
    c.text(x, top + 18.0, 9.0, MUTED, "내 순위", Align::Left);
    match report.ranking.iter().find(|r| r.me) {
        Some(row) => {
            let rank = format!("{}위", row.rank);
            c.text(x, top + 43.0, 20.0, TEXT, &rank, Align::Left);
            let after = x + c.width(&rank, 20.0) + 6.0;
            let of = format!("/ {}명", report.member_count);
            c.text(after, top + 43.0, 9.0, MUTED, &of, Align::Left);
            let detail = format!("완료 {} / 필요 {}", row.done, row.required);
            c.text(x, top + 56.0, 8.0, MUTED, &detail, Align::Left);
        }
        None => c.text(x, top + 43.0, 20.0, TEXT, "—", Align::Left),
    }
}

fn graph(c: &mut Canvas, weekly: &[WeekPoint]) {
    c.text(
        MARGIN,
        GRAPH_HEADING,
        12.0,
        TEXT,
        "주간 달성률 추이",
        Align::Left,
    );
    legend(c);

    // Grid: 0% is the axis, 50% and 100% are dashed guides.
    let (left, right, top, bottom) = (PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM);
    let y_of = |v: f32| bottom - v * (bottom - top);
    for (v, label) in [(0.5_f32, "50%"), (1.0, "100%")] {
        c.dashed_hline(left, right, y_of(v), GRID, 0.6, 2.0);
        c.text(left - 6.0, y_of(v) + 3.0, 8.0, MUTED, label, Align::Right);
    }
    c.text(left - 6.0, y_of(0.0) + 3.0, 8.0, MUTED, "0%", Align::Right);
    c.vline(left, top - 4.0, bottom, AXIS, 0.8);
    c.hline(left, right, bottom, AXIS, 0.8);

    let n = weekly.len();
    let has_values = weekly
        .iter()
        .any(|w| clean(w.team_rate).is_some() || clean(w.my_rate).is_some());
    if n == 0 || !has_values {
        let note = if n == 0 {
            "아직 주간 기록이 없습니다"
        } else {
            "아직 달성률 데이터가 없습니다"
        };
        c.text(
            (left + right) / 2.0,
            y_of(0.5) - 6.0,
            9.0,
            MUTED,
            note,
            Align::Center,
        );
    }
    if n == 0 {
        return;
    }

    // X positions: evenly spaced, inset so end markers stay off the axis.
    let inset = 10.0;
    let span = right - left - 2.0 * inset;
    let step = if n > 1 { span / (n - 1) as f32 } else { 0.0 };
    let x_of = |i: usize| {
        if n == 1 {
            (left + right) / 2.0
        } else {
            left + inset + step * i as f32
        }
    };

    week_labels(c, weekly, &x_of, step);

    let radius = if n > 1 {
        (step * 0.28).clamp(1.3, 2.8)
    } else {
        2.8
    };
    let team: Vec<Option<(f32, f32)>> = weekly
        .iter()
        .enumerate()
        .map(|(i, w)| clean(w.team_rate).map(|v| (x_of(i), y_of(v))))
        .collect();
    let mine: Vec<Option<(f32, f32)>> = weekly
        .iter()
        .enumerate()
        .map(|(i, w)| clean(w.my_rate).map(|v| (x_of(i), y_of(v))))
        .collect();
    c.polyline(&team, TEAM, 1.4);
    c.markers(&team, radius, TEAM, false);
    c.polyline(&mine, ME, 1.4);
    c.markers(&mine, radius, ME, true);
}

/// "— 팀  — 나" at the right end of the graph heading.
fn legend(c: &mut Canvas) {
    let y = GRAPH_HEADING - 4.0;
    let mut x = RIGHT;
    for (label, color, square) in [("나", ME, true), ("팀", TEAM, false)] {
        let w = c.width(label, 9.0);
        x -= w;
        c.text(x, GRAPH_HEADING, 9.0, TEXT, label, Align::Left);
        x -= 20.0;
        c.polyline(&[Some((x, y)), Some((x + 16.0, y))], color, 1.4);
        c.markers(&[Some((x + 8.0, y))], 2.6, color, square);
        x -= 12.0;
    }
}

/// MM-DD under the x axis, thinned out so neighbouring labels never touch.
fn week_labels(c: &mut Canvas, weekly: &[WeekPoint], x_of: &dyn Fn(usize) -> f32, step: f32) {
    let size = 7.5;
    let label_width = c.width("00-00", size);
    let min_gap = label_width + 14.0;
    let every = if step > 0.0 {
        ((min_gap / step).ceil() as usize).max(1)
    } else {
        1
    };
    let mut last: Option<usize> = None;
    let last_index = weekly.len().saturating_sub(1);
    for (i, week) in weekly.iter().enumerate() {
        let regular = i % every == 0;
        let closing =
            i == last_index && last.is_none_or(|prev| (i - prev) as f32 * step >= min_gap);
        if !(regular || closing) {
            continue;
        }
        let x = x_of(i);
        c.vline(x, PLOT_BOTTOM, PLOT_BOTTOM + 3.0, AXIS, 0.6);
        let label = week.start.format("%m-%d").to_string();
        c.text(x, PLOT_BOTTOM + 13.0, size, MUTED, &label, Align::Center);
        last = Some(i);
    }
}

/// Rows of the table: what is shown, in order.
enum Line<'a> {
    Row(&'a RankRow),
    More(usize),
}

/// The rows that fit in `capacity` lines; when some are left out, a "… 외 N명"
/// line takes their place, and the caller's own row is kept visible after it.
fn table_lines(rows: &[RankRow], capacity: usize) -> Vec<Line<'_>> {
    if rows.len() <= capacity {
        return rows.iter().map(Line::Row).collect();
    }
    let capacity = capacity.max(3);
    let me = rows.iter().position(|r| r.me);
    let head = match me {
        Some(i) if i >= capacity - 1 => capacity - 2,
        _ => capacity - 1,
    };
    let mut lines: Vec<Line<'_>> = rows[..head].iter().map(Line::Row).collect();
    match me.filter(|&i| i >= head) {
        Some(i) => {
            lines.push(Line::More(rows.len() - head - 1));
            lines.push(Line::Row(&rows[i]));
        }
        None => lines.push(Line::More(rows.len() - head)),
    }
    lines
}

fn ranking(c: &mut Canvas, report: &Report) {
    c.text(MARGIN, RANK_HEADING, 12.0, TEXT, "멤버 순위", Align::Left);
    let count = format!("{}명", report.ranking.len());
    c.text(RIGHT, RANK_HEADING, 9.0, MUTED, &count, Align::Right);

    // Column anchors.
    let rank_right = MARGIN + 36.0;
    let name_left = MARGIN + 50.0;
    let name_right = MARGIN + 282.0;
    let bar_left = MARGIN + 296.0;
    let bar_width = 96.0;
    let rate_right = MARGIN + 436.0;
    let count_right = RIGHT - 8.0;

    c.rect(MARGIN, TABLE_TOP, CONTENT_WIDTH, TABLE_HEAD_HEIGHT, HEAD_BG);
    let base = TABLE_TOP + 12.5;
    c.text(rank_right, base, 8.5, MUTED, "순위", Align::Right);
    c.text(name_left, base, 8.5, MUTED, "이름", Align::Left);
    c.text(rate_right, base, 8.5, MUTED, "달성률", Align::Right);
    c.text(count_right, base, 8.5, MUTED, "완료/필요", Align::Right);

    let rows_top = TABLE_TOP + TABLE_HEAD_HEIGHT;
    if report.ranking.is_empty() {
        c.text(
            name_left,
            rows_top + 14.0,
            9.0,
            MUTED,
            "순위 정보가 없습니다",
            Align::Left,
        );
        return;
    }
    let capacity = ((TABLE_BOTTOM - rows_top) / ROW_HEIGHT).floor() as usize;
    let me_tag = " (나)";
    let me_tag_width = c.width(me_tag, 9.0);
    for (i, line) in table_lines(&report.ranking, capacity).iter().enumerate() {
        let top = rows_top + ROW_HEIGHT * i as f32;
        let base = top + 10.0;
        match line {
            Line::More(n) => {
                let text = format!("… 외 {n}명");
                c.text(name_left, base, 8.5, MUTED, &text, Align::Left);
            }
            Line::Row(row) => {
                let (ink, bar) = if row.me { (ME_TEXT, ME) } else { (TEXT, TEAM) };
                if row.me {
                    c.rect(MARGIN, top, CONTENT_WIDTH, ROW_HEIGHT, ME_BG);
                    c.rect(MARGIN, top, 2.5, ROW_HEIGHT, ME);
                }
                c.text(
                    rank_right,
                    base,
                    9.0,
                    ink,
                    &row.rank.to_string(),
                    Align::Right,
                );
                let room = name_right - name_left - if row.me { me_tag_width } else { 0.0 };
                let mut name = c.fit(&row.name, 9.0, room, NAME_CHARS);
                if row.me {
                    name.push_str(me_tag);
                }
                c.text(name_left, base, 9.0, ink, &name, Align::Left);
                c.progress(bar_left, top + 5.0, bar_width, 4.0, clean(row.rate), bar);
                c.text(rate_right, base, 9.0, ink, &percent(row.rate), Align::Right);
                let counts = format!("{} / {}", row.done, row.required);
                c.text(count_right, base, 9.0, ink, &counts, Align::Right);
            }
        }
        c.hline(MARGIN, RIGHT, top + ROW_HEIGHT, RULE, 0.5);
    }
}

fn footer(c: &mut Canvas, report: &Report) {
    c.hline(MARGIN, RIGHT, FOOTER_RULE, RULE, 0.8);
    let text = format!(
        "MOING · 생성 {} UTC",
        report.generated_at.format("%Y-%m-%d %H:%M")
    );
    c.text(MARGIN, FOOTER_BASELINE, 8.0, MUTED, &text, Align::Left);
    c.text(RIGHT, FOOTER_BASELINE, 8.0, MUTED, "1 / 1", Align::Right);
}

#[cfg(test)]
mod tests;
