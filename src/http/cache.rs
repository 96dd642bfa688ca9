//! The shared response cache for public reads (see ARCHITECTURE.md,
//! "Response cache").
//!
//! Anonymous `GET`s, and `GET`s with a *content* API key, of the public read
//! routes ([`CACHED_PREFIXES`]) are answered from process memory: a hit costs
//! no database round trip, its `ETag` was computed once when the entry was
//! filled, `If-None-Match` is answered with 304 from the entry, and the gzip
//! and brotli bodies are kept beside the identity one.
//!
//! Correct by construction, without any resource knowing about it:
//! - every entry carries the cache *epoch* read before its response was
//!   built, and only entries of the current epoch are served;
//! - the epoch moves after any request other than `GET`/`HEAD` finishes on
//!   this instance, before its response is sent, and no entry is stored
//!   again until a poll that started after that request succeeded (so the
//!   next scheduled publication it may have set is known);
//! - it also moves when the database's content generation (one row, bumped
//!   by triggers in the writing transaction: migration
//!   `2026-12-02-000080_content_generation`) changes, which a poller reads
//!   every `CACHE_POLL_INTERVAL_MS`; hits are served only while the last
//!   successful poll started less than [`MAX_STALENESS_MS`] ago, so a write
//!   on another instance, a worker or the CLI is never served stale for more
//!   than one second;
//! - no entry outlives the next scheduled publication (`published_at` of the
//!   earliest `scheduled` article still in the future), nor `CACHE_TTL_SECONDS`;
//! - only 200s without `Set-Cookie` and without `private`/`no-store` are
//!   stored (so previews and errors never are), and requests with a user's
//!   token or an admin key never touch the cache.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};

use crate::config::CacheSettings;
use crate::db::{DbConnection, Pool};

/// Path prefixes whose `GET`s may be cached: the public read routes. A path
/// matches when it equals a prefix or continues it with `/`, `.`, `-` or `?`.
pub const CACHED_PREFIXES: &[&str] = &[
    "/api/v1/articles",
    "/api/v1/authors",
    "/api/v1/categories",
    "/api/v1/tags",
    "/api/v1/series",
    "/api/v1/comments",
    "/feeds",
    "/sitemap",
    "/robots.txt",
];

/// Longest time, in milliseconds, a write made elsewhere (another instance, a
/// worker, the CLI) can stay invisible to this instance's cache.
pub const MAX_STALENESS_MS: i64 = 1_000;

/// Bodies smaller than this are not compressed (the headers cost more).
const MIN_COMPRESS_BYTES: usize = 256;

/// Marks a request whose credential is a content API key that the cache
/// checked: the handler reads what anonymous readers read, so its answer may be
/// cached and made `public` (see `middleware::http_cache`).
#[derive(Clone, Copy, Debug)]
pub struct ContentKeyRead;

/// Route label of a response served from the cache (for `/metrics`).
#[derive(Clone, Debug)]
pub struct CachedRoute(pub Arc<str>);

/// One stored response.
struct Entry {
    epoch: u64,
    expires_ms: i64,
    headers: Vec<(HeaderName, HeaderValue)>,
    route: Arc<str>,
    identity: Variant,
    gzip: Option<Variant>,
    br: Option<Variant>,
}

/// One content coding of an entry: its bytes and its strong `ETag`.
struct Variant {
    body: Bytes,
    etag: HeaderValue,
}

impl Entry {
    fn weight(&self, key: &str) -> u32 {
        let body = |v: &Option<Variant>| v.as_ref().map_or(0, |v| v.body.len());
        let headers: usize = self.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 16).sum();
        let total = key.len() + self.identity.body.len() + body(&self.gzip) + body(&self.br) + headers + 256;
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}

/// The cache, its epoch and the figures `/metrics` shows.
pub struct ResponseCache {
    entries: Option<moka::sync::Cache<String, Arc<Entry>>>,
    /// Content keys (by SHA-256) known good: `(epoch, valid until unix ms)`.
    keys: moka::sync::Cache<String, (u64, i64)>,
    epoch: AtomicU64,
    db_generation: AtomicI64,
    next_publication_ms: AtomicI64,
    fresh_until_ms: AtomicI64,
    /// When the last successful poll started (unix ms).
    polled_from_ms: AtomicI64,
    /// When the last request other than a read finished here (unix ms).
    last_write_ms: AtomicI64,
    ttl_ms: i64,
    poll_interval: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Fills in flight, by key (see [`Flight`]).
    inflight: std::sync::Mutex<std::collections::HashMap<String, (u64, tokio::sync::watch::Receiver<()>)>>,
    flight_ids: AtomicU64,
    coalesced: AtomicU64,
}

