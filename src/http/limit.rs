//! The one rate limiter: sliding windows keyed by client address and by
//! account, shared through Redis when `REDIS_URL` is set.
//!
//! ```ignore
//! let ip = crate::http::client_ip(&req, &state.settings);
//! let decision = state.limits.check(Policy::Login, &[Key::Client(ip), Key::ClientAccount(ip, &email)]).await?;
//! // … check the password …
//! decision.failed().await;                       // counts against every key
//! let headers = decision.succeeded().await;      // refunds the attempt
//! ```
//!
//! A new endpoint adds a [`Policy`] variant with its header names and
//! numbers in `Numbers::rule` (and `Numbers::counts_failures_only` when only
//! failures count).
//!
//! Every `check` *reserves* a slot in each key's window before the caller
//! does the expensive or sensitive work, so a burst of parallel requests
//! cannot all pass before the first one is counted. A policy that counts
//! only failures (login, password change) refunds the slot on
//! [`Decision::succeeded`]; a decision dropped unreported keeps its slot
//! (an attacker cannot escape counting by making requests fail otherwise).
//!
//! Limits per key kind (OWASP Authentication Cheat Sheet: throttle per
//! address and per address+account pair, slow down rather than lock out):
//! - [`Key::Client`]: a hard limit; over it, 429 for that address.
//! - [`Key::ClientAccount`]: a hard limit; over it, 429 for that account
//!   *from that address only*. The owner elsewhere is never refused.
//! - [`Key::Account`]: never refuses. Past a threshold of failures from all
//!   addresses every attempt waits 250 ms, doubling per further failure up to
//!   a small cap, before the password is checked.
//!
//! Answers: 429 with `Retry-After`, `RateLimit-Policy` and `RateLimit`
//! (draft-ietf-httpapi-ratelimit-headers, structured fields:
//! `"login-client";q=20;w=900` and `"login-client";r=0;t=42`); successful
//! limited responses carry the same two headers ([`Meters::apply`]).
//!
//! Memory: keys are SHA-256 digests of their parts (fixed length, whatever
//! the email's length), entries are created only for admitted requests, and
//! the in-process store holds at most `RATE_LIMIT_MAX_KEYS` keys, evicting the
//! least recently used. With Redis, each key is a sorted set that expires with
//! its window. A Redis error or a reply slower than 250 ms falls back to the
//! in-process store for 5 s, with one warning; requests never fail for it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpResponseBuilder;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::ApiError;

/// What is being limited; each names its numbers and header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `POST /auth/login`: failed logins.
    Login,
    /// `PUT /auth/password`: wrong current passwords.
    PasswordChange,
    /// `POST /auth/password-reset`: every request counts, per client address
    /// ([`RESET_PER_CLIENT`]) and per email from anywhere
    /// ([`RESET_PER_EMAIL`]), in [`RESET_WINDOW`]; so nobody can flood an
    /// inbox with reset mail, and the limit says nothing about whether an
    /// account exists.
    PasswordReset,
    /// `POST /subscriptions`: every request counts, per client address
    /// ([`SUBSCRIBE_PER_CLIENT`]) and per normalized email from anywhere
    /// ([`SUBSCRIBE_PER_EMAIL`]), in [`SUBSCRIBE_WINDOW`]; with the resend
    /// cooldown this keeps anyone from flooding an inbox with confirmation
    /// mail, and the limit says nothing about the address's state.
    Subscribe,
    /// `POST /articles/{a}/comments`: every request counts, per client
    /// address ([`COMMENT_PER_CLIENT`]) and per normalized email from
    /// anywhere ([`COMMENT_PER_EMAIL`]), in [`COMMENT_WINDOW`].
    Comment,
    /// `POST /articles/{a}/unlock`: wrong post passwords (a right one is
    /// given back), per client address ([`UNLOCK_PER_CLIENT`]) and per
    /// client address and article ([`UNLOCK_PER_CLIENT_ARTICLE`]), hard
    /// limits in [`UNLOCK_WINDOW`]; per article from anywhere only a delay
    /// after [`UNLOCK_ARTICLE_DELAY_AFTER`] failures, so guessing from many
    /// addresses slows down without locking readers out.
    Unlock,
    /// `POST`/`DELETE /comments/{id}/votes`: every request counts, per
    /// client address ([`VOTE_PER_CLIENT`]) and per voter (a reader or a
    /// user, [`VOTE_PER_VOTER`]), in [`VOTE_WINDOW`].
    Vote,
}

