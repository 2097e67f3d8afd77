//! The parser as users meet it: scripts, command lines and variables.

use super::*;
use lushan_model::{GpuRequest, MemRequest, TimeLimit};

fn input(script: &str, options: &[&str]) -> SubmitInput {
    SubmitInput {
        script: Some(script.to_owned()),
        options: options.iter().map(|s| s.to_string()).collect(),
        env: vec![],
    }
}

fn errors(result: Result<Parsed, Vec<Diagnostic>>) -> Vec<String> {
    match result {
        Ok(parsed) => panic!("expected errors, got {:?}", parsed.request),
        Err(problems) => problems.iter().filter(|p| p.severity == Severity::Error).map(ToString::to_string).collect(),
    }
}

#[test]
fn a_typical_script_is_read_whole() {
    let script = "#!/bin/bash\n\
        #SBATCH -J cfd-run\n\
        #SBATCH --account=cfd-lab -p cpu\n\
        #SBATCH -N 2 --ntasks-per-node=4 -c 2\n\
        #SBATCH --mem=8G\n\
        #SBATCH --gres=gpu:a100:2\n\
        #SBATCH -t 1-12:00:00\n\
        #SBATCH -o logs/%x-%j.out   # stdout\n\
        #SBATCH --array=0-9%2\n\
        \n\
        module load openmpi\n\
        #SBATCH --time=5\n\
        srun ./solver\n";
    let parsed = parse(&input(script, &[])).unwrap();
    let r = parsed.request;
    assert_eq!(r.name.as_deref(), Some("cfd-run"));
    assert_eq!(r.project.as_deref(), Some("cfd-lab"));
    assert_eq!(r.partition.as_deref(), Some("cpu"));
    assert_eq!((r.nodes, r.ntasks_per_node, r.cpus_per_task), (Some(2), Some(4), Some(2)));
    assert_eq!(r.mem, Some(MemRequest::PerNode(8192)));
    assert_eq!(r.gpus, Some(GpuRequest::PerNode { kind: Some("a100".into()), count: 2 }));
    // The directive after the first command is not read, as in sbatch.
    assert_eq!(r.time_limit, Some(TimeLimit::Seconds(36 * 3600)));
    assert_eq!(r.output.as_deref(), Some("logs/%x-%j.out"));
    assert_eq!(r.array.as_ref().map(|a| a.task_ids.len()), Some(10));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.script, script);
}

#[test]
fn command_line_beats_environment_beats_script() {
    let script = "#!/bin/sh\n#SBATCH -t 10 -p script -J from-script\n";
    let mut i = input(script, &["--time=20"]);
    i.env = vec![
        ("SBATCH_TIMELIMIT".into(), "15".into()),
        ("SBATCH_PARTITION".into(), "env".into()),
        ("HOME".into(), "/x".into()),
    ];
    let r = parse(&i).unwrap().request;
    assert_eq!(r.time_limit, Some(TimeLimit::Seconds(20 * 60)));
    assert_eq!(r.partition.as_deref(), Some("env"));
    assert_eq!(r.name.as_deref(), Some("from-script"));
}

#[test]
fn quoting_comments_and_prefixes_work_as_in_the_shell() {
    let script =
        "#!/bin/sh\n#SBATCH --job-name \"two words\" --comment='a # b' # trailing\n#SBATCH --part=gpu --ntasks 3\n";
    let r = parse(&input(script, &[])).unwrap().request;
    assert_eq!(r.name.as_deref(), Some("two words"));
    assert_eq!(r.comment.as_deref(), Some("a # b"));
    assert_eq!(r.partition.as_deref(), Some("gpu"));
    assert_eq!(r.ntasks, Some(3));
}

#[test]
fn short_options_take_attached_or_separate_values_and_group() {
    let r = parse(&input("#!/bin/sh\n", &["-n4", "-c", "2", "-Hp", "debug", "-t30:00"])).unwrap().request;
    assert_eq!((r.ntasks, r.cpus_per_task), (Some(4), Some(2)));
    assert!(r.hold);
    assert_eq!(r.partition.as_deref(), Some("debug"));
    assert_eq!(r.time_limit, Some(TimeLimit::Seconds(1800)));
}

