//! UTC instants for croner: a whole-second Unix time that croner can search
//! over, with calendar conversions from the `time` crate. Cron schedules are
//! evaluated in UTC, as Vault does.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use croner::errors::CronError;
use croner::{CivilDate, CivilDateTime, CivilTime, CronDateTime, Resolution, Weekday};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// A whole second on the UTC time line (seconds since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct UtcSecs(pub(crate) i64);

impl UtcSecs {
    /// `t`, truncated to the second (the epoch for earlier times).
    pub(crate) fn from_system(t: SystemTime) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Self(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// Back to a [`SystemTime`] (the epoch for negative values).
    pub(crate) fn to_system(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(self.0).unwrap_or(0))
    }

    fn offset(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl CronDateTime for UtcSecs {
    fn to_civil(&self) -> CivilDateTime {
        let t = self.offset();
        CivilDateTime::new(
            CivilDate::from_parts_unchecked(
                t.year(),
                u32::from(u8::from(t.month())),
                u32::from(t.day()),
            ),
            CivilTime::from_parts_unchecked(
                u32::from(t.hour()),
                u32::from(t.minute()),
                u32::from(t.second()),
            ),
        )
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(u32::from(self.offset().weekday().number_days_from_sunday()))
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronError> {
        let month = u8::try_from(civil.month())
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(CronError::InvalidDate)?;
        let day = u8::try_from(civil.day()).map_err(|_| CronError::InvalidDate)?;
        let date = Date::from_calendar_date(civil.year(), month, day)
            .map_err(|_| CronError::InvalidDate)?;
        let hms = |v: u32| u8::try_from(v).map_err(|_| CronError::InvalidTime);
        let time = Time::from_hms(
            hms(civil.hour())?,
            hms(civil.minute())?,
            hms(civil.second())?,
        )
        .map_err(|_| CronError::InvalidTime)?;
        let secs = PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp();
        Ok(Resolution::Single(UtcSecs(secs)))
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        let next = self.0.checked_add(seconds)?;
        // Stay within what `time` can represent, so `offset` never falls back.
        OffsetDateTime::from_unix_timestamp(next).ok()?;
        Some(UtcSecs(next))
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_civil_time() {
        // 2023-11-14T22:13:20Z, a Tuesday.
        let t = UtcSecs(1_700_000_000);
        let civil = t.to_civil();
        assert_eq!((civil.year(), civil.month(), civil.day()), (2023, 11, 14));
        assert_eq!((civil.hour(), civil.minute(), civil.second()), (22, 13, 20));
        assert_eq!(t.civil_weekday(), Weekday::Tuesday);
        assert_eq!(t.resolve_civil(civil).unwrap(), Resolution::Single(t));
        assert!(
            t.resolve_civil(CivilDateTime::new(
                CivilDate::from_parts_unchecked(2023, 2, 30),
                CivilTime::MIDNIGHT
            ))
            .is_err()
        );
    }

    #[test]
    fn converts_system_time() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 999);
        assert_eq!(UtcSecs::from_system(t), UtcSecs(1_700_000_000));
        assert_eq!(UtcSecs(5).to_system(), UNIX_EPOCH + Duration::from_secs(5));
        assert_eq!(UtcSecs(-5).to_system(), UNIX_EPOCH);
    }
}
