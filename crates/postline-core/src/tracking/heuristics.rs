//! Telling people from machines: which opens were fetched by a machine and which
//! clicks were made by a security scanner, so stats can leave them out. Nothing is
//! dropped — every hit is recorded with its flag and the reason.
//!
//! Machine opens:
//! - **Apple Mail Privacy Protection** fetches every remote image through Apple's
//!   proxies when the message arrives, whether or not anyone reads it; the proxy
//!   sends exactly `Mozilla/5.0` and nothing after it.
//! - **Image proxies** (Gmail's `GoogleImageProxy`, also seen as `via ggpht.com`;
//!   Yahoo's `YahooMailProxy`) fetch on the recipient's behalf and cache, so the IP
//!   and user agent are the provider's and repeated opens may never reach us.
//! - **Link-preview prefetchers** (`BingPreview`) render messages nobody opened.
//! - Anything within [`MACHINE_OPEN_WINDOW`] of delivery: no person reads that fast;
//!   receiving systems that pre-render images do.
//!
//! Outlook's own `ms-office` user agent is *not* flagged for opens: it is what the
//! desktop client sends when a person opens the message and images load.
//!
//! Scanner clicks:
//! - **`HEAD` requests**: browsers follow links with `GET`; link checkers probe.
//! - Clicks within [`SCANNER_CLICK_WINDOW`] of delivery: security gateways open
//!   every link of a message as it arrives, before any person could.
//! - **Known scanner user agents**: mail security gateways that fetch links to
//!   check them (Barracuda, Mimecast, Proofpoint, Symantec, Trend Micro, Microsoft
//!   Safe Links and Office's link discovery requests), and HTTP libraries and tools
//!   that no mail reader's browser identifies as (`python-requests`, `curl`,
//!   `Go-http-client`, `Wget`, `okhttp`, Java) — and no user agent at all.

use chrono::Duration;

use crate::clock::Timestamp;

/// An open this soon after delivery was made by a machine.
pub const MACHINE_OPEN_WINDOW: Duration = Duration::seconds(2);
/// A click this soon after delivery was made by a scanner.
pub const SCANNER_CLICK_WINDOW: Duration = Duration::seconds(10);

/// One request to a tracking link, as the HTTP edge saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The client's address (`""` when unknown).
    pub ip: String,
    /// The `User-Agent` header (`""` when absent).
    pub user_agent: String,
    /// A `HEAD` request rather than `GET`.
    pub head: bool,
    pub at: Timestamp,
}

/// User-agent fragments (lower case) of machines that fetch images, and why.
const MACHINE_OPENERS: &[(&str, &str)] = &[
    ("googleimageproxy", "google_image_proxy"),
    ("ggpht.com", "google_image_proxy"),
    ("yahoomailproxy", "yahoo_mail_proxy"),
    ("bingpreview", "link_preview"),
];

/// User-agent fragments (lower case) of link scanners and HTTP tools, and why.
const SCANNERS: &[(&str, &str)] = &[
    ("barracuda", "barracuda"),
    ("mimecast", "mimecast"),
    ("proofpoint", "proofpoint"),
    ("safelinks", "microsoft_safe_links"),
    ("microsoft office", "microsoft_office"),
    ("ms-office", "microsoft_office"),
    ("symantec", "symantec"),
    ("messagelabs", "symantec"),
    ("trend micro", "trend_micro"),
    ("trendmicro", "trend_micro"),
    ("python-requests", "http_library"),
    ("python-urllib", "http_library"),
    ("curl/", "http_library"),
    ("go-http-client", "http_library"),
    ("wget/", "http_library"),
    ("okhttp", "http_library"),
    ("java/", "http_library"),
];

/// Why an open looks like a machine's, if it does. `delivered_at` is when the
/// recipient's copy was delivered (when known).
pub fn machine_open(hit: &Hit, delivered_at: Option<Timestamp>) -> Option<&'static str> {
    if hit.head {
        return Some("head_request");
    }
    if hit.user_agent.trim() == "Mozilla/5.0" {
        return Some("apple_mail_privacy_protection");
    }
    let agent = hit.user_agent.to_ascii_lowercase();
    if let Some((_, why)) = MACHINE_OPENERS.iter().find(|(needle, _)| agent.contains(needle)) {
        return Some(why);
    }
    soon_after(hit.at, delivered_at, MACHINE_OPEN_WINDOW).then_some("soon_after_delivery")
}

