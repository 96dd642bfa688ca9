//! Failed-login throttling per client address and per account.
//!
//! A sliding window of failure times per key, plus a count of attempts in
//! flight. An attempt *reserves* a slot before the password is checked, so a
//! burst of parallel guesses cannot all pass the check before any failure is
//! recorded (a rate limiter that only counts finished failures, such as a
//! GCRA cell spent after the fact, lets such a burst through). When failures
//! plus attempts in flight reach the limit, the answer is 429 with
//! `Retry-After` until the oldest failure leaves the window.
//!
//! State is per process: behind a load balancer each instance throttles on
//! its own (documented in ARCHITECTURE.md).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Window {
    failures: VecDeque<Instant>,
    in_flight: u32,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Window>,
}

/// Throttles failed logins.
#[derive(Clone)]
pub struct LoginThrottle {
    per_client: u32,
    per_account: u32,
    window: Duration,
    state: Arc<Mutex<State>>,
}

/// A reserved attempt; report its outcome with [`Attempt::failed`] or
/// [`Attempt::succeeded`]. Dropping it unreported counts as neither.
pub struct Attempt {
    throttle: LoginThrottle,
    keys: [String; 2],
    done: bool,
}

impl LoginThrottle {
    /// Allows `per_client` failures per client address and `per_account`
    /// failures per account within `window`.
    pub fn new(per_client: u32, per_account: u32, window: Duration) -> Self {
        Self { per_client: per_client.max(1), per_account: per_account.max(1), window, state: Default::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves an attempt for `client` on `account`, or `Err(seconds)` to wait.
    pub fn begin(&self, client: &str, account: &str) -> Result<Attempt, u64> {
        let now = Instant::now();
        let keys = [format!("client:{client}"), format!("account:{account}")];
        let limits = [self.per_client, self.per_account];
        let mut state = self.lock();
        let mut wait: Option<Duration> = None;
        for (key, limit) in keys.iter().zip(limits) {
            let w = state.keys.entry(key.clone()).or_default();
            while w.failures.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                w.failures.pop_front();
            }
            if w.failures.len() as u32 + w.in_flight >= limit {
                let until = w.failures.front().map(|t| *t + self.window).unwrap_or(now + Duration::from_secs(1));
                wait = Some(wait.unwrap_or_default().max(until.saturating_duration_since(now)));
            }
        }
        if let Some(w) = wait {
            return Err(w.as_secs().max(1) + u64::from(w.subsec_nanos() > 0 && w.as_secs() > 0));
        }
        for key in &keys {
            state.keys.entry(key.clone()).or_default().in_flight += 1;
        }
        if state.keys.len() > 100_000 {
            let window = self.window;
            state
                .keys
                .retain(|_, w| w.in_flight > 0 || w.failures.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        Ok(Attempt { throttle: self.clone(), keys, done: false })
    }
}

impl Attempt {
    fn finish(&mut self, failed: bool) {
        if self.done {
            return;
        }
        self.done = true;
        let now = Instant::now();
        let mut state = self.throttle.lock();
        for key in &self.keys {
            let w = state.keys.entry(key.clone()).or_default();
            w.in_flight = w.in_flight.saturating_sub(1);
            if failed {
                w.failures.push_back(now);
            }
        }
    }

    /// The credentials were wrong.
    pub fn failed(mut self) {
        self.finish(true);
    }

    /// The credentials were right.
    pub fn succeeded(mut self) {
        self.finish(false);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.finish(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_at_the_limit_counting_attempts_in_flight() {
        let t = LoginThrottle::new(100, 3, Duration::from_secs(900));
        for _ in 0..2 {
            t.begin("1.2.3.4", "a@b.c").unwrap().failed();
        }
        let in_flight = t.begin("1.2.3.4", "a@b.c").expect("third attempt allowed");
        assert!(t.begin("1.2.3.4", "a@b.c").is_err(), "a parallel fourth must wait");
        in_flight.succeeded();
        assert!(t.begin("1.2.3.4", "a@b.c").is_ok(), "a success frees its slot");
        t.begin("1.2.3.4", "a@b.c").unwrap().failed();
        let wait = t.begin("1.2.3.4", "a@b.c").err().expect("three failures block");
        assert!(wait > 0 && wait <= 900, "{wait}");
        assert!(t.begin("1.2.3.4", "other@b.c").is_ok(), "other accounts are not blocked");
    }
}
