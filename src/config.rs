//! Settings read from the environment (and `.env` when present).
//!
//! Every variable is listed in `.env.example` with its default. A bad value
//! fails start-up with a [`ConfigError`] that names the variable.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the database lives, parsed from `DATABASE_URL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`: an embedded SQLite file, created (with its folder) if missing.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: passed to libpq unchanged.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `postgres://…` or `postgresql://…`.
    ///
    /// Any other scheme (including a bare path or a typo such as `postgress://`)
    /// is an error, so a mistyped PostgreSQL URL never creates a SQLite file.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/broadsheet.db".into());
            }
            if path.contains('?') || path.contains('#') {
                return Err("sqlite:// takes a plain file path; query parameters are not supported".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let scheme = raw.split("://").next().filter(|_| raw.contains("://"));
        Err(match scheme {
            Some(s) => format!("unknown scheme `{s}://`; expected sqlite:// or postgres://"),
            None => "expected a URL starting with sqlite:// or postgres://".into(),
        })
    }

    /// `"sqlite"` or `"postgres"`, for logs and the health check.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// A configuration error; its message names the offending variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {message}")]
pub struct ConfigError {
    /// The environment variable, e.g. `DATABASE_URL`.
    pub var: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

/// Runtime settings. See `.env.example` for every variable and its default.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`; default `sqlite://data/broadsheet.db`.
    pub database_url: DatabaseUrl,
    /// `DATABASE_POOL_SIZE`: connections in the r2d2 pool, 1–256; default 10.
    pub pool_size: u32,
    /// `HTTP_WORKERS`: actix worker threads serving HTTP, 1–64; default one
    /// per core (actix's own default). Two per core halved the p99 of a
    /// cached 143 KB list under 32 busy connections on one machine and made
    /// no difference on another (ARCHITECTURE.md, "Benchmark"). Each worker
    /// builds its own `App`: since 2026-12-05 ~22 million instructions
    /// (actix's route regexes), not ~90 million, so more workers no longer
    /// slow the start.
    pub http_workers: usize,
    /// `BIND_ADDR`: socket address to listen on; default `127.0.0.1:8080`.
    pub bind_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: absolute origin used in links (`Link` headers);
    /// default `http://{BIND_ADDR}`. No trailing slash.
    pub public_base_url: String,
    /// `DATA_DIR`: where generated state lives (local media by default); default `data`.
    pub data_dir: std::path::PathBuf,
    /// `JWT_SECRET`: HMAC-SHA256 key for access and preview tokens, at least
    /// 32 bytes. When unset, keys are generated and stored in the database
    /// (`signing_keys`), shared by every instance and rotated with
    /// `broadsheet keys rotate`.
    pub jwt_secret: Option<Secret>,
    /// `JWT_ISSUER`: the `iss` claim issued and required; default `broadsheet`.
    pub jwt_issuer: String,
    /// `ACCESS_TOKEN_TTL_SECONDS`: access-token lifetime, 60–86400; default 900 (15 min).
    pub access_token_ttl_secs: i64,
    /// `REFRESH_TOKEN_TTL_DAYS`: refresh-token lifetime, 1–365; default 30.
    pub refresh_token_ttl_days: i64,
    /// `LOGIN_MAX_FAILURES_PER_CLIENT`: failed logins per client address per
    /// window before 429, 1–10000; default 20.
    pub login_max_failures_per_client: u32,
    /// `LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT` (old name
    /// `LOGIN_MAX_FAILURES_PER_ACCOUNT` accepted): failed logins for one
    /// account *from one client address* per window before that address gets
    /// 429 for that account, 1–1000; default 5. Other addresses are unaffected.
    pub login_max_failures_per_client_account: u32,
    /// `LOGIN_ACCOUNT_DELAY_AFTER_FAILURES`: failures for one account, from
    /// all addresses, within the window after which every login attempt for
    /// it waits before the password is checked (never a 429), 1–100000; default 10.
    pub login_account_delay_after: u32,
    /// `LOGIN_ACCOUNT_MAX_DELAY_MS`: that wait starts at 250 ms and doubles
    /// with each further failure up to this many milliseconds, 0–10000;
    /// default 2000.
    pub login_account_max_delay_ms: u64,
    /// `LOGIN_FAILURE_WINDOW_SECONDS`: the sliding window, 1–86400; default 900.
    pub login_failure_window_secs: u64,
    /// `TRUSTED_PROXIES`: comma-separated IPs or CIDRs (`10.0.0.0/8`,
    /// `::1`) of reverse proxies whose forwarding header is believed; default
    /// none (the client address is the socket peer). Replaces
    /// `TRUST_PROXY_HEADERS`: `false` still means none, `true` is a start-up
    /// error asking for the proxies' addresses.
    pub trusted_proxies: Vec<IpNet>,
    /// `TRUSTED_PROXY_HEADER`: which header the trusted proxies append to,
    /// `x-forwarded-for` (default) or `forwarded` (RFC 7239). Only that one is read.
    pub trusted_proxy_header: ProxyHeader,
    /// `REDIS_URL`: `redis://[user:pass@]host:port[/db]`; when set, rate
    /// limits are shared by every instance through Redis. Unset (default):
    /// in-process limits.
    pub redis_url: Option<Secret>,
    /// `REDIS_KEY_PREFIX`: prefix of every Redis key written; default `broadsheet:`.
    pub redis_key_prefix: String,
    /// `RATE_LIMIT_MAX_KEYS`: most keys the in-process limiter keeps (oldest
    /// evicted first), 1000–10000000; default 100000.
    pub rate_limit_max_keys: usize,
    /// `PUBLIC_CACHE_MAX_AGE`: `max-age` in seconds for anonymous GETs, 0–86400; default 60.
    pub public_cache_max_age: u32,
    /// `LIST_MAX_OFFSET`: deepest `OFFSET` (rows skipped, `(page - 1) *
    /// per_page`) a page-numbered list accepts, 0–1000000; default 10000.
    /// Deeper pages get a 400 pointing at the `after` cursor, whose cost does
    /// not grow with depth.
    pub list_max_offset: i64,
    /// The shared response cache (`CACHE_*`).
    pub cache: CacheSettings,
    /// `METRICS_TOKEN`: when set, `GET /metrics` answers Prometheus text to
    /// `Authorization: Bearer <token>`; unset (default): `/metrics` answers 401.
    pub metrics_token: Option<Secret>,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins (`https://www.example.com`)
    /// allowed to call the API from browsers; empty (default) turns CORS off.
    pub cors_allowed_origins: Vec<String>,
    /// Media library settings (`MEDIA_*`).
    pub media: MediaSettings,
    /// `AUTHORS_MAY_ADD_COAUTHORS`: `true` lets authors byline other authors
    /// beside themselves; default `false` (only editors add co-authors).
    pub authors_may_add_coauthors: bool,
    /// Job queue settings (`JOBS_*`).
    pub jobs: JobSettings,
    /// Outgoing mail and account-link settings (`MAIL_*`, `*_URL`, `*_TTL_*`).
    pub mail: MailSettings,
    /// Newsletter subscriptions (`SUBSCRIPTION_*`, `PRIVACY_NOTICE_VERSION`, `CONSENT_IP`).
    pub subscriptions: SubscriptionSettings,
    /// New-article mailings (`MAILING_*`).
    pub mailings: MailingSettings,
    /// Feeds, sitemaps, webhooks and the import's outbound fetches
    /// (`SITE_*`, `FEED_*`, `SITEMAP_*`, `FRONTEND_*_URL`, `WEBHOOK_*`,
    /// `IMPORT_ALLOW_LOOPBACK`).
    pub distribution: DistributionSettings,
    /// Reader comments (`COMMENT_*`).
    pub comments: CommentSettings,
}

/// What feeds carry in each entry (`FEED_CONTENT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedContent {
    /// `full` (default): the sanitized body HTML, plus the excerpt as summary.
    Full,
    /// `excerpt`: the excerpt only.
    Excerpt,
}

