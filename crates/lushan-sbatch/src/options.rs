//! Every sbatch option (Slurm 22.05) and what Lushan does with it.
//! `docs/user/sbatch.md` is generated from this table by a test.

/// Whether an option takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    Required,
    /// Only as `--opt=value`, as with getopt's optional arguments.
    Optional,
}

/// What Lushan does with an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Acted on.
    Supported,
    /// Accepted with a warning that it has no effect here; the text says why.
    Ignored(&'static str),
    /// Refused at submission; the text says why and what to do.
    Rejected(&'static str),
    /// Parsed and checked like a supported option, but the platform refuses
    /// the job until it can act on it; the text says what to do meanwhile.
    NotYet(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    pub long: &'static str,
    pub short: Option<char>,
    pub arg: Arg,
    pub support: Support,
    /// One line for the documentation.
    pub help: &'static str,
}

const fn opt(long: &'static str, short: Option<char>, arg: Arg, support: Support, help: &'static str) -> OptionSpec {
    OptionSpec { long, short, arg, support, help }
}

use Arg::{None as N, Optional as O, Required as R};
use Support::{Ignored as I, Rejected as X, Supported as S};

const NO_ACCOUNTING_FREQ: &str = "accounting is sampled by Lushan itself";
const NO_BURST_BUFFER: &str = "there are no burst buffers; stage data in the job script";
const BINDING: &str = "tasks are bound to the job's cores by Lushan; finer binding is not offered";
const NO_MAIL: &str = "no mail is sent; follow jobs with `lushan jobs` or `lushan logs --follow`";
const CLIENT_ONLY: &str = "affects only what sbatch prints; Lushan's CLI has --json";
const FREQ: &str = "CPU and GPU frequencies are not managed";
const TOPOLOGY: &str = "node topology requests are not scheduled on";

/// The table, in alphabetical order of long names.
pub const OPTIONS: &[OptionSpec] = &[
    opt("account", Some('A'), R, S, "The project to charge (Slurm's account)."),
    opt("acctg-freq", None, R, I(NO_ACCOUNTING_FREQ), "Accounting and profiling sampling interval."),
    opt(
        "array",
        Some('a'),
        R,
        S,
        "Job array: ranges `0-15`, steps `0-15:4`, lists `1,3,5`, throttle `%2`. Task ids go up to the server's `max_array_size` less one (Slurm's MaxArraySize; default 1001, so 0 to 1000).",
    ),
    opt("batch", None, R, X("there is one kind of batch node; drop the option"), "Batch host features."),
    opt("bb", None, R, X(NO_BURST_BUFFER), "Burst buffer specification."),
    opt("bbf", None, R, X(NO_BURST_BUFFER), "Burst buffer specification file."),
    opt(
        "begin",
        Some('b'),
        R,
        S,
        "Start no earlier than: `now+60`, `now+2hours`, `16:00`, `2026-12-01T08:00`, `tomorrow`.",
    ),
    opt("chdir", Some('D'), R, S, "The job's working directory (default: the submit directory)."),
    opt("cluster-constraint", None, R, I("sites are chosen by name (-M)"), "Federation cluster features."),
    opt("clusters", Some('M'), R, S, "The site to run on (Slurm's cluster)."),
    opt("comment", None, R, S, "A free-text comment kept with the job."),
    opt("constraint", Some('C'), R, S, "Node features the job needs."),
    opt(
        "container",
        None,
        R,
        X("containers are not supported; run `apptainer exec` in the script"),
        "OCI container bundle.",
    ),
    opt("contiguous", None, N, I(TOPOLOGY), "Contiguous nodes."),
    opt("core-spec", Some('S'), R, I("core specialization is not configured"), "Cores reserved for system use."),
    opt("cores-per-socket", None, R, I(TOPOLOGY), "Minimum cores per socket."),
    opt("cpu-freq", None, R, I(FREQ), "CPU frequency request."),
    opt("cpus-per-gpu", None, R, I("give CPUs with -c/--cpus-per-task"), "CPUs per allocated GPU."),
    opt("cpus-per-task", Some('c'), R, S, "CPUs per task."),
    opt("deadline", None, R, I("deadlines are not enforced"), "Remove the job if it cannot finish by then."),
    opt("delay-boot", None, R, I("nodes are not rebooted"), "Delay before rebooting nodes."),
    opt(
        "dependency",
        Some('d'),
        R,
        S,
        "after, afterok, afternotok, afterany (`:JOB[:JOB]`, `+MIN` for after), singleton; `,` = all, `?` = any.",
    ),
    opt("distribution", Some('m'), R, I(BINDING), "Task distribution across nodes and sockets."),
    opt("error", Some('e'), R, S, "Standard error file pattern (%j %A %a %x %u %N %%)."),
    opt("exclude", Some('x'), R, I("node lists are not scheduled on yet"), "Nodes to avoid."),
    opt("exclusive", None, O, S, "Take whole nodes (`=user` and `=mcs` are taken as whole nodes too)."),
    opt("export", None, R, S, "Environment to pass: ALL (default), NONE, or a list with VAR and VAR=value."),
    opt("export-file", None, R, X("pass variables with --export VAR=value"), "File of variables to export."),
    opt("extra-node-info", Some('B'), R, I(TOPOLOGY), "Sockets, cores and threads per node."),
    opt(
        "get-user-env",
        None,
        O,
        I("the job's environment is the submitter's, as --export says"),
        "Load the user's login environment.",
    ),
    opt("gid", None, R, X("jobs run as the submitting user's mapped account and group"), "Group to run as."),
    opt("gpu-bind", None, R, I(BINDING), "GPU binding."),
    opt("gpu-freq", None, R, I(FREQ), "GPU frequency request."),
    opt("gpus", Some('G'), R, S, "GPUs for the whole job: `N` or `TYPE:N`."),
    opt("gpus-per-node", None, R, S, "GPUs per node: `N` or `TYPE:N`."),
    opt("gpus-per-socket", None, R, I(TOPOLOGY), "GPUs per socket."),
    opt("gpus-per-task", None, R, I("give GPUs with --gpus or --gpus-per-node"), "GPUs per task."),
    opt("gres", None, R, S, "Generic resources: only `gpu[:TYPE][:N]` exists here."),
    opt("gres-flags", None, R, I(TOPOLOGY), "GRES binding flags."),
    opt("help", Some('h'), N, X("not a job option; run `lushan submit --help`"), "Help."),
    opt("hint", None, R, I(BINDING), "Task binding hints."),
    opt("hold", Some('H'), N, S, "Submit held; release with `lushan release`."),
    opt("ignore-pbs", None, N, I("#PBS lines are never read"), "Ignore #PBS directives."),
    opt("input", Some('i'), R, S, "Standard input file pattern."),
    opt("job-name", Some('J'), R, S, "The job's name."),
    opt(
        "kill-on-invalid-dep",
        None,
        R,
        I("jobs whose dependency can never be met pend with reason DependencyNeverSatisfied"),
        "Kill on invalid dependency.",
    ),
    opt("licenses", Some('L'), R, X("licenses are not managed; ask the operator"), "Licenses the job needs."),
    opt("mail-type", None, R, I(NO_MAIL), "Events to mail about."),
    opt("mail-user", None, R, I(NO_MAIL), "Who to mail."),
    opt("mcs-label", None, R, I("MCS labels are not used"), "MCS label."),
    opt("mem", None, R, S, "Memory per node: `4G`, `500M` (default unit MB); `0` means all of the node's."),
    opt("mem-bind", None, R, I(BINDING), "NUMA memory binding."),
    opt("mem-per-cpu", None, R, S, "Memory per allocated CPU."),
    opt("mem-per-gpu", None, R, X("give memory with --mem or --mem-per-cpu"), "Memory per allocated GPU."),
    opt("mincpus", None, R, I("give CPUs with -n and -c"), "Minimum CPUs per node."),
    opt("network", None, R, I("network options are not managed"), "Network configuration."),
    opt("nice", None, O, I("priority adjustments are not offered yet"), "Lower the job's priority."),
    opt(
        "no-kill",
        Some('k'),
        O,
        I("a job is not kept running when one of its nodes fails"),
        "Do not kill on node failure.",
    ),
    opt("no-requeue", None, N, S, "Never requeue: a run an owner preempts ends the job (PREEMPTED)."),
    opt("nodefile", Some('F'), R, I("node lists are not scheduled on yet"), "File of nodes to use."),
    opt("nodelist", Some('w'), R, I("node lists are not scheduled on yet"), "Nodes to use."),
    opt("nodes", Some('N'), R, S, "Number of nodes (`N`, or `MIN-MAX`: the minimum is used)."),
    opt("ntasks", Some('n'), R, S, "Number of tasks."),
    opt("ntasks-per-core", None, R, I(BINDING), "Tasks per core."),
    opt("ntasks-per-gpu", None, R, I("give tasks with -n or --ntasks-per-node"), "Tasks per GPU."),
    opt("ntasks-per-node", None, R, S, "Tasks per node."),
    opt("ntasks-per-socket", None, R, I(BINDING), "Tasks per socket."),
    opt("open-mode", None, R, S, "`append` or `truncate` the output files."),
    opt(
        "output",
        Some('o'),
        R,
        S,
        "Standard output file pattern (default `slurm-%j.out`, `slurm-%A_%a.out` for arrays).",
    ),
    opt("overcommit", Some('O'), N, I("CPUs are never overcommitted"), "Overcommit resources."),
    opt(
        "oversubscribe",
        Some('s'),
        N,
        I("jobs share nodes by cores unless --exclusive"),
        "Share resources with other jobs.",
    ),
    opt("parsable", None, N, S, "Print only the job id."),
    opt("partition", Some('p'), R, S, "The partition (default: the site's default partition)."),
    opt("power", None, R, I("power management is not offered"), "Power plugin options."),
    opt("prefer", None, R, I("soft features are not scheduled on"), "Preferred node features."),
    opt("priority", None, R, X("only the scheduler sets priorities"), "Job priority."),
    opt("profile", None, R, I(NO_ACCOUNTING_FREQ), "Profiling data collection."),
    opt(
        "propagate",
        None,
        O,
        I("resource limits come from the job's request, not the submit shell"),
        "Propagate shell limits.",
    ),
    opt(
        "qos",
        Some('q'),
        R,
        S,
        "Quality of service: `lushan admin qos list` shows the QOS there are and their priority; on a Slurm site only `normal` (the cluster's default QOS).",
    ),
    opt("quiet", Some('Q'), N, I(CLIENT_ONLY), "Suppress informational messages."),
    opt("reboot", None, N, I("nodes are not rebooted"), "Reboot nodes before the job."),
    opt("requeue", None, N, S, "Allow requeue: a run an owner preempts goes back to the queue (the default)."),
    opt("reservation", None, R, X("there are no reservations"), "Reservation to run in."),
    opt(
        "signal",
        None,
        R,
        I("jobs get SIGTERM, then SIGKILL after the grace time, at their time limit"),
        "Signal before the time limit.",
    ),
    opt("sockets-per-node", None, R, I(TOPOLOGY), "Sockets per node."),
    opt("spread-job", None, N, I(TOPOLOGY), "Spread over as many nodes as possible."),
    opt("switches", None, R, I(TOPOLOGY), "Maximum leaf switches."),
    opt("test-only", None, N, X("use `lushan submit --quote` when it is available"), "Estimate without submitting."),
    opt("thread-spec", None, R, I("thread specialization is not configured"), "Threads reserved for system use."),
    opt("threads-per-core", None, R, I(TOPOLOGY), "Threads per core."),
    opt(
        "time",
        Some('t'),
        R,
        S,
        "Time limit: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`, `UNLIMITED`.",
    ),
    opt("time-min", None, R, I("jobs are not shrunk to fit a backfill window"), "Minimum time limit."),
    opt("tmp", None, R, I("local disk is not a scheduled resource"), "Minimum temporary disk."),
    opt("uid", None, R, X("jobs run as the submitting user's mapped account"), "User to run as."),
    opt("usage", None, N, X("not a job option; run `lushan submit --help`"), "Usage."),
    opt("use-min-nodes", None, N, I("the minimum node count is always used"), "Prefer the minimum node count."),
    opt("verbose", Some('v'), N, I(CLIENT_ONLY), "More output."),
    opt("version", Some('V'), N, X("not a job option; run `lushan --version`"), "Version."),
    opt(
        "wait",
        Some('W'),
        N,
        I("the CLI returns at submission; follow with `lushan jobs`"),
        "Wait for the job to end.",
    ),
    opt("wait-all-nodes", None, R, I("nodes are not booted"), "Wait for all nodes to boot."),
    opt("wckey", None, R, I("workload keys are not used; projects carry accounting"), "Workload characterization key."),
    opt("wrap", None, R, S, "Run this command line instead of a script."),
];

/// Looks up a long option by name or unambiguous prefix.
pub fn find_long(name: &str) -> Result<&'static OptionSpec, String> {
    if let Some(spec) = OPTIONS.iter().find(|o| o.long == name) {
        return Ok(spec);
    }
    let matches: Vec<&OptionSpec> = OPTIONS.iter().filter(|o| o.long.starts_with(name)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("unrecognized option `--{name}`")),
        many => Err(format!(
            "option `--{name}` is ambiguous: {}",
            many.iter().map(|o| format!("--{}", o.long)).collect::<Vec<_>>().join(", ")
        )),
    }
}

