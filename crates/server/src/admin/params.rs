//! Query parameters of the admin API, validated before anything reaches the store: paging
//! (`first`, `max`), flags (`exact`, `enabled`, `briefRepresentation`, ...) and search text
//! with Keycloak's wildcard conventions. Pure functions; the handlers turn a [`ParamError`]
//! into a 400.
//!
//! Paging: `first` and `max` are non-negative integers; `-1` (Keycloak's documented default
//! value) means "not given", any other negative or non-numeric value is refused; `max` is
//! capped at [`MAX_PAGE`].

use portcullis_store::{Match, Page, TextFilter, UserQuery};

/// The most rows one request returns.
pub const MAX_PAGE: i64 = 1000;

/// Longest search text accepted.
const MAX_TEXT: usize = 255;

/// A parameter that cannot be used (the message names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(pub String);

/// A request's query parameters, in order.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, if given and not empty.
    pub fn text(&self, name: &str) -> Result<Option<&str>, ParamError> {
        match self
            .0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
        {
            Some(v) if v.len() > MAX_TEXT => {
                Err(ParamError(format!("Parameter '{name}' is too long")))
            }
            other => Ok(other),
        }
    }

    /// A `true`/`false` parameter.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ParamError> {
        match self.text(name)? {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ParamError(format!(
                "Parameter '{name}' must be true or false"
            ))),
        }
    }

    /// A non-negative integer; `-1` counts as not given.
    pub fn count(&self, name: &str) -> Result<Option<i64>, ParamError> {
        let Some(v) = self.text(name)? else {
            return Ok(None);
        };
        match v.trim().parse::<i64>() {
            Ok(-1) => Ok(None),
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err(ParamError(format!(
                "Parameter '{name}' must be a non-negative integer"
            ))),
        }
    }

    /// `first` and `max`, with `default_max` when `max` is not given; `max` capped.
    pub fn page(&self, default_max: i64) -> Result<Page, ParamError> {
        Ok(Page {
            first: self.count("first")?.unwrap_or(0),
            max: self.count("max")?.unwrap_or(default_max).min(MAX_PAGE),
        })
    }
}

/// What a `search` parameter of `GET /users` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSearch {
    /// `id:<uuid>`: that user.
    Id(String),
    /// Text matched against username, email, first and last name.
    Text(TextFilter),
}

/// Keycloak's search text conventions: `"foo"` exact, `*foo*` contains, `*foo` ends with,
/// `foo*` and plain `foo` start with. None when nothing is left to search for.
pub fn search_text(raw: &str) -> Option<TextFilter> {
    let t = raw.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        let inner = &t[1..t.len() - 1];
        return (!inner.is_empty()).then(|| TextFilter::new(inner, Match::Exact));
    }
    let lead = t.starts_with('*');
    let trail = t.ends_with('*');
    let inner = t.trim_matches('*');
    if inner.is_empty() {
        return None;
    }
    let mode = match (lead, trail) {
        (true, true) => Match::Infix,
        (true, false) => Match::Suffix,
        _ => Match::Prefix,
    };
    Some(TextFilter::new(inner, mode))
}

/// The `search` parameter of `GET /users`.
pub fn user_search(raw: &str) -> Option<UserSearch> {
    match raw.trim().strip_prefix("id:") {
        Some(id) => Some(UserSearch::Id(id.trim().to_owned())),
        None => search_text(raw).map(UserSearch::Text),
    }
}

/// The filters of `GET /users` and `GET /users/count`. Field filters (`username`, `email`,
/// `firstName`, `lastName`) match anywhere in the value, or exactly with `exact=true`.
pub fn user_query(q: &Query) -> Result<UserQuery, ParamError> {
    let mode = if q.flag("exact")?.unwrap_or(false) {
        Match::Exact
    } else {
        Match::Infix
    };
    let field = |name: &str| -> Result<Option<TextFilter>, ParamError> {
        Ok(q.text(name)?.map(|v| TextFilter::new(v.trim(), mode)))
    };
    let mut out = UserQuery {
        username: field("username")?,
        email: field("email")?,
        first_name: field("firstName")?,
        last_name: field("lastName")?,
        enabled: q.flag("enabled")?,
        email_verified: q.flag("emailVerified")?,
        ..Default::default()
    };
    match q.text("search")?.and_then(user_search) {
        Some(UserSearch::Id(id)) => out.id = Some(id),
        Some(UserSearch::Text(f)) => out.any = Some(f),
        None => {}
    }
    Ok(out)
}

