//! The moderation policy and the spam checkers.
//!
//! Every check implements [`SpamCheck`] and returns [`Verdict`]s with a
//! reason; [`decide`] runs them all and combines them: any `spam` verdict
//! makes the comment spam, else any `hold` keeps it pending, else it is
//! approved. Every reason is recorded with the decision
//! (`comment_decisions`), so a moderator sees why.
//!
//! Built-in checks, in order: honeypot, form timing (`COMMENT_FORM_MIN_SECONDS`), blocklists (IP, email, link and
//! website hosts), disallowed words (spam), moderation words (hold), link
//! count (hold), duplicate body (spam), and the first-comment rule (a
//! verified reader with `COMMENT_APPROVE_AFTER` approved comments is
//! approved; everyone else is held).
//!
//! The optional Akismet-compatible checker ([`super::akismet`]) calls out
//! over HTTP, so it never runs here (inside a request or a transaction): a
//! comment the built-in checks do not make spam is stored `pending` and the
//! `comment_spam_check` job asks the service, then moves the comment to
//! `spam` with the service's reason or applies this decision.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::render;
use crate::config::CommentSettings;
use crate::db::schema::comments;
use crate::db::DbConnection;

/// What one check concluded, with a reason a moderator can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Spam: never public unless a moderator approves it.
    Spam(String),
    /// Held for a moderator.
    Hold(String),
    /// Approved as far as this check goes.
    Approve(String),
}

/// The comment being judged.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    /// The article it is on.
    pub article_id: i64,
    /// The comment this is a reply to, if any (excluded from duplicates).
    pub comment_id: Option<i64>,
    /// The text as written.
    pub body: &'a str,
    /// The name given.
    pub name: &'a str,
    /// The normalized email key, for readers.
    pub email_key: Option<&'a str>,
    /// The website given.
    pub website: Option<&'a str>,
    /// The client address.
    pub ip: Option<IpAddr>,
    /// Whether the honeypot field was filled.
    pub honeypot: bool,
    /// The reader, when not a signed-in user.
    pub reader_id: Option<i64>,
    /// Whether the reader's address is verified.
    pub verified: bool,
    /// When this comment is judged (for the duplicate window).
    pub now: NaiveDateTime,
    /// How long after its form token was issued the comment came, in ms
    /// (`None`: no token, e.g. signed-in users or an edit).
    pub form_age_ms: Option<i64>,
}

/// One pluggable check. Checks read the database (duplicates, history) on
/// the caller's connection and never write.
pub trait SpamCheck: Send + Sync {
    /// The check's name, recorded with its reasons.
    fn name(&self) -> &'static str;
    /// Judges `c`; no verdict means no opinion.
    fn check(&self, conn: &mut DbConnection, cfg: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>>;
}

/// A filled honeypot field (hidden from people, filled by bots): spam.
pub struct Honeypot;

impl SpamCheck for Honeypot {
    fn name(&self) -> &'static str {
        "honeypot"
    }
    fn check(&self, _: &mut DbConnection, _: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        Ok(if c.honeypot { vec![Verdict::Spam("the hidden honeypot field was filled".into())] } else { vec![] })
    }
}

/// `COMMENT_BLOCKED_IPS`, `COMMENT_BLOCKED_EMAILS`, `COMMENT_BLOCKED_DOMAINS`: spam.
pub struct Blocklists;

fn host_blocked(host: &str, blocked: &[String]) -> bool {
    blocked.iter().any(|b| host == b || host.ends_with(&format!(".{b}")))
}

impl SpamCheck for Blocklists {
    fn name(&self) -> &'static str {
        "blocklist"
    }
    fn check(&self, _: &mut DbConnection, cfg: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        let mut out = Vec::new();
        if let Some(ip) = c.ip {
            if cfg.blocked_ips.iter().any(|n| n.contains(ip)) {
                out.push(Verdict::Spam("the client address is blocked".into()));
            }
        }
        if let Some(key) = c.email_key {
            let domain = key.rsplit_once('@').map(|(_, d)| format!("@{d}")).unwrap_or_default();
            if cfg.blocked_emails.iter().any(|b| b == key || *b == domain) {
                out.push(Verdict::Spam("the email address is blocked".into()));
            }
        }
        let mut urls = render::urls(c.body);
        urls.extend(c.website.map(str::to_owned));
        if let Some(h) = urls.iter().filter_map(|u| render::host_of(u)).find(|h| host_blocked(h, &cfg.blocked_domains))
        {
            out.push(Verdict::Spam(format!("links to the blocked host {h}")));
        }
        Ok(out)
    }
}

/// Word lists: `COMMENT_DISALLOWED_WORDS` make spam, `COMMENT_MODERATION_WORDS` hold.
pub struct Words;

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

impl SpamCheck for Words {
    fn name(&self) -> &'static str {
        "words"
    }
    fn check(&self, _: &mut DbConnection, cfg: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        let text = format!("{}\n{}\n{}", c.name, c.website.unwrap_or(""), c.body).to_lowercase();
        let mut out = Vec::new();
        for w in cfg.disallowed_words.iter().filter(|w| contains_word(&text, w)) {
            out.push(Verdict::Spam(format!("contains the disallowed word \"{w}\"")));
        }
        for w in cfg.moderation_words.iter().filter(|w| contains_word(&text, w)) {
            out.push(Verdict::Hold(format!("contains the moderation word \"{w}\"")));
        }
        Ok(out)
    }
}

/// `COMMENT_HOLD_LINKS` or more links: held.
pub struct Links;

