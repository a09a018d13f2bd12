use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Error;

/// An amount of Vietnamese đồng.
///
/// VND has no minor unit, so an amount is a whole number. It is bounded by
/// [`Vnd::MAX`] so that no sum of amounts can overflow and no absurd figure is
/// ever stored; arithmetic is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Vnd(u64);

impl Vnd {
    pub const ZERO: Vnd = Vnd(0);
    /// 100 billion đồng: far beyond any membership price, far below any overflow.
    pub const MAX: Vnd = Vnd(100_000_000_000);

    /// An amount from a whole number of đồng, zero included.
    pub fn new(dong: u64) -> Result<Vnd, Error> {
        if dong > Self::MAX.0 {
            return Err(Error::InvalidAmount(format!(
                "amount {dong} exceeds the maximum of {} VND",
                Self::MAX.0
            )));
        }
        Ok(Vnd(dong))
    }

    /// An amount a customer pays or gets back: at least 1 đồng.
    pub fn positive(dong: u64) -> Result<Vnd, Error> {
        if dong == 0 {
            return Err(Error::InvalidAmount(
                "amount must be greater than zero".into(),
            ));
        }
        Vnd::new(dong)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0
            .checked_add(other.0)
            .filter(|sum| *sum <= Self::MAX.0)
            .map(Vnd)
    }

    pub fn checked_sub(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_sub(other.0).map(Vnd)
    }
}

impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Amounts in requests: a JSON integer of at least 1 đồng. Strings, fractions
/// (even `1.0`), negatives, `null` and absurd sizes are refused.
impl<'de> Deserialize<'de> for Vnd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Vnd;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive whole number of VND")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Vnd, E> {
                Vnd::positive(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Vnd, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom("amount must be greater than zero")),
                }
            }
        }
        deserializer.deserialize_u64(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Vnd, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_a_whole_positive_amount() {
        assert_eq!(parse("100000").unwrap(), Vnd::new(100_000).unwrap());
    }

    #[test]
    fn refuses_zero_negative_fraction_string_null_and_absurd() {
        for bad in [
            "0",
            "-1",
            "1.5",
            "1.0",
            "\"100\"",
            "null",
            "1e3",
            "100000000001",
            "18446744073709551616",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn arithmetic_is_checked_against_the_bound() {
        assert_eq!(Vnd::MAX.checked_add(Vnd::new(1).unwrap()), None);
        assert_eq!(Vnd::ZERO.checked_sub(Vnd::new(1).unwrap()), None);
        assert_eq!(
            Vnd::new(7).unwrap().checked_sub(Vnd::new(2).unwrap()),
            Some(Vnd::new(5).unwrap())
        );
    }
}
