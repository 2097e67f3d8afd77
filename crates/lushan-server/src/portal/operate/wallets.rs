//! `/operate/wallets`: every tenant's wallet, an adjustment (a refund or
//! a debit, with why) and a credit limit (`lushan admin wallet adjust`,
//! `credit-limit`). Top-ups are on the tenant's page.

use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::SignedForm;
use crate::portal::forms::{Fields, page_number, paginate, refused};
use crate::portal::{Visit, field};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_portal::Template;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::Attempt;
use lushan_portal::views::operate::{WalletRow, WalletsPage};

const ADJUST_FIELDS: Fields = &[
    ("reason", &["reason"]),
    ("reference", &["reference"]),
    ("tenant", &["tenant"]),
    ("amount", &["amount", "cny", "balance", "invalid"]),
];
const CREDIT_FIELDS: Fields = &[("tenant", &["tenant"]), ("limit", &["limit", "amount", "cny", "invalid"])];

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![
        ("GET", "/operate/wallets", get(wallets)),
        ("POST", "/operate/wallets/adjust", post(adjust)),
        ("POST", "/operate/wallets/credit-limit", post(credit_limit)),
    ]
}

async fn wallets(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let page = match page_number(&visit, &query) {
        Ok(page) => page,
        Err(page) => return *page,
    };
    wallets_page(&state, &visit, page, StatusCode::OK, Attempt::default()).await
}

async fn wallets_page(state: &AppState, visit: &Visit, page: usize, status: StatusCode, attempt: Attempt) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let tenants = match state.services.list_tenants(caller).await {
        Ok(tenants) => tenants,
        Err(err) => return visit.error(err),
    };
    let choices =
        tenants.iter().map(|t| Choice { value: t.name.clone(), label: t.name.clone(), selected: false }).collect();
    let (tenants, pager) = paginate(tenants, page, |n| format!("/operate/wallets?page={n}"));
    let mut rows = Vec::new();
    for tenant in tenants {
        // The wallets the caller may see (operators: all; tenant admins: theirs).
        let Ok(balance) = state.services.balance(caller, Some(&tenant.name)).await else { continue };
        let w = to_api::wallet(balance);
        rows.push(WalletRow {
            tenant: tenant.name,
            display_name: tenant.display_name,
            balance: visit.lang.money(&w.balance),
            held: visit.lang.money(&w.held),
            available: visit.lang.money(&w.available),
            credit_limit: visit.lang.money(&w.credit_limit),
        });
    }
    let view = WalletsPage { chrome: visit.chrome(), wallets: rows, pager, tenants: choices, attempt };
    visit.page(status, Template::render(&view))
}

async fn adjust(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let done = state
        .services
        .adjust(
            caller,
            field(&form, "tenant").trim(),
            field(&form, "amount").trim(),
            &field(&form, "reference"),
            &field(&form, "reason"),
            now_ms(),
        )
        .await;
    match done {
        Ok(_) => Redirect::to("/operate/wallets").into_response(),
        Err(err) => {
            let (status, attempt) = refused(&visit, "adjust", ADJUST_FIELDS, form, err);
            wallets_page(&state, &visit, 1, status, attempt).await
        }
    }
}

async fn credit_limit(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let done = state
        .services
        .set_credit_limit(caller, field(&form, "tenant").trim(), field(&form, "limit").trim(), now_ms())
        .await;
    match done {
        Ok(_) => Redirect::to("/operate/wallets").into_response(),
        Err(err) => {
            let (status, attempt) = refused(&visit, "credit", CREDIT_FIELDS, form, err);
            wallets_page(&state, &visit, 1, status, attempt).await
        }
    }
}
