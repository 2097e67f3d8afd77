//! A typed HTTP client of the API, used by the CLI and the integration tests.

use crate::*;
use serde::de::DeserializeOwned;

/// Why a call failed: the server said no (with its error body), or it could
/// not be reached or understood.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{}", .body.error.message)]
    Api { status: u16, body: ErrorBody },
    #[error("cannot reach the Lushan server at {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected answer from {url} (HTTP {status}): {detail}")]
    Decode { url: String, status: u16, detail: String },
}

impl ClientError {
    /// The API's stable error code, if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { body, .. } => Some(&body.error.code),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// `base` is the server's URL, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str, token: Option<String>) -> Client {
        // reqwest is built without a default crypto provider; the first caller
        // installs ring, later calls find it installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client { base: base.trim_end_matches('/').to_owned(), token, http: reqwest::Client::new() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder, url: &str) -> Result<T, ClientError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response =
            request.send().await.map_err(|source| ClientError::Transport { url: self.base.clone(), source })?;
        let status = response.status().as_u16();
        let bytes =
            response.bytes().await.map_err(|source| ClientError::Transport { url: self.base.clone(), source })?;
        if (200..300).contains(&status) {
            // 204 No Content decodes as JSON null, i.e. `()`.
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(bytes).map_err(|err| ClientError::Decode {
                url: url.to_owned(),
                status,
                detail: err.to_string(),
            });
        }
        Err(error_of(status, &bytes, url))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        self.send(self.http.get(&url), &url).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        self.send(self.http.post(&url).json(body), &url).await
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        self.send(self.http.put(&url).json(body), &url).await
    }

    /// Streams a `GET` answer's body into `out` (a download); the bytes
    /// written, or the server's error.
    pub async fn download(&self, path: &str, out: &mut impl std::io::Write) -> Result<u64, ClientError> {
        let url = format!("{}{}", self.base, path);
        let mut request = self.http.get(&url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let mut response =
            request.send().await.map_err(|source| ClientError::Transport { url: self.base.clone(), source })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes =
                response.bytes().await.map_err(|source| ClientError::Transport { url: self.base.clone(), source })?;
            return Err(error_of(status, &bytes, &url));
        }
        let mut written = 0;
        while let Some(chunk) =
            response.chunk().await.map_err(|source| ClientError::Transport { url: self.base.clone(), source })?
        {
            out.write_all(&chunk).map_err(|err| ClientError::Decode {
                url: url.clone(),
                status: 200,
                detail: format!("cannot write the download: {err}"),
            })?;
            written += chunk.len() as u64;
        }
        Ok(written)
    }

    /// `PUT`s `length` bytes of `body` (a file, streamed) with its
    /// Content-Length.
    pub async fn upload<T: DeserializeOwned>(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        length: u64,
    ) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        let request = self
            .http
            .put(&url)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        self.send(request, &url).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{}", self.base, path);
        self.send(self.http.delete(&url), &url).await
    }

    pub async fn login(&self, body: &LoginRequest) -> Result<LoginResponse, ClientError> {
        self.post("/api/v1/login", body).await
    }

    pub async fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get("/api/v1/whoami").await
    }
}

/// The server's error body, or what it sent instead.
fn error_of(status: u16, bytes: &[u8], url: &str) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => ClientError::Api { status, body },
        Err(_) => ClientError::Decode {
            url: url.to_owned(),
            status,
            detail: String::from_utf8_lossy(bytes).chars().take(200).collect(),
        },
    }
}
