//! `authenticon healthcheck`: asks a running server's `/readyz` and exits 0 when it answers
//! 200. The container image's `HEALTHCHECK` runs it: the image has no shell and no curl.
//! It opens no database and makes no key, so it works beside a server whatever its store.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

use crate::domain::error_chain;

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
    let response =
        client.get(url).send().await.map_err(|e| anyhow!("{url}: no answer: {}", error_chain(&e)))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        // The server's own short JSON detail (`{"detail": "Database unavailable."}`); from
        // anything else at that address, no more than a line's worth.
        bail!("{url}: not ready: {status} {}", first_bytes(response).await);
    }
    println!("{url}: ready");
    Ok(())
}

/// The start of a body as one printable line: at most `BODY_SHOWN` bytes are read.
async fn first_bytes(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < BODY_SHOWN {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(BODY_SHOWN);
    let text = String::from_utf8_lossy(&body);
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

const BODY_SHOWN: usize = 200;

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
