//! Reading a submission: `#SBATCH` lines, `SBATCH_*` variables and the
//! command line, in that order (later wins), into one `JobRequest`.

use crate::diagnostic::{Diagnostic, Origin, Severity};
use crate::options::{Arg, ENV_OPTIONS, OptionSpec, Support, find_long, find_short};
use crate::values::*;
use crate::{Parsed, SubmitInput};
use lushan_model::JobRequest;

/// Longest job name, comment or path accepted.
const MAX_TEXT: usize = 1024;

/// One option occurrence: which option, its value, where it was written.
struct Setting {
    spec: &'static OptionSpec,
    /// As written (`-n`, `--ntasks`, `--nt`).
    written: String,
    value: Option<String>,
    origin: Origin,
}

/// Splits one `#SBATCH` line as the shell would: blanks separate words,
/// quotes group, a backslash escapes, `#` after a blank starts a comment.
pub(crate) fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    word.push(ch);
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Turns option words into settings; errors name the origin.
fn read_options(
    words: &[String],
    origin: &Origin,
    settings: &mut Vec<Setting>,
    problems: &mut Vec<Diagnostic>,
) -> usize {
    let error = |option: &str, value: Option<&str>, message: String| Diagnostic {
        severity: Severity::Error,
        origin: origin.clone(),
        option: option.to_owned(),
        value: value.map(str::to_owned),
        message,
    };
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if let Some(long) = word.strip_prefix("--") {
            if long.is_empty() {
                return i;
            }
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (long, None),
            };
            let spec = match find_long(name) {
                Ok(spec) => spec,
                Err(message) => {
                    problems.push(error(&format!("--{name}"), inline.as_deref(), message));
                    // Take a following word as its value, so one mistake is
                    // reported once rather than again as a stray word.
                    if inline.is_none() && words.get(i).is_some_and(|w| !w.starts_with('-')) {
                        i += 1;
                    }
                    continue;
                }
            };
            let written = format!("--{name}");
            let value = match (spec.arg, inline) {
                (Arg::None, Some(v)) => {
                    problems.push(error(&written, Some(&v), format!("--{} takes no value", spec.long)));
                    continue;
                }
                (Arg::None, None) | (Arg::Optional, None) => None,
                (_, Some(v)) => Some(v),
                (Arg::Required, None) => match words.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => {
                        problems.push(error(&written, None, format!("--{} needs a value", spec.long)));
                        continue;
                    }
                },
            };
            settings.push(Setting { spec, written, value, origin: origin.clone() });
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // Flags may be grouped (`-Hv`); the first one that takes a value
            // takes the rest of the word, or the next word.
            for (at, c) in shorts.char_indices() {
                let spec = match find_short(c) {
                    Ok(spec) => spec,
                    Err(message) => {
                        problems.push(error(&format!("-{c}"), None, message));
                        break;
                    }
                };
                let written = format!("-{c}");
                if spec.arg == Arg::None {
                    settings.push(Setting { spec, written, value: None, origin: origin.clone() });
                    continue;
                }
                let rest = &shorts[at + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    Some(rest.trim_start_matches('=').to_owned())
                } else if spec.arg == Arg::Required {
                    match words.get(i) {
                        Some(v) => {
                            i += 1;
                            Some(v.clone())
                        }
                        None => {
                            problems.push(error(&written, None, format!("-{c} (--{}) needs a value", spec.long)));
                            break;
                        }
                    }
                } else {
                    None
                };
                settings.push(Setting { spec, written, value, origin: origin.clone() });
                break;
            }
        } else {
            return i - 1;
        }
    }
    i
}

/// The command line of `lushan submit`, split like sbatch's: options, then
/// the script, then the script's own arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitCommandLine {
    pub options: Vec<String>,
    pub script: Option<String>,
    pub script_args: Vec<String>,
}

/// Splits `[options] [script [args...]]`. Unknown options are kept for the
/// parser to report; they are assumed to take no value.
pub fn split_command_line(words: &[String]) -> SplitCommandLine {
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        if word == "--" {
            let script = words.get(i + 1).cloned();
            let args = words.get(i + 2..).map(<[String]>::to_vec).unwrap_or_default();
            return SplitCommandLine { options: words[..i].to_vec(), script, script_args: args };
        }
        if let Some(long) = word.strip_prefix("--") {
            i += 1;
            if !long.contains('=') && find_long(long).is_ok_and(|s| s.arg == Arg::Required) {
                i += 1;
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            i += 1;
            // The value is the next word if the last flag needs one and none is attached.
            let mut needs_next = false;
            for (at, c) in shorts.char_indices() {
                match find_short(c) {
                    Ok(spec) if spec.arg == Arg::None => continue,
                    Ok(spec) => {
                        needs_next = spec.arg == Arg::Required && shorts[at + c.len_utf8()..].is_empty();
                        break;
                    }
                    Err(_) => break,
                }
            }
            if needs_next {
                i += 1;
            }
        } else {
            break;
        }
    }
    let end = i.min(words.len());
    SplitCommandLine {
        options: words[..end].to_vec(),
        script: words.get(end).cloned(),
        script_args: words.get(end + 1..).map(<[String]>::to_vec).unwrap_or_default(),
    }
}

