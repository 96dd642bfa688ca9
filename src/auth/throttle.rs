//! Failed-login throttling per client address and per account, on the
//! `governor` GCRA rate limiter.
//!
//! Each failure spends one cell of the key's quota (`max_failures` in a burst,
//! refilled one cell per `window / max_failures`). When a failure finds the
//! quota empty, the key is blocked until governor says a cell is free again;
//! while blocked, attempts are answered 429 with `Retry-After` *before* the
//! password is checked, so a correct guess cannot slip through.
//!
//! State is per process: behind a load balancer each instance throttles on
//! its own (documented in ARCHITECTURE.md).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Throttles failed logins.
pub struct LoginThrottle {
    per_client: DefaultKeyedRateLimiter<String>,
    per_account: DefaultKeyedRateLimiter<String>,
    blocked: Mutex<HashMap<String, Instant>>,
}

fn quota(max_failures: u32, window: Duration) -> Quota {
    let max = NonZeroU32::new(max_failures.max(1)).expect("max(1) is non-zero");
    let period = (window / max.get()).max(Duration::from_millis(1));
    Quota::with_period(period).expect("period is non-zero").allow_burst(max)
}

impl LoginThrottle {
    /// Allows `per_client` failures per client address and `per_account`
    /// failures per email within `window`.
    pub fn new(per_client: u32, per_account: u32, window: Duration) -> Self {
        Self {
            per_client: RateLimiter::keyed(quota(per_client, window)),
            per_account: RateLimiter::keyed(quota(per_account, window)),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    fn keys(client: &str, account: &str) -> [String; 2] {
        [format!("client:{client}"), format!("account:{account}")]
    }

    /// `Err(seconds)` when the client or the account is blocked.
    pub fn check(&self, client: &str, account: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.retain(|_, until| *until > now);
        let wait = Self::keys(client, account).iter().filter_map(|k| blocked.get(k)).map(|until| *until - now).max();
        match wait {
            Some(w) => Err(w.as_secs() + u64::from(w.subsec_nanos() > 0)),
            None => Ok(()),
        }
    }

    /// Records a failed attempt; blocks a key whose quota is spent.
    pub fn record_failure(&self, client: &str, account: &str) {
        let clock = DefaultClock::default();
        let [client_key, account_key] = Self::keys(client, account);
        let outcomes = [
            (client_key.clone(), self.per_client.check_key(&client_key)),
            (account_key.clone(), self.per_account.check_key(&account_key)),
        ];
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        for (key, outcome) in outcomes {
            if let Err(not_until) = outcome {
                let wait = not_until.wait_time_from(clock.now());
                blocked.insert(key, Instant::now() + wait.max(Duration::from_secs(1)));
            }
        }
        self.per_client.retain_recent();
        self.per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_quota_of_failures_and_not_before() {
        let t = LoginThrottle::new(100, 3, Duration::from_secs(900));
        for _ in 0..3 {
            assert!(t.check("1.2.3.4", "a@b.c").is_ok());
            t.record_failure("1.2.3.4", "a@b.c");
        }
        assert!(t.check("1.2.3.4", "a@b.c").is_ok(), "three failures spend the quota but do not exceed it");
        t.record_failure("1.2.3.4", "a@b.c");
        let wait = t.check("1.2.3.4", "a@b.c").expect_err("fourth failure blocks");
        assert!(wait > 0 && wait <= 300, "{wait}");
        assert!(t.check("1.2.3.4", "other@b.c").is_ok(), "other accounts are not blocked");
    }
}
