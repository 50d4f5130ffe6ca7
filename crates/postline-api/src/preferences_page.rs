//! The preferences page's HTML: server-rendered, no script, styled with the team's
//! colours and logo, every piece of text escaped. One form lists the topics a
//! recipient may choose (ticked when subscribed) with two buttons: save the choice,
//! or unsubscribe from everything.

use postline_core::{
    audience::{
        Subscription,
        unsubscribe::{Preferences, UnsubscribePage},
    },
    personalise::escape_html as escape,
};

/// What the page confirms after a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Saved,
    Unsubscribed,
}

/// The page around `content`, in the team's colours (checked to be hex colours
/// when saved, so they are safe inside the style sheet).
fn layout(page: &UnsubscribePage, title: &str, content: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
         <style>\
         body{{margin:0;padding:2rem 1rem;background:{bg};color:{fg};font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}}\
         main{{max-width:34rem;margin:0 auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}}\
         .logo{{max-height:48px;max-width:200px;display:block;margin-bottom:1.5rem}}\
         h1{{font-size:1.5rem;margin:0 0 .5rem}}\
         .notice{{background:#ecfdf3;border:1px solid #abefc6;color:#067647;border-radius:8px;padding:.75rem 1rem}}\
         .state{{background:#fef3f2;border:1px solid #fecdca;color:#b42318;border-radius:8px;padding:.75rem 1rem}}\
         fieldset{{border:0;padding:0;margin:1.5rem 0}}\
         legend{{font-weight:600;margin-bottom:.5rem}}\
         label{{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem 0;border-top:1px solid #eee;cursor:pointer}}\
         label small{{display:block;color:#666}}\
         input[type=checkbox]{{margin-top:.3rem;accent-color:{accent}}}\
         .actions{{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}}\
         button{{font:inherit;border-radius:8px;padding:.6rem 1.1rem;cursor:pointer}}\
         .primary{{background:{accent};color:#fff;border:1px solid {accent}}}\
         .secondary{{background:transparent;color:{fg};border:1px solid #ccc}}\
         footer{{text-align:center;color:#888;font-size:.85rem;margin-top:1.5rem}}\
         </style></head><body><main>{content}</main>{footer}</body></html>",
        title = escape(title),
        bg = page.background_color,
        fg = page.text_color,
        accent = page.accent_color,
        footer =
            page.company_name.as_ref().map(|name| format!("<footer>{}</footer>", escape(name))).unwrap_or_default(),
    )
}

fn logo(page: &UnsubscribePage) -> String {
    page.logo_url
        .as_ref()
        .map(|url| {
            let alt = page.company_name.as_deref().unwrap_or("Logo");
            format!("<img class=\"logo\" src=\"{}\" alt=\"{}\">", escape(url), escape(alt))
        })
        .unwrap_or_default()
}

/// The preferences page, with a confirmation after a submission.
pub fn render(preferences: &Preferences, notice: Option<Notice>) -> String {
    let page = &preferences.page;
    let mut content = logo(page);
    content.push_str(&format!("<h1>{}</h1>", escape(&page.title)));
    match notice {
        Some(Notice::Saved) => {
            content.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", escape(&page.saved_message)))
        }
        Some(Notice::Unsubscribed) if preferences.unsubscribed => {
            content.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", escape(&page.unsubscribed_message)))
        }
        Some(Notice::Unsubscribed) => {
            content.push_str("<p class=\"notice\" role=\"status\">You have been unsubscribed from these emails.</p>")
        }
        None => {}
    }
    content.push_str(&format!(
        "<p>{}</p><p>Preferences for <strong id=\"recipient\">{}</strong></p>",
        escape(&page.description),
        escape(&preferences.recipient)
    ));
    if preferences.unsubscribed {
        content.push_str(
            "<p class=\"state\" id=\"state\">You are unsubscribed from all emails. Choose topics and save to \
             receive them again.</p>",
        );
    }
    content.push_str("<form method=\"post\">");
    if !preferences.topics.is_empty() {
        content.push_str("<fieldset><legend>Topics</legend>");
        for choice in &preferences.topics {
            let topic = &choice.topic;
            let checked = choice.subscription == Subscription::OptIn && !preferences.unsubscribed;
            let description =
                topic.description.as_ref().map(|d| format!("<small>{}</small>", escape(d))).unwrap_or_default();
            content.push_str(&format!(
                "<label><input type=\"checkbox\" name=\"topic\" value=\"{id}\" id=\"topic-{id}\"{checked}>\
                 <span><span class=\"name\">{name}</span>{description}</span></label>",
                id = topic.id,
                checked = if checked { " checked" } else { "" },
                name = escape(&topic.name),
            ));
        }
        content.push_str("</fieldset>");
    }
    content.push_str("<div class=\"actions\">");
    if !preferences.topics.is_empty() {
        content.push_str(&format!(
            "<button type=\"submit\" class=\"primary\" name=\"action\" value=\"save\" id=\"save\">{}</button>",
            escape(&page.save_button)
        ));
    } else if preferences.unsubscribed {
        content.push_str(
            "<button type=\"submit\" class=\"primary\" name=\"action\" value=\"save\" id=\"save\">Subscribe again</button>",
        );
    }
    if !preferences.unsubscribed {
        content.push_str(&format!(
            "<button type=\"submit\" class=\"secondary\" name=\"action\" value=\"unsubscribe_all\" \
             id=\"unsubscribe-all\">{}</button>",
            escape(&page.unsubscribe_button)
        ));
    }
    content.push_str("</div></form>");
    layout(page, &page.title, &content)
}

/// A page with a heading and one message (errors, invalid links).
pub fn message_page(title: &str, message: &str) -> String {
    let content = format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message));
    layout(&UnsubscribePage::default(), title, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use postline_core::{
        audience::{ContactTopic, Topic, Visibility},
        ids::{TeamId, TopicId},
    };

    fn preferences(unsubscribed: bool) -> Preferences {
        let now = chrono::Utc::now();
        let topic = |name: &str, subscription| ContactTopic {
            topic: Topic {
                id: TopicId::new(),
                team_id: TeamId::new(),
                name: name.into(),
                description: Some("<b>weekly</b>".into()),
                default_subscription: Subscription::OptIn,
                visibility: Visibility::Public,
                created_at: now,
                updated_at: now,
            },
            subscription,
        };
        Preferences {
            recipient: "ann@acme.dev".into(),
            unsubscribed,
            topic: None,
            topics: vec![topic("News & <updates>", Subscription::OptIn), topic("Offers", Subscription::OptOut)],
            page: UnsubscribePage {
                company_name: Some("Acme \"Inc\"".into()),
                logo_url: Some("https://acme.dev/logo.png?a=1&b=2".into()),
                accent_color: "#ff5500".into(),
                ..UnsubscribePage::default()
            },
        }
    }

    #[test]
    fn the_page_escapes_text_and_ticks_subscribed_topics() {
        let html = render(&preferences(false), Some(Notice::Saved));
        assert!(html.contains("News &amp; &lt;updates&gt;"), "{html}");
        assert!(html.contains("&lt;b&gt;weekly&lt;/b&gt;"));
        assert!(html.contains("src=\"https://acme.dev/logo.png?a=1&amp;b=2\""));
        assert!(html.contains("Acme &quot;Inc&quot;"));
        assert!(html.contains("background:#ff5500"));
        assert_eq!(html.matches(" checked").count(), 1, "only the opted-in topic is ticked");
        assert!(html.contains("Your preferences have been saved."));
        assert!(html.contains("id=\"unsubscribe-all\""));
    }

    #[test]
    fn an_unsubscribed_recipient_sees_nothing_ticked_and_how_to_come_back() {
        let html = render(&preferences(true), None);
        assert!(!html.contains(" checked"), "{html}");
        assert!(html.contains("id=\"state\""));
        assert!(!html.contains("id=\"unsubscribe-all\""));
    }
}
