//! External identity providers, from the settings file's `[external_providers.<name>]`
//! tables (nested values no environment variable can hold). Each is generic OpenID
//! Connect by issuer URL, or a preset that fills in what a well-known provider needs.

use std::collections::BTreeMap;

use crate::domain::Secret;

/// How the service talks to a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect: discovery from the issuer, id token checked against its JWKS.
    OpenIdConnect { issuer: String },
    /// GitHub (OAuth 2 without an id token): its user and verified-emails API.
    GitHub { web_url: String, api_url: String },
}

/// Who may get a new account by signing in with a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signup {
    /// Only people linked to an existing account sign in (the default).
    Off,
    /// Anyone the provider vouches for, with a verified address.
    On,
    /// Only verified addresses in these domains (lowercase).
    Domains(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ExternalProvider {
    /// The table's name: in paths (`/oauth/external/<name>/…`) and in the audit log.
    pub name: String,
    pub display_name: String,
    pub protocol: Protocol,
    pub client_id: String,
    pub client_secret: Secret,
    pub scopes: Vec<String>,
    pub signup: Signup,
    /// A claim naming the person's organization by domain (Google's `hd`): with
    /// `allowed_domains`, sign-up also needs it to name one of them, since an address in
    /// the domain alone can belong to a personal account.
    pub domain_claim: Option<String>,
    /// A claim (of the id token or userinfo) whose values map to roles.
    pub roles_claim: Option<String>,
    /// Claim value → roles it gives. Only these roles are ever given or taken away.
    pub roles: BTreeMap<String, Vec<String>>,
}

impl ExternalProvider {
    /// Every role the mapping can give.
    pub fn mapped_roles(&self) -> Vec<String> {
        let mut all: Vec<String> = self.roles.values().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    }

    /// One line for `check`: what it is, where, and who may sign up (no secret).
    pub fn describe(&self) -> String {
        let at = match &self.protocol {
            Protocol::OpenIdConnect { issuer } => format!("OpenID Connect at {issuer}"),
            Protocol::GitHub { web_url, .. } => format!("GitHub at {web_url}"),
        };
        let signup = match &self.signup {
            Signup::Off => "sign-up off".to_string(),
            Signup::On => "sign-up on".to_string(),
            Signup::Domains(d) => format!("sign-up for {}", d.join(", ")),
        };
        format!("{} ({}): {at}, client {}, {signup}", self.name, self.display_name, self.client_id)
    }
}

/// Microsoft's tenant id for personal accounts (`consumers`), as its tokens name it.
const MICROSOFT_CONSUMERS: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

const KEYS: &[&str] = &[
    "preset",
    "issuer",
    "tenant",
    "github_url",
    "api_url",
    "client_id",
    "client_secret",
    "client_secret_file",
    "display_name",
    "scopes",
    "allow_signup",
    "allowed_domains",
    "roles_claim",
    "roles",
    "domain_claim",
];

/// Reads every `[external_providers.<name>]` table; the message names the provider and key.
pub fn parse_providers(value: &toml::Value) -> Result<Vec<ExternalProvider>, String> {
    let toml::Value::Table(table) = value else {
        return Err("external_providers: expected tables like [external_providers.google]".into());
    };
    table
        .iter()
        .map(|(name, t)| parse_one(name, t).map_err(|e| format!("external_providers.{name}: {e}")))
        .collect()
}

fn parse_one(name: &str, value: &toml::Value) -> Result<ExternalProvider, String> {
    let valid_name = !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_name {
        return Err("the name must be 1–32 of a-z, 0-9, '-' and '_'".into());
    }
    let toml::Value::Table(t) = value else { return Err("expected a table".into()) };
    if let Some(unknown) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {unknown:?} (known: {})", KEYS.join(", ")));
    }
    let text = |key: &str| -> Result<Option<String>, String> {
        match t.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(format!("{key}: expected a non-empty string")),
        }
    };
    let list = |key: &str| -> Result<Vec<String>, String> {
        match t.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string).ok_or(format!("{key}: expected a list of strings")))
                .collect(),
            Some(_) => Err(format!("{key}: expected a list of strings")),
        }
    };
    let preset = text("preset")?;
    let (protocol, default_name, default_scopes) = match preset.as_deref() {
        None => {
            let issuer = text("issuer")?.ok_or("issuer: required (or a preset)")?;
            (
                Protocol::OpenIdConnect { issuer: checked_url("issuer", &issuer)? },
                name.to_string(),
                oidc_scopes(),
            )
        }
        Some("google") => {
            let issuer = text("issuer")?.unwrap_or_else(|| "https://accounts.google.com".into());
            (
                Protocol::OpenIdConnect { issuer: checked_url("issuer", &issuer)? },
                "Google".into(),
                oidc_scopes(),
            )
        }
        Some("gitlab") => {
            // gitlab.com, or a self-managed instance by its address.
            let issuer = text("issuer")?.unwrap_or_else(|| "https://gitlab.com".into());
            (
                Protocol::OpenIdConnect { issuer: checked_url("issuer", &issuer)? },
                "GitLab".into(),
                oidc_scopes(),
            )
        }
        Some("microsoft") => {
            let issuer = microsoft_issuer(text("tenant")?.as_deref())?;
            (Protocol::OpenIdConnect { issuer }, "Microsoft".into(), oidc_scopes())
        }
        Some("github") => {
            let web_url = text("github_url")?.unwrap_or_else(|| "https://github.com".into());
            let api_url = text("api_url")?.unwrap_or_else(|| "https://api.github.com".into());
            let protocol = Protocol::GitHub {
                web_url: checked_url("github_url", &web_url)?,
                api_url: checked_url("api_url", &api_url)?,
            };
            (protocol, "GitHub".into(), vec!["read:user".into(), "user:email".into()])
        }
        Some(other) => {
            return Err(format!("preset: expected google, microsoft, gitlab or github, got {other:?}"))
        }
    };
    if preset.as_deref() != Some("microsoft") && t.contains_key("tenant") {
        return Err("tenant: only for preset = \"microsoft\"".into());
    }
    let client_id = text("client_id")?.ok_or("client_id: required")?;
    let client_secret = match (text("client_secret")?, text("client_secret_file")?) {
        (Some(s), None) => Secret::new(s),
        (None, Some(path)) => {
            let s = std::fs::read_to_string(&path).map_err(|e| format!("client_secret_file {path}: {e}"))?;
            let s = s.trim();
            if s.is_empty() {
                return Err(format!("client_secret_file {path}: empty"));
            }
            Secret::new(s)
        }
        (Some(_), Some(_)) => return Err("client_secret and client_secret_file: give one".into()),
        (None, None) => return Err("client_secret or client_secret_file: required".into()),
    };
    let mut scopes = list("scopes")?;
    if scopes.is_empty() {
        scopes = default_scopes;
    }
    if matches!(protocol, Protocol::OpenIdConnect { .. }) && !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    let allow_signup = match t.get("allow_signup") {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => return Err("allow_signup: expected true or false".into()),
    };
    let domains: Vec<String> = list("allowed_domains")?.iter().map(|d| d.trim().to_lowercase()).collect();
    let signup = match (allow_signup, domains.is_empty()) {
        (false, true) => Signup::Off,
        (true, true) => Signup::On,
        (true, false) => Signup::Domains(domains),
        (false, false) => return Err("allowed_domains: needs allow_signup = true".into()),
    };
    let roles = match t.get("roles") {
        None => BTreeMap::new(),
        Some(toml::Value::Table(map)) => map
            .iter()
            .map(|(claim_value, roles)| {
                let roles = match roles {
                    toml::Value::String(r) => vec![r.clone()],
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            i.as_str().map(str::to_string).ok_or("roles: expected role names".to_string())
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err("roles: expected role names".to_string()),
                };
                Ok((claim_value.clone(), roles))
            })
            .collect::<Result<_, String>>()?,
        Some(_) => return Err("roles: expected a table of claim value = role(s)".into()),
    };
    let roles_claim = text("roles_claim")?;
    let domain_claim = match (text("domain_claim")?, preset.as_deref()) {
        (Some(claim), _) => Some(claim),
        (None, Some("google")) => Some("hd".to_string()),
        (None, _) => None,
    };
    if roles_claim.is_some() == roles.is_empty() {
        return Err("roles_claim and roles: give both or neither".into());
    }
    Ok(ExternalProvider {
        name: name.to_string(),
        display_name: text("display_name")?.unwrap_or(default_name),
        protocol,
        client_id,
        client_secret,
        scopes,
        signup,
        domain_claim,
        roles_claim,
        roles,
    })
}