/// A miss's part in filling its key.
///
/// Request coalescing, as nginx's `proxy_cache_lock` or Varnish do: after a
/// write invalidates the cache, every reader of a popular page misses at
/// once, and each used to render the same page and compress it twice (a
/// 143 KB list with bodies costs about 10 ms of brotli). Now the first miss
/// of a key leads and the others wait for its fill, then read the entry; if
/// the leader stored nothing (an error, a stale poll), each goes on alone.
enum Flight {
    /// This request fills the key; dropping the guard (however the fill
    /// ends, even cancelled) wakes the followers.
    Leader(FlightGuard),
    /// Another request is filling the key: wait for it.
    Follower(tokio::sync::watch::Receiver<()>),
}

/// Held by a leading fill; see [`Flight`].
struct FlightGuard {
    cache: Arc<ResponseCache>,
    key: String,
    id: u64,
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if let Ok(mut inflight) = self.cache.inflight.lock() {
            if inflight.get(&self.key).is_some_and(|(id, _)| *id == self.id) {
                inflight.remove(&self.key);
            }
        }
    }
}

/// Longest a follower waits for its leader's fill before rendering alone.
const FOLLOWER_WAIT: Duration = Duration::from_secs(5);

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

impl ResponseCache {
    /// A cache of at most `settings.max_mib` MiB (0: off).
    pub fn new(settings: &CacheSettings) -> Self {
        let entries = (settings.max_mib > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(settings.max_mib * 1024 * 1024)
                .weigher(|k: &String, v: &Arc<Entry>| v.weight(k))
                .build()
        });
        Self {
            entries,
            keys: moka::sync::Cache::builder().max_capacity(10_000).time_to_live(Duration::from_secs(60)).build(),
            epoch: AtomicU64::new(1),
            db_generation: AtomicI64::new(i64::MIN),
            next_publication_ms: AtomicI64::new(i64::MIN),
            fresh_until_ms: AtomicI64::new(i64::MIN),
            polled_from_ms: AtomicI64::new(i64::MIN),
            last_write_ms: AtomicI64::new(i64::MIN),
            ttl_ms: i64::try_from(settings.ttl_secs).unwrap_or(i64::MAX / 2) * 1000,
            poll_interval: Duration::from_millis(settings.poll_interval_ms),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            inflight: std::sync::Mutex::new(std::collections::HashMap::new()),
            flight_ids: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
        }
    }

    /// Whether responses are cached at all (`CACHE_MAX_MIB` > 0).
    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// Makes every entry stale: called after a write on this instance and
    /// when the database's generation moved.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
        self.keys.invalidate_all();
    }

    /// `(hits, misses, entries, weighted bytes)` since start.
    pub fn stats(&self) -> (u64, u64, u64, u64) {
        let (count, size) = self.entries.as_ref().map_or((0, 0), |e| {
            // moka counts lazily; settle the counts for the scrape.
            e.run_pending_tasks();
            (e.entry_count(), e.weighted_size())
        });
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed), count, size)
    }

    /// Reads the content generation and the next scheduled publication; a
    /// changed generation invalidates every entry. Runs once at start and
    /// then every `CACHE_POLL_INTERVAL_MS` ([`spawn_poller`]).
    pub fn poll(&self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        use crate::db::schema::{articles, content_generation};
        use diesel::prelude::*;
        let started = now_ms();
        let generation: i64 = content_generation::table.select(content_generation::generation).first(conn)?;
        let now = crate::db::now();
        let next: Option<chrono::NaiveDateTime> = articles::table
            .filter(articles::status.eq(crate::articles::model::status::SCHEDULED))
            .filter(articles::published_at.gt(now))
            .select(diesel::dsl::min(articles::published_at))
            .first(conn)?;
        // The next publication first, so an entry of the new epoch never
        // carries the old expiry.
        self.next_publication_ms.store(next.map_or(i64::MAX, |t| t.and_utc().timestamp_millis()), Ordering::SeqCst);
        if self.db_generation.swap(generation, Ordering::SeqCst) != generation {
            self.invalidate();
        }
        self.fresh_until_ms.fetch_max(started + MAX_STALENESS_MS, Ordering::SeqCst);
        self.polled_from_ms.fetch_max(started, Ordering::SeqCst);
        Ok(())
    }

    /// Requests that missed but were answered from another request's fill.
    pub fn coalesced(&self) -> u64 {
        self.coalesced.load(Ordering::Relaxed)
    }

    /// Joins the fill of `key` in flight, or leads a new one.
    fn flight(self: &Arc<Self>, key: &str) -> Option<Flight> {
        let mut inflight = self.inflight.lock().ok()?;
        if let Some((_, rx)) = inflight.get(key) {
            return Some(Flight::Follower(rx.clone()));
        }
        let id = self.flight_ids.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = tokio::sync::watch::channel(());
        inflight.insert(key.to_owned(), (id, rx));
        Some(Flight::Leader(FlightGuard { cache: self.clone(), key: key.to_owned(), id, _done: tx }))
    }

    fn lookup(&self, key: &str, now: i64) -> Option<Arc<Entry>> {
        let entries = self.entries.as_ref()?;
        if now > self.fresh_until_ms.load(Ordering::SeqCst) {
            return None;
        }
        let entry = entries.get(key)?;
        (entry.epoch == self.epoch.load(Ordering::SeqCst) && now < entry.expires_ms).then_some(entry)
    }
}

