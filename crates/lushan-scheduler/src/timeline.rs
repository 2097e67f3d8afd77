//! Free resources over time: the step function both planners reserve on.
//! [`crate::pool`] uses it with a count of processors, [`crate::cluster`]
//! with a node's cores, memory and GPUs.

/// What a timeline counts: amounts that can be compared with a need, added
/// and taken away.
pub trait Resources: Copy {
    /// Whether `self` has at least `need` of everything.
    fn covers(&self, need: &Self) -> bool;
    fn plus(self, other: &Self) -> Self;
    /// Saturating: never below nothing.
    fn minus(self, other: &Self) -> Self;
}

impl Resources for u64 {
    fn covers(&self, need: &u64) -> bool {
        self >= need
    }
    fn plus(self, other: &u64) -> u64 {
        self.saturating_add(*other)
    }
    fn minus(self, other: &u64) -> u64 {
        self.saturating_sub(*other)
    }
}

/// A step function: `steps[i] = (from, free)` holds from `from` until the
/// next step. The first step is `now`.
#[derive(Clone, Debug)]
pub struct Timeline<R> {
    steps: Vec<(i64, R)>,
}

impl<R: Resources> Timeline<R> {
    /// What is free at `now` if nothing starts: `free` now, plus each of
    /// `releases` (sorted by time) given back at its time. A release at or
    /// before `now` belongs to a job past its expected end that has not
    /// ended: its resources may come back any moment but are not free now,
    /// so they count from `now + 1` (counting them now started jobs on
    /// resources still in use).
    pub fn new(now: i64, free: R, releases: impl IntoIterator<Item = (i64, R)>) -> Timeline<R> {
        let mut steps = vec![(now, free)];
        let mut current = free;
        for (end, amount) in releases {
            current = current.plus(&amount);
            let at = end.max(now.saturating_add(1));
            match steps.last_mut() {
                Some(last) if last.0 == at => last.1 = current,
                _ => steps.push((at, current)),
            }
        }
        Timeline { steps }
    }

    /// What is free at the first instant.
    pub fn now(&self) -> R {
        self.steps[0].1
    }

    /// When the free amount changes (the first is now).
    pub fn changes(&self) -> impl Iterator<Item = i64> + '_ {
        self.steps.iter().map(|s| s.0)
    }

    /// Whether `need` is free over `[start, end)`.
    pub fn fits(&self, start: i64, end: i64, need: &R) -> bool {
        let first = self.index_at(start);
        self.steps[first..].iter().take_while(|s| s.0 < end).all(|s| s.1.covers(need))
    }

    /// The earliest change from which `need` is free for `duration` (at
    /// least 1).
    pub fn earliest(&self, duration: i64, need: &R) -> Option<i64> {
        let duration = duration.max(1);
        let mut candidate = 0;
        while candidate < self.steps.len() {
            let start = self.steps[candidate].0;
            let end = start.saturating_add(duration);
            match self.steps[candidate..].iter().take_while(|s| s.0 < end).position(|s| !s.1.covers(need)) {
                None => return Some(start),
                Some(offset) => candidate += offset + 1,
            }
        }
        None
    }

    /// Takes `need` over `[start, end)` (it must be free).
    pub fn take(&mut self, start: i64, end: i64, need: &R) {
        let first = self.split(start);
        let last = self.split(end);
        for step in &mut self.steps[first..last] {
            step.1 = step.1.minus(need);
        }
    }

    /// Gives `amount` back over `[start, end)`: a running job that will end
    /// at `start` instead of at `end` (an owner's preemption).
    pub fn give(&mut self, start: i64, end: i64, amount: &R) {
        if start >= end {
            return;
        }
        let first = self.split(start);
        let last = self.split(end);
        for step in &mut self.steps[first..last] {
            step.1 = step.1.plus(amount);
        }
    }

    /// The index of the step in force at `time`.
    fn index_at(&self, time: i64) -> usize {
        self.steps.partition_point(|s| s.0 <= time).saturating_sub(1)
    }

    /// Makes `time` a step boundary and returns its index.
    fn split(&mut self, time: i64) -> usize {
        let index = self.index_at(time);
        if self.steps[index].0 == time || time < self.steps[0].0 {
            return index;
        }
        let free = self.steps[index].1;
        self.steps.insert(index + 1, (time, free));
        index + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_earliest_window_and_takes_it() {
        let mut timeline = Timeline::new(0, 2u64, [(10, 2), (20, 4)]);
        assert_eq!(timeline.earliest(5, &4), Some(10));
        assert_eq!(timeline.earliest(5, &8), Some(20));
        assert_eq!(timeline.earliest(5, &9), None);
        timeline.take(10, 15, &4);
        assert!(!timeline.fits(12, 13, &1));
        assert!(timeline.fits(15, 20, &4));
        assert_eq!(timeline.earliest(100, &3), Some(15));
    }

    #[test]
    fn giving_back_early_frees_the_interval_only() {
        let mut timeline = Timeline::new(0, 0u64, [(100, 4)]);
        timeline.give(10, 100, &4);
        assert_eq!(timeline.now(), 0);
        assert_eq!(timeline.earliest(50, &4), Some(10));
        assert_eq!(timeline.changes().collect::<Vec<_>>(), [0, 10, 100]);
        assert!(timeline.fits(100, 200, &4));
        timeline.give(300, 200, &4);
        assert!(!timeline.fits(0, 10, &1));
    }

    #[test]
    fn overdue_releases_are_not_free_now() {
        let timeline = Timeline::new(10, 2u64, [(5, 4), (50, 4)]);
        assert_eq!(timeline.now(), 2);
        assert_eq!(timeline.changes().collect::<Vec<_>>(), [10, 11, 50]);
        assert_eq!(timeline.earliest(100, &6), Some(11));
    }
}
