//! Small pieces of markup shared by pages: times (machine-readable, shown in UTC),
//! status badges, sizes.

use maud::{Markup, html};
use postline_core::{clock::Timestamp, emails::EventKind};

/// A time as `<time>`, shown in UTC to the second.
pub fn time(at: Timestamp) -> Markup {
    html! { time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M:%S UTC")) } }
}

/// How serious a status is, for its badge's colour (the word is always shown too,
/// so colour is never the only signal).
fn tone(kind: EventKind) -> &'static str {
    use EventKind::*;
    match kind {
        Delivered | Opened | Clicked => "good",
        Bounced | Complained | Failed | Suppressed => "bad",
        DeliveryDelayed | Canceled | Unsubscribed => "warn",
        Queued | Scheduled | Sent => "neutral",
    }
}

/// A status badge.
pub fn status(kind: EventKind) -> Markup {
    html! { span class={ "badge " (tone(kind)) } { (kind.as_str().replace('_', " ")) } }
}

/// A byte count for people.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(2048), "2.0 KB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MB");
    }
}
