//! cgroup v2 limits for local jobs, where the machine delegates a cgroup
//! subtree to Lushan (e.g. `/sys/fs/cgroup/lushan` with the cpuset, cpu and
//! memory controllers enabled). A job's supervisor moves itself into
//! `ROOT/job_ID` before starting the script, so everything the job starts is
//! inside: its CPUs (`cpuset.cpus`), memory (`memory.max`, no swap), and an
//! OOM kill the kernel counts in `memory.events`; `cgroup.kill` ends all of
//! it at once, even processes that left the job's process group.
//!
//! Where no such subtree exists (this workplace's machines: cgroup v1 with
//! no v2 controllers), the supervisor uses CPU affinity and its memory
//! watcher instead (see `local.rs`). The root is a parameter, so this code
//! is tested against a plain directory tree.

use std::io;
use std::path::{Path, PathBuf};

/// Controllers a job cgroup needs.
const NEEDED: [&str; 3] = ["cpuset", "cpu", "memory"];

/// A delegated cgroup v2 subtree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupRoot {
    path: PathBuf,
}

/// One job's cgroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobCgroup {
    path: PathBuf,
}

impl CgroupRoot {
    /// The subtree at `path`, if it offers the controllers jobs need and
    /// can be written.
    pub fn detect(path: &Path) -> Option<CgroupRoot> {
        let controllers = std::fs::read_to_string(path.join("cgroup.controllers")).ok()?;
        let available: Vec<&str> = controllers.split_whitespace().collect();
        if !NEEDED.iter().all(|c| available.contains(c)) {
            return None;
        }
        let probe = path.join("cgroup.subtree_control");
        let writable = std::fs::OpenOptions::new().write(true).open(&probe).is_ok();
        writable.then(|| CgroupRoot { path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes `ROOT/job_ID` limited to `cpus` (ids as the machine numbers
    /// them) and `memory_mb` (0: no limit).
    pub fn create_job(&self, job_id: i64, cpus: &[usize], memory_mb: u64) -> io::Result<JobCgroup> {
        // Children of the root may use these controllers.
        std::fs::write(self.path.join("cgroup.subtree_control"), "+cpuset +cpu +memory")?;
        let path = self.path.join(format!("job_{job_id}"));
        std::fs::create_dir_all(&path)?;
        let list = cpus.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        std::fs::write(path.join("cpuset.cpus"), list)?;
        if memory_mb > 0 {
            std::fs::write(path.join("memory.max"), (memory_mb * 1024 * 1024).to_string())?;
            std::fs::write(path.join("memory.swap.max"), "0")?;
        }
        Ok(JobCgroup { path })
    }
}

impl JobCgroup {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves a process (and so its future children) into the cgroup.
    pub fn add_process(&self, pid: u32) -> io::Result<()> {
        std::fs::write(self.path.join("cgroup.procs"), pid.to_string())
    }

    /// Whether the kernel OOM-killed a process of the job.
    pub fn oom_killed(&self) -> bool {
        std::fs::read_to_string(self.path.join("memory.events"))
            .map(|text| {
                text.lines().any(|line| {
                    let mut words = line.split_whitespace();
                    words.next() == Some("oom_kill")
                        && words.next().and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0)
                })
            })
            .unwrap_or(false)
    }

    /// Peak memory of the job, in KiB, where the kernel reports it.
    pub fn peak_kib(&self) -> Option<u64> {
        std::fs::read_to_string(self.path.join("memory.peak")).ok()?.trim().parse::<u64>().ok().map(|b| b / 1024)
    }

    /// Kills every process in the cgroup.
    pub fn kill(&self) -> io::Result<()> {
        std::fs::write(self.path.join("cgroup.kill"), "1")
    }

    /// Removes the (empty) cgroup.
    pub fn remove(&self) -> io::Result<()> {
        std::fs::remove_dir(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory laid out like a delegated cgroup v2 subtree.
    fn fake_root(controllers: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cgroup.controllers"), controllers).unwrap();
        std::fs::write(dir.path().join("cgroup.subtree_control"), "").unwrap();
        dir
    }

    #[test]
    fn detects_only_a_subtree_with_the_needed_controllers() {
        let good = fake_root("cpuset cpu io memory pids\n");
        assert!(CgroupRoot::detect(good.path()).is_some());
        // This workplace's machines: only hugetlb in the unified hierarchy.
        let hybrid = fake_root("hugetlb\n");
        assert!(CgroupRoot::detect(hybrid.path()).is_none());
        let missing = tempfile::tempdir().unwrap();
        assert!(CgroupRoot::detect(missing.path()).is_none());
    }

    #[test]
    fn a_job_cgroup_gets_its_cpus_memory_and_processes() {
        let root = fake_root("cpuset cpu memory");
        let cgroup = CgroupRoot::detect(root.path()).unwrap();
        let job = cgroup.create_job(42, &[2, 3], 512).unwrap();
        let read = |name: &str| std::fs::read_to_string(job.path().join(name)).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.path().join("cgroup.subtree_control")).unwrap(),
            "+cpuset +cpu +memory"
        );
        assert_eq!(read("cpuset.cpus"), "2,3");
        assert_eq!(read("memory.max"), (512u64 * 1024 * 1024).to_string());
        assert_eq!(read("memory.swap.max"), "0");
        job.add_process(1234).unwrap();
        assert_eq!(read("cgroup.procs"), "1234");

        assert!(!job.oom_killed());
        std::fs::write(job.path().join("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
        assert!(job.oom_killed());
        std::fs::write(job.path().join("memory.peak"), "1048576\n").unwrap();
        assert_eq!(job.peak_kib(), Some(1024));
        job.kill().unwrap();
        assert_eq!(read("cgroup.kill"), "1");
    }

    #[test]
    fn no_memory_limit_writes_no_memory_files() {
        let root = fake_root("cpuset cpu memory");
        let job = CgroupRoot::detect(root.path()).unwrap().create_job(7, &[0], 0).unwrap();
        assert!(!job.path().join("memory.max").exists());
    }
}
