//! Reports: usage by a dimension, and co-builders' settlements.

use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, to_api};
use crate::service::{Caller, StatementPeriod, day_start};
use axum::extract::State;
use lushan_api::{ErrorBody, GrantUsageQuery, Settlement, StatementQuery, UsageReport, UsageReportQuery};

/// Core-hours, GPU-hours, CNY charged, SU used and public-welfare core-hours
/// of the jobs settled in a period, by sector, tenant, project, partition or
/// user (operators: all; tenant admins: their tenant; others: their jobs and
/// their led projects'), optionally of one project's jobs only.
#[utoipa::path(get, path = "/api/v1/reports/usage", tag = "billing", security(("bearer" = [])), params(UsageReportQuery),
    responses((status = 200, body = UsageReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn usage_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UsageReportQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    let today = jiff::Timestamp::from_millisecond(crate::clock::now_ms())
        .map_err(|e| crate::service::ServiceError::Internal(e.to_string()))?
        .to_zoned(jiff::tz::TimeZone::system())
        .date();
    let by = query.by.unwrap_or_else(|| "tenant".into());
    let from_day = query.from.unwrap_or_else(|| today.first_of_month().to_string());
    let to_day = query.to.unwrap_or_else(|| today.to_string());
    let (from_ms, to_ms) = (day_start(&from_day, 0)?, day_start(&to_day, 1)?);
    let rows = state.services.usage_report(&caller, &by, query.project.as_deref(), from_ms, to_ms).await?;
    Ok(Json(to_api::usage_report(&by, &from_day, &to_day, rows)))
}

/// What a grant request's project used in a period (default: the year up
/// to today), for reviewers, operators, the tenant's admins and the
/// project's PI and managers: one row keyed by the project, and the total.
#[utoipa::path(get, path = "/api/v1/grants/{id}/usage", tag = "grants", security(("bearer" = [])),
    params(("id" = i64, Path, description = "grant id"), GrantUsageQuery),
    responses((status = 200, body = UsageReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grant_usage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<GrantUsageQuery>,
) -> Result<Json<UsageReport>, ApiError> {
    let (from_day, to_day) = grant_usage_period(query.from, query.to)?;
    let (from, to) = (day_start(&from_day, 0)?, day_start(&to_day, 1)?);
    let (_, row) = state.services.grant_project_usage(&caller, id, from, to).await?;
    Ok(Json(to_api::usage_report("project", &from_day, &to_day, row.into_iter().collect())))
}

/// The days a grant's usage covers: as asked, else the year up to today.
pub fn grant_usage_period(from: Option<String>, to: Option<String>) -> Result<(String, String), ApiError> {
    let today = jiff::Timestamp::from_millisecond(crate::clock::now_ms())
        .map_err(|e| crate::service::ServiceError::Internal(e.to_string()))?
        .to_zoned(jiff::tz::TimeZone::system())
        .date();
    let year_ago = today.checked_sub(jiff::Span::new().years(1)).unwrap_or(today);
    Ok((from.unwrap_or_else(|| year_ago.to_string()), to.unwrap_or_else(|| today.to_string())))
}

/// A co-builder's month: what ran on its nodes, who ran it, what it earned
/// (its tenant admins, operators).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/settlement", tag = "billing", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "the co-builder tenant"), StatementQuery),
    responses((status = 200, body = Settlement), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn settlement_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Query(query): Query<StatementQuery>,
) -> Result<Json<Settlement>, ApiError> {
    let period = match &query.month {
        Some(month) => StatementPeriod::month(month)?,
        None => StatementPeriod::containing(crate::clock::now_ms())?,
    };
    let settlement = state.services.settlement(&caller, Some(&tenant), &period).await?;
    Ok(Json(to_api::settlement(&period.label, settlement)))
}
