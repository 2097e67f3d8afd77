//! Jobs: submit, list (squeue/sacct), show, cancel, hold, release.

use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::{Json, Path, Query};
use crate::http::{AppState, to_api};
use crate::service::{Caller, JobSelection, ServiceError, SubmitJob};
use axum::extract::State;
use axum::http::StatusCode;
use lushan_api::{ErrorBody, Job, JobOutput, JobQuery, JobSignal, JobSubmit, JobSubmitted, OutputQuery};
use lushan_model::{JobId, JobState};

/// Submit a batch job. Answers 201 only after the job is stored.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), request_body = JobSubmit,
    params(("Idempotency-Key" = Option<String>, Header, description = "Names this submission: a retry with the same key returns the job stored the first time (200) instead of storing another. Same as the body's `idempotency_key`; if both are given they must be equal.")),
    responses((status = 201, body = JobSubmitted), (status = 200, description = "An earlier submission with the same idempotency key", body = JobSubmitted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 402, description = "The job's funding cannot cover its worst case; the message says both amounts", body = ErrorBody),
        (status = 409, description = "Over a project's or user's limit on jobs pending or running (`lushan admin limits`)", body = ErrorBody)))]
pub async fn jobs_create(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Json(mut body): Json<JobSubmit>,
) -> Result<(StatusCode, Json<JobSubmitted>), ApiError> {
    let now = now_ms();
    body.idempotency_key = idempotency_key(&headers, body.idempotency_key)?;
    let input = submit_input(body);
    let submitted = state.services.submit_job(&caller, input, now).await?;
    let status = if submitted.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(JobSubmitted {
            job: to_api::job(submitted.job, now),
            warnings: submitted.warnings,
            created: submitted.created,
        }),
    ))
}

/// The submission's idempotency key: the standard `Idempotency-Key`
/// header or the body's field, which must agree when both are given.
fn idempotency_key(headers: &axum::http::HeaderMap, in_body: Option<String>) -> Result<Option<String>, ServiceError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(in_body) };
    let header = value
        .to_str()
        .map_err(|_| ServiceError::Invalid("the Idempotency-Key header must be printable ASCII".into()))?
        .trim()
        .to_owned();
    match in_body {
        Some(key) if key != header => Err(ServiceError::Invalid(
            "the Idempotency-Key header and the body's idempotency_key differ; send one, or the same in both".into(),
        )),
        _ => Ok(Some(header)),
    }
}

pub(super) fn submit_input(body: JobSubmit) -> SubmitJob {
    SubmitJob {
        script: body.script,
        options: body.options,
        args: body.args,
        // Dropped here, before anything is stored, whatever the client sent.
        env: body.env.into_iter().filter(|(name, _)| lushan_model::reaches_job(name)).collect(),
        submit_dir: body.submit_dir,
        idempotency_key: body.idempotency_key,
        allocation: body.allocation,
    }
}

fn parse_selection(query: JobQuery) -> Result<JobSelection, ServiceError> {
    let mut states = match &query.state {
        Some(text) => Some(text.split(',').map(|s| s.trim().parse::<JobState>()).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    if query.active == Some(true) {
        let active = [JobState::Pending, JobState::Running];
        states = Some(match states {
            Some(list) => list.into_iter().filter(|s| active.contains(s)).collect(),
            None => active.to_vec(),
        });
    }
    let jobs = match &query.ids {
        Some(text) => Some(
            text.split(',')
                .map(|word| lushan_sbatch::parse_job_ref(word.trim()).map_err(ServiceError::Invalid))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    if query.array.is_some_and(|a| a < 1) {
        return Err(ServiceError::Invalid("array is a job id, 1 or more".into()));
    }
    // Every field of the query by name: one added to the API and not
    // passed on to the selection does not compile.
    let JobQuery { state: _, active: _, user, project, ids: _, array, start: _, priority: _ } = query;
    Ok(JobSelection { states, user, project, jobs, array: array.map(JobId) })
}

/// Jobs the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), params(JobQuery),
    responses((status = 200, body = Vec<Job>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn jobs_list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<JobQuery>,
) -> Result<Json<Vec<Job>>, ApiError> {
    let now = now_ms();
    let with_start = query.start == Some(true);
    let with_priority = query.priority == Some(true);
    let jobs = state.services.list_jobs(&caller, parse_selection(query)?).await?;
    let estimates = if with_start { state.services.estimated_starts().await? } else { Default::default() };
    let priorities =
        if with_priority { state.services.job_priorities().await?.unwrap_or_default() } else { Default::default() };
    Ok(Json(
        jobs.into_iter()
            .map(|j| {
                let estimate = estimates.get(&j.id).copied().flatten();
                let priority = priorities.get(&j.id).map(to_api::job_priority);
                let mut job = to_api::job(j, now);
                job.estimated_start = estimate.map(to_api::time);
                job.priority = priority;
                job
            })
            .collect(),
    ))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "job id")),
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn jobs_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let mut job = to_api::job(state.services.job(&caller, id).await?, now_ms());
    job.charge = state.services.job_charge(&caller, id).await?.map(to_api::job_charge);
    Ok(Json(job))
}

/// Cancel a job: at once if pending; SIGTERM, then SIGKILL after the grace time, if running.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "job id")),
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let now = now_ms();
    Ok(Json(to_api::job(state.services.cancel_job(&caller, id, now).await?, now)))
}

/// Hold a pending job: it will not start until released.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/hold", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "job id")),
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let now = now_ms();
    Ok(Json(to_api::job(state.services.hold_job(&caller, id, true, now).await?, now)))
}

/// Release a held job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/release", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "job id")),
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Job>, ApiError> {
    let now = now_ms();
    Ok(Json(to_api::job(state.services.hold_job(&caller, id, false, now).await?, now)))
}

/// Read a job's output (`lushan logs`): a slice from an offset, to follow it.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/output", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "job id"), OutputQuery),
    responses((status = 200, body = JobOutput), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_output(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<OutputQuery>,
) -> Result<Json<JobOutput>, ApiError> {
    const MAX: u64 = 1024 * 1024;
    let stderr = match query.stream.as_deref() {
        None | Some("stdout") => false,
        Some("stderr") => true,
        Some(other) => return Err(ServiceError::Invalid(format!("stream `{other}`: use stdout or stderr")).into()),
    };
    let limit = query.limit.unwrap_or(MAX).clamp(1, MAX);
    let (job, chunk) = state.services.job_output(&caller, id, stderr, query.offset.unwrap_or(0), limit).await?;
    Ok(Json(JobOutput {
        job_id: job.id.0,
        stream: if stderr { "stderr" } else { "stdout" }.into(),
        offset: chunk.offset,
        next_offset: chunk.offset + chunk.data.len() as u64,
        size: chunk.size,
        data: String::from_utf8_lossy(&chunk.data).into_owned(),
        job_state: job.state.as_str().into(),
    }))
}

/// Send a signal to a running job's processes (`scancel --signal`).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/signal", tag = "jobs", security(("bearer" = [])), request_body = JobSignal,
    params(("id" = i64, Path, description = "job id")),
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn jobs_signal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<JobSignal>,
) -> Result<Json<Job>, ApiError> {
    let now = now_ms();
    Ok(Json(to_api::job(state.services.signal_job(&caller, id, &body.signal, now).await?, now)))
}
