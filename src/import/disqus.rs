//! `broadsheet import disqus FILE`: comments from a Disqus XML export
//! (Admin → Community → Export; the `<disqus xmlns="http://disqus.com">`
//! format with `<category>`, `<thread dsq:id>` and `<post dsq:id>`).
//!
//! - A thread is matched to an article by, in order: its `<id>` identifier
//!   when it starts with a WordPress post id (`"123 https://…/?p=123"`, what
//!   the Disqus WordPress plugin writes) and an imported article has that
//!   `import_key`; the last path segment of its `<link>` as a current or old
//!   slug; the identifier itself as a slug. Posts of threads with no match
//!   are skipped and counted.
//! - Posts become rows of `comments`: `isSpam` → `spam`, `isDeleted` →
//!   `trash`, otherwise `approved` (they were public on Disqus). The author's
//!   name is kept (an email typed as a name is cut to its local part), the
//!   email only in the private `author_email` column. The message is HTML,
//!   sanitized like WordPress comments.
//! - Rows carry `import_source = "disqus:<forum>"` and `import_key =
//!   "post:<dsq:id>"`: a re-import updates them, never duplicates. Replies
//!   get `parent_id` when the parent post is on the same article.
//! - Everything runs in one transaction: a file that fails to parse writes
//!   nothing. Only existing `comments` columns are written.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::Summary;
use crate::db::schema::{article_slug_history, articles, comments};
use crate::db::DbConnection;

/// Why a Disqus import failed (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum DisqusError {
    /// Not well-formed XML, or not a Disqus export.
    #[error("not a Disqus export: {0}")]
    Format(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
}

#[derive(Debug, Default, Clone)]
struct Thread {
    dsq_id: String,
    identifier: String,
    link: String,
    forum: String,
}

#[derive(Debug, Default, Clone)]
struct Post {
    dsq_id: String,
    message: String,
    created_at: String,
    is_deleted: bool,
    is_spam: bool,
    name: String,
    email: String,
    thread: String,
    parent: Option<String>,
}

#[derive(Debug, Default)]
struct Export {
    threads: Vec<Thread>,
    posts: Vec<Post>,
    forum: String,
}

fn dsq_id(e: &BytesStart) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == b"dsq:id")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

fn local(name: &[u8]) -> String {
    let n = String::from_utf8_lossy(name);
    n.rsplit(':').next().unwrap_or("").to_owned()
}

