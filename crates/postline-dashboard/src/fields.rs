//! Labelled form controls every dashboard page shares, each linked to its hint and
//! error (`aria-describedby`, `aria-invalid`), so a refusal is read out with its field
//! and shown beside it.

use maud::{Markup, html};

/// `aria-describedby` for a field with an optional hint and error.
pub fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> =
        [hint.then(|| format!("{id}-hint")), error.then(|| format!("{id}-error"))].into_iter().flatten().collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A field's hint and error.
pub fn notes(id: &str, hint: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(hint) = hint { p.muted.hint id={ (id) "-hint" } { (hint) } }
        @if let Some(message) = error { p.field-error id={ (id) "-error" } { (message) } }
    }
}

/// A labelled input (`kind` is its `type`); `name` is also its `id`.
pub fn input(kind: &str, name: &str, label: &str, value: &str, hint: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) type=(kind) name=(name) value=(value) autocomplete="off"
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[described_by(name, hint.is_some(), error.is_some())];
            (notes(name, hint, error))
        }
    }
}

/// A labelled select of `(value, label)` options.
pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    hint: Option<&str>,
    error: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) aria-invalid=[error.map(|_| "true")]
                aria-describedby=[described_by(name, hint.is_some(), error.is_some())] {
                @for (value, text) in options { option value=(value) selected[value == chosen] { (text) } }
            }
            (notes(name, hint, error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_linked_to_their_field() {
        let html = input("text", "name", "Name", "x<y", Some("A hint"), Some("Too long")).into_string();
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("aria-describedby=\"name-hint name-error\""));
        assert!(html.contains("value=\"x&lt;y\""), "{html}");
        assert!(html.contains("<p class=\"field-error\" id=\"name-error\">Too long</p>"));
        let plain = input("text", "name", "Name", "", None, None).into_string();
        assert!(!plain.contains("aria-describedby") && !plain.contains("aria-invalid"));
    }
}
