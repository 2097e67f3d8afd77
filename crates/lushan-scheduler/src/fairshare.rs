//! Fair-share with Slurm's Fair Tree semantics, over any tree of
//! associations (the platform's is centre -> tenant -> project -> user; the
//! simulator's is root -> group -> user).
//!
//! Each association has shares and a usage decayed by a half-life (see
//! [`decay`]). At every level, siblings are ranked by their *level
//! fair-share* `S / U` (their fraction of the siblings' shares over their
//! fraction of the siblings' usage; no usage ranks first). A depth-first walk
//! in that order ranks every user; a user's factor is
//! `(users - rank) / users`, so the best-served user gets 1 over `users`
//! and the least-served gets 1. Users whose walks tie keep equal factors.

/// One association of the tree. Children name their parent by index; the
/// root has none. Usage is given on users (leaves); inner usage is the sum.
#[derive(Clone, Debug, PartialEq)]
pub struct Association {
    pub parent: Option<usize>,
    pub shares: u32,
    pub usage: f64,
}

/// Usage `seconds` ago, weighed by a half-life (`PriorityDecayHalfLife`);
/// a half-life of 0 means no decay.
pub fn decay(usage: f64, seconds: i64, half_life: i64) -> f64 {
    if half_life <= 0 || seconds <= 0 {
        return usage;
    }
    usage * (-(seconds as f64) / (half_life as f64)).exp2()
}

/// The fair-share factor of every association (leaves are the users; inner
/// associations get 0). Deterministic: ties keep index order.
pub fn fair_tree(associations: &[Association]) -> Vec<f64> {
    let n = associations.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (index, association) in associations.iter().enumerate() {
        match association.parent {
            Some(parent) if parent < n && parent != index => children[parent].push(index),
            _ => roots.push(index),
        }
    }
    // Inner usage is the sum of the subtree's; children come after parents
    // or before, so sum in a post-order walk.
    let mut usage: Vec<f64> = associations.iter().map(|a| a.usage.max(0.0)).collect();
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = roots.clone();
    while let Some(node) = stack.pop() {
        order.push(node);
        stack.extend(&children[node]);
    }
    for &node in order.iter().rev() {
        if !children[node].is_empty() {
            usage[node] = children[node].iter().map(|&c| usage[c]).sum();
        }
    }
    // Depth-first, siblings by level fair-share (highest first).
    let mut ranked: Vec<(usize, Vec<u64>)> = Vec::new();
    let mut walk: Vec<(usize, Vec<u64>)> = Vec::new();
    let sorted_level = |siblings: &[usize], usage: &[f64]| -> Vec<(usize, u64)> {
        let shares: f64 = siblings.iter().map(|&s| f64::from(associations[s].shares)).sum();
        let used: f64 = siblings.iter().map(|&s| usage[s]).sum();
        let mut level: Vec<(usize, f64)> = siblings
            .iter()
            .map(|&s| {
                let share = if shares > 0.0 { f64::from(associations[s].shares) / shares } else { 0.0 };
                let fraction = if used > 0.0 { usage[s] / used } else { 0.0 };
                let lf = if fraction > 0.0 { share / fraction } else { f64::INFINITY };
                (s, lf)
            })
            .collect();
        level.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Equal level fair-share gives an equal position.
        let mut out = Vec::with_capacity(level.len());
        let mut position = 0u64;
        for (i, &(s, lf)) in level.iter().enumerate() {
            if i > 0 && lf != level[i - 1].1 {
                position = i as u64;
            }
            out.push((s, position));
        }
        out
    };
    for (root, position) in sorted_level(&roots, &usage).into_iter().rev() {
        walk.push((root, vec![position]));
    }
    while let Some((node, path)) = walk.pop() {
        if children[node].is_empty() {
            ranked.push((node, path));
            continue;
        }
        for (child, position) in sorted_level(&children[node], &usage).into_iter().rev() {
            let mut child_path = path.clone();
            child_path.push(position);
            walk.push((child, child_path));
        }
    }
    let users = ranked.len() as f64;
    let mut factors = vec![0.0; n];
    let mut rank = 0usize;
    for i in 0..ranked.len() {
        if i > 0 && ranked[i].1 != ranked[i - 1].1 {
            rank = i;
        }
        factors[ranked[i].0] = (users - rank as f64) / users;
    }
    factors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assoc(parent: Option<usize>, shares: u32, usage: f64) -> Association {
        Association { parent, shares, usage }
    }

    #[test]
    fn the_less_served_user_ranks_first() {
        // root(0) -> a(1), b(2); a -> u3, u4; b -> u5.
        let tree = [
            assoc(None, 1, 0.0),
            assoc(Some(0), 1, 0.0),
            assoc(Some(0), 1, 0.0),
            assoc(Some(1), 1, 100.0),
            assoc(Some(1), 1, 10.0),
            assoc(Some(2), 1, 500.0),
        ];
        let f = fair_tree(&tree);
        // a used 110 of 610 with half the shares: a's users come first, the
        // lighter user of a first of all; b's only user last.
        assert_eq!(f[4], 1.0);
        assert!((f[3] - 2.0 / 3.0).abs() < 1e-12);
        assert!((f[5] - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((f[0], f[1], f[2]), (0.0, 0.0, 0.0));
    }

    #[test]
    fn users_without_usage_tie_at_the_top() {
        let tree = [assoc(None, 1, 0.0), assoc(Some(0), 1, 0.0), assoc(Some(0), 1, 0.0), assoc(Some(0), 1, 5.0)];
        let f = fair_tree(&tree);
        assert_eq!((f[1], f[2]), (1.0, 1.0));
        assert!((f[3] - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn usage_halves_every_half_life() {
        assert_eq!(decay(8.0, 20, 10), 2.0);
        assert_eq!(decay(8.0, 20, 0), 8.0);
    }
}