fn parse(input: impl BufRead) -> Result<Export, DisqusError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = Export::default();
    let mut thread: Option<Thread> = None;
    let mut post: Option<Post> = None;
    let err = |e: &dyn std::fmt::Display| DisqusError::Format(e.to_string());
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| err(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = local(e.name().as_ref());
                let empty = matches!(event, Event::Empty(_));
                if stack.is_empty() && name != "disqus" {
                    return Err(DisqusError::Format(format!("the root element is <{name}>, not <disqus>")));
                }
                match (stack.len(), name.as_str()) {
                    (1, "thread") => {
                        thread = Some(Thread { dsq_id: dsq_id(e).unwrap_or_default(), ..Default::default() })
                    }
                    (1, "post") => post = Some(Post { dsq_id: dsq_id(e).unwrap_or_default(), ..Default::default() }),
                    (2, "thread") => {
                        if let Some(p) = post.as_mut() {
                            p.thread = dsq_id(e).unwrap_or_default();
                        }
                    }
                    (2, "parent") => {
                        if let Some(p) = post.as_mut() {
                            p.parent = dsq_id(e);
                        }
                    }
                    _ => {}
                }
                text.clear();
                if !empty {
                    stack.push(name);
                } else if stack.len() == 1 {
                    // `<thread dsq:id="3"/>` at the top: a record with nothing in it.
                    if let Some(t) = thread.take() {
                        out.threads.push(t);
                    }
                    if let Some(p) = post.take() {
                        out.posts.push(p);
                    }
                }
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| err(&e))?),
            Event::CData(t) => text.push_str(&t.decode().map_err(|e| err(&e))?),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => text.push(c),
                _ => {
                    let entity = format!("&{};", r.decode().map_err(|e| err(&e))?);
                    text.push_str(&quick_xml::escape::unescape(&entity).map(|v| v.into_owned()).unwrap_or(entity));
                }
            },
            Event::End(_) => {
                let path: Vec<&str> = stack.iter().map(String::as_str).collect();
                let value = text.trim().to_owned();
                match path.as_slice() {
                    [_, "category", "forum"] if out.forum.is_empty() => out.forum = value,
                    [_, "thread"] => out.threads.extend(thread.take()),
                    [_, "thread", "id"] => set(&mut thread, |t| t.identifier = value),
                    [_, "thread", "link"] => set(&mut thread, |t| t.link = value),
                    [_, "thread", "forum"] => set(&mut thread, |t| t.forum = value),
                    [_, "post"] => out.posts.extend(post.take()),
                    [_, "post", "message"] => set(&mut post, |p| p.message = text.clone()),
                    [_, "post", "createdAt"] => set(&mut post, |p| p.created_at = value),
                    [_, "post", "isDeleted"] => set(&mut post, |p| p.is_deleted = value == "true"),
                    [_, "post", "isSpam"] => set(&mut post, |p| p.is_spam = value == "true"),
                    [_, "post", "author", "name"] => set(&mut post, |p| p.name = value),
                    [_, "post", "author", "email"] => set(&mut post, |p| p.email = value),
                    _ => {}
                }
                stack.pop();
                text.clear();
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(DisqusError::Format(format!("it ends inside <{open}>")));
                }
                if out.threads.is_empty() && out.posts.is_empty() && out.forum.is_empty() {
                    return Err(DisqusError::Format("no <disqus> element with threads or posts".into()));
                }
                return Ok(out);
            }
            _ => {}
        }
        buf.clear();
    }
}

fn set<T>(slot: &mut Option<T>, f: impl FnOnce(&mut T)) {
    if let Some(v) = slot.as_mut() {
        f(v);
    }
}

/// The article a thread belongs to (see the module doc for the order).
fn article_for(conn: &mut DbConnection, t: &Thread) -> QueryResult<Option<i64>> {
    if let Some(first) = t.identifier.split_whitespace().next().filter(|s| s.chars().all(|c| c.is_ascii_digit())) {
        let id: Option<i64> = articles::table
            .filter(articles::import_key.eq(first))
            .select(articles::id)
            .order(articles::id.asc())
            .first(conn)
            .optional()?;
        if id.is_some() {
            return Ok(id);
        }
    }
    let from_link = url::Url::parse(&t.link)
        .ok()
        .and_then(|u| u.path_segments().and_then(|mut s| s.rfind(|p| !p.is_empty()).map(str::to_owned)));
    for slug in [from_link, Some(t.identifier.clone())].into_iter().flatten().filter(|s| !s.is_empty()) {
        let id: Option<i64> =
            articles::table.filter(articles::slug.eq(&slug)).select(articles::id).first(conn).optional()?;
        if id.is_some() {
            return Ok(id);
        }
        let old: Option<i64> = article_slug_history::table
            .filter(article_slug_history::slug.eq(&slug))
            .select(article_slug_history::article_id)
            .first(conn)
            .optional()?;
        if old.is_some() {
            return Ok(old);
        }
    }
    Ok(None)
}

fn hide_email(name: &str) -> String {
    match name.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => local.to_owned(),
        _ => name.to_owned(),
    }
}

