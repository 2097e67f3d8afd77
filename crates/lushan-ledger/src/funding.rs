//! Which price applies to a job, and which grants can pay for it: the
//! rules of choosing, kept out of the store and the service.

use lushan_model::GrantId;

/// How specific a price row is for a job in `partition` (`None`: the site
/// as a whole) with `qos`: lower wins, `None` when the row does not apply.
/// A row names a partition or none (every partition) and a QOS or `""`
/// (every QOS); partition outranks QOS.
pub fn price_rank(row_partition: Option<i64>, row_qos: &str, partition: Option<i64>, qos: &str) -> Option<u8> {
    if row_partition.is_some() && row_partition != partition {
        return None;
    }
    if !row_qos.is_empty() && row_qos != qos {
        return None;
    }
    Some(u8::from(row_partition.is_none()) * 2 + u8::from(row_qos.is_empty()))
}

/// What decides whether a grant can pay for a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantTerms {
    pub id: GrantId,
    pub approved: bool,
    /// First instant it pays, and the first instant it no longer does.
    pub starts_at: i64,
    pub ends_at: i64,
    /// `None`: every site (partition).
    pub site: Option<i64>,
    pub partition: Option<i64>,
}

impl GrantTerms {
    /// Whether it can pay at `now` for a job on `site`/`partition`.
    pub fn covers(&self, site: i64, partition: i64, now: i64) -> bool {
        self.approved
            && self.starts_at <= now
            && now < self.ends_at
            && self.site.is_none_or(|s| s == site)
            && self.partition.is_none_or(|p| p == partition)
    }
}

/// The grants that can pay for a job, in the order they are spent: the one
/// that expires first, then the oldest.
pub fn grants_covering(
    grants: impl IntoIterator<Item = GrantTerms>,
    site: i64,
    partition: i64,
    now: i64,
) -> Vec<GrantId> {
    let mut covering: Vec<GrantTerms> = grants.into_iter().filter(|g| g.covers(site, partition, now)).collect();
    covering.sort_by_key(|g| (g.ends_at, g.id));
    covering.into_iter().map(|g| g.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_price_wins_and_others_do_not_apply() {
        let rank = |row_partition, row_qos| price_rank(row_partition, row_qos, Some(7), "normal");
        assert_eq!(rank(Some(7), "normal"), Some(0));
        assert_eq!(rank(Some(7), ""), Some(1));
        assert_eq!(rank(None, "normal"), Some(2));
        assert_eq!(rank(None, ""), Some(3));
        assert_eq!(rank(Some(8), ""), None);
        assert_eq!(rank(None, "high"), None);
        // For the site as a whole, only site-wide rows apply.
        assert_eq!(price_rank(Some(7), "", None, ""), None);
        assert_eq!(price_rank(None, "", None, ""), Some(3));
    }

    #[test]
    fn grants_pay_in_their_period_and_scope_the_one_ending_first_first() {
        let grant = |id, ends_at, partition| GrantTerms {
            id: GrantId(id),
            approved: true,
            starts_at: 100,
            ends_at,
            site: Some(1),
            partition,
        };
        let grants = [grant(1, 900, None), grant(2, 500, None), grant(3, 400, Some(9)), grant(4, 300, None)];
        assert_eq!(grants_covering(grants, 1, 5, 350), [GrantId(2), GrantId(1)]);
        assert_eq!(grants_covering(grants, 1, 9, 200), [GrantId(4), GrantId(3), GrantId(2), GrantId(1)]);
        assert_eq!(grants_covering(grants, 1, 5, 99), []);
        assert_eq!(grants_covering(grants, 2, 5, 200), []);
        let requested = GrantTerms { approved: false, ..grant(5, 900, None) };
        assert!(!requested.covers(1, 5, 200));
    }
}
