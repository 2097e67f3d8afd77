//! One queue over several sites. A job that names no site (no `-M`) goes
//! to the site that can start it soonest at a price its funding covers:
//! every active site is tried (`Services::place`: the same checks as a
//! job that names it), each that can run it gets an estimated start
//! (`Control::estimate_start`) and a quote, and the first by (covered by
//! its funding, earliest start, lowest worst case, name) wins. The choice
//! and why are recorded on the job (`route`, shown by `lushan show`).
//! `lushan submit --quote` shows the same table without submitting.

use super::billing::Quote;
use super::jobs::Placement;
use super::{ServiceError, Services};
use lushan_model::Status;
use lushan_store::SiteRecord;

/// One site's answer to a job: where it would run, when, and for how much;
/// or why it cannot.
pub struct SiteOption<'s> {
    pub site: &'s SiteRecord,
    pub outcome: Result<(Placement<'s>, Option<i64>), ServiceError>,
}

/// One line of `lushan submit --quote`.
#[derive(Clone, Debug)]
pub struct SiteQuoteRow {
    pub site: String,
    /// Epoch ms; `None` when the site gives no estimate.
    pub estimated_start: Option<i64>,
    pub quote: Option<Quote>,
    /// Why the site cannot run the job.
    pub refused: Option<String>,
    pub chosen: bool,
}

impl Services {
    /// Every active site's answer to a job.
    pub(super) async fn candidates<'s>(
        &self,
        ask: &super::jobs::Ask<'_>,
        sites: &'s [SiteRecord],
        now: i64,
    ) -> Result<Vec<SiteOption<'s>>, ServiceError> {
        let mut out = Vec::new();
        for site in sites.iter().filter(|s| s.status == Status::Active) {
            let outcome = match self.place(ask, site, now).await {
                Ok(placement) => {
                    let start = match &self.control {
                        Some(control) => control.estimate_start(site, &placement.probe).await,
                        None => None,
                    };
                    Ok((placement, start))
                }
                // The database failing is not the site's answer.
                Err(err @ (ServiceError::Unavailable(_) | ServiceError::Internal(_))) => return Err(err),
                Err(err) => Err(err),
            };
            out.push(SiteOption { site, outcome });
        }
        Ok(out)
    }
}

/// Sorts best first: covered by its funding, earliest start (to the
/// minute: estimates taken a few ms apart are the same start), lowest
/// worst case, then by name so that the choice is deterministic.
fn rank(a: &(Placement<'_>, Option<i64>), now: i64) -> (bool, i64, i64, String) {
    let (placement, start) = a;
    let minute = start.map_or(i64::MAX, |at| (at - now).max(0) / 60_000);
    (!placement.quote.covered(), minute, placement.quote.total(), placement.site.name.clone())
}

/// Picks the site (`named`, if the user named one) and says why; fills
/// `rows` with every site's answer.
pub fn choose<'s>(
    options: Vec<SiteOption<'s>>,
    named: Option<&str>,
    now: i64,
    rows: &mut Vec<SiteQuoteRow>,
) -> Result<(Placement<'s>, String), ServiceError> {
    let several = options.len() > 1;
    let mut fine: Vec<(Placement<'s>, Option<i64>)> = Vec::new();
    let mut refusals: Vec<(String, ServiceError)> = Vec::new();
    for option in options {
        match option.outcome {
            Ok(ok) => fine.push(ok),
            Err(err) => refusals.push((option.site.name.clone(), err)),
        }
    }
    fine.sort_by_cached_key(|option| rank(option, now));
    let position = match named {
        Some(name) => fine.iter().position(|(p, _)| p.site.name == name),
        None => (!fine.is_empty()).then_some(0),
    };
    for (index, (placement, start)) in fine.iter().enumerate() {
        rows.push(SiteQuoteRow {
            site: placement.site.name.clone(),
            estimated_start: *start,
            quote: Some(placement.quote.clone()),
            refused: None,
            chosen: Some(index) == position,
        });
    }
    for (site, err) in &refusals {
        rows.push(SiteQuoteRow {
            site: site.clone(),
            estimated_start: None,
            quote: None,
            refused: Some(err.to_string()),
            chosen: false,
        });
    }
    let Some(position) = position else {
        if let Some(name) = named {
            return match refusals.into_iter().find(|(site, _)| site == name) {
                Some((_, err)) => Err(err),
                None => Err(ServiceError::Invalid(format!("unknown site `{name}`"))),
            };
        }
        if refusals.len() == 1 {
            return Err(refusals.remove(0).1);
        }
        let why: Vec<String> = refusals.iter().map(|(site, err)| format!("{site}: {err}")).collect();
        return Err(ServiceError::Invalid(format!("no site can run this job:\n  {}", why.join("\n  "))));
    };
    let note = if named.is_none() && several { route_note(&fine, position, &refusals, now) } else { String::new() };
    let (placement, _) = fine.swap_remove(position);
    Ok((placement, note))
}

/// `hpc1: starts now, at most 3.60 CNY from the wallet of tenant jxu;
/// local: in ~12 min, at most 1.20 CNY; gpu: cannot (...)`.
fn route_note(
    fine: &[(Placement<'_>, Option<i64>)],
    chosen: usize,
    refusals: &[(String, ServiceError)],
    now: i64,
) -> String {
    let line = |placement: &Placement<'_>, start: Option<i64>| {
        format!(
            "{}: starts {}, at most {}{}",
            placement.site.name,
            when(start, now),
            placement.quote.amount_text(placement.quote.total()),
            if placement.quote.covered() { String::new() } else { " (not covered by its funding)".into() }
        )
    };
    let (placement, start) = &fine[chosen];
    let mut parts =
        vec![format!("{} from {} (soonest start, then lowest price)", line(placement, *start), placement.quote.payer)];
    for (index, (other, start)) in fine.iter().enumerate() {
        if index != chosen {
            parts.push(line(other, *start));
        }
    }
    for (site, err) in refusals {
        let first = err.to_string();
        let first = first.lines().next().unwrap_or_default().to_owned();
        parts.push(format!("{site}: cannot run it ({first})"));
    }
    parts.join("; ")
}

/// An estimated start in words, relative to `now`.
pub fn when(start: Option<i64>, now: i64) -> String {
    match start {
        None => "at an unknown time".into(),
        Some(at) if at < now + 60_000 => "now".into(),
        Some(at) => {
            let mins = (at - now + 59_999) / 60_000;
            if mins < 120 { format!("in ~{mins} min") } else { format!("in ~{} h", (mins + 59) / 60) }
        }
    }
}
