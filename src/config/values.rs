//! Reading and writing setting values: durations, numbers, booleans, lists, URLs. A
//! parser's error is what the setting expects, for the one-line start-up error.

use std::time::Duration;

pub const LIFETIME_EXPECTED: &str = "a number of seconds or a duration like 30s, 5m, 1h, 1d";
pub const POSITIVE_LIFETIME_EXPECTED: &str =
    "a positive number of seconds or a duration like 30s, 5m, 1h, 1d";

/// Parses `300`, `30s`, `5m`, `1h`, `1d` (simplejwt's timedelta settings, written short).
pub fn parse_lifetime(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3_600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    // Ten years is far past any sane lifetime and keeps `exp` arithmetic safe.
    (secs <= 10 * 365 * 86_400).then(|| Duration::from_secs(secs))
}

/// A duration, zero allowed.
pub fn lifetime(v: &str) -> Result<Duration, &'static str> {
    parse_lifetime(v).ok_or(LIFETIME_EXPECTED)
}

pub fn positive_lifetime(v: &str) -> Result<Duration, &'static str> {
    parse_lifetime(v).filter(|d| !d.is_zero()).ok_or(POSITIVE_LIFETIME_EXPECTED)
}

/// A duration the way the settings are written: the largest unit that divides it.
pub fn show_lifetime(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub fn number<T>(v: &str, min: T, max: T, expected: &'static str) -> Result<T, &'static str>
where
    T: std::str::FromStr + PartialOrd,
{
    match v.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(expected),
    }
}

/// A throttle limit: 0 switches the counter off.
pub fn limit(v: &str) -> Result<u32, &'static str> {
    number(v, 0, 1_000_000, "a count from 0 (off) to 1000000")
}

pub fn boolean(v: &str) -> Result<bool, &'static str> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("true or false"),
    }
}

/// Comma-separated, blanks dropped.
pub fn list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// `10.0.0.0/8`, or one address (`127.0.0.1`, `::1`) as a single-host range.
pub fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

/// `scheme://host[:port]`, nothing after: what a browser sends as `Origin`.
pub fn is_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else { return false };
    matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '*'])
}

/// Hides the password in `scheme://user:password@host/db`, and the whole query string
/// (`?password=…`, `?sslpassword=…` carry secrets too).
pub fn redact_url(url: &str) -> String {
    let url = match url.split_once('?') {
        Some((base, query)) if !query.is_empty() => return format!("{}?[redacted]", redact_url(base)),
        Some((base, _)) => base,
        None => url,
    };
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => {
                    format!("{}{}:[redacted]{}", &url[..scheme_end + 3], &creds[..colon], &url[at..])
                }
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse_like_the_docs_say_and_print_back() {
        let cases = [
            ("300", Some(300)),
            ("30s", Some(30)),
            ("5m", Some(300)),
            ("1h", Some(3_600)),
            ("1d", Some(86_400)),
            ("0", Some(0)),
            ("", None),
            ("5x", None),
            ("-5", None),
            ("1.5h", None),
            ("m", None),
            ("99999999999d", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_lifetime(input).map(|d| d.as_secs()), want, "{input:?}");
        }
        for (secs, shown) in
            [(0, "0"), (45, "45s"), (300, "5m"), (3_600, "1h"), (90_000, "25h"), (86_400, "1d")]
        {
            assert_eq!(show_lifetime(Duration::from_secs(secs)), shown);
            assert_eq!(parse_lifetime(shown).map(|d| d.as_secs()), Some(secs));
        }
    }

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:[redacted]@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redact_url("postgres://u@h/db?password=pw&sslmode=require"),
            "postgres://u@h/db?[redacted]"
        );
        assert_eq!(
            redact_url("postgres://u:pw@h/db?sslpassword=x"),
            "postgres://u:[redacted]@h/db?[redacted]"
        );
    }
}
