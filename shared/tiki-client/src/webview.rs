//! Tiki's webview URL API (`POST /webview`): where to open TikiVIP for a user.

use serde::{Deserialize, Serialize};
use tikivip_domain::ResultCode;

use crate::Error;
use crate::wire::{self, Head};

#[derive(Serialize)]
pub(crate) struct Request<'a> {
    pub identify_code: &'a str,
    pub identify_phone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identify_fullname: Option<&'a str>,
}

/// The webview to open, and the page to send the user back to after paying.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Webview {
    pub url_open: String,
    pub url_checkout_result: String,
    pub request_id: String,
}

#[derive(Deserialize)]
struct Success {
    data: Webview,
}

pub fn answer(body: &[u8]) -> Result<Webview, Error> {
    let Head { code, message } = wire::parse(body)?;
    if code != ResultCode::Success {
        return Err(Error::Code(code, message));
    }
    wire::parse::<Success>(body).map(|success| success.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_urls_come_from_data_and_a_refusal_is_an_error() {
        let body = br#"{"code":0,"message":"success","data":{"url_open":"https://tiki.vn/apps/x",
            "url_checkout_result":"https://tiki.vn/apps/r","request_id":"r1"}}"#;
        assert_eq!(answer(body).unwrap().request_id, "r1");
        assert_eq!(
            answer(br#"{"code":1,"message":"phone"}"#),
            Err(Error::Code(ResultCode::InvalidRequest, "phone".into()))
        );
        assert!(matches!(
            answer(br#"{"code":0,"message":"ok"}"#),
            Err(Error::BadResponse(_))
        ));
    }
}