/// Feeds, sitemaps and webhooks (`crate::feeds`, `crate::sitemaps`, `crate::webhooks`).
#[derive(Clone, Debug)]
pub struct DistributionSettings {
    /// `SITE_TITLE`: the publication's name in feeds and the news sitemap,
    /// at most 200 characters; default `broadsheet`.
    pub site_title: String,
    /// `SITE_LANGUAGE`: BCP 47 / ISO 639 language code of the content (`en`,
    /// `pt-br`), used by feeds and Google News; default `en`.
    pub site_language: String,
    /// `FEED_CONTENT`: `full` (default) or `excerpt`.
    pub feed_content: FeedContent,
    /// `FEED_ITEMS`: entries per feed, newest first, 1–100; default 20.
    pub feed_items: i64,
    /// `SITEMAP_MAX_URLS`: URLs per sitemap file before the index splits it,
    /// 1–50000 (the sitemaps protocol's limit); default 50000.
    pub sitemap_max_urls: i64,
    /// `FRONTEND_HOME_URL`: the site's home page; default `PUBLIC_BASE_URL`.
    pub home_url: String,
    /// `FRONTEND_ARTICLE_URL`: pattern with `{slug}`, `{id}`, `{yyyy}`,
    /// `{mm}`, `{dd}` (publication date, UTC); default
    /// `{PUBLIC_BASE_URL}/{yyyy}/{mm}/{slug}`.
    pub article_url: String,
    /// `FRONTEND_AUTHOR_URL` (`{slug}`); default `{PUBLIC_BASE_URL}/authors/{slug}`.
    pub author_url: String,
    /// `FRONTEND_CATEGORY_URL` (`{slug}`); default `{PUBLIC_BASE_URL}/categories/{slug}`.
    pub category_url: String,
    /// `FRONTEND_TAG_URL` (`{slug}`); default `{PUBLIC_BASE_URL}/tags/{slug}`.
    pub tag_url: String,
    /// `FRONTEND_SERIES_URL` (`{slug}`); default `{PUBLIC_BASE_URL}/series/{slug}`.
    pub series_url: String,
    /// `FRONTEND_PAGE_URL` (`{slug}`); default `{PUBLIC_BASE_URL}/{slug}`.
    pub page_url: String,
    /// `WEBHOOK_ALLOW_LOOPBACK`: let webhook endpoints resolve to loopback
    /// addresses (tests and local development only); default `false`.
    /// Private, link-local and metadata addresses stay refused.
    pub webhook_allow_loopback: bool,
    /// `IMPORT_ALLOW_LOOPBACK`: let `import wordpress --media download` fetch
    /// from loopback addresses (tests and local mirrors only); default
    /// `false`. Private, link-local and metadata addresses stay refused.
    pub import_allow_loopback: bool,
    /// `WEBHOOK_MAX_ATTEMPTS`: delivery attempts per event before it is given
    /// up, 1–30; default 12 (with the backoff schedule, about 24 h).
    pub webhook_max_attempts: i32,
    /// `WEBHOOK_RETRY_BASE_MS`: the first retry's delay; each later one
    /// doubles it (capped at 6 h), 1–3600000; default 60000.
    pub webhook_retry_base_ms: u64,
    /// `WEBHOOK_DISABLE_AFTER_FAILURES`: consecutive failed deliveries
    /// (events given up) after which an endpoint is disabled and admins are
    /// mailed, 1–1000; default 5.
    pub webhook_disable_after: i32,
    /// `WEBHOOK_TIMEOUT_MS`: the whole of one delivery attempt (connect,
    /// send, read the first 4 KiB), 100–15000; default 15000. Connecting
    /// alone is capped at 5 s, and the whole at 80 % of `JOBS_LEASE_SECONDS`.
    pub webhook_timeout_ms: u64,
}

fn parse_pattern(
    var: &'static str,
    raw: Option<String>,
    default: String,
    needs: &[&str],
) -> Result<String, ConfigError> {
    let v = raw.map(|v| v.trim().to_owned()).unwrap_or(default);
    let probe = v
        .replace("{slug}", "s")
        .replace("{id}", "1")
        .replace("{yyyy}", "2026")
        .replace("{mm}", "01")
        .replace("{dd}", "01");
    let u = url::Url::parse(&probe)
        .map_err(|e| ConfigError { var, message: format!("`{v}` is not an absolute URL pattern ({e})") })?;
    if !matches!(u.scheme(), "http" | "https") || probe.contains('{') || probe.contains('}') {
        return Err(ConfigError {
            var,
            message: format!("`{v}` must be an http(s) URL using only {{slug}}, {{id}}, {{yyyy}}, {{mm}}, {{dd}}"),
        });
    }
    if !needs.is_empty() && !needs.iter().any(|n| v.contains(n)) {
        return Err(ConfigError { var, message: format!("`{v}` must contain {}", needs.join(" or ")) });
    }
    Ok(v)
}

/// The in-process response cache for public reads (`crate::http::cache`).
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// `CACHE_MAX_MIB`: most memory the cached responses (all encodings)
    /// take, in MiB, 0–4096; 0 turns the cache off; default 32.
    pub max_mib: u64,
    /// `CACHE_TTL_SECONDS`: longest life of an entry, 1–86400; default 300.
    /// Writes invalidate entries long before that; this only bounds memory
    /// held by entries nobody asks for.
    pub ttl_secs: u64,
    /// `CACHE_POLL_INTERVAL_MS`: how often the database's content generation
    /// is read, 50–900; default 250. Hits stop when no poll succeeded for a
    /// second, so a write elsewhere is served stale for at most one second.
    pub poll_interval_ms: u64,
}

/// How much of the confirming client's address a consent record keeps (`CONSENT_IP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentIp {
    /// `full`: the whole address.
    Full,
    /// `truncated` (default): IPv4 to its /24, IPv6 to its /48, the rest zeroed.
    Truncated,
    /// `none`: no address at all.
    Drop,
}

/// Newsletter subscriptions (`crate::subscriptions`).
#[derive(Clone, Debug)]
pub struct SubscriptionSettings {
    /// `SUBSCRIPTION_CONFIRM_URL`: the front-end page that takes `?token=`,
    /// shows what confirming does (`GET /subscriptions/confirm`) and POSTs
    /// it; default `{PUBLIC_BASE_URL}/subscriptions/confirm`.
    pub confirm_url: String,
    /// `SUBSCRIPTION_PREFERENCES_URL`: the front-end page that takes a
    /// subscriber's `?token=` for preferences and unsubscribing; default
    /// `{PUBLIC_BASE_URL}/subscriptions/preferences`.
    pub preferences_url: String,
    /// `SUBSCRIPTION_CONFIRM_TTL_HOURS`: confirmation-link lifetime, 1–720; default 48.
    pub confirm_ttl_hours: i64,
    /// `SUBSCRIPTION_RESEND_COOLDOWN_MINUTES`: a pending address gets at most
    /// one confirmation mail per this many minutes, 1–10080; default 60.
    pub resend_cooldown_minutes: i64,
    /// `PRIVACY_NOTICE_VERSION`: recorded with every consent; default `1`.
    pub privacy_notice_version: String,
    /// `CONSENT_IP`: `full`, `truncated` (default) or `none`.
    pub consent_ip: ConsentIp,
}

/// New-article mailings (`crate::mailings`).
#[derive(Clone, Debug)]
pub struct MailingSettings {
    /// `MAILING_RATE_PER_SECOND`: most messages a mailing sends per second
    /// (per runner working on it), 1–10000; default 10.
    pub rate_per_second: u32,
    /// `MAILING_BATCH_SIZE`: delivery records read per query, 1–1000; default 100.
    pub batch_size: i64,
    /// `MAILING_MAX_ATTEMPTS`: tries per recipient before the delivery is
    /// `failed`, 1–20; default 5.
    pub max_attempts: i32,
    /// `MAILING_RETRY_BASE_SECONDS`: wait after a recipient's first failed
    /// try, doubled per further try (capped at one hour), 1–3600; default 60.
    pub retry_base_secs: i64,
    /// `MAILING_MAX_LATENESS_MINUTES`: a mailing that would start more than
    /// this long after its article's publication time is held for an editor
    /// instead of sent late; an article published with a publication time
    /// older than this (a backdated article) gets no mailing. 1–10080; default 360.
    pub max_lateness_minutes: i64,
    /// `MAILING_ARTICLE_URL`: the public page of an article, `{slug}`
    /// replaced by its slug; default `{PUBLIC_BASE_URL}/articles/{slug}`.
    pub article_url: String,
    /// `BOUNCE_WEBHOOK_SECRET`: when set (at least 32 characters), a mail
    /// provider may report bounces and complaints to `POST
    /// /subscriptions/bounces` with `Authorization: Bearer <secret>`; unset,
    /// only editors can. Never logged.
    pub bounce_webhook_secret: Option<Secret>,
    /// `MAILING_UNSUBSCRIBE_URL`: where `List-Unsubscribe` points (POSTed
    /// by mail clients, RFC 8058), `?token=` appended; default
    /// `{PUBLIC_BASE_URL}/api/v1/subscriptions/unsubscribe`.
    pub unsubscribe_url: String,
}

