//! Server-side request forgery guard for webhook URLs.
//!
//! A URL must be `http(s)`, at most 2,000 characters, without credentials.
//! Every address it resolves to must be public: loopback (unless
//! `WEBHOOK_ALLOW_LOOPBACK`), private (RFC 1918, IPv6 ULA), link-local
//! (including the 169.254.169.254 metadata service), shared (100.64/10),
//! unspecified, multicast, broadcast and documentation ranges, and IPv6's
//! IPv4-compatible (`::/96`), site-local (`fec0::/10`) and discard (`100::/64`)
//! ranges are refused.
//! The check runs when an endpoint is saved and again inside the HTTP
//! client's resolver ([`GuardedResolver`]) on every connection, so a DNS
//! answer that changes after the save (rebinding) is refused at connect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The `user-agent` of deliveries.
pub const USER_AGENT: &str = concat!("broadsheet-webhooks/", env!("CARGO_PKG_VERSION"));

/// Longest accepted URL, in characters.
pub const MAX_URL_LEN: usize = 2000;

/// Why an address is refused, or `None` when it may be called.
pub fn refusal(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => refusal_v4(v4, allow_loopback),
        IpAddr::V6(v6) => refusal_v6(v6, allow_loopback),
    }
}

fn refusal_v4(ip: Ipv4Addr, allow_loopback: bool) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    if ip.is_link_local() {
        return Some("a link-local or cloud metadata address");
    }
    if ip.is_private() {
        return Some("a private address");
    }
    if o[0] == 100 && (o[1] & 0xc0) == 64 {
        return Some("a shared (carrier-grade NAT) address");
    }
    if ip.is_unspecified() || o[0] == 0 {
        return Some("an unspecified address");
    }
    if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        return Some("a multicast or reserved address");
    }
    if ip.is_documentation() || (o[0] == 198 && (o[1] & 0xfe) == 18) || (o[0] == 192 && o[1] == 0 && o[2] == 0) {
        return Some("a reserved address");
    }
    None
}

fn refusal_v6(ip: Ipv6Addr, allow_loopback: bool) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if (s[0] & 0xffc0) == 0xfe80 {
        return Some("a link-local address");
    }
    if (s[0] & 0xfe00) == 0xfc00 {
        return Some("a private (unique local) address, or a cloud metadata address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    // Deprecated IPv4-compatible addresses (::a.b.c.d, RFC 4291 §2.5.5.1):
    // a stack that still maps them would reach the IPv4 address inside.
    if s[..6] == [0; 6] {
        return Some("an IPv4-compatible address");
    }
    if (s[0] & 0xffc0) == 0xfec0 {
        return Some("a site-local address");
    }
    if s[..4] == [0x100, 0, 0, 0] {
        return Some("a discard-only address");
    }
    // NAT64 and 6to4 embed IPv4 addresses that may be private.
    if s[0] == 0x64 && s[1] == 0xff9b {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return refusal_v4(v4, false);
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return refusal_v4(v4, false);
    }
    if s[0] == 0x2001 && s[1] == 0xdb8 {
        return Some("a documentation address");
    }
    None
}

/// Checks a URL's shape: `Err(message)` names what is wrong.
pub fn check_shape(raw: &str) -> Result<url::Url, String> {
    if raw.chars().count() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must use http or https".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    Ok(url)
}

/// Checks a URL fully: its shape, then every address its host resolves to
/// (within 5 s). `Err(message)` names what is wrong.
pub async fn check(raw: &str, allow_loopback: bool) -> Result<url::Url, String> {
    let url = check_shape(raw)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(d)) => {
            let lookup = tokio::net::lookup_host((d.to_owned(), port));
            match tokio::time::timeout(Duration::from_secs(5), lookup).await {
                Ok(Ok(a)) => a.collect(),
                Ok(Err(_)) | Err(_) => return Err(format!("host `{d}` does not resolve")),
            }
        }
        None => return Err("must name a host".into()),
    };
    if addrs.is_empty() {
        return Err("host does not resolve".into());
    }
    for a in &addrs {
        if let Some(why) = refusal(a.ip(), allow_loopback) {
            return Err(format!("resolves to {why} ({}), which webhooks may not call", a.ip()));
        }
    }
    Ok(url)
}

/// A DNS resolver for the delivery client that drops the whole answer if
/// any address is refused: the connection then fails before it is opened.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    /// `WEBHOOK_ALLOW_LOOPBACK`.
    pub allow_loopback: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| refusal(a.ip(), allow).is_some()) {
                let why = refusal(bad.ip(), allow).unwrap_or("refused");
                return Err(format!("`{host}` resolves to {why} ({}); refused", bad.ip()).into());
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// The delivery client: connect at most 5 s, the whole request `timeout`
/// (`WEBHOOK_TIMEOUT_MS`, 15 s by default), no redirects (a redirect is a
/// failed attempt), no proxies, no pooled connections (so every attempt
/// resolves, and is checked, again), the guarded resolver.
pub fn client(allow_loopback: bool, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .user_agent(USER_AGENT)
        .dns_resolver(Arc::new(GuardedResolver { allow_loopback }))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_link_local_metadata_and_loopback_are_refused() {
        let refused = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "::",
            "::127.0.0.1",
            "::a00:1",
            "fec0::1",
            "100::1",
        ];
        for ip in refused {
            assert!(refusal(ip.parse().unwrap(), false).is_some(), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"] {
            assert_eq!(refusal(ip.parse().unwrap(), false), None, "{ip} is public");
        }
        assert_eq!(refusal("127.0.0.1".parse().unwrap(), true), None, "loopback when allowed");
        assert!(refusal("10.0.0.1".parse().unwrap(), true).is_some(), "private stays refused");
    }

    #[test]
    fn shapes_are_checked() {
        assert!(check_shape("ftp://example.com/x").is_err());
        assert!(check_shape("https://user:pw@example.com/").is_err());
        assert!(check_shape(&format!("https://example.com/{}", "a".repeat(2001))).is_err());
        assert!(check_shape("https://example.com/hook").is_ok());
    }
}