/// Wrong post passwords per client address per [`UNLOCK_WINDOW`].
pub const UNLOCK_PER_CLIENT: u32 = 30;
/// Wrong post passwords per client address and article per [`UNLOCK_WINDOW`].
pub const UNLOCK_PER_CLIENT_ARTICLE: u32 = 10;
/// Wrong post passwords for one article (from anywhere) before each further
/// attempt waits (250 ms, doubling, at most 2 s).
pub const UNLOCK_ARTICLE_DELAY_AFTER: u32 = 50;
/// The unlock window: fifteen minutes.
pub const UNLOCK_WINDOW: Duration = Duration::from_secs(900);

/// Vote requests per client address per [`VOTE_WINDOW`].
pub const VOTE_PER_CLIENT: u32 = 300;
/// Vote requests per voter (reader or user) per [`VOTE_WINDOW`].
pub const VOTE_PER_VOTER: u32 = 60;
/// The vote window: ten minutes.
pub const VOTE_WINDOW: Duration = Duration::from_secs(600);

/// Comments per client address per [`COMMENT_WINDOW`].
pub const COMMENT_PER_CLIENT: u32 = 30;
/// Comments per email address (from anywhere) per [`COMMENT_WINDOW`].
pub const COMMENT_PER_EMAIL: u32 = 10;
/// The comment window: one hour.
pub const COMMENT_WINDOW: Duration = Duration::from_secs(3600);

/// Subscribe requests per client address per [`SUBSCRIBE_WINDOW`].
pub const SUBSCRIBE_PER_CLIENT: u32 = 20;
/// Subscribe requests per email address (from anywhere) per [`SUBSCRIBE_WINDOW`].
pub const SUBSCRIBE_PER_EMAIL: u32 = 5;
/// The subscribe window: one hour.
pub const SUBSCRIBE_WINDOW: Duration = Duration::from_secs(3600);

/// Password-reset requests per client address per [`RESET_WINDOW`].
pub const RESET_PER_CLIENT: u32 = 10;
/// Password-reset requests per email address (from anywhere) per [`RESET_WINDOW`].
pub const RESET_PER_EMAIL: u32 = 5;
/// The password-reset window: one hour.
pub const RESET_WINDOW: Duration = Duration::from_secs(3600);

