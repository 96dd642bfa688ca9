//! The write rules of comments: validation, the article and parent checks,
//! the reader or staff identity, the moderation policy, the author's edit
//! window, moderation, votes; and the public thread (threading, sorts and
//! paging by top-level thread). Functions run on the caller's connection;
//! callers wrap writes in a transaction.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::NaiveDateTime;

use super::model::{kind, CommentRow, ModerationStatus, NewComment};
use super::policy::{self, Candidate};
use super::{render, repo};
use crate::articles::model::ArticleRow;
use crate::auth::tokens;
use crate::auth::{Action, Principal, Role};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::readers::model::{ReaderEmail, ReaderRow};

/// Longest name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest website URL, in bytes.
pub const MAX_URL: usize = 500;
/// Longest edit token accepted (longer is refused before any query).
pub const MAX_TOKEN: usize = 200;
/// Most ids in one bulk change.
pub const MAX_BULK: usize = 100;
/// Text shown in place of a removed comment that still has replies.
pub const REMOVED: &str = "[removed]";

/// The header carrying the edit token.
pub const EDIT_TOKEN_HEADER: &str = "X-Edit-Token";

/// A comment request that passed validation.
#[derive(Clone, Debug)]
pub struct Validated {
    /// The reader's address (absent for signed-in users).
    pub email: Option<ReaderEmail>,
    /// Display name, neutralised (no `<`, `>`, control characters).
    pub name: Option<String>,
    /// An `http`/`https` URL.
    pub website: Option<String>,
    /// The text as written, trimmed.
    pub source: String,
    /// Its sanitized HTML.
    pub html: String,
    /// The comment replied to.
    pub parent_id: Option<i64>,
    /// Whether the author wants reply notifications.
    pub notify_replies: bool,
    /// Whether the honeypot field was filled.
    pub honeypot: bool,
    /// `X-Reader-Token`: proves the poster owns `email`. Without it (or with
    /// another reader's) the address counts as unverified for the policy.
    pub reader_token: Option<String>,
    /// The signed form token, if sent (readers only; see [`super::form`]).
    pub form_token: Option<String>,
    /// The client's `User-Agent` (at most 500 bytes), for the external checker only; never stored.
    pub user_agent: Option<String>,
    /// The `Referer` (at most 500 bytes), for the external checker only; never stored.
    pub referrer: Option<String>,
}

/// Validates a name: trimmed, 1–[`MAX_NAME`] characters; angle brackets and
/// control characters are dropped (names are plain text everywhere).
pub fn parse_name(raw: &str) -> Result<String, ApiError> {
    let name: String = raw.trim().chars().filter(|c| !c.is_control() && *c != '<' && *c != '>').collect();
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "is required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::invalid("name", format!("is longer than {MAX_NAME} characters")));
    }
    Ok(name)
}

/// Validates a website: empty means none; else an absolute `http` or `https`
/// URL of at most [`MAX_URL`] bytes with a host (so no `javascript:` or `data:`).
pub fn parse_website(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.len() > MAX_URL {
        return Err(ApiError::invalid("website", format!("is longer than {MAX_URL} bytes")));
    }
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(Some(u.to_string())),
        _ => Err(ApiError::invalid("website", "must be an http or https URL")),
    }
}

/// Validates and renders a body: trimmed, not empty, at most
/// `COMMENT_MAX_CHARS` characters, nesting within the renderer's limit.
pub fn parse_body(settings: &Settings, raw: &str) -> Result<(String, String), ApiError> {
    let source = raw.trim();
    if source.is_empty() {
        return Err(ApiError::invalid("body", "is required"));
    }
    let max = settings.comments.max_chars;
    if source.chars().count() > max {
        return Err(ApiError::invalid("body", format!("is longer than {max} characters")));
    }
    if source.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(ApiError::invalid("body", "holds control characters"));
    }
    let html = render::render(source).map_err(|m| ApiError::invalid("body", m))?;
    Ok((source.to_owned(), html))
}

