//! CSV import of subscribers from the common newsletter tools: the shape is
//! recognized from the header row.
//!
//! | format | recognized by | columns read |
//! |---|---|---|
//! | Mailchimp audience export | `Email Address` | `Email Address`, `First Name`, `Last Name`, `OPTIN_TIME`, `OPTIN_IP`, `CONFIRM_TIME`, `CONFIRM_IP`, `UNSUB_TIME` (unsubscribed export), `CLEAN_TIME` (cleaned export); any other column (merge fields, groups, `MEMBER_RATING`, `LEID`, `TAGS`, …) is ignored and listed |
//! | Ghost members export | `subscribed_to_emails` | `email`, `name`, `subscribed_to_emails`, `created_at`, `deleted_at`; `id`, `note`, `complimentary_plan`, `stripe_customer_id`, `labels`, `tiers`, `products`, `gift_id` are ignored |
//! | broadsheet export | `topics` or `consents` | every column of `GET /subscriptions/export?format=csv` |
//! | listmonk | `email` otherwise | `email`, `name`, `attributes` (checked to be a JSON object, not stored), `status` (`enabled`, `disabled`, `blocklisted`), `created_at`; `uuid`, `updated_at` ignored |
//!
//! A column the detected format does not have is a 422 naming it (except
//! in a Mailchimp export, whose merge-field and group columns are the
//! list owner's own). The file must be UTF-8 (a BOM is allowed); a byte
//! sequence that is not is a 400 naming the line.
//!
//! Rules, row by row (a row's number is its line in the file, the header
//! being line 1):
//! - a malformed address, status, time or JSON skips the row with a problem;
//! - a second row for an address already in the file (compared as
//!   subscribers are, case and IDN variants alike) is skipped;
//! - **an address that exists here is never changed**: a confirmed or
//!   pending one stays as it is, and an unsubscribed, bounced or complained
//!   one is never revived; an address that was erased (its
//!   `subscription_erasures` hash) is never brought back;
//! - imported rows keep the file's status (Mailchimp's unsubscribed and
//!   cleaned rows, Ghost's `subscribed_to_emails=false`, listmonk's
//!   blocklisted rows come in as `unsubscribed` or `bounced`, so a later
//!   import or upsert cannot mail them either) and its consent data: a
//!   consent record with basis `imported` (opt-in/confirm time and IP as
//!   `CONSENT_IP` allows), or, when the file has none, basis
//!   `imported_without_consent` for a confirmed row.
//!
//! The whole import is one transaction: a failure at any line (a bad byte,
//! a lost database) writes nothing. A dry run does all of it, reports, and
//! rolls back. Rows are read one at a time and written in batches of
//! [`BATCH`] (a fixed number of queries per batch), so memory is bounded by
//! the batch plus the set of addresses seen.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::IpAddr;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{erasure_hash, SubscriberEmail, SubscriberStatus, ALL_TOPICS};
use super::service;
use crate::config::Settings;
use crate::db::schema::{subscriber_topics, subscribers, subscription_consents, subscription_erasures};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};

/// Rows written per batch.
pub const BATCH: usize = 500;
/// Problems listed in a report; more are counted in `problems_omitted`.
pub const MAX_PROBLEMS: usize = 1000;
/// Longest accepted body of `POST /subscriptions/import` (bytes).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// The shape of an import file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// broadsheet's own CSV export.
    Broadsheet,
    /// listmonk (`email,name,attributes[,status]`).
    Listmonk,
    /// Ghost members export.
    Ghost,
    /// Mailchimp audience export.
    Mailchimp,
}

impl Format {
    fn label(self) -> &'static str {
        match self {
            Self::Broadsheet => "broadsheet",
            Self::Listmonk => "listmonk",
            Self::Ghost => "ghost",
            Self::Mailchimp => "mailchimp",
        }
    }

    /// The columns this format may have (lowercased) and whether others are allowed.
    fn columns(self) -> (&'static [&'static str], bool) {
        match self {
            Self::Broadsheet => (
                &[
                    "id",
                    "email",
                    "name",
                    "status",
                    "topics",
                    "source",
                    "created_at",
                    "updated_at",
                    "confirmed_at",
                    "unsubscribed_at",
                    "consents",
                ],
                false,
            ),
            Self::Listmonk => (&["uuid", "email", "name", "attributes", "status", "created_at", "updated_at"], false),
            Self::Ghost => (
                &[
                    "id",
                    "email",
                    "name",
                    "note",
                    "subscribed_to_emails",
                    "complimentary_plan",
                    "stripe_customer_id",
                    "created_at",
                    "deleted_at",
                    "labels",
                    "tiers",
                    "products",
                    "gift_id",
                ],
                false,
            ),
            Self::Mailchimp => (
                &[
                    "email address",
                    "first name",
                    "last name",
                    "optin_time",
                    "optin_ip",
                    "confirm_time",
                    "confirm_ip",
                    "unsub_time",
                    "clean_time",
                ],
                true,
            ),
        }
    }
}

