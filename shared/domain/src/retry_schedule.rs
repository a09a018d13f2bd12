//! Delays between IPN attempts, and what they cost in SQS receives.

use std::time::Duration;

use crate::Error;

/// How far a retry delay is spread either way.
const MAX_JITTER: f64 = 0.1;

/// Delays between attempts, as data. The default is as patient as Tiki's own IPN
/// sender: 1 min, 5 min, 30 min, 1 h, 6 h, 12 h, 24 h.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule(
            [60, 300, 1_800, 3_600, 21_600, 43_200, 86_400]
                .map(Duration::from_secs)
                .to_vec(),
        )
    }
}

impl RetrySchedule {
    /// Parses `IPN_RETRY_DELAYS_SECONDS`, e.g. `1,1,1`.
    pub fn parse(seconds: &str) -> Result<RetrySchedule, Error> {
        let delays = seconds
            .split(',')
            .map(|s| s.trim().parse::<u64>().map(Duration::from_secs))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::InvalidRequest(format!("retry delays {seconds:?}: {e}")))?;
        if delays.is_empty() {
            return Err(Error::InvalidRequest(
                "retry delays must not be empty".into(),
            ));
        }
        Ok(RetrySchedule(delays))
    }

    /// Attempts in all: the first, then one after each delay.
    pub fn max_attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// How many times SQS delivers a job's message when every attempt fails:
    /// one per attempt, and one more each time a delay longer than `max_hide`
    /// (what one receive may hide a message for) is hidden again.
    pub fn receives_needed(&self, max_hide: Duration) -> u32 {
        let max_hide = max_hide.as_secs_f64().max(1.0);
        self.0
            .iter()
            .map(|delay| (delay.as_secs_f64() * (1.0 + MAX_JITTER) / max_hide).ceil() as u32)
            .sum::<u32>()
            + 1
    }

    /// The longest a job can take from its first attempt to its last, with
    /// every delay at its most jittered.
    pub fn longest(&self) -> Duration {
        self.0.iter().map(|d| d.mul_f64(1.0 + MAX_JITTER)).sum()
    }

    /// The delay before the next attempt once `attempts` have failed, spread by
    /// `jitter` in [-1, 1] over ±10% so retries from one outage do not arrive
    /// together. `None` when the schedule is spent.
    pub fn delay_after(&self, attempts: u32, jitter: f64) -> Option<Duration> {
        let base = *self.0.get(attempts.checked_sub(1)? as usize)?;
        Some(base.mul_f64(1.0 + MAX_JITTER * jitter.clamp(-1.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_as_patient_as_tikis_own() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 8);
        assert_eq!(s.delay_after(1, 0.0), Some(Duration::from_secs(60)));
        assert_eq!(s.delay_after(7, 0.0), Some(Duration::from_secs(86_400)));
        assert_eq!(s.delay_after(8, 0.0), None);
    }

    #[test]
    fn jitter_spreads_a_delay_by_at_most_ten_percent() {
        let s = RetrySchedule::parse("100").unwrap();
        assert_eq!(s.delay_after(1, 1.0), Some(Duration::from_secs(110)));
        assert_eq!(s.delay_after(1, -5.0), Some(Duration::from_secs(90)));
    }

    #[test]
    fn a_schedule_is_parsed_from_seconds() {
        assert_eq!(RetrySchedule::parse("1, 1,1").unwrap().max_attempts(), 4);
        assert!(RetrySchedule::parse("").is_err());
        assert!(RetrySchedule::parse("1,x").is_err());
    }

    #[test]
    fn delays_longer_than_one_hide_need_more_receives() {
        let s = RetrySchedule::default();
        // 12 h - 15 min per receive: the 12 h step takes two, the 24 h three.
        assert_eq!(s.receives_needed(Duration::from_secs(42_300)), 11);
        assert_eq!(s.receives_needed(Duration::from_secs(86_400 * 2)), 8);
        assert_eq!(s.longest(), Duration::from_secs(156_960).mul_f64(1.1));
    }
}