/// The public article named by `key` (id, slug or old slug): 404 unless it
/// is published and not password-protected.
pub fn public_article(conn: &mut DbConnection, key: &str, now: NaiveDateTime) -> Result<ArticleRow, ApiError> {
    let parsed = crate::slugs::IdOrSlug::parse(key);
    let mut article = crate::articles::repo::find_by_key(conn, &parsed)?;
    if article.is_none() {
        if let crate::slugs::IdOrSlug::Slug(s) = &parsed {
            article = crate::articles::repo::redirect_for(conn, s)?.map(|(_, a)| a);
        }
    }
    article
        .filter(|a| a.is_public(now) && !a.password_protected)
        .ok_or_else(|| ApiError::NotFound(format!("no published article `{key}`")))
}

/// The depth of comment `id` (0 for top level), walking at most `limit + 1` parents.
fn depth_of(conn: &mut DbConnection, mut row: CommentRow, limit: i64) -> Result<i64, ApiError> {
    let mut depth = 0;
    while let Some(p) = row.parent_id {
        depth += 1;
        if depth > limit {
            break;
        }
        row = match repo::find(conn, p)? {
            Some(r) => r,
            None => break,
        };
    }
    Ok(depth)
}

/// Who is posting.
#[derive(Clone, Debug)]
pub enum Poster {
    /// A reader: the address and name they gave.
    Reader,
    /// A signed-in user (staff), commenting as themselves.
    Staff {
        /// User id.
        user_id: i64,
        /// Their author profile.
        author_id: Option<i64>,
    },
}

/// A stored comment and what the poster needs to know.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The new row.
    pub row: CommentRow,
    /// The edit token (shown once).
    pub edit_token: String,
    /// The reasons of the policy's decision.
    pub reasons: Vec<String>,
    /// Whether a verification mail was queued.
    pub verification_sent: bool,
}

