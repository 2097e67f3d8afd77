//! The portal's one chart drawer: bars drawn on the server as SVG (no
//! script), each bar with its exact figure, optionally with a second,
//! shaded part stacked on top (a grant's holds on what it used). Every
//! page that draws a chart fills a [`Chart`] and includes
//! `templates/chart.html`; the same figures go in a table beside it.

/// One bar: where it is drawn and what it says.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// Under the bar (the month), empty where labels would crowd.
    pub label: String,
    /// The exact value, for the bar's tooltip (`<title>`) and above it.
    pub value: String,
    /// Whether the value is written above the bar (few bars only).
    pub value_shown: bool,
    pub label_x: String,
    pub value_y: String,
    /// The shaded part stacked on the bar (empty height: none).
    pub stack_y: String,
    pub stack_height: String,
    /// The stacked part's exact value, for its tooltip.
    pub stack_value: String,
}

impl Bar {
    pub fn stacked(&self) -> bool {
        !self.stack_height.is_empty()
    }
}

/// A bar chart of one quantity per month (or per part of a period).
pub struct Chart {
    /// For `aria-labelledby` and the tests (`chart-core-hours`).
    pub id: String,
    pub title: String,
    /// What the chart shows, in words, for screen readers.
    pub desc: String,
    pub bars: Vec<Bar>,
    /// The axis' top value, as text.
    pub top: String,
}

impl Chart {
    pub const WIDTH: f64 = 640.0;
    pub const HEIGHT: f64 = 240.0;
    const LEFT: f64 = 84.0;
    const RIGHT: f64 = 8.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 28.0;

    /// Bars for `values` (label, size for drawing, exact text); the sizes
    /// only place pixels, the texts are the platform's exact figures.
    pub fn new(id: &str, title: String, desc: String, values: &[(String, f64, String)], top: String) -> Chart {
        Chart::stacked(id, title, desc, values, &[], None, top)
    }

    /// Bars with a shaded part on top of each (`stack`, by bar: size and
    /// exact text; a size of 0 draws none), on an axis that reaches `max`
    /// (or the tallest bar, when `None` or smaller).
    pub fn stacked(
        id: &str,
        title: String,
        desc: String,
        values: &[(String, f64, String)],
        stack: &[(f64, String)],
        max: Option<f64>,
        top: String,
    ) -> Chart {
        let on_top = |i: usize| stack.get(i).map_or(0.0, |(s, _)| s.max(0.0));
        let tallest = values.iter().enumerate().map(|(i, (_, v, _))| v.max(0.0) + on_top(i)).fold(0.0, f64::max);
        let max = max.unwrap_or(0.0).max(tallest);
        let plot_w = Self::WIDTH - Self::LEFT - Self::RIGHT;
        let plot_h = Self::HEIGHT - Self::TOP - Self::BOTTOM;
        let slot = plot_w / values.len().max(1) as f64;
        // One label in `every`, so that they never overlap.
        let every = (values.len() as f64 * 40.0 / plot_w).ceil().max(1.0) as usize;
        let bars = values
            .iter()
            .enumerate()
            .map(|(i, (label, size, value))| {
                let scale = |v: f64| if max > 0.0 { (v.max(0.0) / max) * plot_h } else { 0.0 };
                let height = scale(*size);
                let x = Self::LEFT + i as f64 * slot + slot * 0.15;
                let y = Self::TOP + plot_h - height;
                let held = scale(on_top(i));
                let top_of_all = y - held;
                Bar {
                    x: format!("{x:.1}"),
                    y: format!("{y:.1}"),
                    width: format!("{:.1}", slot * 0.7),
                    height: format!("{height:.1}"),
                    label: if i % every != 0 {
                        String::new()
                    } else if i == 0 || label.ends_with("-01") || label.len() != 7 {
                        label.clone()
                    } else {
                        // After the first, a month of the same year by its number.
                        label.rsplit('-').next().unwrap_or(label).to_owned()
                    },
                    value: value.clone(),
                    value_shown: values.len() <= 8,
                    label_x: format!("{:.1}", x + slot * 0.35),
                    value_y: format!("{:.1}", (top_of_all - 4.0).max(12.0)),
                    stack_y: format!("{top_of_all:.1}"),
                    stack_height: if held > 0.0 { format!("{held:.1}") } else { String::new() },
                    stack_value: stack.get(i).map(|(_, text)| text.clone()).unwrap_or_default(),
                }
            })
            .collect();
        // An axis of only zeros has no top value to name.
        let top = if max > 0.0 { top } else { String::new() };
        Chart { id: id.to_owned(), title, desc, bars, top }
    }

    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", Self::WIDTH, Self::HEIGHT)
    }

    pub fn axis_x(&self) -> String {
        format!("{}", Self::LEFT)
    }

    pub fn axis_right(&self) -> String {
        format!("{}", Self::WIDTH - Self::RIGHT)
    }

    pub fn axis_top(&self) -> String {
        format!("{}", Self::TOP)
    }

    pub fn axis_bottom(&self) -> String {
        format!("{}", Self::HEIGHT - Self::BOTTOM)
    }

    pub fn label_y(&self) -> String {
        format!("{}", Self::HEIGHT - 8.0)
    }

    pub fn tick_x(&self) -> String {
        format!("{}", Self::LEFT - 6.0)
    }

    pub fn top_y(&self) -> String {
        format!("{}", Self::TOP + 4.0)
    }

    pub fn zero_y(&self) -> String {
        format!("{}", Self::HEIGHT - Self::BOTTOM)
    }
}

/// A decimal text as a size for drawing only (never for money sums).
pub fn size(text: &str) -> f64 {
    text.parse().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stacked_part_sits_on_its_bar_inside_the_drawing() {
        let values = vec![("a".to_owned(), 40.0, "40".to_owned()), ("b".to_owned(), 0.0, "0".to_owned())];
        let chart =
            Chart::stacked("c", "t".into(), "d".into(), &values, &[(10.0, "10".into())], Some(100.0), "100".into());
        let bar = &chart.bars[0];
        let (y, h, sy, sh): (f64, f64, f64, f64) = (
            bar.y.parse().unwrap(),
            bar.height.parse().unwrap(),
            bar.stack_y.parse().unwrap(),
            bar.stack_height.parse().unwrap(),
        );
        assert!((sy + sh - y).abs() < 0.11, "the shaded part ends where the bar starts");
        assert!((h / sh - 4.0).abs() < 0.05, "40 and 10 on one scale: {h} {sh}");
        assert!(sy >= 0.0 && y + h <= Chart::HEIGHT);
        assert!(!chart.bars[1].stacked(), "no stack: nothing drawn");
    }
}