/// What a count is kept for.
#[derive(Clone, Copy, Debug)]
pub enum Key<'a> {
    /// One client address (see [`crate::http::client_ip`]).
    Client(IpAddr),
    /// One account (email or `user:{id}`) from one client address.
    ClientAccount(IpAddr, &'a str),
    /// One account from anywhere; only ever delays.
    Account(&'a str),
}

#[derive(Clone, Copy, Debug)]
enum Quota {
    Limit(u32),
    Delay { after: u32, max: Duration },
}

#[derive(Clone, Copy, Debug)]
struct Rule {
    name: &'static str,
    quota: Quota,
    window: Duration,
}

/// First delay of a [`Quota::Delay`] key; it doubles per further failure.
const DELAY_BASE: Duration = Duration::from_millis(250);
/// Longest a Redis round trip (connect included) may take before the
/// in-process store answers instead.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How long Redis is left alone after an error.
const REDIS_COOLDOWN: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
struct Numbers {
    per_client: u32,
    per_client_account: u32,
    account_delay_after: u32,
    account_max_delay: Duration,
    window: Duration,
}

impl Numbers {
    fn rule(&self, policy: Policy, key: &Key<'_>) -> Rule {
        let (client, pair, account) = match policy {
            Policy::Login => ("login-client", "login-account", "login-account-all"),
            Policy::PasswordChange => ("password-client", "password-account", "password-account-all"),
            Policy::PasswordReset => {
                let window = RESET_WINDOW;
                return match key {
                    Key::Client(_) => Rule { name: "reset-client", quota: Quota::Limit(RESET_PER_CLIENT), window },
                    Key::ClientAccount(..) | Key::Account(_) => {
                        Rule { name: "reset-email", quota: Quota::Limit(RESET_PER_EMAIL), window }
                    }
                };
            }
            Policy::Comment => {
                let window = COMMENT_WINDOW;
                return match key {
                    Key::Client(_) => Rule { name: "comment-client", quota: Quota::Limit(COMMENT_PER_CLIENT), window },
                    Key::ClientAccount(..) | Key::Account(_) => {
                        Rule { name: "comment-email", quota: Quota::Limit(COMMENT_PER_EMAIL), window }
                    }
                };
            }
            Policy::Unlock => {
                let window = UNLOCK_WINDOW;
                return match key {
                    Key::Client(_) => Rule { name: "unlock-client", quota: Quota::Limit(UNLOCK_PER_CLIENT), window },
                    Key::ClientAccount(..) => {
                        Rule { name: "unlock-article", quota: Quota::Limit(UNLOCK_PER_CLIENT_ARTICLE), window }
                    }
                    Key::Account(_) => Rule {
                        name: "unlock-article-all",
                        quota: Quota::Delay { after: UNLOCK_ARTICLE_DELAY_AFTER, max: Duration::from_secs(2) },
                        window,
                    },
                };
            }
            Policy::Vote => {
                let window = VOTE_WINDOW;
                return match key {
                    Key::Client(_) => Rule { name: "vote-client", quota: Quota::Limit(VOTE_PER_CLIENT), window },
                    Key::ClientAccount(..) | Key::Account(_) => {
                        Rule { name: "vote-voter", quota: Quota::Limit(VOTE_PER_VOTER), window }
                    }
                };
            }
            Policy::Subscribe => {
                let window = SUBSCRIBE_WINDOW;
                return match key {
                    Key::Client(_) => {
                        Rule { name: "subscribe-client", quota: Quota::Limit(SUBSCRIBE_PER_CLIENT), window }
                    }
                    Key::ClientAccount(..) | Key::Account(_) => {
                        Rule { name: "subscribe-email", quota: Quota::Limit(SUBSCRIBE_PER_EMAIL), window }
                    }
                };
            }
        };
        let window = self.window;
        match key {
            Key::Client(_) => Rule { name: client, quota: Quota::Limit(self.per_client), window },
            Key::ClientAccount(..) => Rule { name: pair, quota: Quota::Limit(self.per_client_account), window },
            Key::Account(_) => Rule {
                name: account,
                quota: Quota::Delay { after: self.account_delay_after, max: self.account_max_delay },
                window,
            },
        }
    }

    fn counts_failures_only(policy: Policy) -> bool {
        matches!(policy, Policy::Login | Policy::PasswordChange | Policy::Unlock)
    }
}

/// One key's place in a check: its store key, limit and window.
#[derive(Clone, Debug)]
struct Slot {
    key: String,
    limit: Option<u32>,
    window_ms: u64,
    max_entries: u32,
}

/// What a store saw for one slot: entries before this request, and the
/// oldest one's time (store clock, ms).
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    count: u32,
    oldest_ms: Option<u64>,
}

#[derive(Clone, Debug)]
struct Acquired {
    refused: bool,
    now_ms: u64,
    seen: Vec<Seen>,
}

/// The shared limiter (cheap to clone).
#[derive(Clone)]
pub struct Limits {
    inner: Arc<Inner>,
}

struct Inner {
    numbers: Numbers,
    prefix: String,
    local: Mutex<LocalStore>,
    redis: Option<RedisStore>,
}

