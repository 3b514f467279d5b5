//! Where deliveries may go. SECURITY: an endpoint's URL is an administrator's choice, but
//! the request comes from inside the deployment: without a check, a webhook reaches this
//! machine's own ports, the private network or the cloud's metadata service (SSRF). Only
//! public addresses are reached unless the operator allows networks
//! (`AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS`). Names are checked as they are resolved for
//! the connection itself, so a name cannot pass the check and then point elsewhere.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// What the resolver answers for a name with no permitted address; found again in the
/// error chain to tell the refusal from a failure.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to addresses deliveries may not reach (AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS)")]
pub struct Refused(pub String);

#[derive(Clone, Default)]
pub struct Guard {
    allowed: Arc<Vec<IpNet>>,
}

/// Loopback, private, link-local (the metadata service), shared, unspecified,
/// multicast, reserved and documentation ranges, Azure's host address, and the IPv6 forms
/// that carry an IPv4 address (mapped, compatible, 6to4, NAT64) or are site-local.
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o == [168, 63, 129, 16]
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal(IpAddr::V4(v4));
            }
            // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64): a translator reaches whatever IPv4
            // address is inside.
            if s[0] == 0x64 && s[1] == 0xff9b {
                return true;
            }
            // ::ffff:0:a.b.c.d (SIIT) carries an IPv4 address too; 2001::/32 (Teredo) and
            // 100::/64 (discard) reach nothing a webhook should.
            if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
                return internal(embedded(s[6], s[7]));
            }
            if (s[0] == 0x2001 && s[1] == 0) || (s[0] == 0x100 && s[1..4] == [0; 3]) {
                return true;
            }
            // ::a.b.c.d (IPv4-compatible), with :: and ::1 among them.
            if s[..6] == [0; 6] {
                return v6.is_unspecified() || v6.is_loopback() || internal(embedded(s[6], s[7]));
            }
            // 2002:a.b.c.d::/48 (6to4).
            if s[0] == 0x2002 {
                return internal(embedded(s[1], s[2]));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

impl Guard {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed: Arc::new(allowed) }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        !internal(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.into_iter().filter(|a| guard.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// Whether `error` (or what caused it) is the guard's refusal.
pub fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<Refused>() {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let guard = Guard::new(vec!["10.1.0.0/16".parse().unwrap()]);
        for ip in [
            "127.0.0.1",
            "10.2.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "fec0::1",
            "::",
            "168.63.129.16",
            "192.0.0.8",
            "::10.0.0.1",
            "::127.0.0.1",
            "2002:a9fe:a9fe::1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "::ffff:0:7f00:1",
            "2001::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "224.0.0.1",
        ] {
            assert!(!guard.permits(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "10.1.2.3", "2606:4700::1111", "8.8.8.8", "2002:5db8:d822::1"] {
            assert!(guard.permits(ip.parse().unwrap()), "{ip}");
        }
    }
}
