//! A custom domain's base path (an API mapping such as
//! `https://api.partner.vn/tikivip` → this API): the setting `API_BASE_PATH`.
//!
//! Callers sign the path without the base (SPEC.md: "for this project's API it
//! starts at `/v1/`"), while API Gateway may hand the function a `rawPath`
//! that still begins with the mapping's path. Each HTTP function takes the
//! base path off the request's URI, once, before anything reads it, so that
//! the signature is verified over exactly what the caller signed, and routes
//! see `/v1/…`. A path without the base is left as it is, so the setting is
//! right whichever of the two API Gateway does.

use std::fmt;

use http::Uri;
use http::uri::PathAndQuery;
use lambda_http::Request;

use crate::Error;

/// `API_BASE_PATH`: empty (no custom domain, or one mapped at `/`), or
/// `/segment[/segment…]` without a trailing slash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BasePath(String);

impl BasePath {
    /// Reads `API_BASE_PATH`; unset or empty is no base path.
    pub fn from_env() -> Result<BasePath, Error> {
        BasePath::parse(&std::env::var("API_BASE_PATH").unwrap_or_default())
    }

    pub fn parse(value: &str) -> Result<BasePath, Error> {
        let value = value.trim();
        let trimmed = value.trim_end_matches('/');
        if trimmed.is_empty() {
            return Ok(BasePath::default());
        }
        let valid = trimmed.starts_with('/')
            && trimmed[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            });
        if !valid {
            return Err(Error::Config(format!(
                "API_BASE_PATH={value:?} is not a path such as /tikivip (letters, digits, - . _ ~)"
            )));
        }
        Ok(BasePath(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The path and query without the base path in front, if it is there
    /// (as a whole segment: `/tikivipx/…` keeps its path).
    pub fn strip<'a>(&self, path_and_query: &'a str) -> &'a str {
        if self.0.is_empty() {
            return path_and_query;
        }
        match path_and_query.strip_prefix(self.0.as_str()) {
            Some(rest) if rest.starts_with('/') => rest,
            _ => path_and_query,
        }
    }

    /// The request as the function's routes and signature check read it: its
    /// URI without the base path (the raw path extension is kept as given).
    pub fn strip_request(&self, mut request: Request) -> Request {
        if self.0.is_empty() {
            return request;
        }
        let uri = request.uri();
        let Some(path_and_query) = uri.path_and_query().map(PathAndQuery::as_str) else {
            return request;
        };
        let stripped = self.strip(path_and_query);
        if stripped.len() == path_and_query.len() {
            return request;
        }
        let mut parts = uri.clone().into_parts();
        // A suffix of a valid path-and-query is one too.
        parts.path_and_query = stripped.parse().ok();
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
        request
    }
}

impl fmt::Display for BasePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "(none)" } else { &self.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_path_is_a_path_of_plain_segments() {
        assert_eq!(BasePath::parse("").unwrap(), BasePath::default());
        assert_eq!(BasePath::parse("/").unwrap(), BasePath::default());
        assert_eq!(BasePath::parse("/tikivip/").unwrap().as_str(), "/tikivip");
        assert_eq!(BasePath::parse("/a/b-c.d").unwrap().as_str(), "/a/b-c.d");
        for bad in ["tikivip", "/a//b", "/a b", "/a?b", "/%20"] {
            assert!(BasePath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_a_whole_leading_base_path_is_taken_off() {
        let base = BasePath::parse("/tikivip").unwrap();
        assert_eq!(
            base.strip("/tikivip/v1/transactions?a=1"),
            "/v1/transactions?a=1"
        );
        assert_eq!(base.strip("/v1/transactions"), "/v1/transactions");
        assert_eq!(base.strip("/tikivipx/v1"), "/tikivipx/v1");
        assert_eq!(base.strip("/tikivip"), "/tikivip");
        assert_eq!(BasePath::default().strip("/tikivip/v1"), "/tikivip/v1");
    }

    #[test]
    fn the_request_uri_loses_the_base_path_and_keeps_the_rest() {
        let base = BasePath::parse("/tikivip").unwrap();
        let request = http::Request::builder()
            .uri("https://api.partner.vn/tikivip/v1/transactions/T%2F1?x=H%C3%A0")
            .body(lambda_http::Body::Empty)
            .unwrap();
        let stripped = base.strip_request(request);
        assert_eq!(
            stripped.uri().to_string(),
            "https://api.partner.vn/v1/transactions/T%2F1?x=H%C3%A0"
        );
    }
}
