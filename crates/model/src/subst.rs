//! `${...}` placeholder substitution on the raw text of a realm file, before it is parsed as
//! JSON, with the semantics of Keycloak 26's import (its string property replacer fed by an
//! environment-only resolver).
//!
//! Invariants: this module does no I/O of its own (the resolver is passed in; [`env_resolver`]
//! is the one place that reads the process environment); an unresolvable placeholder is never an
//! error, it stays as literal text and its name is reported; text that comes out unchanged is
//! returned borrowed; work is linear in the input size times a fixed bound on
//! re-expansion passes.
//!
//! Rules, in Keycloak's terms:
//! - `${NAME}` becomes the resolver's value for `NAME`; when there is none the placeholder stays
//!   as it is (exported realms carry message keys such as `${role_uma_authorization}`).
//! - `${NAME:default}`: the default follows the first `:` and may itself contain `:`.
//! - `${A,B}` and `${A,B:default}`: `A` is tried, then everything after the first comma as one
//!   name.
//! - The whole text between the braces is looked up first, before any `:` or `,` splitting.
//! - Braces nest: `${X:${Y}}` ends at the second `}`. When a pass has replaced something and
//!   its result still contains `${`, the whole result is substituted again; this is how a
//!   nested default such as `${Y}` gets resolved. Passes stop after [`MAX_PASSES`], or once
//!   the text has grown past 16 times the input plus 64 MiB, which ends self-referencing
//!   values such as `SELF=${SELF}`; what is still a placeholder then stays as literal text.
//! - `${/}` and `${:}` are the platform's file and path-list separators; `${}` stays.
//! - A `$` not followed by `{` is plain text; a `${` without its closing `}` leaves the rest of
//!   the text untouched.

use std::borrow::Cow;
use std::collections::HashSet;

/// Substitution passes over the whole text, at most (the first pass included).
pub const MAX_PASSES: usize = 16;

/// The outcome of [`substitute`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted<'a> {
    /// The text with every resolvable placeholder replaced; borrowed when it equals the input.
    pub text: Cow<'a, str>,
    /// The contents (text between `${` and `}`) of the placeholders left as literal text in
    /// [`Substituted::text`], in order of first appearance, each once. `${}` is not listed.
    pub unresolved: Vec<String>,
}

/// Replaces the `${...}` placeholders of `text`, looking names up with `resolve` (see the
/// module documentation for the rules).
pub fn substitute<'a>(text: &'a str, resolve: &dyn Fn(&str) -> Option<String>) -> Substituted<'a> {
    let first = pass(text, Some(resolve));
    let Some(mut current) = first.replaced else {
        return Substituted {
            text: Cow::Borrowed(text),
            unresolved: first.unresolved,
        };
    };
    let limit = growth_limit(text.len());
    let mut passes = 1;
    loop {
        if !current.contains("${") {
            return finish(text, current, Vec::new());
        }
        if passes >= MAX_PASSES || current.len() > limit {
            // Give up expanding: whatever is still a placeholder stays as literal text.
            let unresolved = pass(&current, None).unresolved;
            return finish(text, current, unresolved);
        }
        let next = pass(&current, Some(resolve));
        passes += 1;
        match next.replaced {
            Some(replaced) => current = replaced,
            None => return finish(text, current, next.unresolved),
        }
    }
}

/// Wraps up a substitution that ran more than one pass; a text that came back to the input
/// (a self-referencing value) is still returned borrowed.
fn finish(input: &str, text: String, unresolved: Vec<String>) -> Substituted<'_> {
    let text = if text == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(text)
    };
    Substituted { text, unresolved }
}

/// The size past which a substituted text is not expanded any further: far beyond any real
/// realm file, small enough to stop runaway growth.
fn growth_limit(input_len: usize) -> usize {
    input_len.saturating_mul(16).saturating_add(64 << 20)
}

/// A resolver reading the process environment, and nothing else (no `env.` prefix, no other
/// property sources), as Keycloak's import does.
pub fn env_resolver() -> impl Fn(&str) -> Option<String> {
    |name: &str| std::env::var(name).ok()
}

