//! Markdown content (headings, paragraphs, lists, bold, italic, links, quotes, code,
//! rules) turned into email-safe HTML and its plain-text alternative.
//!
//! Email clients ignore style sheets unevenly, so every element carries its style
//! inline, and the body sits in the nested-table layout every client renders: an
//! outer table in the background colour, an inner one of the container width. Raw
//! HTML inside the Markdown is shown as text, and only `http`, `https` and `mailto`
//! links (or a `{{{…}}}` placeholder, filled per recipient later) become links, so a
//! Markdown source cannot smuggle script or `javascript:` URLs into an email.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::personalise::escape_html;

/// The broadcast-wide look (the reference's "global styles").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub background_color: String,
    pub text_color: String,
    pub link_color: String,
    /// The content column's width in pixels.
    pub container_width: u32,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            background_color: "#f6f6f7".into(),
            text_color: "#111111".into(),
            link_color: "#0b66e4".into(),
            container_width: 600,
        }
    }
}

const FONT: &str = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";

fn safe_link(destination: &str) -> bool {
    let lower = destination.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with("{{{") && lower.ends_with("}}}"))
}

fn parser(markdown: &str) -> Parser<'_> {
    Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH)
}

fn heading_style(level: HeadingLevel) -> (&'static str, &'static str) {
    match level {
        HeadingLevel::H1 => ("h1", "28px"),
        HeadingLevel::H2 => ("h2", "22px"),
        HeadingLevel::H3 => ("h3", "18px"),
        HeadingLevel::H4 => ("h4", "16px"),
        HeadingLevel::H5 => ("h5", "15px"),
        HeadingLevel::H6 => ("h6", "14px"),
    }
}

/// The content's HTML, inline-styled, without the surrounding layout.
pub fn content_html(markdown: &str, style: &Style) -> String {
    let mut out = String::new();
    // Whether each open link was rendered as an anchor (unsafe ones are plain text).
    let mut links: Vec<bool> = Vec::new();
    for event in parser(markdown) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.push_str("<p style=\"margin:0 0 16px\">"),
                Tag::Heading { level, .. } => {
                    let (name, size) = heading_style(level);
                    out.push_str(&format!("<{name} style=\"margin:24px 0 12px;font-size:{size};line-height:1.3\">"));
                }
                Tag::BlockQuote(_) => out.push_str(
                    "<blockquote style=\"margin:0 0 16px;padding:4px 0 4px 16px;border-left:4px solid #d0d5dd;\
                     color:#475467\">",
                ),
                Tag::CodeBlock(_) => out.push_str(
                    "<pre style=\"margin:0 0 16px;padding:12px;background:#f2f4f7;border-radius:6px;\
                     white-space:pre-wrap;font-family:Menlo,Consolas,monospace;font-size:14px\"><code>",
                ),
                Tag::List(Some(start)) => {
                    out.push_str(&format!("<ol start=\"{start}\" style=\"margin:0 0 16px;padding-left:24px\">"))
                }
                Tag::List(None) => out.push_str("<ul style=\"margin:0 0 16px;padding-left:24px\">"),
                Tag::Item => out.push_str("<li style=\"margin:0 0 4px\">"),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<s>"),
                Tag::Link { dest_url, title, .. } => {
                    let safe = safe_link(&dest_url);
                    if safe {
                        out.push_str(&format!(
                            "<a href=\"{}\" style=\"color:{};text-decoration:underline\"",
                            escape_html(dest_url.trim()),
                            style.link_color
                        ));
                        if !title.is_empty() {
                            out.push_str(&format!(" title=\"{}\"", escape_html(&title)));
                        }
                        out.push('>');
                    }
                    links.push(safe);
                }
                // Images are not part of the supported Markdown: their alt text shows.
                Tag::Image { .. } => {}
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.push_str("</p>"),
                TagEnd::Heading(level) => out.push_str(&format!("</{}>", heading_style(level).0)),
                TagEnd::BlockQuote(_) => out.push_str("</blockquote>"),
                TagEnd::CodeBlock => out.push_str("</code></pre>"),
                TagEnd::List(true) => out.push_str("</ol>"),
                TagEnd::List(false) => out.push_str("</ul>"),
                TagEnd::Item => out.push_str("</li>"),
                TagEnd::Emphasis => out.push_str("</em>"),
                TagEnd::Strong => out.push_str("</strong>"),
                TagEnd::Strikethrough => out.push_str("</s>"),
                TagEnd::Link if links.pop().unwrap_or(false) => out.push_str("</a>"),
                _ => {}
            },
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => out.push_str(&escape_html(&text)),
            Event::Code(code) => out.push_str(&format!(
                "<code style=\"padding:1px 4px;background:#f2f4f7;border-radius:4px;font-family:Menlo,Consolas,\
                 monospace;font-size:90%\">{}</code>",
                escape_html(&code)
            )),
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br>"),
            Event::Rule => out.push_str("<hr style=\"border:0;border-top:1px solid #e4e7ec;margin:24px 0\">"),
            _ => {}
        }
    }
    out
}

