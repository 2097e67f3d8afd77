//! Tenants and their wallets, users, projects: the operator's and tenant
//! admins' pages (`lushan admin tenant|user|project` and `lushan admin
//! wallet top-up` in the browser). The services scope every list to what
//! the caller administers.

use crate::clock::now_ms;
use crate::http::{AppState, to_api};
use crate::portal::forms::{Fields, kept_filters, optional, page_number, paginate, refused};
use crate::portal::{SignedForm, Visit, field, local_time};
use crate::service::{ListFilter, NewProjectInput, NewUserInput, ServiceError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_model::{Role, Sector, Status};
use lushan_portal::Template;
use lushan_portal::i18n::Texts;
use lushan_portal::views::Choice;
use lushan_portal::views::manage::{
    Attempt, ListFilterView, ProjectRow, ProjectsPage, TenantPage, TenantRow, TenantsPage, UserCreatedPage, UserRow,
    UsersPage, WalletFigures,
};

const TENANT_FIELDS: Fields =
    &[("display_name", &["display_name"]), ("sector", &["sector"]), ("name", &["tenant name", "tenant `"])];
const TOP_UP_FIELDS: Fields = &[("reference", &["reference"]), ("amount", &["amount", "cny", "balance"])];
const USER_FIELDS: Fields = &[
    ("unix_account", &["unix account"]),
    ("display_name", &["display_name"]),
    ("role", &["role"]),
    ("name", &["user name", "user `"]),
    ("tenant", &["tenant"]),
];
const PROJECT_FIELDS: Fields = &[
    ("pi", &["user `", "user name"]),
    ("description", &["description"]),
    ("name", &["project name", "project `"]),
    ("tenant", &["tenant"]),
];

pub(super) fn routes() -> Vec<crate::portal::Route> {
    vec![
        ("GET", "/manage/tenants", get(tenants)),
        ("POST", "/manage/tenants", post(create_tenant)),
        ("GET", "/manage/tenants/{name}", get(tenant)),
        ("POST", "/manage/tenants/{name}/status", post(tenant_status)),
        ("POST", "/manage/tenants/{name}/top-up", post(top_up)),
        ("GET", "/manage/users", get(users)),
        ("POST", "/manage/users", post(create_user)),
        ("POST", "/manage/users/{name}/status", post(user_status)),
        ("GET", "/projects", get(my_projects)),
        ("GET", "/manage/projects", get(projects)),
        ("POST", "/manage/projects", post(create_project)),
        ("POST", "/manage/projects/{name}/status", post(project_status)),
    ]
}

fn tenant_row(t: &'static Texts, tenant: lushan_api::Tenant) -> TenantRow {
    let sector = serde_plain(&tenant.sector);
    TenantRow {
        name: tenant.name,
        display_name: tenant.display_name,
        sector: t.manage.sector(&sector).to_owned(),
        active: matches!(tenant.status, lushan_api::Status::Active),
        created: local_time(&tenant.created_at),
    }
}

fn user_row(t: &'static Texts, user: lushan_api::User) -> UserRow {
    let role = serde_plain(&user.role);
    UserRow {
        name: user.name,
        display_name: user.display_name,
        tenant: user.tenant,
        role: t.role(&role).to_owned(),
        unix_account: user.unix_account.unwrap_or_default(),
        active: matches!(user.status, lushan_api::Status::Active),
        created: local_time(&user.created_at),
    }
}

pub(super) fn project_row(project: &lushan_api::Project) -> ProjectRow {
    ProjectRow {
        name: project.name.clone(),
        tenant: project.tenant.clone(),
        pi: project.pi.clone().unwrap_or_default(),
        members: project.members.len(),
        description: project.description.clone(),
        active: matches!(project.status, lushan_api::Status::Active),
        directory: project.directory.clone(),
    }
}

/// An API enum as the API spells it (`university`, `tenant-admin`).
pub(super) fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// `active` or `disabled` from a status form.
fn status_of(form: &[(String, String)]) -> Result<Status, ServiceError> {
    Ok(field(form, "status").parse::<Status>()?)
}

/// The tenants the caller sees, as choices of a form (name and display name).
async fn tenant_choices(state: &AppState, visit: &Visit) -> Vec<Choice> {
    let Some(caller) = visit.caller() else { return Vec::new() };
    let tenants = state.services.list_tenants(caller).await.unwrap_or_default();
    // Disabled ones too: the service says why a user cannot join one.
    tenants
        .into_iter()
        .map(|t| Choice {
            label: if t.display_name == t.name { t.name.clone() } else { format!("{} ({})", t.name, t.display_name) },
            value: t.name,
            selected: false,
        })
        .collect()
}

/// A list's page and filter, as asked for with `?page=&q=&status=&tenant=`.
struct Listing {
    page: usize,
    q: String,
    status: String,
    tenant: String,
    filter: ListFilter,
}

impl Listing {
    /// The first page of everything (a refused form shows the list again).
    fn first() -> Listing {
        Listing {
            page: 1,
            q: String::new(),
            status: String::new(),
            tenant: String::new(),
            filter: ListFilter::everything(),
        }
    }

    fn asked(visit: &Visit, query: &[(String, String)]) -> Result<Listing, Box<Response>> {
        let page = page_number(visit, query)?;
        let (q, status, tenant) = (field(query, "q"), field(query, "status"), field(query, "tenant"));
        let filter = ListFilter::parse(&q, &status, &tenant).map_err(|err| Box::new(visit.error(err)))?;
        Ok(Listing { page, q, status, tenant, filter })
    }

    /// The form's view; `by_tenant` offers the tenant box.
    fn view(&self, visit: &Visit, action: &str, by_tenant: bool) -> ListFilterView {
        let m = visit.t().manage;
        let statuses = [("", m.any_status), ("active", m.active), ("disabled", m.disabled)]
            .into_iter()
            .map(|(value, label)| Choice {
                value: value.to_owned(),
                label: label.to_owned(),
                selected: self.status == value,
            })
            .collect();
        ListFilterView {
            action: action.to_owned(),
            q: self.q.clone(),
            tenant: self.tenant.clone(),
            statuses,
            by_tenant,
            active: self.filter != ListFilter::everything(),
        }
    }

    /// Page `n`'s address, keeping the filter.
    fn link(&self, action: &str, n: usize) -> String {
        let kept = kept_filters(&[("q", &self.q), ("status", &self.status), ("tenant", &self.tenant)]);
        format!("{action}?page={n}{kept}")
    }
}

// ---- tenants ----

async fn tenants(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let listing = match Listing::asked(&visit, &query) {
        Ok(listing) => listing,
        Err(page) => return *page,
    };
    tenants_page(&state, &visit, &listing, StatusCode::OK, Attempt::default()).await
}

async fn tenants_page(
    state: &AppState,
    visit: &Visit,
    listing: &Listing,
    status: StatusCode,
    attempt: Attempt,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let records = match state.services.find_tenants(caller, &listing.filter).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let rows = records.into_iter().map(|r| tenant_row(t, to_api::tenant(r))).collect();
    let action = "/manage/tenants";
    let (tenants, pager) = paginate(rows, listing.page, |n| listing.link(action, n));
    let filter = listing.view(visit, action, false);
    let sectors = Sector::ALL
        .iter()
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: t.manage.sector(s.as_str()).to_owned(),
            selected: false,
        })
        .collect();
    let view = TenantsPage { chrome: visit.chrome(), filter, tenants, sectors, pager, attempt };
    visit.page(status, Template::render(&view))
}

