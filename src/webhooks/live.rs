//! `article_live` job: sends `article.published` when a scheduled article's
//! time comes. Payload: `{"article_id"}`; queued (unique per article and
//! time) by [`super::article_changed`] whenever a save leaves an article
//! scheduled, to run at its `published_at`.
//!
//! The work happens in the transaction that completes the job: if the
//! article is public by then and not yet announced, it is announced and the
//! event queued for every endpoint. A rescheduled, unpublished or deleted
//! article makes the job do nothing (a later time has its own job), and the
//! announcement record makes a retry, a save racing the job, or a second
//! runner send nothing twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;

use crate::jobs::repo::ClaimedJob;
use crate::jobs::runner::{JobContext, JobResult};
use crate::jobs::{JobKind, NewJob};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    article_id: i64,
}

/// The job for article `id` going live at `at`.
pub fn job(id: i64, at: NaiveDateTime) -> NewJob {
    NewJob::new(JobKind::ArticleLive, serde_json::json!({ "article_id": id }))
        .run_at(at)
        .unique(format!("article-live:{id}:{}", at.and_utc().timestamp_micros()))
}

/// Runs one attempt.
pub async fn run(_ctx: &JobContext, _job: &ClaimedJob, payload: serde_json::Value) -> JobResult {
    let Payload { article_id } = serde_json::from_value(payload)?;
    Ok(Some(Box::new(move |c| went_live(c, article_id, crate::db::now()).map(drop))))
}

/// Announces article `id` if it is public at `now` and not announced yet;
/// returns how many deliveries were queued.
pub fn went_live(c: &mut crate::db::DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    let Some(row) = crate::articles::repo::find(c, id).optional()? else { return Ok(0) };
    if !row.is_public(now) || !super::repo::announce(c, id, now)? {
        return Ok(0);
    }
    super::emit(c, super::Event::ArticlePublished, super::article_data(&row, now))
}
