//! The files page: the caller's home and projects' directories, listed,
//! downloaded, uploaded to, a directory made, an entry removed. The same
//! services as `/api/v1/files` (the file helper, as the caller's Unix
//! account); the download is the API's own answer.

use super::{SignedForm, Visit, csrf_ok, field, local_time};
use crate::http::{AppState, to_api};
use crate::service::ServiceError;
use axum::extract::{FromRequest, FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lushan_portal::views::files::{FileRow, FilesPage, RootLink};
use std::path::Path;

pub(super) fn routes() -> Vec<super::Route> {
    vec![
        ("GET", "/files", get(page)),
        ("GET", "/files/download", get(download)),
        ("POST", "/files/upload", post(upload)),
        ("POST", "/files/mkdir", post(mkdir)),
        ("POST", "/files/remove", post(remove)),
    ]
}

/// A path in a query, percent-encoded (slashes kept, for readable links).
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn listing_link(path: &str) -> String {
    format!("/files?path={}", encode(path))
}

async fn page(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let t = visit.t().files;
    let name = field(&query, "name");
    let notice = match field(&query, "done").as_str() {
        "upload" => Some(format!("{}{name}", t.uploaded)),
        "mkdir" => Some(format!("{}{name}", t.made)),
        "remove" => Some(format!("{}{name}", t.removed)),
        _ => None,
    };
    let path = field(&query, "path");
    show(&state, &visit, (!path.is_empty()).then_some(path.as_str()), notice, None, StatusCode::OK).await
}

/// The directory at `path` (the home when `None`), with a notice or a
/// problem of the form just sent.
async fn show(
    state: &AppState,
    visit: &Visit,
    path: Option<&str>,
    notice: Option<String>,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let t = visit.t().files;
    let listing = match state.services.list_files(caller, path).await {
        Ok(listing) => to_api::file_listing(listing),
        Err(err) => return visit.error(err),
    };
    if listing.entry.kind != "directory" {
        return Redirect::to(&format!("/files/download?path={}", encode(&listing.path))).into_response();
    }
    let dir = listing.path.trim_end_matches('/').to_owned();
    let rows = listing
        .entries
        .into_iter()
        .map(|e| {
            let full = format!("{dir}/{}", e.name);
            let directory = e.kind == "directory";
            FileRow {
                link: if directory { listing_link(&full) } else { format!("/files/download?path={}", encode(&full)) },
                kind: match e.kind.as_str() {
                    "file" => t.kind_file,
                    "directory" => t.kind_directory,
                    "link" => t.kind_link,
                    _ => t.kind_other,
                }
                .to_owned(),
                size: e.size.to_string(),
                modified: local_time(&e.modified),
                mode: e.mode,
                name: e.name,
                path: full,
                directory,
            }
        })
        .collect();
    // Up, while still inside one of the caller's directories.
    let up = Path::new(&dir)
        .parent()
        .filter(|parent| listing.roots.iter().any(|root| parent.starts_with(root)))
        .map(|parent| listing_link(&parent.display().to_string()));
    let roots = listing.roots.iter().map(|r| RootLink { path: r.clone(), link: listing_link(r) }).collect();
    let view = FilesPage {
        chrome: visit.chrome(),
        submit_link: format!("/submit?dir={}", encode(&dir)),
        path: dir,
        up,
        roots,
        rows,
        truncated: listing.truncated,
        notice,
        problem,
    };
    visit.page(status, lushan_portal::Template::render(&view))
}

/// The form's refusal shown on the directory's page, in the visitor's words.
async fn refused(state: &AppState, visit: &Visit, dir: &str, err: ServiceError) -> Response {
    let (status, message, _) = visit.explain(err);
    show(state, visit, Some(dir), None, Some(message), status).await
}

async fn download(State(state): State<AppState>, visit: Visit, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Some(caller) = visit.caller() else { return Redirect::to("/login").into_response() };
    let path = field(&query, "path");
    match state.services.read_file(caller, &path, 0, None).await {
        Ok(download) => crate::http::api::files::stream_download(download, &path, false),
        Err(err) => visit.error(err),
    }
}

async fn mkdir(State(state): State<AppState>, form: SignedForm) -> Response {
    let SignedForm { visit, caller, form } = form;
    let (dir, name) = (field(&form, "dir"), field(&form, "name"));
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        let problem = visit.t().files.name_invalid.to_owned();
        return show(&state, &visit, Some(&dir), None, Some(problem), StatusCode::BAD_REQUEST).await;
    }
    let path = format!("{}/{name}", dir.trim_end_matches('/'));
    match state.services.make_directory(&caller, &path).await {
        Ok(_) => Redirect::to(&format!("{}&done=mkdir&name={}", listing_link(&dir), encode(&name))).into_response(),
        Err(err) => refused(&state, &visit, &dir, err).await,
    }
}

