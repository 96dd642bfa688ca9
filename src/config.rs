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

        Ok(Self {
            authors_may_add_coauthors,
            database_url,
            pool_size,
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