/// Reader comments (`crate::comments`): posting, moderation policy and spam rules.
#[derive(Clone, Debug)]
pub struct CommentSettings {
    /// `COMMENT_VERIFY_URL`: the front-end page that takes a reader's
    /// `?token=`, shows it (`GET /readers/verify`) and POSTs it; default
    /// `{PUBLIC_BASE_URL}/comments/verify`.
    pub verify_url: String,
    /// `COMMENT_VERIFY_TTL_HOURS`: verification-link lifetime, 1–720; default 48.
    pub verify_ttl_hours: i64,
    /// `COMMENT_VERIFY_COOLDOWN_MINUTES`: an unverified reader gets at most
    /// one verification mail per this many minutes, 1–10080; default 60.
    pub verify_cooldown_minutes: i64,
    /// `COMMENT_MAX_DEPTH`: deepest reply level (a top-level comment is
    /// depth 0), 0–20; default 5.
    pub max_depth: i64,
    /// `COMMENT_EDIT_WINDOW_MINUTES`: how long the edit token works, 1–1440; default 15.
    pub edit_window_minutes: i64,
    /// `COMMENT_MAX_CHARS`: longest body in characters, 10–100000; default 5000.
    pub max_chars: usize,
    /// `COMMENT_APPROVE_AFTER`: a verified reader with at least this many
    /// approved comments is approved without moderation, 1–1000; default 1
    /// (so a reader's first comment is always held).
    pub approve_after: i64,
    /// `COMMENT_HOLD_LINKS`: a comment with at least this many links is held, 1–100; default 2.
    pub hold_links: usize,
    /// `COMMENT_MODERATION_WORDS`: comma-separated; a comment containing one is held.
    pub moderation_words: Vec<String>,
    /// `COMMENT_DISALLOWED_WORDS`: comma-separated; a comment containing one is spam.
    pub disallowed_words: Vec<String>,
    /// `COMMENT_BLOCKED_IPS`: comma-separated IPs or CIDRs whose comments are spam.
    pub blocked_ips: Vec<IpNet>,
    /// `COMMENT_BLOCKED_EMAILS`: comma-separated addresses or `@domain`s whose comments are spam.
    pub blocked_emails: Vec<String>,
    /// `COMMENT_BLOCKED_DOMAINS`: comma-separated host names; a website or
    /// link to one of them (or a subdomain) makes a comment spam.
    pub blocked_domains: Vec<String>,
    /// `COMMENT_REMODERATE_EDITS`: an edit to an approved comment goes back
    /// to `pending` unless the policy approves it again; default `true`.
    pub remoderate_edits: bool,
    /// `COMMENT_REPLY_COOLDOWN_MINUTES`: at most one reply mail per thread
    /// per reader in this many minutes; later replies wait and go out as one
    /// digest, 1–10080; default 60.
    pub reply_cooldown_minutes: i64,
    /// `COMMENT_REPLY_DAILY_CAP`: most reply mails per reader per 24 hours,
    /// 1–1000; default 10. Replies past it are not dropped: they wait until
    /// the oldest mail of the 24 hours ages out and go out as one digest.
    pub reply_daily_cap: i64,
    /// `COMMENT_UNSUBSCRIBE_URL`: the front-end page that takes `?token=`
    /// (and `&thread=`), shows `GET /readers/unsubscribe` and POSTs it;
    /// default `{PUBLIC_BASE_URL}/comments/unsubscribe`.
    pub unsubscribe_url: String,
    /// `COMMENT_FORM_TOKEN`: `required` (default) or `optional`. Required,
    /// a reader's comment without a `form_token` is a 400 naming it;
    /// optional, a missing token is allowed (a token that is sent is always
    /// checked). Signed-in users never need one.
    pub form_token: FormTokenMode,
    /// `COMMENT_FORM_MIN_SECONDS`: a comment sent sooner than this after its
    /// form token was issued is spam (with the reason), 0–3600 (0 turns the
    /// check off); default 3.
    pub form_min_seconds: i64,
    /// `COMMENT_FORM_MAX_AGE_MINUTES`: a form token older than this is
    /// refused (400 naming `form_token`), 1–10080; default 1440 (a day).
    pub form_max_age_minutes: i64,
    /// The Akismet-compatible checker (`COMMENT_AKISMET_*`); `None` (default) when off.
    pub akismet: Option<AkismetSettings>,
}

/// Whether readers' comments need a form token (`COMMENT_FORM_TOKEN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormTokenMode {
    /// `required` (default).
    Required,
    /// `optional`: checked when sent.
    Optional,
}

/// An Akismet-compatible spam checker, called by the `comment_spam_check` job.
#[derive(Clone, Debug)]
pub struct AkismetSettings {
    /// `COMMENT_AKISMET_URL`: the service's base URL, e.g.
    /// `https://rest.akismet.com`; `/1.1/comment-check` is appended.
    pub url: String,
    /// `COMMENT_AKISMET_KEY`: the API key (sent as `api_key`). Both this and
    /// the URL must be set to switch the checker on. Never logged.
    pub key: Secret,
    /// `COMMENT_AKISMET_BLOG`: the `blog` parameter; default `PUBLIC_BASE_URL`.
    pub blog: String,
    /// `COMMENT_AKISMET_ALLOW_LOOPBACK`: let the URL resolve to loopback
    /// (tests and local development only); default `false`. Private,
    /// link-local and metadata addresses stay refused.
    pub allow_loopback: bool,
    /// `COMMENT_AKISMET_TIMEOUT_MS`: longest wait for an answer, 100–60000;
    /// default 5000. A timeout is a failed attempt: the comment stays
    /// pending and the job is retried.
    pub timeout_ms: u64,
}

/// The durable job queue (`crate::jobs`).
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// `JOBS_IN_SERVER`: run a job runner inside `broadsheet serve`; default `true`.
    /// Set `false` when separate `broadsheet worker` processes do the work.
    pub in_server: bool,
    /// `JOBS_CONCURRENCY`: jobs one runner holds at once, 1–64; default 4.
    pub concurrency: u32,
    /// `JOBS_MAX_ATTEMPTS`: attempts before a job is `dead`, 1–100; default 8.
    pub max_attempts: i32,
    /// `JOBS_LEASE_SECONDS`: how long a claim lasts, 1–86400; default 300. A
    /// job is also stopped (and retried) when it runs this long, so a live
    /// runner never holds a job past its lease.
    pub lease_secs: u64,
    /// `JOBS_POLL_INTERVAL_MS`: pause between claims when the queue is empty,
    /// 10–60000; default 1000.
    pub poll_interval_ms: u64,
    /// `JOBS_RETRY_BASE_MS`: first retry delay in ms, doubled per attempt
    /// (capped at one hour) with jitter, 1–3600000; default 10000.
    pub retry_base_ms: u64,
    /// `JOBS_SHUTDOWN_GRACE_SECONDS`: on SIGTERM, how long running jobs may
    /// finish before they are released for another runner, 0–600; default 20.
    pub shutdown_grace_secs: u64,
    /// `JOBS_RETENTION_DAYS`: done jobs, sent mails and expired account
    /// tokens older than this are deleted (hourly, by each runner), 1–3650;
    /// default 14. Dead jobs stay until retried or deleted by hand.
    pub retention_days: i64,
}

/// Where mail goes (`MAIL_URL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailUrl {
    /// `file://PATH` (default `DATA_DIR/outbox`): one RFC 5322 `.eml` file per message.
    Outbox(std::path::PathBuf),
    /// `smtp://` or `smtps://`.
    Smtp(SmtpUrl),
    /// `memory://`: kept in process memory (tests).
    Memory,
}

/// An SMTP relay parsed from `MAIL_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// Host name (also the TLS server name).
    pub host: String,
    /// Port; default 465 for `smtps`, 587 for `smtp` with STARTTLS, 25 without TLS.
    pub port: u16,
    /// `smtps://` (implicit TLS), `?tls=starttls` (default for `smtp://`), or `?tls=none`.
    pub tls: SmtpTls,
    /// User and password, percent-decoded.
    pub credentials: Option<(String, Secret)>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

/// How an SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (`smtps://`, usually port 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// No TLS at all: only for a relay on loopback or a trusted network.
    None,
}

impl MailUrl {
    /// Parses `MAIL_URL`; `None` means the default outbox under `data_dir`.
    pub fn parse(raw: Option<&str>, data_dir: &std::path::Path) -> Result<Self, String> {
        let Some(raw) = raw.map(str::trim) else { return Ok(Self::Outbox(data_dir.join("outbox"))) };
        if raw == "memory://" {
            return Ok(Self::Memory);
        }
        if let Some(path) = raw.strip_prefix("file://") {
            if path.is_empty() {
                return Err("file:// needs a folder, e.g. file://data/outbox".into());
            }
            return Ok(Self::Outbox(path.into()));
        }
        let url = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
        let implicit = match url.scheme() {
            "smtps" => true,
            "smtp" => false,
            other => {
                return Err(format!("`{other}:` is not supported; use smtp://, smtps://, file://PATH or memory://"))
            }
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("names no host")?.to_owned();
        let mut tls = if implicit { SmtpTls::Implicit } else { SmtpTls::StartTls };
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), v.as_ref(), implicit) {
                ("tls", "starttls", false) => tls = SmtpTls::StartTls,
                ("tls", "none", false) => tls = SmtpTls::None,
                ("tls", "implicit", _) => tls = SmtpTls::Implicit,
                _ => return Err(format!("unknown parameter `{k}={v}`; smtp:// takes tls=starttls or tls=none")),
            }
        }
        let port = url.port().unwrap_or(match tls {
            SmtpTls::Implicit => 465,
            SmtpTls::StartTls => 587,
            SmtpTls::None => 25,
        });
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let credentials = (!url.username().is_empty())
            .then(|| (decode(url.username()), Secret::new(decode(url.password().unwrap_or("")))));
        Ok(Self::Smtp(SmtpUrl { host, port, tls, credentials }))
    }
}