/// One problem with one row: the row is skipped.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({"row": 7, "field": "email", "message": "is unsubscribed here; an import never subscribes it again"}))]
pub struct RowProblem {
    /// The row's line in the file (the header is line 1).
    pub row: u64,
    /// The column, as named in the file's header (`email` for address rules).
    pub field: String,
    /// What is wrong, or why the row was left out.
    pub message: String,
}

/// Imported rows per status.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct StatusCounts {
    /// Confirmed: they receive mailings.
    pub confirmed: usize,
    /// Pending (a broadsheet export's unconfirmed rows): they receive nothing.
    pub pending: usize,
    /// Unsubscribed in the source tool: kept so nothing subscribes them again.
    pub unsubscribed: usize,
    /// Bounced (Mailchimp's cleaned rows).
    pub bounced: usize,
    /// Complained.
    pub complained: usize,
}

/// Why rows were skipped.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct SkippedCounts {
    /// A malformed address, status, time, topic or JSON.
    pub invalid: usize,
    /// A second row for an address earlier in the file.
    pub duplicate: usize,
    /// The address is already a confirmed or pending subscriber (left as it is).
    pub existing: usize,
    /// The address unsubscribed, bounced or complained here: never revived.
    pub suppressed: usize,
    /// The address was erased (GDPR): never brought back.
    pub erased: usize,
    /// Deleted in the source tool (Ghost `deleted_at`).
    pub deleted: usize,
}

/// What an import did (or, for a dry run, would do).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "dry_run": false, "format": "mailchimp", "rows": 4, "imported": 2,
    "by_status": {"confirmed": 1, "pending": 0, "unsubscribed": 1, "bounced": 0, "complained": 0},
    "with_consent": 2, "without_consent": 0,
    "skipped": {"invalid": 1, "duplicate": 1, "existing": 0, "suppressed": 0, "erased": 0, "deleted": 0},
    "problems": [
        {"row": 4, "field": "Email Address", "message": "is not a valid email address"},
        {"row": 5, "field": "Email Address", "message": "repeats the address of row 2"}
    ],
    "problems_omitted": 0,
    "ignored_columns": ["MEMBER_RATING", "LEID", "EUID"]
}))]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The shape recognized from the header.
    pub format: Format,
    /// Data rows read.
    pub rows: usize,
    /// Subscribers created.
    pub imported: usize,
    /// Created subscribers per status.
    pub by_status: StatusCounts,
    /// Created subscribers with consent data from the file (basis `imported`).
    pub with_consent: usize,
    /// Created confirmed subscribers without any (basis `imported_without_consent`).
    pub without_consent: usize,
    /// Rows left out, per reason.
    pub skipped: SkippedCounts,
    /// Each left-out row (at most 1,000; see `problems_omitted`).
    pub problems: Vec<RowProblem>,
    /// Problems beyond the first 1,000, counted only.
    pub problems_omitted: usize,
    /// Columns of the file that were not read (as named in the header).
    pub ignored_columns: Vec<String>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.skipped;
        let b = &self.by_status;
        writeln!(
            f,
            "{} {} export: {} rows, {} imported{} ({} confirmed, {} pending, {} unsubscribed, {} bounced, {} complained; {} with consent data, {} without)",
            if self.dry_run { "dry run of a" } else { "imported a" },
            self.format.label(),
            self.rows,
            self.imported,
            if self.dry_run { " (nothing written)" } else { "" },
            b.confirmed,
            b.pending,
            b.unsubscribed,
            b.bounced,
            b.complained,
            self.with_consent,
            self.without_consent,
        )?;
        writeln!(
            f,
            "skipped: {} invalid, {} duplicate, {} existing, {} unsubscribed/bounced/complained, {} erased, {} deleted",
            s.invalid, s.duplicate, s.existing, s.suppressed, s.erased, s.deleted
        )?;
        for p in &self.problems {
            writeln!(f, "row {}: {} {}", p.row, p.field, p.message)?;
        }
        if self.problems_omitted > 0 {
            writeln!(f, "… and {} more problems", self.problems_omitted)?;
        }
        Ok(())
    }
}

