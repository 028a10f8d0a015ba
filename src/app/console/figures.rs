//! What the console shows of the lines: the events table, an event's figures and its line
//! charts, drawn as SVG from the samples the granter records. The same code draws the
//! first picture on the server and every update in the browser (inside the console's
//! islands).

use leptos::prelude::*;

use super::data::EventsList;
use crate::domain::{EventFigures, EventHistory, Sample};

/// The drawing's size, in SVG units (it scales to the width of the page).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room for the value labels on the left and the time labels below.
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 26.0;

/// One line of a chart: `(unix ms, value)` points, oldest first.
pub struct Line {
    pub name: &'static str,
    /// A CSS class, which gives its colour.
    pub class: &'static str,
    pub points: Vec<(u64, f64)>,
}

/// The events table: one row per event, linked to its page.
#[component]
pub fn EventsTable(list: EventsList) -> impl IntoView {
    let empty = list.events.is_empty();
    let rows = list
        .events
        .into_iter()
        .map(|e| {
            let id = e.event_id.to_string();
            let state = if e.paused {
                "Paused".to_string()
            } else if let Some(at) = &e.opens_at {
                format!("Opens {at}")
            } else {
                "Open".to_string()
            };
            view! {
                <tr data-event=id.clone()>
                    <th scope="row"><a href=format!("/admin/events/{id}")>{id.clone()}</a></th>
                    <td>{state}</td>
                    <td class="num" data-testid="row-waiting">{e.waiting}</td>
                    <td class="num" data-testid="row-active">{format!("{} / {}", e.active, e.capacity_in_force)}</td>
                    <td class="num">{format!("{:.1}", e.admitted_per_minute)}</td>
                    <td class="num">{e.last_wait_seconds.map_or_else(|| "—".to_string(), duration)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Events">
            <table class="events">
                <thead>
                    <tr>
                        <th scope="col">"Event"</th>
                        <th scope="col">"State"</th>
                        <th scope="col" class="num">"Waiting"</th>
                        <th scope="col" class="num">"Active / capacity"</th>
                        <th scope="col" class="num">"Admitted / min"</th>
                        <th scope="col" class="num">"Last in line waits"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {empty.then(|| view! { <p>"No events yet: create one below, or let the first join make one."</p> })}
        {list.next.map(|next| view! {
            <p><a href=format!("/admin?after={next}")>"Next events"</a></p>
        })}
    }
}

/// An event's figures now, in words and numbers.
#[component]
pub fn Figures(figures: EventFigures) -> impl IntoView {
    let state = if figures.paused {
        "Paused".to_string()
    } else if let Some(at) = &figures.opens_at {
        format!("Opens {at}")
    } else {
        "Open".to_string()
    };
    let wait = figures
        .last_wait_seconds
        .map_or_else(|| "—".to_string(), duration);
    view! {
        <dl class="figures">
            <div><dt>"Waiting"</dt><dd data-testid="waiting">{figures.waiting}</dd></div>
            <div><dt>"Active / capacity"</dt>
                <dd data-testid="active">{format!("{} / {}", figures.active, figures.capacity_in_force)}</dd></div>
            <div><dt>"Admitted per minute"</dt>
                <dd data-testid="per-minute">{per_minute(figures.admitted_per_minute)}</dd></div>
            <div><dt>"Last in line waits"</dt><dd data-testid="last-wait">{wait}</dd></div>
            <div><dt>"Admitted so far"</dt><dd data-testid="admitted">{figures.admitted}</dd></div>
            <div><dt>"State"</dt><dd data-testid="state">{state}</dd></div>
        </dl>
    }
}

/// The three charts of an event's last hour: line length, admissions per minute, and
/// active sessions against capacity.
#[component]
pub fn Charts(history: EventHistory) -> impl IntoView {
    let to = history.now_ms;
    let from = to.saturating_sub(3_600_000);
    let samples = &history.samples;
    let waiting = Line {
        name: "waiting",
        class: "line-waiting",
        points: points(samples, |s| s.waiting as f64),
    };
    let admissions = Line {
        name: "admitted per minute",
        class: "line-admitted",
        points: admissions_per_minute(samples),
    };
    let active = Line {
        name: "active",
        class: "line-active",
        points: points(samples, |s| s.active as f64),
    };
    let capacity = Line {
        name: "capacity",
        class: "line-capacity",
        points: points(samples, |s| s.capacity as f64),
    };
    view! {
        <div class="charts">
            <LineChart title="Line length" lines=vec![waiting] from to/>
            <LineChart title="Admissions per minute" lines=vec![admissions] from to/>
            <LineChart title="Active sessions and capacity" lines=vec![active, capacity] from to/>
        </div>
    }
}

/// One chart over `from..to` (unix ms). Each line is held at its last value up to `to`:
/// the granter samples an event while it has work, and a quiet event's figures stay as
/// its last sample says.
#[component]
pub fn LineChart(title: &'static str, lines: Vec<Line>, from: u64, to: u64) -> impl IntoView {
    let top = nice_ceiling(
        lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let span = to.saturating_sub(from).max(1) as f64;
    let x = move |t: u64| LEFT + (t.saturating_sub(from) as f64 / span) * (WIDTH - LEFT - RIGHT);
    let y = move |v: f64| TOP + (1.0 - v / top) * (HEIGHT - TOP - BOTTOM);
    let summary = summary(&lines);
    let empty = lines.iter().all(|l| l.points.is_empty());
    let paths = lines
        .into_iter()
        .flat_map(|line| {
            let mut points: Vec<(u64, f64)> = line
                .points
                .iter()
                .copied()
                .filter(|(t, _)| *t >= from)
                .collect();
            if let Some(&(_, last)) = points.last() {
                points.push((to, last));
            }
            segments(&points)
                .into_iter()
                .map(|segment| {
                    let drawn: Vec<String> = segment
                        .iter()
                        .map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
                        .collect();
                    view! { <polyline class=line.class points=drawn.join(" ")/> }
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    let grid = [0.0, top / 2.0, top]
        .into_iter()
        .map(|v| {
            view! {
                <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=y(v) y2=y(v)/>
                <text class="axis" x=LEFT - 6.0 y=y(v) + 4.0 text-anchor="end">{number(v)}</text>
            }
        })
        .collect_view();
    let bottom = HEIGHT - 8.0;
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label=format!("{title}, last hour: {summary}")>
                {grid}
                <text class="axis" x=LEFT y=bottom>"−60 min"</text>
                <text class="axis" x=(LEFT + WIDTH - RIGHT) / 2.0 y=bottom text-anchor="middle">"−30 min"</text>
                <text class="axis" x=WIDTH - RIGHT y=bottom text-anchor="end">"now"</text>
                {paths}
                {empty.then(|| view! {
                    <text class="axis" x=WIDTH / 2.0 y=HEIGHT / 2.0 text-anchor="middle">
                        "No samples in the last hour"
                    </text>
                })}
            </svg>
            <p class="chart-summary">{summary}</p>
        </figure>
    }
}

/// Longest time between two samples that a line joins: more means nobody sampled the
/// event (no instance ran), and the line breaks there. The last sample is held to the
/// right edge: a quiet event's figures are as its last sample says.
const GAP_MS: u64 = 15_000;

/// The runs of `points` with no gap longer than [`GAP_MS`] (the held end excepted).
fn segments(points: &[(u64, f64)]) -> Vec<&[(u64, f64)]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        let held_end = i == points.len() - 1;
        if points[i].0.saturating_sub(points[i - 1].0) > GAP_MS && !held_end {
            runs.push(&points[start..i]);
            start = i;
        }
    }
    if start < points.len() {
        runs.push(&points[start..]);
    }
    runs
}

/// `(at, value)` of every sample.
fn points(samples: &[Sample], value: impl Fn(&Sample) -> f64) -> Vec<(u64, f64)> {
    samples.iter().map(|s| (s.at_ms, value(s))).collect()
}

/// Admissions per minute at each sample: the admitted count's rise over the minute before
/// it (from the oldest sample within that minute; from the one just before when the event
/// was quiet for longer).
pub fn admissions_per_minute(samples: &[Sample]) -> Vec<(u64, f64)> {
    let mut from = 0;
    samples
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, now)| {
            while from < i - 1 && samples[from].at_ms + 60_000 < now.at_ms {
                from += 1;
            }
            let then = &samples[from];
            let minutes = now.at_ms.checked_sub(then.at_ms).filter(|&ms| ms > 0)? as f64 / 60_000.0;
            Some((
                now.at_ms,
                now.admitted.saturating_sub(then.admitted) as f64 / minutes,
            ))
        })
        .collect()
}

/// The last value of each line, in words.
fn summary(lines: &[Line]) -> String {
    let now: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            l.points
                .last()
                .map(|p| format!("{} {}", number(p.1), l.name))
        })
        .collect();
    if now.is_empty() {
        "no samples".into()
    } else {
        format!("now {}", now.join(", "))
    }
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `v` (at least 1).
fn nice_ceiling(v: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * step >= v {
                return m * step;
            }
        }
        step *= 10.0;
    }
}

