//! `POST /v1/webview`: the partner's app asks where to open TikiVIP for one of
//! its users (SPEC.md Part 1, item 2), and the way back to Tiki after the
//! payment (item 3).
//!
//! The phone number and the name are personal data: their `Debug` and
//! [`Phone::masked`] / [`FullName::masked`] never show them whole, and neither
//! is stored.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::wire::Text;
use crate::{Error, Timestamp};

/// A Vietnamese mobile number, in the one form sent to Tiki: the national
/// 10-digit form, `0` and nine digits (`0912345678`).
///
/// Accepted as people type it: `0912345678`, `+84912345678`, `84912345678`,
/// `+84 (0) 912 345 678`, with spaces, dots, dashes or brackets between the
/// digits. A mobile number after the 2018 renumbering starts `03`, `05`,
/// `07`, `08` or `09`; anything else (a landline, too few or too many digits,
/// letters) is refused with a message that never repeats the number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// The leading digits of Vietnam's mobile ranges (after the `0`).
    const MOBILE_PREFIXES: &[u8] = b"35789";

    pub fn parse(typed: &str) -> Result<Phone, Error> {
        let refuse = |why: &str| {
            Err(Error::InvalidRequest(format!(
                "identify_phone {why}; expected a Vietnamese mobile number such as 0912345678 or +84912345678"
            )))
        };
        let mut international = false;
        let mut digits = String::with_capacity(12);
        for c in typed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                // `+` only once, before the first digit: `+84…`, `(+84) …`.
                '+' if digits.is_empty() && !international => international = true,
                ' ' | '.' | '-' | '(' | ')' | '\u{a0}' => {}
                _ => return refuse("holds a character that is not a digit"),
            }
            if digits.len() > 13 {
                return refuse("is too long");
            }
        }
        // +84 is Vietnam; `84` without the plus only as the 11-digit form.
        let national = if international {
            match digits.strip_prefix("84") {
                // `+84 (0) 912…`: the trunk 0 typed after the country code.
                Some(rest) => rest.strip_prefix('0').unwrap_or(rest).to_owned(),
                None => return refuse("is not a Vietnamese (+84) number"),
            }
        } else if digits.len() == 11 && digits.starts_with("84") {
            digits[2..].to_owned()
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest.to_owned()
        } else {
            return refuse("does not start with 0, 84 or +84");
        };
        if national.len() != 9 {
            return refuse("does not have 10 digits in its national form");
        }
        if !Self::MOBILE_PREFIXES.contains(&national.as_bytes()[0]) {
            return refuse("is not in a Vietnamese mobile range (03, 05, 07, 08, 09)");
        }
        Ok(Phone(format!("0{national}")))
    }

    /// The number as sent to Tiki: `0` and nine digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For logs: the first three and the last two digits (`091*****78`).
    pub fn masked(&self) -> String {
        let (head, tail) = (&self.0[..3], &self.0[self.0.len() - 2..]);
        format!("{head}{}{tail}", "*".repeat(self.0.len() - 5))
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Phone::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Free text that must hold something: no control characters, not blank,
/// trimmed, at most `MAX` characters.
fn required_text<const MAX: usize>(field: &str, value: String) -> Result<Text<MAX>, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::InvalidRequest(format!("{field} must not be blank")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(format!(
            "{field} holds a control character"
        )));
    }
    Text::new(value)
        .map_err(|_| Error::InvalidRequest(format!("{field} is longer than {MAX} characters")))
}

/// The partner's id of its user, which Tiki ties the TikiVIP membership to.
/// At most 100 characters, as `customer.identify_code` at create.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IdentifyCode(Text<100>);

