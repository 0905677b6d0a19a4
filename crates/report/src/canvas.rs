//! A thin drawing layer over a krilla [`Surface`]: filled and stroked shapes,
//! single-line text with measured alignment, and text fitting.

use anyhow::{Context, Result};
use krilla::color::rgb;
use krilla::geom::{Path, PathBuilder, Point, Rect};
use krilla::paint::{Fill, LineCap, LineJoin, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

/// NanumSquare Regular, SIL Open Font License 1.1 (`fonts/NanumSquare-LICENSE.txt`).
static FONT_DATA: &[u8] = include_bytes!("../fonts/NanumSquareR.ttf");

/// Bezier handle length for a quarter circle.
const KAPPA: f32 = 0.552_284_8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn color(self) -> rgb::Color {
        rgb::Color::new(self.0, self.1, self.2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

pub struct Canvas<'s, 'p> {
    surface: &'s mut Surface<'p>,
    font: Font,
    /// The same font, parsed for shaping: widths are measured with the shaper
    /// krilla uses when it draws, so alignment matches the output exactly.
    face: rustybuzz::Face<'static>,
    units_per_em: f32,
}

impl<'s, 'p> Canvas<'s, 'p> {
    pub fn new(surface: &'s mut Surface<'p>) -> Result<Self> {
        let font = Font::new(FONT_DATA.into(), 0).context("loading the embedded font")?;
        let face =
            rustybuzz::Face::from_slice(FONT_DATA, 0).context("parsing the embedded font")?;
        let units_per_em = face.units_per_em() as f32;
        Ok(Self {
            surface,
            font,
            face,
            units_per_em,
        })
    }

    /// Advance width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        if text.is_empty() {
            return 0.0;
        }
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&self.face, &[], buffer);
        let units: i64 = shaped
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        units as f32 / self.units_per_em * size
    }

    /// `text` made printable and short enough: control characters become
    /// spaces, characters the font lacks (emoji, …) are dropped, and the text is
    /// cut to `max_chars` characters and to `max_width` points with "…".
    pub fn fit(&self, text: &str, size: f32, max_width: f32, max_chars: usize) -> String {
        let chars: Vec<char> = text
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .filter(|&ch| ch == ' ' || self.face.glyph_index(ch).is_some())
            .collect();
        let chars: Vec<char> = {
            let s: String = chars.into_iter().collect();
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .collect()
        };
        if chars.is_empty() {
            return "?".to_owned();
        }
        let mut keep = chars.len().min(max_chars);
        loop {
            let candidate = if keep == chars.len() {
                chars.iter().collect::<String>()
            } else {
                let head: String = chars[..keep].iter().collect();
                format!("{}…", head.trim_end())
            };
            if keep <= 1 || self.width(&candidate, size) <= max_width {
                return candidate;
            }
            keep -= 1;
        }
    }

    /// One line of text; `y` is the baseline.
    pub fn text(&mut self, x: f32, y: f32, size: f32, color: Rgb, text: &str, align: Align) {
        if text.is_empty() {
            return;
        }
        let x = match align {
            Align::Left => x,
            Align::Center => x - self.width(text, size) / 2.0,
            Align::Right => x - self.width(text, size),
        };
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(color)));
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.push_rect(rect);
        self.fill_path(pb.finish(), color);
    }

    pub fn rounded_rect(&mut self, x: f32, y: f32, w: f32, h: f32, r: f32, color: Rgb) {
        let r = r.min(w / 2.0).min(h / 2.0).max(0.0);
        let k = r * KAPPA;
        let (right, bottom) = (x + w, y + h);
        let mut pb = PathBuilder::new();
        pb.move_to(x + r, y);
        pb.line_to(right - r, y);
        pb.cubic_to(right - r + k, y, right, y + r - k, right, y + r);
        pb.line_to(right, bottom - r);
        pb.cubic_to(
            right,
            bottom - r + k,
            right - r + k,
            bottom,
            right - r,
            bottom,
        );
        pb.line_to(x + r, bottom);
        pb.cubic_to(x + r - k, bottom, x, bottom - r + k, x, bottom - r);
        pb.line_to(x, y + r);
        pb.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
        pb.close();
        self.fill_path(pb.finish(), color);
    }

    /// A horizontal bar: a grey track and the `rate` share of it in `color`.
    pub fn progress(&mut self, x: f32, y: f32, w: f32, h: f32, rate: Option<f32>, color: Rgb) {
        self.rounded_rect(x, y, w, h, h / 2.0, super::TRACK);
        if let Some(rate) = rate.filter(|r| *r > 0.0) {
            self.rounded_rect(x, y, (w * rate).max(h), h, h / 2.0, color);
        }
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, color: Rgb, width: f32) {
        self.line(x1, y, x2, y, color, width, None);
    }

    pub fn dashed_hline(&mut self, x1: f32, x2: f32, y: f32, color: Rgb, width: f32, dash: f32) {
        self.line(x1, y, x2, y, color, width, Some(dash));
    }

    pub fn vline(&mut self, x: f32, y1: f32, y2: f32, color: Rgb, width: f32) {
        self.line(x, y1, x, y2, color, width, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, color: Rgb, w: f32, dash: Option<f32>) {
        let mut pb = PathBuilder::new();
        pb.move_to(x1, y1);
        pb.line_to(x2, y2);
        let mut stroke = stroke(color, w);
        stroke.dash = dash.map(|d| StrokeDash {
            array: vec![d, d],
            offset: 0.0,
        });
        self.stroke_path(pb.finish(), stroke);
    }

    /// A line through the points, broken wherever a point is missing. Lone
    /// points have no segment; their markers show them.
    pub fn polyline(&mut self, points: &[Option<(f32, f32)>], color: Rgb, width: f32) {
        let mut pb = PathBuilder::new();
        let mut any = false;
        for (i, point) in points.iter().enumerate() {
            let Some((x, y)) = *point else { continue };
            let prev = i.checked_sub(1).and_then(|j| points[j]);
            let next = points.get(i + 1).copied().flatten();
            if prev.is_some() {
                pb.line_to(x, y);
                any = true;
            } else if next.is_some() {
                pb.move_to(x, y);
            }
        }
        if any {
            self.stroke_path(pb.finish(), stroke(color, width));
        }
    }

    /// Circles (or squares) at every present point, filled in one path.
    pub fn markers(&mut self, points: &[Option<(f32, f32)>], r: f32, color: Rgb, square: bool) {
        let mut pb = PathBuilder::new();
        let mut any = false;
        for &(x, y) in points.iter().flatten() {
            if square {
                let s = r * 0.9;
                if let Some(rect) = Rect::from_xywh(x - s, y - s, 2.0 * s, 2.0 * s) {
                    pb.push_rect(rect);
                }
            } else {
                circle(&mut pb, x, y, r);
            }
            any = true;
        }
        if any {
            self.fill_path(pb.finish(), color);
        }
    }

    fn fill_path(&mut self, path: Option<Path>, color: Rgb) {
        let Some(path) = path else { return };
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(color)));
        self.surface.draw_path(&path);
    }

    fn stroke_path(&mut self, path: Option<Path>, stroke: Stroke) {
        let Some(path) = path else { return };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(stroke));
        self.surface.draw_path(&path);
    }
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: color.color().into(),
        ..Fill::default()
    }
}

fn stroke(color: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: color.color().into(),
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    }
}

fn circle(pb: &mut PathBuilder, x: f32, y: f32, r: f32) {
    let k = r * KAPPA;
    pb.move_to(x + r, y);
    pb.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    pb.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    pb.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    pb.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    pb.close();
}
