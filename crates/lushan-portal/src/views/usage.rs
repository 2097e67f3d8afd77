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

pub use crate::chart::{Bar, Chart};

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
                Some(Viewer { name: planted.into(), role: "member".into(), files: false }),
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
