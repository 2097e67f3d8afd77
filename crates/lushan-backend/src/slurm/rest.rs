//! The REST transport: slurmrestd's API v0.0.38 ([`v0038`]), with a JWT
//! minted here for the Unix user each request acts as ([`jwt::mint`]).

use super::{Inventory, JobAccounting, RemoteJob, SlurmError, SubmitSpec, accounts, jwt, v0038};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long a minted token lives: long enough for one request and its
/// retries, short enough to be useless if it leaks into a log.
const TOKEN_LIFESPAN_SECS: i64 = 300;

/// One Slurm cluster behind its slurmrestd.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
    key: std::sync::Arc<Vec<u8>>,
    /// The account Lushan reads the cluster as (never root).
    service_user: String,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest").field("base", &self.base).field("service_user", &self.service_user).finish()
    }
}

/// Seconds since the epoch, for the tokens' `iat`/`exp`.
fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Rest {
    /// A client for `rest_url` signing with the key at `key_path`.
    pub(super) fn open(
        rest_url: &str,
        key_path: &str,
        service_user: &str,
        timeout: Duration,
    ) -> Result<Rest, SlurmError> {
        let key = std::fs::read(key_path).map_err(|source| SlurmError::Key { path: key_path.to_owned(), source })?;
        if key.is_empty() {
            return Err(SlurmError::Key {
                path: key_path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the key file is empty"),
            });
        }
        // reqwest is built without a default crypto provider (for https
        // sites); the first caller installs ring, later calls find it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build().map_err(|e| {
            SlurmError::Protocol { url: rest_url.to_owned(), detail: format!("cannot build an HTTP client: {e}") }
        })?;
        Ok(Rest {
            http,
            base: rest_url.trim_end_matches('/').to_owned(),
            key: std::sync::Arc::new(key),
            service_user: service_user.to_owned(),
        })
    }

    async fn request<T: DeserializeOwned + Default>(
        &self,
        method: reqwest::Method,
        path: &str,
        user: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Option<T>, SlurmError> {
        let url = format!("{}{path}", self.base);
        let token = jwt::mint(&self.key, user, now_secs(), TOKEN_LIFESPAN_SECS);
        let mut request =
            self.http.request(method, &url).header("X-SLURM-USER-NAME", user).header("X-SLURM-USER-TOKEN", token);
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        let response = request
            .send()
            .await
            .map_err(|e| SlurmError::Unreachable { url: self.base.clone(), detail: e.to_string() })?;
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(None);
        }
        // slurmrestd answers a bad token with 500, not 401 (SLURM.md, gotcha 6).
        if status == 401 || status == 403 {
            return Err(SlurmError::Unauthenticated { url: self.base.clone(), status });
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SlurmError::Unreachable { url: self.base.clone(), detail: e.to_string() })?;
        // A token slurmctld refuses comes back as HTTP 500 with Slurm's
        // generic error (-1), or an empty body (SLURM.md, gotcha 6).
        if status == 500 {
            let envelope: v0038::Envelope = serde_json::from_slice(&bytes).unwrap_or_default();
            if envelope.errors.iter().all(|e| e.error_number.unwrap_or(-1) == -1) {
                return Err(SlurmError::Unauthenticated { url: self.base.clone(), status });
            }
        }
        match serde_json::from_slice::<T>(&bytes) {
            Ok(value) => Ok(Some(value)),
            Err(err) => {
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                Err(SlurmError::Protocol { url: url.clone(), detail: format!("HTTP {status}, {err}: {text:?}") })
            }
        }
    }

    async fn get<T: DeserializeOwned + Default>(&self, path: &str, user: &str) -> Result<Option<T>, SlurmError> {
        self.request(reqwest::Method::GET, path, user, None).await
    }

    /// Slurm's release (`22.05.8`) if slurmctld answers.
    pub(super) async fn ping(&self) -> Result<String, SlurmError> {
        let pings: v0038::Pings =
            self.get(&format!("{}/ping", v0038::SLURM), &self.service_user).await?.unwrap_or_default();
        refuse(&pings.envelope.errors)?;
        if !pings.pings.iter().any(|p| p.ping == "UP") {
            return Err(SlurmError::Refused("slurmctld does not answer slurmrestd's ping".into()));
        }
        Ok(pings.envelope.meta.slurm.and_then(|s| s.release).unwrap_or_default())
    }

    /// Whether slurmdbd answers (accounting is what jobs are charged from).
    pub(super) async fn accounting_ok(&self) -> Result<(), SlurmError> {
        let envelope: v0038::Envelope =
            self.get(&format!("{}/diag", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&envelope.errors)
    }

    pub(super) async fn inventory(&self) -> Result<Inventory, SlurmError> {
        let nodes: v0038::Nodes =
            self.get(&format!("{}/nodes", v0038::SLURM), &self.service_user).await?.unwrap_or_default();
        refuse(&nodes.envelope.errors)?;
        let partitions: v0038::Partitions =
            self.get(&format!("{}/partitions", v0038::SLURM), &self.service_user).await?.unwrap_or_default();
        refuse(&partitions.envelope.errors)?;
        Ok(v0038::inventory(nodes, partitions))
    }

    /// Submits a batch job as `user`; its Slurm job id.
    pub(super) async fn submit(&self, user: &str, spec: &SubmitSpec) -> Result<u64, SlurmError> {
        let body = v0038::submit_body(spec);
        let submitted: v0038::Submitted = self
            .request(reqwest::Method::POST, &format!("{}/job/submit", v0038::SLURM), user, Some(&body))
            .await?
            .unwrap_or_default();
        refuse(&submitted.envelope.errors)?;
        submitted.job_id.ok_or_else(|| SlurmError::Protocol {
            url: self.base.clone(),
            detail: "the submission was accepted without a job id".into(),
        })
    }

    /// Every job slurmctld holds, if anything changed since `since_secs`
    /// (`None`: nothing did). One request however many jobs Lushan follows.
    pub(super) async fn jobs_since(&self, since_secs: i64) -> Result<Option<Vec<RemoteJob>>, SlurmError> {
        let path = format!("{}/jobs?update_time={since_secs}", v0038::SLURM);
        let Some(jobs) = self.get::<v0038::Jobs>(&path, &self.service_user).await? else { return Ok(None) };
        refuse(&jobs.envelope.errors)?;
        Ok(Some(jobs.jobs.into_iter().map(v0038::remote_job).collect()))
    }

    /// A job's accounting record, once slurmdbd has it.
    pub(super) async fn accounting(&self, id: u64) -> Result<Option<JobAccounting>, SlurmError> {
        let jobs: v0038::DbJobs =
            self.get(&format!("{}/job/{id}", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        // 9003 "Nothing found": not (yet) in the database.
        if jobs.envelope.errors.iter().any(|e| e.error_number == Some(9003)) {
            return Ok(None);
        }
        refuse(&jobs.envelope.errors)?;
        Ok(jobs.jobs.into_iter().find(|j| j.job_id == id).map(v0038::accounting))
    }

    /// Holds (priority 0, reason `JobHeldUser`) or releases a pending job, as `user`.
    pub(super) async fn set_held(&self, user: &str, id: u64, held: bool) -> Result<(), SlurmError> {
        let body = serde_json::json!({ "hold": held });
        let envelope: v0038::Envelope = self
            .request(reqwest::Method::POST, &format!("{}/job/{id}", v0038::SLURM), user, Some(&body))
            .await?
            .unwrap_or_default();
        refuse(&envelope.errors)
    }

    /// The accounting records of several jobs in one request (slurmdbd
    /// answers any query in about 0.35 s here, however few jobs it names),
    /// for those it has.
    pub(super) async fn accounting_of(&self, ids: &[u64]) -> Result<Vec<JobAccounting>, SlurmError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(200) {
            let list = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join("%2C");
            let path = format!("{}/jobs?step={list}&skip_steps=true", v0038::SLURMDB);
            let jobs: v0038::DbJobs = self.get(&path, &self.service_user).await?.unwrap_or_default();
            if !jobs.envelope.errors.iter().any(|e| e.error_number == Some(9003)) {
                refuse(&jobs.envelope.errors)?;
            }
            out.extend(jobs.jobs.into_iter().filter(|j| chunk.contains(&j.job_id)).map(v0038::accounting));
        }
        Ok(out)
    }

    /// Signals a job (SIGKILL is Slurm's cancel), as `user`. A job Slurm
    /// no longer knows is not an error: it ended.
    pub(super) async fn cancel(&self, user: &str, id: u64, signal: Option<&str>) -> Result<(), SlurmError> {
        let query = signal.map(|s| format!("?signal={s}")).unwrap_or_default();
        let envelope: v0038::Envelope = self
            .request(reqwest::Method::DELETE, &format!("{}/job/{id}{query}", v0038::SLURM), user, None)
            .await?
            .unwrap_or_default();
        if envelope.errors.iter().any(|e| e.error_number == Some(2017)) {
            return Ok(());
        }
        refuse(&envelope.errors)
    }
}

impl Rest {
    /// The clusters slurmdbd keeps accounts for.
    pub(super) async fn clusters(&self) -> Result<Vec<String>, SlurmError> {
        let clusters: v0038::Clusters =
            self.get(&format!("{}/clusters", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&clusters.envelope.errors)?;
        Ok(clusters.clusters.into_iter().map(|c| c.name).collect())
    }

    /// `cluster`'s accounts, their parents and users, as slurmdbd has them
    /// (three slurmdbd queries).
    pub(super) async fn accounts(&self, cluster: &str) -> Result<accounts::ClusterAccounts, SlurmError> {
        let listed: v0038::Accounts =
            self.get(&format!("{}/accounts", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&listed.envelope.errors)?;
        let path = format!("{}/associations?cluster={cluster}", v0038::SLURMDB);
        let associations: v0038::Associations = self.get(&path, &self.service_user).await?.unwrap_or_default();
        refuse(&associations.envelope.errors)?;
        let users: v0038::Users =
            self.get(&format!("{}/users", v0038::SLURMDB), &self.service_user).await?.unwrap_or_default();
        refuse(&users.envelope.errors)?;
        Ok(v0038::cluster_accounts(listed, associations, users))
    }

    /// Makes `changes` on `cluster` as the service user (which slurmdbd
    /// must know as an administrator: `slurm`, the SlurmUser, is). What
    /// slurmdbd said against them comes back; whether they took is for
    /// the caller to see by reading the accounts again, because 22.05
    /// reports "Missing required field 'user'" for an account's
    /// association it does create.
    pub(super) async fn apply_accounts(
        &self,
        cluster: &str,
        changes: &[accounts::AccountChange],
    ) -> Result<Vec<String>, SlurmError> {
        let mut said = v0038::unsupported(cluster, changes);
        for (method, path, body) in v0038::account_requests(cluster, changes) {
            let envelope: v0038::Envelope =
                self.request(method, &path, &self.service_user, body.as_ref()).await?.unwrap_or_default();
            said.extend(
                envelope
                    .errors
                    .iter()
                    .map(v0038::Error::text)
                    .filter(|text| !text.contains("Missing required field 'user'")),
            );
        }
        Ok(said)
    }
}

fn refuse(errors: &[v0038::Error]) -> Result<(), SlurmError> {
    match errors.first() {
        None => Ok(()),
        Some(_) => Err(SlurmError::Refused(errors.iter().map(v0038::Error::text).collect::<Vec<_>>().join("; "))),
    }
}