/// Why a whole import was refused (nothing is written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not UTF-8 at `line`.
    #[error("the file is not UTF-8 (line {line})")]
    Encoding {
        /// 1-based line.
        line: u64,
    },
    /// The file has no header row.
    #[error("the file is empty")]
    Empty,
    /// CSV the reader cannot parse.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line.
        line: u64,
        /// The reader's message.
        message: String,
    },
    /// A column is wrong: `column` as named in the header.
    #[error("column {column}: {message}")]
    Column {
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The database.
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[doc(hidden)]
    #[error("dry run")]
    DryRun(Box<ImportReport>),
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Encoding { line } => ApiError::invalid(
                "body",
                format!("is not UTF-8 text (first bad bytes on line {line}); export or save the file as CSV UTF-8"),
            ),
            ImportError::Empty => ApiError::invalid("body", "is empty; expected a CSV header row and data rows"),
            ImportError::Csv { line, message } => {
                ApiError::invalid("body", format!("is not valid CSV at line {line}: {message}"))
            }
            ImportError::Column { column, message } => ApiError::UnprocessableFields {
                detail: format!("column {column} {message}"),
                errors: vec![FieldError { field: column, message }],
            },
            ImportError::Db(e) => e.into(),
            ImportError::DryRun(_) => ApiError::Internal(anyhow::anyhow!("a dry run's report escaped")),
        }
    }
}

/// Which column index holds each field the format reads.
struct Columns {
    format: Format,
    index: HashMap<&'static str, usize>,
    names: Vec<String>,
}

impl Columns {
    fn get<'r>(&self, rec: &'r [String], field: &str) -> Option<&'r str> {
        self.index.get(field).and_then(|i| rec.get(*i)).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The header's own spelling of `field`.
    fn name(&self, field: &str) -> String {
        self.index.get(field).map_or_else(|| field.to_owned(), |i| self.names[*i].clone())
    }
}

fn detect(header: &[String]) -> Result<(Columns, Vec<String>), ImportError> {
    let lower: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let has = |c: &str| lower.iter().any(|h| h == c);
    let format = if has("email address") {
        Format::Mailchimp
    } else if has("subscribed_to_emails") {
        Format::Ghost
    } else if has("topics") || has("consents") {
        Format::Broadsheet
    } else if has("email") {
        Format::Listmonk
    } else {
        return Err(ImportError::Column {
            column: "email".into(),
            message:
                "is missing: expected an `email` column (listmonk, Ghost, broadsheet) or `Email Address` (Mailchimp)"
                    .into(),
        });
    };
    let (known, open) = format.columns();
    let mut index = HashMap::new();
    let mut ignored = Vec::new();
    for (i, (name, l)) in header.iter().zip(&lower).enumerate() {
        let shown = name.trim().to_owned();
        if l.is_empty() {
            return Err(ImportError::Column {
                column: format!("#{}", i + 1),
                message: "has no name; every column needs a header".into(),
            });
        }
        match known.iter().find(|k| *k == l) {
            Some(k) => {
                if index.insert(*k, i).is_some() {
                    return Err(ImportError::Column { column: shown, message: "appears twice in the header".into() });
                }
            }
            None if open => ignored.push(shown),
            None => {
                return Err(ImportError::Column {
                    column: shown,
                    message: format!(
                        "is not a column of a {} export (expected some of: {})",
                        format.label(),
                        known.join(", ")
                    ),
                })
            }
        }
    }
    // Columns the format has but this importer does not use are listed as ignored too.
    let used: &[&str] = match format {
        Format::Broadsheet => &[
            "email",
            "name",
            "status",
            "topics",
            "source",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
            "consents",
        ],
        Format::Listmonk => &["email", "name", "attributes", "status", "created_at"],
        Format::Ghost => &["email", "name", "subscribed_to_emails", "created_at", "deleted_at"],
        Format::Mailchimp => known,
    };
    for (k, i) in &index {
        if !used.contains(k) {
            ignored.push(header[*i].trim().to_owned());
        }
    }
    ignored.sort();
    Ok((Columns { format, index, names: header.iter().map(|h| h.trim().to_owned()).collect() }, ignored))
}

/// A consent record to append for an imported subscriber.
#[derive(Clone, Debug)]
struct ImportConsent {
    basis: String,
    created_at: NaiveDateTime,
    email: Option<String>,
    topics: Vec<String>,
    source: Option<String>,
    privacy_notice_version: String,
    ip: Option<String>,
}