impl IdentifyCode {
    pub fn parse(value: impl Into<String>) -> Result<IdentifyCode, Error> {
        required_text("identify_code", value.into()).map(IdentifyCode)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl<'de> Deserialize<'de> for IdentifyCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IdentifyCode::parse(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The user's full name, as the partner knows it (Vietnamese, any script).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FullName(Text<200>);

impl FullName {
    pub fn parse(value: impl Into<String>) -> Result<FullName, Error> {
        required_text("identify_fullname", value.into()).map(FullName)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// For logs: each word's first letter (`N. V. A.` for `Nguyễn Văn An`).
    pub fn masked(&self) -> String {
        self.0
            .as_str()
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .map(|initial| format!("{initial}."))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FullName({})", self.masked())
    }
}

impl<'de> Deserialize<'de> for FullName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        FullName::parse(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// `POST /v1/webview`'s body. Unknown fields are refused: a misspelt
/// `identify_fullname` would otherwise be dropped without a word.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebviewRequest {
    pub identify_code: IdentifyCode,
    pub identify_phone: Phone,
    #[serde(default)]
    pub identify_fullname: Option<FullName>,
}

/// Tiki's answer, as `POST /v1/webview` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebviewUrls {
    pub url_open: String,
    pub url_checkout_result: String,
    pub request_id: String,
}

/// Where Tiki said to send a user back after paying, kept from a webview
/// request until the transaction Tiki then creates for that user
/// (`customer.identify_code` at create names the user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutReturn {
    pub identify_code: IdentifyCode,
    pub url_checkout_result: Text<2048>,
    /// Tiki's `request_id` of the webview request.
    pub request_id: String,
    pub created_at: Timestamp,
}

impl CheckoutReturn {
    /// How long a webview's checkout-result URL waits for its transaction:
    /// a user who opened TikiVIP a day ago and pays now has opened it again.
    pub const LIFETIME: Duration = Duration::from_secs(24 * 3600);

    /// What Tiki answered for `identify_code`; `None` if the URL is not one
    /// the payment screen can send a user to.
    pub fn new(identify_code: IdentifyCode, urls: &WebviewUrls, at: Timestamp) -> Option<Self> {
        Some(CheckoutReturn {
            identify_code,
            url_checkout_result: return_url(&urls.url_checkout_result)?,
            request_id: urls.request_id.clone(),
            created_at: at,
        })
    }

    pub fn expires_at(&self) -> Timestamp {
        self.created_at + Self::LIFETIME
    }

    pub fn is_fresh(&self, now: Timestamp) -> bool {
        now < self.expires_at()
    }
}

/// An absolute `http(s)` URL of at most 2048 characters, or `None`.
fn return_url(url: &str) -> Option<Text<2048>> {
    let url = url.trim();
    let absolute = ["https://", "http://"]
        .iter()
        .any(|scheme| url.len() > scheme.len() && url[..scheme.len()].eq_ignore_ascii_case(scheme));
    if !absolute || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Text::new(url).ok()
}

/// Where to send the user back once a transaction's payment ends: the
/// `redirect_url` Tiki gave at create, else the checkout-result URL of the
/// user's last webview request while it is fresh, else nowhere.
pub fn way_back(
    redirect_url: Option<Text<2048>>,
    webview: Option<&CheckoutReturn>,
    now: Timestamp,
) -> Option<Text<2048>> {
    redirect_url.or_else(|| {
        webview
            .filter(|webview| webview.is_fresh(now))
            .map(|webview| webview.url_checkout_result.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResultCode;
    use crate::wire::parse_json;

    #[test]
    fn every_typed_form_of_a_mobile_number_becomes_the_national_ten_digits() {
        for typed in [
            "0912345678",
            "+84912345678",
            "84912345678",
            "+84 912 345 678",
            "0912.345.678",
            "091-234-5678",
            " 0912 345 678 ",
            "+84 (0) 912 345 678",
            "(+84) 912-345-678",
            "+840912345678",
        ] {
            assert_eq!(
                Phone::parse(typed).map(|p| p.as_str().to_owned()),
                Ok("0912345678".to_owned()),
                "{typed:?}"
            );
        }
        for mobile in ["0312345678", "0512345678", "0712345678", "0812345678"] {
            assert!(Phone::parse(mobile).is_ok(), "{mobile}");
        }
    }

    #[test]
    fn what_is_not_a_vietnamese_mobile_number_is_refused_without_repeating_it() {
        for typed in [
            "",
            "   ",
            "091234567",   // 9 digits
            "09123456789", // 11 digits
            "912345678",   // no trunk 0
            "+1 415 555 0100",
            "+8491234567", // +84 and 8 digits
            "0212345678",  // 02x: a landline range
            "0112345678",
            "0912345abc",
            "0912345678x",
            "0912/345/678",
            "849123456789", // 84 and 10 digits
            "0٩12345678",   // an Arabic-Indic digit
            "++84912345678",
        ] {
            let refused = Phone::parse(typed).unwrap_err();
            assert_eq!(refused.code(), ResultCode::InvalidRequest, "{typed:?}");
            let message = refused.to_string();
            assert!(message.starts_with("identify_phone"), "{message}");
            // The reason, before the fixed example of a good number.
            let reason = message.split(';').next().unwrap();
            let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
            assert!(
                digits.len() < 4 || !reason.contains(&digits[..4]),
                "{message} repeats {typed:?}"
            );
        }
    }

    #[test]
    fn a_phone_number_and_a_name_are_masked_in_debug() {
        let phone = Phone::parse("+84912345678").unwrap();
        assert_eq!(phone.masked(), "091*****78");
        assert_eq!(format!("{phone:?}"), "Phone(091*****78)");
        let name = FullName::parse("  Nguyễn Văn An ").unwrap();
        assert_eq!(name.as_str(), "Nguyễn Văn An");
        assert_eq!(name.masked(), "N. V. A.");
        assert!(!format!("{name:?}").contains("Nguyễn"));
    }

    #[test]
    fn a_webview_request_is_read_strictly() {
        let ok: WebviewRequest = parse_json(
            r#"{"identify_code":"user-1","identify_phone":"84 912 345 678","identify_fullname":"Trần Thị B"}"#
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(ok.identify_phone.as_str(), "0912345678");
        assert_eq!(ok.identify_code.as_str(), "user-1");
        let refused = |body: &str| parse_json::<WebviewRequest>(body.as_bytes()).unwrap_err();
        for (body, field) in [
            (r#"{"identify_phone":"0912345678"}"#, "identify_code"),
            (r#"{"identify_code":"u"}"#, "identify_phone"),
            (
                r#"{"identify_code":" ","identify_phone":"0912345678"}"#,
                "identify_code",
            ),
            (
                r#"{"identify_code":"u","identify_phone":912345678}"#,
                "identify_phone",
            ),
            (
                r#"{"identify_code":"u","identify_phone":"0912345678","identify_fullname":""}"#,
                "identify_fullname",
            ),
            (
                r#"{"identify_code":"u","identify_phone":"0912345678","fullname":"x"}"#,
                "fullname",
            ),
        ] {
            let err = refused(body);
            assert_eq!(err.code(), ResultCode::InvalidRequest, "{body}");
            assert!(err.to_string().contains(field), "{body}: {err}");
        }
    }

    fn urls(url_checkout_result: &str) -> WebviewUrls {
        WebviewUrls {
            url_open: "https://tiki.vn/apps/tikivip".into(),
            url_checkout_result: url_checkout_result.into(),
            request_id: "r-1".into(),
        }
    }

    #[test]
    fn the_way_back_is_the_create_redirect_url_then_a_fresh_webview_result() {
        let at = Timestamp::UNIX_EPOCH;
        let code = IdentifyCode::parse("user-1").unwrap();
        let webview = CheckoutReturn::new(code, &urls("https://tiki.vn/apps/result?r=1"), at)
            .expect("an https URL");
        let given = Text::new("https://tiki.vn/given").unwrap();
        assert_eq!(
            way_back(Some(given.clone()), Some(&webview), at),
            Some(given)
        );
        assert_eq!(
            way_back(None, Some(&webview), at).unwrap().as_str(),
            "https://tiki.vn/apps/result?r=1"
        );
        let later = at + CheckoutReturn::LIFETIME;
        assert_eq!(way_back(None, Some(&webview), later), None);
        assert_eq!(way_back(None, None, at), None);
    }

    #[test]
    fn only_an_absolute_http_url_is_a_way_back() {
        let code = IdentifyCode::parse("u").unwrap();
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "https://",
            "https://a b",
            "",
        ] {
            assert!(
                CheckoutReturn::new(code.clone(), &urls(bad), Timestamp::UNIX_EPOCH).is_none(),
                "{bad:?}"
            );
        }
    }
}