/// Stores a comment on the article `key`: the article must be public and
/// open (403 when closed), the parent an approved comment on it within
/// `COMMENT_MAX_DEPTH`. Readers are found or created by address and, when
/// unverified, sent one verification mail per cooldown; the policy decides
/// the state and its reasons are recorded.
pub fn post(
    conn: &mut DbConnection,
    settings: &Settings,
    key: &str,
    poster: &Poster,
    v: &Validated,
    ip: IpAddr,
) -> Result<Posted, ApiError> {
    let now = crate::db::now();
    let article = public_article(conn, key, now)?;
    if article.comment_status != "open" {
        return Err(ApiError::Forbidden("comments are closed on this article".into()));
    }
    if let Some(pid) = v.parent_id {
        let parent = repo::find(conn, pid)?
            .filter(|p| p.article_id == article.id && p.kind == kind::COMMENT)
            .ok_or_else(|| ApiError::unprocessable("parent_id", "names no comment on this article"))?;
        if !parent.is_visible() {
            return Err(ApiError::unprocessable("parent_id", "names a comment that is not approved"));
        }
        let max = settings.comments.max_depth;
        if depth_of(conn, parent, max)? + 1 > max {
            return Err(ApiError::unprocessable("parent_id", format!("replies may nest at most {max} levels deep")));
        }
    }
    // Checked and used up in this transaction: a post that fails later
    // leaves the token usable.
    let form_age_ms = match (poster, &v.form_token) {
        (Poster::Reader, Some(token)) => Some(super::form::redeem(conn, &settings.comments, token, article.id, now)?),
        _ => None,
    };
    let edit_token = format!("bce_{}", tokens::random_secret());
    let (new, reader, staff_role) = match poster {
        Poster::Staff { user_id, author_id } => {
            let bylined = match author_id {
                Some(a) => repo::bylines(conn, article.id)?.contains(a),
                None => false,
            };
            let name = match author_id {
                Some(a) => {
                    diesel::OptionalExtension::optional(crate::authors::repo::find(conn, *a))?.map(|a| a.display_name)
                }
                None => None,
            }
            .or_else(|| v.name.clone())
            .unwrap_or_else(|| "Staff".into());
            let role = if bylined { "author" } else { "staff" };
            (
                new_comment(&article, v, name, None, None, Some(*user_id), Some(role), &edit_token, ip, now),
                None,
                Some(role),
            )
        }
        Poster::Reader => {
            let email = v.email.as_ref().ok_or_else(|| ApiError::invalid("email", "is required"))?;
            let name = v.name.clone().ok_or_else(|| ApiError::invalid("name", "is required"))?;
            let proven = match &v.reader_token {
                Some(t) => Some(crate::readers::service::by_signed_token(conn, t)?.id),
                None => None,
            };
            let mut reader = crate::readers::service::find_or_create(conn, email, &name, now)?;
            if proven != Some(reader.id) {
                // Verified means "proved this address here", not "someone
                // once did": an address alone never earns auto-approval.
                reader.verified_at = None;
            }
            let n =
                new_comment(&article, v, name, Some(&email.address), Some(reader.id), None, None, &edit_token, ip, now);
            (n, Some(reader), None)
        }
    };
    let decision = match staff_role {
        Some(role) => policy::Decision {
            status: ModerationStatus::Approved,
            reasons: vec![format!("staff: posted by a signed-in user ({role})")],
        },
        None => {
            let candidate = Candidate {
                article_id: article.id,
                comment_id: None,
                body: &v.source,
                name: &new.author_name,
                email_key: v.email.as_ref().map(|e| e.key.as_str()),
                website: v.website.as_deref(),
                ip: Some(ip),
                honeypot: v.honeypot,
                reader_id: reader.as_ref().map(|r| r.id),
                verified: reader.as_ref().is_some_and(|r| r.verified_at.is_some()),
                now,
                form_age_ms,
            };
            policy::decide(conn, &settings.comments, &policy::builtin(), &candidate)?
        }
    };
    // With the external checker on, what the built-in checks did not make
    // spam waits (pending) for the `comment_spam_check` job.
    let external =
        settings.comments.akismet.is_some() && staff_role.is_none() && decision.status != ModerationStatus::Spam;
    let builtin_decision = decision.clone();
    let decision = if external {
        let mut reasons = decision.reasons;
        reasons.push(super::akismet::WAITING.into());
        policy::Decision { status: ModerationStatus::Pending, reasons }
    } else {
        decision
    };
    let new = NewComment { status: decision.status.as_str().into(), ..new };
    let id = repo::insert(conn, &new)?;
    repo::record_decision(conn, id, decision.status, "policy", &decision.reasons, now)?;
    if external {
        super::akismet::enqueue(conn, id, &builtin_decision, v.user_agent.as_deref(), v.referrer.as_deref())?;
    }
    let verification_sent = match &reader {
        // Spam never mails anyone.
        Some(r) if decision.status != ModerationStatus::Spam => {
            crate::readers::service::send_verification(conn, settings, r, now)?
        }
        _ => false,
    };
    let row = repo::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
    crate::webhooks::comment_posted(conn, &row)?;
    if decision.status == ModerationStatus::Approved {
        super::notify::on_approved(conn, settings, &row)?;
    }
    Ok(Posted { row, edit_token, reasons: decision.reasons, verification_sent })
}

#[expect(clippy::too_many_arguments, reason = "one constructor for both kinds of poster")]
fn new_comment(
    article: &ArticleRow,
    v: &Validated,
    name: String,
    email: Option<&str>,
    reader_id: Option<i64>,
    user_id: Option<i64>,
    role: Option<&str>,
    edit_token: &str,
    ip: IpAddr,
    now: NaiveDateTime,
) -> NewComment {
    NewComment {
        article_id: article.id,
        parent_id: v.parent_id,
        author_name: name,
        author_email: email.map(str::to_owned),
        author_url: v.website.clone(),
        body: v.html.clone(),
        body_source: Some(v.source.clone()),
        status: ModerationStatus::Pending.as_str().into(),
        kind: kind::COMMENT.into(),
        reader_id,
        user_id,
        author_role: role.map(str::to_owned),
        edit_token_hash: Some(tokens::digest(edit_token)),
        ip: Some(ip.to_string()),
        notify_replies: v.notify_replies && reader_id.is_some(),
        created_at: now,
    }
}