/// Mail and the links it carries.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `MAIL_URL`: `smtp://user:pass@host:587` (STARTTLS required),
    /// `smtp://host:25?tls=none`, `smtps://user:pass@host:465`, `file://PATH`
    /// or `memory://`; default `file://DATA_DIR/outbox`.
    pub url: MailUrl,
    /// `MAIL_FROM`: the `From` address, `Name <addr>` or `addr`; default
    /// `broadsheet <no-reply@localhost>`.
    pub from: String,
    /// `MAIL_TIMEOUT_SECONDS`: SMTP connect/read/write timeout, 1–300; default 20.
    pub timeout_secs: u64,
    /// `PASSWORD_RESET_URL`: the front-end page that takes `?token=`; default
    /// `{PUBLIC_BASE_URL}/reset-password`.
    pub password_reset_url: String,
    /// `INVITATION_URL`: the front-end page where invitees set a password;
    /// default `{PUBLIC_BASE_URL}/accept-invitation`.
    pub invitation_url: String,
    /// `PASSWORD_RESET_TTL_MINUTES`: reset-link lifetime, 5–1440; default 60.
    pub password_reset_ttl_minutes: i64,
    /// `INVITATION_TTL_HOURS`: invitation-link lifetime, 1–720; default 168 (7 days).
    pub invitation_ttl_hours: i64,
}

fn parse_link(var: &'static str, raw: Option<String>, default: String) -> Result<String, ConfigError> {
    let Some(v) = raw else { return Ok(default) };
    let u = url::Url::parse(v.trim())
        .map_err(|e| ConfigError { var, message: format!("`{v}` is not an absolute URL ({e})") })?;
    if !matches!(u.scheme(), "http" | "https") || u.fragment().is_some() {
        return Err(ConfigError { var, message: format!("`{v}` must be an http(s) URL without a fragment") });
    }
    Ok(v.trim().to_owned())
}

/// Where uploaded media files live (`MEDIA_STORE_URL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaStoreUrl {
    /// A directory on the local filesystem (`file:///abs/path` or the default
    /// `DATA_DIR/media`). Single instance, or a shared volume.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket (`s3://bucket/optional/prefix`). Credentials,
    /// region and endpoint come from the standard `AWS_*` variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket, without leading or trailing `/`; may be empty.
        prefix: String,
    },
    /// Process memory (`memory://`): for tests only; files vanish on exit.
    Memory,
}

/// Media library settings.
#[derive(Clone, Debug)]
pub struct MediaSettings {
    /// `MEDIA_STORE_URL`; default `DATA_DIR/media` on the local filesystem.
    pub store: MediaStoreUrl,
    /// `MEDIA_MAX_BYTES`: largest accepted upload in bytes, 1024–536870912
    /// (512 MiB); default 26214400 (25 MiB). Enforced while the body streams in.
    pub max_bytes: u64,
    /// `MEDIA_MAX_PIXELS`: largest accepted image area (width × height) in
    /// pixels, checked from the file header before decoding; default 50000000.
    pub max_pixels: u64,
    /// `MEDIA_ALLOWED_TYPES`: comma-separated MIME types accepted, as detected
    /// from the bytes; default `image/jpeg,image/png,image/gif,image/webp,
    /// image/avif,application/pdf,audio/mpeg,video/mp4`.
    pub allowed_types: Vec<String>,
    /// `MEDIA_ALLOW_SVG`: accept `image/svg+xml` (served with a CSP sandbox so
    /// it cannot run script); default `false`.
    pub allow_svg: bool,
    /// `MEDIA_SIGNED_REDIRECT_SECONDS`: with an S3 store, answer file requests
    /// with a 302 to a pre-signed URL valid this many seconds (60–604800);
    /// unset (default) streams files through the API.
    pub signed_redirect_secs: Option<u64>,
    /// `MEDIA_UPLOAD_IDLE_TIMEOUT_SECONDS`: an upload that sends nothing for
    /// this long is dropped with 408, 1–600; default 30.
    pub upload_idle_timeout_secs: u64,
    /// The standard `AWS_*` variables that configure an S3 store
    /// ([`S3_VARIABLES`]), as set; values are kept secret.
    pub s3_config: Vec<(String, Secret)>,
}

/// `AWS_*` variables read for an S3 media store (object_store's names).
pub const S3_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
];

/// The MIME types accepted by default (`MEDIA_ALLOWED_TYPES`).
pub const DEFAULT_MEDIA_TYPES: &[&str] =
    &["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "application/pdf", "audio/mpeg", "video/mp4"];

fn parse_bool(var: &'static str, raw: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::trim) {
        None => Ok(default),
        Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(v) => Err(ConfigError { var, message: format!("`{v}` is not true or false") }),
    }
}

impl MediaStoreUrl {
    /// Reads `MEDIA_STORE_URL`; `None` means the default under `data_dir`.
    pub fn parse(raw: Option<&str>, data_dir: &std::path::Path) -> Result<Self, String> {
        let Some(raw) = raw.map(str::trim) else { return Ok(Self::Local(data_dir.join("media"))) };
        if raw == "memory://" {
            return Ok(Self::Memory);
        }
        let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
        match url.scheme() {
            "file" => {
                url.to_file_path().map(Self::Local).map_err(|_| format!("`{raw}` is not an absolute file:/// path"))
            }
            "s3" => {
                let bucket =
                    url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| format!("`{raw}` names no bucket"))?;
                if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
                    return Err(format!("`{raw}` must be s3://bucket/prefix, no credentials, query or fragment"));
                }
                Ok(Self::S3 { bucket: bucket.to_owned(), prefix: url.path().trim_matches('/').to_owned() })
            }
            other => Err(format!("`{other}:` is not supported; use file:///path, s3://bucket/prefix or memory://")),
        }
    }
}