pub fn find_short(c: char) -> Result<&'static OptionSpec, String> {
    OPTIONS.iter().find(|o| o.short == Some(c)).ok_or_else(|| format!("unrecognized option `-{c}`"))
}

/// `SBATCH_*` input variables and the options they set.
pub const ENV_OPTIONS: &[(&str, &str)] = &[
    ("SBATCH_ACCOUNT", "account"),
    ("SBATCH_ARRAY_INX", "array"),
    ("SBATCH_CLUSTERS", "clusters"),
    ("SBATCH_CONSTRAINT", "constraint"),
    ("SBATCH_EXCLUSIVE", "exclusive"),
    ("SBATCH_EXPORT", "export"),
    ("SBATCH_GPUS", "gpus"),
    ("SBATCH_GPUS_PER_NODE", "gpus-per-node"),
    ("SBATCH_GRES", "gres"),
    ("SBATCH_JOB_NAME", "job-name"),
    ("SBATCH_MEM_PER_CPU", "mem-per-cpu"),
    ("SBATCH_MEM_PER_NODE", "mem"),
    ("SBATCH_OPEN_MODE", "open-mode"),
    ("SBATCH_PARTITION", "partition"),
    ("SBATCH_QOS", "qos"),
    ("SBATCH_TIMELIMIT", "time"),
];