/// A row that passed its own checks.
#[derive(Clone, Debug)]
struct Candidate {
    line: u64,
    email: SubscriberEmail,
    name: Option<String>,
    status: SubscriberStatus,
    topics: Vec<String>,
    source: Option<String>,
    created_at: NaiveDateTime,
    confirmed_at: Option<NaiveDateTime>,
    unsubscribed_at: Option<NaiveDateTime>,
    consents: Vec<ImportConsent>,
    /// The file had consent data for this row.
    with_consent: bool,
}

type RowResult<T> = Result<T, (String, String)>;

/// A time as the tools write them: RFC 3339 (Ghost, broadsheet),
/// `YYYY-MM-DD HH:MM:SS` in UTC (Mailchimp), PostgreSQL's
/// `YYYY-MM-DD HH:MM:SS.ffffff+00` (listmonk), or a date.
fn parse_time(v: &str) -> Option<NaiveDateTime> {
    let v = v.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(t.naive_utc());
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%#z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(v, f) {
            return Some(t.naive_utc());
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// `t` to the microsecond, as the database keeps it (so a round trip compares equal).
fn micros(t: NaiveDateTime) -> NaiveDateTime {
    let us = t.and_utc().timestamp_subsec_micros();
    chrono::Timelike::with_nanosecond(&t, us * 1000).unwrap_or(t)
}

fn time(cols: &Columns, rec: &[String], field: &str) -> RowResult<Option<NaiveDateTime>> {
    cols.get(rec, field)
        .map(|v| {
            parse_time(v).map(micros).ok_or_else(|| {
                (cols.name(field), "is not a time (expected RFC 3339 or YYYY-MM-DD HH:MM:SS, UTC)".to_owned())
            })
        })
        .transpose()
}

/// Undoes the export's CSV-injection guard (a `'` put before `=`, `+`, `-`,
/// `@`, tab or CR), so a broadsheet export comes back as it was.
fn undefuse(v: &str) -> String {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => v.to_owned(),
    }
}

fn text(cols: &Columns, rec: &[String], field: &str, max: usize) -> RowResult<Option<String>> {
    let v = cols.get(rec, field).map(|v| if cols.format == Format::Broadsheet { undefuse(v) } else { v.to_owned() });
    service::optional_text(field, v, max)
        .map_err(|_| (cols.name(field), format!("is longer than {max} characters or holds control characters")))
}

fn ip(raw: Option<&str>, settings: &Settings) -> Option<String> {
    raw.and_then(|v| v.trim().parse::<IpAddr>().ok())
        .and_then(|ip| service::consent_ip(ip, settings.subscriptions.consent_ip))
}

