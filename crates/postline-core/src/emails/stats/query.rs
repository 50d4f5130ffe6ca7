//! `GET /emails/metrics` parameters: the date range in a timezone, the granularity,
//! which metrics, which dimensions, which domains, emails or broadcasts. Lists may be
//! comma-separated, repeated, or both.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::{
    Error, Result,
    clock::Timestamp,
    ids::{BroadcastId, DomainId, EmailId},
};

/// Every metric, in the contract's order.
pub const METRICS: [&str; 22] = [
    "received",
    "delivered",
    "complained",
    "suppressed",
    "bounced",
    "bounced_transient",
    "bounced_permanent",
    "bounced_undetermined",
    "opened",
    "clicked",
    "unsubscribed",
    "delivery_delayed",
    "failed",
    "sent",
    "unique_opened",
    "unique_clicked",
    "delivery_rate",
    "open_rate",
    "click_rate",
    "bounce_rate",
    "complaint_rate",
    "unsubscribe_rate",
];

/// Every dimension.
pub const DIMENSIONS: [&str; 4] = ["period", "domain", "email", "broadcast"];

/// Most ids in one filter, and most periods in one answer.
pub const MAX_IDS: usize = 100;
pub const MAX_PERIODS: usize = 10_000;

/// The bucket size of the `period` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hourly,
    Daily,
    Weekly,
    Monthly,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hourly => "hourly",
            Granularity::Daily => "daily",
            Granularity::Weekly => "weekly",
            Granularity::Monthly => "monthly",
        }
    }

    fn parse(raw: &str) -> Result<Self> {
        match raw {
            "hourly" => Ok(Granularity::Hourly),
            "daily" => Ok(Granularity::Daily),
            "weekly" => Ok(Granularity::Weekly),
            "monthly" => Ok(Granularity::Monthly),
            other => Err(Error::parameter(format!(
                "The `granularity` must be `hourly`, `daily`, `weekly` or `monthly`, not `{other}`."
            ))),
        }
    }

    /// The local start of the bucket holding `local`.
    pub fn bucket(self, local: NaiveDateTime) -> NaiveDateTime {
        let day = local.date();
        match self {
            Granularity::Hourly => day.and_time(NaiveTime::from_hms_opt(local.hour(), 0, 0).expect("an hour")),
            Granularity::Daily => day.and_time(NaiveTime::MIN),
            Granularity::Weekly => {
                (day - Duration::days(i64::from(day.weekday().num_days_from_monday()))).and_time(NaiveTime::MIN)
            }
            Granularity::Monthly => day.with_day(1).expect("the first").and_time(NaiveTime::MIN),
        }
    }

    /// The local start of the bucket after the one starting at `start`.
    pub fn next(self, start: NaiveDateTime) -> NaiveDateTime {
        match self {
            Granularity::Hourly => start + Duration::hours(1),
            Granularity::Daily => start + Duration::days(1),
            Granularity::Weekly => start + Duration::days(7),
            Granularity::Monthly => {
                let (year, month) =
                    if start.month() == 12 { (start.year() + 1, 1) } else { (start.year(), start.month() + 1) };
                NaiveDate::from_ymd_opt(year, month, 1).expect("a month").and_time(NaiveTime::MIN)
            }
        }
    }
}

/// A validated metrics request.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsQuery {
    pub start: Timestamp,
    pub end: Timestamp,
    pub timezone: Tz,
    pub granularity: Granularity,
    pub metrics: Vec<&'static str>,
    pub dimensions: Vec<&'static str>,
    pub domain_ids: Vec<DomainId>,
    pub email_ids: Vec<EmailId>,
    pub broadcast_ids: Vec<BroadcastId>,
}

/// The values of a list parameter: repeated, comma-separated or both.
fn list<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(key, _)| key == name || key.strip_suffix("[]") == Some(name))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(key, _)| key == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

fn known(values: Vec<&str>, allowed: &[&'static str], name: &str) -> Result<Vec<&'static str>> {
    let mut chosen = Vec::new();
    for value in values {
        let found = allowed.iter().find(|a| **a == value).ok_or_else(|| {
            Error::parameter(format!("`{value}` is not one of the `{name}`: {}.", allowed.join(", ")))
        })?;
        if !chosen.contains(found) {
            chosen.push(*found);
        }
    }
    Ok(chosen)
}

fn ids<T>(values: Vec<&str>, name: &str, parse: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    if values.len() > MAX_IDS {
        return Err(Error::parameter(format!("`{name}` takes at most {MAX_IDS} ids.")));
    }
    values.into_iter().map(parse).collect()
}

/// A date (`2026-07-01`: that day's start, or with `end_of_day` the next day's) or a
/// datetime (with an offset, or in `tz`).
fn moment(raw: &str, tz: Tz, end_of_day: bool, name: &str) -> Result<Timestamp> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let local = if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day { day + Duration::days(1) } else { day };
        day.and_time(NaiveTime::MIN)
    } else {
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
            .ok_or_else(|| Error::parameter(format!("`{name}` must be an ISO 8601 date or datetime, not `{raw}`.")))?
    };
    local_to_utc(tz, local).ok_or_else(|| Error::parameter(format!("`{name}` does not exist in the timezone.")))
}

/// A local time as UTC (the earlier one when clocks go back; a time skipped by
/// clocks going forward counts as the moment after the gap).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<Timestamp> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + Duration::hours(1))).earliest())
        .map(|at| at.with_timezone(&Utc))
}