impl Limits {
    /// The limiter for `settings`: in process, or through Redis when
    /// `REDIS_URL` is set (connected lazily; an unreachable Redis is not a
    /// start-up error, only a warning when first needed).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let numbers = Numbers {
            per_client: settings.login_max_failures_per_client,
            per_client_account: settings.login_max_failures_per_client_account,
            account_delay_after: settings.login_account_delay_after,
            account_max_delay: Duration::from_millis(settings.login_account_max_delay_ms),
            window: Duration::from_secs(settings.login_failure_window_secs),
        };
        let redis = match &settings.redis_url {
            Some(url) => Some(RedisStore::new(url.expose())?),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                numbers,
                prefix: settings.redis_key_prefix.clone(),
                local: Mutex::new(LocalStore::new(settings.rate_limit_max_keys)),
                redis,
            }),
        })
    }

    /// Keys held by the in-process store (for tests and metrics).
    pub fn local_key_count(&self) -> usize {
        self.inner.lock_local().map.len()
    }

    /// Reserves one request under `policy` for every key, or refuses with a
    /// 429 [`ApiError::RateLimited`]. Waits first when a [`Key::Account`]
    /// has passed its threshold.
    pub async fn check(&self, policy: Policy, keys: &[Key<'_>]) -> Result<Decision, ApiError> {
        let rules: Vec<Rule> = keys.iter().map(|k| self.inner.numbers.rule(policy, k)).collect();
        let slots: Vec<Slot> = keys
            .iter()
            .zip(&rules)
            .map(|(k, r)| Slot {
                key: format!("{}rl:{}:{}", self.inner.prefix, r.name, digest(k)),
                limit: match r.quota {
                    Quota::Limit(n) => Some(n.max(1)),
                    Quota::Delay { .. } => None,
                },
                window_ms: r.window.as_millis() as u64,
                max_entries: match r.quota {
                    Quota::Limit(n) => n.max(1),
                    Quota::Delay { after, .. } => after.saturating_add(16),
                },
            })
            .collect();
        let member = rand::random::<u64>();
        let (acquired, in_redis) = self.inner.acquire(&slots, member).await;
        let meters = Meters::new(&rules, &acquired, !acquired.refused);
        if acquired.refused {
            let retry_after_secs = rules
                .iter()
                .zip(&acquired.seen)
                .filter_map(|(r, s)| match r.quota {
                    Quota::Limit(n) if s.count >= n.max(1) => {
                        let until = s.oldest_ms.unwrap_or(acquired.now_ms) + r.window.as_millis() as u64;
                        Some(until.saturating_sub(acquired.now_ms).div_ceil(1000))
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(1)
                .max(1);
            return Err(ApiError::RateLimited { retry_after_secs, policy: meters.policy, limit: meters.limit });
        }
        let delay = rules
            .iter()
            .zip(&acquired.seen)
            .filter_map(|(r, s)| match r.quota {
                Quota::Delay { after, max } if s.count >= after => {
                    let doublings = (s.count - after).min(16);
                    Some(DELAY_BASE.saturating_mul(1 << doublings).min(max))
                }
                _ => None,
            })
            .max();
        if let Some(d) = delay.filter(|d| !d.is_zero()) {
            tokio::time::sleep(d).await;
        }
        let refund_meters = Meters::new(&rules, &acquired, false);
        Ok(Decision {
            inner: self.inner.clone(),
            slots,
            member,
            in_redis,
            meters,
            refund_meters,
            refundable: Numbers::counts_failures_only(policy),
        })
    }
}

/// The block a client address is counted in: an IPv4 address (also when
/// IPv4-mapped) on its own, an IPv6 address by its /64, since one host or
/// subscriber usually holds a whole /64 and could otherwise spread guesses
/// over 2^64 addresses.
fn client_block(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// SHA-256 of the key's parts, 128 bits in hex: fixed length whatever the
/// input, and no address or email stored in the clear.
fn digest(key: &Key<'_>) -> String {
    let mut h = Sha256::new();
    match key {
        Key::Client(ip) => h.update(format!("c\n{}", client_block(*ip))),
        Key::ClientAccount(ip, account) => {
            h.update(format!("p\n{}\n", client_block(*ip)));
            h.update(account.as_bytes());
        }
        Key::Account(account) => {
            h.update("a\n");
            h.update(account.as_bytes());
        }
    }
    hex::encode(&h.finalize()[..16])
}

/// `RateLimit-Policy` and `RateLimit` values for the hard-limited keys of a
/// decision.
#[derive(Clone, Debug, Default)]
pub struct Meters {
    policy: String,
    limit: String,
}

impl Meters {
    fn new(rules: &[Rule], a: &Acquired, counting_this: bool) -> Self {
        let mut policy = Vec::new();
        let mut limit = Vec::new();
        for (r, s) in rules.iter().zip(&a.seen) {
            let Quota::Limit(q) = r.quota else { continue };
            let w = r.window.as_secs();
            let used = s.count + u32::from(counting_this);
            let oldest = s.oldest_ms.or(counting_this.then_some(a.now_ms));
            let t = match oldest {
                Some(o) if used > 0 => (o + r.window.as_millis() as u64).saturating_sub(a.now_ms).div_ceil(1000),
                _ => 0,
            };
            policy.push(format!("\"{}\";q={q};w={w}", r.name));
            limit.push(format!("\"{}\";r={};t={t}", r.name, q.saturating_sub(used)));
        }
        Self { policy: policy.join(", "), limit: limit.join(", ") }
    }

    /// `(header name, value)` of `RateLimit-Policy` and `RateLimit`; none
    /// when no key has a hard limit.
    pub fn header_values(&self) -> Vec<(&'static str, &str)> {
        if self.policy.is_empty() {
            return Vec::new();
        }
        vec![("ratelimit-policy", self.policy.as_str()), ("ratelimit", self.limit.as_str())]
    }

    /// Adds `RateLimit-Policy` and `RateLimit` to a response.
    pub fn apply(&self, res: &mut HttpResponseBuilder) {
        if !self.policy.is_empty() {
            res.insert_header(("RateLimit-Policy", self.policy.as_str()));
            res.insert_header(("RateLimit", self.limit.as_str()));
        }
    }
}

/// An admitted request; report how it went.
pub struct Decision {
    inner: Arc<Inner>,
    slots: Vec<Slot>,
    member: u64,
    in_redis: bool,
    meters: Meters,
    refund_meters: Meters,
    refundable: bool,
}

impl Decision {
    /// The header values as counted now (this request included).
    pub fn meters(&self) -> &Meters {
        &self.meters
    }

    /// The attempt failed: it stays counted.
    pub async fn failed(self) {}

    /// The attempt succeeded: under a failures-only policy its slot is
    /// given back. Returns the header values for the response.
    pub async fn succeeded(self) -> Meters {
        if !self.refundable {
            return self.meters;
        }
        self.inner.release(&self.slots, self.member, self.in_redis).await;
        self.refund_meters
    }
}

impl Inner {
    fn lock_local(&self) -> std::sync::MutexGuard<'_, LocalStore> {
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn acquire(&self, slots: &[Slot], member: u64) -> (Acquired, bool) {
        if let Some(redis) = &self.redis {
            if let Some(a) = redis.acquire(slots, member).await {
                return (a, true);
            }
        }
        (self.lock_local().acquire(slots, member), false)
    }

    async fn release(&self, slots: &[Slot], member: u64, in_redis: bool) {
        match (&self.redis, in_redis) {
            (Some(redis), true) => redis.release(slots, member).await,
            _ => self.lock_local().release(slots, member),
        }
    }
}

/// In-process windows: a map bounded to `cap` keys, least recently used
/// evicted first.
struct LocalStore {
    map: HashMap<String, LocalEntry>,
    order: BTreeMap<u64, String>,
    tick: u64,
    cap: usize,
    epoch: Instant,
}

struct LocalEntry {
    hits: VecDeque<(u64, u64)>,
    tick: u64,
}

impl LocalStore {
    fn new(cap: usize) -> Self {
        Self { map: HashMap::new(), order: BTreeMap::new(), tick: 0, cap: cap.max(1), epoch: Instant::now() }
    }

    fn now_ms(&self) -> u64 {
        // Offset so that "now − window" never underflows in the first window.
        self.epoch.elapsed().as_millis() as u64 + 86_400_000
    }

    fn acquire(&mut self, slots: &[Slot], member: u64) -> Acquired {
        let now = self.now_ms();
        let mut seen = Vec::with_capacity(slots.len());
        let mut refused = false;
        for slot in slots {
            let s = match self.map.get_mut(&slot.key) {
                Some(e) => {
                    while e.hits.front().is_some_and(|(t, _)| *t + slot.window_ms <= now) {
                        e.hits.pop_front();
                    }
                    Seen { count: e.hits.len() as u32, oldest_ms: e.hits.front().map(|(t, _)| *t) }
                }
                None => Seen::default(),
            };
            refused |= slot.limit.is_some_and(|l| s.count >= l);
            seen.push(s);
        }
        if !refused {
            for slot in slots {
                self.tick += 1;
                let tick = self.tick;
                let e = self.map.entry(slot.key.clone()).or_insert_with(|| LocalEntry { hits: VecDeque::new(), tick });
                let old = std::mem::replace(&mut e.tick, tick);
                e.hits.push_back((now, member));
                while e.hits.len() > slot.max_entries as usize {
                    e.hits.pop_front();
                }
                self.order.remove(&old);
                self.order.insert(tick, slot.key.clone());
            }
            while self.map.len() > self.cap {
                let Some((_, key)) = self.order.pop_first() else { break };
                self.map.remove(&key);
            }
        }
        Acquired { refused, now_ms: now, seen }
    }

    fn release(&mut self, slots: &[Slot], member: u64) {
        for slot in slots {
            let Some(e) = self.map.get_mut(&slot.key) else { continue };
            e.hits.retain(|(_, m)| *m != member);
            if e.hits.is_empty() {
                let tick = e.tick;
                self.map.remove(&slot.key);
                self.order.remove(&tick);
            }
        }
    }
}

/// Sliding windows in Redis sorted sets (score: the server's time in ms),
/// checked and updated for all keys at once by one Lua script, so instances
/// never race. The connection lives on a runtime of its own (one thread), so
/// it does not depend on whichever actix worker first used it.
struct RedisStore {
    client: redis::Client,
    handle: tokio::runtime::Handle,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    conn: Arc<tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>>,
    down_until: Mutex<Option<Instant>>,
    acquire_script: Arc<redis::Script>,
}

/// KEYS: the windows. ARGV: member, then per key: limit (0: none), window
/// ms, most entries kept. Returns {refused, now_ms, count1, oldest1, …}
/// (oldest −1 when empty); adds the member to every key only when no limit
/// is reached.
const ACQUIRE_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {0, now}
local refused = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 + (i - 1) * 3])
  local window = tonumber(ARGV[3 + (i - 1) * 3])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  local oldest = -1
  if count > 0 then
    oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2])
  end
  if limit > 0 and count >= limit then refused = 1 end
  out[1 + i * 2] = count
  out[2 + i * 2] = oldest