/// Parses one data row into a candidate (or the problem that skips it);
/// `Ok(None)` for a row that is deliberately left out (`deleted`).
fn parse_row(
    cols: &Columns,
    rec: &[String],
    line: u64,
    settings: &Settings,
    now: NaiveDateTime,
) -> RowResult<Option<Candidate>> {
    let email_field = if cols.format == Format::Mailchimp { "email address" } else { "email" };
    let raw_email = cols.get(rec, email_field).unwrap_or("");
    let email = SubscriberEmail::parse(raw_email).map_err(|m| (cols.name(email_field), m.to_owned()))?;
    let source = Some(format!("import:{}", cols.format.label()));
    let mut c = Candidate {
        line,
        email,
        name: None,
        status: SubscriberStatus::Confirmed,
        topics: vec![ALL_TOPICS.to_owned()],
        source,
        created_at: now,
        confirmed_at: None,
        unsubscribed_at: None,
        consents: Vec::new(),
        with_consent: false,
    };
    match cols.format {
        Format::Mailchimp => {
            let first = text(cols, rec, "first name", service::MAX_NAME)?;
            let last = text(cols, rec, "last name", service::MAX_NAME)?;
            let name = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
            c.name = service::optional_text("name", Some(name), service::MAX_NAME).map_err(|_| {
                (cols.name("first name"), "with the last name is longer than 200 characters".to_owned())
            })?;
            let optin = time(cols, rec, "optin_time")?;
            let confirm = time(cols, rec, "confirm_time")?;
            let unsub = time(cols, rec, "unsub_time")?;
            let clean = time(cols, rec, "clean_time")?;
            if clean.is_some() {
                c.status = SubscriberStatus::Bounced;
            } else if unsub.is_some() {
                c.status = SubscriberStatus::Unsubscribed;
                c.unsubscribed_at = unsub;
            }
            let at = confirm.or(optin);
            let address = ip(cols.get(rec, "confirm_ip").or(cols.get(rec, "optin_ip")), settings);
            if at.is_some() || address.is_some() {
                c.with_consent = true;
                c.consents.push(ImportConsent {
                    basis: "imported".into(),
                    created_at: at.unwrap_or(now),
                    email: None,
                    topics: c.topics.clone(),
                    source: c.source.clone(),
                    privacy_notice_version: "unknown (mailchimp)".into(),
                    ip: address,
                });
            }
            c.created_at = optin.or(confirm).unwrap_or(now);
            if c.status == SubscriberStatus::Confirmed {
                c.confirmed_at = Some(at.unwrap_or(now));
            }
        }
        Format::Ghost => {
            if cols.get(rec, "deleted_at").is_some() {
                return Ok(None);
            }
            c.name = text(cols, rec, "name", service::MAX_NAME)?;
            let subscribed = match cols.get(rec, "subscribed_to_emails").map(str::to_ascii_lowercase).as_deref() {
                None | Some("true" | "1" | "yes") => true,
                Some("false" | "0" | "no") => false,
                Some(_) => return Err((cols.name("subscribed_to_emails"), "must be true or false".into())),
            };
            c.created_at = time(cols, rec, "created_at")?.unwrap_or(now);
            if subscribed {
                c.confirmed_at = Some(c.created_at);
            } else {
                c.status = SubscriberStatus::Unsubscribed;
                c.unsubscribed_at = Some(now);
            }
        }
        Format::Listmonk => {
            c.name = text(cols, rec, "name", service::MAX_NAME)?;
            if let Some(a) = cols.get(rec, "attributes") {
                if !serde_json::from_str::<serde_json::Value>(a).is_ok_and(|v| v.is_object()) {
                    return Err((cols.name("attributes"), "must be a JSON object".into()));
                }
            }
            c.status = match cols.get(rec, "status").map(str::to_ascii_lowercase).as_deref() {
                None | Some("enabled") => SubscriberStatus::Confirmed,
                Some("blocklisted" | "disabled") => SubscriberStatus::Unsubscribed,
                Some(_) => return Err((cols.name("status"), "must be enabled, disabled or blocklisted".into())),
            };
            c.created_at = time(cols, rec, "created_at")?.unwrap_or(now);
            match c.status {
                SubscriberStatus::Confirmed => c.confirmed_at = Some(c.created_at),
                _ => c.unsubscribed_at = Some(now),
            }
        }
        Format::Broadsheet => {
            c.name = text(cols, rec, "name", service::MAX_NAME)?;
            c.status = match cols.get(rec, "status") {
                None => SubscriberStatus::Confirmed,
                Some(s) => SubscriberStatus::parse(s).ok_or_else(|| {
                    (
                        cols.name("status"),
                        "must be one of pending, confirmed, unsubscribed, bounced, complained".to_owned(),
                    )
                })?,
            };
            let topics = cols.get(rec, "topics").map(|t| t.split_whitespace().map(str::to_owned).collect());
            c.topics = service::parse_topics(topics).map_err(|e| {
                let detail =
                    e.problem().errors.first().map_or_else(|| "are not topic slugs".to_owned(), |f| f.message.clone());
                (cols.name("topics"), detail)
            })?;
            // The export's own source (none for a reader who gave none).
            c.source = text(cols, rec, "source", service::MAX_SOURCE)?;
            c.created_at = time(cols, rec, "created_at")?.unwrap_or(now);
            c.confirmed_at = time(cols, rec, "confirmed_at")?;
            c.unsubscribed_at = time(cols, rec, "unsubscribed_at")?;
            if let Some(raw) = cols.get(rec, "consents") {
                c.consents = parse_consents(raw).map_err(|m| (cols.name("consents"), m))?;
                c.with_consent = !c.consents.is_empty();
            }
        }
    }
    if c.status == SubscriberStatus::Confirmed && c.consents.is_empty() {
        c.consents.push(ImportConsent {
            basis: "imported_without_consent".into(),
            created_at: now,
            email: None,
            topics: c.topics.clone(),
            source: c.source.clone(),
            privacy_notice_version: "none".into(),
            ip: None,
        });
    }
    Ok(Some(c))
}

