//! The client's address, as rate limits and auth should see it.
//!
//! Behind Envoy (the chart's edge) every request comes from Envoy's address, so
//! limiting by the TCP peer would make one client's junk lock everyone out.
//! Envoy appends the address it saw to `x-forwarded-for` (`use_remote_address`),
//! so when — and only when — the peer is a configured trusted proxy, the client
//! is the rightmost address of that header that is not itself a trusted proxy.
//! From any other peer the header is ignored: a client cannot pick its address.

use std::net::IpAddr;

/// Networks whose requests may tell the client's address (`trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`, `::1/128`) or single addresses.
    pub fn parse(list: &[String]) -> anyhow::Result<Self> {
        let mut nets = Vec::new();
        for item in list {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item.as_str(), None),
            };
            let ip: IpAddr = addr.trim().parse().map_err(|_| {
                anyhow::anyhow!("trusted_proxies: {item:?} is not an address or CIDR")
            })?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| {
                        anyhow::anyhow!("trusted_proxies: bad prefix length in {item:?}")
                    })?,
            };
            nets.push((ip, bits));
        }
        Ok(Self(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => {
                    prefix_eq(u32::from(n).into(), u32::from(a).into(), 32, *bits)
                }
                (IpAddr::V6(n), IpAddr::V6(a)) => {
                    prefix_eq(u128::from(n), u128::from(a), 128, *bits)
                }
                _ => false,
            })
    }

    /// The client's address for a request from `peer` carrying `forwarded_for`.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                // A malformed hop ends the chain we can trust.
                break;
            };
            client = canonical(ip);
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(net: u128, addr: u128, width: u32, bits: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (net >> shift) == (addr >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let t = TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).expect("parse");
        // Untrusted peer: its header is ignored.
        assert_eq!(
            t.client(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
        // Trusted peer: the rightmost untrusted hop.
        assert_eq!(
            t.client(ip("10.1.2.3"), Some("1.2.3.4, 198.51.100.7")),
            ip("198.51.100.7")
        );
        assert_eq!(
            t.client(ip("10.1.2.3"), Some("1.2.3.4, 198.51.100.7, 10.9.9.9")),
            ip("198.51.100.7")
        );
        // A client's own spoofed entries sit left of the hop Envoy appended.
        assert_eq!(
            t.client(ip("10.1.2.3"), Some("6.6.6.6, 192.0.2.1")),
            ip("192.0.2.1")
        );
        // No header: the proxy itself.
        assert_eq!(t.client(ip("10.1.2.3"), None), ip("10.1.2.3"));
        // Garbage stops the walk.
        assert_eq!(
            t.client(ip("10.1.2.3"), Some("1.1.1.1, junk")),
            ip("10.1.2.3")
        );
        assert_eq!(t.client(ip("::1"), Some("2001:db8::1")), ip("2001:db8::1"));
        assert_eq!(
            t.client(ip("::ffff:10.0.0.1"), Some("192.0.2.5")),
            ip("192.0.2.5")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["nope".into()]).is_err());
    }
}
