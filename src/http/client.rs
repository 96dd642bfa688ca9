//! The client's address, for rate limits.
//!
//! It is the socket peer. A forwarding header counts only when the peer is
//! one of `TRUSTED_PROXIES`, and then the header is read from the right:
//! each trusted proxy appends the address it received the request from, so
//! the rightmost address that is *not* a trusted proxy is the first hop no
//! proxy of ours vouches for. Everything left of it was written by the
//! client and is ignored (taking the leftmost entry, as
//! `ConnectionInfo::realip_remote_addr` does, lets a client pick its own
//! address). Only the header named by `TRUSTED_PROXY_HEADER` is read, since
//! a proxy that appends to one passes the other through untouched.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::{IpNet, ProxyHeader, Settings};

/// The address rate limits key on (see the module docs). A request with no
/// peer address (only in unit tests) is `0.0.0.0`.
pub fn client_ip(req: &HttpRequest, settings: &Settings) -> IpAddr {
    let peer = req.peer_addr().map(|a| a.ip().to_canonical()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if settings.trusted_proxies.is_empty() {
        return peer;
    }
    let name = match settings.trusted_proxy_header {
        ProxyHeader::XForwardedFor => "x-forwarded-for",
        ProxyHeader::Forwarded => "forwarded",
    };
    let values: Vec<&str> = req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect();
    resolve(peer, &values, settings.trusted_proxy_header, &settings.trusted_proxies)
}

/// The rightmost untrusted hop of `peer` plus the header `values` (in the
/// order received). A hop that does not parse stops the walk: the last
/// trusted hop before it is used, since nothing beyond it can be believed.
pub fn resolve(peer: IpAddr, values: &[&str], header: ProxyHeader, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut client = peer;
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        let parsed = match header {
            ProxyHeader::XForwardedFor => parse_node(hop),
            ProxyHeader::Forwarded => hop
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_node(v.trim().trim_matches('"'))),
        };
        let Some(ip) = parsed else { return client };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]` or `[::1]:5678`.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<IpAddr>().ok()).map(|ip| ip.to_canonical());
    }
    s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [IpNet::parse("10.0.0.0/8").unwrap(), IpNet::parse("::1").unwrap()];
        let xff = ProxyHeader::XForwardedFor;
        let cases: &[(&str, &[&str], &str)] = &[
            // Untrusted peers' headers are ignored.
            ("203.0.113.9", &["1.1.1.1"], "203.0.113.9"),
            // A trusted proxy appended the real client after a spoofed entry.
            ("10.0.0.2", &["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
            // Two proxies, and two header lines.
            ("10.0.0.2", &["6.6.6.6", "198.51.100.7, 10.0.0.3"], "198.51.100.7"),
            // Garbage to the left of the real hop does not matter.
            ("10.0.0.2", &["not-an-ip, 198.51.100.7"], "198.51.100.7"),
            // Garbage where the proxy should have written: use the proxy.
            ("10.0.0.2", &["198.51.100.7, garbage"], "10.0.0.2"),
            // No header from a trusted proxy: the proxy itself.
            ("10.0.0.2", &[], "10.0.0.2"),
            ("::1", &["[2001:db8::1]:443"], "2001:db8::1"),
        ];
        for (peer, values, want) in cases {
            assert_eq!(resolve(ip(peer), values, xff, &trusted), ip(want), "{peer} {values:?}");
        }
        let fwd = ProxyHeader::Forwarded;
        let got = resolve(ip("10.1.1.1"), &["for=6.6.6.6, for=\"[2001:db8::7]:80\";proto=https"], fwd, &trusted);
        assert_eq!(got, ip("2001:db8::7"));
    }
}
