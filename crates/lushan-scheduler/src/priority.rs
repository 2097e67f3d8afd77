//! Job priority: the order the queue is tried in.
//!
//! [`Order::Fcfs`], [`Order::Sjf`] and [`Order::F1`] are static keys (the
//! last from Carastan-Santos and de Camargo's learned F1 function, used by
//! RLScheduler's baselines). [`Order::Multifactor`] is Slurm's
//! `priority/multifactor`: a weighted sum of factors in `[0, 1]`, with the
//! fair-share factor from [`crate::fairshare`]. docs/scheduling.md lists
//! where it differs from Slurm.

/// How the queue is ordered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Order {
    /// Submission time.
    Fcfs,
    /// Shortest estimate first, then submission time.
    Sjf,
    /// `log10(estimate) * procs + 870 * log10(submit)`, smallest first.
    F1,
    Multifactor(Weights),
}

/// Slurm's `PriorityWeight*` settings and `PriorityMaxAge`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    pub age: u32,
    pub fairshare: u32,
    pub job_size: u32,
    pub partition: u32,
    pub qos: u32,
    /// Seconds after which the age factor stays at 1 (`PriorityMaxAge`).
    pub max_age: i64,
}

impl Default for Weights {
    /// The weights many centres start from: fair-share and QOS first (a QOS
    /// is an operator's explicit promise), then age and partition, a little
    /// job size. With one QOS at priority 0 and every partition at factor
    /// 1, the QOS and partition terms are the same for every job.
    fn default() -> Self {
        Weights { age: 1000, fairshare: 10_000, job_size: 100, partition: 1000, qos: 10_000, max_age: 7 * 24 * 3600 }
    }
}

/// What multifactor priority looks at for one job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factors {
    /// Seconds since the job became eligible.
    pub age: i64,
    /// The user's fair-share factor, in `[0, 1]`.
    pub fairshare: f64,
    /// Processors asked for, and the partition's total.
    pub procs: u64,
    pub total_procs: u64,
    /// The partition's and QOS's normalised priority, in `[0, 1]`.
    pub partition: f64,
    pub qos: f64,
}

/// Each factor times its weight: the parts of a job's priority, as
/// `sprio` prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Weighted {
    pub age: f64,
    pub fairshare: f64,
    pub job_size: f64,
    pub partition: f64,
    pub qos: f64,
}

impl Weighted {
    /// Slurm's job priority: the sum, truncated to an integer as Slurm
    /// does. Larger runs first.
    pub fn total(&self) -> u64 {
        (self.age + self.fairshare + self.job_size + self.partition + self.qos) as u64
    }
}

/// Each factor of `factors`, normalised to `[0, 1]` as Slurm does, times
/// its weight.
pub fn weighted(weights: &Weights, factors: &Factors) -> Weighted {
    let age = if weights.max_age <= 0 {
        1.0
    } else {
        (factors.age.clamp(0, weights.max_age) as f64) / (weights.max_age as f64)
    };
    let size = if factors.total_procs == 0 {
        0.0
    } else {
        (factors.procs.min(factors.total_procs) as f64) / (factors.total_procs as f64)
    };
    Weighted {
        age: f64::from(weights.age) * age,
        fairshare: f64::from(weights.fairshare) * factors.fairshare.clamp(0.0, 1.0),
        job_size: f64::from(weights.job_size) * size,
        partition: f64::from(weights.partition) * factors.partition.clamp(0.0, 1.0),
        qos: f64::from(weights.qos) * factors.qos.clamp(0.0, 1.0),
    }
}

/// Slurm's job priority: `sum(weight * factor)`, truncated to an integer as
/// Slurm does. Larger runs first.
pub fn multifactor(weights: &Weights, factors: &Factors) -> u64 {
    weighted(weights, factors).total()
}

/// RLScheduler's F1 score (smaller runs first). Non-positive inputs count as
/// 0.1, as in its reference code, so the logarithms stay finite.
pub fn f1_score(estimate: i64, procs: u64, submit: i64) -> f64 {
    let positive = |v: i64| if v > 0 { v as f64 } else { 0.1 };
    positive(estimate).log10() * procs as f64 + 870.0 * positive(submit).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multifactor_weighs_each_factor() {
        let weights = Weights { age: 100, fairshare: 1000, job_size: 10, partition: 0, qos: 0, max_age: 100 };
        let factors = Factors { age: 50, fairshare: 0.5, procs: 5, total_procs: 10, partition: 0.0, qos: 0.0 };
        assert_eq!(multifactor(&weights, &factors), 50 + 500 + 5);
        let old = Factors { age: 1_000_000, ..factors };
        assert_eq!(multifactor(&weights, &old), 100 + 500 + 5);
    }

    #[test]
    fn f1_prefers_short_small_early_jobs() {
        assert!(f1_score(10, 1, 1000) < f1_score(1000, 1, 1000));
        assert!(f1_score(100, 1, 1000) < f1_score(100, 64, 1000));
        assert!(f1_score(0, 1, 0).is_finite());
    }
}