/// A name lookup: the value of a variable, if it has one.
type Resolver<'r> = dyn Fn(&str) -> Option<String> + 'r;

/// One left-to-right pass over `text`.
struct Pass {
    /// The new text, when at least one placeholder was replaced.
    replaced: Option<String>,
    /// Contents of the placeholders left as they were.
    unresolved: Vec<String>,
}

/// Runs one substitution pass; with `resolve` set to `None` nothing is replaced and every
/// placeholder is reported as unresolved.
fn pass(text: &str, resolve: Option<&Resolver<'_>>) -> Pass {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` before this index are already in `out` (when `out` exists).
    let mut copied = 0;
    let mut unresolved = Vec::new();
    let mut seen = HashSet::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("${") {
        let open = at + found;
        let Some(close) = matching_brace(bytes, open + 2) else {
            // Unclosed: the rest of the text stays as it is.
            break;
        };
        let key = &text[open + 2..close];
        at = close + 1;
        if key.is_empty() {
            continue;
        }
        match resolve.and_then(|resolve| resolve_key(key, resolve)) {
            Some(value) => {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied..open]);
                out.push_str(&value);
                copied = at;
            }
            None => {
                if seen.insert(key) {
                    unresolved.push(key.to_owned());
                }
            }
        }
    }
    let replaced = out.map(|mut out| {
        out.push_str(&text[copied..]);
        out
    });
    Pass {
        replaced,
        unresolved,
    }
}

/// Index of the `}` closing a placeholder whose contents start at `from`, counting every `{`
/// inside as an opening that needs its own `}`.
fn matching_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 1usize;
    for (offset, byte) in bytes.get(from..)?.iter().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// The value of one placeholder's contents, if any.
fn resolve_key(key: &str, resolve: &Resolver<'_>) -> Option<String> {
    match key {
        "/" => return Some(std::path::MAIN_SEPARATOR_STR.to_owned()),
        ":" => return Some(PATH_LIST_SEPARATOR.to_owned()),
        _ => {}
    }
    if let Some(value) = resolve(key) {
        return Some(value);
    }
    match key.find(':') {
        // A leading `:` is not a default separator: `${:x}` has no name to look up.
        Some(colon) if colon > 0 => {
            let name = &key[..colon];
            resolve(name)
                .or_else(|| resolve_pair(name, resolve))
                .or_else(|| Some(key[colon + 1..].to_owned()))
        }
        _ => resolve_pair(key, resolve),
    }
}

/// `A,B`: the value of `A`, else of `B` (everything after the first comma); either side may be
/// empty and is then skipped.
fn resolve_pair(key: &str, resolve: &Resolver<'_>) -> Option<String> {
    let (first, second) = key.split_once(',')?;
    let first = if first.is_empty() {
        None
    } else {
        resolve(first)
    };
    first.or_else(|| {
        if second.is_empty() {
            None
        } else {
            resolve(second)
        }
    })
}

