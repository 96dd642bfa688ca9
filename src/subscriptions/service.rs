//! The write rules of subscriptions: topic checks, the double opt-in
//! (request → mail → confirm + consent record), the signed per-subscriber
//! token, unsubscribing and preferences. Every function runs on the
//! caller's connection; callers wrap writes in a transaction.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{self, SubscriberEmail, SubscriberRow, SubscriberStatus, ALL_TOPICS};
use super::repo;
use crate::auth::tokens;
use crate::config::{ConsentIp, Settings};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::mail::Template;

/// Most topics one subscriber may choose.
pub const MAX_TOPICS: usize = 50;
/// Longest topic slug.
pub const MAX_TOPIC: usize = 200;
/// Longest name.
pub const MAX_NAME: usize = 200;
/// Longest `source` label.
pub const MAX_SOURCE: usize = 100;
/// Longest token accepted anywhere (longer is refused before any query).
pub const MAX_TOKEN: usize = 200;

/// Normalizes requested topics: trimmed, lowercased, deduplicated, sorted;
/// none (or `all` among them) means `["all"]`. Shape errors are 400s naming
/// `topics`; whether the slugs exist is [`check_topics`]'s job.
pub fn parse_topics(raw: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_TOPICS {
        return Err(ApiError::invalid("topics", format!("has more than {MAX_TOPICS} items")));
    }
    let mut topics = Vec::with_capacity(raw.len());
    for (i, t) in raw.iter().enumerate() {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > MAX_TOPIC || t.chars().any(char::is_control) {
            return Err(ApiError::invalid(format!("topics[{i}]"), "is not a topic slug"));
        }
        topics.push(t);
    }
    topics.sort();
    topics.dedup();
    if topics.is_empty() || topics.iter().any(|t| t == ALL_TOPICS) {
        return Ok(vec![ALL_TOPICS.to_owned()]);
    }
    Ok(topics)
}

/// 422 naming `topics` unless every topic is `all` or the slug of a
/// category, a series or an author.
pub fn check_topics(conn: &mut DbConnection, topics: &[String]) -> Result<(), ApiError> {
    let wanted: Vec<String> = topics.iter().filter(|t| *t != ALL_TOPICS).cloned().collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let known = repo::known_topics(conn, &wanted)?;
    let unknown: Vec<&str> = wanted.iter().filter(|t| !known.contains(t)).map(String::as_str).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable("topics", format!("names no category, series or author: {}", unknown.join(", "))))
    }
}