fn oidc_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

/// Microsoft names each tenant's issuer by the tenant's id. SECURITY: the multi-tenant
/// endpoints (`common`, `organizations`) would accept every organization's users; a
/// tenant must be named.
fn microsoft_issuer(tenant: Option<&str>) -> Result<String, String> {
    let tenant = match tenant {
        None => {
            return Err(
                "tenant: required with preset = \"microsoft\" (your tenant id, or \"consumers\")".into()
            )
        }
        Some("consumers") => MICROSOFT_CONSUMERS,
        Some("common" | "organizations") => {
            return Err(
                "tenant: \"common\" and \"organizations\" let any organization in; give your tenant id"
                    .into(),
            )
        }
        Some(t) if t.len() == 36 && t.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') => t,
        Some(t) => return Err(format!("tenant: expected a tenant id (a GUID) or \"consumers\", got {t:?}")),
    };
    Ok(format!("https://login.microsoftonline.com/{tenant}/v2.0"))
}

/// HTTPS, or plain HTTP on this machine's loopback (a provider run beside the service).
fn checked_url(key: &str, value: &str) -> Result<String, String> {
    let url = url::Url::parse(value).map_err(|e| format!("{key}: not a URL ({e})"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(format!("{key}: must be https:// (plain http only on loopback), got {value:?}"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<Vec<ExternalProvider>, String> {
        let table: toml::Table = text.parse().unwrap();
        parse_providers(&table["external_providers"])
    }

    #[test]
    fn presets_fill_in_issuer_scopes_and_name() {
        let p = parse(
            "[external_providers.google]\npreset = \"google\"\nclient_id = \"id\"\nclient_secret = \"s\"\n\
             [external_providers.gh]\npreset = \"github\"\nclient_id = \"id\"\nclient_secret = \"s\"\n\
             [external_providers.ms]\npreset = \"microsoft\"\ntenant = \"consumers\"\nclient_id = \"i\"\nclient_secret = \"s\"\n",
        )
        .unwrap();
        let by_name = |n: &str| p.iter().find(|x| x.name == n).unwrap();
        assert_eq!(
            by_name("google").protocol,
            Protocol::OpenIdConnect { issuer: "https://accounts.google.com".into() }
        );
        assert_eq!(by_name("google").scopes, ["openid", "email", "profile"]);
        assert_eq!(by_name("google").signup, Signup::Off);
        assert_eq!(by_name("google").domain_claim.as_deref(), Some("hd"));
        assert_eq!(by_name("gh").domain_claim, None);
        assert_eq!(by_name("gh").display_name, "GitHub");
        assert_eq!(
            by_name("ms").protocol,
            Protocol::OpenIdConnect {
                issuer: "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0".into()
            }
        );
    }

    #[test]
    fn mistakes_are_named() {
        let base = "client_id = \"id\"\nclient_secret = \"s\"\n";
        let cases = [
            ("issuer = \"http://idp.example.com\"\n", "must be https://"),
            ("preset = \"microsoft\"\ntenant = \"common\"\n", "any organization"),
            ("issuer = \"https://x.example\"\nallowed_domains = [\"a.example\"]\n", "needs allow_signup"),
            ("issuer = \"https://x.example\"\nclient_secrt = \"oops\"\n", "unknown key \"client_secrt\""),
            ("issuer = \"https://x.example\"\nroles_claim = \"groups\"\n", "give both or neither"),
        ];
        for (extra, wanted) in cases {
            let e = parse(&format!("[external_providers.x]\n{base}{extra}")).unwrap_err();
            assert!(e.starts_with("external_providers.x: ") && e.contains(wanted), "{e}");
        }
        let e =
            parse("[external_providers.x]\nissuer = \"https://x.example\"\nclient_id = \"i\"\n").unwrap_err();
        assert!(e.contains("client_secret or client_secret_file"), "{e}");
    }

    #[test]
    fn signup_and_roles() {
        let p = parse(
            "[external_providers.corp]\nissuer = \"http://127.0.0.1:9000/\"\nclient_id = \"i\"\nclient_secret = \"s\"\n\
             scopes = [\"email\"]\nallow_signup = true\nallowed_domains = [\"Example.COM\"]\nroles_claim = \"groups\"\n\
             [external_providers.corp.roles]\nadmins = [\"admin\", \"support\"]\nstaff = \"support\"\n",
        )
        .unwrap();
        let corp = &p[0];
        assert_eq!(corp.protocol, Protocol::OpenIdConnect { issuer: "http://127.0.0.1:9000".into() });
        assert_eq!(corp.scopes, ["openid", "email"]);
        assert_eq!(corp.signup, Signup::Domains(vec!["example.com".into()]));
        assert_eq!(corp.mapped_roles(), ["admin", "support"]);
        assert!(!format!("{corp:?}").contains("\"s\""));
    }
}