/// The `#SBATCH` settings of a script: lines before the first command.
fn read_script(script: &str, settings: &mut Vec<Setting>, problems: &mut Vec<Diagnostic>) {
    for (index, line) in script.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        if index == 0 && trimmed.starts_with("#!") {
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed.starts_with('#') {
            break;
        }
        let Some(rest) = line.strip_prefix("#SBATCH") else {
            let lowered = trimmed.to_ascii_uppercase();
            if lowered.starts_with("#SBATCH") || lowered.starts_with("# SBATCH") {
                problems.push(Diagnostic {
                    severity: Severity::Warning,
                    origin: Origin::Line(number),
                    option: String::new(),
                    value: None,
                    message: format!(
                        "`{}` is not read: directives start the line with `#SBATCH` exactly",
                        trimmed.split_whitespace().next().unwrap_or(trimmed)
                    ),
                });
            }
            continue;
        };
        if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            continue;
        }
        let origin = Origin::Line(number);
        match split_words(rest) {
            Ok(words) => {
                let used = read_options(&words, &origin, settings, problems);
                if used < words.len() {
                    problems.push(Diagnostic {
                        severity: Severity::Error,
                        origin,
                        option: String::new(),
                        value: Some(words[used].clone()),
                        message: format!("`{}` is not an option; #SBATCH lines hold options only", words[used]),
                    });
                }
            }
            Err(message) => problems.push(Diagnostic {
                severity: Severity::Error,
                origin,
                option: String::new(),
                value: None,
                message,
            }),
        }
    }
}

pub(crate) fn parse(input: &SubmitInput) -> Result<Parsed, Vec<Diagnostic>> {
    let mut settings = Vec::new();
    let mut problems = Vec::new();
    if let Some(script) = &input.script {
        read_script(script, &mut settings, &mut problems);
    }
    for (var, value) in &input.env {
        let Some((_, long)) = ENV_OPTIONS.iter().find(|(name, _)| name == var) else { continue };
        if let Ok(spec) = find_long(long) {
            let value = if spec.arg == Arg::None || (spec.arg == Arg::Optional && value.is_empty()) {
                None
            } else {
                Some(value.clone())
            };
            settings.push(Setting { spec, written: format!("--{long}"), value, origin: Origin::Env(var.clone()) });
        }
    }
    let used = read_options(&input.options, &Origin::CommandLine, &mut settings, &mut problems);
    if used < input.options.len() {
        problems.push(Diagnostic {
            severity: Severity::Error,
            origin: Origin::CommandLine,
            option: String::new(),
            value: Some(input.options[used].clone()),
            message: format!("`{}` is not an option", input.options[used]),
        });
    }

    let mut request = JobRequest::default();
    for setting in &settings {
        if let Err(message) = apply(&mut request, setting, &mut problems) {
            problems.push(Diagnostic {
                severity: Severity::Error,
                origin: setting.origin.clone(),
                option: setting.written.clone(),
                value: setting.value.clone(),
                message,
            });
        }
    }
    check_combinations(&request, &settings, &mut problems);

    let script = match (&request.wrap, &input.script) {
        (Some(_), Some(_)) => {
            problems.push(Diagnostic {
                severity: Severity::Error,
                origin: Origin::Script,
                option: "--wrap".into(),
                value: None,
                message: "give either a script or --wrap, not both".into(),
            });
            String::new()
        }
        (Some(wrap), None) => format!("#!/bin/sh\n# This script was generated by --wrap\n{wrap}\n"),
        (None, Some(script)) => {
            if !script.starts_with("#!") {
                problems.push(Diagnostic {
                    severity: Severity::Error,
                    origin: Origin::Line(1),
                    option: String::new(),
                    value: None,
                    message: "this does not look like a batch script: the first line must start with #! and an interpreter, e.g. #!/bin/bash".into(),
                });
            }
            script.clone()
        }
        (None, None) => {
            problems.push(Diagnostic {
                severity: Severity::Error,
                origin: Origin::Script,
                option: String::new(),
                value: None,
                message: "no script: give a batch script or --wrap \"command\"".into(),
            });
            String::new()
        }
    };
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(problems);
    }
    Ok(Parsed { request, script, warnings: problems })
}