/// The comment `id` if `token` is its edit token and the edit window is
/// open. Forged, expired and replayed (after removal) tokens are 400s
/// naming the header.
pub fn check_edit_token(
    conn: &mut DbConnection,
    settings: &Settings,
    id: i64,
    token: &str,
) -> Result<CommentRow, ApiError> {
    let bad = |m: &str| ApiError::invalid(EDIT_TOKEN_HEADER, m.to_owned());
    if token.is_empty() || token.len() > MAX_TOKEN {
        return Err(bad("is not an edit token"));
    }
    let row = repo::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no comment {id}")))?;
    match &row.edit_token_hash {
        None if row.removed => return Err(bad("is no longer valid: the comment was deleted")),
        Some(h) if *h == tokens::digest(token) => {}
        _ => return Err(bad("is not this comment's edit token")),
    }
    let window = chrono::Duration::minutes(settings.comments.edit_window_minutes);
    if row.created_at + window <= crate::db::now() {
        return Err(bad("has expired: comments can be edited for a limited time"));
    }
    if matches!(row.status(), ModerationStatus::Spam | ModerationStatus::Trash) {
        return Err(ApiError::Forbidden("this comment can no longer be edited".into()));
    }
    Ok(row)
}

/// The author's edit: new text, moderated again when approved and
/// `COMMENT_REMODERATE_EDITS` is on.
pub fn edit_by_author(
    conn: &mut DbConnection,
    settings: &Settings,
    id: i64,
    token: &str,
    source: &str,
    html: &str,
) -> Result<CommentRow, ApiError> {
    let row = check_edit_token(conn, settings, id, token)?;
    let now = crate::db::now();
    repo::set_body(conn, id, html, source, now)?;
    if row.status() == ModerationStatus::Approved && settings.comments.remoderate_edits && row.user_id.is_none() {
        let reader = match row.reader_id {
            Some(r) => crate::readers::repo::find(conn, r)?,
            None => None,
        };
        let email_key = reader.as_ref().map(|r| r.email_key.clone());
        let candidate = Candidate {
            article_id: row.article_id,
            comment_id: Some(id),
            body: source,
            name: &row.author_name,
            email_key: email_key.as_deref(),
            website: row.author_url.as_deref(),
            ip: row.ip.as_deref().and_then(|i| i.parse().ok()),
            honeypot: false,
            reader_id: row.reader_id,
            verified: reader.as_ref().is_some_and(|r| r.verified_at.is_some()),
            now,
            form_age_ms: None,
        };
        let d = policy::decide(conn, &settings.comments, &policy::builtin(), &candidate)?;
        if d.status != ModerationStatus::Approved {
            repo::set_status(conn, id, d.status, now)?;
        }
        let mut reasons = vec!["edited by its author".to_owned()];
        reasons.extend(d.reasons);
        repo::record_decision(conn, id, d.status, "policy", &reasons, now)?;
    }
    Ok(repo::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?)
}

/// The author's delete: the comment is marked removed (shown as
/// "[removed]" while it has replies) and its edit token voided.
pub fn remove_by_author(conn: &mut DbConnection, settings: &Settings, id: i64, token: &str) -> Result<(), ApiError> {
    check_edit_token(conn, settings, id, token)?;
    repo::mark_removed(conn, id, crate::db::now())?;
    Ok(())
}

/// Who a moderation decision is recorded as.
pub fn actor(p: &Principal) -> String {
    match p {
        Principal::User(u) => format!("user:{}", u.id),
        Principal::Key(k) => format!("key:{}", k.id),
    }
}

/// `Ok` when `p` may moderate comments on `article_id`: editors and keys
/// with `comments:moderate` everywhere; authors on articles they byline.
pub fn may_moderate(conn: &mut DbConnection, p: &Principal, article_id: i64) -> Result<(), ApiError> {
    if p.can(Action::ModerateComments) {
        return Ok(());
    }
    if let Principal::User(u) = p {
        if u.role >= Role::Author {
            if let Some(a) = u.author_id {
                if repo::bylines(conn, article_id)?.contains(&a) {
                    return Ok(());
                }
            }
        }
    }
    Err(ApiError::Forbidden("only editors, or authors on their own articles, may moderate these comments".into()))
}

/// What a moderator changes.
#[derive(Clone, Debug, Default)]
pub struct Moderation {
    /// New state.
    pub status: Option<ModerationStatus>,
    /// New text: `(source, html)`.
    pub body: Option<(String, String)>,
    /// Why (recorded with the decision).
    pub reason: Option<String>,
}

