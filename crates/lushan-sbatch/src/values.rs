//! Parsers for option values. Each returns a message saying what is wrong
//! and what is expected; the caller adds where it came from.

use lushan_model::{
    ArraySpec, BeginSpec, Dependency, DependencyCondition, Export, GpuRequest, JobRef, MemRequest, OpenMode, TimeLimit,
};

/// Most tasks one array may have.
pub const MAX_ARRAY_TASKS: usize = 1_000_000;
/// Largest array task id.
pub const MAX_ARRAY_ID: u32 = 4_000_000;

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A positive count (`-n`, `-c`, ...).
pub fn parse_count(text: &str) -> Result<u32, String> {
    match digits(text).and_then(|n| u32::try_from(n).ok()) {
        Some(0) => Err("must be at least 1".into()),
        Some(n) if n <= 1_000_000 => Ok(n),
        _ => Err("expected a whole number from 1 to 1000000".into()),
    }
}

/// `-N N` or `-N MIN-MAX` (the minimum is used).
pub fn parse_nodes(text: &str) -> Result<(u32, bool), String> {
    match text.split_once('-') {
        Some((min, max)) => {
            let min = parse_count(min)?;
            let max = parse_count(max)?;
            if max < min {
                return Err("the maximum is below the minimum".into());
            }
            Ok((min, max != min))
        }
        None => Ok((parse_count(text)?, false)),
    }
}

/// Slurm's time formats: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
/// `D-HH:MM:SS`, and `UNLIMITED`/`INFINITE`.
pub fn parse_slurm_time(text: &str) -> Result<TimeLimit, String> {
    const EXPECTED: &str = "expected MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED";
    if text.eq_ignore_ascii_case("unlimited") || text.eq_ignore_ascii_case("infinite") {
        return Ok(TimeLimit::Unlimited);
    }
    let numbers = |part: &str| part.split(':').map(digits).collect::<Option<Vec<u64>>>();
    let secs = match text.split_once('-') {
        Some((days, rest)) => {
            let days = digits(days).ok_or(EXPECTED)?;
            let hms = match numbers(rest).ok_or(EXPECTED)?.as_slice() {
                [h] => h * 3600,
                [h, m] => h * 3600 + m * 60,
                [h, m, s] => h * 3600 + m * 60 + s,
                _ => return Err(EXPECTED.into()),
            };
            days.checked_mul(86_400).and_then(|d| d.checked_add(hms))
        }
        None => match numbers(text).ok_or(EXPECTED)?.as_slice() {
            [m] => m.checked_mul(60),
            [m, s] => m.checked_mul(60).and_then(|ms| ms.checked_add(*s)),
            [h, m, s] => Some(h * 3600 + m * 60 + s),
            _ => return Err(EXPECTED.into()),
        },
    };
    match secs {
        Some(0) => Err("a time limit of 0 would end the job at once; give at least 1 minute".into()),
        Some(s) if s <= 365 * 86_400 * 10 => Ok(TimeLimit::Seconds(s)),
        _ => Err("the time limit is longer than 10 years".into()),
    }
}

/// A memory size in MiB: `4096`, `4G`, `500M`, `1T`, `512K` (default unit M).
pub fn parse_memory_mb(text: &str) -> Result<u64, String> {
    const EXPECTED: &str = "expected a size such as 4G, 500M or 4096 (MB), with unit K, M, G or T";
    let upper = text.to_ascii_uppercase();
    let trimmed = upper.strip_suffix('B').unwrap_or(&upper);
    let (number, unit_kib) = match trimmed.chars().last() {
        Some('K') => (&trimmed[..trimmed.len() - 1], 1u64),
        Some('M') => (&trimmed[..trimmed.len() - 1], 1024),
        Some('G') => (&trimmed[..trimmed.len() - 1], 1024 * 1024),
        Some('T') => (&trimmed[..trimmed.len() - 1], 1024 * 1024 * 1024),
        _ => (trimmed, 1024),
    };
    let n = digits(number).ok_or(EXPECTED)?;
    let kib = n.checked_mul(unit_kib).ok_or("the size is too large")?;
    let mib = kib.div_ceil(1024);
    if mib > 1 << 40 {
        return Err("the size is too large".into());
    }
    Ok(mib)
}