/// Why a click looks like a scanner's, if it does.
pub fn scanner_click(hit: &Hit, delivered_at: Option<Timestamp>) -> Option<&'static str> {
    if hit.head {
        return Some("head_request");
    }
    if hit.user_agent.trim().is_empty() {
        return Some("no_user_agent");
    }
    let agent = hit.user_agent.to_ascii_lowercase();
    if let Some((_, why)) = SCANNERS.iter().find(|(needle, _)| agent.contains(needle)) {
        return Some(why);
    }
    soon_after(hit.at, delivered_at, SCANNER_CLICK_WINDOW).then_some("soon_after_delivery")
}

fn soon_after(at: Timestamp, delivered_at: Option<Timestamp>, window: Duration) -> bool {
    delivered_at.is_some_and(|delivered| at - delivered < window)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                          Version/17.4 Safari/605.1.15";

    fn hit(user_agent: &str, seconds_after_delivery: i64) -> (Hit, Option<Timestamp>) {
        let delivered = Utc::now();
        let at = delivered + Duration::seconds(seconds_after_delivery);
        (Hit { ip: "203.0.113.7".into(), user_agent: user_agent.into(), head: false, at }, Some(delivered))
    }

    #[test]
    fn a_person_opening_later_is_not_a_machine() {
        let (h, d) = hit(SAFARI, 600);
        assert_eq!(machine_open(&h, d), None);
        let (h, d) = hit("Mozilla/4.0 (compatible; ms-office; MSOffice 16)", 600);
        assert_eq!(machine_open(&h, d), None, "Outlook desktop opens are people");
        let (h, _) = hit(SAFARI, 0);
        assert_eq!(machine_open(&h, None), None, "without a delivery time, timing says nothing");
    }

    #[test]
    fn proxies_prefetchers_and_instant_opens_are_machines() {
        let cases = [
            ("Mozilla/5.0", 600, "apple_mail_privacy_protection"),
            (
                "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
                600,
                "google_image_proxy",
            ),
            ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", 600, "yahoo_mail_proxy"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) BingPreview/1.0b", 600, "link_preview"),
            (SAFARI, 1, "soon_after_delivery"),
        ];
        for (agent, after, why) in cases {
            let (h, d) = hit(agent, after);
            assert_eq!(machine_open(&h, d), Some(why), "{agent}");
        }
        let (mut h, d) = hit(SAFARI, 600);
        h.head = true;
        assert_eq!(machine_open(&h, d), Some("head_request"));
    }

    #[test]
    fn a_person_clicking_later_is_not_a_scanner() {
        let (h, d) = hit(SAFARI, 60);
        assert_eq!(scanner_click(&h, d), None);
    }

    #[test]
    fn head_requests_instant_clicks_and_scanner_agents_are_scanners() {
        let (mut h, d) = hit(SAFARI, 60);
        h.head = true;
        assert_eq!(scanner_click(&h, d), Some("head_request"));
        let (h, d) = hit(SAFARI, 9);
        assert_eq!(scanner_click(&h, d), Some("soon_after_delivery"));
        let cases = [
            ("", "no_user_agent"),
            ("Barracuda Sentinel (EE)", "barracuda"),
            ("Mimecast-URL-Protect/1.0", "mimecast"),
            ("Proofpoint URL Defense", "proofpoint"),
            ("Microsoft Office Existence Discovery", "microsoft_office"),
            ("Symantec Web Security", "symantec"),
            ("Trend Micro InterScan", "trend_micro"),
            ("python-requests/2.31.0", "http_library"),
            ("curl/8.5.0", "http_library"),
            ("Go-http-client/1.1", "http_library"),
        ];
        for (agent, why) in cases {
            let (h, d) = hit(agent, 3600);
            assert_eq!(scanner_click(&h, d), Some(why), "{agent}");
        }
    }
}
