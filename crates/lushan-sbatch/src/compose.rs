//! The portal's job form and the batch script it stands for, both ways:
//! [`JobForm::from_script`] reads a template's `#SBATCH` lines into the
//! form's fields (what it has no field for is kept, verbatim, as "more
//! options"), and [`JobForm::compose`] writes the script back, checking
//! every field with the same value parsers the submission uses, so an error
//! is shown beside its field instead of after a round trip. The composed
//! script is then submitted like any other: [`crate::parse`] is still the
//! one reader of what it asks for.

use crate::options::{Arg, find_long, find_short};
use crate::script::split_words;
use crate::values::{parse_array, parse_count, parse_gpus, parse_mem, parse_nodes, parse_slurm_time, parse_text};

/// Longest job name the form takes (sbatch's own limit is larger, but a
/// name is read on one line of a table).
const MAX_NAME: usize = 200;
/// The longest script the form takes, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// One field of the form. The names are the form's `name=` attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Account,
    Partition,
    Nodes,
    Ntasks,
    CpusPerTask,
    Mem,
    Gpus,
    Time,
    Array,
    Extra,
    Body,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::Name,
        Field::Account,
        Field::Partition,
        Field::Nodes,
        Field::Ntasks,
        Field::CpusPerTask,
        Field::Mem,
        Field::Gpus,
        Field::Time,
        Field::Array,
        Field::Extra,
        Field::Body,
    ];

    /// The form field's name (and the HTML `id` of its input).
    pub fn key(self) -> &'static str {
        match self {
            Field::Name => "job_name",
            Field::Account => "account",
            Field::Partition => "partition",
            Field::Nodes => "nodes",
            Field::Ntasks => "ntasks",
            Field::CpusPerTask => "cpus_per_task",
            Field::Mem => "mem",
            Field::Gpus => "gpus",
            Field::Time => "time",
            Field::Array => "array",
            Field::Extra => "extra",
            Field::Body => "body",
        }
    }

    /// The sbatch option a single-value field writes.
    fn option(self) -> Option<&'static str> {
        Some(match self {
            Field::Name => "job-name",
            Field::Account => "account",
            Field::Partition => "partition",
            Field::Nodes => "nodes",
            Field::Ntasks => "ntasks",
            Field::CpusPerTask => "cpus-per-task",
            Field::Mem => "mem",
            Field::Gpus => "gpus",
            Field::Time => "time",
            Field::Array => "array",
            Field::Extra | Field::Body => return None,
        })
    }

    fn for_option(long: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.option() == Some(long))
    }
}

/// What the user typed into the job form, field by field; empty means
/// "not asked for" (the site's default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobForm {
    /// `#!` line; `#!/bin/bash` when the template has none.
    pub shell: String,
    pub job_name: String,
    /// The project (Slurm's account).
    pub account: String,
    pub partition: String,
    pub nodes: String,
    /// Tasks in all (`--ntasks`).
    pub ntasks: String,
    pub cpus_per_task: String,
    /// Memory per node (`--mem`): `4G`, `500M`.
    pub mem: String,
    /// GPUs in all (`--gpus`): `1`, or `a100:2`.
    pub gpus: String,
    /// `--time`: `30`, `2:00:00`, `1-12:00:00`.
    pub time: String,
    /// `--array`: `0-9`, `1,3,5`, `0-99%10`.
    pub array: String,
    /// More `#SBATCH` options the form has no field for, one per line
    /// (`--output=run-%j.out`), written as they are.
    pub extra: String,
    /// The commands: everything after the `#SBATCH` lines.
    pub body: String,
}

