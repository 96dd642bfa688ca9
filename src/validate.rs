//! Small input checks shared by several resources.

/// Longest URL accepted in a body field, in bytes.
pub const MAX_URL_BYTES: usize = 2000;

/// Whether `s` is an absolute `http` or `https` URL with a host, at most
/// [`MAX_URL_BYTES`] long. Used for websites, social links and canonical URLs,
/// so no `javascript:` or `data:` link can be stored.
pub fn is_http_url(s: &str) -> bool {
    s.len() <= MAX_URL_BYTES
        && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
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
    }
}
