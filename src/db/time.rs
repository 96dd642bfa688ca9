//! `Timestamp` columns read without chrono's format parser, for rows a hot
//! path loads many of (a list page's articles).
//!
//! SQLite stores a timestamp as text: `2026-12-06 07:12:07.123456` as
//! diesel writes it, `2026-12-06 07:12:07` as `CURRENT_TIMESTAMP` does.
//! diesel's reader tries chrono's `parse_from_str` format after format,
//! about 2,450 instructions a value: 4 % of an uncached list page's CPU
//! (callgrind, 60 timestamps a page, 2026-12-06). [`Time`] reads those two
//! shapes (and the same with `T`) at fixed positions and hands anything else
//! to diesel's reader, so what it accepts and returns is unchanged.
//! PostgreSQL's binary timestamps go to diesel's reader as before.
//!
//! Used as `#[diesel(deserialize_as = Time)]` on a `NaiveDateTime` field and
//! `#[diesel(deserialize_as = MaybeTime)]` on an `Option<NaiveDateTime>`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

type MultiBackend = <super::DbConnection as diesel::Connection>::Backend;

/// A `Timestamp` (UTC, naive) read as described in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Time(pub NaiveDateTime);

/// A `Nullable<Timestamp>` read as [`Time`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct MaybeTime(pub Option<NaiveDateTime>);

impl From<Time> for NaiveDateTime {
    fn from(t: Time) -> Self {
        t.0
    }
}

impl From<MaybeTime> for Option<NaiveDateTime> {
    fn from(t: MaybeTime) -> Self {
        t.0
    }
}

impl FromSql<Timestamp, Sqlite> for Time {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(t) = parse_text(value.read_text()) {
            return Ok(Time(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Time)
    }
}

impl FromSql<Timestamp, Pg> for Time {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Time)
    }
}

impl FromSql<Timestamp, MultiBackend> for Time {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl FromSql<Nullable<Timestamp>, Sqlite> for MaybeTime {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <Time as FromSql<Timestamp, Sqlite>>::from_sql(value).map(|t| MaybeTime(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<<Sqlite as Backend>::RawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(MaybeTime(None)), <Self as FromSql<Nullable<Timestamp>, Sqlite>>::from_sql)
    }
}

impl FromSql<Nullable<Timestamp>, Pg> for MaybeTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(|t| MaybeTime(Some(t)))
    }

    fn from_nullable_sql(value: Option<<Pg as Backend>::RawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(MaybeTime(None)), <Self as FromSql<Nullable<Timestamp>, Pg>>::from_sql)
    }
}

impl FromSql<Nullable<Timestamp>, MultiBackend> for MaybeTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Time, Timestamp>().map(|t| MaybeTime(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<<MultiBackend as Backend>::RawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(MaybeTime(None)), <Self as FromSql<Nullable<Timestamp>, MultiBackend>>::from_sql)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with `' '` or `'T'` between date and time and an
/// optional `.` plus 1 to 9 digits; `None` for anything else (including
/// values chrono would accept, such as a leap second or an offset).
fn parse_text(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let nanos = match b.len() {
        19 => 0,
        20 => return None,
        len if len <= 29 && b[19] == b'.' => digits(20, len)? * 10u32.pow(29 - len as u32),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(digits(0, 4)? as i32, digits(5, 7)?, digits(8, 10)?)?;
    let time = NaiveTime::from_hms_nano_opt(digits(11, 13)?, digits(14, 16)?, digits(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::parse_text;
    use chrono::NaiveDateTime;

    /// What diesel's SQLite reader returns for the shapes the fast path
    /// takes (its first formats).
    fn chrono_reads(s: &str) -> Option<NaiveDateTime> {
        ["%F %T%.f", "%FT%T%.f"].iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    }

    #[test]
    fn the_fast_path_reads_what_chrono_reads_or_steps_aside() {
        let cases = [
            "2026-12-06 07:12:07",
            "2026-12-06 07:12:07.1",
            "2026-12-06 07:12:07.123456",
            "2026-12-06 07:12:07.123456789",
            "2026-12-06T07:12:07.5",
            "1999-02-28 23:59:59",
            "2024-02-29 00:00:00",
        ];
        for s in cases {
            assert_eq!(parse_text(s), chrono_reads(s), "{s}");
            assert!(parse_text(s).is_some(), "{s} should take the fast path");
        }
        // Not ours: left to diesel's reader (None here), whatever chrono
        // makes of them.
        let others = [
            "2023-02-29 00:00:00",
            "2026-12-06 07:12:60",
            "2026-12-06 24:00:00",
            "2026-12-06 07:12:07.",
            "2026-12-06 07:12:07.1234567891",
            "2026-12-06 07:12:07Z",
            "2026-12-06 07:12:07+01:00",
            "2026-12-06 07:12",
            "2026/12/06 07:12:07",
            "+2026-12-06 07:12:07",
            "2026-1a-06 07:12:07",
            "2461015.5",
            "",
        ];
        for s in others {
            assert_eq!(parse_text(s), None, "{s}");
        }
    }

    #[test]
    fn every_written_microsecond_reads_back() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        for i in 0..5_000i64 {
            let t = start + chrono::Duration::microseconds(i * 7_919_993_331);
            // As diesel's SQLite writer formats it.
            let written = t.format("%F %T%.f").to_string();
            assert_eq!(parse_text(&written), Some(t), "{written}");
        }
    }
}
