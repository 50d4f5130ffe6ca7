//! Bounce and complaint rates against the warm-up guidance ("monitor your bounce rate
//! to ensure it remains below 4%, and your spam rate below 0.08%"), judged in words —
//! healthy, close or over — so the verdict never depends on seeing a colour.

use maud::{Markup, html};

use super::data::count;

/// How a rate stands against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to divide by yet.
    NoData,
    Healthy,
    /// At least half the limit: worth watching before it goes over.
    Close,
    /// At or above the limit.
    Over,
}

impl Verdict {
    fn class(self) -> &'static str {
        match self {
            Verdict::NoData => "neutral",
            Verdict::Healthy => "good",
            Verdict::Close => "warn",
            Verdict::Over => "bad",
        }
    }
}

/// A rate with its limit: `part` of `whole`, the limit as the fraction `limit.0 / limit.1`.
pub struct Gauge {
    pub name: &'static str,
    pub part: u64,
    pub whole: u64,
    /// What is counted and what it is out of, for the sentence under the number.
    pub part_label: &'static str,
    pub whole_label: &'static str,
    pub limit: (u64, u64),
    /// The limit as people read it (`4%`).
    pub limit_text: &'static str,
    /// Places shown after the decimal point: enough to see the limit's own digits.
    pub places: usize,
}

/// The bounce rate: bounced of sent (as the use case computes `bounce_rate`).
pub fn bounce(bounced: u64, sent: u64) -> Gauge {
    Gauge {
        name: "Bounce rate",
        part: bounced,
        whole: sent,
        part_label: "bounced",
        whole_label: "sent",
        limit: (4, 100),
        limit_text: "4%",
        places: 2,
    }
}

/// The complaint rate: complained of delivered (as the use case computes `complaint_rate`).
pub fn complaint(complained: u64, delivered: u64) -> Gauge {
    Gauge {
        name: "Complaint rate",
        part: complained,
        whole: delivered,
        part_label: "marked as spam",
        whole_label: "delivered",
        limit: (8, 10_000),
        limit_text: "0.08%",
        places: 3,
    }
}

impl Gauge {
    /// Judged on the exact counts (in integers), so a rate just under the limit is
    /// never rounded over it or the other way round.
    pub fn verdict(&self) -> Verdict {
        if self.whole == 0 {
            return Verdict::NoData;
        }
        let scaled = u128::from(self.part) * u128::from(self.limit.1);
        let limit = u128::from(self.limit.0) * u128::from(self.whole);
        if scaled >= limit {
            Verdict::Over
        } else if 2 * scaled >= limit {
            Verdict::Close
        } else {
            Verdict::Healthy
        }
    }

    /// The rate as a percentage (`33.33%`).
    pub fn percent(&self) -> String {
        let rate = if self.whole == 0 { 0.0 } else { self.part as f64 * 100.0 / self.whole as f64 };
        format!("{rate:.places$}%", places = self.places)
    }

    fn sentence(&self) -> String {
        match self.verdict() {
            Verdict::NoData => format!("No emails {} in this range yet.", self.whole_label),
            Verdict::Healthy => format!("Healthy: well below the {} limit.", self.limit_text),
            Verdict::Close => {
                format!("Close: at least half of the {} limit. Watch it before it goes over.", self.limit_text)
            }
            Verdict::Over => format!(
                "Over the {} limit. Slow down your sending and look for the cause before sending more.",
                self.limit_text
            ),
        }
    }

    pub fn render(&self) -> Markup {
        let verdict = self.verdict();
        html! {
            div class={ "gauge " (verdict.class()) } {
                h3 { (self.name) }
                p.big { (self.percent()) }
                p.verdict { strong { (self.sentence()) } }
                p.muted {
                    (count(self.part)) " " (self.part_label) " of " (count(self.whole)) " " (self.whole_label)
                    " · keep below " (self.limit_text)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_rates_are_healthy_close_or_over_four_percent() {
        assert_eq!(bounce(0, 0).verdict(), Verdict::NoData);
        assert_eq!(bounce(1, 100).verdict(), Verdict::Healthy);
        assert_eq!(bounce(2, 100).verdict(), Verdict::Close, "half the limit");
        assert_eq!(bounce(39, 1000).verdict(), Verdict::Close);
        assert_eq!(bounce(4, 100).verdict(), Verdict::Over, "the limit itself is over");
        assert_eq!(bounce(1, 3).verdict(), Verdict::Over);
        assert_eq!(bounce(1, 3).percent(), "33.33%");
    }

    #[test]
    fn complaint_rates_are_judged_exactly_against_point_zero_eight_percent() {
        assert_eq!(complaint(3, 10_000).verdict(), Verdict::Healthy);
        assert_eq!(complaint(4, 10_000).verdict(), Verdict::Close);
        // 0.0799…%: would round to 0.08% at four places, but is under the limit.
        assert_eq!(complaint(7_999, 10_000_000).verdict(), Verdict::Close);
        assert_eq!(complaint(8, 10_000).verdict(), Verdict::Over);
        assert_eq!(complaint(3, 4_000).percent(), "0.075%");
    }

    #[test]
    fn the_verdict_is_written_out() {
        let over = bounce(1, 3).render().into_string();
        assert!(over.contains("Over the 4% limit") && over.contains("1 bounced of 3 sent"), "{over}");
        assert!(bounce(0, 0).render().into_string().contains("No emails sent in this range"));
        assert!(complaint(1, 1_000_000).render().into_string().contains("Healthy"));
    }
}