/// A field's value that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl JobForm {
    pub fn get(&self, field: Field) -> &str {
        match field {
            Field::Name => &self.job_name,
            Field::Account => &self.account,
            Field::Partition => &self.partition,
            Field::Nodes => &self.nodes,
            Field::Ntasks => &self.ntasks,
            Field::CpusPerTask => &self.cpus_per_task,
            Field::Mem => &self.mem,
            Field::Gpus => &self.gpus,
            Field::Time => &self.time,
            Field::Array => &self.array,
            Field::Extra => &self.extra,
            Field::Body => &self.body,
        }
    }

    pub fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::Name => &mut self.job_name,
            Field::Account => &mut self.account,
            Field::Partition => &mut self.partition,
            Field::Nodes => &mut self.nodes,
            Field::Ntasks => &mut self.ntasks,
            Field::CpusPerTask => &mut self.cpus_per_task,
            Field::Mem => &mut self.mem,
            Field::Gpus => &mut self.gpus,
            Field::Time => &mut self.time,
            Field::Array => &mut self.array,
            Field::Extra => &mut self.extra,
            Field::Body => &mut self.body,
        };
        *slot = value;
    }

    /// A template's script as the form's fields. Only the `#SBATCH` lines
    /// before the first command are read, as sbatch reads them; an option
    /// the form has a field for fills it (the last one written wins), any
    /// other is kept in [`JobForm::extra`], so nothing is lost.
    pub fn from_script(script: &str) -> JobForm {
        let mut form = JobForm::default();
        let mut lines = script.lines().peekable();
        if let Some(first) = lines.peek()
            && first.starts_with("#!")
        {
            form.shell = first.trim_end().to_owned();
            lines.next();
        }
        let mut extra = Vec::new();
        let mut body = Vec::new();
        let mut in_header = true;
        for line in lines {
            let trimmed = line.trim_start();
            if in_header {
                if let Some(rest) = trimmed.strip_prefix("#SBATCH") {
                    match known_option(rest) {
                        Some((field, value)) => form.set(field, value),
                        None if !rest.trim().is_empty() => extra.push(rest.trim().to_owned()),
                        None => {}
                    }
                    continue;
                }
                // Comments and blank lines do not end the directives; a
                // blank line right after them is not part of the commands.
                if trimmed.is_empty() && body.is_empty() {
                    continue;
                }
                if !trimmed.starts_with('#') && !trimmed.is_empty() {
                    in_header = false;
                }
            }
            body.push(line);
        }
        form.extra = extra.join("\n");
        form.body = body.join("\n");
        if !form.body.is_empty() {
            form.body.push('\n');
        }
        form
    }

    /// The batch script the form stands for, or every field that cannot be
    /// used, each with why.
    pub fn compose(&self) -> Result<String, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut script = String::new();
        let shell = if self.shell.trim().is_empty() { "#!/bin/bash" } else { self.shell.trim() };
        if !shell.starts_with("#!/") || shell.chars().any(char::is_control) {
            errors.push(FieldError { field: Field::Body, message: format!("`{shell}` is not a `#!/...` line") });
        }
        script.push_str(shell);
        script.push('\n');
        for field in Field::ALL {
            let Some(option) = field.option() else { continue };
            let value = self.get(field).trim();
            if value.is_empty() {
                continue;
            }
            match check(field, value) {
                Ok(()) => script.push_str(&format!("#SBATCH --{option}={}\n", quoted(value))),
                Err(message) => errors.push(FieldError { field, message }),
            }
        }
        for line in self.extra.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match check_extra(line) {
                Ok(()) => script.push_str(&format!("#SBATCH {line}\n")),
                Err(message) => errors.push(FieldError { field: Field::Extra, message }),
            }
        }
        let body = self.body.replace("\r\n", "\n");
        if body.trim().is_empty() {
            errors.push(FieldError { field: Field::Body, message: "write the commands the job runs".into() });
        }
        if body.contains('\0') {
            errors.push(FieldError { field: Field::Body, message: "the script holds a NUL character".into() });
        }
        script.push('\n');
        script.push_str(body.trim_start_matches('\n'));
        if !script.ends_with('\n') {
            script.push('\n');
        }
        if script.len() > MAX_SCRIPT_BYTES {
            errors.push(FieldError {
                field: Field::Body,
                message: format!("the script is longer than {} KiB", MAX_SCRIPT_BYTES / 1024),
            });
        }
        if errors.is_empty() { Ok(script) } else { Err(errors) }
    }
}

/// A directive line (after `#SBATCH`) that sets one of the form's fields:
/// which, and the value. Abbreviations and short options count (`-n 4`,
/// `--nt=4`); a line with more than one option, or anything unreadable, is
/// not one (it is kept as written).
fn known_option(rest: &str) -> Option<(Field, String)> {
    let words = split_words(rest).ok()?;
    let (spec, value) = match words.as_slice() {
        [word] if word.starts_with("--") => {
            let (name, value) = word[2..].split_once('=')?;
            (find_long(name).ok()?, value.to_owned())
        }
        [word, value] if word.starts_with("--") => (find_long(&word[2..]).ok()?, value.clone()),
        [word] if word.starts_with('-') && word.chars().count() > 2 => {
            let mut chars = word[1..].chars();
            let c = chars.next()?;
            (find_short(c).ok()?, chars.as_str().trim_start_matches('=').to_owned())
        }
        [word, value] if word.starts_with('-') && word.chars().count() == 2 => {
            (find_short(word.chars().nth(1)?).ok()?, value.clone())
        }
        _ => return None,
    };
    if spec.arg == Arg::None {
        return None;
    }
    Some((Field::for_option(spec.long)?, value))
}

/// Checks a field's value with the submission's own parser.
fn check(field: Field, value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        return Err("control characters (such as a line break) are not allowed".into());
    }
    match field {
        Field::Name => parse_text(value, MAX_NAME).map(drop),
        Field::Account | Field::Partition => {
            if value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ',')) {
                Ok(())
            } else {
                Err("letters, digits, `-`, `_` and `.` only".into())
            }
        }
        Field::Nodes => parse_nodes(value).map(drop),
        Field::Ntasks | Field::CpusPerTask => parse_count(value).map(drop),
        Field::Mem => parse_mem(value, false).map(drop),
        Field::Gpus => parse_gpus(value, false).map(drop),
        Field::Time => parse_slurm_time(value).map(drop),
        Field::Array => parse_array(value).map(drop),
        Field::Extra | Field::Body => Ok(()),
    }
}