/// Which forwarding header trusted proxies append the client address to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// An IP network: an address and a prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDR` (a single host) or `ADDR/PREFIX`; `None` when malformed.
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = addr.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr: addr.to_canonical(), prefix })
    }

    /// Whether `ip` (IPv4-mapped IPv6 counts as IPv4) is inside this network.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        match (self.addr, ip.to_canonical()) {
            (V4(net), V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (V6(net), V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// A secret string; its `Debug` output is redacted so it never reaches logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; use only where it is needed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

fn parse_ranged<T>(var: &'static str, raw: Option<String>, default: T, min: T, max: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match raw {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<T>()
            .ok()
            .filter(|n| *n >= min && *n <= max)
            .ok_or_else(|| ConfigError { var, message: format!("`{v}` is not a whole number from {min} to {max}") }),
    }
}

impl Settings {
    /// Reads the settings from the process environment, loading `.env` first if present.
    pub fn from_env() -> Result<Self, ConfigError> {
        if let Err(e) = dotenvy::dotenv() {
            if !e.not_found() {
                return Err(ConfigError { var: ".env", message: format!("cannot be loaded: {e}") });
            }
        }
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings through `get` (used by tests with a fixed map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let database_url =
            DatabaseUrl::parse(&non_empty("DATABASE_URL").unwrap_or_else(|| "sqlite://data/broadsheet.db".into()))
                .map_err(|message| ConfigError { var: "DATABASE_URL", message })?;

        let pool_size = match non_empty("DATABASE_POOL_SIZE") {
            None => 10,
            Some(v) => v.trim().parse::<u32>().ok().filter(|n| (1..=256).contains(n)).ok_or_else(|| ConfigError {
                var: "DATABASE_POOL_SIZE",
                message: format!("`{v}` is not a whole number from 1 to 256"),
            })?,
        };

        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let http_workers = parse_ranged("HTTP_WORKERS", non_empty("HTTP_WORKERS"), cores.min(64), 1, 64)?;

        let bind_raw = non_empty("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind_addr: SocketAddr = bind_raw.trim().parse().map_err(|e| ConfigError {
            var: "BIND_ADDR",
            message: format!("`{bind_raw}` is not a socket address like 127.0.0.1:8080 ({e})"),
        })?;

        let public_base_url = match non_empty("PUBLIC_BASE_URL") {
            None => format!("http://{bind_addr}"),
            Some(v) => {
                let parsed = url::Url::parse(v.trim()).map_err(|e| ConfigError {
                    var: "PUBLIC_BASE_URL",
                    message: format!("`{v}` is not an absolute URL ({e})"),
                })?;
                if parsed.query().is_some() || parsed.fragment().is_some() {
                    return Err(ConfigError {
                        var: "PUBLIC_BASE_URL",
                        message: format!("`{v}` must not have a query or fragment"),
                    });
                }
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(ConfigError {
                        var: "PUBLIC_BASE_URL",
                        message: format!("`{v}` must use http or https"),
                    });
                }
                v.trim().trim_end_matches('/').to_owned()
            }
        };

        let jwt_secret = match non_empty("JWT_SECRET") {
            Some(v) if v.len() < 32 => {
                return Err(ConfigError { var: "JWT_SECRET", message: "must be at least 32 bytes".into() })
            }
            other => other.map(Secret::new),
        };
        let trusted_proxies = match non_empty("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    IpNet::parse(p).ok_or_else(|| ConfigError {
                        var: "TRUSTED_PROXIES",
                        message: format!("`{p}` is not an IP address or CIDR like 10.0.0.0/8"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        // The old switch trusted every peer's headers (and took the leftmost,
        // client-chosen entry). `false` maps to no trusted proxies; `true`
        // cannot be mapped safely, so it stops start-up unless TRUSTED_PROXIES
        // says which peers to believe.
        match parse_bool("TRUST_PROXY_HEADERS", non_empty("TRUST_PROXY_HEADERS"), false)? {
            true if trusted_proxies.is_empty() => {
                return Err(ConfigError {
                    var: "TRUST_PROXY_HEADERS",
                    message: "is replaced by TRUSTED_PROXIES: list your reverse proxies' addresses there \
                              (e.g. TRUSTED_PROXIES=10.0.0.0/8) and remove TRUST_PROXY_HEADERS"
                        .into(),
                })
            }
            _ => {}
        }
        let trusted_proxy_header =
            match non_empty("TRUSTED_PROXY_HEADER").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                None | Some("x-forwarded-for") => ProxyHeader::XForwardedFor,
                Some("forwarded") => ProxyHeader::Forwarded,
                Some(v) => {
                    return Err(ConfigError {
                        var: "TRUSTED_PROXY_HEADER",
                        message: format!("`{v}` is not x-forwarded-for or forwarded"),
                    })
                }
            };
        let redis_url = match non_empty("REDIS_URL") {
            None => None,
            Some(v) => {
                let u = url::Url::parse(v.trim()).ok().filter(|u| matches!(u.scheme(), "redis" | "rediss"));
                if u.is_none() {
                    return Err(ConfigError {
                        var: "REDIS_URL",
                        message: "is not a redis://host:port or rediss://host:port URL".into(),
                    });
                }
                Some(Secret::new(v.trim()))
            }
        };

        let authors_may_add_coauthors = match non_empty("AUTHORS_MAY_ADD_COAUTHORS").as_deref().map(str::trim) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(v) => {
                return Err(ConfigError {
                    var: "AUTHORS_MAY_ADD_COAUTHORS",
                    message: format!("`{v}` is not true or false"),
                })
            }
        };

        let list = |var: &str| -> Vec<String> {
            non_empty(var)
                .map(|v| v.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let comments = CommentSettings {
            verify_url: parse_link(
                "COMMENT_VERIFY_URL",
                non_empty("COMMENT_VERIFY_URL"),
                format!("{public_base_url}/comments/verify"),
            )?,
            verify_ttl_hours: parse_ranged(
                "COMMENT_VERIFY_TTL_HOURS",
                non_empty("COMMENT_VERIFY_TTL_HOURS"),
                48,
                1,
                720,
            )?,
            verify_cooldown_minutes: parse_ranged(
                "COMMENT_VERIFY_COOLDOWN_MINUTES",
                non_empty("COMMENT_VERIFY_COOLDOWN_MINUTES"),
                60,
                1,
                10_080,
            )?,
            max_depth: parse_ranged("COMMENT_MAX_DEPTH", non_empty("COMMENT_MAX_DEPTH"), 5, 0, 20)?,
            edit_window_minutes: parse_ranged(
                "COMMENT_EDIT_WINDOW_MINUTES",
                non_empty("COMMENT_EDIT_WINDOW_MINUTES"),
                15,
                1,
                1_440,
            )?,
            max_chars: parse_ranged("COMMENT_MAX_CHARS", non_empty("COMMENT_MAX_CHARS"), 5_000, 10, 100_000)?,
            approve_after: parse_ranged("COMMENT_APPROVE_AFTER", non_empty("COMMENT_APPROVE_AFTER"), 1, 1, 1_000)?,
            hold_links: parse_ranged("COMMENT_HOLD_LINKS", non_empty("COMMENT_HOLD_LINKS"), 2, 1, 100)?,
            moderation_words: list("COMMENT_MODERATION_WORDS"),
            disallowed_words: list("COMMENT_DISALLOWED_WORDS"),
            blocked_ips: list("COMMENT_BLOCKED_IPS")
                .iter()
                .map(|p| {
                    IpNet::parse(p).ok_or_else(|| ConfigError {
                        var: "COMMENT_BLOCKED_IPS",
                        message: format!("`{p}` is not an IP address or CIDR like 10.0.0.0/8"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            blocked_emails: list("COMMENT_BLOCKED_EMAILS"),
            blocked_domains: list("COMMENT_BLOCKED_DOMAINS"),
            remoderate_edits: match non_empty("COMMENT_REMODERATE_EDITS").as_deref().map(str::trim) {
                None | Some("true") | Some("1") => true,
                Some("false") | Some("0") => false,
                Some(v) => {
                    return Err(ConfigError {
                        var: "COMMENT_REMODERATE_EDITS",
                        message: format!("`{v}` is not true or false"),
                    })
                }
            },
            reply_cooldown_minutes: parse_ranged(
                "COMMENT_REPLY_COOLDOWN_MINUTES",
                non_empty("COMMENT_REPLY_COOLDOWN_MINUTES"),
                60,
                1,
                10_080,
            )?,
            reply_daily_cap: parse_ranged(
                "COMMENT_REPLY_DAILY_CAP",
                non_empty("COMMENT_REPLY_DAILY_CAP"),
                10,
                1,
                1_000,
            )?,
            unsubscribe_url: parse_link(
                "COMMENT_UNSUBSCRIBE_URL",
                non_empty("COMMENT_UNSUBSCRIBE_URL"),
                format!("{public_base_url}/comments/unsubscribe"),
            )?,
            form_token: match non_empty("COMMENT_FORM_TOKEN").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
                None | Some("required") => FormTokenMode::Required,
                Some("optional") => FormTokenMode::Optional,
                Some(v) => {
                    return Err(ConfigError {
                        var: "COMMENT_FORM_TOKEN",
                        message: format!("`{v}` is not required or optional"),
                    })
                }
            },
            form_min_seconds: parse_ranged(
                "COMMENT_FORM_MIN_SECONDS",
                non_empty("COMMENT_FORM_MIN_SECONDS"),
                3,
                0,
                3_600,
            )?,
            form_max_age_minutes: parse_ranged(
                "COMMENT_FORM_MAX_AGE_MINUTES",
                non_empty("COMMENT_FORM_MAX_AGE_MINUTES"),
                1_440,
                1,
                10_080,
            )?,
            akismet: match (non_empty("COMMENT_AKISMET_URL"), non_empty("COMMENT_AKISMET_KEY")) {
                (None, None) => None,
                (Some(_), None) => {
                    return Err(ConfigError {
                        var: "COMMENT_AKISMET_KEY",
                        message: "is required when COMMENT_AKISMET_URL is set".into(),
                    })
                }
                (None, Some(_)) => {
                    return Err(ConfigError {
                        var: "COMMENT_AKISMET_URL",
                        message: "is required when COMMENT_AKISMET_KEY is set".into(),
                    })
                }
                (Some(url), Some(key)) => {
                    let url = url.trim().trim_end_matches('/').to_owned();
                    crate::webhooks::ssrf::check_shape(&url)
                        .map_err(|m| ConfigError { var: "COMMENT_AKISMET_URL", message: format!("`{url}` {m}") })?;
                    Some(AkismetSettings {
                        url,
                        key: Secret::new(key.trim()),
                        blog: non_empty("COMMENT_AKISMET_BLOG")
                            .map(|b| b.trim().to_owned())
                            .unwrap_or_else(|| public_base_url.clone()),
                        allow_loopback: parse_bool(
                            "COMMENT_AKISMET_ALLOW_LOOPBACK",
                            non_empty("COMMENT_AKISMET_ALLOW_LOOPBACK"),
                            false,
                        )?,
                        timeout_ms: parse_ranged(
                            "COMMENT_AKISMET_TIMEOUT_MS",
                            non_empty("COMMENT_AKISMET_TIMEOUT_MS"),
                            5_000,
                            100,
                            60_000,
                        )?,
                    })
                }
            },
        };

        Ok(Self {
            comments,
            authors_may_add_coauthors,
            database_url,
            pool_size,
            http_workers,
            bind_addr,
            public_base_url: public_base_url.clone(),
            data_dir: non_empty("DATA_DIR").unwrap_or_else(|| "data".into()).into(),
            jwt_secret,
            jwt_issuer: non_empty("JWT_ISSUER").unwrap_or_else(|| "broadsheet".into()),
            access_token_ttl_secs: parse_ranged(
                "ACCESS_TOKEN_TTL_SECONDS",
                non_empty("ACCESS_TOKEN_TTL_SECONDS"),
                900,
                60,
                86_400,
            )?,
            refresh_token_ttl_days: parse_ranged(
                "REFRESH_TOKEN_TTL_DAYS",
                non_empty("REFRESH_TOKEN_TTL_DAYS"),
                30,
                1,
                365,
            )?,
            login_max_failures_per_client: parse_ranged(
                "LOGIN_MAX_FAILURES_PER_CLIENT",
                non_empty("LOGIN_MAX_FAILURES_PER_CLIENT"),
                20,
                1,
                10_000,
            )?,
            login_max_failures_per_client_account: match non_empty("LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT") {
                Some(v) => parse_ranged("LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT", Some(v), 5, 1, 1_000)?,
                None => parse_ranged(
                    "LOGIN_MAX_FAILURES_PER_ACCOUNT",
                    non_empty("LOGIN_MAX_FAILURES_PER_ACCOUNT"),
                    5,
                    1,
                    1_000,
                )?,
            },
            login_account_delay_after: parse_ranged(
                "LOGIN_ACCOUNT_DELAY_AFTER_FAILURES",
                non_empty("LOGIN_ACCOUNT_DELAY_AFTER_FAILURES"),
                10,
                1,
                100_000,
            )?,
            login_account_max_delay_ms: parse_ranged(
                "LOGIN_ACCOUNT_MAX_DELAY_MS",
                non_empty("LOGIN_ACCOUNT_MAX_DELAY_MS"),
                2_000,
                0,
                10_000,
            )?,
            login_failure_window_secs: parse_ranged(
                "LOGIN_FAILURE_WINDOW_SECONDS",
                non_empty("LOGIN_FAILURE_WINDOW_SECONDS"),
                900,
                1,
                86_400,
            )?,
            trusted_proxies,
            trusted_proxy_header,
            redis_url,
            redis_key_prefix: non_empty("REDIS_KEY_PREFIX")
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| "broadsheet:".into()),
            rate_limit_max_keys: parse_ranged(
                "RATE_LIMIT_MAX_KEYS",
                non_empty("RATE_LIMIT_MAX_KEYS"),
                100_000,
                1_000,
                10_000_000,
            )?,
            public_cache_max_age: parse_ranged(
                "PUBLIC_CACHE_MAX_AGE",
                non_empty("PUBLIC_CACHE_MAX_AGE"),
                60,
                0,
                86_400,
            )?,
            list_max_offset: parse_ranged("LIST_MAX_OFFSET", non_empty("LIST_MAX_OFFSET"), 10_000, 0, 1_000_000)?,
            cache: CacheSettings {
                max_mib: parse_ranged("CACHE_MAX_MIB", non_empty("CACHE_MAX_MIB"), 32, 0, 4096)?,
                ttl_secs: parse_ranged("CACHE_TTL_SECONDS", non_empty("CACHE_TTL_SECONDS"), 300, 1, 86_400)?,
                poll_interval_ms: parse_ranged(
                    "CACHE_POLL_INTERVAL_MS",
                    non_empty("CACHE_POLL_INTERVAL_MS"),
                    250,
                    50,
                    900,
                )?,
            },
            metrics_token: match non_empty("METRICS_TOKEN") {
                None => None,
                Some(t) if t.trim().len() < 16 => {
                    return Err(ConfigError { var: "METRICS_TOKEN", message: "must be at least 16 characters".into() })
                }
                Some(t) => Some(Secret::new(t.trim().to_owned())),
            },
            cors_allowed_origins: match non_empty("CORS_ALLOWED_ORIGINS") {
                None => Vec::new(),
                Some(v) => v
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(|o| {
                        let u = url::Url::parse(o).ok().filter(|u| {
                            matches!(u.scheme(), "http" | "https")
                                && u.path() == "/"
                                && u.query().is_none()
                                && !o.ends_with('/')
                        });
                        u.map(|_| o.to_owned()).ok_or_else(|| ConfigError {
                            var: "CORS_ALLOWED_ORIGINS",
                            message: format!("`{o}` is not an origin like https://www.example.com (no path, no `*`)"),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            },
            media: MediaSettings {
                store: MediaStoreUrl::parse(
                    non_empty("MEDIA_STORE_URL").as_deref(),
                    std::path::Path::new(&non_empty("DATA_DIR").unwrap_or_else(|| "data".into())),
                )
                .map_err(|message| ConfigError { var: "MEDIA_STORE_URL", message })?,
                max_bytes: parse_ranged("MEDIA_MAX_BYTES", non_empty("MEDIA_MAX_BYTES"), 25 << 20, 1024, 512 << 20)?,
                max_pixels: parse_ranged(
                    "MEDIA_MAX_PIXELS",
                    non_empty("MEDIA_MAX_PIXELS"),
                    50_000_000,
                    1,
                    1_000_000_000,
                )?,
                allowed_types: match non_empty("MEDIA_ALLOWED_TYPES") {
                    None => DEFAULT_MEDIA_TYPES.iter().map(|t| (*t).to_owned()).collect(),
                    Some(v) => v
                        .split(',')
                        .map(|t| t.trim().to_ascii_lowercase())
                        .filter(|t| !t.is_empty())
                        .map(|t| {
                            if t.parse::<mime::Mime>().is_ok_and(|m| m.params().next().is_none()) && !t.contains('*') {
                                Ok(t)
                            } else {
                                Err(ConfigError {
                                    var: "MEDIA_ALLOWED_TYPES",
                                    message: format!("`{t}` is not a MIME type like image/jpeg"),
                                })
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                },
                allow_svg: parse_bool("MEDIA_ALLOW_SVG", non_empty("MEDIA_ALLOW_SVG"), false)?,
                signed_redirect_secs: match non_empty("MEDIA_SIGNED_REDIRECT_SECONDS") {
                    None => None,
                    raw => Some(parse_ranged("MEDIA_SIGNED_REDIRECT_SECONDS", raw, 300, 60, 604_800)?),
                },
                upload_idle_timeout_secs: parse_ranged(
                    "MEDIA_UPLOAD_IDLE_TIMEOUT_SECONDS",
                    non_empty("MEDIA_UPLOAD_IDLE_TIMEOUT_SECONDS"),
                    30,
                    1,
                    600,
                )?,
                s3_config: S3_VARIABLES
                    .iter()
                    .filter_map(|k| non_empty(k).map(|v| ((*k).to_owned(), Secret::new(v.trim()))))
                    .collect(),
            },
            jobs: JobSettings {
                in_server: parse_bool("JOBS_IN_SERVER", non_empty("JOBS_IN_SERVER"), true)?,
                concurrency: parse_ranged("JOBS_CONCURRENCY", non_empty("JOBS_CONCURRENCY"), 4, 1, 64)?,
                max_attempts: parse_ranged("JOBS_MAX_ATTEMPTS", non_empty("JOBS_MAX_ATTEMPTS"), 8, 1, 100)?,
                lease_secs: parse_ranged("JOBS_LEASE_SECONDS", non_empty("JOBS_LEASE_SECONDS"), 300, 1, 86_400)?,
                poll_interval_ms: parse_ranged(
                    "JOBS_POLL_INTERVAL_MS",
                    non_empty("JOBS_POLL_INTERVAL_MS"),
                    1000,
                    10,
                    60_000,
                )?,
                retry_base_ms: parse_ranged(
                    "JOBS_RETRY_BASE_MS",
                    non_empty("JOBS_RETRY_BASE_MS"),
                    10_000,
                    1,
                    3_600_000,
                )?,
                shutdown_grace_secs: parse_ranged(
                    "JOBS_SHUTDOWN_GRACE_SECONDS",
                    non_empty("JOBS_SHUTDOWN_GRACE_SECONDS"),
                    20,
                    0,
                    600,
                )?,
                retention_days: parse_ranged("JOBS_RETENTION_DAYS", non_empty("JOBS_RETENTION_DAYS"), 14, 1, 3650)?,
            },
            mail: MailSettings {
                url: MailUrl::parse(
                    non_empty("MAIL_URL").as_deref(),
                    std::path::Path::new(&non_empty("DATA_DIR").unwrap_or_else(|| "data".into())),
                )
                .map_err(|message| ConfigError { var: "MAIL_URL", message })?,
                from: match non_empty("MAIL_FROM") {
                    None => "broadsheet <no-reply@localhost>".into(),
                    Some(v) => {
                        v.trim().parse::<lettre::message::Mailbox>().map(|_| v.trim().to_owned()).map_err(|e| {
                            ConfigError { var: "MAIL_FROM", message: format!("`{v}` is not a mailbox ({e})") }
                        })?
                    }
                },
                timeout_secs: parse_ranged("MAIL_TIMEOUT_SECONDS", non_empty("MAIL_TIMEOUT_SECONDS"), 20, 1, 300)?,
                password_reset_url: parse_link(
                    "PASSWORD_RESET_URL",
                    non_empty("PASSWORD_RESET_URL"),
                    format!("{public_base_url}/reset-password"),
                )?,
                invitation_url: parse_link(
                    "INVITATION_URL",
                    non_empty("INVITATION_URL"),
                    format!("{public_base_url}/accept-invitation"),
                )?,
                password_reset_ttl_minutes: parse_ranged(
                    "PASSWORD_RESET_TTL_MINUTES",
                    non_empty("PASSWORD_RESET_TTL_MINUTES"),
                    60,
                    5,
                    1440,
                )?,
                invitation_ttl_hours: parse_ranged(
                    "INVITATION_TTL_HOURS",
                    non_empty("INVITATION_TTL_HOURS"),
                    168,
                    1,
                    720,
                )?,
            },
            mailings: MailingSettings {
                rate_per_second: parse_ranged(
                    "MAILING_RATE_PER_SECOND",
                    non_empty("MAILING_RATE_PER_SECOND"),
                    10,
                    1,
                    10_000,
                )?,
                batch_size: parse_ranged("MAILING_BATCH_SIZE", non_empty("MAILING_BATCH_SIZE"), 100, 1, 1000)?,
                max_attempts: parse_ranged("MAILING_MAX_ATTEMPTS", non_empty("MAILING_MAX_ATTEMPTS"), 5, 1, 20)?,
                retry_base_secs: parse_ranged(
                    "MAILING_RETRY_BASE_SECONDS",
                    non_empty("MAILING_RETRY_BASE_SECONDS"),
                    60,
                    1,
                    3600,
                )?,
                max_lateness_minutes: parse_ranged(
                    "MAILING_MAX_LATENESS_MINUTES",
                    non_empty("MAILING_MAX_LATENESS_MINUTES"),
                    360,
                    1,
                    10_080,
                )?,
                article_url: match non_empty("MAILING_ARTICLE_URL") {
                    None => format!("{public_base_url}/articles/{{slug}}"),
                    Some(v)
                        if v.contains("{slug}")
                            && (v.trim().starts_with("https://") || v.trim().starts_with("http://")) =>
                    {
                        v.trim().to_owned()
                    }
                    Some(_) => {
                        return Err(ConfigError {
                            var: "MAILING_ARTICLE_URL",
                            message: "must be an http(s) URL holding `{slug}`".into(),
                        })
                    }
                },
                bounce_webhook_secret: match non_empty("BOUNCE_WEBHOOK_SECRET") {
                    None => None,
                    Some(v) if v.trim().len() >= 32 => Some(Secret::new(v.trim())),
                    Some(_) => {
                        return Err(ConfigError {
                            var: "BOUNCE_WEBHOOK_SECRET",
                            message: "must be at least 32 characters".into(),
                        })
                    }
                },
                unsubscribe_url: parse_link(
                    "MAILING_UNSUBSCRIBE_URL",
                    non_empty("MAILING_UNSUBSCRIBE_URL"),
                    format!("{public_base_url}/api/v1/subscriptions/unsubscribe"),
                )?,
            },
            distribution: DistributionSettings {
                site_title: match non_empty("SITE_TITLE") {
                    None => "broadsheet".into(),
                    Some(v) if v.trim().chars().count() <= 200 => v.trim().to_owned(),
                    Some(_) => {
                        return Err(ConfigError { var: "SITE_TITLE", message: "must be at most 200 characters".into() })
                    }
                },
                site_language: match non_empty("SITE_LANGUAGE") {
                    None => "en".into(),
                    Some(v) => {
                        let v = v.trim().to_ascii_lowercase();
                        let ok = v.len() <= 35
                            && v.split('-')
                                .all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()))
                            && v.split('-').next().is_some_and(|p| {
                                (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic())
                            });
                        if !ok {
                            return Err(ConfigError {
                                var: "SITE_LANGUAGE",
                                message: format!("`{v}` is not a language code like en or pt-br"),
                            });
                        }
                        v
                    }
                },
                feed_content: match non_empty("FEED_CONTENT").as_deref().map(str::trim) {
                    None | Some("full") => FeedContent::Full,
                    Some("excerpt") => FeedContent::Excerpt,
                    Some(v) => {
                        return Err(ConfigError {
                            var: "FEED_CONTENT",
                            message: format!("`{v}` is not full or excerpt"),
                        })
                    }
                },
                feed_items: parse_ranged("FEED_ITEMS", non_empty("FEED_ITEMS"), 20, 1, 100)?,
                sitemap_max_urls: parse_ranged("SITEMAP_MAX_URLS", non_empty("SITEMAP_MAX_URLS"), 50_000, 1, 50_000)?,
                home_url: parse_pattern(
                    "FRONTEND_HOME_URL",
                    non_empty("FRONTEND_HOME_URL"),
                    format!("{public_base_url}/"),
                    &[],
                )?,
                article_url: parse_pattern(
                    "FRONTEND_ARTICLE_URL",
                    non_empty("FRONTEND_ARTICLE_URL"),
                    format!("{public_base_url}/{{yyyy}}/{{mm}}/{{slug}}"),
                    &["{slug}", "{id}"],
                )?,
                author_url: parse_pattern(
                    "FRONTEND_AUTHOR_URL",
                    non_empty("FRONTEND_AUTHOR_URL"),
                    format!("{public_base_url}/authors/{{slug}}"),
                    &["{slug}"],
                )?,
                category_url: parse_pattern(
                    "FRONTEND_CATEGORY_URL",
                    non_empty("FRONTEND_CATEGORY_URL"),
                    format!("{public_base_url}/categories/{{slug}}"),
                    &["{slug}"],
                )?,
                tag_url: parse_pattern(
                    "FRONTEND_TAG_URL",
                    non_empty("FRONTEND_TAG_URL"),
                    format!("{public_base_url}/tags/{{slug}}"),
                    &["{slug}"],
                )?,
                series_url: parse_pattern(
                    "FRONTEND_SERIES_URL",
                    non_empty("FRONTEND_SERIES_URL"),
                    format!("{public_base_url}/series/{{slug}}"),
                    &["{slug}"],
                )?,
                page_url: parse_pattern(
                    "FRONTEND_PAGE_URL",
                    non_empty("FRONTEND_PAGE_URL"),
                    format!("{public_base_url}/{{slug}}"),
                    &["{slug}"],
                )?,
                webhook_allow_loopback: parse_bool(
                    "WEBHOOK_ALLOW_LOOPBACK",
                    non_empty("WEBHOOK_ALLOW_LOOPBACK"),
                    false,
                )?,
                import_allow_loopback: parse_bool("IMPORT_ALLOW_LOOPBACK", non_empty("IMPORT_ALLOW_LOOPBACK"), false)?,
                webhook_max_attempts: parse_ranged(
                    "WEBHOOK_MAX_ATTEMPTS",
                    non_empty("WEBHOOK_MAX_ATTEMPTS"),
                    12,
                    1,
                    30,
                )?,
                webhook_retry_base_ms: parse_ranged(
                    "WEBHOOK_RETRY_BASE_MS",
                    non_empty("WEBHOOK_RETRY_BASE_MS"),
                    60_000,
                    1,
                    3_600_000,
                )?,
                webhook_disable_after: parse_ranged(
                    "WEBHOOK_DISABLE_AFTER_FAILURES",
                    non_empty("WEBHOOK_DISABLE_AFTER_FAILURES"),
                    5,
                    1,
                    1000,
                )?,
                webhook_timeout_ms: parse_ranged(
                    "WEBHOOK_TIMEOUT_MS",
                    non_empty("WEBHOOK_TIMEOUT_MS"),
                    15_000,
                    100,
                    15_000,
                )?,
            },
            subscriptions: SubscriptionSettings {
                confirm_url: parse_link(
                    "SUBSCRIPTION_CONFIRM_URL",
                    non_empty("SUBSCRIPTION_CONFIRM_URL"),
                    format!("{public_base_url}/subscriptions/confirm"),
                )?,
                preferences_url: parse_link(
                    "SUBSCRIPTION_PREFERENCES_URL",
                    non_empty("SUBSCRIPTION_PREFERENCES_URL"),
                    format!("{public_base_url}/subscriptions/preferences"),
                )?,
                confirm_ttl_hours: parse_ranged(
                    "SUBSCRIPTION_CONFIRM_TTL_HOURS",
                    non_empty("SUBSCRIPTION_CONFIRM_TTL_HOURS"),
                    48,
                    1,
                    720,
                )?,
                resend_cooldown_minutes: parse_ranged(
                    "SUBSCRIPTION_RESEND_COOLDOWN_MINUTES",
                    non_empty("SUBSCRIPTION_RESEND_COOLDOWN_MINUTES"),
                    60,
                    1,
                    10_080,
                )?,
                privacy_notice_version: match non_empty("PRIVACY_NOTICE_VERSION") {
                    None => "1".into(),
                    Some(v) if v.trim().chars().count() <= 100 => v.trim().to_owned(),
                    Some(_) => {
                        return Err(ConfigError {
                            var: "PRIVACY_NOTICE_VERSION",
                            message: "must be at most 100 characters".into(),
                        })
                    }
                },
                consent_ip: match non_empty("CONSENT_IP").as_deref().map(str::trim) {
                    None | Some("truncated") => ConsentIp::Truncated,
                    Some("full") => ConsentIp::Full,
                    Some("none") => ConsentIp::Drop,
                    Some(v) => {
                        return Err(ConfigError {
                            var: "CONSENT_IP",
                            message: format!("`{v}` is not full, truncated or none"),
                        })
                    }
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_localhost() {
        let s = settings(&[]).expect("defaults parse");
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("data/broadsheet.db".into()));
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(s.pool_size, 10);
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        assert_eq!(s.http_workers, cores.min(64), "one HTTP worker per core");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("DATABASE_URL", "postgress://localhost/db"),
            ("DATABASE_URL", "data/broadsheet.db"),
            ("DATABASE_URL", "sqlite://"),
            ("DATABASE_URL", "mysql://localhost/db"),
            ("BIND_ADDR", "localhost"),
            ("PUBLIC_BASE_URL", "example.com"),
            ("PUBLIC_BASE_URL", "ftp://example.com"),
            ("PUBLIC_BASE_URL", "https://x.example?a=b"),
            ("DATABASE_URL", "sqlite://data/x.db?mode=ro"),
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_POOL_SIZE", "many"),
            ("HTTP_WORKERS", "0"),
            ("HTTP_WORKERS", "65"),
            ("JWT_SECRET", "too-short"),
            ("ACCESS_TOKEN_TTL_SECONDS", "5"),
            ("REFRESH_TOKEN_TTL_DAYS", "0"),
            ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "x"),
            ("TRUST_PROXY_HEADERS", "maybe"),
            ("TRUST_PROXY_HEADERS", "true"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy.internal"),
            ("TRUSTED_PROXY_HEADER", "x-real-ip"),
            ("REDIS_URL", "http://127.0.0.1:6379"),
            ("RATE_LIMIT_MAX_KEYS", "10"),
            ("LOGIN_ACCOUNT_MAX_DELAY_MS", "60000"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("CORS_ALLOWED_ORIGINS", "https://a.example/path"),
            ("PUBLIC_CACHE_MAX_AGE", "-1"),
            ("MEDIA_STORE_URL", "gs://bucket"),
            ("MEDIA_STORE_URL", "s3://"),
            ("MEDIA_STORE_URL", "s3://key:secret@bucket/x"),
            ("MEDIA_STORE_URL", "not a url"),
            ("MEDIA_MAX_BYTES", "10"),
            ("MEDIA_MAX_PIXELS", "0"),
            ("MEDIA_ALLOWED_TYPES", "image/*"),
            ("MEDIA_ALLOWED_TYPES", "jpeg"),
            ("MEDIA_ALLOW_SVG", "yes please"),
            ("MEDIA_SIGNED_REDIRECT_SECONDS", "5"),
            ("JOBS_MAX_ATTEMPTS", "0"),
            ("JOBS_LEASE_SECONDS", "0"),
            ("JOBS_IN_SERVER", "sometimes"),
            ("MAIL_URL", "imap://mail.example.com"),
            ("MAIL_URL", "smtp://mail.example.com?tls=maybe"),
            ("MAIL_FROM", "not a mailbox"),
            ("PASSWORD_RESET_URL", "javascript:alert(1)"),
            ("INVITATION_TTL_HOURS", "0"),
            ("FEED_CONTENT", "summary"),
            ("FEED_ITEMS", "0"),
            ("SITEMAP_MAX_URLS", "50001"),
            ("SITE_LANGUAGE", "english!"),
            ("FRONTEND_ARTICLE_URL", "https://example.com/{yyyy}/news"),
            ("FRONTEND_ARTICLE_URL", "https://example.com/{year}/{slug}"),
            ("FRONTEND_TAG_URL", "ftp://example.com/{slug}"),
            ("WEBHOOK_ALLOW_LOOPBACK", "perhaps"),
            ("IMPORT_ALLOW_LOOPBACK", "perhaps"),
        ];
        for (var, value) in cases {
            let err = settings(&[(var, value)]).expect_err(&format!("{var}={value} must fail"));
            assert_eq!(err.var, var, "{var}={value}");
            assert!(err.to_string().contains(var), "message names {var}: {err}");
        }
    }

    #[test]
    fn media_defaults_to_data_dir_and_reads_s3_urls() {
        let s = settings(&[("DATA_DIR", "/srv/news")]).unwrap();
        assert_eq!(s.media.store, MediaStoreUrl::Local("/srv/news/media".into()));
        assert_eq!(s.media.max_bytes, 25 * 1024 * 1024);
        assert_eq!(s.media.max_pixels, 50_000_000);
        assert!(!s.media.allow_svg);
        assert_eq!(s.media.allowed_types.len(), 8);
        let s = settings(&[("MEDIA_STORE_URL", "s3://newsroom/media/2026/"), ("AWS_REGION", "eu-west-1")]).unwrap();
        assert_eq!(s.media.store, MediaStoreUrl::S3 { bucket: "newsroom".into(), prefix: "media/2026".into() });
        assert_eq!(s.media.s3_config.len(), 1);
        assert!(!format!("{:?}", s.media.s3_config).contains("eu-west-1"), "AWS values are redacted");
        let s = settings(&[("MEDIA_ALLOWED_TYPES", " IMAGE/PNG , application/pdf ")]).unwrap();
        assert_eq!(s.media.allowed_types, ["image/png", "application/pdf"]);
    }

    #[test]
    fn trusted_proxies_parse_ips_and_cidrs() {
        let s = settings(&[("TRUSTED_PROXIES", "10.0.0.0/8, ::1 ,192.168.1.7")]).unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let trusted = |a: &str| s.trusted_proxies.iter().any(|n| n.contains(ip(a)));
        assert!(trusted("10.200.3.4") && trusted("::1") && trusted("192.168.1.7") && trusted("::ffff:10.0.0.1"));
        assert!(!trusted("11.0.0.1") && !trusted("192.168.1.8") && !trusted("::2"));
        assert!(settings(&[]).unwrap().trusted_proxies.is_empty());
        let legacy = settings(&[("TRUST_PROXY_HEADERS", "false")]).unwrap();
        assert!(legacy.trusted_proxies.is_empty(), "false maps to no trusted proxies");
        let both = settings(&[("TRUST_PROXY_HEADERS", "true"), ("TRUSTED_PROXIES", "127.0.0.1")]).unwrap();
        assert_eq!(both.trusted_proxies.len(), 1);
    }

    #[test]
    fn mail_urls_pick_tls_and_ports_and_hide_passwords() {
        let s = settings(&[("DATA_DIR", "/srv/news")]).unwrap();
        assert_eq!(s.mail.url, MailUrl::Outbox("/srv/news/outbox".into()));
        assert_eq!(s.mail.password_reset_url, "http://127.0.0.1:8080/reset-password");
        let s = settings(&[("MAIL_URL", "smtp://me%40x.org:p%40ss@mail.example.com?tls=starttls")]).unwrap();
        let MailUrl::Smtp(smtp) = &s.mail.url else { panic!("smtp expected") };
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        let (user, pass) = smtp.credentials.as_ref().unwrap();
        assert_eq!((user.as_str(), pass.expose()), ("me@x.org", "p@ss"));
        assert!(!format!("{:?}", s.mail).contains("p@ss"), "the SMTP password is redacted");
        let s = settings(&[("MAIL_URL", "smtps://mail.example.com")]).unwrap();
        assert!(matches!(s.mail.url, MailUrl::Smtp(SmtpUrl { port: 465, tls: SmtpTls::Implicit, .. })));
        let s = settings(&[("MAIL_URL", "smtp://127.0.0.1:2525?tls=none")]).unwrap();
        assert!(matches!(s.mail.url, MailUrl::Smtp(SmtpUrl { port: 2525, tls: SmtpTls::None, .. })));
    }

    #[test]
    fn postgres_urls_are_accepted() {
        let s = settings(&[("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x")]).unwrap();
        assert_eq!(s.database_url.backend_name(), "postgres");
    }
}
