//! Exact amounts: money in fen (1/100 CNY), prices in micro-yuan (1e-6 CNY)
//! per hour, discounts in basis points. Integers all the way down, never a
//! float: the ledger has to balance to the fen on SQLite and PostgreSQL
//! alike, and an `i64` is stored the same on both.

use std::fmt;
use std::str::FromStr;

/// An amount of money in fen (0.01 CNY). Negative amounts are debts or debits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i64);

/// A price per hour (of a core, a GPU, a GB of memory) in micro-yuan, so
/// that 0.045 CNY per core-hour is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub i64);

/// A share or a discount in basis points (1/100 of a percent; 10,000 = 100 %).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BasisPoints(pub i64);

/// An amount that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{value}`: {why}")]
pub struct AmountError {
    pub what: &'static str,
    pub value: String,
    pub why: &'static str,
}

/// Parses a decimal with at most `decimals` places into an integer of
/// minor units (`"12.4"` with 2 places is 1240). No exponent, no thousands
/// separators, no float on the way.
fn parse_fixed(text: &str, decimals: u32, what: &'static str) -> Result<i64, AmountError> {
    let err = |why| AmountError { what, value: text.chars().take(64).collect(), why };
    if text.len() > 24 {
        return Err(err("at most 24 characters"));
    }
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(err("expected a number such as 12.50"));
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("expected digits and at most one `.`, such as 12.50"));
    }
    if fraction.len() > decimals as usize {
        return Err(err(match decimals {
            2 => "at most 2 decimals (fen)",
            4 => "at most 4 decimals",
            _ => "at most 6 decimals",
        }));
    }
    let scale = 10i64.pow(decimals);
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| err("too large"))? };
    let mut minor: i64 = 0;
    for (i, b) in fraction.bytes().enumerate() {
        minor += i64::from(b - b'0') * 10i64.pow(decimals - 1 - i as u32);
    }
    let value = whole.checked_mul(scale).and_then(|w| w.checked_add(minor)).ok_or_else(|| err("too large"))?;
    Ok(if negative { -value } else { value })
}

/// Writes `value` minor units with `decimals` places, keeping at least
/// `min_decimals` (trailing zeros beyond them dropped).
fn format_fixed(f: &mut fmt::Formatter<'_>, value: i64, decimals: u32, min_decimals: u32) -> fmt::Result {
    let scale = 10u64.pow(decimals);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let mut fraction = format!("{:0width$}", abs % scale, width = decimals as usize);
    while fraction.len() > min_decimals as usize && fraction.ends_with('0') {
        fraction.pop();
    }
    if fraction.is_empty() { write!(f, "{sign}{}", abs / scale) } else { write!(f, "{sign}{}.{fraction}", abs / scale) }
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn fen(self) -> i64 {
        self.0
    }

    /// `None` where the sum does not fit: an amount never wraps round.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `None` where the difference does not fit.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `times` this amount (a hold per array task times the tasks), `None`
    /// where the product does not fit.
    pub fn checked_mul(self, times: i64) -> Option<Money> {
        self.0.checked_mul(times).map(Money)
    }

    /// The sum, held at the largest or smallest amount instead of wrapping:
    /// for figures only shown (a total of rows), where a pinned extreme is
    /// visibly wrong and a wrapped one would look plausible.
    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for Money {
    /// Always two decimals: `12.40`, `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_fixed(f, self.0, 2, 2)
    }
}

impl FromStr for Money {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fixed(s, 2, "amount of CNY").map(Money)
    }
}

impl fmt::Display for Rate {
    /// Two decimals at least, up to six: `0.10`, `0.045`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_fixed(f, self.0, 6, 2)
    }
}

impl FromStr for Rate {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rate = parse_fixed(s, 6, "price")?;
        if rate < 0 {
            return Err(AmountError {
                what: "price",
                value: s.chars().take(64).collect(),
                why: "must not be negative",
            });
        }
        Ok(Rate(rate))
    }
}

impl BasisPoints {
    /// Parses a percentage with up to two decimals (`12.5` is 1,250 bp),
    /// from 0 to 100.
    pub fn parse_percent(s: &str) -> Result<BasisPoints, AmountError> {
        let bp = parse_fixed(s.trim().trim_end_matches('%'), 2, "percentage")?;
        if !(0..=10_000).contains(&bp) {
            return Err(AmountError {
                what: "percentage",
                value: s.chars().take(64).collect(),
                why: "must be between 0 and 100",
            });
        }
        Ok(BasisPoints(bp))
    }
}

impl fmt::Display for BasisPoints {
    /// As a percentage without the sign: `12.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_fixed(f, self.0, 2, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_and_prints_exactly() {
        for (text, fen, shown) in [
            ("12.40", 1240, "12.40"),
            ("12.4", 1240, "12.40"),
            ("5000", 500_000, "5000.00"),
            ("-0.05", -5, "-0.05"),
            (".5", 50, "0.50"),
            ("+3", 300, "3.00"),
            ("0", 0, "0.00"),
        ] {
            let money: Money = text.parse().unwrap();
            assert_eq!(money, Money(fen), "{text}");
            assert_eq!(money.to_string(), shown);
        }
        for bad in ["", "-", ".", "1.234", "1e3", "1,000", "abc", "1.2.3", "99999999999999999999"] {
            assert!(bad.parse::<Money>().is_err(), "{bad}");
        }
        assert_eq!(
            "1.234".parse::<Money>().unwrap_err().to_string(),
            "invalid amount of CNY `1.234`: at most 2 decimals (fen)"
        );
    }

    #[test]
    fn money_arithmetic_refuses_to_wrap() {
        let max = Money(i64::MAX);
        assert_eq!(Money(1240).checked_add(Money(-40)), Some(Money(1200)));
        assert_eq!(max.checked_add(Money(1)), None);
        assert_eq!(Money(i64::MIN).checked_add(Money(-1)), None);
        assert_eq!(Money(5).checked_sub(Money(7)), Some(Money(-2)));
        assert_eq!(Money(i64::MIN).checked_sub(Money(1)), None);
        assert_eq!(Money(-1).checked_sub(max), Some(Money(i64::MIN)));
        assert_eq!(Money(250).checked_mul(4), Some(Money(1000)));
        assert_eq!(Money(i64::MAX / 2 + 1).checked_mul(2), None);
        assert_eq!(max.saturating_add(Money(1)), max);
        assert_eq!(Money(i64::MIN).saturating_add(Money(-1)), Money(i64::MIN));
        // The amount of issue 19 parses (it fits an i64 exactly); the
        // ledger, not the parser, refuses it as too large to post.
        assert_eq!("92233720368547758.07".parse::<Money>(), Ok(max));
        assert!("92233720368547758.08".parse::<Money>().is_err());
    }

    #[test]
    fn rates_keep_six_decimals_and_percentages_two() {
        assert_eq!("0.045".parse::<Rate>(), Ok(Rate(45_000)));
        assert_eq!(Rate(45_000).to_string(), "0.045");
        assert_eq!(Rate(100_000).to_string(), "0.10");
        assert_eq!(Rate(2_000_000).to_string(), "2.00");
        assert!("-1".parse::<Rate>().is_err());
        assert_eq!(BasisPoints::parse_percent("12.5"), Ok(BasisPoints(1250)));
        assert_eq!(BasisPoints::parse_percent("30%"), Ok(BasisPoints(3000)));
        assert_eq!(BasisPoints(1250).to_string(), "12.5");
        assert_eq!(BasisPoints(3000).to_string(), "30");
        assert!(BasisPoints::parse_percent("101").is_err());
    }
}
