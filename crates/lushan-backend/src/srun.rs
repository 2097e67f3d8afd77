//! `srun` inside a job on the local site: most MPI and GPU scripts launch
//! their work with `srun CMD`, and they must run unchanged. Here `srun`
//! starts CMD once per task (`-n`, default `SLURM_NTASKS`) with
//! `SLURM_PROCID`, `SLURM_LOCALID`, `SLURM_NTASKS` and `SLURM_STEP_ID` set,
//! waits for all of them, and exits with the first failing task's code.
//! Options it does not act on are accepted with a note on stderr, as the
//! batch script's own binding already holds.

use std::process::Command;

/// Runs `srun ARGS`; returns the exit code.
pub fn run_srun(args: &[String]) -> i32 {
    let mut ntasks: Option<u32> = None;
    let mut label = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') {
            break;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let takes_value = matches!(
            name,
            "-n" | "--ntasks"
                | "-N"
                | "--nodes"
                | "-c"
                | "--cpus-per-task"
                | "--mpi"
                | "-J"
                | "--job-name"
                | "--mem"
                | "--export"
                | "-o"
                | "--output"
                | "-e"
                | "--error"
                | "--cpu-bind"
                | "--gpus"
                | "-G"
                | "--gres"
                | "--ntasks-per-node"
                | "-t"
                | "--time"
                | "-p"
                | "--partition"
                | "-A"
                | "--account"
        );
        let attached = name.len() > 2 && !name.starts_with("--") && name.starts_with("-n");
        let value = if attached {
            Some(name[2..].to_owned())
        } else if takes_value && inline.is_none() {
            i += 1;
            args.get(i).cloned()
        } else {
            inline
        };
        match name {
            "-n" | "--ntasks" => ntasks = value.and_then(|v| v.parse().ok()),
            _ if attached => ntasks = value.and_then(|v| v.parse().ok()),
            "-l" | "--label" => label = true,
            other => eprintln!("srun: {other} is accepted and not acted on here (the job's allocation applies)"),
        }
        i += 1;
    }
    let Some((program, program_args)) = args[i.min(args.len())..].split_first() else {
        eprintln!("srun: no command given: use `srun [options] COMMAND [ARGS...]`");
        return 2;
    };
    let ntasks = ntasks.or_else(|| std::env::var("SLURM_NTASKS").ok().and_then(|v| v.parse().ok())).unwrap_or(1).max(1);
    let step: u32 = std::env::var("LUSHAN_SRUN_STEP").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut children = Vec::new();
    for task in 0..ntasks {
        let mut command = Command::new(program);
        command
            .args(program_args)
            .env("SLURM_PROCID", task.to_string())
            .env("SLURM_LOCALID", task.to_string())
            .env("SLURM_NTASKS", ntasks.to_string())
            .env("SLURM_STEP_ID", step.to_string())
            .env("SLURM_STEP_NUM_TASKS", ntasks.to_string())
            .env("LUSHAN_SRUN_STEP", (step + 1).to_string());
        if label {
            // Labelled output is line-prefixed by the shell, so it works for any program.
            let quoted: Vec<String> =
                std::iter::once(program.clone()).chain(program_args.iter().cloned()).map(|a| shell_quote(&a)).collect();
            command = Command::new("/bin/sh");
            command
                .arg("-c")
                .arg(format!("{} 2>&1 | sed 's/^/{task}: /'", quoted.join(" ")))
                .env("SLURM_PROCID", task.to_string())
                .env("SLURM_LOCALID", task.to_string())
                .env("SLURM_NTASKS", ntasks.to_string())
                .env("SLURM_STEP_ID", step.to_string());
        }
        match command.spawn() {
            Ok(child) => children.push(child),
            Err(err) => {
                eprintln!("srun: cannot start {program}: {err}");
                for mut child in children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return 2;
            }
        }
    }
    let mut code = 0;
    for mut child in children {
        let status = child.wait().map(|s| s.code().unwrap_or(1)).unwrap_or(1);
        if code == 0 && status != 0 {
            code = status;
        }
    }
    code
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