/// Polls the database's content generation until the returned handle is
/// aborted (when the server stops).
pub fn spawn_poller(cache: Arc<ResponseCache>, pool: Pool) -> Option<actix_web::rt::task::JoinHandle<()>> {
    if !cache.enabled() {
        return None;
    }
    Some(actix_web::rt::spawn(async move {
        let mut failing = false;
        loop {
            actix_web::rt::time::sleep(cache.poll_interval).await;
            let c = cache.clone();
            match crate::db::run(&pool, move |conn| Ok(c.poll(conn)?)).await {
                Ok(()) => failing = false,
                // Hits stop by themselves once the last good poll is a second
                // old; say so once per outage, not at every poll.
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot read the content generation; serving uncached");
                }
                Err(_) => {}
            }
        }
    }))
}

fn cacheable_path(path: &str) -> bool {
    CACHED_PREFIXES
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '.', '-'])))
}

/// The normalized request: who asks (anonymous or a content key: handlers
/// may answer them differently, e.g. `status=draft` is a 401 without
/// credentials and an empty 200 with a content key), path, query pairs
/// sorted by name (stable, so repeated names keep their order), and the
/// `Accept` header. Feeds, sitemaps and `robots.txt` read no query
/// parameters, so their query is left out: feed readers add tracking
/// parameters (`?utm_source=…`), and each variant would otherwise fill
/// (and evict) an entry of its own.
fn cache_key(req: &ServiceRequest, who: &Caller) -> String {
    let path = req.path();
    let query = if path.starts_with("/api/") { req.query_string() } else { "" };
    let accept = req.headers().get(header::ACCEPT).map(HeaderValue::as_bytes).unwrap_or_default();
    let mut key = String::with_capacity(path.len() + query.len() + accept.len() + 4);
    key.push_str(match who {
        Caller::Anonymous => "a ",
        Caller::ContentKey(_) => "k ",
    });
    key.push_str(path);
    key.push('?');
    if !query.is_empty() {
        let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        pairs.sort_by_key(|p| p.split('=').next().unwrap_or(""));
        for (i, p) in pairs.iter().enumerate() {
            if i > 0 {
                key.push('&');
            }
            key.push_str(p);
        }
    }
    key.push('\n');
    key.push_str(&String::from_utf8_lossy(accept));
    key
}

/// What the request's credentials allow: `None` to bypass the cache.
enum Caller {
    Anonymous,
    /// A content key, by SHA-256 of its value.
    ContentKey(String),
}

fn caller(req: &ServiceRequest) -> Option<Caller> {
    let headers = req.headers();
    let bearer = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().ok()?.trim();
            let (scheme, token) = v.split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return None;
            }
            Some(token.trim())
        }
    };
    let key = match headers.get("x-api-key") {
        None => None,
        Some(v) => Some(v.to_str().ok()?.trim()),
    };
    if headers.get_all(header::AUTHORIZATION).count() > 1 || headers.get_all("x-api-key").count() > 1 {
        return None;
    }
    match (bearer, key) {
        (None, None) => Some(Caller::Anonymous),
        (Some(b), Some(k)) if b != k => None,
        (_, Some(k)) | (Some(k), None) => k
            .starts_with(crate::auth::extractors::API_KEY_PREFIX)
            .then(|| Caller::ContentKey(crate::auth::tokens::digest(k))),
    }
}