impl MetricsQuery {
    /// Validates the query's pairs as given (`now` clamps the end).
    pub fn parse(pairs: &[(String, String)], now: Timestamp) -> Result<Self> {
        let timezone: Tz = match single(pairs, "timezone") {
            None => Tz::UTC,
            Some(raw) => raw.parse().map_err(|_| {
                Error::parameter(format!("`timezone` must be an IANA timezone such as `Europe/Paris`, not `{raw}`."))
            })?,
        };
        let end = match single(pairs, "end_date") {
            None => now,
            Some(raw) => moment(raw, timezone, true, "end_date")?.min(now),
        };
        let start = match single(pairs, "start_date") {
            Some(raw) => moment(raw, timezone, false, "start_date")?,
            None => {
                let day = (end.with_timezone(&timezone) - Duration::days(6)).date_naive();
                local_to_utc(timezone, day.and_time(NaiveTime::MIN)).unwrap_or(end - Duration::days(6))
            }
        };
        if start > end {
            return Err(Error::parameter("`start_date` must be on or before `end_date`."));
        }
        let granularity =
            single(pairs, "granularity").map(Granularity::parse).transpose()?.unwrap_or(Granularity::Daily);
        let metrics = match known(list(pairs, "metrics"), &METRICS, "metrics")? {
            chosen if chosen.is_empty() => METRICS.to_vec(),
            chosen => chosen,
        };
        let dimensions = known(list(pairs, "dimensions"), &DIMENSIONS, "dimensions")?;
        let email_ids = ids(list(pairs, "email_id"), "email_id", EmailId::parse)?;
        let broadcast_ids = ids(list(pairs, "broadcast_id"), "broadcast_id", BroadcastId::parse)?;
        let by_broadcast = dimensions.contains(&"broadcast") || !broadcast_ids.is_empty();
        let by_email = dimensions.contains(&"email") || !email_ids.is_empty();
        if by_broadcast && by_email {
            return Err(Error::parameter(
                "Emails (`email` dimension or `email_id`) and broadcasts cannot be combined.",
            ));
        }
        let query = MetricsQuery {
            start,
            end,
            timezone,
            granularity,
            metrics,
            dimensions,
            domain_ids: ids(list(pairs, "domain_id"), "domain_id", DomainId::parse)?,
            email_ids,
            broadcast_ids,
        };
        if query.dimensions.contains(&"period") && query.periods().len() > MAX_PERIODS {
            return Err(Error::parameter(format!(
                "The date range has more than {MAX_PERIODS} periods at `{}` granularity.",
                granularity.as_str()
            )));
        }
        Ok(query)
    }

    /// The local start of every period the range touches, in order (at most one
    /// past [`MAX_PERIODS`]).
    pub fn periods(&self) -> Vec<NaiveDateTime> {
        let last = self.granularity.bucket(self.end.with_timezone(&self.timezone).naive_local());
        let mut at = self.granularity.bucket(self.start.with_timezone(&self.timezone).naive_local());
        let mut periods = Vec::new();
        while at <= last && periods.len() <= MAX_PERIODS {
            periods.push(at);
            at = self.granularity.next(at);
        }
        periods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn now() -> Timestamp {
        "2026-07-08T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn defaults_cover_the_last_seven_days_daily_with_every_metric() {
        let query = MetricsQuery::parse(&[], now()).unwrap();
        assert_eq!(query.start, "2026-07-02T00:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(query.end, now());
        assert_eq!((query.granularity, query.metrics.len(), query.dimensions.len()), (Granularity::Daily, 22, 0));
    }

    #[test]
    fn lists_mix_commas_and_repeats_and_dates_follow_the_timezone() {
        let query = MetricsQuery::parse(
            &pairs(&[
                ("metrics", "delivered,opened"),
                ("metrics", "open_rate"),
                ("dimensions", "period"),
                ("timezone", "America/New_York"),
                ("start_date", "2026-07-01"),
                ("end_date", "2026-07-02"),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(query.metrics, ["delivered", "opened", "open_rate"]);
        assert_eq!(query.start, "2026-07-01T04:00:00Z".parse::<Timestamp>().unwrap(), "midnight in New York");
        assert_eq!(query.end, "2026-07-03T04:00:00Z".parse::<Timestamp>().unwrap(), "the end day is included");
        assert_eq!(query.periods().len(), 3, "the end is the first instant of the next day");
    }

    #[test]
    fn wrong_parameters_are_refused() {
        for bad in [
            vec![("metrics", "views")],
            vec![("dimensions", "country")],
            vec![("granularity", "yearly")],
            vec![("timezone", "Mars/Olympus")],
            vec![("start_date", "yesterday")],
            vec![("start_date", "2026-07-05"), ("end_date", "2026-07-01")],
            vec![("dimensions", "email,broadcast")],
            vec![("dimensions", "email"), ("broadcast_id", "0190f0a2-0000-7000-8000-000000000000")],
            vec![("email_id", "nope")],
            vec![("dimensions", "period"), ("granularity", "hourly"), ("start_date", "2024-01-01")],
        ] {
            let error = MetricsQuery::parse(&pairs(&bad), now()).unwrap_err();
            assert!(matches!(error, Error::Invalid { kind: crate::Invalid::Parameter, .. }), "{bad:?}: {error:?}");
        }
    }

    #[test]
    fn buckets_start_on_the_hour_day_monday_or_first_of_the_month() {
        let at = NaiveDate::from_ymd_opt(2026, 7, 9).unwrap().and_hms_opt(15, 42, 0).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 7, d).unwrap();
        assert_eq!(Granularity::Hourly.bucket(at), day(9).and_hms_opt(15, 0, 0).unwrap());
        assert_eq!(Granularity::Weekly.bucket(at), day(6).and_time(NaiveTime::MIN), "a Monday");
        assert_eq!(Granularity::Monthly.bucket(at), day(1).and_time(NaiveTime::MIN));
        let december = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_time(NaiveTime::MIN);
        assert_eq!(Granularity::Monthly.next(december).year(), 2027);
    }
}