impl SpamCheck for Links {
    fn name(&self) -> &'static str {
        "links"
    }
    fn check(&self, _: &mut DbConnection, cfg: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        let n = render::link_count(c.body);
        Ok(if n >= cfg.hold_links { vec![Verdict::Hold(format!("has {n} links"))] } else { vec![] })
    }
}

/// The same text on the same article by the same reader or address within
/// a day (anything but trash): spam.
pub struct Duplicate;

impl SpamCheck for Duplicate {
    fn name(&self) -> &'static str {
        "duplicate"
    }
    fn check(&self, conn: &mut DbConnection, _: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        let since = c.now - chrono::Duration::hours(24);
        let mut q = comments::table
            .filter(comments::article_id.eq(c.article_id))
            .filter(comments::body_source.eq(c.body))
            .filter(comments::status.ne(super::model::status::TRASH))
            .filter(comments::created_at.ge(since))
            .into_boxed();
        if let Some(id) = c.comment_id {
            q = q.filter(comments::id.ne(id));
        }
        let ip = c.ip.map(|i| i.to_string());
        q = match (c.reader_id, ip) {
            (Some(r), Some(ip)) => q.filter(comments::reader_id.eq(r).or(comments::ip.eq(ip))),
            (Some(r), None) => q.filter(comments::reader_id.eq(r)),
            (None, Some(ip)) => q.filter(comments::ip.eq(ip)),
            (None, None) => return Ok(vec![]),
        };
        let dup: i64 = q.count().get_result(conn)?;
        Ok(if dup > 0 { vec![Verdict::Spam("duplicates a recent comment on this article".into())] } else { vec![] })
    }
}

/// First comments are held: a verified reader with `COMMENT_APPROVE_AFTER`
/// approved comments is approved, everyone else held.
pub struct FirstComment;

impl SpamCheck for FirstComment {
    fn name(&self) -> &'static str {
        "first_comment"
    }
    fn check(&self, conn: &mut DbConnection, cfg: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        let Some(reader) = c.reader_id else { return Ok(vec![]) };
        if !c.verified {
            return Ok(vec![Verdict::Hold("the address is not verified".into())]);
        }
        let mut q = comments::table
            .filter(comments::reader_id.eq(reader))
            .filter(comments::status.eq(super::model::status::APPROVED))
            .into_boxed();
        if let Some(id) = c.comment_id {
            q = q.filter(comments::id.ne(id));
        }
        let approved: i64 = q.count().get_result(conn)?;
        Ok(if approved >= cfg.approve_after {
            vec![Verdict::Approve(format!("a verified reader with {approved} approved comments"))]
        } else {
            vec![Verdict::Hold(format!("a reader's first comments are held ({approved} approved so far)"))]
        })
    }
}

/// A comment sent sooner than `COMMENT_FORM_MIN_SECONDS` after its form
/// token was issued (people read and type; scripts post at once): spam.
pub struct FormTiming;

impl SpamCheck for FormTiming {
    fn name(&self) -> &'static str {
        "form_timing"
    }
    fn check(&self, _: &mut DbConnection, cfg: &CommentSettings, c: &Candidate<'_>) -> QueryResult<Vec<Verdict>> {
        let min_ms = cfg.form_min_seconds * 1000;
        Ok(match c.form_age_ms {
            Some(age) if age < min_ms => vec![Verdict::Spam(format!(
                "sent {:.1} s after the form was issued; people take at least {} s",
                age as f64 / 1000.0,
                cfg.form_min_seconds
            ))],
            _ => vec![],
        })
    }
}

/// The built-in checks, in the order they run.
pub fn builtin() -> Vec<Box<dyn SpamCheck>> {
    vec![
        Box::new(Honeypot),
        Box::new(FormTiming),
        Box::new(Blocklists),
        Box::new(Words),
        Box::new(Links),
        Box::new(Duplicate),
        Box::new(FirstComment),
    ]
}

/// The combined decision: a state and every reason that led to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The resulting state.
    pub status: super::model::ModerationStatus,
    /// `"{check}: {reason}"` for each verdict that decided it.
    pub reasons: Vec<String>,
}

/// Runs `checks` over `c`: spam beats hold beats approve.
pub fn decide(
    conn: &mut DbConnection,
    cfg: &CommentSettings,
    checks: &[Box<dyn SpamCheck>],
    c: &Candidate<'_>,
) -> QueryResult<Decision> {
    use super::model::ModerationStatus;
    let (mut spam, mut hold, mut approve) = (Vec::new(), Vec::new(), Vec::new());
    for check in checks {
        for v in check.check(conn, cfg, c)? {
            match v {
                Verdict::Spam(r) => spam.push(format!("{}: {r}", check.name())),
                Verdict::Hold(r) => hold.push(format!("{}: {r}", check.name())),
                Verdict::Approve(r) => approve.push(format!("{}: {r}", check.name())),
            }
        }
    }
    Ok(if !spam.is_empty() {
        Decision { status: ModerationStatus::Spam, reasons: spam }
    } else if !hold.is_empty() {
        Decision { status: ModerationStatus::Pending, reasons: hold }
    } else if approve.is_empty() {
        Decision { status: ModerationStatus::Pending, reasons: vec!["policy: no rule approved it".into()] }
    } else {
        Decision { status: ModerationStatus::Approved, reasons: approve }
    })
}

#[cfg(test)]
mod tests {
    use super::contains_word;

    #[test]
    fn words_match_whole_words_only() {
        assert!(contains_word("buy viagra now", "viagra"));
        assert!(!contains_word("classic", "ass"));
        assert!(contains_word("casino!", "casino"));
    }
}
