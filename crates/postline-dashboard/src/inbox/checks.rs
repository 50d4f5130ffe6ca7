//! What the developer inbox says about a message's HTML before it goes out for real:
//! constructs major email clients drop or mangle (a small, tested rule set in the
//! spirit of caniemail.com), and links and images recipients could not open.

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `warning` or `error`.
    pub severity: &'static str,
    pub message: String,
}

/// Gmail clips messages whose HTML is larger than this.
const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// (needle in the lower-cased HTML, severity, why)
const RULES: &[(&str, &str, &str)] = &[
    ("<script", "error", "Scripts are removed by every email client."),
    ("<form", "warning", "Forms do not work in Gmail, Outlook or Apple Mail's preview."),
    ("<iframe", "error", "Frames are not shown by any major email client."),
    ("<video", "warning", "Video is not played by Gmail or Outlook; link to it instead."),
    ("<audio", "warning", "Audio is not played by Gmail or Outlook; link to it instead."),
    ("<svg", "warning", "Inline SVG is not shown by Gmail or Outlook for Windows; use PNG."),
    ("rel=\"stylesheet\"", "warning", "External stylesheets are ignored by Gmail; inline the CSS."),
    ("display:flex", "warning", "Flexbox is not supported by Outlook for Windows; use tables for layout."),
    ("display:grid", "warning", "CSS grid is not supported by Gmail or Outlook; use tables for layout."),
    ("position:absolute", "warning", "Positioning is ignored by Gmail and Outlook."),
    ("position:fixed", "warning", "Positioning is ignored by Gmail and Outlook."),
    ("background-image", "warning", "Outlook for Windows ignores CSS background images."),
];

/// Compatibility findings for `html`.
pub fn compatibility(html: &str) -> Vec<Finding> {
    // Spaces are dropped so `display: flex` and `display:flex` read the same.
    let compact: String = html.to_ascii_lowercase().chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let lower = html.to_ascii_lowercase();
    let mut findings: Vec<Finding> = RULES
        .iter()
        .filter(
            |(needle, _, _)| if needle.starts_with('<') { lower.contains(needle) } else { compact.contains(needle) },
        )
        .map(|(_, severity, message)| Finding { severity, message: message.to_string() })
        .collect();
    if html.len() > GMAIL_CLIP_BYTES {
        findings.push(Finding {
            severity: "warning",
            message: format!("The HTML is {} KB: Gmail clips messages over 102 KB.", html.len() / 1024),
        });
    }
    findings
}

/// Every value of `attribute="…"` (or single-quoted) in `html`.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let needle = format!("{attribute}=");
    let mut values = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let start = from + found + needle.len();
        let rest = &html[start..];
        let value = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => rest[1..].split(quote).next().unwrap_or_default(),
            _ => rest.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or_default(),
        };
        values.push(value.trim().to_string());
        from = start;
    }
    values
}

/// Links and images recipients could not follow or load.
pub fn links(html: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (attribute, what) in [("href", "Link"), ("src", "Image")] {
        for url in attribute_values(html, attribute) {
            let lower = url.to_ascii_lowercase();
            let problem = if url.is_empty() || url == "#" {
                Some(("error", "goes nowhere"))
            } else if lower.starts_with("javascript:") {
                Some(("error", "runs script, which email clients block"))
            } else if lower.starts_with("mailto:")
                || lower.starts_with("tel:")
                || lower.starts_with("cid:")
                || lower.starts_with("data:")
            {
                None
            } else if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                Some(("error", "is relative: there is no page to be relative to in an email"))
            } else if ["://localhost", "://127.", "://[::1]", "://0.0.0.0"].iter().any(|h| lower.contains(h)) {
                Some(("error", "points at this machine, which recipients cannot reach"))
            } else if lower.starts_with("http://") {
                Some(("warning", "is not HTTPS: clients may warn or block it"))
            } else {
                None
            };
            if let Some((severity, why)) = problem {
                findings.push(Finding { severity, message: format!("{what} `{url}` {why}.") });
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_constructs_are_named() {
        let html = r#"<div style="display: flex"><script>x()</script><svg></svg></div>"#;
        let found: Vec<String> = compatibility(html).into_iter().map(|f| f.message).collect();
        assert!(found.iter().any(|m| m.contains("Scripts")));
        assert!(found.iter().any(|m| m.contains("Flexbox")), "spaces do not hide a rule: {found:?}");
        assert!(found.iter().any(|m| m.contains("SVG")));
        assert!(compatibility("<table><tr><td>Plain</td></tr></table>").is_empty());
        assert!(compatibility(&"x".repeat(103 * 1024)).iter().any(|f| f.message.contains("clips")));
    }

    #[test]
    fn links_recipients_cannot_use_are_found() {
        let html = r##"<a href="https://acme.dev/ok">ok</a><a href='http://acme.dev/plain'>p</a>
            <a href="javascript:alert(1)">j</a><a href="/relative">r</a><a href="#">n</a>
            <a href="mailto:a@b.c">m</a><img src="http://localhost:3000/logo.png"><img src="cid:logo">"##;
        let found: Vec<String> = links(html).into_iter().map(|f| f.message).collect();
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found.iter().any(|m| m.contains("http://acme.dev/plain") && m.contains("not HTTPS")));
        assert!(found.iter().any(|m| m.contains("javascript:")));
        assert!(found.iter().any(|m| m.contains("/relative") && m.contains("relative")));
        assert!(found.iter().any(|m| m.contains("localhost") && m.contains("this machine")));
        assert!(!found.iter().any(|m| m.contains("https://acme.dev/ok") || m.contains("mailto") || m.contains("cid:")));
    }
}
