//! One series over time as an inline SVG area chart drawn on the server: axes, a
//! rounded scale with gridlines, the first, middle and last periods labelled, and a
//! `<title>`/`<desc>` that says the total and the busiest period in words. Colours
//! are CSS classes (see the Metrics part of `app.css`), so both themes apply.

use chrono::{DateTime, FixedOffset};
use maud::{Markup, html};

use super::data::{Series, count};

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 170.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;
/// Beyond this many points dots would merge into the line; it alone is drawn.
const MAX_DOTS: usize = 62;

/// The top of the value axis and the distance between its gridlines: a 1, 2 or 5
/// step (times a power of ten) giving at most four intervals, so ticks read as round
/// numbers. An empty series still gets a 0–1 axis.
pub fn scale(max: u64) -> (u64, u64) {
    let mut magnitude = 1u64;
    loop {
        for factor in [1u64, 2, 5] {
            let step = factor.saturating_mul(magnitude);
            if max.div_ceil(step) <= 4 {
                return (max.div_ceil(step).max(1).saturating_mul(step), step);
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// A period's start as people read it at this granularity.
pub fn period_label(at: &DateTime<FixedOffset>, step: &str) -> String {
    match step {
        "hour" => at.format("%b %-d, %H:00").to_string(),
        "week" => at.format("Week of %b %-d").to_string(),
        _ => at.format("%b %-d").to_string(),
    }
}

/// A coordinate, to a tenth of a unit (finer is invisible and only bloats the page).
fn n(value: f64) -> String {
    format!("{value:.1}")
}

/// Where the points go, in the SVG's coordinates.
fn points(values: &[u64], top: u64) -> Vec<(f64, f64)> {
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let last = values.len().saturating_sub(1);
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let x = if last == 0 { LEFT + plot_width / 2.0 } else { LEFT + plot_width * i as f64 / last as f64 };
            (x, TOP + plot_height * (1.0 - *value as f64 / top as f64))
        })
        .collect()
}

/// The line through the points, and the same closed down to the axis for the area.
fn paths(points: &[(f64, f64)]) -> (String, String) {
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x:.1} {y:.1}", if i == 0 { "M" } else { "L" }))
        .collect();
    let line = line.join(" ");
    let base = HEIGHT - BOTTOM;
    let area = match (points.first(), points.last()) {
        (Some((first, _)), Some((last, _))) => format!("{line} L{last:.1} {base:.1} L{first:.1} {base:.1} Z"),
        _ => String::new(),
    };
    (line, area)
}

/// What the chart shows, in a sentence (the SVG's `<desc>`).
fn description(series: &Series, periods: &[DateTime<FixedOffset>], step: &str) -> String {
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        return format!("{}: no periods in this range.", series.label);
    };
    let span = format!("from {} to {}", period_label(first, step), period_label(last, step));
    let busiest = series.values.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)));
    match busiest {
        Some((at, most)) if *most > 0 => format!(
            "{} per {step} {span} (UTC): {} in total; the most in one {step} was {} ({}).",
            series.label,
            count(series.total),
            count(*most),
            period_label(&periods[at], step)
        ),
        _ => format!("{} per {step} {span} (UTC): none.", series.label),
    }
}

/// The chart of one series, with its caption.
pub fn chart(series: &Series, periods: &[DateTime<FixedOffset>], step: &str) -> Markup {
    let (top, tick) = scale(series.values.iter().copied().max().unwrap_or_default());
    let points = points(&series.values, top);
    let (line, area) = paths(&points);
    let base = HEIGHT - BOTTOM;
    let y_of = |value: u64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value as f64 / top as f64);
    let last = periods.len().saturating_sub(1);
    // First, middle and last periods: enough to place the rest without crowding.
    let mut labelled = vec![(0, "start")];
    if last >= 2 {
        labelled.push((last / 2, "middle"));
    }
    if last >= 1 {
        labelled.push((last, "end"));
    }
    let id = format!("chart-{}", series.metric);
    html! {
        figure.chart-card {
            figcaption { span.name { (series.label) } " " span.total { (count(series.total)) } }
            svg class={ "chart " (series.metric) } viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
                aria-labelledby={ (id) "-title " (id) "-desc" } {
                title id={ (id) "-title" } { (series.label) " per " (step) }
                desc id={ (id) "-desc" } { (description(series, periods, step)) }
                @for value in (0..=top).step_by(tick as usize) {
                    line.grid x1=(n(LEFT)) x2=(n(WIDTH - RIGHT)) y1=(n(y_of(value))) y2=(n(y_of(value))) {}
                    text.tick x=(n(LEFT - 6.0)) y=(n(y_of(value) + 3.5)) text-anchor="end" { (count(value)) }
                }
                line.axis x1=(n(LEFT)) x2=(n(LEFT)) y1=(n(TOP)) y2=(n(base)) {}
                line.axis x1=(n(LEFT)) x2=(n(WIDTH - RIGHT)) y1=(n(base)) y2=(n(base)) {}
                path.area d=(area) {}
                path.line d=(line) {}
                @if points.len() <= MAX_DOTS {
                    @for (x, y) in &points { circle.dot cx=(n(*x)) cy=(n(*y)) r="2" {} }
                }
                @for (at, anchor) in &labelled {
                    @if let (Some(period), Some((x, _))) = (periods.get(*at), points.get(*at)) {
                        text.tick x=(n(*x)) y=(n(HEIGHT - 8.0)) text-anchor=(anchor) { (period_label(period, step)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(raw).unwrap()
    }

    #[test]
    fn scales_round_up_to_a_few_even_steps() {
        assert_eq!(scale(0), (1, 1));
        assert_eq!(scale(3), (3, 1));
        assert_eq!(scale(7), (8, 2));
        assert_eq!(scale(10), (10, 5));
        assert_eq!(scale(1234), (1500, 500));
        assert!(scale(u64::MAX).0 == u64::MAX, "huge counts saturate instead of overflowing");
    }

    #[test]
    fn points_span_the_plot_and_sit_on_the_axis_at_zero() {
        let placed = points(&[0, 5, 10], 10);
        assert_eq!(placed[0], (LEFT, HEIGHT - BOTTOM));
        assert_eq!(placed[2], (WIDTH - RIGHT, TOP));
        assert_eq!(points(&[4], 8)[0].0, LEFT + (WIDTH - LEFT - RIGHT) / 2.0, "a lone point is centred");
        let (line, area) = paths(&placed);
        assert!(line.starts_with("M44.0 144.0 L") && area.ends_with(" Z"), "{line} / {area}");
    }

    #[test]
    fn the_chart_has_a_title_and_says_its_numbers_in_words() {
        let series = Series { metric: "sent", label: "Sent", values: vec![0, 3, 1], total: 4 };
        let periods =
            [at("2026-07-06T00:00:00+00:00"), at("2026-07-07T00:00:00+00:00"), at("2026-07-08T00:00:00+00:00")];
        let svg = chart(&series, &periods, "day").into_string();
        assert!(svg.contains("<title id=\"chart-sent-title\">Sent per day</title>"), "{svg}");
        assert!(svg.contains("4 in total; the most in one day was 3 (Jul 7)"), "{svg}");
        assert!(svg.contains(">Jul 6</text>") && svg.contains(">Jul 8</text>"), "{svg}");
        let quiet = Series { values: vec![0, 0, 0], total: 0, ..series };
        assert!(chart(&quiet, &periods, "day").into_string().contains("(UTC): none."));
        assert_eq!(period_label(&at("2026-07-06T15:00:00+00:00"), "hour"), "Jul 6, 15:00");
    }
}
