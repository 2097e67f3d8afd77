//! `/api/v1`: one file per resource, handlers next to their OpenAPI
//! description. Each handler extracts typed input, calls one service
//! function and converts the result with `to_api`.

pub mod billing;
pub mod files;
pub mod grants;
pub mod jobs;
pub mod limits;
pub mod projects;
pub mod reports;
pub mod session;
pub mod sites;
pub mod templates;
pub mod tenants;
pub mod users;

use super::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every API route. The OpenAPI document and the tenancy test are both
/// generated from this table.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::login))
        .routes(routes!(session::whoami))
        .routes(routes!(session::password_change))
        .routes(routes!(session::language_set))
        .routes(routes!(session::tokens_list, session::tokens_create))
        .routes(routes!(session::tokens_revoke))
        .routes(routes!(tenants::tenants_list, tenants::tenants_create))
        .routes(routes!(tenants::tenants_show))
        .routes(routes!(tenants::tenants_disable))
        .routes(routes!(tenants::tenants_enable))
        .routes(routes!(users::users_list, users::users_create))
        .routes(routes!(users::users_show))
        .routes(routes!(users::users_disable))
        .routes(routes!(users::users_enable))
        .routes(routes!(projects::projects_list, projects::projects_create))
        .routes(routes!(projects::projects_show))
        .routes(routes!(projects::projects_disable))
        .routes(routes!(projects::projects_enable))
        .routes(routes!(projects::members_add))
        .routes(routes!(projects::members_remove))
        .routes(routes!(files::files_list, files::files_remove))
        .routes(routes!(files::files_download, files::files_upload))
        .routes(routes!(files::files_mkdir))
        .routes(routes!(files::files_move))
        .routes(routes!(sites::sites_list, sites::sites_create))
        .routes(routes!(sites::site_check))
        .routes(routes!(sites::site_sync))
        .routes(routes!(sites::node_owner_set))
        .routes(routes!(sites::partition_preemption_set))
        .routes(routes!(sites::partition_priority_set))
        .routes(routes!(sites::audit_list))
        .routes(routes!(jobs::jobs_list, jobs::jobs_create))
        .routes(routes!(jobs::jobs_show))
        .routes(routes!(jobs::jobs_cancel))
        .routes(routes!(jobs::jobs_hold))
        .routes(routes!(jobs::jobs_release))
        .routes(routes!(jobs::jobs_output))
        .routes(routes!(jobs::jobs_signal))
        .routes(routes!(templates::templates_list, templates::templates_create))
        .routes(routes!(templates::templates_show, templates::templates_update, templates::templates_delete))
        .routes(routes!(billing::jobs_estimate))
        .routes(routes!(billing::jobs_quote))
        .routes(routes!(billing::wallet_show))
        .routes(routes!(billing::wallet_top_up))
        .routes(routes!(billing::wallet_adjust))
        .routes(routes!(billing::wallet_credit_limit))
        .routes(routes!(billing::statement_show))
        .routes(routes!(billing::prices_list, billing::prices_set))
        .routes(routes!(billing::discounts_set))
        .routes(routes!(billing::owner_share_set))
        .routes(routes!(billing::preemptible_discount_set))
        .routes(routes!(limits::limits_list))
        .routes(routes!(limits::limits_set))
        .routes(routes!(limits::member_limits_set))
        .routes(routes!(limits::qos_list))
        .routes(routes!(limits::qos_set))
        .routes(routes!(reports::usage_report))
        .routes(routes!(reports::settlement_show))
        .routes(routes!(grants::grants_list, grants::grants_request))
        .routes(routes!(grants::grants_show))
        .routes(routes!(grants::grants_review))
        .routes(routes!(reports::grant_usage))
        .routes(routes!(grants::grants_approve))
        .routes(routes!(grants::grants_reject))
}

/// The service's filter for a list's query (`?q=&status=&tenant=`).
pub(crate) fn list_filter(
    query: &lushan_api::ListQuery,
) -> Result<crate::service::ListFilter, crate::service::ServiceError> {
    let lushan_api::ListQuery { q, status, tenant } = query;
    // The document's words exactly (the portal's form also sends an empty
    // one, for "any"; here that is left out).
    if let Some(status) = status
        && !matches!(status.as_str(), "active" | "disabled")
    {
        return Err(crate::service::ServiceError::Invalid(format!(
            "status is active or disabled (leave it out for both), not `{}`",
            status.chars().take(16).collect::<String>()
        )));
    }
    crate::service::ListFilter::parse(
        q.as_deref().unwrap_or_default(),
        status.as_deref().unwrap_or_default(),
        tenant.as_deref().unwrap_or_default(),
    )
}