pub fn parse_mem(text: &str, per_cpu: bool) -> Result<MemRequest, String> {
    let mb = parse_memory_mb(text)?;
    if per_cpu {
        if mb == 0 {
            return Err("--mem-per-cpu must be above 0".into());
        }
        Ok(MemRequest::PerCpu(mb))
    } else {
        Ok(MemRequest::PerNode(mb))
    }
}

fn gpu_kind_and_count(kind: Option<&str>, count: Option<&str>) -> Result<(Option<String>, u32), String> {
    let kind = match kind {
        Some(k)
            if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') =>
        {
            Some(k.to_ascii_lowercase())
        }
        Some(_) => return Err("a GPU type uses letters, digits, `-`, `_` and `.`".into()),
        None => None,
    };
    let count = match count {
        Some(c) => parse_count(c)?,
        None => 1,
    };
    Ok((kind, count))
}

/// `-G/--gpus` and `--gpus-per-node`: `N` or `TYPE:N`.
pub fn parse_gpus(text: &str, per_node: bool) -> Result<GpuRequest, String> {
    let (kind, count) = match text.split_once(':') {
        Some((kind, count)) => gpu_kind_and_count(Some(kind), Some(count))?,
        None if text.bytes().all(|b| b.is_ascii_digit()) => gpu_kind_and_count(None, Some(text))?,
        None => return Err("expected N or TYPE:N, e.g. 2 or a100:2".into()),
    };
    Ok(if per_node { GpuRequest::PerNode { kind, count } } else { GpuRequest::Total { kind, count } })
}

/// `--gres=gpu[:TYPE][:N]` (per node). Other resources do not exist here.
pub fn parse_gres(text: &str) -> Result<Option<GpuRequest>, String> {
    let mut found = None;
    for item in text.split(',') {
        let parts: Vec<&str> = item.split(':').collect();
        let name = parts.first().copied().unwrap_or("");
        if name == "none" && parts.len() == 1 {
            continue;
        }
        if name != "gpu" {
            return Err(format!("generic resource `{name}` does not exist here; only gpu[:TYPE][:N]"));
        }
        let (kind, count) = match parts.as_slice() {
            [_] => gpu_kind_and_count(None, None)?,
            [_, one] if one.bytes().all(|b| b.is_ascii_digit()) => gpu_kind_and_count(None, Some(one))?,
            [_, kind] => gpu_kind_and_count(Some(kind), None)?,
            [_, kind, count] => gpu_kind_and_count(Some(kind), Some(count))?,
            _ => return Err("expected gpu, gpu:N or gpu:TYPE:N".into()),
        };
        if found.is_some() {
            return Err("gpu is named twice".into());
        }
        found = Some(GpuRequest::PerNode { kind, count });
    }
    Ok(found)
}

