use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Tiki's result codes, used in both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResultCode {
    Success = 0,
    InvalidRequest = 1,
    SystemError = 2,
    NotFound = 3,
    /// The transaction does not belong to the partner (or not to this client).
    NotThePartners = 4,
    InvalidAmount = 5,
    Cancelled = 6,
}

impl ResultCode {
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    pub const fn from_code(code: i64) -> Option<ResultCode> {
        Some(match code {
            0 => ResultCode::Success,
            1 => ResultCode::InvalidRequest,
            2 => ResultCode::SystemError,
            3 => ResultCode::NotFound,
            4 => ResultCode::NotThePartners,
            5 => ResultCode::InvalidAmount,
            6 => ResultCode::Cancelled,
            _ => return None,
        })
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_u8().fmt(f)
    }
}

impl Serialize for ResultCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for ResultCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(deserializer)?;
        ResultCode::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown result code {code}")))
    }
}

/// Every answer, both ways: `{"code", "message", "data"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub code: ResultCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

impl<T> Envelope<T> {
    pub fn success(data: T) -> Self {
        Envelope {
            code: ResultCode::Success,
            message: "success".into(),
            data: Some(data),
        }
    }

    pub fn failure(code: ResultCode, message: impl Into<String>) -> Self {
        Envelope {
            code,
            message: message.into(),
            data: None,
        }
    }
}