/// The `consents` column of a broadsheet export: a JSON array of consent records.
fn parse_consents(raw: &str) -> Result<Vec<ImportConsent>, String> {
    #[derive(serde::Deserialize)]
    struct Record {
        created_at: String,
        #[serde(default)]
        basis: Option<String>,
        email: String,
        #[serde(default)]
        topics: Vec<String>,
        source: Option<String>,
        privacy_notice_version: String,
        ip: Option<String>,
    }
    let records: Vec<Record> =
        serde_json::from_str(raw).map_err(|e| format!("must be a JSON array of consent records ({e})"))?;
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let created_at = parse_time(&r.created_at)
                .map(micros)
                .ok_or_else(|| format!("[{i}].created_at is not an RFC 3339 time"))?;
            let basis = r.basis.unwrap_or_else(|| "double_opt_in".into());
            if !matches!(basis.as_str(), "double_opt_in" | "imported" | "imported_without_consent") {
                return Err(format!("[{i}].basis must be double_opt_in, imported or imported_without_consent"));
            }
            let long = |v: &str, max: usize| v.chars().count() > max;
            if long(&r.email, super::model::MAX_EMAIL)
                || long(&r.privacy_notice_version, 200)
                || r.source.as_deref().is_some_and(|s| long(s, service::MAX_SOURCE))
                || r.ip.as_deref().is_some_and(|s| long(s, 64))
                || r.topics.len() > service::MAX_TOPICS
            {
                return Err(format!("[{i}] has a field that is too long"));
            }
            Ok(ImportConsent {
                basis,
                created_at,
                email: Some(r.email),
                topics: r.topics,
                source: r.source,
                privacy_notice_version: r.privacy_notice_version,
                ip: r.ip,
            })
        })
        .collect()
}

struct Run {
    report: ImportReport,
    /// Comparison key → the row that first had it.
    seen: HashMap<String, u64>,
    batch: Vec<Candidate>,
    known_topics: HashSet<String>,
}

