//! Serialization helpers for response DTOs.
//!
//! chrono serializes a `DateTime<Utc>` through `collect_str` and its
//! `Display`: about 2,400 instructions a value, 2.7 % of an uncached list
//! page's CPU (callgrind, two times an article, 2026-12-06). [`utc`] writes
//! the very same text (RFC 3339 with `Z`, and a fraction only when there is
//! one, in 3, 6 or 9 digits: chrono's `SecondsFormat::AutoSi`) from a stack
//! buffer. Use it as `#[serde(serialize_with = "crate::wire::utc")]`, and
//! [`utc_opt`] for an `Option`.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// Serializes `t` as chrono's `Serialize` does (see the module docs).
pub fn utc<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match write_utc(&mut buf, t) {
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
        None => s.collect_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
    }
}

/// [`utc`] for an optional time (`null` when `None`).
pub fn utc_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => utc(t, s),
        None => s.serialize_none(),
    }
}

/// Writes `t` into `buf` and returns its length; `None` for what chrono
/// writes another way (years outside 0–9999, a leap second).
fn write_utc(buf: &mut [u8; 30], t: &DateTime<Utc>) -> Option<usize> {
    let nanos = t.nanosecond();
    let year = t.year();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, v: u32, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    let mut n = 19;
    let (frac, digits) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    if digits > 0 {
        put(20, frac, digits);
        n = 20 + digits;
    }
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    buf[19] = b'.';
    buf[n] = b'Z';
    Some(n + 1)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    #[derive(serde::Serialize)]
    struct Ours {
        #[serde(serialize_with = "super::utc")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "super::utc_opt")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(serde::Serialize)]
    struct Chronos {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn times_serialize_as_chrono_serializes_them() {
        let base = Utc.with_ymd_and_hms(2026, 12, 6, 7, 12, 7).unwrap();
        let mut times = vec![
            base,
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            base + chrono::Duration::milliseconds(120),
            base + chrono::Duration::microseconds(120_001),
            base + chrono::Duration::nanoseconds(7),
            base + chrono::Duration::nanoseconds(999_999_999),
            base + chrono::Duration::nanoseconds(1_000),
            base + chrono::Duration::nanoseconds(100_000_000),
        ];
        times.extend((0..2_000i64).map(|i| base + chrono::Duration::nanoseconds(i * 7_919_993_331_017)));
        for t in times {
            for maybe in [None, Some(t)] {
                let ours = serde_json::to_string(&Ours { at: t, maybe }).unwrap();
                let theirs = serde_json::to_string(&Chronos { at: t, maybe }).unwrap();
                assert_eq!(ours, theirs, "{t:?}");
            }
        }
    }
}
