//! HTTP handlers for `/api/v1/jobs` (admins signed in as users).

use actix_web::{get, post, web, HttpRequest, HttpResponse};

use super::dto::{Job, JobEnvelope, JobList, JobQuery};
use super::repo::{self, JobFilter};
use super::{JobKind, JobState};
use crate::auth::{Action, AuthUser};
use crate::error::{ApiError, Problem};
use crate::http::{AppState, Id};
use crate::pagination::{self, PageParams};

impl TryFrom<&JobQuery> for (JobFilter, PageParams) {
    type Error = ApiError;

    fn try_from(q: &JobQuery) -> Result<Self, ApiError> {
        let page = PageParams::parse(q.page.as_deref(), q.per_page.as_deref())?;
        let state = q
            .state
            .as_deref()
            .map(|s| {
                JobState::parse(s)
                    .ok_or_else(|| ApiError::invalid("state", "must be one of queued, running, failed, done, dead"))
            })
            .transpose()?;
        let kind = q
            .kind
            .as_deref()
            .map(|k| {
                JobKind::parse(k).ok_or_else(|| {
                    ApiError::invalid(
                        "kind",
                        "must be one of send_mail, password_reset, probe, subscribe, webhook_delivery",
                    )
                })
            })
            .transpose()?;
        Ok((JobFilter { state, kind }, page))
    }
}

/// List background jobs, newest first.
///
/// Shows state, attempts, the last error and timestamps; never payloads.
#[utoipa::path(
    tag = "jobs",
    security(("bearer" = [])),
    params(JobQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobList),
        (status = 400, description = "A bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/jobs")]
pub async fn list_jobs(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: AuthUser,
    query: web::Query<JobQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageJobs)?;
    let (filter, page) = <(JobFilter, PageParams)>::try_from(&*query)?;
    let (rows, total) = crate::db::run(&state.pool, move |c| Ok(repo::list(c, &filter, &page)?)).await?;
    let meta = page.meta(total);
    let body = JobList { data: rows.into_iter().map(Job::from).collect(), meta };
    Ok(pagination::respond(&state.settings.public_base_url, &req, &meta, &body))
}

/// Run a failed or dead job again, now, with its attempt count reset.
#[utoipa::path(
    tag = "jobs",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id", minimum = 1)),
    responses(
        (status = 200, description = "Queued again", body = JobEnvelope),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not failed or dead", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/jobs/{id}/retry")]
pub async fn retry_job(state: web::Data<AppState>, auth: AuthUser, id: Id) -> Result<HttpResponse, ApiError> {
    auth.0.require(Action::ManageJobs)?;
    let id = id.get();
    let job = crate::db::write(&state.pool, move |c| {
        let current =
            repo::find(c, id).map_err(|e| ApiError::from(e).with_not_found(format!("no job with id {id}")))?;
        if !repo::retry(c, id)? {
            return Err(ApiError::Conflict(format!(
                "job {id} is {}; only failed or dead jobs can be retried",
                current.state
            )));
        }
        Ok(repo::find(c, id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(JobEnvelope { data: Job::from(job) }))
}
