//! One error type for HTTP, mapped to a status once and exhaustively.

use crate::service::{ServiceError, request_id};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lushan_api::{ErrorBody, ErrorDetail};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent as `Retry-After` (seconds) when the client should come back.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after_secs: None }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        // No `_ =>`: a new variant must be given its status here.
        let status = match &err {
            ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound { .. } => StatusCode::NOT_FOUND,
            ServiceError::Conflict { .. } => StatusCode::CONFLICT,
            ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
            ServiceError::StateConflict(_) => StatusCode::CONFLICT,
            ServiceError::InsufficientFunds(_) => StatusCode::PAYMENT_REQUIRED,
            ServiceError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Unavailable(_) | ServiceError::Degraded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &err {
            // The cause goes to the log, not to the client.
            ServiceError::Internal(detail) => {
                tracing::error!(request_id = request_id().unwrap_or_default(), "internal error: {detail}");
                format!("internal error; quote request id {} to the operator", request_id().unwrap_or_default())
            }
            ServiceError::Unavailable(source) => {
                tracing::error!(request_id = request_id().unwrap_or_default(), "database unavailable: {source}");
                err.to_string()
            }
            _ => err.to_string(),
        };
        let retry_after_secs = match &err {
            ServiceError::TooManyAttempts { retry_after_secs, .. } | ServiceError::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        ApiError { status, code: err.code(), message, retry_after_secs }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                request_id: request_id().unwrap_or_default(),
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Maps axum's body and parameter rejections onto our error shape, keeping
/// their status (400, 413, 415, 422 become 400).
pub fn from_rejection(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(status, "payload_too_large", "the request body is too large (limit 4 MiB)")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", text),
    }
}

macro_rules! rejection_into_api_error {
    ($($rejection:ty),*) => {$(
        impl From<$rejection> for ApiError {
            fn from(rejection: $rejection) -> Self {
                from_rejection(rejection.status(), rejection.body_text())
            }
        }
    )*};
}

rejection_into_api_error!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::PathRejection,
    axum::extract::rejection::QueryRejection
);
