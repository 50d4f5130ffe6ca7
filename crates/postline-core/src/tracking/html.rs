//! Instrumenting an email's HTML part for tracking: the open pixel before `</body>`
//! and every trackable `<a href>` pointed at its signed click link.
//!
//! This is a small scanner over the markup, not a regex: it walks tags, skips
//! comments and the raw text of `<style>`/`<script>`, reads attributes with single,
//! double or no quotes and case-insensitive names, and decodes character references
//! in `href` so the token carries the URL a browser would have followed. Everything
//! it does not rewrite is copied byte for byte.
//!
//! Never rewritten: links that are not `http(s)` (`mailto:`, `tel:`, `#anchors`,
//! placeholders such as `{{{RESEND_UNSUBSCRIBE_URL}}}`), the recipient's unsubscribe
//! link, links already on the tracking host, links that do not parse as URLs, and
//! links marked with the opt-out attribute [`OPT_OUT_ATTRIBUTE`]`="false"`.
//! Conditional comments (`<!--[if mso]>…`) are scanned: Outlook renders their markup.

use super::TrackingLinks;

/// `<a href="…" data-postline-track="false">` keeps its link as written.
pub const OPT_OUT_ATTRIBUTE: &str = "data-postline-track";

/// The HTML with the open pixel (when open tracking is on) and click links (when
/// click tracking is on). Pure: the same input gives the same output.
pub fn instrument_html(html: &str, links: &TrackingLinks) -> String {
    let clicked = if links.click { rewrite_links(html, links) } else { html.to_string() };
    if links.open { insert_pixel(clicked, &links.open_url()) } else { clicked }
}

/// The pixel before the last `</body>`, or at the end when there is none. A 1×1
/// image sized by attributes and style rather than hidden with `display:none`,
/// which some clients never fetch.
fn insert_pixel(mut html: String, url: &str) -> String {
    let pixel = format!(
        "<img src=\"{url}\" width=\"1\" height=\"1\" alt=\"\" border=\"0\" \
         style=\"width:1px;height:1px;border:0;margin:0;padding:0;overflow:hidden\">"
    );
    match html.to_ascii_lowercase().rfind("</body") {
        Some(at) => html.insert_str(at, &pixel),
        None => html.push_str(&pixel),
    }
    html
}