/// The separator of path lists (`PATH`) on this platform.
const PATH_LIST_SEPARATOR: &str = if cfg!(windows) { ";" } else { ":" };

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Environment used by the table: `SELF` and `PING`/`PONG` refer to themselves.
    fn env() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("HOST", "id.example.com"),
            ("PORT", "8443"),
            ("EMPTY", ""),
            ("URL", "https://id.example.com:8443/x"),
            ("NESTED", "${HOST}"),
            ("SELF", "${SELF}"),
            ("PING", "${PONG}"),
            ("PONG", "${PING}"),
            ("DOUBLE", "${DOUBLE}${DOUBLE}"),
            ("A:b", "whole-key"),
            ("A,B", "whole-pair"),
            ("B,C", "second-rest"),
            ("DOLLAR", "$"),
            ("OPEN", "${"),
            ("env.X", "dotted"),
        ])
    }

    /// Substitutes `input` against [`env`] and compares text, borrowing and unresolved names.
    #[track_caller]
    fn check(input: &str, expected: &str, unresolved: &[&str]) {
        let env = env();
        let resolve = |name: &str| env.get(name).map(|value| (*value).to_owned());
        let got = substitute(input, &resolve);
        assert_eq!(got.text, expected, "text of {input:?}");
        assert_eq!(got.unresolved, unresolved, "unresolved of {input:?}");
        let borrowed = matches!(got.text, Cow::Borrowed(_));
        assert_eq!(borrowed, input == expected, "borrowing of {input:?}");
    }

    #[test]
    fn plain_names() {
        check("", "", &[]);
        check("no placeholders", "no placeholders", &[]);
        check("${HOST}", "id.example.com", &[]);
        check(
            "https://${HOST}:${PORT}/",
            "https://id.example.com:8443/",
            &[],
        );
        check("[${EMPTY}]", "[]", &[]);
        check("${env.X}", "dotted", &[]);
        check("$${HOST}", "$id.example.com", &[]);
    }

    #[test]
    fn unresolved_stays_literal_and_is_reported_once_in_order() {
        check(
            "${role_uma_authorization}",
            "${role_uma_authorization}",
            &["role_uma_authorization"],
        );
        check("${B1} ${A1} ${B1}", "${B1} ${A1} ${B1}", &["B1", "A1"]);
        check(
            "${HOST} ${MISSING}",
            "id.example.com ${MISSING}",
            &["MISSING"],
        );
        check(
            "${MISSING,ALSO_MISSING}",
            "${MISSING,ALSO_MISSING}",
            &["MISSING,ALSO_MISSING"],
        );
    }

    #[test]
    fn defaults_follow_the_first_colon() {
        check("${MISSING:fallback}", "fallback", &[]);
        check("${HOST:fallback}", "id.example.com", &[]);
        check("${MISSING:}", "", &[]);
        check(
            "${MISSING:http://localhost:8080/a}",
            "http://localhost:8080/a",
            &[],
        );
        check("${EMPTY:unused}", "", &[]);
        // The whole contents are looked up before splitting.
        check("${A:b}", "whole-key", &[]);
        // A leading colon names nothing, so there is no default either.
        check("${:x}", "${:x}", &[":x"]);
    }

    #[test]
    fn first_defined_of_two_names() {
        check("${MISSING,HOST}", "id.example.com", &[]);
        check("${PORT,HOST}", "8443", &[]);
        check("${MISSING,OTHER:dflt}", "dflt", &[]);
        check("${MISSING,PORT:dflt}", "8443", &[]);
        check("${,HOST}", "id.example.com", &[]);
        check("${HOST,}", "id.example.com", &[]);
        check("${A,B}", "whole-pair", &[]);
        // Everything after the first comma is one name.
        check("${MISSING,B,C}", "second-rest", &[]);
        check(
            "${MISSING,HOST,PORT}",
            "${MISSING,HOST,PORT}",
            &["MISSING,HOST,PORT"],
        );
    }

    #[test]
    fn nesting_and_repeated_passes() {
        check("${MISSING:${HOST}}", "id.example.com", &[]);
        check("${PORT:${HOST}}", "8443", &[]);
        check("${M1:${M2:deep}}", "deep", &[]);
        check(
            "${MISSING:${ALSO_MISSING}}",
            "${ALSO_MISSING}",
            &["ALSO_MISSING"],
        );
        check("${NESTED}", "id.example.com", &[]);
        check("${MISSING:{a}}", "{a}", &[]);
        // Pieces produced by different placeholders may join into a new one.
        check("${DOLLAR}{HOST}", "id.example.com", &[]);
        check("${OPEN}HOST}", "id.example.com", &[]);
        // A literal placeholder elsewhere does not stop a replacement from being kept.
        check("${KEEP} ${HOST}", "${KEEP} id.example.com", &["KEEP"]);
    }

    #[test]
    fn self_reference_stops_after_the_pass_limit() {
        check("${SELF}", "${SELF}", &["SELF"]);
        check("a ${PING} b", "a ${PING} b", &["PING"]);
        check("${HOST} ${SELF}", "id.example.com ${SELF}", &["SELF"]);
        let env = env();
        let resolve = |name: &str| env.get(name).map(|value| (*value).to_owned());
        let doubled = substitute("${DOUBLE}", &resolve);
        assert_eq!(doubled.unresolved, ["DOUBLE"]);
        assert_eq!(doubled.text.len(), "${DOUBLE}".len() << MAX_PASSES);
    }

    #[test]
    fn separators_and_empty_placeholder() {
        check("a${/}b", &format!("a{}b", std::path::MAIN_SEPARATOR), &[]);
        check("a${:}b", &format!("a{PATH_LIST_SEPARATOR}b"), &[]);
        check("${}", "${}", &[]);
        check("x${}y", "x${}y", &[]);
    }

    #[test]
    fn stray_dollars_and_unclosed_placeholders() {
        check("$", "$", &[]);
        check("$$", "$$", &[]);
        check("cost: $5 {x}", "cost: $5 {x}", &[]);
        check("${", "${", &[]);
        check("${HOST", "${HOST", &[]);
        check("${HOST} ${PORT", "id.example.com ${PORT", &[]);
        // An unclosed placeholder swallows the rest of the text, later ones included.
        check("${MISSING ${HOST}", "${MISSING ${HOST}", &[]);
        check("${MISSING:{ ${HOST}", "${MISSING:{ ${HOST}", &[]);
    }

    #[test]
    fn non_ascii_text_around_placeholders() {
        check("ü${HOST}日本", "üid.example.com日本", &[]);
        check("${MISSING:pässwörd-日本}", "pässwörd-日本", &[]);
        check("${日本}", "${日本}", &["日本"]);
    }

    #[test]
    fn large_text_with_only_literal_placeholders_is_borrowed() {
        let user = r#"{"username":"u","description":"${role_uma_authorization}","x":"$5"},"#;
        let text = user.repeat(100_000);
        let got = substitute(&text, &|_| None);
        assert!(matches!(got.text, Cow::Borrowed(_)));
        assert_eq!(got.unresolved, ["role_uma_authorization"]);
    }

    #[test]
    fn many_opening_braces_do_not_go_quadratic() {
        let text = "${".repeat(200_000) + &"{".repeat(200_000);
        let got = substitute(&text, &|_| Some("x".to_owned()));
        assert!(matches!(got.text, Cow::Borrowed(_)));
        let text = "${A}".repeat(200_000);
        let got = substitute(&text, &|_| Some("x".to_owned()));
        assert_eq!(got.text, "x".repeat(200_000));
    }

    #[test]
    fn env_resolver_reads_the_environment_only() {
        let resolve = env_resolver();
        // PATH is set in any environment the tests run in; the name below never is.
        assert_eq!(resolve("PATH"), std::env::var("PATH").ok());
        assert_eq!(resolve("PORTCULLIS_SUBST_TEST_UNSET_4f1c"), None);
        assert_eq!(resolve("a=b"), None);
        assert_eq!(resolve(""), None);
    }

    proptest! {
        #[test]
        fn text_without_placeholders_is_borrowed_and_identical(text in "[a-z$:{},/ ü]{0,64}") {
            prop_assume!(!text.contains("${"));
            let got = substitute(&text, &|_| Some("replaced".to_owned()));
            prop_assert!(matches!(got.text, Cow::Borrowed(_)));
            prop_assert_eq!(got.text.as_ref(), text.as_str());
            prop_assert!(got.unresolved.is_empty());
        }

        #[test]
        fn unresolvable_placeholders_leave_text_identical(text in "[a-z${},/ ]{0,64}") {
            // Without `:` there are no defaults; `${/}` is the one placeholder left that
            // resolves without a resolver.
            prop_assume!(!text.contains("${/}"));
            let got = substitute(&text, &|_| None);
            let borrowed = matches!(got.text, Cow::Borrowed(_));
            prop_assert!(borrowed);
            prop_assert_eq!(got.text.as_ref(), text.as_str());
        }
    }
}
