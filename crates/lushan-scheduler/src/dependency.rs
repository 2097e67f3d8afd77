//! Whether a job's `--dependency` is met, as Slurm defines each kind.
//! Pure: the caller passes what it knows of the jobs referenced, and `now`.

use lushan_model::{Dependency, DependencyCondition, JobRef, JobState};

/// What is known of one job (or array task) a dependency names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefState {
    pub state: JobState,
    pub start_time: Option<i64>,
    pub exit_code: Option<i64>,
}

/// A dependency's status now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyStatus {
    Satisfied,
    Waiting,
    /// It can never be met; the job stays pending with DependencyNeverSatisfied.
    Never,
}

fn ended_ok(r: &RefState) -> bool {
    r.state == JobState::Completed && r.exit_code.unwrap_or(0) == 0
}

/// `refs(job_ref)` lists the states of the job, or of every task of an
/// array when the reference names the array; empty if unknown.
/// `singleton_clear` is whether no other job of the same user and name runs.
pub fn evaluate(
    dependency: &Dependency,
    refs: &dyn Fn(JobRef) -> Vec<RefState>,
    singleton_clear: bool,
    now: i64,
) -> DependencyStatus {
    let statuses: Vec<DependencyStatus> =
        dependency.conditions.iter().map(|c| condition(c, refs, singleton_clear, now)).collect();
    if dependency.any {
        if statuses.contains(&DependencyStatus::Satisfied) {
            DependencyStatus::Satisfied
        } else if statuses.iter().all(|s| *s == DependencyStatus::Never) {
            DependencyStatus::Never
        } else {
            DependencyStatus::Waiting
        }
    } else if statuses.contains(&DependencyStatus::Never) {
        DependencyStatus::Never
    } else if statuses.iter().all(|s| *s == DependencyStatus::Satisfied) {
        DependencyStatus::Satisfied
    } else {
        DependencyStatus::Waiting
    }
}

fn condition(
    c: &DependencyCondition,
    refs: &dyn Fn(JobRef) -> Vec<RefState>,
    singleton_clear: bool,
    now: i64,
) -> DependencyStatus {
    use DependencyStatus::{Never, Satisfied, Waiting};
    let all_ended = |states: &[RefState]| states.iter().all(|r| r.state.is_final());
    match c {
        DependencyCondition::Singleton => {
            if singleton_clear {
                Satisfied
            } else {
                Waiting
            }
        }
        DependencyCondition::After { job, delay_mins } => {
            let states = refs(*job);
            if states.is_empty() {
                return Never;
            }
            // Started (plus the delay) or cancelled before starting.
            let ready = states.iter().all(|r| match r.start_time {
                Some(start) => start + i64::from(*delay_mins) * 60_000 <= now,
                None => r.state.is_final(),
            });
            if ready { Satisfied } else { Waiting }
        }
        DependencyCondition::AfterAny(job) => {
            let states = refs(*job);
            match (states.is_empty(), all_ended(&states)) {
                (true, _) => Never,
                (false, true) => Satisfied,
                (false, false) => Waiting,
            }
        }
        DependencyCondition::AfterOk(job) => {
            let states = refs(*job);
            if states.is_empty() || states.iter().any(|r| r.state.is_final() && !ended_ok(r)) {
                Never
            } else if all_ended(&states) {
                Satisfied
            } else {
                Waiting
            }
        }
        DependencyCondition::AfterNotOk(job) => {
            let states = refs(*job);
            if states.is_empty() {
                Never
            } else if !all_ended(&states) {
                Waiting
            } else if states.iter().any(|r| !ended_ok(r)) {
                Satisfied
            } else {
                Never
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lushan_model::JobRef;

    fn r(state: JobState, start: Option<i64>, exit: Option<i64>) -> RefState {
        RefState { state, start_time: start, exit_code: exit }
    }

    fn dep(conditions: Vec<DependencyCondition>, any: bool) -> Dependency {
        Dependency { conditions, any, text: String::new() }
    }

    fn job(id: u64) -> JobRef {
        JobRef { job_id: id, task_id: None }
    }

    #[test]
    fn each_kind_as_slurm_defines_it() {
        use DependencyStatus::*;
        use JobState::*;
        let table: Vec<(DependencyCondition, RefState, DependencyStatus)> = vec![
            (DependencyCondition::AfterOk(job(1)), r(Running, Some(0), None), Waiting),
            (DependencyCondition::AfterOk(job(1)), r(Completed, Some(0), Some(0)), Satisfied),
            (DependencyCondition::AfterOk(job(1)), r(Failed, Some(0), Some(2)), Never),
            (DependencyCondition::AfterOk(job(1)), r(Cancelled, None, None), Never),
            (DependencyCondition::AfterNotOk(job(1)), r(Completed, Some(0), Some(0)), Never),
            (DependencyCondition::AfterNotOk(job(1)), r(Timeout, Some(0), Some(0)), Satisfied),
            (DependencyCondition::AfterNotOk(job(1)), r(Pending, None, None), Waiting),
            (DependencyCondition::AfterAny(job(1)), r(Failed, Some(0), Some(1)), Satisfied),
            (DependencyCondition::AfterAny(job(1)), r(Running, Some(0), None), Waiting),
            (DependencyCondition::After { job: job(1), delay_mins: 0 }, r(Running, Some(0), None), Satisfied),
            (DependencyCondition::After { job: job(1), delay_mins: 2 }, r(Running, Some(0), None), Waiting),
            (DependencyCondition::After { job: job(1), delay_mins: 0 }, r(Pending, None, None), Waiting),
            (DependencyCondition::After { job: job(1), delay_mins: 0 }, r(Cancelled, None, None), Satisfied),
        ];
        for (condition, state, expected) in table {
            let refs = move |_: JobRef| vec![state];
            assert_eq!(
                evaluate(&dep(vec![condition.clone()], false), &refs, true, 60_000),
                expected,
                "{condition:?} on {state:?}"
            );
        }
    }

    #[test]
    fn all_and_any_and_unknown_jobs() {
        use DependencyStatus::*;
        let refs = |j: JobRef| match j.job_id {
            1 => vec![r(JobState::Completed, Some(0), Some(0))],
            2 => vec![r(JobState::Failed, Some(0), Some(1))],
            3 => vec![r(JobState::Running, Some(0), None)],
            _ => vec![],
        };
        let ok = |id| DependencyCondition::AfterOk(job(id));
        assert_eq!(evaluate(&dep(vec![ok(1), ok(3)], false), &refs, true, 0), Waiting);
        assert_eq!(evaluate(&dep(vec![ok(1), ok(2)], false), &refs, true, 0), Never);
        assert_eq!(evaluate(&dep(vec![ok(2), ok(1)], true), &refs, true, 0), Satisfied);
        assert_eq!(evaluate(&dep(vec![ok(2), ok(9)], true), &refs, true, 0), Never);
        assert_eq!(evaluate(&dep(vec![DependencyCondition::Singleton], false), &refs, false, 0), Waiting);
        // An array: every task counts.
        let tasks = |_: JobRef| vec![r(JobState::Completed, Some(0), Some(0)), r(JobState::Running, Some(0), None)];
        assert_eq!(evaluate(&dep(vec![ok(5)], false), &tasks, true, 0), Waiting);
    }
}