/// A name filter of groups and roles: `search` matches anywhere in the name, or exactly with
/// `exact=true`.
pub fn name_filter(q: &Query) -> Result<Option<TextFilter>, ParamError> {
    let exact = q.flag("exact")?.unwrap_or(false);
    Ok(q.text("search")?
        .map(|v| TextFilter::new(v.trim(), if exact { Match::Exact } else { Match::Infix })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> Query {
        Query::parse(Some(raw))
    }

    #[test]
    fn paging_defaults_limits_and_refusals() {
        assert_eq!(q("").page(100), Ok(Page { first: 0, max: 100 }));
        assert_eq!(q("first=5&max=2").page(100), Ok(Page { first: 5, max: 2 }));
        assert_eq!(
            q("first=-1&max=-1").page(10),
            Ok(Page { first: 0, max: 10 })
        );
        assert_eq!(q("max=0").page(10), Ok(Page { first: 0, max: 0 }));
        assert_eq!(q("max=99999999").page(10).map(|p| p.max), Ok(MAX_PAGE));
        assert_eq!(q("first=").page(10), Ok(Page { first: 0, max: 10 }));
        for bad in [
            "first=-2",
            "max=-5",
            "first=abc",
            "max=1.5",
            "max=99999999999999999999",
        ] {
            assert!(q(bad).page(10).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_are_true_or_false() {
        assert_eq!(q("exact=TRUE").flag("exact"), Ok(Some(true)));
        assert_eq!(q("exact=false").flag("exact"), Ok(Some(false)));
        assert_eq!(q("").flag("exact"), Ok(None));
        assert!(q("exact=yes").flag("exact").is_err());
        assert!(
            q(&format!("search={}", "a".repeat(300)))
                .text("search")
                .is_err()
        );
    }

    #[test]
    fn search_text_wildcards() {
        let f = |t: &str, m| Some(TextFilter::new(t, m));
        assert_eq!(search_text("foo"), f("foo", Match::Prefix));
        assert_eq!(search_text("foo*"), f("foo", Match::Prefix));
        assert_eq!(search_text("*foo*"), f("foo", Match::Infix));
        assert_eq!(search_text("*foo"), f("foo", Match::Suffix));
        assert_eq!(search_text("\"Foo\""), f("Foo", Match::Exact));
        assert_eq!(search_text("*"), None);
        assert_eq!(search_text("\"\""), None);
        assert_eq!(search_text("  "), None);
        assert_eq!(
            user_search("id:abc"),
            Some(UserSearch::Id("abc".to_owned()))
        );
    }

    #[test]
    fn user_filters() {
        let uq = user_query(&q("search=al&username=Bo&enabled=true")).unwrap();
        assert_eq!(uq.any, Some(TextFilter::new("al", Match::Prefix)));
        assert_eq!(uq.username, Some(TextFilter::new("Bo", Match::Infix)));
        assert_eq!(uq.enabled, Some(true));
        assert_eq!(uq.email_verified, None);
        let uq = user_query(&q("email=a%40b.c&exact=true")).unwrap();
        assert_eq!(uq.email, Some(TextFilter::new("a@b.c", Match::Exact)));
        let uq = user_query(&q("search=id%3Axyz")).unwrap();
        assert_eq!(uq.id.as_deref(), Some("xyz"));
        assert!(user_query(&q("emailVerified=maybe")).is_err());
        assert_eq!(
            name_filter(&q("search=Ad&exact=true")).unwrap(),
            Some(TextFilter::new("Ad", Match::Exact))
        );
        assert_eq!(
            name_filter(&q("search=Ad")).unwrap(),
            Some(TextFilter::new("Ad", Match::Infix))
        );
    }
}