/// Applies a moderator's change to comment `id`, recording the decision.
pub fn moderate(
    conn: &mut DbConnection,
    settings: &Settings,
    p: &Principal,
    id: i64,
    m: &Moderation,
) -> Result<CommentRow, ApiError> {
    let row = repo::find(conn, id)?
        .filter(|r| r.kind == kind::COMMENT)
        .ok_or_else(|| ApiError::NotFound(format!("no comment {id}")))?;
    may_moderate(conn, p, row.article_id)?;
    let now = crate::db::now();
    if let Some((source, html)) = &m.body {
        repo::set_body(conn, id, html, source, now)?;
    }
    if let Some(s) = m.status {
        repo::set_status(conn, id, s, now)?;
        let reason = m.reason.clone().unwrap_or_else(|| format!("set to {} by a moderator", s.as_str()));
        repo::record_decision(conn, id, s, &actor(p), &[reason], now)?;
    }
    let after = repo::find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
    crate::webhooks::comment_moderated(conn, &row, &after)?;
    if after.is_visible() && !row.is_visible() {
        super::notify::on_approved(conn, settings, &after)?;
    }
    Ok(after)
}

/// Who votes: `reader:{id}` or `user:{id}`.
#[derive(Clone, Debug)]
pub enum Voter {
    /// A verified reader.
    Reader(i64),
    /// A signed-in user.
    User(i64),
}

impl Voter {
    /// `reader:{id}` or `user:{id}`: the vote row's voter and the limiter's key.
    pub fn key(&self) -> String {
        match self {
            Self::Reader(id) => format!("reader:{id}"),
            Self::User(id) => format!("user:{id}"),
        }
    }
}

/// A comment's counters after a vote, and the caller's vote.
#[derive(Clone, Copy, Debug)]
pub struct Tally {
    /// Up votes.
    pub up: i32,
    /// Down votes.
    pub down: i32,
    /// `up - down`.
    pub score: i32,
    /// The caller's vote now (`None` after taking it back).
    pub mine: Option<i32>,
}

fn votable(conn: &mut DbConnection, voter: &Voter, id: i64) -> Result<CommentRow, ApiError> {
    let missing = || ApiError::NotFound(format!("no comment {id}"));
    let row = repo::find(conn, id)?.filter(|r| r.is_visible() && r.kind == kind::COMMENT).ok_or_else(missing)?;
    // A comment is votable only where it is shown: on a public article. A
    // draft's or protected article's comments answer as if absent.
    public_article(conn, &row.article_id.to_string(), crate::db::now()).map_err(|e| match e {
        ApiError::NotFound(_) => missing(),
        other => other,
    })?;
    let own = match voter {
        Voter::Reader(r) => row.reader_id == Some(*r),
        Voter::User(u) => row.user_id == Some(*u),
    };
    if own {
        return Err(ApiError::Forbidden("nobody votes on their own comment".into()));
    }
    Ok(row)
}

/// Casts or changes `voter`'s vote (`1` or `-1`) on comment `id`; counters
/// change in one `UPDATE … SET up_count = up_count + …` in the same
/// transaction as the vote row, whose primary key allows one per voter.
pub fn vote(conn: &mut DbConnection, voter: &Voter, id: i64, value: i32) -> Result<Tally, ApiError> {
    let row = votable(conn, voter, id)?;
    let key = voter.key();
    let (up, down) = match repo::vote_of(conn, id, &key)? {
        Some(v) if v == value => (0, 0),
        Some(_) => {
            repo::update_vote(conn, id, &key, value)?;
            if value == 1 {
                (1, -1)
            } else {
                (-1, 1)
            }
        }
        None => {
            repo::insert_vote(conn, id, &key, value, crate::db::now())?;
            if value == 1 {
                (1, 0)
            } else {
                (0, 1)
            }
        }
    };
    let (up, down, score) = if (up, down) == (0, 0) {
        (row.up_count, row.down_count, row.score)
    } else {
        repo::adjust_counts(conn, id, up, down)?
    };
    Ok(Tally { up, down, score, mine: Some(value) })
}

