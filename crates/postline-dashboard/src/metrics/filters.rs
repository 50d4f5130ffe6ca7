//! The Metrics page's filters: what the form offers (range, granularity, one of the
//! team's domains), checking what came back, and turning it into the query of the
//! `GET /emails/metrics` use case — so the page shows exactly what the API would.

use chrono::{Duration, NaiveDate};
use postline_core::{clock::Timestamp, domains::Domain, ids::DomainId};
use serde::Deserialize;

/// The ranges offered: the parameter, days covered (today included), the label.
pub const RANGES: [(&str, i64, &str); 3] =
    [("7d", 7, "Last 7 days"), ("30d", 30, "Last 30 days"), ("90d", 90, "Last 90 days")];

/// The granularities offered: the parameter, the use case's name, the label.
pub const GRANULARITIES: [(&str, &str, &str); 3] =
    [("hour", "hourly", "Hour"), ("day", "daily", "Day"), ("week", "weekly", "Week")];

/// Hourly points beyond this many days make a chart too dense to read and a data
/// table of thousands of rows, so longer ranges are asked to use days or weeks.
const MAX_HOURLY_DAYS: i64 = 30;

/// The metrics the page reads; rates are worked out from these counts.
pub const METRICS: &str = "sent,delivered,bounced,complained,opened,clicked";

/// The query string as sent (empty values, from a form left at "All", count as absent).
#[derive(Debug, Deserialize, Default)]
pub struct Params {
    pub range: Option<String>,
    pub granularity: Option<String>,
    pub domain: Option<String>,
}

/// Valid filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub days: i64,
    /// The page's name for the granularity (`hour`, `day`, `week`).
    pub step: &'static str,
    pub domain: Option<DomainId>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Filters {
    /// Checks the parameters against the choices offered; the error says what to pick.
    pub fn parse(params: &Params, domains: &[Domain]) -> Result<Self, String> {
        let days = match given(&params.range) {
            None => 7,
            Some(raw) => RANGES
                .iter()
                .find(|(name, ..)| *name == raw)
                .map(|(_, days, _)| *days)
                .ok_or_else(|| format!("The range must be 7d, 30d or 90d, not “{raw}”."))?,
        };
        let step = match given(&params.granularity) {
            None => "day",
            Some(raw) => GRANULARITIES
                .iter()
                .find(|(name, ..)| *name == raw)
                .map(|(name, ..)| *name)
                .ok_or_else(|| format!("The granularity must be hour, day or week, not “{raw}”."))?,
        };
        if step == "hour" && days > MAX_HOURLY_DAYS {
            return Err(format!("Hourly charts cover at most {MAX_HOURLY_DAYS} days: choose day or week for 90 days."));
        }
        let domain = match given(&params.domain) {
            None => None,
            Some(raw) => Some(
                domains
                    .iter()
                    .find(|d| d.id.to_string() == raw)
                    .map(|d| d.id)
                    .ok_or("The domain must be one of this team's domains.")?,
            ),
        };
        Ok(Filters { days, step, domain })
    }

    /// The first day shown (UTC): today and the days before it, `days` in all.
    pub fn first_day(&self, now: Timestamp) -> NaiveDate {
        now.date_naive() - Duration::days(self.days - 1)
    }

    /// The use case's query: every period of the range, by this granularity, for the
    /// domain if one is chosen (the end is now, the use case's default).
    pub fn pairs(&self, now: Timestamp) -> Vec<(String, String)> {
        let granularity = GRANULARITIES.iter().find(|(name, ..)| *name == self.step).map_or("daily", |g| g.1);
        let mut pairs = vec![
            ("start_date".to_string(), self.first_day(now).format("%Y-%m-%d").to_string()),
            ("granularity".to_string(), granularity.to_string()),
            ("dimensions".to_string(), "period".to_string()),
            ("metrics".to_string(), METRICS.to_string()),
        ];
        if let Some(domain) = self.domain {
            pairs.push(("domain_id".to_string(), domain.to_string()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(range: &str, granularity: &str) -> Params {
        Params { range: Some(range.into()), granularity: Some(granularity.into()), domain: None }
    }

    #[test]
    fn absent_or_empty_parameters_mean_seven_days_by_day() {
        let expected = Filters { days: 7, step: "day", domain: None };
        assert_eq!(Filters::parse(&Params::default(), &[]), Ok(expected.clone()));
        assert_eq!(Filters::parse(&params("", " "), &[]), Ok(expected));
    }

    #[test]
    fn choices_outside_the_form_are_refused_in_words() {
        assert!(Filters::parse(&params("1y", "day"), &[]).unwrap_err().contains("“1y”"));
        assert!(Filters::parse(&params("7d", "minute"), &[]).unwrap_err().contains("hour, day or week"));
        assert!(Filters::parse(&params("90d", "hour"), &[]).unwrap_err().contains("at most 30 days"));
        assert_eq!(Filters::parse(&params("30d", "hour"), &[]).map(|f| (f.days, f.step)), Ok((30, "hour")));
        let unknown = Params { domain: Some("0190f0a2-0000-7000-8000-000000000000".into()), ..Params::default() };
        assert!(Filters::parse(&unknown, &[]).unwrap_err().contains("this team's domains"));
    }

    #[test]
    fn the_query_starts_at_midnight_days_ago_and_asks_for_periods() {
        let now: Timestamp = "2026-07-08T12:00:00Z".parse().unwrap();
        let filters = Filters { days: 30, step: "week", domain: None };
        let pairs = filters.pairs(now);
        let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(value("start_date"), Some("2026-06-09"), "30 days counting today");
        assert_eq!(value("granularity"), Some("weekly"));
        assert_eq!(value("dimensions"), Some("period"));
        assert_eq!(value("domain_id"), None);
    }
}