impl Run {
    fn problem(&mut self, row: u64, field: String, message: String) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(RowProblem { row, field, message });
        } else {
            self.report.problems_omitted += 1;
        }
    }

    /// Writes the batch: drops rows whose address exists or was erased, or
    /// names an unknown topic, then inserts the rest (a fixed number of
    /// queries per batch).
    fn flush(&mut self, conn: &mut DbConnection, email_field: &str) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let keys: Vec<String> = batch.iter().map(|c| c.email.key.clone()).collect();
        let existing: HashMap<String, String> = subscribers::table
            .filter(subscribers::email_key.eq_any(&keys))
            .select((subscribers::email_key, subscribers::status))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let hashes: Vec<String> = keys.iter().map(|k| erasure_hash(k)).collect();
        let erased: HashSet<String> = subscription_erasures::table
            .filter(subscription_erasures::email_hash.eq_any(&hashes))
            .select(subscription_erasures::email_hash)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let wanted: Vec<String> = batch
            .iter()
            .flat_map(|c| c.topics.iter().cloned())
            .filter(|t| t != ALL_TOPICS && !self.known_topics.contains(t))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !wanted.is_empty() {
            self.known_topics.extend(super::repo::known_topics(conn, &wanted)?);
        }
        let mut keep = Vec::with_capacity(batch.len());
        for (c, hash) in batch.into_iter().zip(hashes) {
            if erased.contains(&hash) {
                self.report.skipped.erased += 1;
                let m = "was erased (GDPR) here; an import never brings it back".to_owned();
                self.problem(c.line, email_field.to_owned(), m);
            } else if let Some(status) = existing.get(&c.email.key) {
                let m = match SubscriberStatus::parse(status) {
                    Some(SubscriberStatus::Pending | SubscriberStatus::Confirmed) | None => {
                        self.report.skipped.existing += 1;
                        format!("is already a {status} subscriber; left as it is")
                    }
                    Some(_) => {
                        self.report.skipped.suppressed += 1;
                        format!("is {status} here; an import never subscribes it again")
                    }
                };
                self.problem(c.line, email_field.to_owned(), m);
            } else if let Some(t) = c.topics.iter().find(|t| *t != ALL_TOPICS && !self.known_topics.contains(*t)) {
                self.report.skipped.invalid += 1;
                let m = format!("names no category, series or author: {t}");
                self.problem(c.line, "topics".to_owned(), m);
            } else {
                keep.push(c);
            }
        }
        if keep.is_empty() {
            return Ok(());
        }
        let now = crate::db::now();
        let secrets: Vec<String> = keep.iter().map(|_| crate::auth::tokens::random_secret()).collect();
        let rows: Vec<_> = keep
            .iter()
            .zip(&secrets)
            .map(|(c, secret)| {
                (
                    subscribers::email.eq(c.email.address.clone()),
                    subscribers::email_key.eq(c.email.key.clone()),
                    subscribers::name.eq(c.name.clone()),
                    subscribers::status.eq(c.status.as_str()),
                    subscribers::source.eq(c.source.clone()),
                    subscribers::secret.eq(secret.clone()),
                    subscribers::confirmed_at.eq(c.confirmed_at),
                    subscribers::unsubscribed_at.eq(c.unsubscribed_at),
                    subscribers::created_at.eq(c.created_at),
                    subscribers::updated_at.eq(now),
                )
            })
            .collect();
        match conn {
            DbConnection::Postgresql(pg) => diesel::insert_into(subscribers::table).values(&rows).execute(pg)?,
            DbConnection::Sqlite(lite) => diesel::insert_into(subscribers::table).values(&rows).execute(lite)?,
        };
        let keys: Vec<String> = keep.iter().map(|c| c.email.key.clone()).collect();
        let ids: HashMap<String, i64> = subscribers::table
            .filter(subscribers::email_key.eq_any(&keys))
            .select((subscribers::email_key, subscribers::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
        let mut topic_rows = Vec::new();
        let mut consent_rows = Vec::new();
        for c in &keep {
            let id = ids[&c.email.key];
            for t in &c.topics {
                topic_rows.push((subscriber_topics::subscriber_id.eq(id), subscriber_topics::topic.eq(t.clone())));
            }
            for k in &c.consents {
                consent_rows.push((
                    subscription_consents::subscriber_id.eq(id),
                    subscription_consents::email.eq(k.email.clone().unwrap_or_else(|| c.email.address.clone())),
                    subscription_consents::topics.eq(serde_json::to_string(&k.topics).unwrap_or_else(|_| "[]".into())),
                    subscription_consents::source.eq(k.source.clone()),
                    subscription_consents::privacy_notice_version.eq(k.privacy_notice_version.clone()),
                    subscription_consents::ip.eq(k.ip.clone()),
                    subscription_consents::created_at.eq(k.created_at),
                    subscription_consents::basis.eq(k.basis.clone()),
                ));
            }
            self.report.imported += 1;
            let b = &mut self.report.by_status;
            match c.status {
                SubscriberStatus::Confirmed => b.confirmed += 1,
                SubscriberStatus::Pending => b.pending += 1,
                SubscriberStatus::Unsubscribed => b.unsubscribed += 1,
                SubscriberStatus::Bounced => b.bounced += 1,
                SubscriberStatus::Complained => b.complained += 1,
            }
            if c.with_consent {
                self.report.with_consent += 1;
            } else if c.status == SubscriberStatus::Confirmed {
                self.report.without_consent += 1;
            }
        }
        // Topics have 2 columns and consents 8: chunks keep the binds per
        // statement far below SQLite's 32,766.
        for chunk in topic_rows.chunks(2000) {
            match conn {
                DbConnection::Postgresql(pg) => {
                    diesel::insert_into(subscriber_topics::table).values(chunk).execute(pg)?
                }
                DbConnection::Sqlite(lite) => {
                    diesel::insert_into(subscriber_topics::table).values(chunk).execute(lite)?
                }
            };
        }
        for chunk in consent_rows.chunks(1000) {
            match conn {
                DbConnection::Postgresql(pg) => {
                    diesel::insert_into(subscription_consents::table).values(chunk).execute(pg)?
                }
                DbConnection::Sqlite(lite) => {
                    diesel::insert_into(subscription_consents::table).values(chunk).execute(lite)?
                }
            };
        }
        Ok(())
    }
}

/// Reads a CSV file from `input` and imports its subscribers in one
/// transaction on `conn` (rolled back for a dry run). See the module docs
/// for the formats and rules.
pub fn import<R: Read>(
    conn: &mut DbConnection,
    settings: &Settings,
    input: R,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let result = conn.transaction(|c| {
        let report = run(c, settings, input, dry_run)?;
        if dry_run {
            Err(ImportError::DryRun(Box::new(report)))
        } else {
            Ok(report)
        }
    });
    match result {
        Err(ImportError::DryRun(report)) => Ok(*report),
        other => other,
    }
}

/// The 1-based line a record starts on (the reader counts the lines it has
/// finished, so the first record is at 0).
fn line_of(pos: Option<&csv::Position>) -> u64 {
    pos.map_or(0, |p| p.line()) + 1
}

fn utf8_record(rec: &csv::ByteRecord) -> Result<Vec<String>, ImportError> {
    let line = line_of(rec.position());
    rec.iter().map(|f| std::str::from_utf8(f).map(str::to_owned).map_err(|_| ImportError::Encoding { line })).collect()
}

