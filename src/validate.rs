//! Small input checks shared by several resources.

/// Longest URL accepted in a body field, in bytes.
pub const MAX_URL_BYTES: usize = 2000;

/// The spec's pattern for URL fields: `http(s)://`, an ASCII host name ending
/// in a letter, an optional port and an ASCII path, query or fragment. Every
/// such string passes [`is_http_url`]; the server also takes IDN and IP hosts,
/// which the spec leaves out since no regex states the WHATWG host rules.
pub const HTTP_URL_PATTERN: &str = "^https?://[A-Za-z0-9.-]*[A-Za-z](:[0-9]{1,4})?([/?#][!-~]*)?$";

/// Whether `s` is an absolute `http` or `https` URL with a host, at most
/// [`MAX_URL_BYTES`] long, parsed by the `url` crate (WHATWG rules). Used for
/// websites, social links and canonical URLs, so no `javascript:` or `data:`
/// link can be stored. Whitespace and control characters anywhere are refused
/// before parsing, as the spec's pattern for these fields also says: the
/// WHATWG parser silently drops tabs and newlines (`"http://a\n.b"` would
/// parse as `http://a.b/`), and what we store must be what was checked.
pub fn is_http_url(s: &str) -> bool {
    s.len() <= MAX_URL_BYTES
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        // `http:///x` parses as `http://x/`: the host must follow `//` directly.
        && s.split_once("://").is_some_and(|(_, rest)| !rest.starts_with('/') && !rest.starts_with('\\'))
        && url::Url::parse(s)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_web_urls_pass() {
        assert!(is_http_url("https://news.example/a"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("/relative"));
        assert!(!is_http_url(&format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES))));
        for bad in [
            "http://a\n.b",
            "http://a\t.b",
            "https://a.example/ x",
            "http://a\u{7f}.b",
            " https://a.b",
            "http://",
            "ftp://a.b",
            "http:///path",
        ] {
            assert!(!is_http_url(bad), "{bad:?} was accepted");
        }
    }
}
