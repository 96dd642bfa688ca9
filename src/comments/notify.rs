//! Reply notifications, through the durable queue.
//!
//! When a reply becomes approved ([`on_approved`], in the transaction that
//! approves it), and its parent's author is a verified reader who asked for
//! replies and has not unsubscribed, one `comment_notifications` row is
//! inserted (unique per reply: a reply is never notified twice, however
//! often it is re-approved) and a `comment_reply` job is scheduled for that
//! reader and thread: now, or when the thread's cooldown ends. Jobs
//! scheduled for the same moment share a unique key, so replies within a
//! cooldown are gathered into one digest.
//!
//! The job ([`deliver`], in its completing transaction) takes the thread's
//! open notifications, drops replies no longer approved, re-schedules itself
//! if the cooldown has not passed, waits out the daily cap (re-scheduling
//! itself for when the oldest mail of the last 24 hours ages out, so capped
//! replies are delayed into a later digest, never dropped), and queues one
//! `send_mail` (the outbox) while marking the notifications handled, so a
//! crash neither loses nor doubles a notification.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{CommentRow, ModerationStatus};
use super::repo;
use crate::config::Settings;
use crate::db::schema::comment_notifications as n;
use crate::db::DbConnection;
use crate::jobs::{JobKind, NewJob};
use crate::mail::Template;

/// Longest reply text quoted in a mail, in characters.
const QUOTE_CHARS: usize = 500;

/// Records and schedules the notification for `reply`, which has just
/// become approved. Does nothing unless the parent's author is a verified,
/// opted-in reader other than the replier.
pub fn on_approved(conn: &mut DbConnection, settings: &Settings, reply: &CommentRow) -> QueryResult<()> {
    let Some(pid) = reply.parent_id else { return Ok(()) };
    let Some(parent) = repo::find(conn, pid)? else { return Ok(()) };
    let Some(reader_id) = parent.reader_id.filter(|_| parent.notify_replies && !parent.removed) else {
        return Ok(());
    };
    if reply.reader_id == Some(reader_id) {
        // Never mail the replier about their own reply.
        return Ok(());
    }
    let Some(reader) = crate::readers::repo::find(conn, reader_id)? else { return Ok(()) };
    if reader.verified_at.is_none() || reader.replies_unsubscribed_at.is_some() {
        return Ok(());
    }
    let exists: bool =
        diesel::select(diesel::dsl::exists(n::table.filter(n::reply_id.eq(reply.id)))).get_result(conn)?;
    if exists {
        return Ok(());
    }
    let now = crate::db::now();
    let inserted = conn.transaction(|c| {
        diesel::insert_into(n::table)
            .values((n::reader_id.eq(reader_id), n::thread_id.eq(pid), n::reply_id.eq(reply.id), n::created_at.eq(now)))
            .execute(c)
    });
    match inserted {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            return Ok(())
        }
        Err(e) => return Err(e),
    }
    schedule(conn, settings, reader_id, pid, now)
}

fn last_mailed(conn: &mut DbConnection, reader_id: i64, thread_id: i64) -> QueryResult<Option<NaiveDateTime>> {
    n::table
        .filter(n::reader_id.eq(reader_id))
        .filter(n::thread_id.eq(thread_id))
        .filter(n::outcome.eq("mailed"))
        .select(diesel::dsl::max(n::handled_at))
        .first(conn)
}

fn schedule(
    conn: &mut DbConnection,
    settings: &Settings,
    reader_id: i64,
    thread_id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let cooldown = chrono::Duration::minutes(settings.comments.reply_cooldown_minutes);
    let run_at = match last_mailed(conn, reader_id, thread_id)? {
        Some(t) if t + cooldown > now => t + cooldown,
        _ => now,
    };
    schedule_at(conn, reader_id, thread_id, run_at)
}

fn schedule_at(conn: &mut DbConnection, reader_id: i64, thread_id: i64, run_at: NaiveDateTime) -> QueryResult<()> {
    let job = NewJob::new(JobKind::CommentReply, serde_json::json!({"reader_id": reader_id, "thread_id": thread_id}))
        .run_at(run_at)
        .unique(format!("comment_reply:{reader_id}:{thread_id}:{}", run_at.and_utc().timestamp_millis()));
    crate::jobs::enqueue(conn, &job)?;
    Ok(())
}

fn close(conn: &mut DbConnection, ids: &[i64], outcome: &str, mail_id: Option<i64>) -> QueryResult<()> {
    diesel::update(n::table.filter(n::id.eq_any(ids)).filter(n::handled_at.is_null()))
        .set((n::handled_at.eq(crate::db::now()), n::outcome.eq(outcome), n::mail_id.eq(mail_id)))
        .execute(conn)
        .map(|_| ())
}