async fn create_tenant(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let name = field(&form, "name");
    let done = match field(&form, "sector").parse::<Sector>() {
        Ok(sector) => {
            let display = optional(field(&form, "display_name"));
            state.services.create_tenant(caller, name.trim(), sector, display, now_ms()).await
        }
        Err(err) => Err(err.into()),
    };
    match done {
        Ok(tenant) => Redirect::to(&format!("/manage/tenants/{}", tenant.name)).into_response(),
        Err(err) => {
            let (status, attempt) = refused(&visit, "create", TENANT_FIELDS, form, err);
            tenants_page(&state, &visit, &Listing::first(), status, attempt).await
        }
    }
}

async fn tenant(State(state): State<AppState>, visit: Visit, Path(name): Path<String>) -> Response {
    tenant_page(&state, &visit, &name, StatusCode::OK, Attempt::default()).await
}

async fn tenant_page(state: &AppState, visit: &Visit, name: &str, status: StatusCode, attempt: Attempt) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let record = match state.services.tenant(caller, name).await {
        Ok(record) => record,
        Err(err) => return visit.error(err),
    };
    // Operators and the tenant's admins see its wallet; others are told who does.
    let wallet = state.services.balance(caller, Some(name)).await.ok().map(|balance| {
        let w = to_api::wallet(balance);
        WalletFigures {
            balance: visit.lang.money(&w.balance),
            held: visit.lang.money(&w.held),
            available: visit.lang.money(&w.available),
            credit_limit: visit.lang.money(&w.credit_limit),
            discount: w.discount_percent,
        }
    });
    let view = TenantPage { chrome: visit.chrome(), tenant: tenant_row(t, to_api::tenant(record)), wallet, attempt };
    visit.page(status, Template::render(&view))
}

