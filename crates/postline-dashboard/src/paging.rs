//! Cursor pages of list pages: the `after`/`before` query parameters as a core
//! cursor, and the current filters carried into the Newer/Older links.

use postline_core::pagination::Cursor;

use crate::session::percent;

/// The cursor `after` or `before` names (blank ones are absent); the first page else.
pub fn cursor(after: &Option<String>, before: &Option<String>) -> Cursor {
    match (after, before) {
        (Some(after), _) if !after.is_empty() => Cursor::After(after.clone()),
        (_, Some(before)) if !before.is_empty() => Cursor::Before(before.clone()),
        _ => Cursor::Start,
    }
}

/// `&name=value` for each filter given, for the pagination links.
pub fn kept_filters(filters: &[(&str, &Option<String>)]) -> String {
    filters
        .iter()
        .filter_map(|(name, value)| {
            value.as_deref().filter(|v| !v.is_empty()).map(|v| format!("&{name}={}", percent(v)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_parameters_are_absent() {
        assert_eq!(cursor(&Some(String::new()), &Some("b".into())), Cursor::Before("b".into()));
        assert_eq!(cursor(&None, &None), Cursor::Start);
        assert_eq!(
            kept_filters(&[("q", &Some("a b".into())), ("tag", &Some(String::new())), ("x", &None)]),
            "&q=a%20b"
        );
    }
}
