//! The one rule for language tags, shared by a finding's translations and the SDK's own
//! words (durations in Russian): the host picks a reader's translation by it too.

/// Whether language tags `a` and `b` name the same language: `ru`, `RU` and `ru-RU` do.
pub fn same_language(a: &str, b: &str) -> bool {
    let primary = |tag: &str| tag.split(['-', '_']).next().unwrap_or_default().to_owned();
    let (a, b) = (primary(a), primary(b));
    !a.is_empty() && a.eq_ignore_ascii_case(&b)
}