/// The `comment_reply` job's work, in its completing transaction: mails the
/// open notifications of `reader_id` on `thread_id` as one message, or
/// closes them (unsubscribed, withdrawn, capped), or re-schedules them when
/// the cooldown has not passed.
pub fn deliver(conn: &mut DbConnection, settings: &Settings, reader_id: i64, thread_id: i64) -> QueryResult<()> {
    let open: Vec<(i64, i64)> = n::table
        .filter(n::reader_id.eq(reader_id))
        .filter(n::thread_id.eq(thread_id))
        .filter(n::handled_at.is_null())
        .order(n::id)
        .select((n::id, n::reply_id))
        .load(conn)?;
    if open.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = open.iter().map(|(id, _)| *id).collect();
    let reader = crate::readers::repo::find(conn, reader_id)?;
    let parent = repo::find(conn, thread_id)?;
    let (Some(reader), Some(parent)) = (reader, parent) else { return close(conn, &ids, "unsubscribed", None) };
    if reader.replies_unsubscribed_at.is_some()
        || !parent.notify_replies
        || parent.removed
        || reader.verified_at.is_none()
    {
        return close(conn, &ids, "unsubscribed", None);
    }
    let reply_ids: Vec<i64> = open.iter().map(|(_, r)| *r).collect();
    let mut replies = repo::find_many(conn, &reply_ids)?;
    replies.retain(|r| r.status() == ModerationStatus::Approved && !r.removed);
    replies.sort_by_key(|r| (r.created_at, r.id));
    let live: Vec<i64> = replies.iter().map(|r| r.id).collect();
    let withdrawn: Vec<i64> = open.iter().filter(|(_, r)| !live.contains(r)).map(|(id, _)| *id).collect();
    close(conn, &withdrawn, "withdrawn", None)?;
    if replies.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = open.iter().filter(|(_, r)| live.contains(r)).map(|(id, _)| *id).collect();
    let now = crate::db::now();
    let cooldown = chrono::Duration::minutes(settings.comments.reply_cooldown_minutes);
    if last_mailed(conn, reader_id, thread_id)?.is_some_and(|t| t + cooldown > now) {
        return schedule(conn, settings, reader_id, thread_id, now);
    }
    let day = chrono::Duration::hours(24);
    let mailed_today: Vec<(Option<i64>, Option<NaiveDateTime>)> = n::table
        .filter(n::reader_id.eq(reader_id))
        .filter(n::outcome.eq("mailed"))
        .filter(n::handled_at.gt(now - day))
        .group_by(n::mail_id)
        .select((n::mail_id, diesel::dsl::max(n::handled_at)))
        .load(conn)?;
    if mailed_today.len() as i64 >= settings.comments.reply_daily_cap {
        // Capped: the replies wait (still open) until the oldest mail of the
        // last 24 hours ages out, then go out as one digest with any later ones.
        let oldest = mailed_today.iter().filter_map(|(_, at)| *at).min().unwrap_or(now);
        return schedule_at(conn, reader_id, thread_id, (oldest + day).max(now + chrono::Duration::seconds(1)));
    }
    let article = crate::articles::repo::find_by_key(conn, &crate::slugs::IdOrSlug::Id(parent.article_id))?;
    let (title, slug) = article.map(|a| (a.title, a.slug)).unwrap_or_default();
    let base = &settings.public_base_url;
    let cfg = &settings.comments;
    let thread_token = crate::readers::model::sign_unsubscribe(reader.id, &reader.secret, Some(thread_id));
    let all_token = crate::readers::model::sign_unsubscribe(reader.id, &reader.secret, None);
    let page = |token: &str, thread: Option<i64>| {
        let mut link = crate::auth::recovery::link(&cfg.unsubscribe_url, token);
        if let Some(t) = thread {
            link.push_str(&format!("&thread={t}"));
        }
        link
    };
    let one_click = format!("{base}/api/v1/readers/unsubscribe?token={thread_token}&thread={thread_id}");
    let quoted: Vec<serde_json::Value> = replies
        .iter()
        .map(|r| {
            let text: String = crate::articles::render::plain_text(&r.body).chars().take(QUOTE_CHARS).collect();
            serde_json::json!({"author": r.author_name, "text": text})
        })
        .collect();
    let params = serde_json::json!({
        "site": crate::auth::recovery::site(settings),
        "name": reader.name.clone().unwrap_or_else(|| "reader".into()),
        "article_title": title,
        "link": format!("{base}/{slug}#comment-{thread_id}"),
        "count": quoted.len(),
        "replies": quoted,
        "thread_unsubscribe": page(&thread_token, Some(thread_id)),
        "all_unsubscribe": page(&all_token, None),
        "list": {
            "id": format!("Replies to comment {thread_id} <comment-{thread_id}.replies.{}>", crate::mail::message::domain_of(&settings.mail.from)),
            "unsubscribe_url": one_click,
        },
    });
    let mail_id = crate::mail::queue(conn, &settings.mail.from, &reader.email, Template::CommentReply, params)?;
    close(conn, &ids, "mailed", Some(mail_id))
}