/// Whether the client accepts `coding` (`gzip`, `br`) with a non-zero q.
fn accepts(accept_encoding: &[u8], coding: &str) -> bool {
    let Ok(s) = std::str::from_utf8(accept_encoding) else { return false };
    s.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let q_zero = it.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")).is_some_and(|q| q.trim().parse::<f32>() == Ok(0.0))
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !q_zero
    })
}

fn if_none_match_hits(inm: Option<&HeaderValue>, etags: &[&HeaderValue]) -> bool {
    let Some(inm) = inm.and_then(|v| v.to_str().ok()) else { return false };
    inm.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || etags.iter().any(|e| e.as_bytes() == t.as_bytes()))
}

/// The answer from `entry` for a request with these headers.
fn respond(entry: &Entry, request_headers: &HeaderMap) -> HttpResponse {
    let ae = request_headers.get(header::ACCEPT_ENCODING).map(HeaderValue::as_bytes).unwrap_or_default();
    let (variant, coding) = match (&entry.br, &entry.gzip) {
        (Some(br), _) if accepts(ae, "br") => (br, Some("br")),
        (_, Some(gz)) if accepts(ae, "gzip") => (gz, Some("gzip")),
        _ => (&entry.identity, None),
    };
    let all: Vec<&HeaderValue> = [Some(&entry.identity), entry.gzip.as_ref(), entry.br.as_ref()]
        .into_iter()
        .flatten()
        .map(|v| &v.etag)
        .collect();
    let not_modified = if_none_match_hits(request_headers.get(header::IF_NONE_MATCH), &all);
    let mut res = HttpResponse::with_body(
        if not_modified { StatusCode::NOT_MODIFIED } else { StatusCode::OK },
        BoxBody::new(if not_modified { Bytes::new() } else { variant.body.clone() }),
    );
    let h = res.headers_mut();
    for (k, v) in &entry.headers {
        h.append(k.clone(), v.clone());
    }
    h.insert(header::ETAG, variant.etag.clone());
    if let Some(coding) = coding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    res.extensions_mut().insert(CachedRoute(entry.route.clone()));
    res
}

fn variant_etag(etag: &HeaderValue, suffix: &str) -> HeaderValue {
    let s = etag.to_str().unwrap_or("\"\"");
    let inner = s.trim_start_matches("W/").trim_matches('"');
    HeaderValue::from_str(&format!("\"{inner}-{suffix}\"")).unwrap_or_else(|_| etag.clone())
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::new(6));
    enc.write_all(body).ok()?;
    enc.finish().ok().map(Bytes::from)
}

fn brotli(body: &[u8]) -> Option<Bytes> {
    let mut out = Vec::with_capacity(body.len() / 3);
    let params = brotli::enc::BrotliEncoderParams { quality: 6, lgwin: 20, ..Default::default() };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(Bytes::from(out))
}

/// Whether a response may be stored: 200, an `ETag`, no cookie, and nothing
/// in `Cache-Control` that says it is for this caller only.
fn storable(res: &HttpResponse) -> bool {
    let h = res.headers();
    res.status() == StatusCode::OK
        && h.contains_key(header::ETAG)
        && !h.contains_key(header::SET_COOKIE)
        && !h.contains_key(header::CONTENT_ENCODING)
        && h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|cc| {
            let cc = cc.to_ascii_lowercase();
            cc.contains("public") && !cc.contains("private") && !cc.contains("no-store") && !cc.contains("no-cache")
        })
}

/// The cache middleware (see the module docs). Sits inside CORS and the
/// error handlers, outside `http_cache`, which computes the `ETag` on a miss.
pub struct ResponseCacheLayer;

impl<S> actix_web::dev::Transform<S, ServiceRequest> for ResponseCacheLayer
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = ResponseCacheService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(ResponseCacheService { service: std::rc::Rc::new(service) }))
    }
}