/// One more option line: it must read as options (`--output=x.out`, `-o
/// x.out`) and name ones sbatch knows, so a typo is caught beside the box
/// rather than by the submission.
fn check_extra(line: &str) -> Result<(), String> {
    if line.chars().any(char::is_control) {
        return Err(format!("`{line}`: control characters are not allowed"));
    }
    if !line.starts_with('-') {
        return Err(format!("`{line}` is not an option: each line starts with `-` or `--`"));
    }
    let words = split_words(line).map_err(|e| format!("`{line}`: {e}"))?;
    for word in words.iter().filter(|w| w.starts_with('-')) {
        let known = match word.strip_prefix("--") {
            Some(long) => find_long(long.split('=').next().unwrap_or_default()).map(drop),
            None => word.chars().nth(1).map_or(Ok(()), |c| find_short(c).map(drop)),
        };
        known.map_err(|e| format!("`{line}`: {e}"))?;
    }
    Ok(())
}

/// A value as a `#SBATCH` line must write it: bare when it is one plain
/// word, else single-quoted (with `'` written as `'\''`).
fn quoted(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.,:%/@+=".contains(c)) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SubmitInput, parse};

    const MPI: &str = "#!/bin/bash\n#SBATCH -J mpi-run\n#SBATCH --nodes=2\n#SBATCH --ntasks 8\n#SBATCH --partit=cpu\n#SBATCH --time 2:00:00\n#SBATCH --output=run-%j.out\n#SBATCH --exclusive\n# a comment\n\nsrun ./solver\n#SBATCH --ntasks=99\n";

    #[test]
    fn a_template_fills_the_fields_it_has_and_keeps_the_other_options() {
        let form = JobForm::from_script(MPI);
        assert_eq!(form.shell, "#!/bin/bash");
        assert_eq!((form.job_name.as_str(), form.nodes.as_str(), form.ntasks.as_str()), ("mpi-run", "2", "8"));
        assert_eq!((form.time.as_str(), form.partition.as_str()), ("2:00:00", "cpu"));
        assert_eq!(form.extra, "--output=run-%j.out\n--exclusive");
        // After the first command, `#SBATCH` is a comment (as sbatch reads it).
        assert_eq!(form.body, "# a comment\n\nsrun ./solver\n#SBATCH --ntasks=99\n");
    }

    #[test]
    fn the_composed_script_asks_for_what_the_template_asked() {
        let form = JobForm::from_script(MPI);
        let script = form.compose().unwrap();
        let read = |s: &str| parse(&SubmitInput { script: Some(s.into()), ..Default::default() }).unwrap().request;
        let (before, after) = (read(MPI), read(&script));
        assert_eq!(before.name, after.name);
        assert_eq!(before.nodes, after.nodes);
        assert_eq!(before.ntasks, after.ntasks);
        assert_eq!(before.time_limit, after.time_limit);
        assert_eq!(before.partition, after.partition);
        assert_eq!(before.output, after.output);
        assert_eq!(before.exclusive, after.exclusive);
        // Read again, the composed script is the same form.
        assert_eq!(JobForm::from_script(&script), form);
    }

    #[test]
    fn a_name_with_blanks_and_quotes_survives_the_trip() {
        let mut form = JobForm::from_script("#!/bin/sh\ntrue\n");
        form.job_name = "it's <b>my</b> run".into();
        let script = form.compose().unwrap();
        let parsed = parse(&SubmitInput { script: Some(script.clone()), ..Default::default() }).unwrap();
        assert_eq!(parsed.request.name.as_deref(), Some("it's <b>my</b> run"), "{script}");
        assert!(script.starts_with("#!/bin/sh\n"));
    }

    #[test]
    fn each_bad_field_is_named_with_its_reason_and_a_line_break_cannot_add_a_directive() {
        let form = JobForm {
            job_name: "ok\n#SBATCH --uid=0".into(),
            nodes: "0".into(),
            time: "soon".into(),
            mem: "lots".into(),
            partition: "a b".into(),
            array: "9-1".into(),
            extra: "--output=x.out\n--no-such-option=1\nplain words".into(),
            body: " \n".into(),
            ..JobForm::default()
        };
        let errors = form.compose().unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                Field::Name,
                Field::Partition,
                Field::Nodes,
                Field::Mem,
                Field::Time,
                Field::Array,
                Field::Extra,
                Field::Extra,
                Field::Body
            ],
            "{errors:?}"
        );
        assert!(errors[0].message.contains("control characters"), "{}", errors[0].message);
        assert!(errors[6].message.contains("no-such-option"), "{}", errors[6].message);
    }

    #[test]
    fn an_empty_form_field_is_left_to_the_site() {
        let form = JobForm { body: "hostname\n".into(), ..JobForm::default() };
        assert_eq!(form.compose().unwrap(), "#!/bin/bash\n\nhostname\n");
    }
}