fn run<R: Read>(
    conn: &mut DbConnection,
    settings: &Settings,
    input: R,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let csv_error = |e: csv::Error| match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => ImportError::Encoding { line: line_of(pos.as_ref()) },
        _ => ImportError::Csv { line: line_of(e.position()), message: e.to_string() },
    };
    let mut rec = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut rec).map_err(csv_error)? {
        return Err(ImportError::Empty);
    }
    let mut header = utf8_record(&rec)?;
    if let Some(first) = header.first_mut() {
        *first = first.trim_start_matches('\u{feff}').to_owned();
    }
    let (cols, ignored) = detect(&header)?;
    let email_field = cols.name(if cols.format == Format::Mailchimp { "email address" } else { "email" });
    let mut run = Run {
        report: ImportReport {
            dry_run,
            format: cols.format,
            rows: 0,
            imported: 0,
            by_status: StatusCounts::default(),
            with_consent: 0,
            without_consent: 0,
            skipped: SkippedCounts::default(),
            problems: Vec::new(),
            problems_omitted: 0,
            ignored_columns: ignored,
        },
        seen: HashMap::new(),
        batch: Vec::with_capacity(BATCH),
        known_topics: HashSet::new(),
    };
    let now = crate::db::now();
    while reader.read_byte_record(&mut rec).map_err(csv_error)? {
        let line = line_of(rec.position());
        let fields = utf8_record(&rec)?;
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        run.report.rows += 1;
        if fields.len() != header.len() {
            run.report.skipped.invalid += 1;
            let m = format!("has {} fields; the header has {}", fields.len(), header.len());
            run.problem(line, "row".into(), m);
            continue;
        }
        match parse_row(&cols, &fields, line, settings, now) {
            Err((field, message)) => {
                run.report.skipped.invalid += 1;
                run.problem(line, field, message);
            }
            Ok(None) => {
                run.report.skipped.deleted += 1;
                run.problem(line, cols.name("deleted_at"), "is set: the member was deleted in Ghost".into());
            }
            Ok(Some(c)) => {
                if let Some(first) = run.seen.get(&c.email.key) {
                    run.report.skipped.duplicate += 1;
                    let m = format!("repeats the address of row {first}");
                    run.problem(line, email_field.clone(), m);
                    continue;
                }
                run.seen.insert(c.email.key.clone(), line);
                run.batch.push(c);
                if run.batch.len() >= BATCH {
                    run.flush(conn, &email_field)?;
                }
            }
        }
    }
    run.flush(conn, &email_field)?;
    run.report.problems.sort_by_key(|p| p.row);
    Ok(run.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cols: &str) -> Vec<String> {
        cols.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn formats_are_recognized_from_their_headers() {
        let cases = [
            ("\"Email Address\",First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS", Format::Mailchimp),
            ("id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers", Format::Ghost),
            ("email,name,attributes", Format::Listmonk),
            ("uuid,email,name,attributes,status,created_at,updated_at", Format::Listmonk),
            ("id,email,name,status,topics,source,created_at,updated_at,confirmed_at,unsubscribed_at,consents", Format::Broadsheet),
        ];
        for (h, want) in cases {
            let h = header(&h.replace('"', ""));
            let (cols, _) = detect(&h).unwrap_or_else(|e| panic!("{h:?}: {e}"));
            assert_eq!(cols.format, want, "{h:?}");
        }
    }

    #[test]
    fn wrong_columns_are_named() {
        let e = detect(&header("mail,name")).err().expect("no email column");
        assert!(matches!(&e, ImportError::Column { column, .. } if column == "email"), "{e}");
        let e = detect(&header("email,name,shoe_size")).err().expect("unknown column");
        assert!(matches!(&e, ImportError::Column { column, .. } if column == "shoe_size"), "{e}");
        let e = detect(&header("email,name,Email")).err().expect("twice");
        assert!(matches!(&e, ImportError::Column { column, .. } if column == "Email"), "{e}");
        let (_, ignored) = detect(&header("Email Address,First Name,Favourite Colour,LEID")).unwrap();
        assert_eq!(ignored, ["Favourite Colour", "LEID"]);
    }

    #[test]
    fn times_in_each_tool_s_format_parse() {
        for v in [
            "2026-01-31T09:00:00Z",
            "2026-01-31T09:00:00.123Z",
            "2026-01-31 09:00:00",
            "2026-01-31 09:00:00.5+00",
            "2026-01-31",
        ] {
            assert!(parse_time(v).is_some(), "{v}");
        }
        assert!(parse_time("31/01/2026").is_none());
    }

    #[test]
    fn the_export_s_formula_guard_is_undone() {
        assert_eq!(undefuse("'=1+1"), "=1+1");
        assert_eq!(undefuse("'-Ana"), "-Ana");
        assert_eq!(undefuse("'quoted"), "'quoted");
    }
}
