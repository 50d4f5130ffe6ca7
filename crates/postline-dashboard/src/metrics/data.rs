//! The use case's answer (the JSON `GET /emails/metrics` returns) as what the page
//! draws: one series of counts per metric over the periods, and the range's totals.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// The series charted, in order: the metric and its label.
pub const SERIES: [(&str, &str); 6] = [
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("bounced", "Bounced"),
    ("complained", "Complained"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
];

/// One metric over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub metric: &'static str,
    pub label: &'static str,
    pub values: Vec<u64>,
    pub total: u64,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The start of each period, in the query's timezone.
    pub periods: Vec<DateTime<FixedOffset>>,
    pub series: Vec<Series>,
}

impl Metrics {
    /// Reads the answer's `data` (one row per period, quiet ones included) and `totals`.
    pub fn from_answer(answer: &Value) -> Self {
        let rows: Vec<&Value> = answer["data"].as_array().map(|rows| rows.iter().collect()).unwrap_or_default();
        // Rows without a readable period cannot be placed on the time axis.
        let rows: Vec<(DateTime<FixedOffset>, &Value)> = rows
            .into_iter()
            .filter_map(|row| Some((DateTime::parse_from_rfc3339(row["period"].as_str()?).ok()?, row)))
            .collect();
        let series = SERIES
            .iter()
            .map(|(metric, label)| Series {
                metric,
                label,
                values: rows.iter().map(|(_, row)| row[*metric].as_u64().unwrap_or_default()).collect(),
                total: answer["totals"][*metric].as_u64().unwrap_or_default(),
            })
            .collect();
        Metrics { periods: rows.iter().map(|(at, _)| *at).collect(), series }
    }

    /// A metric's total over the range.
    pub fn total(&self, metric: &str) -> u64 {
        self.series.iter().find(|s| s.metric == metric).map_or(0, |s| s.total)
    }
}

/// A count with thousands separators (`12,345`).
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_become_series_in_period_order_with_the_totals() {
        let answer = json!({
            "totals": {"sent": 3, "delivered": 2, "bounced": 1},
            "data": [
                {"period": "2026-07-07T00:00:00+00:00", "sent": 0, "delivered": 0, "bounced": 0},
                {"period": "2026-07-08T00:00:00+00:00", "sent": 3, "delivered": 2, "bounced": 1},
            ],
        });
        let metrics = Metrics::from_answer(&answer);
        assert_eq!(metrics.periods.len(), 2);
        assert_eq!(metrics.series[0].values, [0, 3]);
        assert_eq!((metrics.total("sent"), metrics.total("bounced"), metrics.total("clicked")), (3, 1, 0));
        assert_eq!(metrics.series.iter().map(|s| s.label).collect::<Vec<_>>().len(), 6);
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
    }
}