fn rewrite_links(html: &str, links: &TrackingLinks) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = html[at..].find('<') {
        let start = at + found;
        let rest = &html[start..];
        if rest.starts_with("<!--[if") {
            at = start + "<!--[if".len();
        } else if let Some(comment) = rest.strip_prefix("<!--") {
            match comment.find("-->") {
                Some(end) => at = start + 4 + end + 3,
                None => break,
            }
        } else if let Some(name @ ("style" | "script")) = ["style", "script"].into_iter().find(|n| is_tag(rest, n)) {
            let closing = format!("</{name}");
            match rest.to_ascii_lowercase().find(&closing) {
                Some(end) => at = start + end + closing.len(),
                None => break,
            }
        } else if is_tag(rest, "a") {
            let Some(tag) = parse_tag(html, start) else { break };
            if let Some(rewritten) = rewrite_anchor(html, &tag, links) {
                out.push_str(&html[copied..start]);
                out.push_str(&rewritten);
                copied = tag.end;
            }
            at = tag.end;
        } else {
            at = start + 1;
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// Whether `rest` opens the element `name` (`<a>`, `<A href…`, `<a/`), not `<abbr>`.
fn is_tag(rest: &str, name: &str) -> bool {
    let bytes = rest.as_bytes();
    bytes.len() > name.len() + 1
        && rest[1..].get(..name.len()).is_some_and(|n| n.eq_ignore_ascii_case(name))
        && matches!(bytes[name.len() + 1], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>' | b'/')
}

/// One attribute: its lower-cased name, its raw value and where the value (with its
/// quotes) sits in the document.
struct Attribute {
    name: String,
    value: Option<String>,
    span: Option<(usize, usize)>,
}

/// A start tag: where its `<` is, its attributes and the index just past its `>`.
struct Tag {
    start: usize,
    attributes: Vec<Attribute>,
    end: usize,
}

/// Reads the start tag at `start` (which is `<` followed by the tag name).
fn parse_tag(html: &str, start: usize) -> Option<Tag> {
    let bytes = html.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() && !is_space(bytes[i]) && bytes[i] != b'>' && bytes[i] != b'/' {
        i += 1;
    }
    let mut attributes = Vec::new();
    loop {
        while i < bytes.len() && (is_space(bytes[i]) || bytes[i] == b'/') {
            i += 1;
        }
        match bytes.get(i) {
            None => return None,
            Some(b'>') => return Some(Tag { start, attributes, end: i + 1 }),
            Some(_) => {}
        }
        let name_start = i;
        while i < bytes.len() && !is_space(bytes[i]) && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut j = i;
        while j < bytes.len() && is_space(bytes[j]) {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            attributes.push(Attribute { name, value: None, span: None });
            continue;
        }
        j += 1;
        while j < bytes.len() && is_space(bytes[j]) {
            j += 1;
        }
        let value_start = j;
        let (value, value_end) = match bytes.get(j) {
            Some(&quote @ (b'"' | b'\'')) => {
                let close = html[j + 1..].find(quote as char)? + j + 1;
                (html[j + 1..close].to_string(), close + 1)
            }
            Some(_) => {
                while j < bytes.len() && !is_space(bytes[j]) && bytes[j] != b'>' {
                    j += 1;
                }
                (html[value_start..j].to_string(), j)
            }
            None => return None,
        };
        attributes.push(Attribute { name, value: Some(value), span: Some((value_start, value_end)) });
        i = value_end;
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// The anchor tag with its `href` pointed at the click link, or `None` to keep it.
fn rewrite_anchor(html: &str, tag: &Tag, links: &TrackingLinks) -> Option<String> {
    let opted_out = tag.attributes.iter().any(|a| {
        a.name == OPT_OUT_ATTRIBUTE && a.value.as_deref().is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    });
    if opted_out {
        return None;
    }
    let href = tag.attributes.iter().find(|a| a.name == "href")?;
    let (start, end) = href.span?;
    let target = trackable_url(href.value.as_deref()?, links)?;
    Some(format!("{}\"{}\"{}", &html[tag.start..start], links.click_url(&target), &html[end..tag.end]))
}

/// The URL a browser would follow for this `href` value, if it is one to track.
fn trackable_url(raw: &str, links: &TrackingLinks) -> Option<String> {
    // Browsers drop surrounding whitespace and any tab or newline inside a URL.
    let decoded: String = decode_references(raw.trim()).chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let lower = decoded.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return None;
    }
    if links.keep.iter().any(|prefix| decoded.starts_with(prefix.as_str())) {
        return None;
    }
    url::Url::parse(&decoded).ok()?;
    Some(decoded)
}

/// Decodes the character references that occur in URLs (`&amp;`, `&#38;`, `&#x26;`,
/// and the other XML ones); anything else is left as written.
fn decode_references(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)
                }),
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::{
        ids::{EmailId, TeamId},
        signing::{Purpose, Signer},
        tracking::ClickClaims,
    };

    fn links(open: bool, click: bool) -> TrackingLinks {
        TrackingLinks {
            base: "https://links.acme.dev".into(),
            open,
            click,
            keep: vec!["https://mail.example/unsubscribe/".into(), "https://links.acme.dev/t/".into()],
            team: TeamId::new(),
            email: EmailId::new(),
            recipient: "bob@example.org".into(),
            signer: Signer::new(vec![9; 32]),
            expires_at: Utc::now() + Duration::days(1),
        }
    }

    /// The targets of the click links in `html`, in order.
    fn targets(html: &str, links: &TrackingLinks) -> Vec<String> {
        html.split("https://links.acme.dev/t/c/")
            .skip(1)
            .map(|rest| {
                let token = rest.split('"').next().unwrap();
                let claims: ClickClaims = links.signer.verify(Purpose::Click, token, Utc::now()).unwrap();
                claims.url
            })
            .collect()
    }

    #[test]
    fn http_links_point_at_signed_click_links_carrying_the_decoded_url() {
        let links = links(false, true);
        let html = "<p><a href=\"https://acme.dev/a?b=1&amp;c=2\">A</a> <A class=x HREF='http://acme.dev/&#x42;'>B</A> \
                    <a\nhref=https://acme.dev/u target=_blank>C</a> <abbr href=\"https://acme.dev/no\">x</abbr></p>";
        let out = instrument_html(html, &links);
        assert_eq!(
            targets(&out, &links),
            ["https://acme.dev/a?b=1&c=2", "http://acme.dev/B", "https://acme.dev/u"],
            "{out}"
        );
        assert!(out.contains("<A class=x HREF=\"https://links.acme.dev/t/c/"), "other attributes are kept: {out}");
        assert!(out.contains("\" target=_blank>C</a>"), "{out}");
        assert!(out.contains("<abbr href=\"https://acme.dev/no\">"), "only anchors: {out}");
        assert!(!out.contains("<img"), "no pixel without open tracking");
    }

    #[test]
    fn links_that_are_not_tracked_stay_as_written() {
        let links = links(true, true);
        let html = "<a href=\"mailto:hi@acme.dev\">m</a><a href='tel:+15550100'>t</a><a href=\"#top\">#</a>\
                    <a href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\">u</a><a href=\"https://mail.example/unsubscribe/x.y\">u2</a>\
                    <a data-postline-track=\"false\" href=\"https://acme.dev/private\">p</a><a href=\"https://\">bad</a>\
                    <a name=\"anchor\">n</a><!-- <a href=\"https://acme.dev/commented\"> -->\
                    <style>a[href^=\"<a href='https://acme.dev/css'\"]{}</style>";
        let out = instrument_html(html, &links);
        assert!(out.starts_with(html), "{out}");
        assert!(targets(&out, &links).is_empty(), "{out}");
    }

    #[test]
    fn conditional_comments_are_instrumented_because_outlook_renders_them() {
        let links = links(false, true);
        let out = instrument_html("<!--[if mso]><a href=\"https://acme.dev/o\">o</a><![endif]-->", &links);
        assert_eq!(targets(&out, &links), ["https://acme.dev/o"]);
    }

    #[test]
    fn the_pixel_goes_before_the_body_end_or_at_the_end() {
        let links = links(true, false);
        let out = instrument_html("<html><BODY><a href=\"https://acme.dev\">x</a></BODY></html>", &links);
        let pixel = out.find("<img src=\"https://links.acme.dev/t/o/").expect("a pixel");
        assert!(pixel < out.find("</BODY>").unwrap(), "{out}");
        assert!(out.contains("width=\"1\" height=\"1\" alt=\"\""), "{out}");
        assert!(out.contains("href=\"https://acme.dev\""), "no click links without click tracking");
        let fragment = instrument_html("<p>Hi</p>", &links);
        assert!(fragment.starts_with("<p>Hi</p><img "), "{fragment}");
    }

    #[test]
    fn malformed_markup_is_copied_unchanged() {
        let links = links(false, true);
        for html in ["<a href=\"https://acme.dev/x", "<a", "<!-- never closed <a href=\"https://x.dev\">", "<", "a < b"]
        {
            assert_eq!(instrument_html(html, &links), html);
        }
    }

    #[test]
    fn references_are_decoded() {
        assert_eq!(decode_references("a&amp;b&#38;c&#x26;d&quot;&unknown;&"), "a&b&c&d\"&unknown;&");
    }
}
