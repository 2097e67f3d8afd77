//! Reading /proc: which processes belong to a process group, and their
//! memory. The memory watcher and the liveness check use it.

use std::path::Path;

/// Resident memory in KiB of every process in process group `pgid`.
pub fn group_rss_kib(pgid: i32) -> u64 {
    let page_kib =
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok().flatten().map(|b| b as u64 / 1024).unwrap_or(4);
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    let mut total = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if let Some((pgrp, rss_pages)) = read_stat(pid)
            && pgrp == pgid
        {
            total += rss_pages * page_kib;
        }
    }
    total
}

/// (process group, resident pages) from /proc/PID/stat.
fn read_stat(pid: i32) -> Option<(i32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let after = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state(0) ppid(1) pgrp(2) ... rss is field 24 of the line, 21 here.
    let pgrp = fields.get(2)?.parse().ok()?;
    let rss = fields.get(21)?.parse().ok()?;
    Some((pgrp, rss))
}

/// Whether `pid` is alive and its command line contains `marker`, so a
/// reused pid is not mistaken for our process.
pub fn is_alive_with(pid: i32, marker: &str) -> bool {
    let path = format!("/proc/{pid}/cmdline");
    match std::fs::read(Path::new(&path)) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).replace('\0', " ").contains(marker),
        Err(_) => false,
    }
}