async fn remove(State(state): State<AppState>, form: SignedForm) -> Response {
    let SignedForm { visit, caller, form } = form;
    let path = field(&form, "path");
    let dir = Path::new(&path).parent().map(|p| p.display().to_string()).unwrap_or_default();
    let name = Path::new(&path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match state.services.remove_file(&caller, &path).await {
        Ok(()) => Redirect::to(&format!("{}&done=remove&name={}", listing_link(&dir), encode(&name))).into_response(),
        Err(err) => refused(&state, &visit, &dir, err).await,
    }
}

/// A file from the form (`multipart/form-data`: the key, the directory and
/// the choice to overwrite come before the file), streamed to the helper
/// as it arrives.
async fn upload(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let visit = match Visit::from_request_parts(&mut parts, &state).await {
        Ok(visit) => visit,
        Err(never) => match never {},
    };
    let Some(caller) = visit.caller().cloned() else { return Redirect::to("/login").into_response() };
    let request = axum::extract::Request::from_parts(parts, body);
    let mut multipart = match axum::extract::Multipart::from_request(request, &state).await {
        Ok(multipart) => multipart,
        Err(rejection) => return rejection.into_response(),
    };
    let (mut signed, mut dir, mut overwrite) = (false, String::new(), false);
    loop {
        let mut part = match multipart.next_field().await {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(err) => return refused(&state, &visit, &dir, ServiceError::Invalid(err.body_text())).await,
        };
        match part.name().unwrap_or_default() {
            "csrf" => signed = csrf_ok(&visit, &part.text().await.unwrap_or_default()),
            "dir" => dir = part.text().await.unwrap_or_default(),
            "overwrite" => overwrite = true,
            "file" => {
                if !signed {
                    return visit.stale_form();
                }
                // The browser's name for it, never a path.
                let name =
                    part.file_name().unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default().to_owned();
                if name.is_empty() || name == "." || name == ".." {
                    let problem = visit.t().files.no_file.to_owned();
                    return show(&state, &visit, Some(&dir), None, Some(problem), StatusCode::BAD_REQUEST).await;
                }
                let path = format!("{}/{name}", dir.trim_end_matches('/'));
                let mut upload = match state.services.write_file(&caller, &path, None, overwrite).await {
                    Ok(upload) => upload,
                    Err(err) => {
                        drain(&mut part).await;
                        return refused(&state, &visit, &dir, err).await;
                    }
                };
                let mut broken = None;
                loop {
                    match part.chunk().await {
                        Ok(Some(chunk)) => {
                            if !upload.send(&chunk).await {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(err) => {
                            broken = Some(err.body_text());
                            break;
                        }
                    }
                }
                return match upload.finish(broken).await {
                    Ok(_) => Redirect::to(&format!("{}&done=upload&name={}", listing_link(&dir), encode(&name)))
                        .into_response(),
                    Err(err) => refused(&state, &visit, &dir, err.into()).await,
                };
            }
            _ => {}
        }
    }
    if !signed {
        return visit.stale_form();
    }
    let problem = visit.t().files.no_file.to_owned();
    show(&state, &visit, (!dir.is_empty()).then_some(dir.as_str()), None, Some(problem), StatusCode::BAD_REQUEST).await
}

/// Reads what is left of a file refused before its upload began, up to the
/// bound a refused upload is read to.
async fn drain(part: &mut axum::extract::multipart::Field<'_>) {
    let mut seen: u64 = 0;
    while let Ok(Some(chunk)) = part.chunk().await {
        seen += chunk.len() as u64;
        if seen > lushan_backend::files::DRAIN_AFTER_REFUSAL {
            break;
        }
    }
}