/// `12`, `7.5`, `1.2k`, `3.4M`.
fn number(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 10_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else if v >= 1_000.0 {
        format!("{:.1}k", v / 1_000.0)
    } else if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn per_minute(v: f64) -> String {
    number(v)
}

/// `45 s`, `12 min`, `3 h 20 min`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3_599 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h {} min", seconds / 3_600, (seconds % 3_600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: u64, admitted: u64) -> Sample {
        Sample {
            at_ms,
            waiting: 0,
            active: 0,
            capacity: 10,
            admitted,
        }
    }

    #[test]
    fn admissions_per_minute_are_the_rise_of_the_admitted_count_over_a_minute() {
        let samples = [
            sample(0, 0),
            sample(30_000, 10),
            sample(60_000, 30),
            sample(90_000, 30),
            sample(300_000, 40),
        ];
        assert_eq!(
            admissions_per_minute(&samples),
            vec![
                (30_000, 20.0),
                (60_000, 30.0),
                // From the sample a minute before (30 s): 20 in a minute.
                (90_000, 20.0),
                // Quiet for longer: from the sample just before.
                (300_000, 10.0 / 3.5),
            ]
        );
    }

    #[test]
    fn a_line_breaks_where_nobody_sampled_and_holds_its_last_value() {
        let points = [
            (0, 1.0),
            (5_000, 2.0),
            (60_000, 3.0),
            (65_000, 4.0),
            (900_000, 4.0),
        ];
        assert_eq!(
            segments(&points),
            vec![&points[..2], &points[2..]],
            "a gap of 55 s breaks; the held end does not"
        );
        assert_eq!(segments(&[]), Vec::<&[(u64, f64)]>::new());
    }

    #[test]
    fn the_scale_of_a_chart_is_a_round_number() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(1_000.0), 1_000.0);
        assert_eq!(number(1_234.0), "1.2k");
        assert_eq!(number(7.5), "7.5");
        assert_eq!(duration(3_900), "1 h 5 min");
    }
}
