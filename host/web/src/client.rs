//! Which client sent a request, for the per-address rate limits. It is the connection's peer address — unless the
//! peer is a reverse proxy the host trusts (`[web] trusted-proxies` in `cadre.toml`), in which case it is the
//! address that proxy says it forwarded for (`X-Forwarded-For`, read from the right: each trusted hop vouches for
//! the entry it appended, nothing further left is believed). Behind a proxy that is not listed, every request
//! would come from the proxy and share one limit, so docs/web-forum.md tells operators to list it.
//!
//! IPv6 clients are grouped by their /64 network (what one household or server is given), so rotating through
//! addresses inside it does not escape a limit. Does not limit anything itself: that is `limits`.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::AppState;

/// The longest `X-Forwarded-For` chain read (entries from the right); a longer one is not a real proxy chain.
const MAX_FORWARDED_HOPS: usize = 32;

/// The client's address, as the rate limits key it (see the module header). A server started without connection
/// information (a test calling the router directly) sees every request as coming from `0.0.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientAddr, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>();
        Ok(ClientAddr(limit_key(client_address(peer, &forwarded, &state.trusted_proxies))))
    }
}

/// The client behind `peer`: walk `forwarded` (the `X-Forwarded-For` entries, in header order) from the right for
/// as long as the address at hand is a trusted proxy.
pub fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[Network]) -> IpAddr {
    let mut client = canonical(peer);
    for entry in forwarded.iter().rev().take(MAX_FORWARDED_HOPS) {
        if !trusted.iter().any(|network| network.contains(client)) {
            break;
        }
        match parse_forwarded(entry) {
            Some(address) => client = canonical(address),
            // Garbage from a trusted proxy's client: the proxy's own address is the most we know.
            None => break,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`203.0.113.7:5123`, `[2001:db8::1]:443`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    address.to_canonical()
}

/// The key a limit counts under: an IPv4 address as it is, an IPv6 address by its /64 network.
pub fn limit_key(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// An address or a network in CIDR notation (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`), as `[web] trusted-proxies`
/// lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

/// A `trusted-proxies` entry that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an IP address or a network in CIDR notation (like \"10.0.0.0/8\")")]
pub struct NetworkError(String);

impl Network {
    /// Whether `address` is in the network.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, canonical(address)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl TryFrom<String> for Network {
    type Error = NetworkError;

    fn try_from(text: String) -> Result<Network, NetworkError> {
        let bad = || NetworkError(text.chars().take(64).collect());
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address = canonical(address.parse::<IpAddr>().map_err(|_| bad())?);
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(bad)?,
            None => bits,
        };
        Ok(Network { address, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Network {
        Network::try_from(text.to_owned()).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain_what_they_should() {
        assert!(net("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(net("127.0.0.1").contains(ip("127.0.0.1")) && !net("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(net("0.0.0.0/0").contains(ip("198.51.100.1")));
        assert!(net("fd00::/8").contains(ip("fd12::1")) && !net("fd00::/8").contains(ip("10.0.0.1")));
        assert!(net("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")), "an IPv4 address written as IPv6");
        for bad in ["10.0.0.0/33", "example.com", "10.0.0/8", "", "::/129"] {
            let error = Network::try_from(bad.to_owned()).unwrap_err().to_string();
            assert!(error.contains("CIDR"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let proxies = [net("10.0.0.0/8")];
        // The peer is the proxy: the entry it appended is the client.
        assert_eq!(client_address(ip("10.0.0.5"), &["203.0.113.7"], &proxies), ip("203.0.113.7"));
        // A client that sends its own header cannot choose its address: only the rightmost entry is the proxy's.
        assert_eq!(client_address(ip("10.0.0.5"), &["1.2.3.4", " 203.0.113.7"], &proxies), ip("203.0.113.7"));
        // Two trusted hops: read past both.
        assert_eq!(client_address(ip("10.0.0.5"), &["203.0.113.7", "10.0.0.9"], &proxies), ip("203.0.113.7"));
        // Not from a trusted proxy: the header is the client's own claim and is ignored.
        assert_eq!(client_address(ip("198.51.100.2"), &["203.0.113.7"], &proxies), ip("198.51.100.2"));
        assert_eq!(client_address(ip("10.0.0.5"), &["203.0.113.7"], &[]), ip("10.0.0.5"), "no proxies trusted");
        // Ports and garbage.
        assert_eq!(client_address(ip("10.0.0.5"), &["[2001:db8::1]:443"], &proxies), ip("2001:db8::1"));
        assert_eq!(client_address(ip("10.0.0.5"), &["unknown"], &proxies), ip("10.0.0.5"));
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_network() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:bbbb::9")), limit_key(ip("2001:db8:1:2:aaaa::1")));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), limit_key(ip("2001:db8:1:2::1")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