/// The service [`ResponseCacheLayer`] wraps around the app.
pub struct ResponseCacheService<S> {
    service: std::rc::Rc<S>,
}

impl<S> Service<ServiceRequest> for ResponseCacheService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let Some(state) = req.app_data::<actix_web::web::Data<super::AppState>>() else {
            return Box::pin(self.service.call(req));
        };
        let cache = state.cache.clone();
        if req.method() != Method::GET {
            // A write (or anything but a read): whatever it changed, nothing
            // cached before it finishes is served after. It may also have
            // scheduled an article, so fills are not stored until the next
            // poll (which reads the next publication) started after it: see
            // `Fill::fresh`. No database round trip here: the poller's next
            // run sees this write's generation anyway.
            let fut = self.service.call(req);
            return Box::pin(async move {
                let res = fut.await;
                cache.last_write_ms.fetch_max(now_ms(), Ordering::SeqCst);
                cache.invalidate();
                res
            });
        }
        if !cache.enabled() || !cacheable_path(req.path()) {
            return Box::pin(self.service.call(req));
        }
        let Some(who) = caller(&req) else { return Box::pin(self.service.call(req)) };
        let key = cache_key(&req, &who);
        let now = now_ms();
        // The epoch and expiry before anything is read: an entry built from
        // data older than a write carries the epoch that write ends.
        let epoch = cache.epoch.load(Ordering::SeqCst);
        let key_known = match &who {
            Caller::Anonymous => true,
            Caller::ContentKey(hash) => cache.keys.get(hash).is_some_and(|(e, until)| e == epoch && now < until),
        };
        if key_known {
            if let Some(entry) = cache.lookup(&key, now) {
                cache.hits.fetch_add(1, Ordering::Relaxed);
                let res = respond(&entry, req.headers());
                return Box::pin(std::future::ready(Ok(req.into_response(res))));
            }
        }
        // Coalesce with a fill of the same key in flight (anonymous callers
        // and content keys already checked; see `Flight`).
        let flight = if key_known { cache.flight(&key) } else { None };
        let fill = Fill {
            key,
            epoch,
            // Strictly after: a poll that started in the write's millisecond
            // may have read the generation before that write committed.
            fresh: now <= cache.fresh_until_ms.load(Ordering::SeqCst)
                && cache.polled_from_ms.load(Ordering::SeqCst) > cache.last_write_ms.load(Ordering::SeqCst),
            expires_ms: now.saturating_add(cache.ttl_ms).min(cache.next_publication_ms.load(Ordering::SeqCst)),
        };
        let pool = state.pool.clone();
        let service = self.service.clone();
        Box::pin(async move {
            let _leading = match flight {
                Some(Flight::Follower(mut done)) => {
                    // `changed` ends when the leader's guard drops.
                    let _ = actix_web::rt::time::timeout(FOLLOWER_WAIT, done.changed()).await;
                    if let Some(entry) = cache.lookup(&fill.key, now_ms()) {
                        cache.hits.fetch_add(1, Ordering::Relaxed);
                        cache.coalesced.fetch_add(1, Ordering::Relaxed);
                        let res = respond(&entry, req.headers());
                        return Ok(req.into_response(res));
                    }
                    None
                }
                Some(Flight::Leader(guard)) => Some(guard),
                None => None,
            };
            cache.misses.fetch_add(1, Ordering::Relaxed);
            if let Caller::ContentKey(hash) = who {
                if !key_known {
                    let h = hash.clone();
                    let found = crate::db::run(&pool, move |c| {
                        Ok(crate::auth::repo::content_key_expiry(c, &h, crate::db::now())?)
                    })
                    .await;
                    let Ok(Some(until)) = found else {
                        // Not a content key, or the check failed: the handler
                        // decides, and nothing is stored.
                        return service.call(req).await;
                    };
                    let until = until.map_or(i64::MAX, |t| t.and_utc().timestamp_millis());
                    cache.keys.insert(hash, (epoch, until));
                }
                req.extensions_mut().insert(ContentKeyRead);
            }
            fill.run(req, &*service, &cache).await
        })
    }
}

/// What a miss knew before it called the handler.
struct Fill {
    key: String,
    epoch: u64,
    fresh: bool,
    expires_ms: i64,
}