async fn tenant_status(
    State(state): State<AppState>,
    Path(name): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let done = match status_of(&form) {
        Ok(status) => state.services.set_tenant_status(caller, &name, status, now_ms()).await,
        Err(err) => Err(err),
    };
    match done {
        Ok(_) => Redirect::to("/manage/tenants").into_response(),
        Err(err) => visit.error(err),
    }
}

async fn top_up(
    State(state): State<AppState>,
    Path(name): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let amount = field(&form, "amount");
    let reference = field(&form, "reference");
    match state.services.top_up(caller, &name, amount.trim(), &reference, now_ms()).await {
        Ok(_) => Redirect::to(&format!("/manage/tenants/{name}")).into_response(),
        // A tenant the caller may not see stays "not found", as a page.
        Err(err @ ServiceError::NotFound { .. }) => visit.error(err),
        Err(err) => {
            let (status, attempt) = refused(&visit, "top-up", TOP_UP_FIELDS, form, err);
            tenant_page(&state, &visit, &name, status, attempt).await
        }
    }
}

// ---- users ----

async fn users(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let listing = match Listing::asked(&visit, &query) {
        Ok(listing) => listing,
        Err(page) => return *page,
    };
    users_page(&state, &visit, &listing, StatusCode::OK, Attempt::default()).await
}

async fn users_page(
    state: &AppState,
    visit: &Visit,
    listing: &Listing,
    status: StatusCode,
    attempt: Attempt,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t();
    let records = match state.services.find_users(caller, &listing.filter).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let rows = records.into_iter().map(|r| user_row(t, to_api::user(r))).collect();
    let action = "/manage/users";
    let (users, pager) = paginate(rows, listing.page, |n| listing.link(action, n));
    let filter = listing.view(visit, action, caller.is_operator());
    let roles = [Role::Member, Role::TenantAdmin, Role::Reviewer, Role::Operator]
        .iter()
        .map(|r| Choice { value: r.as_str().to_owned(), label: t.role(r.as_str()).to_owned(), selected: false })
        .collect();
    let tenants = tenant_choices(state, visit).await;
    let view = UsersPage { chrome: visit.chrome(), filter, users, tenants, roles, pager, attempt };
    visit.page(status, Template::render(&view))
}