/// A trimmed optional text field: empty means absent; over `max` characters
/// or holding control characters is a 400 naming `field`.
pub fn optional_text(field: &str, raw: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > max {
        return Err(ApiError::invalid(field, format!("is longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "holds control characters"));
    }
    Ok(Some(v))
}

/// A subscribe request that passed validation (the payload of the `subscribe` job).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// As entered, trimmed.
    pub email: String,
    pub name: Option<String>,
    /// Normalized by [`parse_topics`].
    pub topics: Vec<String>,
    pub source: Option<String>,
}

/// Answers a subscribe request, in the caller's transaction (the
/// `subscribe` job's):
/// - a new address: a `pending` subscriber, a token and a confirmation mail;
/// - `unsubscribed`: back to `pending` with the request's name, topics and
///   source, a new token and a mail;
/// - `pending`: the same, but at most once per `SUBSCRIPTION_RESEND_COOLDOWN_MINUTES`;
/// - `confirmed`, `bounced`, `complained`: nothing (no state reset, no token).
pub fn request(conn: &mut DbConnection, settings: &Settings, req: &Request) -> QueryResult<()> {
    let Ok(email) = SubscriberEmail::parse(&req.email) else { return Ok(()) };
    let now = crate::db::now();
    let cfg = &settings.subscriptions;
    let id = match repo::find_by_key(conn, &email.key)? {
        None => {
            let secret = tokens::random_secret();
            let new = repo::NewSubscriber {
                email: &email.address,
                email_key: &email.key,
                name: req.name.as_deref(),
                source: req.source.as_deref(),
                secret: &secret,
            };
            repo::insert(conn, &new, now)?
        }
        Some(s) => {
            let resend = match s.status() {
                SubscriberStatus::Unsubscribed => true,
                SubscriberStatus::Pending => s
                    .confirmation_sent_at
                    .is_none_or(|at| at + chrono::Duration::minutes(cfg.resend_cooldown_minutes) <= now),
                SubscriberStatus::Confirmed | SubscriberStatus::Bounced | SubscriberStatus::Complained => false,
            };
            if !resend {
                return Ok(());
            }
            repo::reopen(conn, s.id, &email.address, req.name.as_deref(), req.source.as_deref(), now)?;
            s.id
        }
    };
    repo::set_topics(conn, id, &req.topics)?;
    let secret = tokens::random_secret();
    let expires = now + chrono::Duration::hours(cfg.confirm_ttl_hours);
    repo::insert_token(conn, id, &tokens::digest(&secret), expires, now)?;
    let params = serde_json::json!({
        "site": crate::auth::recovery::site(settings),
        "email": email.address,
        "topics": describe_topics(&req.topics),
        "link": crate::auth::recovery::link(&cfg.confirm_url, &secret),
        "valid_for": crate::auth::recovery::human(cfg.confirm_ttl_hours * 60),
    });
    crate::mail::queue(conn, &settings.mail.from, &email.address, Template::SubscriptionConfirm, params)?;
    Ok(())
}

fn describe_topics(topics: &[String]) -> String {
    if topics.iter().any(|t| t == ALL_TOPICS) {
        "everything we publish".into()
    } else {
        format!("topics: {}", topics.join(", "))
    }
}

/// Why a confirmation token is refused; each is a 400 naming `token`.
fn bad_confirmation(why: &str) -> ApiError {
    ApiError::invalid("token", why)
}

const UNKNOWN_TOKEN: &str = "is not a valid confirmation token (check that the whole link was copied)";
const EXPIRED_TOKEN: &str = "has expired; subscribe again to get a new link";
const USED_TOKEN: &str = "was already used; the subscription is confirmed";

/// The subscriber a confirmation token would confirm, without changing
/// anything (what a `GET` on the mailed link may do).
pub fn preview(conn: &mut DbConnection, token: &str) -> Result<(SubscriberRow, NaiveDateTime), ApiError> {
    let (id, expires_at) = usable_token(conn, token, crate::db::now())?;
    let s = repo::find(conn, id)?.ok_or_else(|| bad_confirmation(UNKNOWN_TOKEN))?;
    Ok((s, expires_at))
}

fn usable_token(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<(i64, NaiveDateTime), ApiError> {
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN {
        return Err(bad_confirmation(UNKNOWN_TOKEN));
    }
    match repo::find_token(conn, &tokens::digest(token))? {
        None => Err(bad_confirmation(UNKNOWN_TOKEN)),
        Some((_, _, Some(_))) => Err(bad_confirmation(USED_TOKEN)),
        Some((_, expires, None)) if expires <= now => Err(bad_confirmation(EXPIRED_TOKEN)),
        Some((id, expires, None)) => Ok((id, expires)),
    }
}

/// How much of `ip` a consent record keeps (`CONSENT_IP`): all of it, the
/// network (IPv4 /24, IPv6 /48), or nothing.
pub fn consent_ip(ip: IpAddr, mode: ConsentIp) -> Option<String> {
    match (mode, ip) {
        (ConsentIp::Drop, _) => None,
        (ConsentIp::Full, ip) => Some(ip.to_string()),
        (ConsentIp::Truncated, IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            Some(std::net::Ipv4Addr::new(a, b, c, 0).to_string())
        }
        (ConsentIp::Truncated, IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => consent_ip(IpAddr::V4(v4), mode),
            None => {
                let s = v6.segments();
                Some(std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string())
            }
        },
    }
}

/// Confirms with a mailed token: uses it (`UPDATE … WHERE used_at IS NULL`,
/// so two concurrent confirmations cannot both win), voids the
/// subscriber's other tokens, sets `confirmed` and appends a consent record.
/// In the caller's transaction.
pub fn confirm(
    conn: &mut DbConnection,
    settings: &Settings,
    token: &str,
    ip: IpAddr,
) -> Result<SubscriberRow, ApiError> {
    let now = crate::db::now();
    let (id, _) = usable_token(conn, token, now)?;
    if !repo::use_token(conn, &tokens::digest(token.trim()), now)? {
        return Err(bad_confirmation(USED_TOKEN));
    }
    let s = repo::find(conn, id)?.ok_or_else(|| bad_confirmation(UNKNOWN_TOKEN))?;
    if s.status() != SubscriberStatus::Pending {
        // Bounced or complained since the mail went out: nothing to confirm.
        return Err(bad_confirmation("no longer confirms anything; subscribe again"));
    }
    repo::void_tokens(conn, id, now)?;
    repo::set_status(conn, id, SubscriberStatus::Confirmed, now)?;
    let topics = serde_json::to_string(&repo::topics(conn, id)?).unwrap_or_else(|_| "[]".into());
    let cfg = &settings.subscriptions;
    let ip = consent_ip(ip, cfg.consent_ip);
    repo::append_consent(
        conn,
        &repo::NewConsent {
            subscriber_id: id,
            email: &s.email,
            topics: &topics,
            source: s.source.as_deref(),
            privacy_notice_version: &cfg.privacy_notice_version,
            ip: ip.as_deref(),
        },
        now,
    )?;
    let confirmed = repo::find(conn, id)?.unwrap_or(s);
    crate::webhooks::subscription_changed(conn, crate::webhooks::Event::SubscriptionConfirmed, &confirmed)?;
    Ok(confirmed)
}

const BAD_SIGNED: &str = "is not a valid subscription link";

/// The subscriber a signed token (`model::sign`) belongs to; a 400 naming
/// `token` when it is malformed, forged, altered, or its subscriber is gone.
pub fn by_signed_token(conn: &mut DbConnection, token: &str) -> Result<SubscriberRow, ApiError> {
    let token = token.trim();
    let bad = || ApiError::invalid("token", BAD_SIGNED);
    let id = model::claimed_id(token).ok_or_else(bad)?;
    let s = repo::find(conn, id)?.ok_or_else(bad)?;
    if model::verify(token, s.id, &s.secret) {
        Ok(s)
    } else {
        Err(bad())
    }
}

/// Unsubscribes the signed token's subscriber: idempotent; a `pending`
/// address stops waiting (its links are voided), a bounced or complained
/// one keeps that state (it already receives nothing).
pub fn unsubscribe(conn: &mut DbConnection, token: &str) -> Result<SubscriberRow, ApiError> {
    let s = by_signed_token(conn, token)?;
    if matches!(s.status(), SubscriberStatus::Pending | SubscriberStatus::Confirmed) {
        let now = crate::db::now();
        repo::void_tokens(conn, s.id, now)?;
        repo::set_status(conn, s.id, SubscriberStatus::Unsubscribed, now)?;
        // Only a confirmed subscription ending is news to receivers; a
        // pending one was never announced.
        if s.status() == SubscriberStatus::Confirmed {
            let row = repo::find(conn, s.id)?.ok_or(diesel::result::Error::NotFound)?;
            crate::webhooks::subscription_changed(conn, crate::webhooks::Event::SubscriptionUnsubscribed, &row)?;
            return Ok(row);
        }
    }
    Ok(repo::find(conn, s.id)?.unwrap_or(s))
}

/// What a preferences change asks for (already validated in shape).
#[derive(Debug, Default)]
pub struct PreferenceChanges {
    /// New topics, normalized by [`parse_topics`].
    pub topics: Option<Vec<String>>,
    /// `Some(None)` clears the name.
    pub name: Option<Option<String>>,
    /// Unsubscribe as well.
    pub unsubscribe: bool,
}

/// Applies `changes` for the signed token's subscriber.
pub fn update_preferences(
    conn: &mut DbConnection,
    token: &str,
    changes: &PreferenceChanges,
) -> Result<SubscriberRow, ApiError> {
    let s = by_signed_token(conn, token)?;
    let now = crate::db::now();
    if let Some(topics) = &changes.topics {
        check_topics(conn, topics)?;
        repo::set_topics(conn, s.id, topics)?;
    }
    if let Some(name) = &changes.name {
        repo::set_name(conn, s.id, name.as_deref(), now)?;
    }
    if changes.unsubscribe {
        return unsubscribe(conn, token);
    }
    Ok(repo::find(conn, s.id)?.unwrap_or(s))
}

/// Erases subscriber `id` and their personal data (GDPR art. 17), keeping
/// only an anonymous count and [`model::erasure_hash`]; in the caller's
/// transaction. 404 when there is no such subscriber.
pub fn erase(conn: &mut DbConnection, id: i64) -> Result<(), ApiError> {
    let row = repo::find(conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no subscriber with id {id}")))?;
    repo::erase(conn, id, &model::erasure_hash(&row.email_key), crate::db::now())?;
    Ok(())
}

/// One CSV field (RFC 4180): quoted when it holds `,`, `"`, CR or LF; a
/// field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR
/// first) gets a leading `'` (OWASP CSV injection), since names and sources
/// come from readers.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_owned() };
    if v.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Marks subscriber `id` `bounced` (a mail server said their mailbox does
/// not exist) and voids their confirmation links, as a hard-bounce report
/// does; a `complained` or erased subscriber is left as is. In the caller's
/// transaction.
pub fn mark_bounced(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    let Some(s) = repo::find(conn, id)? else { return Ok(()) };
    if matches!(s.status(), SubscriberStatus::Complained | SubscriberStatus::Bounced) {
        return Ok(());
    }
    repo::set_status(conn, id, SubscriberStatus::Bounced, now)?;
    repo::void_tokens(conn, id, now)?;
    tracing::info!(subscriber = id, "mail to a subscriber stopped: the mail server says the mailbox does not exist");
    Ok(())
}

/// Applies a bounce/complaint report in the caller's transaction: a hard
/// bounce makes the address `bounced`, a complaint `complained` (both stop
/// all mail, and a later subscribe request changes nothing); a soft bounce
/// changes nothing. A malformed address is a 400 naming `events[i].email`,
/// and the caller's transaction then writes nothing.
pub fn record_bounces(
    conn: &mut DbConnection,
    events: &[super::dto::BounceEvent],
) -> Result<super::dto::BounceOutcome, ApiError> {
    use super::dto::BounceType;
    let mut out = super::dto::BounceOutcome { received: events.len(), ..Default::default() };
    if events.is_empty() || events.len() > 1000 {
        return Err(ApiError::invalid("events", "must hold 1 to 1000 events"));
    }
    let now = crate::db::now();
    for (i, e) in events.iter().enumerate() {
        let email = SubscriberEmail::parse(&e.email).map_err(|m| ApiError::invalid(format!("events[{i}].email"), m))?;
        if e.reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
            return Err(ApiError::invalid(format!("events[{i}].reason"), "is longer than 1000 characters"));
        }
        let Some(s) = repo::find_by_key(conn, &email.key)? else {
            out.unknown += 1;
            continue;
        };
        let target = match (e.kind, s.status()) {
            (BounceType::SoftBounce, _) | (_, SubscriberStatus::Complained) => None,
            (BounceType::HardBounce, SubscriberStatus::Bounced) => None,
            (BounceType::HardBounce, _) => Some(SubscriberStatus::Bounced),
            (BounceType::Complaint, _) => Some(SubscriberStatus::Complained),
        };
        match target {
            Some(t) => {
                repo::set_status(conn, s.id, t, now)?;
                repo::void_tokens(conn, s.id, now)?;
                tracing::info!(subscriber = s.id, status = t.as_str(), "mail to a subscriber stopped by a report");
                out.stopped += 1;
            }
            None => out.ignored += 1,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_normalized_and_all_wins() {
        assert_eq!(parse_topics(None).unwrap(), vec!["all"]);
        assert_eq!(parse_topics(Some(vec![])).unwrap(), vec!["all"]);
        assert_eq!(parse_topics(Some(vec![" B ".into(), "a".into(), "b".into()])).unwrap(), vec!["a", "b"]);
        assert_eq!(parse_topics(Some(vec!["a".into(), "ALL".into()])).unwrap(), vec!["all"]);
        assert!(parse_topics(Some(vec!["".into()])).is_err());
        assert!(parse_topics(Some(vec!["x".into(); 51])).is_err());
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn consent_addresses_are_kept_dropped_or_truncated() {
        let v4: IpAddr = "203.0.113.77".parse().unwrap();
        let v6: IpAddr = "2001:db8:abcd:12::1".parse().unwrap();
        assert_eq!(consent_ip(v4, ConsentIp::Full).as_deref(), Some("203.0.113.77"));
        assert_eq!(consent_ip(v4, ConsentIp::Truncated).as_deref(), Some("203.0.113.0"));
        assert_eq!(consent_ip(v6, ConsentIp::Truncated).as_deref(), Some("2001:db8:abcd::"));
        assert_eq!(consent_ip(v4, ConsentIp::Drop), None);
    }
}