/// A complete HTML email: the content in the layout, in the style's colours.
pub fn to_email_html(markdown: &str, style: &Style) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"margin:0;padding:0;background-color:{bg}\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"background-color:{bg}\"><tr><td align=\"center\" style=\"padding:24px 12px\">\
         <table role=\"presentation\" width=\"{width}\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"width:100%;max-width:{width}px;background-color:#ffffff;border-radius:8px\">\
         <tr><td style=\"padding:32px;font-family:{FONT};font-size:16px;line-height:1.6;color:{fg}\">\
         {content}</td></tr></table></td></tr></table></body></html>",
        bg = style.background_color,
        fg = style.text_color,
        width = style.container_width,
        content = content_html(markdown, style),
    )
}

/// The plain-text alternative: structure kept as text (list markers, `>` quotes,
/// underlined top headings), links as `text (url)`, emphasis dropped.
pub fn to_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quote_depth = 0usize;
    let mut link_targets: Vec<String> = Vec::new();
    let mut heading_start: Option<(usize, HeadingLevel)> = None;
    let block_break = |out: &mut String| {
        let trimmed = out.trim_end_matches([' ', '\n']).len();
        out.truncate(trimmed);
        if !out.is_empty() {
            out.push_str("\n\n");
        }
    };
    let line_start = |out: &mut String, quote_depth: usize| {
        if out.ends_with('\n') || out.is_empty() {
            out.push_str(&"> ".repeat(quote_depth));
        }
    };
    for event in parser(markdown) {
        match event {
            Event::Start(Tag::Paragraph) if lists.is_empty() => block_break(&mut out),
            Event::Start(Tag::Heading { level, .. }) => {
                block_break(&mut out);
                heading_start = Some((out.len(), level));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, level)) = heading_start.take() {
                    let width = out[start..].chars().count();
                    match level {
                        HeadingLevel::H1 => out.push_str(&format!("\n{}", "=".repeat(width))),
                        HeadingLevel::H2 => out.push_str(&format!("\n{}", "-".repeat(width))),
                        _ => {}
                    }
                }
            }
            Event::Start(Tag::BlockQuote(_)) => {
                block_break(&mut out);
                quote_depth += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => quote_depth = quote_depth.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => block_break(&mut out),
            Event::Start(Tag::List(start)) => {
                if lists.is_empty() {
                    block_break(&mut out);
                } else if !out.ends_with('\n') {
                    out.push('\n');
                }
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                if !out.ends_with('\n') && !out.is_empty() {
                    out.push('\n');
                }
                line_start(&mut out, quote_depth);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                let marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        marker
                    }
                    _ => "- ".to_string(),
                };
                out.push_str(&indent);
                out.push_str(&marker);
            }
            Event::Start(Tag::Link { dest_url, .. }) => link_targets.push(dest_url.trim().to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(target) = link_targets.pop()
                    && safe_link(&target)
                    && !out.ends_with(&target)
                {
                    out.push_str(&format!(" ({target})"));
                }
            }
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                for (index, line) in text.split('\n').enumerate() {
                    if index > 0 {
                        out.push('\n');
                    }
                    line_start(&mut out, quote_depth);
                    out.push_str(line);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                out.push('\n');
            }
            Event::Rule => {
                block_break(&mut out);
                out.push_str("----------");
            }
            _ => {}
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "# Hello {{{FIRST_NAME|there}}}\n\nThis is **bold**, *italic* and a [link](https://acme.dev/a?b=1&c=2).\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n[Unsubscribe]({{{RESEND_UNSUBSCRIBE_URL}}})";

    #[test]
    fn markdown_becomes_inline_styled_html_in_an_email_layout() {
        let style = Style { link_color: "#ff5500".into(), container_width: 560, ..Style::default() };
        let html = to_email_html(SOURCE, &style);
        assert!(html.contains("<h1 style=\""), "{html}");
        assert!(html.contains("Hello {{{FIRST_NAME|there}}}</h1>"), "placeholders survive for personalisation");
        assert!(html.contains("<strong>bold</strong>") && html.contains("<em>italic</em>"));
        assert!(html.contains("href=\"https://acme.dev/a?b=1&amp;c=2\" style=\"color:#ff5500"), "{html}");
        assert!(html.contains("<ul style=") && html.contains("<ol start=\"1\"") && html.contains("<blockquote"));
        assert!(html.contains("href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\""), "{html}");
        assert!(html.contains("max-width:560px") && html.contains("background-color:#f6f6f7"));
        assert!(!html.contains("<style"), "no style sheet: clients drop them");
    }

    #[test]
    fn raw_html_and_unsafe_links_are_neutralised() {
        let html = content_html(
            "<script>alert(1)</script>\n\nHi <b onclick=x>there</b> [click](javascript:alert(1)) [data](data:text/html,x)",
            &Style::default(),
        );
        assert!(!html.contains("<script") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<b onclick"), "{html}");
        assert!(!html.contains("href="), "no unsafe link becomes an anchor: {html}");
        assert!(html.contains("click") && html.contains("data"), "their text stays: {html}");
    }

    #[test]
    fn the_text_alternative_keeps_the_structure_readably() {
        let text = to_text(SOURCE);
        let expected = "Hello {{{FIRST_NAME|there}}}\n============================\n\nThis is bold, italic and a link (https://acme.dev/a?b=1&c=2).\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\nUnsubscribe ({{{RESEND_UNSUBSCRIBE_URL}}})";
        assert_eq!(text, expected);
    }
}