/// Takes `voter`'s vote on comment `id` back (nothing when there is none).
pub fn unvote(conn: &mut DbConnection, voter: &Voter, id: i64) -> Result<Tally, ApiError> {
    let row = votable(conn, voter, id)?;
    let key = voter.key();
    let Some(v) = repo::vote_of(conn, id, &key)? else {
        return Ok(Tally { up: row.up_count, down: row.down_count, score: row.score, mine: None });
    };
    repo::delete_vote(conn, id, &key)?;
    let (up, down, score) =
        if v == 1 { repo::adjust_counts(conn, id, -1, 0)? } else { repo::adjust_counts(conn, id, 0, -1)? };
    Ok(Tally { up, down, score, mine: None })
}

/// Public thread order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Oldest first (default).
    #[default]
    Oldest,
    /// Newest first.
    Newest,
    /// Highest score first, then oldest.
    Top,
}

/// One comment in a public thread.
#[derive(Clone, Debug)]
pub struct ThreadItem {
    /// The row.
    pub row: CommentRow,
    /// 0 for a top-level comment.
    pub depth: i64,
    /// Approved direct replies.
    pub reply_count: i64,
    /// Shown as "[removed]": not approved or deleted, but has replies shown.
    pub placeholder: bool,
}

/// Builds the public view of an article's comments from all its rows:
/// approved, not removed comments, plus a "[removed]" placeholder for any
/// hidden comment with shown replies; threads sorted by `sort` at every
/// level, replies depth-first under their parent; paged by top-level
/// thread. Returns the page's items in order and the number of threads.
pub fn thread(rows: Vec<CommentRow>, sort: Sort, page: &crate::pagination::PageParams) -> (Vec<ThreadItem>, i64) {
    let by_id: HashMap<i64, &CommentRow> = rows.iter().map(|r| (r.id, r)).collect();
    let mut shown: HashSet<i64> = HashSet::new();
    for r in rows.iter().filter(|r| r.is_visible()) {
        let mut cur = Some(r.id);
        let mut guard = 0;
        while let Some(id) = cur {
            if !shown.insert(id) || guard > 10_000 {
                break;
            }
            guard += 1;
            cur = by_id.get(&id).and_then(|r| r.parent_id).filter(|p| by_id.contains_key(p));
        }
    }
    let mut children: HashMap<Option<i64>, Vec<&CommentRow>> = HashMap::new();
    for r in rows.iter().filter(|r| shown.contains(&r.id)) {
        let parent = r.parent_id.filter(|p| shown.contains(p));
        children.entry(parent).or_default().push(r);
    }
    let order = |v: &mut Vec<&CommentRow>| match sort {
        Sort::Oldest => v.sort_by_key(|r| (r.created_at, r.id)),
        Sort::Newest => v.sort_by_key(|r| (std::cmp::Reverse(r.created_at), std::cmp::Reverse(r.id))),
        Sort::Top => v.sort_by_key(|r| (std::cmp::Reverse(r.score), r.created_at, r.id)),
    };
    for v in children.values_mut() {
        order(v);
    }
    let top = children.get(&None).cloned().unwrap_or_default();
    let total = top.len() as i64;
    let mut out = Vec::new();
    let start = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    for root in top.into_iter().skip(start).take(usize::try_from(page.per_page).unwrap_or(0)) {
        let mut stack = vec![(root, 0i64)];
        while let Some((r, depth)) = stack.pop() {
            let kids = children.get(&Some(r.id)).cloned().unwrap_or_default();
            let reply_count = kids.iter().filter(|k| k.is_visible()).count() as i64;
            out.push(ThreadItem { row: r.clone(), depth, reply_count, placeholder: !r.is_visible() });
            for k in kids.into_iter().rev() {
                stack.push((k, depth + 1));
            }
        }
    }
    (out, total)
}

/// Avatar keys for the readers of `rows` (one query).
pub fn avatar_keys(conn: &mut DbConnection, rows: &[ThreadItem]) -> Result<HashMap<i64, String>, ApiError> {
    let ids: Vec<i64> = rows.iter().filter_map(|i| i.row.reader_id).collect::<HashSet<_>>().into_iter().collect();
    let readers: Vec<ReaderRow> = crate::readers::repo::find_many(conn, &ids)?;
    Ok(readers.into_iter().map(|r| (r.id, crate::readers::model::avatar_key(&r.secret))).collect())
}
