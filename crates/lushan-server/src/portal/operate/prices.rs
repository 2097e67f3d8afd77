//! `/operate/prices`: the price list, sector discounts, the co-builders'
//! share and the preemptible discount, a node's owner and a partition's
//! preemption (`lushan admin price|discount|owner-share|node-owner`).

use super::{mode_text, number, site_and_partition, site_choices};
use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::SignedForm;
use crate::portal::forms::{Fields, page_number, paginate, refused};
use crate::portal::{Visit, field, local_time};
use crate::service::{ServiceError, SharingSetting};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_model::Sector;
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::Attempt;
use lushan_portal::views::operate::{DiscountRow, PriceRow, PricesPage};

const PRICE_FIELDS: Fields = &[
    ("core_hour", &["core_hour", "core-hour"]),
    ("su_per_gpu_hour", &["su-per-gpu-hour", "su_per_gpu_hour"]),
    ("gpu_hour", &["gpu_hour", "gpu-hour"]),
    ("gb_hour", &["gb_hour", "gb-hour"]),
    ("target", &["site", "partition"]),
    ("qos", &["qos"]),
    // An amount's own words: the first rate that is not one.
    ("core_hour", &["amount", "decimal", "cny", "rate", "number", "invalid"]),
];
const DISCOUNT_FIELDS: Fields = &[("sector", &["sector"]), ("percent", &["percent", "%", "invalid"])];
const SHARING_FIELDS: Fields = &[("percent", &["percent", "%", "invalid"])];
const OWNER_FIELDS: Fields = &[("node", &["node"]), ("site", &["site"]), ("owner", &["tenant"])];
const PREEMPTION_FIELDS: Fields =
    &[("mode", &["preemption mode"]), ("grace_secs", &["grace", "whole number"]), ("target", &["site", "partition"])];

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![
        ("GET", "/operate/prices", get(prices)),
        ("POST", "/operate/prices", post(set_price)),
        ("POST", "/operate/discounts", post(set_discount)),
        ("POST", "/operate/sharing", post(set_sharing)),
        ("POST", "/operate/node-owner", post(set_node_owner)),
        ("POST", "/operate/preemption", post(set_preemption)),
    ]
}

async fn prices(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    prices_page(&state, &visit, page, StatusCode::OK, Attempt::default()).await
}

async fn prices_page(state: &AppState, visit: &Visit, page: usize, status: StatusCode, attempt: Attempt) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let list = match state.services.price_list(caller).await {
        Ok(list) => to_api::price_list(list),
        Err(err) => return visit.error(err),
    };
    let rows = list
        .prices
        .into_iter()
        .map(|p| PriceRow {
            site: p.site,
            partition: p.partition.unwrap_or_else(|| t.operate.every_partition.to_owned()),
            qos: p.qos.unwrap_or_default(),
            core_hour: visit.lang.money(&p.core_hour),
            gpu_hour: visit.lang.money(&p.gpu_hour),
            gb_hour: visit.lang.money(&p.gb_hour),
            su_per_gpu_hour: p.su_per_gpu_hour,
            since: local_time(&p.since),
            set_by: p.set_by,
        })
        .collect();
    let (prices, pager) = paginate(rows, page, |n| format!("/operate/prices?page={n}"));
    // Every sector, with its discount where one is set.
    let discounts: Vec<DiscountRow> = Sector::ALL
        .iter()
        .map(|s| DiscountRow {
            sector: s.as_str().to_owned(),
            label: t.manage.sector(s.as_str()).to_owned(),
            percent: list
                .discounts
                .iter()
                .find(|d| d.sector.as_str() == s.as_str())
                .map(|d| d.percent.clone())
                .unwrap_or_else(|| "0".into()),
        })
        .collect();
    let modes = ["off", "cancel", "requeue"]
        .iter()
        .map(|m| Choice { value: (*m).to_owned(), label: mode_text(t, m), selected: false })
        .collect();
    let sectors =
        discounts.iter().map(|d| Choice { value: d.sector.clone(), label: d.label.clone(), selected: false }).collect();
    let view = PricesPage {
        chrome: visit.chrome(),
        prices,
        pager,
        discounts,
        sectors,
        owner_share: list.owner_share_percent,
        preemptible_discount: list.preemptible_discount_percent,
        sites: site_choices(state, visit, true).await,
        modes,
        attempt,
    };
    visit.page(status, Template::render(&view))
}

/// Answers a form: 303 back to the prices when it worked, else the page
/// again with why.
async fn answer(
    state: &AppState,
    visit: &Visit,
    form_name: &str,
    fields: Fields,
    form: Vec<(String, String)>,
    done: Result<(), ServiceError>,
) -> Response {
    match done {
        Ok(()) => Redirect::to("/operate/prices").into_response(),
        Err(err) => {
            let (status, attempt) = refused(visit, form_name, fields, form, err);
            prices_page(state, visit, 1, status, attempt).await
        }
    }
}

async fn set_price(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let (site, partition) = site_and_partition(&field(&form, "target"));
    let rate = |name: &str| match field(&form, name).trim() {
        "" => "0".to_owned(),
        text => text.to_owned(),
    };
    let done = match number("su_per_gpu_hour", &field(&form, "su_per_gpu_hour")) {
        Ok(su) => state
            .services
            .set_price(
                caller,
                &site,
                partition.as_deref(),
                crate::portal::forms::optional(field(&form, "qos")).as_deref(),
                &field(&form, "core_hour"),
                &rate("gpu_hour"),
                &rate("gb_hour"),
                su,
                now_ms(),
            )
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    answer(&state, &visit, "price", PRICE_FIELDS, form, done).await
}

async fn set_discount(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let done =
        state.services.set_sector_discount(caller, &field(&form, "sector"), &field(&form, "percent"), now_ms()).await;
    answer(&state, &visit, "discount", DISCOUNT_FIELDS, form, done).await
}

async fn set_sharing(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let setting = match field(&form, "setting").as_str() {
        "owner-share" => Ok(SharingSetting::OwnerShare),
        "preemptible-discount" => Ok(SharingSetting::PreemptibleDiscount),
        _ => Err(ServiceError::Invalid("the setting is owner-share or preemptible-discount".into())),
    };
    let form_name = match field(&form, "setting").as_str() {
        "preemptible-discount" => "preemptible",
        _ => "owner-share",
    };
    let done = match setting {
        Ok(setting) => state.services.set_sharing(caller, setting, &field(&form, "percent"), now_ms()).await,
        Err(err) => Err(err),
    };
    answer(&state, &visit, form_name, SHARING_FIELDS, form, done).await
}

async fn set_node_owner(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let done = state
        .services
        .set_node_owner(
            caller,
            field(&form, "site").trim(),
            field(&form, "node").trim(),
            field(&form, "owner").trim(),
            now_ms(),
        )
        .await;
    answer(&state, &visit, "owner", OWNER_FIELDS, form, done).await
}

async fn set_preemption(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let (site, partition) = site_and_partition(&field(&form, "target"));
    let done = match number("grace", &field(&form, "grace_secs")) {
        Ok(grace) => {
            state
                .services
                .set_partition_preemption(
                    caller,
                    &site,
                    partition.as_deref().unwrap_or_default(),
                    &field(&form, "mode"),
                    grace,
                    now_ms(),
                )
                .await
        }
        Err(err) => Err(err),
    };
    answer(&state, &visit, "preemption", PREEMPTION_FIELDS, form, done).await
}
