//! What this machine offers to the `local` site: CPUs, memory, NVIDIA GPUs.
//!
//! This is the local backend's discovery; it moves into `lushan-backend`
//! when that crate arrives with the jobs issue.

/// One node as discovered.
#[derive(Debug, Clone)]
pub struct MachineInfo {
    pub hostname: String,
    pub cpus: i64,
    pub memory_mb: i64,
    pub gpus: i64,
    pub gpu_type: Option<String>,
    /// What `-C/--constraint` can ask for, comma-separated: the CPU
    /// architecture, its widest vector extensions, and the GPU type.
    pub features: String,
}

pub fn discover() -> MachineInfo {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_lowercase())
        .ok()
        .filter(|h| lushan_model::Name::parse(lushan_model::NameKind::Site, h).is_ok())
        .unwrap_or_else(|| "localhost".into());
    let cpus = std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(1);
    let memory_mb =
        std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| parse_meminfo_mb(&text)).unwrap_or(1024);
    let (gpus, gpu_type) = nvidia_gpus();
    let cpu_flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let features = features(std::env::consts::ARCH, &cpu_flags, gpu_type.as_deref());
    MachineInfo { hostname, cpus, memory_mb, gpus, gpu_type, features }
}

/// `x86_64,avx2,avx512,h100`: the features users name in `-C`, as sites
/// commonly label nodes in slurm.conf.
fn features(arch: &str, cpuinfo: &str, gpu_type: Option<&str>) -> String {
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags") || l.starts_with("Features"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap_or_default();
    let mut out = vec![arch.to_string()];
    for (flag, feature) in [("avx2", "avx2"), ("avx512f", "avx512"), ("sve", "sve")] {
        if flags.contains(&flag) {
            out.push(feature.to_string());
        }
    }
    if let Some(gpu) = gpu_type {
        out.push(gpu.to_string());
    }
    out.join(",")
}

fn parse_meminfo_mb(text: &str) -> Option<i64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Counts GPUs with `nvidia-smi`; none (or no driver) is fine.
fn nvidia_gpus() -> (i64, Option<String>) {
    let output = std::process::Command::new("nvidia-smi").args(["--query-gpu=name", "--format=csv,noheader"]).output();
    let Ok(output) = output else { return (0, None) };
    if !output.status.success() {
        return (0, None);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let names: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let gpu_type = names.first().map(|name| gpu_type_of(name));
    (names.len() as i64, gpu_type)
}

/// `NVIDIA H100 80GB HBM3` -> `h100`: the short type Slurm's `--gres=gpu:TYPE:N` uses.
fn gpu_type_of(name: &str) -> String {
    name.split_whitespace()
        .find(|w| {
            !w.eq_ignore_ascii_case("nvidia") && !w.eq_ignore_ascii_case("tesla") && !w.eq_ignore_ascii_case("geforce")
        })
        .unwrap_or("gpu")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_gpu_names_parse() {
        assert_eq!(parse_meminfo_mb("MemTotal:       24576000 kB\nMemFree: 1 kB\n"), Some(24_000));
        assert_eq!(parse_meminfo_mb("nothing"), None);
        assert_eq!(gpu_type_of("NVIDIA H100 80GB HBM3"), "h100");
        assert_eq!(gpu_type_of("Tesla V100-SXM2-32GB"), "v100-sxm2-32gb");
    }

    #[test]
    fn features_name_the_architecture_vector_units_and_gpus() {
        let cpuinfo = "processor : 0\nflags\t\t: fpu sse avx avx2 avx512f avx512bw\n";
        assert_eq!(features("x86_64", cpuinfo, Some("h100")), "x86_64,avx2,avx512,h100");
        assert_eq!(features("aarch64", "Features\t: fp asimd\n", None), "aarch64");
    }
}