impl Fill {
    async fn run<S>(
        self,
        mut req: ServiceRequest,
        service: &S,
        cache: &ResponseCache,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
    {
        // The full 200 is needed to fill the entry; 304 is answered here.
        let inm = req.headers_mut().remove(header::IF_NONE_MATCH).next();
        let res = service.call(req).await?;
        let (req, res) = res.into_parts();
        if !storable(&res) {
            let etag = res.headers().get(header::ETAG).cloned();
            if res.status() == StatusCode::OK && etag.as_ref().is_some_and(|e| if_none_match_hits(inm.as_ref(), &[e])) {
                let mut nm = HttpResponse::NotModified();
                for (k, v) in res.headers() {
                    if k != header::CONTENT_LENGTH {
                        nm.append_header((k.clone(), v.clone()));
                    }
                }
                return Ok(ServiceResponse::new(req, nm.finish()));
            }
            return Ok(ServiceResponse::new(req, res));
        }
        let route: Arc<str> = req.match_pattern().map_or_else(|| Arc::from(req.path()), Arc::from);
        let (head, body) = res.into_parts();
        let body = super::middleware::body_bytes(body).await?;
        let etag = head.headers().get(header::ETAG).cloned().unwrap_or_else(|| HeaderValue::from_static("\"\""));
        let compress = body.len() >= MIN_COMPRESS_BYTES;
        let gzip =
            compress.then(|| gzip(&body)).flatten().map(|b| Variant { body: b, etag: variant_etag(&etag, "gzip") });
        let br =
            compress.then(|| brotli(&body)).flatten().map(|b| Variant { body: b, etag: variant_etag(&etag, "br") });
        let mut headers: Vec<(HeaderName, HeaderValue)> = head
            .headers()
            .iter()
            .filter(|(k, _)| **k != header::CONTENT_LENGTH && **k != header::ETAG && **k != header::VARY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        headers.push((header::VARY, HeaderValue::from_static("Authorization, X-Api-Key, Accept-Encoding")));
        let entry = Arc::new(Entry {
            epoch: self.epoch,
            expires_ms: self.expires_ms,
            headers,
            route,
            identity: Variant { body, etag },
            gzip,
            br,
        });
        let answer = respond(&entry, req.headers());
        let answer = {
            let mut a = answer;
            if let Some(inm) = &inm {
                // `respond` read the request's headers, which lost
                // If-None-Match above: answer it against the entry here.
                let all: Vec<&HeaderValue> = [Some(&entry.identity), entry.gzip.as_ref(), entry.br.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|v| &v.etag)
                    .collect();
                if if_none_match_hits(Some(inm), &all) {
                    let mut nm = HttpResponse::with_body(StatusCode::NOT_MODIFIED, BoxBody::new(Bytes::new()));
                    *nm.headers_mut() = a.headers().clone();
                    a = nm;
                }
            }
            a
        };
        if self.fresh && self.expires_ms > now_ms() && cache.epoch.load(Ordering::SeqCst) == self.epoch {
            if let Some(entries) = &cache.entries {
                entries.insert(self.key, entry);
            }
        }
        Ok(ServiceResponse::new(req, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Arc<ResponseCache> {
        Arc::new(ResponseCache::new(&CacheSettings { max_mib: 1, ttl_secs: 60, poll_interval_ms: 250 }))
    }

    #[actix_web::test]
    async fn the_first_miss_leads_and_the_others_wait_until_its_guard_drops() {
        // Arrange
        let cache = cache();
        let Some(Flight::Leader(guard)) = cache.flight("k") else { panic!("the first miss of a key leads") };
        let mut followers: Vec<_> = (0..15)
            .map(|_| match cache.flight("k") {
                Some(Flight::Follower(rx)) => rx,
                _ => panic!("a miss of a key in flight follows"),
            })
            .collect();
        assert!(matches!(cache.flight("other"), Some(Flight::Leader(_))), "keys do not share flights");

        // Act: the leader is still filling, then it ends (stored or not).
        let woke_early = followers.iter().any(|rx| !matches!(rx.has_changed(), Ok(false)));
        drop(guard);

        // Assert
        assert!(!woke_early, "a follower woke before its leader ended");
        for rx in &mut followers {
            let woke = actix_web::rt::time::timeout(Duration::from_secs(1), rx.changed()).await;
            assert!(woke.is_ok(), "a follower still waits after its leader ended");
        }
        assert!(matches!(cache.flight("k"), Some(Flight::Leader(_))), "the next miss after the fill leads again");
    }
}
