//! Output file names: sbatch's `%` replacement symbols.

/// What the symbols stand for, for one job or array task.
#[derive(Clone, Debug)]
pub struct PatternContext<'a> {
    /// `%j`: the job's own id (an array task's own id).
    pub job_id: u64,
    /// `%A`: the array's job id (the job id for a plain job).
    pub array_job_id: u64,
    /// `%a`: the array task id; plain jobs print 4294967294 in Slurm.
    pub array_task_id: Option<u32>,
    /// `%x`
    pub job_name: &'a str,
    /// `%u`
    pub user: &'a str,
    /// `%N`: the first node's short name.
    pub node: &'a str,
}

/// Replaces `%j %A %a %x %u %N %%` (with optional zero-padding width, as
/// `%4a`); `%n`, `%t` and `%s` become 0 and `batch` as for a batch step.
/// Unknown symbols are kept as written.
pub fn expand_pattern(pattern: &str, ctx: &PatternContext<'_>) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut width = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(*d);
            chars.next();
        }
        let pad = width.parse::<usize>().unwrap_or(0).min(10);
        let number = |n: u64| format!("{n:0pad$}");
        match chars.next() {
            Some('%') => out.push('%'),
            Some('j') => out.push_str(&number(ctx.job_id)),
            Some('A') => out.push_str(&number(ctx.array_job_id)),
            Some('a') => out.push_str(&number(u64::from(ctx.array_task_id.unwrap_or(4_294_967_294)))),
            Some('x') => out.push_str(ctx.job_name),
            Some('u') => out.push_str(ctx.user),
            Some('N') => out.push_str(ctx.node),
            Some('n' | 't') => out.push_str(&number(0)),
            Some('s') => out.push_str("batch"),
            Some(other) => {
                out.push('%');
                out.push_str(&width);
                out.push(other);
            }
            None => {
                out.push('%');
                out.push_str(&width);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_expand_like_sbatch() {
        let ctx = PatternContext {
            job_id: 1207,
            array_job_id: 1200,
            array_task_id: Some(7),
            job_name: "cfd",
            user: "alice",
            node: "cn01",
        };
        assert_eq!(expand_pattern("slurm-%A_%a.out", &ctx), "slurm-1200_7.out");
        assert_eq!(expand_pattern("%x-%j-%u@%N.log", &ctx), "cfd-1207-alice@cn01.log");
        assert_eq!(expand_pattern("run_%4a_%%_%q", &ctx), "run_0007_%_%q");
        assert_eq!(expand_pattern("trailing%", &ctx), "trailing%");
        let plain = PatternContext { array_task_id: None, ..ctx };
        assert_eq!(expand_pattern("%a", &plain), "4294967294");
    }
}
