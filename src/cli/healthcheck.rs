//! `authenticon healthcheck`: asks a running server's `/readyz` and exits 0 when it answers
//! 200. The container image's `HEALTHCHECK` runs it: the image has no shell and no curl.
//! It opens no database and reads no secret, so it works beside a server whatever its store.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

/// A health check that hangs is a failed one; orchestrators give up after 30 s by default.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where the server bound to `bind` answers on this host: a wildcard address is asked on
/// the loopback address of its family.
pub fn readyz_url(bind: SocketAddr) -> String {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/readyz", SocketAddr::new(ip, bind.port()))
}

/// One request; `Ok` only for a 200. The error is the line the command prints.
pub async fn check(url: &str) -> anyhow::Result<()> {
    crate::crypto::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        // A proxy from the environment must not answer for the server, nor a redirect.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("authenticon-healthcheck")
        .build()
        .context("cannot make an HTTP client")?;
    let response = client.get(url).send().await.map_err(|e| anyhow!("{url}: no answer: {}", causes(&e)))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        // The body is the server's own short JSON detail (`{"detail": "Database unavailable."}`).
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        bail!("{url}: not ready: {status} {}", body.trim());
    }
    println!("{url}: ready");
    Ok(())
}

/// The error and what caused it (reqwest's own message only says the request failed).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_asked_on_loopback_of_its_family() {
        let url = |s: &str| readyz_url(s.parse().unwrap());
        assert_eq!(url("0.0.0.0:8000"), "http://127.0.0.1:8000/readyz");
        assert_eq!(url("[::]:9000"), "http://[::1]:9000/readyz");
        assert_eq!(url("10.1.2.3:8000"), "http://10.1.2.3:8000/readyz");
        assert_eq!(url("[fd00::1]:8000"), "http://[fd00::1]:8000/readyz");
    }
}