end
out[1] = refused
if refused == 0 then
  for i = 1, #KEYS do
    local window = tonumber(ARGV[3 + (i - 1) * 3])
    local keep = tonumber(ARGV[4 + (i - 1) * 3])
    redis.call('ZADD', KEYS[i], now, ARGV[1])
    local n = redis.call('ZCARD', KEYS[i])
    if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[i], 0, n - keep - 1) end
    redis.call('PEXPIRE', KEYS[i], window)
  end
end
return out
";

impl RedisStore {
    fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid REDIS_URL: {e}"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("rate-limit-redis".into()).spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => {
                    let _ = tx.send(Ok(rt.handle().clone()));
                    rt.block_on(async {
                        let _ = stop_rx.await;
                    });
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })?;
        let handle = rx.recv()??;
        Ok(Self {
            client,
            handle,
            stop: Mutex::new(Some(stop_tx)),
            conn: Arc::default(),
            down_until: Mutex::new(None),
            acquire_script: Arc::new(redis::Script::new(ACQUIRE_LUA)),
        })
    }

    fn available(&self) -> bool {
        let down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        down.is_none_or(|until| Instant::now() >= until)
    }

    fn report(&self, result: Result<(), String>) {
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(()) => {
                if down.take().is_some() {
                    tracing::info!("Redis is reachable again; rate limits are shared again");
                }
            }
            Err(e) => {
                if down.is_none() {
                    tracing::warn!(
                        error = %e,
                        "Redis is unreachable: rate limits fall back to this process's memory (not shared) until it answers"
                    );
                }
                *down = Some(Instant::now() + REDIS_COOLDOWN);
            }
        }
    }

    /// Runs `op` with a connection on the Redis runtime, within [`REDIS_TIMEOUT`].
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(redis::aio::ConnectionManager) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = redis::RedisResult<T>> + Send,
    {
        let conn = self.conn.clone();
        let client = self.client.clone();
        let task = async move {
            let mut guard = conn.lock().await;
            let manager = match guard.as_ref() {
                Some(m) => m.clone(),
                None => {
                    let config = redis::aio::ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(REDIS_TIMEOUT))
                        .set_response_timeout(Some(REDIS_TIMEOUT))
                        .set_number_of_retries(1);
                    let m = redis::aio::ConnectionManager::new_with_config(client, config).await?;
                    *guard = Some(m.clone());
                    m
                }
            };
            drop(guard);
            op(manager).await
        };
        let joined = self.handle.spawn(tokio::time::timeout(REDIS_TIMEOUT, task)).await;
        match joined {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(e.to_string()),
            Ok(Err(_)) => Err(format!("no answer within {} ms", REDIS_TIMEOUT.as_millis())),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn acquire(&self, slots: &[Slot], member: u64) -> Option<Acquired> {
        if !self.available() {
            return None;
        }
        let script = self.acquire_script.clone();
        let slots_owned = slots.to_vec();
        let result = self
            .run(move |mut conn| async move {
                let mut inv = script.prepare_invoke();
                inv.arg(member.to_string());
                for s in &slots_owned {
                    inv.key(&s.key).arg(s.limit.unwrap_or(0)).arg(s.window_ms).arg(s.max_entries);
                }
                inv.invoke_async::<Vec<i64>>(&mut conn).await
            })
            .await
            .and_then(|v| {
                if v.len() != 2 + 2 * slots.len() {
                    return Err(format!("unexpected reply of {} items", v.len()));
                }
                let seen = (0..slots.len())
                    .map(|i| Seen { count: v[2 + i * 2].max(0) as u32, oldest_ms: u64::try_from(v[3 + i * 2]).ok() })
                    .collect();
                Ok(Acquired { refused: v[0] == 1, now_ms: v[1].max(0) as u64, seen })
            });
        match result {
            Ok(a) => {
                self.report(Ok(()));
                Some(a)
            }
            Err(e) => {
                self.report(Err(e));
                None
            }
        }
    }

    async fn release(&self, slots: &[Slot], member: u64) {
        let keys: Vec<String> = slots.iter().map(|s| s.key.clone()).collect();
        let result = self
            .run(move |mut conn| async move {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.zrem(k, member.to_string()).ignore();
                }
                pipe.query_async::<()>(&mut conn).await
            })
            .await;
        self.report(result);
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(vars: &[(&str, &str)]) -> Limits {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Limits::from_settings(&Settings::from_lookup(|k| map.get(k).cloned()).unwrap()).unwrap()
    }

    #[actix_web::test]
    async fn the_pair_limit_refuses_one_address_only_and_reservations_block_bursts() {
        let l = limits(&[("LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT", "3")]);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let keys = |ip| [Key::Client(ip), Key::ClientAccount(ip, "a@b.c")];
        for _ in 0..2 {
            l.check(Policy::Login, &keys(a)).await.unwrap().failed().await;
        }
        let in_flight = l.check(Policy::Login, &keys(a)).await.expect("third attempt allowed");
        assert!(l.check(Policy::Login, &keys(a)).await.is_err(), "a parallel fourth must wait");
        in_flight.succeeded().await;
        let d = l.check(Policy::Login, &keys(a)).await.expect("a success gives its slot back");
        assert!(d.meters().limit.contains("\"login-account\";r=0;t="), "{:?}", d.meters());
        d.failed().await;
        match l.check(Policy::Login, &keys(a)).await {
            Err(ApiError::RateLimited { retry_after_secs, policy, limit }) => {
                assert!((1..=900).contains(&retry_after_secs), "{retry_after_secs}");
                assert_eq!(policy, "\"login-client\";q=20;w=900, \"login-account\";q=3;w=900");
                assert!(limit.starts_with("\"login-client\";r=17;t=") && limit.contains("\"login-account\";r=0;t="));
            }
            _ => panic!("three failures must refuse"),
        }
        assert!(l.check(Policy::Login, &keys(b)).await.is_ok(), "another address is not refused");
        assert!(l.check(Policy::Login, &[Key::ClientAccount(a, "other@b.c")]).await.is_ok());
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let key = |s: &str| digest(&Key::Client(ip(s)));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::19"), "one /64, one count");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"), "another /64");
        assert_eq!(key("::ffff:1.2.3.4"), key("1.2.3.4"));
        assert_ne!(key("1.2.3.4"), key("1.2.3.5"), "IPv4 addresses count alone");
        let pair = |s: &str| digest(&Key::ClientAccount(ip(s), "a@b.c"));
        assert_eq!(pair("2001:db8:9:9::1"), pair("2001:db8:9:9::8"));
    }

    #[actix_web::test]
    async fn the_account_key_only_delays_and_the_delay_is_capped() {
        let l = limits(&[("LOGIN_ACCOUNT_DELAY_AFTER_FAILURES", "2"), ("LOGIN_ACCOUNT_MAX_DELAY_MS", "300")]);
        for i in 0..6u8 {
            let ip = IpAddr::from([192, 0, 2, i]);
            let started = Instant::now();
            l.check(Policy::Login, &[Key::Client(ip), Key::Account("a@b.c")]).await.unwrap().failed().await;
            let waited = started.elapsed();
            if i < 2 {
                assert!(waited < Duration::from_millis(200), "attempt {i} waited {waited:?}");
            } else {
                assert!(waited >= Duration::from_millis(250) && waited < Duration::from_millis(900), "{i}: {waited:?}");
            }
        }
    }

    #[actix_web::test]
    async fn one_hundred_thousand_unique_keys_stay_within_the_cap() {
        let l = limits(&[("RATE_LIMIT_MAX_KEYS", "10000"), ("LOGIN_MAX_FAILURES_PER_CLIENT", "10000")]);
        let long = "x".repeat(1024 * 1024);
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for i in 0..100_000u32 {
            let account = if i % 10_000 == 0 { format!("{long}{i}") } else { format!("user{i}@example.com") };
            let _ = l.check(Policy::Login, &[Key::ClientAccount(ip, &account)]).await.map(drop);
        }
        assert_eq!(l.local_key_count(), 10_000);
        let store = l.inner.lock_local();
        assert_eq!(store.order.len(), 10_000, "the eviction order tracks every key");
        assert!(store.map.keys().all(|k| k.len() < 80), "keys are digests, not the 1 MiB email");
    }
}
