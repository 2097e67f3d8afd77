//! Sites and the audit log.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::http::extract::{Json, Query};
use crate::http::{AppState, to_api};
use crate::service::NewSiteInput;
use crate::service::{AuditFilter, Caller};
use axum::extract::State;
use lushan_api::{
    AuditEvent, AuditQuery, ErrorBody, NodeOwner, PartitionPreemption, PartitionPriority, Site, SiteCheck, SiteCreate,
    SiteSync, SiteSyncChange, SiteSyncRequest,
};

/// Sites with their partitions and nodes.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])),
    responses((status = 200, body = Vec<Site>), (status = 401, body = ErrorBody)))]
pub async fn sites_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Site>>, ApiError> {
    let sites = state.services.list_sites(&caller).await?;
    let usage = state.services.node_usage(&caller).await?;
    Ok(Json(sites.into_iter().map(|s| to_api::site(s, &usage)).collect()))
}

/// The audit log, newest first (operators: all; tenant admins: their
/// tenant), filtered by action, actor, target kind and days; `limit` and
/// `offset` page through it.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<AuditEvent>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    let AuditQuery { limit, offset, action, actor, target_kind, from, to } = query;
    let filter = AuditFilter { action, actor, target_kind, from, to };
    let events = state.services.audit_log(&caller, &filter, offset, limit).await?;
    Ok(Json(events.into_iter().map(to_api::audit).collect()))
}

/// Record who co-built a node, or give it back to the centre (operators).
/// Guests' jobs that end on it afterwards are shared with its owner.
#[utoipa::path(put, path = "/api/v1/sites/{site}/nodes/{node}/owner", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path, description = "site name"), ("node" = String, Path, description = "node name")),
    request_body = NodeOwner,
    responses((status = 200, body = Vec<Site>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn node_owner_set(
    State(state): State<AppState>,
    caller: Caller,
    Path((site, node)): Path<(String, String)>,
    Json(body): Json<NodeOwner>,
) -> Result<Json<Vec<Site>>, ApiError> {
    state.services.set_node_owner(&caller, &site, &node, &body.owner, now_ms()).await?;
    let sites = state.services.list_sites(&caller).await?;
    let usage = state.services.node_usage(&caller).await?;
    Ok(Json(sites.into_iter().map(|s| to_api::site(s, &usage)).collect()))
}

/// Say what a partition does to guests on co-built nodes when the owner
/// needs them: off, cancel or requeue, after a grace time (operators).
#[utoipa::path(put, path = "/api/v1/sites/{site}/partitions/{partition}/preemption", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path, description = "site name"), ("partition" = String, Path, description = "partition name")),
    request_body = PartitionPreemption,
    responses((status = 200, body = Vec<Site>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn partition_preemption_set(
    State(state): State<AppState>,
    caller: Caller,
    Path((site, partition)): Path<(String, String)>,
    Json(body): Json<PartitionPreemption>,
) -> Result<Json<Vec<Site>>, ApiError> {
    state.services.set_partition_preemption(&caller, &site, &partition, &body.mode, body.grace_secs, now_ms()).await?;
    let sites = state.services.list_sites(&caller).await?;
    let usage = state.services.node_usage(&caller).await?;
    Ok(Json(sites.into_iter().map(|s| to_api::site(s, &usage)).collect()))
}

/// Set a partition's PriorityJobFactor, its weight in multifactor priority
/// (operators).
#[utoipa::path(put, path = "/api/v1/sites/{site}/partitions/{partition}/priority", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path, description = "site name"), ("partition" = String, Path, description = "partition name")),
    request_body = PartitionPriority,
    responses((status = 200, body = Vec<Site>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn partition_priority_set(
    State(state): State<AppState>,
    caller: Caller,
    Path((site, partition)): Path<(String, String)>,
    Json(body): Json<PartitionPriority>,
) -> Result<Json<Vec<Site>>, ApiError> {
    state.services.set_partition_priority(&caller, &site, &partition, body.priority_job_factor, now_ms()).await?;
    let sites = state.services.list_sites(&caller).await?;
    let usage = state.services.node_usage(&caller).await?;
    Ok(Json(sites.into_iter().map(|s| to_api::site(s, &usage)).collect()))
}

/// Add a Slurm site (operators): refused, and nothing stored, unless its
/// slurmrestd answers with the key given. Its partitions and nodes are read
/// at once and kept current.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", security(("bearer" = [])),
    request_body = SiteCreate,
    responses((status = 201, body = Site), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn sites_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SiteCreate>,
) -> Result<(axum::http::StatusCode, Json<Site>), ApiError> {
    let input = NewSiteInput {
        name: body.name,
        backend: body.backend,
        rest_url: body.rest_url,
        jwt_key: body.jwt_key,
        cli: body.cli,
        slurm_bin: body.slurm_bin,
        service_user: body.service_user,
        cluster: body.cluster,
    };
    let site = state.services.add_site(&caller, input, now_ms()).await?;
    let usage = state.services.node_usage(&caller).await?;
    Ok((axum::http::StatusCode::CREATED, Json(to_api::site(site, &usage))))
}

/// What works on a site and what does not (operators): key, slurmrestd,
/// authentication, slurmctld, slurmdbd, nodes.
#[utoipa::path(get, path = "/api/v1/sites/{site}/check", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path, description = "site name")),
    responses((status = 200, body = SiteCheck), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn site_check(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
) -> Result<Json<SiteCheck>, ApiError> {
    let items = state.services.check_site(&caller, &site).await?;
    Ok(Json(SiteCheck {
        site,
        ok: items.iter().all(|i| i.ok),
        items: items
            .into_iter()
            .map(|i| lushan_api::SiteCheckItem { what: i.what.to_owned(), ok: i.ok, detail: i.detail })
            .collect(),
    }))
}

/// Make a Slurm site's accounts, users and associations follow the
/// platform's tenants, projects and members (operators); with `dry_run`,
/// only say what differs. Refused (409) when slurmdbd does not answer or
/// does not take every change.
#[utoipa::path(post, path = "/api/v1/sites/{site}/sync", tag = "sites", security(("bearer" = [])),
    params(("site" = String, Path, description = "site name")),
    request_body = SiteSyncRequest,
    responses((status = 200, body = SiteSync), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn site_sync(
    State(state): State<AppState>,
    caller: Caller,
    Path(site): Path<String>,
    Json(body): Json<SiteSyncRequest>,
) -> Result<Json<SiteSync>, ApiError> {
    let outcome = state.services.sync_site(&caller, &site, body.dry_run, now_ms()).await?;
    Ok(Json(SiteSync {
        site,
        dry_run: body.dry_run,
        changes: outcome
            .changes
            .iter()
            .map(|c| SiteSyncChange {
                action: c.action().to_owned(),
                account: c.account().to_owned(),
                user: c.user().map(str::to_owned),
                detail: c.to_string(),
            })
            .collect(),
    }))
}
