//! Durations as users write them: humane (`30d`, `12h`, `90m`, `45s`, `2w`)
//! or Slurm's time formats (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
//! `D-HH:MM:SS`).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{value}`: use e.g. 30d, 12h, 90m, 45s, or Slurm's D-HH:MM:SS")]
pub struct DurationError {
    pub value: String,
}

/// Elapsed seconds as squeue and sacct print them: `M:SS`, `H:MM:SS` or
/// `D-HH:MM:SS`.
pub fn format_elapsed(secs: i64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    match (days, h) {
        (0, 0) => format!("{m}:{s:02}"),
        (0, _) => format!("{h}:{m:02}:{s:02}"),
        _ => format!("{days}-{h:02}:{m:02}:{s:02}"),
    }
}

/// Parses a duration into whole seconds.
pub fn parse_duration_secs(value: &str) -> Result<u64, DurationError> {
    let err = || DurationError { value: value.chars().take(64).collect() };
    let text = value.trim();
    if text.is_empty() {
        return Err(err());
    }
    let unit_secs = match text.chars().last() {
        Some('s') => Some(1),
        Some('m') => Some(60),
        Some('h') => Some(3_600),
        Some('d') => Some(86_400),
        Some('w') => Some(7 * 86_400),
        _ => None,
    };
    if let Some(unit) = unit_secs {
        let number = &text[..text.len() - 1];
        let n: u64 = parse_digits(number).ok_or_else(err)?;
        return n.checked_mul(unit).ok_or_else(err);
    }
    parse_slurm_time(text).ok_or_else(err)
}

fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Slurm's `--time` formats. A bare number is minutes, as in sbatch.
fn parse_slurm_time(text: &str) -> Option<u64> {
    let (days, rest) = match text.split_once('-') {
        Some((d, rest)) => (parse_digits(d)?, Some(rest)),
        None => (0, None),
    };
    let secs = match rest {
        // D-HH, D-HH:MM, D-HH:MM:SS
        Some(rest) => {
            let parts: Vec<&str> = rest.split(':').collect();
            let nums = parts.iter().map(|p| parse_digits(p)).collect::<Option<Vec<u64>>>()?;
            match nums.as_slice() {
                [h] => h * 3_600,
                [h, m] => h * 3_600 + m * 60,
                [h, m, s] => h * 3_600 + m * 60 + s,
                _ => return None,
            }
        }
        // MM, MM:SS, HH:MM:SS
        None => {
            let parts: Vec<&str> = text.split(':').collect();
            let nums = parts.iter().map(|p| parse_digits(p)).collect::<Option<Vec<u64>>>()?;
            match nums.as_slice() {
                [m] => m * 60,
                [m, s] => m * 60 + s,
                [h, m, s] => h * 3_600 + m * 60 + s,
                _ => return None,
            }
        }
    };
    days.checked_mul(86_400)?.checked_add(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn elapsed_time_reads_as_squeue_prints_it() {
        assert_eq!(super::format_elapsed(5), "0:05");
        assert_eq!(super::format_elapsed(3_725), "1:02:05");
        assert_eq!(super::format_elapsed(90_061), "1-01:01:01");
    }

    use super::*;

    #[test]
    fn humane_and_slurm_formats() {
        let cases = [
            ("30d", Some(30 * 86_400)),
            ("12h", Some(12 * 3_600)),
            ("90m", Some(90 * 60)),
            ("45s", Some(45)),
            ("2w", Some(14 * 86_400)),
            ("10", Some(600)),
            ("10:30", Some(630)),
            ("1:00:00", Some(3_600)),
            ("2-12", Some(2 * 86_400 + 12 * 3_600)),
            ("2-12:30", Some(2 * 86_400 + 12 * 3_600 + 30 * 60)),
            ("1-00:00:01", Some(86_401)),
            ("", None),
            ("d", None),
            ("-5d", None),
            ("1.5h", None),
            ("1:2:3:4", None),
            ("99999999999999999999d", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration_secs(input).ok(), expected, "{input:?}");
        }
    }
}
