use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::day::VIETNAM;
use crate::{Error, Timestamp};

/// How instants are written in a day's file, as agreed with Tiki.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimeFormat {
    /// `rfc3339_vietnam`: `2023-04-14T09:30:00.123+07:00`, milliseconds,
    /// always `+07:00`. The default: a row's Vietnamese day (the day of its
    /// file) reads straight off its own timestamps.
    #[default]
    Rfc3339Vietnam,
    /// `rfc3339_utc`: `2023-04-14T02:30:00.123Z`, milliseconds.
    Rfc3339Utc,
    /// `unix_millis`: `1681439400123`, milliseconds since 1970-01-01 UTC.
    UnixMillis,
}

impl TimeFormat {
    /// The names the settings accept.
    pub const NAMES: [&'static str; 3] = ["rfc3339_vietnam", "rfc3339_utc", "unix_millis"];

    pub const fn name(self) -> &'static str {
        match self {
            TimeFormat::Rfc3339Vietnam => "rfc3339_vietnam",
            TimeFormat::Rfc3339Utc => "rfc3339_utc",
            TimeFormat::UnixMillis => "unix_millis",
        }
    }

    pub fn from_name(name: &str) -> Option<TimeFormat> {
        match name {
            "rfc3339_vietnam" => Some(TimeFormat::Rfc3339Vietnam),
            "rfc3339_utc" => Some(TimeFormat::Rfc3339Utc),
            "unix_millis" => Some(TimeFormat::UnixMillis),
            _ => None,
        }
    }

    /// Appends `at` to `buf`, without allocating (the writer reuses `buf` for
    /// every row). Digits below the millisecond are dropped, never rounded:
    /// rounding could carry 23:59:59.9995 into the next day's file.
    pub fn write(self, at: Timestamp, buf: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            TimeFormat::Rfc3339Vietnam => write_rfc3339(at, VIETNAM, b"+07:00", buf),
            TimeFormat::Rfc3339Utc => write_rfc3339(at, UtcOffset::UTC, b"Z", buf),
            TimeFormat::UnixMillis => {
                let millis = at.unix_timestamp_nanos().div_euclid(1_000_000);
                // Every instant `time` can hold is within ±10,000 years: a few
                // 10^14 ms, far inside i64.
                let millis = i64::try_from(millis).map_err(|_| unwritable(at))?;
                if millis < 0 {
                    buf.push(b'-');
                }
                push_u64(buf, millis.unsigned_abs());
                Ok(())
            }
        }
    }

    /// Reads an instant written in this format. Either RFC 3339 format reads
    /// any offset: the instant is the same, whoever wrote it.
    pub fn parse(self, text: &str) -> Option<Timestamp> {
        match self {
            TimeFormat::Rfc3339Vietnam | TimeFormat::Rfc3339Utc => {
                OffsetDateTime::parse(text, &Rfc3339).ok()
            }
            TimeFormat::UnixMillis => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let millis: i64 = text.parse().ok()?;
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
            }
        }
    }
}

fn unwritable(at: Timestamp) -> Error {
    Error::File(format!(
        "the instant {at} cannot be written in a day's file"
    ))
}

fn write_rfc3339(
    at: Timestamp,
    offset: UtcOffset,
    suffix: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), Error> {
    let local = at.checked_to_offset(offset).ok_or_else(|| unwritable(at))?;
    // RFC 3339 has four-digit years only.
    let year = u32::try_from(local.year())
        .ok()
        .filter(|year| *year <= 9999)
        .ok_or_else(|| unwritable(at))?;
    push_padded(buf, year, 4);
    buf.push(b'-');
    push_padded(buf, u32::from(u8::from(local.month())), 2);
    buf.push(b'-');
    push_padded(buf, u32::from(local.day()), 2);
    buf.push(b'T');
    push_padded(buf, u32::from(local.hour()), 2);
    buf.push(b':');
    push_padded(buf, u32::from(local.minute()), 2);
    buf.push(b':');
    push_padded(buf, u32::from(local.second()), 2);
    buf.push(b'.');
    push_padded(buf, u32::from(local.millisecond()), 3);
    buf.extend_from_slice(suffix);
    Ok(())
}

/// `value`'s last `width` decimal digits, zero-padded (`width` ≤ 10).
fn push_padded(buf: &mut Vec<u8>, mut value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let width = width.min(digits.len());
    for digit in digits[..width].iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
    buf.extend_from_slice(&digits[..width]);
}

/// `value` in decimal, without the formatting machinery: the writer calls
/// this several times a row.
pub(super) fn push_u64(buf: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn written(format: TimeFormat, at: Timestamp) -> String {
        let mut buf = Vec::new();
        format.write(at, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn times_are_written_in_vietnams_offset_with_milliseconds_by_default() {
        let at = datetime!(2023-04-14 02:30:00.123456 UTC);
        assert_eq!(
            written(TimeFormat::default(), at),
            "2023-04-14T09:30:00.123+07:00"
        );
    }

    #[test]
    fn utc_and_unix_millis_write_the_same_instant() {
        let at = datetime!(2023-04-14 09:30:00.123 +7);
        assert_eq!(
            written(TimeFormat::Rfc3339Utc, at),
            "2023-04-14T02:30:00.123Z"
        );
        assert_eq!(written(TimeFormat::UnixMillis, at), "1681439400123");
    }

    #[test]
    fn sub_millisecond_digits_are_dropped_not_rounded_into_the_next_day() {
        let at = datetime!(2023-04-14 23:59:59.999_9 +7);
        assert_eq!(
            written(TimeFormat::Rfc3339Vietnam, at),
            "2023-04-14T23:59:59.999+07:00"
        );
    }

    #[test]
    fn every_format_reads_back_what_it_wrote() {
        let at = datetime!(2023-04-14 09:30:00.123 +7);
        for format in [
            TimeFormat::Rfc3339Vietnam,
            TimeFormat::Rfc3339Utc,
            TimeFormat::UnixMillis,
        ] {
            assert_eq!(format.parse(&written(format, at)), Some(at), "{format:?}");
            assert_eq!(TimeFormat::from_name(format.name()), Some(format));
        }
        for bad in ["", "+1", "1.5", "2023-04-14 09:30:00"] {
            assert_eq!(TimeFormat::UnixMillis.parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers_are_written_in_plain_decimal() {
        for value in [0, 7, 10, 100_000, u64::MAX] {
            let mut buf = Vec::new();
            push_u64(&mut buf, value);
            assert_eq!(buf, value.to_string().into_bytes());
        }
    }
}
