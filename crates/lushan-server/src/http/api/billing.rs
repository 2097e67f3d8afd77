//! Money: wallets (top-ups, adjustments, credit limits), statements,
//! prices and discounts, and job estimates.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, to_api};
use crate::service::{Caller, SharingSetting, StatementPeriod};
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{
    Adjustment, CreditLimit, ErrorBody, JobEstimate, JobSubmit, Percent, Price, PriceList, PriceSet, SiteQuote,
    Statement, StatementQuery, TopUp, Wallet,
};

/// A tenant's wallet: balance, held, available, credit limit (its admins, operators).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/wallet", tag = "billing", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")),
    responses((status = 200, body = Wallet), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn wallet_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Wallet>, ApiError> {
    Ok(Json(to_api::wallet(state.services.balance(&caller, Some(&tenant)).await?)))
}

/// Money paid in by a tenant (operators). The reference is posted once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/wallet/top-ups", tag = "billing", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")), request_body = TopUp,
    responses((status = 201, body = Wallet), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn wallet_top_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Json(body): Json<TopUp>,
) -> Result<(StatusCode, Json<Wallet>), ApiError> {
    let now = now_ms();
    state.services.top_up(&caller, &tenant, &body.amount, &body.reference, now).await?;
    Ok((StatusCode::CREATED, Json(to_api::wallet(state.services.balance(&caller, Some(&tenant)).await?))))
}

/// A refund (positive) or debit (negative) with a reason (operators).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/wallet/adjustments", tag = "billing", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")), request_body = Adjustment,
    responses((status = 201, body = Wallet), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn wallet_adjust(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Json(body): Json<Adjustment>,
) -> Result<(StatusCode, Json<Wallet>), ApiError> {
    let now = now_ms();
    state.services.adjust(&caller, &tenant, &body.amount, &body.reference, &body.reason, now).await?;
    Ok((StatusCode::CREATED, Json(to_api::wallet(state.services.balance(&caller, Some(&tenant)).await?))))
}

/// How far below zero the wallet may go (operators).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/wallet/credit-limit", tag = "billing", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name")), request_body = CreditLimit,
    responses((status = 200, body = Wallet), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn wallet_credit_limit(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Json(body): Json<CreditLimit>,
) -> Result<Json<Wallet>, ApiError> {
    state.services.set_credit_limit(&caller, &tenant, &body.credit_limit, now_ms()).await?;
    Ok(Json(to_api::wallet(state.services.balance(&caller, Some(&tenant)).await?)))
}

/// Every movement of a tenant's balance in a month, with opening and closing balances.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/statement", tag = "billing", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "tenant name"), StatementQuery),
    responses((status = 200, body = Statement), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn statement_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    Query(query): Query<StatementQuery>,
) -> Result<Json<Statement>, ApiError> {
    let period = match &query.month {
        Some(month) => StatementPeriod::month(month)?,
        None => StatementPeriod::containing(now_ms())?,
    };
    let (tenant, statement) = state.services.statement(&caller, Some(&tenant), &period).await?;
    Ok(Json(to_api::statement(&tenant.name, &period.label, statement)))
}

/// The prices in force, the sector discounts and the owners' share (anyone signed in).
#[utoipa::path(get, path = "/api/v1/prices", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = PriceList), (status = 401, body = ErrorBody)))]
pub async fn prices_list(State(state): State<AppState>, caller: Caller) -> Result<Json<PriceList>, ApiError> {
    Ok(Json(to_api::price_list(state.services.price_list(&caller).await?)))
}

/// Set a price from now on (operators); jobs already submitted keep theirs.
#[utoipa::path(post, path = "/api/v1/prices", tag = "billing", security(("bearer" = [])), request_body = PriceSet,
    responses((status = 201, body = Price), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn prices_set(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PriceSet>,
) -> Result<(StatusCode, Json<Price>), ApiError> {
    let price = state
        .services
        .set_price(
            &caller,
            &body.site,
            body.partition.as_deref(),
            body.qos.as_deref(),
            &body.core_hour,
            &body.gpu_hour,
            &body.gb_hour,
            body.su_per_gpu_hour,
            now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(to_api::price(price))))
}

/// A sector's discount on charges, in percent (operators).
#[utoipa::path(put, path = "/api/v1/discounts/{sector}", tag = "billing", security(("bearer" = [])),
    params(("sector" = String, Path, description = "university, institute, enterprise, government, school or centre")),
    request_body = Percent,
    responses((status = 200, body = PriceList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn discounts_set(
    State(state): State<AppState>,
    caller: Caller,
    Path(sector): Path<String>,
    Json(body): Json<Percent>,
) -> Result<Json<PriceList>, ApiError> {
    state.services.set_sector_discount(&caller, &sector, &body.percent, now_ms()).await?;
    Ok(Json(to_api::price_list(state.services.price_list(&caller).await?)))
}

/// The co-builders' share of what guests pay for their nodes, in percent (operators).
#[utoipa::path(put, path = "/api/v1/owner-share", tag = "billing", security(("bearer" = [])), request_body = Percent,
    responses((status = 200, body = PriceList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn owner_share_set(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Percent>,
) -> Result<Json<PriceList>, ApiError> {
    state.services.set_sharing(&caller, SharingSetting::OwnerShare, &body.percent, now_ms()).await?;
    Ok(Json(to_api::price_list(state.services.price_list(&caller).await?)))
}

/// The discount guests get on what they run on co-built nodes, where the
/// owner may preempt them, in percent (operators).
#[utoipa::path(put, path = "/api/v1/preemptible-discount", tag = "billing", security(("bearer" = [])), request_body = Percent,
    responses((status = 200, body = PriceList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn preemptible_discount_set(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Percent>,
) -> Result<Json<PriceList>, ApiError> {
    state.services.set_sharing(&caller, SharingSetting::PreemptibleDiscount, &body.percent, now_ms()).await?;
    Ok(Json(to_api::price_list(state.services.price_list(&caller).await?)))
}

/// What a job would cost at worst and who would pay, without submitting it.
#[utoipa::path(post, path = "/api/v1/jobs/estimate", tag = "jobs", security(("bearer" = [])), request_body = JobSubmit,
    responses((status = 200, body = JobEstimate), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_estimate(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<JobSubmit>,
) -> Result<Json<JobEstimate>, ApiError> {
    let input = super::jobs::submit_input(body);
    let quote = state.services.estimate_job(&caller, input, now_ms()).await?;
    Ok(Json(to_api::estimate(&quote)))
}

/// For each site that could run a job: when it could start there, its
/// worst case and who would pay, and which site a submission would go to
/// (`lushan submit --quote`); nothing is submitted.
#[utoipa::path(post, path = "/api/v1/jobs/quote", tag = "jobs", security(("bearer" = [])), request_body = JobSubmit,
    responses((status = 200, body = Vec<SiteQuote>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_quote(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<JobSubmit>,
) -> Result<Json<Vec<SiteQuote>>, ApiError> {
    let input = super::jobs::submit_input(body);
    let rows = state.services.quote_sites(&caller, input, now_ms()).await?;
    Ok(Json(rows.iter().map(to_api::site_quote).collect()))
}
