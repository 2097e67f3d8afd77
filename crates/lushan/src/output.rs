//! How the CLI speaks: tables for people, the API's JSON for scripts.
//! Errors go to stderr (exit 1), or as `{"error": ...}` on stdout with `--json`.

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as JSON, or calls `human` to print it for people.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce(&T)) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(text) => println!("{text}"),
                Err(err) => eprintln!("error: cannot print JSON: {err}"),
            }
        } else {
            human(value);
        }
    }

    pub fn error(&self, err: &anyhow::Error) {
        if self.json {
            let body = match err.downcast_ref::<lushan_api::ClientError>() {
                Some(lushan_api::ClientError::Api { body, .. }) => serde_json::to_value(body).unwrap_or_default(),
                _ => {
                    serde_json::json!({"error": {"code": "client_error", "message": format!("{err:#}"), "request_id": ""}})
                }
            };
            println!("{}", serde_json::to_string_pretty(&body).unwrap_or_default());
        } else {
            eprintln!("error: {err:#}");
        }
    }
}

/// A plain table in the style of `squeue`: upper-case headers, no borders.
/// Wide characters (Chinese names) are measured as two columns.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(headers.iter().map(|h| h.to_uppercase()));
    for row in rows {
        table.add_row(row);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    // comfy-table pads every line to the widest; trim the trailing blanks.
    table.lines().map(|line| line.trim_end().to_owned()).collect::<Vec<_>>().join("\n")
}

/// An RFC 3339 time from the API, shown in this machine's time zone.
pub fn time(text: &str) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(ts) => ts.to_zoned(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => text.to_owned(),
    }
}

pub fn opt_time(text: &Option<String>) -> String {
    text.as_deref().map(time).unwrap_or_else(|| "-".into())
}

/// `key: value` lines, aligned, for `show` commands.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs.iter().map(|(k, v)| format!("{k:>width$}: {v}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_align() {
        let text = table(
            &["name", "sector"],
            vec![vec!["江西大学".into(), "university".into()], vec!["ab".into(), "school".into()]],
        );
        let lines: Vec<&str> = text.lines().collect();
        // The second column starts at the same display column on every line.
        let col = |line: &str| {
            let mut width = 0;
            for (i, ch) in line.char_indices() {
                if line[i..].starts_with("university")
                    || line[i..].starts_with("school")
                    || line[i..].starts_with("SECTOR")
                {
                    return width;
                }
                width += if ch.len_utf8() == 3 { 2 } else { 1 };
            }
            usize::MAX
        };
        assert_eq!(col(lines[0]), col(lines[1]), "{text}");
        assert_eq!(col(lines[1]), col(lines[2]), "{text}");
    }
}
