//! Go's reference-time layouts (`Mon Jan 2 15:04:05 MST 2006`) for the
//! `timestamp` function, always in UTC. Tokens are recognised exactly where
//! Go's `nextStdChunk` recognises them; everything else is literal text.

use time::OffsetDateTime;

use crate::TemplateError;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One layout token.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Chunk {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm {
        upper: bool,
    },
    /// Zone text, fixed in UTC (`MST` is `UTC`, `Z07:00` is `Z`, ...).
    Fixed(&'static str),
    Frac {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// `layout` rendered for the instant `unix_nanos` (nanoseconds since the
/// Unix epoch) in UTC.
pub(crate) fn format(layout: &str, unix_nanos: i128) -> Result<String, TemplateError> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(unix_nanos)
        .map_err(|_| TemplateError::TimeOutOfRange)?;
    let mut out = String::with_capacity(layout.len() + 16);
    let mut rest = layout;
    while let Some(c) = rest.chars().next() {
        match chunk_at(rest) {
            Some((chunk, len)) => {
                write_chunk(&mut out, chunk, &t);
                rest = &rest[len..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Ok(out)
}

fn starts_lower(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
}

/// The token at the start of `s` and its length in bytes.
fn chunk_at(s: &str) -> Option<(Chunk, usize)> {
    let b = s.as_bytes();
    let at = |p: &str| s.starts_with(p);
    let first_of = |options: &[(&str, Chunk)]| {
        options
            .iter()
            .find(|(p, _)| at(p))
            .map(|(p, c)| (*c, p.len()))
    };
    match *b.first()? {
        b'J' if at("January") => Some((Chunk::LongMonth, 7)),
        b'J' if at("Jan") && !starts_lower(&s[3..]) => Some((Chunk::Month, 3)),
        b'M' if at("Monday") => Some((Chunk::LongWeekDay, 6)),
        b'M' if at("Mon") && !starts_lower(&s[3..]) => Some((Chunk::WeekDay, 3)),
        b'M' if at("MST") => Some((Chunk::Fixed("UTC"), 3)),
        b'0' => match b.get(1) {
            Some(d @ b'1'..=b'6') => {
                let zero = [
                    Chunk::ZeroMonth,
                    Chunk::ZeroDay,
                    Chunk::ZeroHour12,
                    Chunk::ZeroMinute,
                    Chunk::ZeroSecond,
                    Chunk::Year,
                ];
                Some((zero[usize::from(d - b'1')], 2))
            }
            _ if at("002") => Some((Chunk::ZeroYearDay, 3)),
            _ => None,
        },
        b'1' if at("15") => Some((Chunk::Hour, 2)),
        b'1' => Some((Chunk::NumMonth, 1)),
        b'2' if at("2006") => Some((Chunk::LongYear, 4)),
        b'2' => Some((Chunk::Day, 1)),
        // `_2006` is a literal `_` followed by the year.
        b'_' if at("_2") && !at("_2006") => Some((Chunk::UnderDay, 2)),
        b'_' if at("__2") => Some((Chunk::UnderYearDay, 3)),
        b'3' => Some((Chunk::Hour12, 1)),
        b'4' => Some((Chunk::Minute, 1)),
        b'5' => Some((Chunk::Second, 1)),
        b'P' if at("PM") => Some((Chunk::Pm { upper: true }, 2)),
        b'p' if at("pm") => Some((Chunk::Pm { upper: false }, 2)),
        b'-' => first_of(&[
            ("-070000", Chunk::Fixed("+000000")),
            ("-07:00:00", Chunk::Fixed("+00:00:00")),
            ("-0700", Chunk::Fixed("+0000")),
            ("-07:00", Chunk::Fixed("+00:00")),
            ("-07", Chunk::Fixed("+00")),
        ]),
        b'Z' => first_of(&[
            ("Z070000", Chunk::Fixed("Z")),
            ("Z07:00:00", Chunk::Fixed("Z")),
            ("Z0700", Chunk::Fixed("Z")),
            ("Z07:00", Chunk::Fixed("Z")),
            ("Z07", Chunk::Fixed("Z")),
        ]),
        sep @ (b'.' | b',') => {
            let digit = *b.get(1).filter(|d| matches!(d, b'0' | b'9'))?;
            let end = 1 + b[1..].iter().take_while(|d| **d == digit).count();
            let digits = end - 1;
            if b.get(end).is_some_and(u8::is_ascii_digit) || digits > 9 {
                return None;
            }
            let chunk = Chunk::Frac {
                sep: char::from(sep),
                digits,
                trim: digit == b'9',
            };
            Some((chunk, end))
        }
        _ => None,
    }
}

fn write_chunk(out: &mut String, chunk: Chunk, t: &OffsetDateTime) {
    let month = usize::from(u8::from(t.month())) - 1;
    let weekday = usize::from(t.weekday().number_days_from_monday());
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let text = match chunk {
        Chunk::LongMonth => MONTHS[month].to_owned(),
        Chunk::Month => MONTHS[month][..3].to_owned(),
        Chunk::NumMonth => (month + 1).to_string(),
        Chunk::ZeroMonth => format!("{:02}", month + 1),
        Chunk::LongWeekDay => WEEKDAYS[weekday].to_owned(),
        Chunk::WeekDay => WEEKDAYS[weekday][..3].to_owned(),
        Chunk::Day => t.day().to_string(),
        Chunk::UnderDay => format!("{:>2}", t.day()),
        Chunk::ZeroDay => format!("{:02}", t.day()),
        Chunk::UnderYearDay => format!("{:>3}", t.ordinal()),
        Chunk::ZeroYearDay => format!("{:03}", t.ordinal()),
        Chunk::Hour => format!("{:02}", t.hour()),
        Chunk::Hour12 => hour12.to_string(),
        Chunk::ZeroHour12 => format!("{hour12:02}"),
        Chunk::Minute => t.minute().to_string(),
        Chunk::ZeroMinute => format!("{:02}", t.minute()),
        Chunk::Second => t.second().to_string(),
        Chunk::ZeroSecond => format!("{:02}", t.second()),
        Chunk::LongYear => signed_padded(t.year(), 4),
        Chunk::Year => signed_padded(t.year() % 100, 2),
        Chunk::Pm { upper } => match (t.hour() >= 12, upper) {
            (true, true) => "PM",
            (true, false) => "pm",
            (false, true) => "AM",
            (false, false) => "am",
        }
        .to_owned(),
        Chunk::Fixed(s) => s.to_owned(),
        Chunk::Frac { sep, digits, trim } => {
            let nanos = format!("{:09}", t.nanosecond());
            let mut kept = &nanos[..digits];
            if trim {
                kept = kept.trim_end_matches('0');
            }
            if kept.is_empty() {
                String::new()
            } else {
                format!("{sep}{kept}")
            }
        }
    };
    out.push_str(&text);
}

/// `n` zero-padded to `width` digits, with a leading `-` when negative (Go's
/// `appendInt`).
fn signed_padded(n: i32, width: usize) -> String {
    if n < 0 {
        format!("-{:0width$}", n.unsigned_abs())
    } else {
        format!("{n:0width$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2009-02-13 23:31:30.123456789 UTC (a Friday, day 44 of the year).
    const NANOS: i128 = 1_234_567_890_123_456_789;

    fn f(layout: &str) -> String {
        format(layout, NANOS).unwrap()
    }

    #[test]
    fn reference_layouts() {
        assert_eq!(f("2006-01-02T15:04:05Z07:00"), "2009-02-13T23:31:30Z");
        assert_eq!(f("20060102150405"), "20090213233130");
        assert_eq!(
            f("Mon Jan _2 15:04:05 MST 2006"),
            "Fri Feb 13 23:31:30 UTC 2009"
        );
        assert_eq!(
            f("Monday, 02-Jan-06 15:04:05 -0700"),
            "Friday, 13-Feb-09 23:31:30 +0000"
        );
        assert_eq!(f("January 2, 2006 3:04PM"), "February 13, 2009 11:31PM");
        assert_eq!(f("1/2 03:4:5 pm"), "2/13 11:31:30 pm");
        assert_eq!(f("002 __2 -07:00 -07"), "044  44 +00:00 +00");
    }

    #[test]
    fn fractional_seconds() {
        assert_eq!(f("05.000"), "30.123");
        assert_eq!(f("05,000000"), "30,123456");
        assert_eq!(f("05.999999999"), "30.123456789");
        assert_eq!(format("05.999", 1_000_000_000).unwrap(), "01");
        assert_eq!(format("05.000", 1_000_000_000).unwrap(), "01.000");
        // Followed by a digit: literal.
        assert_eq!(f(".0001"), ".0002");
    }

    #[test]
    fn literals_stay_literal() {
        assert_eq!(f("v_2006_Month_Janet_x"), "v_2009_Month_Janet_x");
        assert_eq!(f("_2006"), "_2009");
        assert_eq!(f("héllo"), "héllo");
        assert_eq!(f(""), "");
    }

    #[test]
    fn small_hours_and_days() {
        // 1970-01-05 00:07:08 UTC, a Monday.
        let t = ((4 * 86_400) + 7 * 60 + 8) * 1_000_000_000;
        assert_eq!(format("3 03 PM _2 2 Mon", t).unwrap(), "12 12 AM  5 5 Mon");
        assert_eq!(format("4 5", t).unwrap(), "7 8");
    }

    #[test]
    fn out_of_range() {
        assert_eq!(
            format("2006", i128::MAX),
            Err(TemplateError::TimeOutOfRange)
        );
    }
}