/// The user documentation of every option, as `docs/user/sbatch.md` holds it.
pub fn markdown() -> String {
    let mut out = String::from(
        "# sbatch compatibility\n\n\
         Generated from `crates/lushan-sbatch/src/options.rs` by its tests; do not edit.\n\n\
         Lushan reads `#SBATCH` directives, sbatch command-line options and `SBATCH_*` variables the way\n\
         sbatch does: directives before the first command only, quoting as the shell does, `#` after a blank\n\
         starts a comment, later settings win (script, then variables, then command line), and long options\n\
         may be shortened to any unambiguous prefix. Every option of Slurm 22.05's sbatch is listed here:\n\n\
         - **supported**: acted on;\n\
         - **accepted, warns**: the job is accepted and the warning says the option has no effect here, and why;\n\
         - **rejected**: the submission is refused with the reason, so nothing runs differently than asked;\n\
         - **not yet**: the value is checked, then the submission is refused until the platform runs it.\n\n\
         An option that is not an sbatch option is an error naming the line, the option and the value.\n\n\
         | option | short | Lushan | notes |\n| --- | --- | --- | --- |\n",
    );
    for spec in OPTIONS {
        let short = spec.short.map(|c| format!("`-{c}`")).unwrap_or_default();
        let name = match spec.arg {
            Arg::None => format!("`--{}`", spec.long),
            Arg::Required => format!("`--{}=VALUE`", spec.long),
            Arg::Optional => format!("`--{}[=VALUE]`", spec.long),
        };
        let (status, note) = match spec.support {
            Support::Supported => ("supported", spec.help.to_owned()),
            Support::Ignored(why) => ("accepted, warns", format!("{} Not acted on: {why}.", spec.help)),
            Support::Rejected(why) => ("rejected", format!("{} Refused: {why}.", spec.help)),
            Support::NotYet(why) => ("not yet", format!("{} Checked, then refused: {why}.", spec.help)),
        };
        out.push_str(&format!("| {name} | {short} | {status} | {} |\n", note.replace('|', "\\|")));
    }
    out.push_str("\n## Input variables\n\n| variable | same as |\n| --- | --- |\n");
    for (var, long) in ENV_OPTIONS {
        out.push_str(&format!("| `{var}` | `--{long}` |\n"));
    }
    out
}
