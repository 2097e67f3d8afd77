//! A user's files over HTTP (docs/files.md): listed, downloaded (streamed,
//! with `Range`), uploaded (streamed; `Content-Length` required), made,
//! moved and removed, all as the caller's Unix account.

use crate::http::error::ApiError;
use crate::http::extract::{Json, Query};
use crate::http::{AppState, to_api};
use crate::service::Caller;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use lushan_api::{
    ErrorBody, FileContentQuery, FileDirectoryCreate, FileEntry, FileListing, FileMove, FilePathQuery, FileQuery,
};
use tokio::io::AsyncReadExt;

/// What is at a path (the caller's home when absent): a file, or a
/// directory and its entries; with the directories the caller may reach.
#[utoipa::path(get, path = "/api/v1/files", tag = "files", security(("bearer" = [])), params(FileQuery),
    responses((status = 200, body = FileListing), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn files_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FileQuery>,
) -> Result<Json<FileListing>, ApiError> {
    let listing = state.services.list_files(&caller, query.path.as_deref()).await?;
    Ok(Json(to_api::file_listing(listing)))
}

/// A file's content, as an attachment; `Range: bytes=A-B` for a part (206).
#[utoipa::path(get, path = "/api/v1/files/content", tag = "files", security(("bearer" = [])), params(FileContentQuery),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 206, description = "the part asked for"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 416, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn files_download(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FileContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = match headers.get(header::RANGE) {
        None => None,
        Some(value) => Some(parse_range(value).ok_or_else(|| {
            ApiError::from(crate::service::ServiceError::Invalid(
                "Range: give one range of bytes, `bytes=FROM-` or `bytes=FROM-TO`".into(),
            ))
        })?),
    };
    let (offset, length) = match range {
        None => (0, None),
        Some((from, to)) => (from, to.map(|to| to.saturating_sub(from) + 1)),
    };
    let download = state.services.read_file(&caller, &query.path, offset, length).await?;
    if range.is_some() && offset >= download.size && download.size > 0 {
        return Err(ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "invalid",
            format!("Range starts at byte {offset}, past the end of the file ({} bytes)", download.size),
        ));
    }
    Ok(stream_download(download, &query.path, range.is_some()))
}

/// A download as an HTTP answer: the helper's bytes streamed as an
/// attachment (never shown as a page), 206 with `Content-Range` for a part.
/// The API and the portal both answer with it.
pub(crate) fn stream_download(download: lushan_backend::files::Download, path: &str, part: bool) -> Response {
    let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let status = if part { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, download.length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, attachment(&name))
        // Never shown as a page, whatever it holds.
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'");
    if part {
        let last = (download.offset + download.length).saturating_sub(1);
        response =
            response.header(header::CONTENT_RANGE, format!("bytes {}-{last}/{}", download.offset, download.size));
    }
    // The helper (killed when the body is dropped) streams the bytes.
    let state = (download.content, download.child, download.length);
    let stream = futures_util::stream::unfold(state, |(mut content, child, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buffer = vec![0; (256 * 1024).min(usize::try_from(left).unwrap_or(usize::MAX))];
        match content.read(&mut buffer).await {
            Ok(0) => Some((Err(std::io::Error::other("the file ended early")), (content, child, 0))),
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), (content, child, left - n as u64)))
            }
            Err(err) => Some((Err(err), (content, child, 0))),
        }
    });
    response.body(Body::from_stream(stream)).unwrap_or_else(|err| {
        tracing::error!("a download's answer could not be built: {err}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

/// Stores the request's body as the file (`Content-Length` required): it
/// replaces the file only when whole; `overwrite=true` to replace one.
#[utoipa::path(put, path = "/api/v1/files/content", tag = "files", security(("bearer" = [])), params(FileContentQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileEntry), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 411, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn files_upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FileContentQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FileEntry>), ApiError> {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let Some(length) = length else {
        return Err(ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "invalid",
            "an upload needs its Content-Length (send the file as the body, not chunked)",
        ));
    };
    let mut upload = state.services.write_file(&caller, &query.path, Some(length), query.overwrite).await?;
    let mut body = body;
    let mut broken = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data()
                    && !upload.send(&data).await
                {
                    break;
                }
            }
            Err(err) => {
                broken = Some(err.to_string());
                break;
            }
        }
    }
    let entry = upload.finish(broken).await.map_err(crate::service::ServiceError::from)?;
    Ok((StatusCode::CREATED, Json(to_api::file_entry(entry))))
}

/// Makes a directory (its parent must exist).
#[utoipa::path(post, path = "/api/v1/files/directories", tag = "files", security(("bearer" = [])), request_body = FileDirectoryCreate,
    responses((status = 201, body = FileEntry), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn files_mkdir(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<FileDirectoryCreate>,
) -> Result<(StatusCode, Json<FileEntry>), ApiError> {
    let entry = state.services.make_directory(&caller, &body.path).await?;
    Ok((StatusCode::CREATED, Json(to_api::file_entry(entry))))
}

/// Moves or renames a file or directory; the target must not exist.
#[utoipa::path(post, path = "/api/v1/files/moves", tag = "files", security(("bearer" = [])), request_body = FileMove,
    responses((status = 200, body = FileEntry), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn files_move(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<FileMove>,
) -> Result<Json<FileEntry>, ApiError> {
    Ok(Json(to_api::file_entry(state.services.move_file(&caller, &body.from, &body.to).await?)))
}

/// Removes a file, a link or an empty directory.
#[utoipa::path(delete, path = "/api/v1/files", tag = "files", security(("bearer" = [])), params(FilePathQuery),
    responses((status = 204, description = "removed"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn files_remove(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FilePathQuery>,
) -> Result<StatusCode, ApiError> {
    state.services.remove_file(&caller, &query.path).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `bytes=A-` or `bytes=A-B` (one range; B at or after A).
fn parse_range(value: &HeaderValue) -> Option<(u64, Option<u64>)> {
    let spec = value.to_str().ok()?.strip_prefix("bytes=")?;
    let (from, to) = spec.split_once('-')?;
    let from = from.trim().parse().ok()?;
    let to = match to.trim() {
        "" => None,
        to => Some(to.parse().ok().filter(|to| *to >= from)?),
    };
    Some((from, to))
}

/// `attachment; filename="..."; filename*=UTF-8''...`: the name, never markup.
fn attachment(name: &str) -> String {
    let plain: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}
