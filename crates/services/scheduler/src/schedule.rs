//! When a job runs: a fixed period or a cron expression (UTC) with an
//! optional rotation window.

use std::time::{Duration, SystemTime};

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

use crate::civil::UtcSecs;
use crate::error::{Result, SchedulerError};

/// The shortest rotation window Vault accepts (`rotation_window`).
pub const MIN_ROTATION_WINDOW: Duration = Duration::from_secs(3600);

/// A job's schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Every `period` after the previous run (Vault's `rotation_period`).
    Every(Duration),
    /// At the fire times of a standard 5-field cron expression, in UTC
    /// (Vault's `rotation_schedule`). With a `window`, a run that would start
    /// later than `window` after its fire time is skipped to the next fire
    /// time (Vault's `rotation_window`).
    Cron {
        /// The cron expression as given.
        expr: String,
        /// How long after a fire time the run may still start.
        window: Option<Duration>,
    },
}

fn parse_expr(expr: &str) -> Result<Cron> {
    let invalid = |reason: String| SchedulerError::InvalidCron {
        expr: expr.to_owned(),
        reason,
    };
    let fields = expr.split_whitespace().count();
    if fields != 5 {
        return Err(invalid(format!(
            "expected exactly 5 fields (minute hour day-of-month month day-of-week), found {fields}"
        )));
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| invalid(e.to_string()))
}

impl Schedule {
    /// A cron schedule, validated: `expr` must be a standard 5-field cron
    /// expression and `window`, when given, at least [`MIN_ROTATION_WINDOW`].
    /// Errors are 400s with a message that says what is wrong.
    pub fn parse_cron(expr: &str, window: Option<Duration>) -> Result<Self> {
        parse_expr(expr)?;
        if let Some(w) = window
            && w < MIN_ROTATION_WINDOW
        {
            return Err(SchedulerError::InvalidSchedule(format!(
                "rotation_window must be {} seconds or more",
                MIN_ROTATION_WINDOW.as_secs()
            )));
        }
        Ok(Schedule::Cron {
            expr: expr.trim().to_owned(),
            window,
        })
    }

    /// A fixed-period schedule; the period must be at least one second.
    pub fn every(period: Duration) -> Result<Self> {
        if period < Duration::from_secs(1) {
            return Err(SchedulerError::InvalidSchedule(
                "period must be at least one second".into(),
            ));
        }
        Ok(Schedule::Every(period))
    }

    /// Checks a schedule built directly (or read back from storage).
    pub fn validate(&self) -> Result<()> {
        match self {
            Schedule::Every(p) => Schedule::every(*p).map(|_| ()),
            Schedule::Cron { expr, window } => Schedule::parse_cron(expr, *window).map(|_| ()),
        }
    }

    /// The first run strictly after `after`, rounded up to the whole second.
    pub fn next_after(&self, after: SystemTime) -> Result<SystemTime> {
        match self {
            Schedule::Every(period) => Ok(ceil_secs(after + *period)),
            Schedule::Cron { expr, .. } => {
                let cron = parse_expr(expr)?;
                let next = cron
                    .find_next_occurrence(&UtcSecs::from_system(after), false)
                    .map_err(|e| SchedulerError::InvalidCron {
                        expr: expr.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(next.to_system())
            }
        }
    }

    /// The rotation window, for cron schedules that have one.
    pub fn window(&self) -> Option<Duration> {
        match self {
            Schedule::Every(_) => None,
            Schedule::Cron { window, .. } => *window,
        }
    }

    /// About how long one period of the schedule is, seen from `now`: the
    /// fixed period, or the gap between the next two cron fire times. Caps
    /// the failure back-off.
    pub fn period_hint(&self, now: SystemTime) -> Result<Duration> {
        match self {
            Schedule::Every(p) => Ok(*p),
            Schedule::Cron { .. } => {
                let first = self.next_after(now)?;
                let second = self.next_after(first)?;
                Ok(second
                    .duration_since(first)
                    .unwrap_or(Duration::from_secs(60)))
            }
        }
    }
}

/// `t` rounded up to the next whole second (unchanged when already whole).
pub(crate) fn ceil_secs(t: SystemTime) -> SystemTime {
    let floor = UtcSecs::from_system(t).to_system();
    if floor == t {
        t
    } else {
        floor + Duration::from_secs(1)
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    // 2024-02-28T23:59:30Z (a Wednesday; 2024 is a leap year).
    const FEB28_235930: u64 = 1_709_164_770;

    #[test]
    fn every_adds_the_period_rounded_up() {
        let s = Schedule::every(Duration::from_secs(3600)).unwrap();
        assert_eq!(s.next_after(at(100)).unwrap(), at(3700));
        let frac = at(100) + Duration::from_millis(250);
        assert_eq!(s.next_after(frac).unwrap(), at(3701));
        assert_eq!(s.period_hint(at(0)).unwrap(), Duration::from_secs(3600));
        assert!(Schedule::every(Duration::ZERO).is_err());
    }

    #[test]
    fn cron_crosses_hour_and_day_boundaries_in_utc() {
        let hourly = Schedule::parse_cron("0 * * * *", None).unwrap();
        // 23:59:30 -> midnight of the leap day.
        assert_eq!(
            hourly.next_after(at(FEB28_235930)).unwrap(),
            at(FEB28_235930 + 30)
        );
        // Exactly at a fire time: strictly after, so the next hour.
        let midnight = FEB28_235930 + 30;
        assert_eq!(
            hourly.next_after(at(midnight)).unwrap(),
            at(midnight + 3600)
        );

        let daily_0230 = Schedule::parse_cron("30 2 * * *", None).unwrap();
        // From 23:59:30 on Feb 28: 02:30 on Feb 29.
        assert_eq!(
            daily_0230.next_after(at(FEB28_235930)).unwrap(),
            at(midnight + 2 * 3600 + 30 * 60)
        );
        // From 03:00 on Feb 29: 02:30 on Mar 1.
        assert_eq!(
            daily_0230.next_after(at(midnight + 3 * 3600)).unwrap(),
            at(midnight + 86_400 + 2 * 3600 + 30 * 60)
        );
        assert_eq!(
            daily_0230.period_hint(at(midnight)).unwrap(),
            Duration::from_secs(86_400)
        );

        // Mondays at 00:00: from Wednesday Feb 28 to Monday Mar 4.
        let monday = Schedule::parse_cron("0 0 * * MON", None).unwrap();
        assert_eq!(
            monday.next_after(at(FEB28_235930)).unwrap(),
            at(midnight + 4 * 86_400)
        );
    }

    #[test]
    fn bad_cron_is_a_400_with_a_clear_message() {
        for bad in [
            "foo",
            "* * * *",
            "0 0 * * * *",
            "61 * * * *",
            "* 25 * * *",
            "@daily",
            "",
        ] {
            let err = Schedule::parse_cron(bad, None).unwrap_err();
            assert_eq!(err.kind().status(), 400, "{bad}");
            assert!(err.to_string().contains("invalid cron expression"), "{err}");
        }
        let err = Schedule::parse_cron("* * * * *", Some(Duration::from_secs(59))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "rotation_window must be 3600 seconds or more"
        );
        assert!(Schedule::parse_cron("*/15 * * * 1-5", Some(MIN_ROTATION_WINDOW)).is_ok());
    }

    #[test]
    fn round_trips_through_json() {
        let s = Schedule::parse_cron("0 3 * * *", Some(Duration::from_secs(7200))).unwrap();
        let back: Schedule = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(back.validate().is_ok());
    }
}
