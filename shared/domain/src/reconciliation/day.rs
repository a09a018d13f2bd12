use std::fmt;
use std::str::FromStr;

use time::macros::{format_description, offset};
use time::{Date, Duration, PrimitiveDateTime, Time, UtcOffset};

use crate::{Error, Timestamp};

/// Vietnam's offset: reconciliation days are Vietnamese calendar days.
pub const VIETNAM: UtcOffset = offset!(+7);

/// A reconciliation day: a calendar day in Vietnam (UTC+7), from 00:00:00.000
/// to 23:59:59.999999999 local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReconDay(Date);

impl ReconDay {
    pub const fn new(date: Date) -> Self {
        ReconDay(date)
    }

    /// The Vietnamese day `at` falls in, whatever offset it was written with.
    pub fn of(at: Timestamp) -> Self {
        ReconDay(at.to_offset(VIETNAM).date())
    }

    pub const fn date(self) -> Date {
        self.0
    }

    /// The day before, as a scheduled run on the morning of T+1 wants.
    pub fn previous(self) -> Option<Self> {
        self.0.previous_day().map(ReconDay)
    }

    pub fn next(self) -> Option<Self> {
        self.0.next_day().map(ReconDay)
    }

    /// The first instant of the day.
    pub fn start(self) -> Timestamp {
        PrimitiveDateTime::new(self.0, Time::MIDNIGHT).assume_offset(VIETNAM)
    }

    /// The first instant of the next day: the day is `[start, end)`.
    pub fn end(self) -> Timestamp {
        self.start() + Duration::DAY
    }

    /// `YYYYMMDD`, as in Tiki's file names.
    pub fn compact(self) -> String {
        let format = format_description!("[year][month][day]");
        self.0.format(&format).unwrap_or_default()
    }
}

/// `YYYY-MM-DD`.
impl fmt::Display for ReconDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!("[year]-[month]-[day]");
        match self.0.format(&format) {
            Ok(text) => f.write_str(&text),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// `YYYY-MM-DD` or `YYYYMMDD`.
impl FromStr for ReconDay {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let dashed = format_description!("[year]-[month]-[day]");
        let compact = format_description!("[year][month][day]");
        Date::parse(s, &dashed)
            .or_else(|_| Date::parse(s, &compact))
            .map(ReconDay)
            .map_err(|_| Error::InvalidRequest(format!("{s:?} is not a date (YYYY-MM-DD)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_last_millisecond_of_a_vietnamese_day_belongs_to_that_day() {
        let day = ReconDay::of(datetime!(2023-04-14 23:59:59.999 +7));
        assert_eq!(day.to_string(), "2023-04-14");
    }

    #[test]
    fn midnight_in_vietnam_starts_the_next_day() {
        let day = ReconDay::of(datetime!(2023-04-15 00:00:00.000 +7));
        assert_eq!(day.to_string(), "2023-04-15");
    }

    #[test]
    fn days_are_vietnamese_not_utc() {
        // 17:00 UTC is midnight in Vietnam.
        assert_eq!(
            ReconDay::of(datetime!(2023-04-14 16:59:59.999 UTC)).compact(),
            "20230414"
        );
        assert_eq!(
            ReconDay::of(datetime!(2023-04-14 17:00:00 UTC)).compact(),
            "20230415"
        );
    }

    #[test]
    fn a_day_runs_from_local_midnight_to_the_next() {
        let day: ReconDay = "2023-04-14".parse().unwrap();
        assert_eq!(day.start(), datetime!(2023-04-13 17:00 UTC));
        assert_eq!(day.end(), datetime!(2023-04-14 17:00 UTC));
    }

    #[test]
    fn a_day_reads_in_both_forms_and_refuses_anything_else() {
        let dashed: ReconDay = "2023-04-14".parse().unwrap();
        let compact: ReconDay = "20230414".parse().unwrap();
        assert_eq!(dashed, compact);
        for bad in ["2023-02-30", "14/04/2023", "", "2023-4-14x"] {
            assert!(bad.parse::<ReconDay>().is_err(), "{bad:?}");
        }
    }
}
