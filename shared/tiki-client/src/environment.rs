//! Which Tiki the client talks to. One setting picks the environment, and with
//! it the base URL, so that sandbox and production cannot be mixed (Tiki's
//! warning: never use sandbox keys against production or the reverse).

use std::fmt;
use std::net::IpAddr;

use http::Uri;

use crate::Error;

const PRODUCTION_BASE: &str = "https://api.tiki.vn/miniapp/tikivip/";
const SANDBOX_BASE: &str = "https://api.tala.xyz/miniapp/tikivip/";
/// The Tini App platform's open API (its order API), by the same environment.
const TINIAPP_PRODUCTION_BASE: &str = "https://api.tiki.vn/tiniapp-open-api/";
const TINIAPP_SANDBOX_BASE: &str = "https://api.tala.xyz/tiniapp-open-api/";

/// Tiki's API, by environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TikiEnvironment {
    Production,
    Sandbox,
    /// A stand-in on this machine, such as `tools/tiki-simulator`.
    Local(LoopbackUrl),
}

/// An `http://` URL on this machine (`127.0.0.0/8`, `::1` or `localhost`):
/// nothing else can be called outside Tiki's two official bases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopbackUrl(String);

impl LoopbackUrl {
    pub fn parse(url: &str) -> Result<LoopbackUrl, Error> {
        let refuse = |why: &str| Err(Error::Config(format!("local Tiki base URL {url:?} {why}")));
        let parsed = match url.parse::<Uri>() {
            Ok(parsed) => parsed,
            Err(error) => return refuse(&format!("is not a URL: {error}")),
        };
        if parsed.scheme_str() != Some("http") {
            return refuse("must start with http://");
        }
        // The host of an IPv6 address is written in brackets, as in the URL.
        let loopback = match parsed.host() {
            Some("localhost") => true,
            Some(host) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        };
        if !loopback {
            return refuse("is not on this machine (127.0.0.1, ::1 or localhost)");
        }
        if parsed.query().is_some() || url.contains('#') {
            return refuse("must not have a query or fragment");
        }
        Ok(LoopbackUrl(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TikiEnvironment {
    /// A local stand-in at `url`, which must be a loopback `http://` URL.
    pub fn local(url: &str) -> Result<TikiEnvironment, Error> {
        LoopbackUrl::parse(url).map(TikiEnvironment::Local)
    }

    /// Tiki's API base; calls go to this URL joined with `/payment/ipn`,
    /// `/transaction` or `/webview`.
    pub fn base_url(&self) -> &str {
        match self {
            TikiEnvironment::Production => PRODUCTION_BASE,
            TikiEnvironment::Sandbox => SANDBOX_BASE,
            TikiEnvironment::Local(url) => url.as_str(),
        }
    }

    /// The Tini App platform's API base of the same environment; calls go to
    /// it joined with `/order`. A local stand-in serves both APIs at one base.
    pub fn tiniapp_base_url(&self) -> &str {
        match self {
            TikiEnvironment::Production => TINIAPP_PRODUCTION_BASE,
            TikiEnvironment::Sandbox => TINIAPP_SANDBOX_BASE,
            TikiEnvironment::Local(url) => url.as_str(),
        }
    }

    /// From `TIKI_ENVIRONMENT` and `TIKI_BASE_URL`, an empty variable counting
    /// as unset (SAM passes an unset parameter as ""); see
    /// [`TikiEnvironment::from_settings`].
    pub fn from_env() -> Result<TikiEnvironment, Error> {
        TikiEnvironment::from_settings(
            env_setting("TIKI_ENVIRONMENT")?.as_deref(),
            env_setting("TIKI_BASE_URL")?.as_deref(),
        )
    }

    /// The environment from its two settings, `None` when unset:
    ///
    /// - `production` or `sandbox`: Tiki's official base. A base URL may be
    ///   given only if it is that same base; anything else is a mix-up.
    /// - `local`: the base URL is required and must be a loopback `http://` URL.
    /// - no environment: a loopback base URL means `local` (a convenience for
    ///   development); any other base URL, or none, is refused.
    pub fn from_settings(
        environment: Option<&str>,
        base_url: Option<&str>,
    ) -> Result<TikiEnvironment, Error> {
        let official = |env: TikiEnvironment| match base_url {
            Some(url) if !same_base(url, env.base_url()) => Err(Error::Config(format!(
                "TIKI_BASE_URL={url} contradicts TIKI_ENVIRONMENT={env}, whose base is {}; \
                 unset TIKI_BASE_URL or fix the environment",
                env.base_url()
            ))),
            _ => Ok(env),
        };
        match (environment, base_url) {
            (Some("production"), _) => official(TikiEnvironment::Production),
            (Some("sandbox"), _) => official(TikiEnvironment::Sandbox),
            (Some("local"), Some(url)) => TikiEnvironment::local(url),
            (Some("local"), None) => Err(Error::Config(
                "TIKI_ENVIRONMENT=local needs TIKI_BASE_URL, e.g. http://127.0.0.1:9001".into(),
            )),
            (Some(other), _) => Err(Error::Config(format!(
                "TIKI_ENVIRONMENT={other:?} is none of production, sandbox, local"
            ))),
            (None, Some(url)) => TikiEnvironment::local(url).map_err(|_| {
                Error::Config(format!(
                    "TIKI_BASE_URL={url} without TIKI_ENVIRONMENT: only a loopback URL \
                     may stand alone; set TIKI_ENVIRONMENT=production or sandbox"
                ))
            }),
            (None, None) => Err(Error::Config(
                "TIKI_ENVIRONMENT is not set (production, sandbox or local)".into(),
            )),
        }
    }
}

impl fmt::Display for TikiEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TikiEnvironment::Production => "production",
            TikiEnvironment::Sandbox => "sandbox",
            TikiEnvironment::Local(_) => "local",
        })
    }
}

/// Equal but for a trailing slash, which changes nothing of where calls go.
fn same_base(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// A variable's value; unset and empty alike are `None`.
pub(crate) fn env_setting(name: &str) -> Result<Option<String>, Error> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::Config(format!("{name} is not valid UTF-8")))
        }
    }
}