/// Imports a Disqus export read from `input`; see the module doc.
pub fn import(conn: &mut DbConnection, input: impl BufRead) -> Result<Summary, DisqusError> {
    let export = parse(input)?;
    let mut summary = Summary::default();
    let now = crate::db::now();
    conn.transaction(|c| {
        let mut thread_article: HashMap<String, (i64, String)> = HashMap::new();
        for t in &export.threads {
            if t.dsq_id.is_empty() {
                summary.skip("threads without dsq:id");
                continue;
            }
            match article_for(c, t)? {
                Some(a) => {
                    let forum = if t.forum.is_empty() { export.forum.clone() } else { t.forum.clone() };
                    thread_article.insert(t.dsq_id.clone(), (a, format!("disqus:{forum}")));
                }
                None => {
                    summary.warn(format!("thread {}: no article matches `{}` / `{}`", t.dsq_id, t.link, t.identifier));
                    summary.skip("threads with no matching article");
                }
            }
        }
        let mut ids: HashMap<String, (i64, i64)> = HashMap::new();
        let mut parents: Vec<(i64, i64, String, String)> = Vec::new();
        for p in &export.posts {
            let Some((article_id, source)) = thread_article.get(&p.thread).cloned() else {
                summary.skip("posts of unmatched threads");
                continue;
            };
            if p.dsq_id.is_empty() {
                summary.skip("posts without dsq:id");
                continue;
            }
            let status = if p.is_spam {
                "spam"
            } else if p.is_deleted {
                "trash"
            } else {
                "approved"
            };
            let created: NaiveDateTime =
                chrono::DateTime::parse_from_rfc3339(&p.created_at).map(|t| t.naive_utc()).unwrap_or_else(|_| {
                    summary.warn(format!("post {}: no usable createdAt; stamped with the import time", p.dsq_id));
                    now
                });
            let name = if p.name.trim().is_empty() { "Anonymous".to_owned() } else { hide_email(p.name.trim()) };
            let email = Some(p.email.clone()).filter(|e| !e.is_empty());
            let body = super::html::sanitize(&p.message);
            let key = format!("post:{}", p.dsq_id);
            let existing: Option<i64> = comments::table
                .filter(comments::import_source.eq(&source))
                .filter(comments::import_key.eq(&key))
                .select(comments::id)
                .first(c)
                .optional()?;
            let id = match existing {
                Some(id) => {
                    diesel::update(comments::table.find(id))
                        .set((
                            comments::article_id.eq(article_id),
                            comments::author_name.eq(&name),
                            comments::author_email.eq(&email),
                            comments::body.eq(&body),
                            comments::status.eq(status),
                            comments::created_at.eq(created),
                        ))
                        .execute(c)?;
                    summary.saved("comments", false);
                    id
                }
                None => {
                    diesel::insert_into(comments::table)
                        .values((
                            comments::article_id.eq(article_id),
                            comments::author_name.eq(&name),
                            comments::author_email.eq(&email),
                            comments::body.eq(&body),
                            comments::status.eq(status),
                            comments::kind.eq("comment"),
                            comments::import_source.eq(&source),
                            comments::import_key.eq(&key),
                            comments::created_at.eq(created),
                        ))
                        .execute(c)?;
                    let id = comments::table
                        .filter(comments::import_source.eq(&source))
                        .filter(comments::import_key.eq(&key))
                        .select(comments::id)
                        .first(c)?;
                    summary.saved("comments", true);
                    id
                }
            };
            ids.insert(p.dsq_id.clone(), (id, article_id));
            if let Some(parent) = &p.parent {
                parents.push((id, article_id, p.dsq_id.clone(), parent.clone()));
            }
        }
        for (id, article_id, dsq, parent) in parents {
            let parent_id = match ids.get(&parent) {
                Some((pid, a)) if *a == article_id => Some(*pid),
                _ => {
                    summary.warn(format!("post {dsq}: parent {parent} is not on the same article; made top-level"));
                    None
                }
            };
            diesel::update(comments::table.find(id)).set(comments::parent_id.eq(parent_id)).execute(c)?;
        }
        Ok::<_, DisqusError>(())
    })?;
    Ok(summary)
}
