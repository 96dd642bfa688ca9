//! Slugs: lowercase ASCII words joined by `-`, unique per resource.

use diesel::QueryResult;

/// Longest slug kept, in bytes; longer ones are cut at a `-` boundary when possible.
pub const MAX_SLUG_LEN: usize = 200;

/// Turns any text into a slug, transliterating to ASCII (`slug` crate, via
/// `deunicode`). Percent-encoded input (as in WordPress `post_name`) is decoded
/// first. Returns an empty string when nothing usable remains.
pub fn slugify(text: &str) -> String {
    let decoded = percent_decode(text);
    let mut s = slug::slugify(decoded);
    if s.len() > MAX_SLUG_LEN {
        s.truncate(MAX_SLUG_LEN);
        s = s.trim_end_matches('-').to_owned();
    }
    // An all-digit slug would read as an id in `/{id-or-slug}` paths; like
    // WordPress, give it a suffix.
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.push_str("-2");
    }
    s
}

/// Whether `s` is already a valid slug: 1–200 bytes of `a-z`, `0-9` and
/// single inner `-`, not all digits.
pub fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SLUG_LEN
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && !s.bytes().all(|b| b.is_ascii_digit())
}

/// Serializes slug picking for `table` until the transaction ends: two
/// concurrent creates could otherwise both find `name` free and one would fail
/// on the unique index. PostgreSQL: a transaction-scoped advisory lock;
/// SQLite: nothing (its writers already take turns, see `db::write`).
pub fn lock_for(conn: &mut crate::db::DbConnection, table: &str) -> QueryResult<()> {
    use diesel::RunQueryDsl;
    if let crate::db::DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(format!("broadsheet.slugs.{table}"))
            .execute(conn)?;
    }
    Ok(())
}

/// A path segment naming a resource: all digits is an id, anything else a slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdOrSlug {
    /// A numeric id.
    Id(i64),
    /// A slug.
    Slug(String),
}

impl IdOrSlug {
    /// Reads a path segment. Slugs are never all digits (see [`slugify`]), so
    /// the two cannot collide.
    pub fn parse(segment: &str) -> Self {
        match segment.parse::<i64>() {
            Ok(id) if segment.bytes().all(|b| b.is_ascii_digit()) => Self::Id(id),
            _ => Self::Slug(segment.to_owned()),
        }
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

/// Returns `base` if free, else `base-2`, `base-3`, … — the first that `taken`
/// says is free.
pub fn unique(base: &str, mut taken: impl FnMut(&str) -> QueryResult<bool>) -> QueryResult<String> {
    if !taken(base)? {
        return Ok(base.to_owned());
    }
    // Leave room for the suffix so the result stays within MAX_SLUG_LEN.
    let mut base = base.to_owned();
    if base.len() > MAX_SLUG_LEN - 8 {
        base.truncate(MAX_SLUG_LEN - 8);
        base = base.trim_end_matches('-').to_owned();
    }
    let base = base.as_str();
    let mut n = 2u32;
    loop {
        let candidate = format!("{base}-{n}");
        if !taken(&candidate)? {
            return Ok(candidate);
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_and_decodes() {
        assert_eq!(slugify("Hello, Wörld!"), "hello-world");
        assert_eq!(slugify("%e4%b8%ad%e6%96%87"), "zhong-wen");
        assert_eq!(slugify("   "), "");
        assert_eq!(slugify("2024"), "2024-2");
        assert!(is_valid("a-b-1") && !is_valid("A") && !is_valid("-a") && !is_valid("123") && !is_valid("a--b"));
        assert_eq!(IdOrSlug::parse("42"), IdOrSlug::Id(42));
        assert_eq!(IdOrSlug::parse("6-1"), IdOrSlug::Slug("6-1".into()));
    }

    #[test]
    fn unique_appends_the_first_free_suffix() {
        let used = ["a", "a-2"];
        let got = unique("a", |s| Ok(used.contains(&s))).unwrap();
        assert_eq!(got, "a-3");
        let long = "x".repeat(MAX_SLUG_LEN);
        let got = unique(&long, |s| Ok(s == long)).unwrap();
        assert!(got.len() <= MAX_SLUG_LEN && got.ends_with("-2"), "{got}");
    }
}
