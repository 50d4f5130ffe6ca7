//! `scheduled_at`: an ISO 8601 date-time or natural language such as
//! `in 1 hour`, `in 30 min`, `tomorrow at 9am`, at most 30 days ahead.
//!
//! A time without a zone is taken as UTC. A time up to a minute in the past is
//! taken as "now" (client clocks drift); further in the past is an error, since
//! it is almost certainly a bug in the caller.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::{Error, Result, clock::Timestamp};

/// How far ahead an email may be scheduled.
pub const MAX_AHEAD: Duration = Duration::days(30);
const PAST_TOLERANCE: Duration = Duration::minutes(1);

/// When to send: now, or at a future time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Now,
    At(Timestamp),
}

/// Parses and bounds a `scheduled_at` value relative to `now`.
pub fn parse_scheduled_at(raw: &str, now: Timestamp) -> Result<When> {
    let at = parse_time(raw.trim(), now).ok_or_else(|| {
        Error::value(
            "The `scheduled_at` field must be an ISO 8601 date-time (e.g. 2024-08-05T11:52:01.858Z) \
             or natural language such as \"in 1 hour\" or \"tomorrow at 9am\".",
        )
    })?;
    if at > now + MAX_AHEAD {
        return Err(Error::value("The `scheduled_at` field must be at most 30 days in the future."));
    }
    if at <= now {
        if now - at > PAST_TOLERANCE {
            return Err(Error::value("The `scheduled_at` field must be in the future."));
        }
        return Ok(When::Now);
    }
    Ok(When::At(at))
}

fn parse_time(raw: &str, now: Timestamp) -> Option<Timestamp> {
    parse_iso(raw).or_else(|| parse_natural(&raw.to_ascii_lowercase(), now))
}

fn parse_iso(raw: &str) -> Option<Timestamp> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    let with_space = raw.replacen(' ', "T", 1);
    if let Ok(at) = DateTime::parse_from_rfc3339(&with_space) {
        return Some(at.with_timezone(&Utc));
    }
    // `+00` style offsets (as the API itself prints) and zone-less forms.
    for format in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(at) = DateTime::parse_from_str(&with_space, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&with_space, format) {
            return Some(naive.and_utc());
        }
    }
    None
}

fn parse_natural(raw: &str, now: Timestamp) -> Option<Timestamp> {
    let words: Vec<&str> = raw.split_whitespace().collect();
    match words.as_slice() {
        ["now"] => Some(now),
        ["in", "an" | "a", unit] => relative("1", unit, now),
        ["in", amount, unit] => relative(amount, unit, now),
        ["in", amount_unit] => {
            let split = amount_unit.find(|c: char| !c.is_ascii_digit())?;
            relative(&amount_unit[..split], &amount_unit[split..], now)
        }
        [day @ ("today" | "tomorrow"), rest @ ..] => {
            let date = now.date_naive() + Duration::days(i64::from(*day == "tomorrow"));
            let time = match rest {
                [] => NaiveTime::from_hms_opt(9, 0, 0)?,
                ["at", time] => clock_time(time)?,
                ["at", time, meridiem @ ("am" | "pm")] => clock_time(&format!("{time}{meridiem}"))?,
                _ => return None,
            };
            Some(at_on(date, time))
        }
        _ => None,
    }
}

fn relative(amount: &str, unit: &str, now: Timestamp) -> Option<Timestamp> {
    let amount: i64 = amount.parse().ok().filter(|n| (0..=100_000).contains(n))?;
    let unit = unit.trim_end_matches('s');
    let step = match unit {
        "sec" | "second" | "" => Duration::seconds(1),
        "min" | "minute" | "m" => Duration::minutes(1),
        "h" | "hr" | "hour" => Duration::hours(1),
        "d" | "day" => Duration::days(1),
        "w" | "week" => Duration::weeks(1),
        _ => return None,
    };
    Some(now + step * i32::try_from(amount).ok()?)
}

fn clock_time(raw: &str) -> Option<NaiveTime> {
    let (digits, offset) = if let Some(d) = raw.strip_suffix("am") {
        (d, 0)
    } else if let Some(d) = raw.strip_suffix("pm") {
        (d, 12)
    } else {
        (raw, -1)
    };
    let (hour, minute) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (digits.parse::<u32>().ok()?, 0),
    };
    let hour = match offset {
        -1 => hour,
        _ if !(1..=12).contains(&hour) => return None,
        0 => hour % 12,
        _ => hour % 12 + 12,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

fn at_on(date: NaiveDate, time: NaiveTime) -> Timestamp {
    date.and_time(time).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T10:00:00Z".parse().unwrap()
    }

    fn at(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    #[test]
    fn iso_forms_are_understood() {
        assert_eq!(parse_scheduled_at("2026-11-24T11:52:01.858Z", now()), Ok(When::At(at("2026-11-24T11:52:01.858Z"))));
        assert_eq!(parse_scheduled_at("2026-11-24T12:00:00+02:00", now()), Ok(When::At(at("2026-11-24T10:00:00Z"))));
        assert_eq!(parse_scheduled_at("2026-11-24 10:00:00.5+00", now()), Ok(When::At(at("2026-11-24T10:00:00.5Z"))));
        assert_eq!(parse_scheduled_at("2026-11-24T10:00:00", now()), Ok(When::At(at("2026-11-24T10:00:00Z"))));
    }

    #[test]
    fn natural_language_is_understood() {
        let cases = [
            ("in 1 hour", "2026-11-23T11:00:00Z"),
            ("in 1 min", "2026-11-23T10:01:00Z"),
            ("in 30 minutes", "2026-11-23T10:30:00Z"),
            ("In 2 Days", "2026-11-25T10:00:00Z"),
            ("in 10m", "2026-11-23T10:10:00Z"),
            ("in an hour", "2026-11-23T11:00:00Z"),
            ("tomorrow at 9am", "2026-11-24T09:00:00Z"),
            ("tomorrow at 5:30 pm", "2026-11-24T17:30:00Z"),
            ("today at 18:15", "2026-11-23T18:15:00Z"),
            ("tomorrow", "2026-11-24T09:00:00Z"),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_scheduled_at(raw, now()), Ok(When::At(at(expected))), "{raw}");
        }
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(parse_scheduled_at("in 31 days", now()).is_err());
        assert!(parse_scheduled_at("in 30 days", now()).is_ok());
        assert!(parse_scheduled_at("2026-11-23T09:00:00Z", now()).is_err());
        assert_eq!(parse_scheduled_at("2026-11-23T09:59:30Z", now()), Ok(When::Now));
        assert_eq!(parse_scheduled_at("now", now()), Ok(When::Now));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in ["", "soon", "in x hours", "in 1 fortnight", "tomorrow at 13pm", "2026-13-01T00:00:00Z"] {
            assert!(parse_scheduled_at(bad, now()).is_err(), "{bad:?}");
        }
    }
}