fn apply(request: &mut JobRequest, setting: &Setting, problems: &mut Vec<Diagnostic>) -> Result<(), String> {
    let spec = setting.spec;
    match spec.support {
        Support::Rejected(why) => return Err(format!("not supported: {why}")),
        Support::Ignored(why) => {
            problems.push(Diagnostic {
                severity: Severity::Warning,
                origin: setting.origin.clone(),
                option: setting.written.clone(),
                value: setting.value.clone(),
                message: format!("accepted but has no effect: {why}"),
            });
            return Ok(());
        }
        Support::Supported | Support::NotYet(_) => {}
    }
    let value = setting.value.as_deref().unwrap_or("");
    match spec.long {
        "account" => request.project = Some(parse_text(value, 64)?),
        "array" => request.array = Some(parse_array(value)?),
        "begin" => request.begin = Some(parse_begin(value)?),
        "chdir" => request.workdir = Some(parse_text(value, MAX_TEXT)?),
        "clusters" => request.site = Some(parse_text(value, 64)?),
        "comment" => request.comment = Some(parse_text(value, MAX_TEXT)?),
        "constraint" => request.constraint = Some(parse_text(value, MAX_TEXT)?),
        "cpus-per-task" => request.cpus_per_task = Some(parse_count(value)?),
        "dependency" => request.dependency = Some(parse_dependency(value)?),
        "error" => request.error = Some(parse_text(value, MAX_TEXT)?),
        "exclusive" => {
            match setting.value.as_deref() {
                None | Some("") | Some("user") | Some("mcs") => {}
                Some(_) => return Err("expected --exclusive, --exclusive=user or --exclusive=mcs".into()),
            }
            request.exclusive = true;
        }
        "export" => request.export = Some(parse_export(value)?),
        "gpus" => request.gpus = Some(parse_gpus(value, false)?),
        "gpus-per-node" => request.gpus = Some(parse_gpus(value, true)?),
        "gres" => request.gpus = parse_gres(value)?,
        "hold" => request.hold = true,
        "requeue" => request.requeue = Some(true),
        "no-requeue" => request.requeue = Some(false),
        "input" => request.input = Some(parse_text(value, MAX_TEXT)?),
        "job-name" => request.name = Some(parse_text(value, 200)?),
        "mem" => request.mem = Some(parse_mem(value, false)?),
        "mem-per-cpu" => request.mem = Some(parse_mem(value, true)?),
        "nodes" => {
            let (min, ranged) = parse_nodes(value)?;
            if ranged {
                problems.push(Diagnostic {
                    severity: Severity::Warning,
                    origin: setting.origin.clone(),
                    option: setting.written.clone(),
                    value: setting.value.clone(),
                    message: format!("a node range is scheduled as its minimum, {min}"),
                });
            }
            request.nodes = Some(min);
        }
        "ntasks" => request.ntasks = Some(parse_count(value)?),
        "ntasks-per-node" => request.ntasks_per_node = Some(parse_count(value)?),
        "open-mode" => request.open_mode = Some(parse_open_mode(value)?),
        "output" => request.output = Some(parse_text(value, MAX_TEXT)?),
        "parsable" => request.parsable = true,
        "partition" => request.partition = Some(parse_text(value, 64)?),
        "qos" => request.qos = Some(parse_text(value, 64)?),
        "time" => request.time_limit = Some(parse_slurm_time(value)?),
        "wrap" => {
            // A wrapped command may span lines; only emptiness and length matter.
            if value.trim().is_empty() || value.len() > 64 * 1024 {
                return Err("expected a command of 1 to 65536 bytes".into());
            }
            request.wrap = Some(value.to_owned());
        }
        other => return Err(format!("--{other} is marked supported but has no handler; please report this")),
    }
    Ok(())
}

/// Rules across options, reported once at the end.
fn check_combinations(request: &JobRequest, settings: &[Setting], problems: &mut Vec<Diagnostic>) {
    // --mem and --mem-per-cpu are mutually exclusive in sbatch, unless the
    // later one comes from a higher-precedence source (which then wins).
    let mem_settings: Vec<&Setting> =
        settings.iter().filter(|s| s.spec.long == "mem" || s.spec.long == "mem-per-cpu").collect();
    for pair in mem_settings.windows(2) {
        if pair[0].spec.long != pair[1].spec.long && same_source(&pair[0].origin, &pair[1].origin) {
            problems.push(Diagnostic {
                severity: Severity::Error,
                origin: pair[1].origin.clone(),
                option: pair[1].written.clone(),
                value: pair[1].value.clone(),
                message: "--mem and --mem-per-cpu are mutually exclusive; give one".into(),
            });
        }
    }
    if let (Some(ntasks), Some(per_node), Some(nodes)) = (request.ntasks, request.ntasks_per_node, request.nodes)
        && u64::from(per_node) * u64::from(nodes) < u64::from(ntasks)
    {
        problems.push(Diagnostic {
            severity: Severity::Error,
            origin: Origin::Script,
            option: "--ntasks-per-node".into(),
            value: Some(per_node.to_string()),
            message: format!("{nodes} node(s) x {per_node} task(s) per node cannot hold {ntasks} tasks"),
        });
    }
}

fn same_source(a: &Origin, b: &Origin) -> bool {
    matches!(
        (a, b),
        (Origin::Line(_), Origin::Line(_))
            | (Origin::CommandLine, Origin::CommandLine)
            | (Origin::Env(_), Origin::Env(_))
    )
}

#[cfg(test)]
mod tests;