/// `-a/--array`: `0-15`, `0-15:4`, `1,3,5,7`, `1-7%2`, and mixtures.
pub fn parse_array(text: &str) -> Result<ArraySpec, String> {
    const EXPECTED: &str =
        "expected ranges like 0-15, steps like 0-15:4, lists like 1,3,5, and an optional %N throttle";
    let (list, throttle) = match text.split_once('%') {
        Some((list, throttle)) => (list, Some(parse_count(throttle).map_err(|e| format!("throttle: {e}"))?)),
        None => (text, None),
    };
    let id = |t: &str| -> Result<u32, String> {
        let n = digits(t).ok_or(EXPECTED)?;
        u32::try_from(n).ok().filter(|n| *n <= MAX_ARRAY_ID).ok_or_else(|| format!("task ids go up to {MAX_ARRAY_ID}"))
    };
    let mut task_ids = Vec::new();
    for item in list.split(',') {
        let (range, step) = match item.split_once(':') {
            Some((range, step)) => (range, parse_count(step).map_err(|e| format!("step: {e}"))?),
            None => (item, 1),
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (id(a)?, id(b)?),
            None if step == 1 => (id(range)?, id(range)?),
            None => return Err(EXPECTED.into()),
        };
        if last < first {
            return Err(format!("range {first}-{last} runs backwards"));
        }
        let mut next = first;
        while next <= last {
            task_ids.push(next);
            if task_ids.len() > MAX_ARRAY_TASKS {
                return Err(format!("an array has at most {MAX_ARRAY_TASKS} tasks"));
            }
            next = match next.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
    }
    task_ids.sort_unstable();
    task_ids.dedup();
    Ok(ArraySpec { task_ids, throttle, text: text.to_owned() })
}

/// A job as Slurm names one: `1234` (a job, or a whole array) or `1234_7` (one array task).
pub fn parse_job_ref(text: &str) -> Result<JobRef, String> {
    let err = || format!("`{text}` is not a job id (e.g. 1234 or 1234_7)");
    match text.split_once('_') {
        Some((job, task)) => Ok(JobRef {
            job_id: digits(job).ok_or_else(err)?,
            task_id: Some(u32::try_from(digits(task).ok_or_else(err)?).map_err(|_| err())?),
        }),
        None => Ok(JobRef { job_id: digits(text).ok_or_else(err)?, task_id: None }),
    }
}

/// `-d/--dependency`: `afterok:1:2,afterany:3`, `after:5+10`, `singleton`,
/// `afterok:1?afterok:2`.
pub fn parse_dependency(text: &str) -> Result<Dependency, String> {
    let has_all = text.contains(',');
    let has_any = text.contains('?');
    if has_all && has_any {
        return Err("use `,` (all) or `?` (any), not both".into());
    }
    let mut conditions = Vec::new();
    for item in text.split([',', '?']) {
        if item == "singleton" {
            conditions.push(DependencyCondition::Singleton);
            continue;
        }
        let Some((kind, jobs)) = item.split_once(':') else {
            return Err(format!(
                "`{item}`: expected TYPE:JOB[:JOB...] (after, afterok, afternotok, afterany) or singleton"
            ));
        };
        for job in jobs.split(':') {
            let condition = match kind {
                "after" => {
                    let (job, delay) = match job.split_once('+') {
                        Some((job, delay)) => (
                            job,
                            u32::try_from(digits(delay).ok_or("after:JOB+MIN: MIN is minutes")?).unwrap_or(u32::MAX),
                        ),
                        None => (job, 0),
                    };
                    DependencyCondition::After { job: parse_job_ref(job)?, delay_mins: delay }
                }
                "afterok" => DependencyCondition::AfterOk(parse_job_ref(job)?),
                "afternotok" => DependencyCondition::AfterNotOk(parse_job_ref(job)?),
                "afterany" => DependencyCondition::AfterAny(parse_job_ref(job)?),
                "aftercorr" | "afterburstbuffer" => {
                    return Err(format!("dependency type `{kind}` is not supported here"));
                }
                other => {
                    return Err(format!(
                        "unknown dependency type `{other}`: use after, afterok, afternotok, afterany or singleton"
                    ));
                }
            };
            conditions.push(condition);
        }
    }
    Ok(Dependency { conditions, any: has_any, text: text.to_owned() })
}

fn valid_var(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `--export`: `ALL`, `NONE`, `NIL`, or lists like `ALL,A=1,B` / `A,B=2`.
pub fn parse_export(text: &str) -> Result<Export, String> {
    let mut all = None;
    let mut keep = Vec::new();
    let mut set = Vec::new();
    for item in text.split(',') {
        match item {
            "ALL" => all = Some(true),
            "NONE" | "NIL" => all = Some(false),
            _ => match item.split_once('=') {
                Some((name, value)) if valid_var(name) => set.push((name.to_owned(), value.to_owned())),
                None if valid_var(item) => keep.push(item.to_owned()),
                _ => return Err(format!("`{item}` is not ALL, NONE, a variable name or VAR=value")),
            },
        }
    }
    // As in sbatch, a list without ALL means only those variables.
    Ok(match all {
        Some(true) => Export::All { set },
        _ if keep.is_empty() && set.is_empty() => Export::None { keep, set },
        Some(false) | None => Export::None { keep, set },
    })
}

/// `--begin`.
pub fn parse_begin(text: &str) -> Result<BeginSpec, String> {
    const EXPECTED: &str = "expected now+N[seconds|minutes|hours|days|weeks], HH:MM[:SS], YYYY-MM-DD[THH:MM[:SS]], midnight, noon, teatime, today or tomorrow";
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "now" => return Ok(BeginSpec::FromNow { seconds: 0 }),
        "midnight" => return Ok(BeginSpec::NextTimeOfDay { hour: 0, minute: 0, second: 0 }),
        "noon" => return Ok(BeginSpec::NextTimeOfDay { hour: 12, minute: 0, second: 0 }),
        "teatime" => return Ok(BeginSpec::NextTimeOfDay { hour: 16, minute: 0, second: 0 }),
        "today" => return Ok(BeginSpec::DayOffset { days: 0 }),
        "tomorrow" => return Ok(BeginSpec::DayOffset { days: 1 }),
        _ => {}
    }
    if let Some(rest) = lower.strip_prefix("now+") {
        let split = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (number, unit) = rest.split_at(split);
        let n = digits(number).ok_or(EXPECTED)?;
        let unit_secs = match unit {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 7 * 86_400,
            _ => return Err(EXPECTED.into()),
        };
        let seconds = n.checked_mul(unit_secs).filter(|s| *s <= 10 * 365 * 86_400).ok_or("too far in the future")?;
        return Ok(BeginSpec::FromNow { seconds });
    }
    let time_of_day = |t: &str| -> Result<(i8, i8, i8), String> {
        let parts = t.split(':').map(digits).collect::<Option<Vec<u64>>>().ok_or(EXPECTED)?;
        let (h, m, s) = match parts.as_slice() {
            [h, m] => (*h, *m, 0),
            [h, m, s] => (*h, *m, *s),
            _ => return Err(EXPECTED.into()),
        };
        if h > 23 || m > 59 || s > 59 {
            return Err("hours go to 23, minutes and seconds to 59".into());
        }
        Ok((h as i8, m as i8, s as i8))
    };
    if lower.contains('-') {
        let (date, time) = match lower.split_once('t') {
            Some((date, time)) => (date, Some(time)),
            None => (lower.as_str(), None),
        };
        let parts = date.split('-').map(digits).collect::<Option<Vec<u64>>>().ok_or(EXPECTED)?;
        let [year, month, day] = parts.as_slice() else { return Err(EXPECTED.into()) };
        if !(1970..=9999).contains(year) || !(1..=12).contains(month) || !(1..=31).contains(day) {
            return Err("the date is out of range".into());
        }
        let (hour, minute, second) = match time {
            Some(t) => time_of_day(t)?,
            None => (0, 0, 0),
        };
        return Ok(BeginSpec::At { year: *year as i16, month: *month as i8, day: *day as i8, hour, minute, second });
    }
    let (hour, minute, second) = time_of_day(&lower)?;
    Ok(BeginSpec::NextTimeOfDay { hour, minute, second })
}

pub fn parse_open_mode(text: &str) -> Result<OpenMode, String> {
    match text {
        "append" | "a" => Ok(OpenMode::Append),
        "truncate" | "t" => Ok(OpenMode::Truncate),
        _ => Err("expected append or truncate".into()),
    }
}

/// Free text (names, comments, paths): no control characters, bounded.
pub fn parse_text(text: &str, max: usize) -> Result<String, String> {
    if text.is_empty() {
        return Err("the value is empty".into());
    }
    if text.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("control characters are not allowed".into());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slurm_time_format() {
        let ok = [
            ("10", 600),
            ("10:30", 630),
            ("1:00:00", 3600),
            ("2-0", 2 * 86_400),
            ("1-12", 86_400 + 12 * 3600),
            ("1-12:30", 86_400 + 12 * 3600 + 1800),
            ("1-00:00:01", 86_401),
            ("90", 5400),
        ];
        for (text, secs) in ok {
            assert_eq!(parse_slurm_time(text), Ok(TimeLimit::Seconds(secs)), "{text}");
        }
        assert_eq!(parse_slurm_time("UNLIMITED"), Ok(TimeLimit::Unlimited));
        assert_eq!(parse_slurm_time("infinite"), Ok(TimeLimit::Unlimited));
        for bad in ["", "1h", "1:2:3:4", "a", "-1", "1-", "0", "99999999999"] {
            assert!(parse_slurm_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_sizes_default_to_megabytes() {
        for (text, mb) in [
            ("4096", 4096),
            ("4G", 4096),
            ("4g", 4096),
            ("500M", 500),
            ("1T", 1 << 20),
            ("512K", 1),
            ("4GB", 4096),
            ("0", 0),
        ] {
            assert_eq!(parse_memory_mb(text), Ok(mb), "{text}");
        }
        for bad in ["", "G", "4X", "-1", "1.5G"] {
            assert!(parse_memory_mb(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arrays_ranges_steps_lists_and_throttle() {
        let a = parse_array("0-15:4%2").unwrap();
        assert_eq!(a.task_ids, [0, 4, 8, 12]);
        assert_eq!(a.throttle, Some(2));
        assert_eq!(parse_array("1,3,5-7").unwrap().task_ids, [1, 3, 5, 6, 7]);
        assert_eq!(parse_array("7").unwrap().task_ids, [7]);
        for bad in ["", "5-1", "1-3%0", "a", "1-3:0", "0-4000001", "1,,2"] {
            assert!(parse_array(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dependencies_as_slurm_defines_them() {
        let d = parse_dependency("afterok:12:13_2,after:5+10,singleton").unwrap();
        assert!(!d.any);
        assert_eq!(
            d.conditions,
            [
                DependencyCondition::AfterOk(JobRef { job_id: 12, task_id: None }),
                DependencyCondition::AfterOk(JobRef { job_id: 13, task_id: Some(2) }),
                DependencyCondition::After { job: JobRef { job_id: 5, task_id: None }, delay_mins: 10 },
                DependencyCondition::Singleton,
            ]
        );
        assert!(parse_dependency("afterany:1?afternotok:2").unwrap().any);
        for bad in ["afterok", "afterok:x", "before:1", "afterok:1,afterok:2?afterok:3", ""] {
            assert!(parse_dependency(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gres_and_gpus() {
        assert_eq!(parse_gres("gpu:a100:2"), Ok(Some(GpuRequest::PerNode { kind: Some("a100".into()), count: 2 })));
        assert_eq!(parse_gres("gpu:2"), Ok(Some(GpuRequest::PerNode { kind: None, count: 2 })));
        assert_eq!(parse_gres("gpu"), Ok(Some(GpuRequest::PerNode { kind: None, count: 1 })));
        assert!(parse_gres("mps:100").is_err());
        assert_eq!(parse_gpus("h100:4", false), Ok(GpuRequest::Total { kind: Some("h100".into()), count: 4 }));
        assert!(parse_gpus("x", false).is_err());
    }

    #[test]
    fn export_lists() {
        assert_eq!(parse_export("ALL"), Ok(Export::All { set: vec![] }));
        assert_eq!(parse_export("NONE"), Ok(Export::None { keep: vec![], set: vec![] }));
        assert_eq!(parse_export("ALL,A=1"), Ok(Export::All { set: vec![("A".into(), "1".into())] }));
        assert_eq!(
            parse_export("PATH,B=2"),
            Ok(Export::None { keep: vec!["PATH".into()], set: vec![("B".into(), "2".into())] })
        );
        assert!(parse_export("1BAD").is_err());
    }

    #[test]
    fn begin_times() {
        assert_eq!(parse_begin("now+1hour"), Ok(BeginSpec::FromNow { seconds: 3600 }));
        assert_eq!(parse_begin("now+60"), Ok(BeginSpec::FromNow { seconds: 60 }));
        assert_eq!(parse_begin("16:00"), Ok(BeginSpec::NextTimeOfDay { hour: 16, minute: 0, second: 0 }));
        assert_eq!(
            parse_begin("2026-12-01T08:30"),
            Ok(BeginSpec::At { year: 2026, month: 12, day: 1, hour: 8, minute: 30, second: 0 })
        );
        assert_eq!(parse_begin("tomorrow"), Ok(BeginSpec::DayOffset { days: 1 }));
        for bad in ["later", "25:00", "2026-13-01", "now+5parsecs"] {
            assert!(parse_begin(bad).is_err(), "{bad}");
        }
    }
}
