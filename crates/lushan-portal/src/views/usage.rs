//! Usage and charges: the monthly table and its bar charts (SVG drawn here,
//! no script), the breakdowns, and a tenant's monthly statement.

use super::Chrome;
use askama::Template;

/// One row of a usage table: a month, or a project, member, tenant...
pub struct UsageLine {
    /// The month (`2026-11`) or the name of what the row counts.
    pub key: String,
    pub jobs: i64,
    pub core_hours: String,
    pub gpu_hours: String,
    /// CNY, as the language writes it (`¥1,234.50`).
    pub charged: String,
    pub su_used: String,
    pub welfare_core_hours: String,
}

/// A table of usage: by month, or by one dimension over the whole range.
pub struct UsageTable {
    /// For the tests and links (`usage-months`, `usage-by-project`).
    pub id: String,
    /// Above the table, in the page's language.
    pub title: String,
    /// The first column's head (`月份`, `项目`).
    pub first_column: String,
    pub rows: Vec<UsageLine>,
    pub total: Option<UsageLine>,
}

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
}

/// A bar chart of one quantity per month, drawn on the server as SVG.
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
        let max = values.iter().map(|(_, v, _)| *v).fold(0.0, f64::max);
        let plot_w = Self::WIDTH - Self::LEFT - Self::RIGHT;
        let plot_h = Self::HEIGHT - Self::TOP - Self::BOTTOM;
        let slot = plot_w / values.len().max(1) as f64;
        // One month label in `every`, so that they never overlap.
        let every = (values.len() as f64 * 40.0 / plot_w).ceil().max(1.0) as usize;
        let bars = values
            .iter()
            .enumerate()
            .map(|(i, (label, size, value))| {
                let height = if max > 0.0 { (size.max(0.0) / max) * plot_h } else { 0.0 };
                let x = Self::LEFT + i as f64 * slot + slot * 0.15;
                let y = Self::TOP + plot_h - height;
                Bar {
                    x: format!("{x:.1}"),
                    y: format!("{y:.1}"),
                    width: format!("{:.1}", slot * 0.7),
                    height: format!("{height:.1}"),
                    label: if i % every != 0 {
                        String::new()
                    } else if i == 0 || label.ends_with("-01") {
                        label.clone()
                    } else {
                        // After the first, a month of the same year by its number.
                        label.rsplit('-').next().unwrap_or(label).to_owned()
                    },
                    value: value.clone(),
                    value_shown: values.len() <= 8,
                    label_x: format!("{:.1}", x + slot * 0.35),
                    value_y: format!("{:.1}", (y - 4.0).max(12.0)),
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

#[derive(Template)]
#[template(path = "usage.html")]
pub struct UsagePage {
    pub chrome: Chrome,
    /// Whose usage this is, in words.
    pub intro: String,
    pub from: String,
    pub to: String,
    /// Why the months asked for cannot be shown, beside the fields.
    pub month_error: Option<String>,
    /// Whether any job was settled in the months.
    pub any: bool,
    pub charts: Vec<Chart>,
    /// By month first, then the breakdowns.
    pub tables: Vec<UsageTable>,
    /// `/usage.csv?from=...&to=...`
    pub csv_link: String,
    /// Whether the menu's statement link applies (tenant admins).
    pub statement_link: bool,
}

/// A line of a tenant's monthly statement.
pub struct StatementRow {
    pub time: String,
    /// In the page's language.
    pub kind: String,
    pub job_id: Option<i64>,
    pub reference: String,
    pub memo: String,
    pub amount: String,
    pub balance: String,
    pub price_version: String,
    pub owner_share: String,
}

#[derive(Template)]
#[template(path = "statement.html")]
pub struct StatementPage {
    pub chrome: Chrome,
    pub tenant: String,
    pub month: String,
    pub month_error: Option<String>,
    pub opening: String,
    pub closing: String,
    pub held: String,
    pub net: String,
    pub charges: String,
    pub lines: Vec<StatementRow>,
    pub csv_link: String,
    /// Set when an operator asked for another tenant's (`&tenant=`).
    pub tenant_query: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::views::Viewer;

    fn months(n: usize) -> Vec<(String, f64, String)> {
        (0..n).map(|i| (format!("{:04}-{:02}", 2026 + i / 12, i % 12 + 1), i as f64, format!("{i}.00"))).collect()
    }

    #[test]
    fn bars_stay_inside_the_drawing_and_month_labels_thin_out_rather_than_overlap() {
        for n in [1, 6, 12, 36] {
            let chart = Chart::new("c", "t".into(), "d".into(), &months(n), "top".into());
            assert_eq!(chart.bars.len(), n);
            for bar in &chart.bars {
                let (x, y, w, h): (f64, f64, f64, f64) = (
                    bar.x.parse().unwrap(),
                    bar.y.parse().unwrap(),
                    bar.width.parse().unwrap(),
                    bar.height.parse().unwrap(),
                );
                assert!(
                    x >= 0.0 && x + w <= Chart::WIDTH && y >= 0.0 && y + h <= Chart::HEIGHT,
                    "{n}: {x} {y} {w} {h}"
                );
            }
            let labelled = chart.bars.iter().filter(|b| !b.label.is_empty()).count();
            assert!((1..=14).contains(&labelled), "{n} bars, {labelled} labels");
            assert_eq!(chart.bars[0].label, "2026-01", "the first month names its year");
        }
        let flat = Chart::new("c", "t".into(), "d".into(), &[("2026-01".into(), 0.0, "0.00".into())], "0.00".into());
        assert_eq!((flat.top.as_str(), flat.bars[0].height.as_str()), ("", "0.0"), "no top value on an all-zero axis");
    }

    #[test]
    fn the_usage_page_escapes_names_and_draws_an_accessible_chart() {
        let planted = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
        let line = || UsageLine {
            key: planted.into(),
            jobs: 1,
            core_hours: "1.00".into(),
            gpu_hours: "0.00".into(),
            charged: "¥1.00".into(),
            su_used: "0.00".into(),
            welfare_core_hours: "0.00".into(),
        };
        let chart = Chart::new("chart-x", planted.into(), planted.into(), &months(3), planted.into());
        let page = UsagePage {
            chrome: Chrome::new(
                Lang::En,
                Some(Viewer { name: planted.into(), role: "member".into() }),
                "k".into(),
                "/usage".into(),
            ),
            intro: planted.into(),
            from: planted.into(),
            to: "2026-03".into(),
            month_error: None,
            any: true,
            charts: vec![chart],
            tables: vec![UsageTable {
                id: "usage-months".into(),
                title: "t".into(),
                first_column: "m".into(),
                rows: vec![line()],
                total: Some(line()),
            }],
            csv_link: "/usage.csv?from=2026-01&to=2026-03".into(),
            statement_link: false,
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("<svg role=\"img\" aria-labelledby=\"chart-x-title chart-x-desc\""), "{html}");
        assert_eq!(html.matches("<rect").count(), 3);
    }
}