#[test]
fn errors_name_the_line_the_option_and_the_value() {
    let script = "#!/bin/bash\n#SBATCH --time=abc\n#SBATCH --frobnicate=3\n#SBATCH -n 0\n#SBATCH --mem 4X\n";
    assert_eq!(
        errors(parse(&input(script, &["--array=5-1"]))),
        [
            "error: line 3: --frobnicate=3: unrecognized option `--frobnicate`",
            "error: line 2: --time=abc: expected MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED",
            "error: line 4: -n=0: must be at least 1",
            "error: line 5: --mem=4X: expected a size such as 4G, 500M or 4096 (MB), with unit K, M, G or T",
            "error: command line: --array=5-1: range 5-1 runs backwards",
        ]
    );
}

#[test]
fn ambiguous_prefixes_and_missing_values_are_errors() {
    let all = errors(parse(&input("#!/bin/sh\n#SBATCH --mem-p 4\n#SBATCH --time\n", &[])));
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[0].contains("ambiguous: --mem-per-cpu, --mem-per-gpu"), "{all:?}");
    assert!(all[1].contains("line 3: --time: --time needs a value"), "{all:?}");
}

#[test]
fn unsupported_options_warn_and_rejected_ones_refuse() {
    let parsed = parse(&input("#!/bin/sh\n#SBATCH --mail-type=END --mail-user=a@b.c\n", &[])).unwrap();
    let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0].starts_with("warning: line 2: --mail-type=END: accepted but has no effect: no mail is sent"),
        "{warnings:?}"
    );
    let refused = errors(parse(&input("#!/bin/sh\n#SBATCH --reservation=maint\n", &[])));
    assert_eq!(refused, ["error: line 2: --reservation=maint: not supported: there are no reservations"]);
}

#[test]
fn scripts_need_a_shebang_and_wrap_makes_one() {
    let e = errors(parse(&input("echo hi\n", &[])));
    assert!(e[0].contains("the first line must start with #!"), "{e:?}");
    let wrapped =
        parse(&SubmitInput { script: None, options: vec!["--wrap".into(), "hostname; sleep 1".into()], env: vec![] })
            .unwrap();
    assert!(wrapped.script.starts_with("#!/bin/sh\n") && wrapped.script.contains("hostname; sleep 1"));
    let none = errors(parse(&SubmitInput::default()));
    assert!(none[0].contains("no script"), "{none:?}");
}

#[test]
fn mistyped_directives_are_pointed_out() {
    let parsed = parse(&input("#!/bin/sh\n#sbatch -n 4\n# SBATCH -n 2\n#SBATCH -n 1\n", &[])).unwrap();
    assert_eq!(parsed.request.ntasks, Some(1));
    assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
}

#[test]
fn mem_and_mem_per_cpu_together_are_refused() {
    let e = errors(parse(&input("#!/bin/sh\n#SBATCH --mem=4G --mem-per-cpu=1G\n", &[])));
    assert!(e[0].contains("mutually exclusive"), "{e:?}");
    // A later source overrides instead.
    let r = parse(&input("#!/bin/sh\n#SBATCH --mem=4G\n", &["--mem-per-cpu=1G"])).unwrap().request;
    assert_eq!(r.mem, Some(MemRequest::PerCpu(1024)));
}

#[test]
fn the_command_line_splits_into_options_script_and_arguments() {
    let words: Vec<String> =
        ["-n", "4", "--time=10", "-J", "x", "--hold", "job.sh", "-n", "in.dat"].iter().map(|s| s.to_string()).collect();
    let split = split_command_line(&words);
    assert_eq!(split.options, ["-n", "4", "--time=10", "-J", "x", "--hold"]);
    assert_eq!(split.script.as_deref(), Some("job.sh"));
    assert_eq!(split.script_args, ["-n", "in.dat"]);
    let wrap: Vec<String> = ["--wrap", "echo hi"].iter().map(|s| s.to_string()).collect();
    assert_eq!(split_command_line(&wrap).script, None);
}

#[test]
fn no_input_panics() {
    // Every prefix of a tricky script parses to a result, never a panic.
    let script = "#!/bin/sh\n#SBATCH -J 'a b' --comment=\"x\\\"y\" -n4 --array=1-3%1 -d afterok:1?afterany:2_3 --gres=gpu:h100:8 -H\n";
    for end in 0..=script.len() {
        if script.is_char_boundary(end) {
            let _ = parse(&input(&script[..end], &[]));
        }
    }
}
