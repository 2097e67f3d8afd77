//! Managing people and money: members, grant requests and reviews, tenants, users, projects, wallets.
//!
//! Every page and form calls the same services as the REST API, which
//! decide what the caller may see and do; the menu links and the forms a
//! page shows only follow the caller's role. A refused form shows the page
//! again with the localized reason beside it and what was typed, with the
//! refusal's status (400, 403, 404, 409); a form that worked answers 303.

use lushan_portal::i18n::Texts;
use lushan_portal::views::manage::{GrantView, ReviewRow};

mod grants;
mod people;
mod project;

pub(super) fn routes() -> Vec<super::Route> {
    let mut routes = people::routes();
    routes.extend(project::routes());
    routes.extend(grants::routes());
    routes
}

/// An API grant as the portal shows it.
fn grant_view(t: &'static Texts, g: lushan_api::Grant) -> GrantView {
    let scope = match (&g.site, &g.partition) {
        (None, _) => t.manage.every_site.to_owned(),
        (Some(site), None) => site.clone(),
        (Some(site), Some(partition)) => format!("{site} / {partition}"),
    };
    GrantView {
        id: g.id,
        project: g.project,
        tenant: g.tenant,
        state_text: t.manage.grant_state(&g.state).to_owned(),
        state: g.state,
        core_hours: g.requested_core_hours,
        gpu_hours: g.requested_gpu_hours,
        awarded: g.awarded_su.unwrap_or_default(),
        used: g.used_su,
        remaining: g.remaining_su,
        from: g.from,
        to: g.to,
        scope,
        reason: g.reason,
        decision_reason: g.decision_reason,
        requested_by: g.requested_by,
        requested_at: super::local_time(&g.requested_at),
        renews: g.renews,
        reviews: g
            .reviews
            .into_iter()
            .map(|r| ReviewRow {
                reviewer: r.reviewer,
                score: r.score,
                comment: r.comment,
                time: super::local_time(&r.time),
            })
            .collect(),
    }
}