async fn create_user(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let role = match optional(field(&form, "role")).map(|r| r.parse::<Role>()).transpose() {
        Ok(role) => role,
        Err(err) => {
            let (status, attempt) = refused(&visit, "create", USER_FIELDS, form, err.into());
            return users_page(&state, &visit, &Listing::first(), status, attempt).await;
        }
    };
    let input = NewUserInput {
        name: field(&form, "name").trim().to_owned(),
        tenant: field(&form, "tenant"),
        role,
        display_name: optional(field(&form, "display_name")),
        unix_account: optional(field(&form, "unix_account")).map(|a| a.trim().to_owned()),
        // The platform makes a one-time password, shown on the next page once.
        password: None,
    };
    match state.services.create_user(caller, input, now_ms()).await {
        Ok((user, one_time_password)) => {
            // The one-time password exists only in this answer: shown here
            // (no redirect could carry it without storing it), never cached.
            let view = UserCreatedPage {
                chrome: visit.chrome(),
                user: user_row(visit.t(), to_api::user(user)),
                one_time_password,
            };
            let mut response = visit.page(StatusCode::CREATED, Template::render(&view));
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            let (status, attempt) = refused(&visit, "create", USER_FIELDS, form, err);
            users_page(&state, &visit, &Listing::first(), status, attempt).await
        }
    }
}

async fn user_status(
    State(state): State<AppState>,
    Path(name): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let done = match status_of(&form) {
        Ok(status) => state.services.set_user_status(caller, &name, status, now_ms()).await,
        Err(err) => Err(err),
    };
    match done {
        Ok(_) => Redirect::to("/manage/users").into_response(),
        Err(err) => visit.error(err),
    }
}

// ---- projects ----

async fn my_projects(
    State(state): State<AppState>,
    visit: Visit,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let listing = match Listing::asked(&visit, &query) {
        Ok(listing) => listing,
        Err(page) => return *page,
    };
    projects_page(&state, &visit, false, &listing, StatusCode::OK, Attempt::default()).await
}

async fn projects(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let listing = match Listing::asked(&visit, &query) {
        Ok(listing) => listing,
        Err(page) => return *page,
    };
    projects_page(&state, &visit, true, &listing, StatusCode::OK, Attempt::default()).await
}

async fn projects_page(
    state: &AppState,
    visit: &Visit,
    manage: bool,
    listing: &Listing,
    status: StatusCode,
    attempt: Attempt,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let records = match state.services.find_projects(caller, &listing.filter).await {
        Ok(records) => records,
        Err(err) => return visit.error(err),
    };
    let rows = records.into_iter().map(|r| project_row(&to_api::project(&state.services, r))).collect();
    let base = if manage { "/manage/projects" } else { "/projects" };
    let (projects, pager) = paginate(rows, listing.page, |n| listing.link(base, n));
    let filter = listing.view(visit, base, caller.is_operator());
    let tenants = if manage { tenant_choices(state, visit).await } else { Vec::new() };
    let view = ProjectsPage { chrome: visit.chrome(), filter, projects, manage, tenants, pager, attempt };
    visit.page(status, Template::render(&view))
}

async fn create_project(State(state): State<AppState>, SignedForm { visit, ref caller, form }: SignedForm) -> Response {
    let input = NewProjectInput {
        name: field(&form, "name").trim().to_owned(),
        tenant: field(&form, "tenant"),
        pi: field(&form, "pi").trim().to_owned(),
        description: optional(field(&form, "description")),
    };
    match state.services.create_project(caller, input, now_ms()).await {
        Ok((project, _)) => Redirect::to(&format!("/projects/{}", project.name)).into_response(),
        Err(err) => {
            let (status, attempt) = refused(&visit, "create", PROJECT_FIELDS, form, err);
            projects_page(&state, &visit, true, &Listing::first(), status, attempt).await
        }
    }
}

async fn project_status(
    State(state): State<AppState>,
    Path(name): Path<String>,
    SignedForm { visit, ref caller, form }: SignedForm,
) -> Response {
    let done = match status_of(&form) {
        Ok(status) => state.services.set_project_status(caller, &name, status, now_ms()).await,
        Err(err) => Err(err),
    };
    match done {
        Ok(_) => Redirect::to("/manage/projects").into_response(),
        Err(err) => visit.error(err),
    }
}
