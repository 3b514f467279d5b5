//! Redirect URIs: which an administrator may register, which a request may name, and
//! the answer sent back to one.

use url::Url;

const MAX_URI_CHARS: usize = 2000;

/// Whether `uri` may be registered, and if not why. SECURITY (RFC 9700 §2.1, §4.1):
/// absolute, no fragment, no userinfo, no wildcard; `https`, plain `http` only on a
/// loopback address (RFC 8252 §7.3; `localhost` is refused as §8.3 advises), or a
/// private-use scheme of a native app named like a reversed domain (§7.1).
pub fn registrable(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_URI_CHARS {
        return Err(format!("Ensure this field has no more than {MAX_URI_CHARS} characters."));
    }
    let url = Url::parse(uri).map_err(|_| "Enter a valid absolute URI.".to_string())?;
    if url.fragment().is_some() {
        return Err("A redirect URI must not have a fragment.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("A redirect URI must not carry a user name or password.".into());
    }
    if uri.contains('*') {
        return Err("Wildcards are not allowed: register each URI exactly.".into());
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err("Plain http is allowed only on 127.0.0.1 or [::1]; use https.".into()),
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
            Err(format!("The {} scheme cannot be a redirect URI.", url.scheme()))
        }
        scheme if scheme.contains('.') => Ok(()),
        _ => Err("Use https, a loopback http address, or a reversed-domain scheme (com.example.app).".into()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// The registered URI `presented` names, if any. Exact string comparison (RFC 9700
/// §4.1.3), except that a loopback `http` URI may name any port (RFC 8252 §7.3): native
/// apps listen on whichever port is free.
pub fn matching<'a>(registered: &'a [String], presented: &str) -> Option<&'a str> {
    if let Some(exact) = registered.iter().find(|r| *r == presented) {
        return Some(exact);
    }
    // Only a URI already in its normal form: `..`, case or escapes that parsing would
    // change could otherwise reach a registered one from another path.
    let asked = Url::parse(presented).ok().filter(|u| is_loopback_http(u) && u.as_str() == presented)?;
    registered.iter().map(String::as_str).find(|r| {
        Url::parse(r).ok().filter(is_loopback_http).is_some_and(|mut r| {
            let mut asked = asked.clone();
            // Only the port may differ: the rest is compared as serialised.
            let _ = r.set_port(None);
            let _ = asked.set_port(None);
            r.as_str() == asked.as_str() && presented.len() <= MAX_URI_CHARS
        })
    })
}

fn is_loopback_http(u: &Url) -> bool {
    u.scheme() == "http" && is_loopback(u)
}

/// `uri` with `params` added to its query (what it had is kept, RFC 6749 §3.1.2).
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        // Registered URIs parse; a request's was matched against one first.
        Err(_) => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_safe_uris_are_registrable() {
        assert!(registrable("https://app.example.com/callback").is_ok());
        assert!(registrable("http://127.0.0.1/callback").is_ok());
        assert!(registrable("http://[::1]:8080/cb").is_ok());
        assert!(registrable("com.example.app:/oauth").is_ok());
        for bad in [
            "http://app.example.com/cb",
            "http://localhost/cb",
            "https://app.example.com/cb#x",
            "https://user:pw@app.example.com/cb",
            "https://*.example.com/cb",
            "javascript:alert(1)",
            "/relative",
            "myapp:/cb",
        ] {
            assert!(registrable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_request_must_name_a_registered_uri_exactly() {
        let registered =
            vec!["https://app.example.com/cb".to_string(), "http://127.0.0.1/native".to_string()];
        assert_eq!(matching(&registered, "https://app.example.com/cb"), Some("https://app.example.com/cb"));
        for bad in [
            "https://app.example.com/cb/",
            "https://APP.example.com/cb",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/cb#",
            "https://app.example.com@evil.example/cb",
            "https://app.example.com.evil.example/cb",
            "http://app.example.com/cb",
            "http://127.0.0.1:9000/other",
            "http://127.0.0.1:9000/x/../native",
        ] {
            assert_eq!(matching(&registered, bad), None, "{bad}");
        }
        // A native app's loopback listener may take any port.
        assert_eq!(matching(&registered, "http://127.0.0.1:53412/native"), Some("http://127.0.0.1/native"));
    }

    #[test]
    fn answers_keep_the_uris_own_query() {
        assert_eq!(
            with_params("https://a.example/cb?x=1", &[("code", "c d"), ("state", "s&t")]),
            "https://a.example/cb?x=1&code=c+d&state=s%26t"
        );
    }
}
