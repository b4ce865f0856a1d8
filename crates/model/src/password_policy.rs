//! A realm's `passwordPolicy` string in Keycloak's syntax, parsed once and applied to a
//! candidate password, with Keycloak's message keys and English texts.
//!
//! Syntax: items separated by ` and `, each `name` or `name(argument)`, e.g.
//! `length(8) and digits(1) and notUsername(undefined) and regexPattern(^[a-z].*$)`. An item
//! without an argument takes Keycloak's default (`length` 8, `digits`/`lowerCase`/`upperCase`/
//! `specialChars` 1, `maxLength` 64, `passwordHistory` 3). The hashing items (`hashAlgorithm`,
//! `hashIterations`) are read by [`crate::password::HashPolicy`]. Pure: no I/O; what needs
//! stored data is the caller's: the password history ([`PasswordPolicy::history`]), recently
//! used passwords (`passwordAge`, [`PasswordPolicy::password_age_days`]), the blacklist file
//! (`passwordBlacklist`, [`PasswordPolicy::blacklist`]) and password expiry
//! (`forceExpiredPasswordChange`, [`PasswordPolicy::force_expired_change_days`]).

use regex::Regex;

/// One rule of a policy.
#[derive(Debug, Clone)]
enum Rule {
    Length(usize),
    MaxLength(usize),
    Digits(usize),
    LowerCase(usize),
    UpperCase(usize),
    SpecialChars(usize),
    NotUsername,
    NotContainsUsername,
    NotEmail,
    RegexPattern(Box<Regex>),
}

/// A parsed password policy.
#[derive(Debug, Clone, Default)]
pub struct PasswordPolicy {
    rules: Vec<Rule>,
    history: usize,
    age_days: Option<usize>,
    expire_days: Option<usize>,
    blacklist: Option<String>,
}

/// Why a policy string cannot be used (the realm setting is wrong, not the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyParseError {
    #[error("malformed password policy item `{0}`")]
    Malformed(String),
    #[error("unknown password policy `{0}`")]
    Unknown(String),
    #[error("invalid value `{value}` for password policy `{name}`")]
    BadValue { name: String, value: String },
}

/// A password the policy refuses: Keycloak's message key, its parameters and English text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyViolation {
    /// Keycloak's message key, e.g. `invalidPasswordMinLengthMessage`.
    pub key: &'static str,
    /// The message's parameter (`{0}`), when it has one.
    pub param: Option<String>,
}

impl PolicyViolation {
    fn new(key: &'static str, param: Option<String>) -> Self {
        PolicyViolation { key, param }
    }

    /// The English message Keycloak shows for this violation.
    pub fn message(&self) -> String {
        let p = self.param.as_deref().unwrap_or("");
        match self.key {
            "invalidPasswordMinLengthMessage" => format!("Invalid password: minimum length {p}."),
            "invalidPasswordMaxLengthMessage" => format!("Invalid password: maximum length {p}."),
            "invalidPasswordMinDigitsMessage" => {
                format!("Invalid password: must contain at least {p} numerical digits.")
            }
            "invalidPasswordMinLowerCaseCharsMessage" => {
                format!("Invalid password: must contain at least {p} lower case characters.")
            }
            "invalidPasswordMinUpperCaseCharsMessage" => {
                format!("Invalid password: must contain at least {p} upper case characters.")
            }
            "invalidPasswordMinSpecialCharsMessage" => {
                format!("Invalid password: must contain at least {p} special characters.")
            }
            "invalidPasswordNotUsernameMessage" => {
                "Invalid password: must not be equal to the username.".to_owned()
            }
            "invalidPasswordNotContainsUsernameMessage" => {
                "Invalid password: Can not contain the username.".to_owned()
            }
            "invalidPasswordNotEmailMessage" => {
                "Invalid password: must not be equal to the email.".to_owned()
            }
            "invalidPasswordRegexPatternMessage" => {
                "Invalid password: fails to match regex pattern(s).".to_owned()
            }
            "invalidPasswordBlacklistedMessage" => {
                "Invalid password: password is blacklisted.".to_owned()
            }
            "invalidPasswordGenericMessage" => {
                "Invalid password: new password doesn't match password policies.".to_owned()
            }
            "invalidPasswordHistoryMessage" => {
                format!("Invalid password: must not be equal to any of last {p} passwords.")
            }
            other => other.to_owned(),
        }
    }
}

/// Items Keycloak knows that are not password-content rules here.
const ACCEPTED_ELSEWHERE: &[&str] = &["hashAlgorithm", "hashIterations", "maxAuthAge"];

fn count(name: &str, value: Option<&str>, default: usize) -> Result<usize, PolicyParseError> {
    match value {
        None => Ok(default),
        Some("") => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| PolicyParseError::BadValue {
                name: name.to_owned(),
                value: v.to_owned(),
            }),
    }
}

impl PasswordPolicy {
    /// Parse a realm's `passwordPolicy`; an empty string is the empty policy.
    pub fn parse(policy: &str) -> Result<PasswordPolicy, PolicyParseError> {
        let mut out = PasswordPolicy::default();
        if policy.trim().is_empty() {
            return Ok(out);
        }
        for item in policy.split(" and ") {
            let item = item.trim();
            let (name, value) = match item.split_once('(') {
                None => (item, None),
                Some((name, rest)) => match rest.rfind(')') {
                    Some(end) if rest[end + 1..].trim().is_empty() => {
                        (name.trim(), Some(rest[..end].trim()))
                    }
                    _ => return Err(PolicyParseError::Malformed(item.to_owned())),
                },
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(PolicyParseError::Malformed(item.to_owned()));
            }
            let rule = match name {
                "length" => Rule::Length(count(name, value, 8)?),
                "maxLength" => Rule::MaxLength(count(name, value, 64)?),
                "digits" => Rule::Digits(count(name, value, 1)?),
                "lowerCase" => Rule::LowerCase(count(name, value, 1)?),
                "upperCase" => Rule::UpperCase(count(name, value, 1)?),
                "specialChars" => Rule::SpecialChars(count(name, value, 1)?),
                "notUsername" => Rule::NotUsername,
                "notContainsUsername" => Rule::NotContainsUsername,
                "notEmail" => Rule::NotEmail,
                "regexPattern" => {
                    let pattern = value.unwrap_or("");
                    let re = Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
                        PolicyParseError::BadValue {
                            name: name.to_owned(),
                            value: pattern.to_owned(),
                        }
                    })?;
                    Rule::RegexPattern(Box::new(re))
                }
                "passwordHistory" => {
                    out.history = count(name, value, 3)?;
                    continue;
                }
                "passwordAge" => {
                    out.age_days = Some(count(name, value, 30)?);
                    continue;
                }
                "forceExpiredPasswordChange" => {
                    out.expire_days = Some(count(name, value, 365)?).filter(|d| *d > 0);
                    continue;
                }
                "passwordBlacklist" => {
                    // A file name in the server's blacklist folder, never a path.
                    let file = value.unwrap_or("");
                    if file.is_empty()
                        || file.contains(['/', '\\'])
                        || file.starts_with('.')
                        || file.len() > 255
                    {
                        return Err(PolicyParseError::BadValue {
                            name: name.to_owned(),
                            value: file.to_owned(),
                        });
                    }
                    out.blacklist = Some(file.to_owned());
                    continue;
                }
                n if ACCEPTED_ELSEWHERE.contains(&n) => continue,
                n => return Err(PolicyParseError::Unknown(n.to_owned())),
            };
            out.rules.push(rule);
        }
        Ok(out)
    }

    /// How many previous passwords a new one must differ from (`passwordHistory`), 0 when the
    /// policy has no such rule. The current password counts as one of them.
    pub fn history(&self) -> usize {
        self.history
    }

    /// The first rule `password` breaks, in the policy's order (history not included).
    pub fn check(
        &self,
        password: &str,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), PolicyViolation> {
        let chars = password.chars().count();
        let n = |pred: fn(&char) -> bool| password.chars().filter(pred).count();
        for rule in &self.rules {
            let failed = match rule {
                Rule::Length(min) => {
                    (chars < *min).then_some(("invalidPasswordMinLengthMessage", Some(*min)))
                }
                Rule::MaxLength(max) => {
                    (chars > *max).then_some(("invalidPasswordMaxLengthMessage", Some(*max)))
                }
                Rule::Digits(min) => (n(|c| c.is_numeric()) < *min)
                    .then_some(("invalidPasswordMinDigitsMessage", Some(*min))),
                Rule::LowerCase(min) => (n(|c| c.is_lowercase()) < *min)
                    .then_some(("invalidPasswordMinLowerCaseCharsMessage", Some(*min))),
                Rule::UpperCase(min) => (n(|c| c.is_uppercase()) < *min)
                    .then_some(("invalidPasswordMinUpperCaseCharsMessage", Some(*min))),
                Rule::SpecialChars(min) => (n(|c| !c.is_alphanumeric()) < *min)
                    .then_some(("invalidPasswordMinSpecialCharsMessage", Some(*min))),
                Rule::NotUsername => (!username.is_empty() && password == username)
                    .then_some(("invalidPasswordNotUsernameMessage", None)),
                Rule::NotContainsUsername => (!username.is_empty()
                    && password.to_lowercase().contains(&username.to_lowercase()))
                .then_some(("invalidPasswordNotContainsUsernameMessage", None)),
                Rule::NotEmail => email
                    .filter(|e| !e.is_empty() && e.eq_ignore_ascii_case(password))
                    .map(|_| ("invalidPasswordNotEmailMessage", None)),
                Rule::RegexPattern(re) => {
                    (!re.is_match(password)).then_some(("invalidPasswordRegexPatternMessage", None))
                }
            };
            if let Some((key, param)) = failed {
                return Err(PolicyViolation::new(key, param.map(|p| p.to_string())));
            }
        }
        Ok(())
    }

    /// `passwordAge(days)`: a new password must differ from the current one and from every
    /// earlier password set within this many days.
    pub fn password_age_days(&self) -> Option<usize> {
        self.age_days
    }

    /// `forceExpiredPasswordChange(days)`: a password older than this must be changed at the
    /// next login.
    pub fn force_expired_change_days(&self) -> Option<usize> {
        self.expire_days
    }

    /// `passwordBlacklist(file)`: the file (in the server's blacklist folder) of refused
    /// passwords, compared case-insensitively.
    pub fn blacklist(&self) -> Option<&str> {
        self.blacklist.as_deref()
    }

    /// The violation reported for a blacklisted password.
    pub fn blacklist_violation(&self) -> PolicyViolation {
        PolicyViolation::new("invalidPasswordBlacklistedMessage", None)
    }

    /// The violation reported when a new password was used within `passwordAge` days.
    pub fn age_violation(&self) -> PolicyViolation {
        PolicyViolation::new("invalidPasswordGenericMessage", None)
    }

    /// Whether a password set at `created_ms` has expired at `now_ms`
    /// (`forceExpiredPasswordChange`).
    pub fn password_expired(&self, created_ms: i64, now_ms: i64) -> bool {
        self.expire_days.is_some_and(|d| {
            let days = i64::try_from(d).unwrap_or(i64::MAX);
            now_ms.saturating_sub(created_ms) > days.saturating_mul(86_400_000)
        })
    }

    /// The violation reported when a new password equals one of the last `history()` ones.
    pub fn history_violation(&self) -> PolicyViolation {
        PolicyViolation::new(
            "invalidPasswordHistoryMessage",
            Some(self.history.to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn age_expiry_and_blacklist_items() {
        let p = PasswordPolicy::parse(
            "length(8) and passwordAge(10) and forceExpiredPasswordChange(90) and passwordBlacklist(common.txt)",
        )
        .unwrap();
        assert_eq!(p.password_age_days(), Some(10));
        assert_eq!(p.force_expired_change_days(), Some(90));
        assert_eq!(p.blacklist(), Some("common.txt"));
        let day = 86_400_000;
        assert!(!p.password_expired(0, 90 * day));
        assert!(p.password_expired(0, 90 * day + 1));
        let defaults = PasswordPolicy::parse("passwordAge and forceExpiredPasswordChange").unwrap();
        assert_eq!(defaults.password_age_days(), Some(30));
        assert_eq!(defaults.force_expired_change_days(), Some(365));
        assert!(
            !PasswordPolicy::parse("forceExpiredPasswordChange(0)")
                .unwrap()
                .password_expired(0, i64::MAX)
        );
        assert_eq!(PasswordPolicy::default().password_age_days(), None);
        assert!(!PasswordPolicy::default().password_expired(0, i64::MAX));
        for bad in [
            "passwordBlacklist(../etc/passwd)",
            "passwordBlacklist(a/b)",
            "passwordBlacklist(.hidden)",
            "passwordBlacklist()",
            "passwordAge(x)",
        ] {
            assert!(PasswordPolicy::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            p.blacklist_violation().message(),
            "Invalid password: password is blacklisted."
        );
        assert_eq!(
            p.age_violation().message(),
            "Invalid password: new password doesn't match password policies."
        );
    }

    fn check(policy: &str, password: &str) -> Result<(), String> {
        PasswordPolicy::parse(policy)
            .unwrap()
            .check(password, "alice", Some("alice@example.com"))
            .map_err(|v| v.message())
    }

    #[test]
    fn empty_policy_accepts_anything() {
        assert_eq!(check("", ""), Ok(()));
        assert_eq!(check("  ", "x"), Ok(()));
    }

    #[test]
    fn length_rules() {
        assert_eq!(
            check("length(8)", "short"),
            Err("Invalid password: minimum length 8.".into())
        );
        assert_eq!(check("length(8)", "12345678"), Ok(()));
        assert_eq!(
            check("length", "1234567"),
            Err("Invalid password: minimum length 8.".into())
        );
        // Characters, not bytes.
        assert_eq!(check("length(3)", "äöü"), Ok(()));
        assert_eq!(
            check("maxLength(4)", "12345"),
            Err("Invalid password: maximum length 4.".into())
        );
        assert_eq!(check("maxLength", &"a".repeat(64)), Ok(()));
        assert!(check("maxLength", &"a".repeat(65)).is_err());
    }

    #[test]
    fn character_class_rules() {
        let cases = [
            ("digits(2)", "abc1", Some("at least 2 numerical digits")),
            ("digits(2)", "a1b2", None),
            ("digits", "abcd", Some("at least 1 numerical digits")),
            ("lowerCase(2)", "ABCd", Some("at least 2 lower case")),
            ("lowerCase(2)", "ABcd", None),
            ("upperCase(1)", "abcd", Some("at least 1 upper case")),
            ("upperCase(1)", "abcD", None),
            (
                "specialChars(1)",
                "abc1",
                Some("at least 1 special characters"),
            ),
            ("specialChars(1)", "abc!", None),
            ("specialChars(2)", "a b!", None),
        ];
        for (policy, pw, want) in cases {
            let got = check(policy, pw);
            match want {
                None => assert_eq!(got, Ok(()), "{policy} {pw}"),
                Some(text) => {
                    assert!(
                        got.as_ref().unwrap_err().contains(text),
                        "{policy} {pw}: {got:?}"
                    )
                }
            }
        }
    }

    #[test]
    fn username_and_email_rules() {
        assert_eq!(
            check("notUsername(undefined)", "alice"),
            Err("Invalid password: must not be equal to the username.".into())
        );
        assert_eq!(check("notUsername", "alice2"), Ok(()));
        assert_eq!(
            check("notContainsUsername", "xxALICExx"),
            Err("Invalid password: Can not contain the username.".into())
        );
        assert_eq!(
            check("notEmail(undefined)", "Alice@Example.com"),
            Err("Invalid password: must not be equal to the email.".into())
        );
        assert_eq!(check("notEmail", "alice@example.org"), Ok(()));
        let p = PasswordPolicy::parse("notEmail").unwrap();
        assert_eq!(p.check("x", "u", None), Ok(()));
    }

    #[test]
    fn regex_must_match_whole_password() {
        assert_eq!(check("regexPattern([a-z]+)", "abc"), Ok(()));
        assert_eq!(
            check("regexPattern([a-z]+)", "abc1"),
            Err("Invalid password: fails to match regex pattern(s).".into())
        );
        // Parentheses inside the pattern.
        assert_eq!(check("regexPattern((ab)+)", "abab"), Ok(()));
        assert!(matches!(
            PasswordPolicy::parse("regexPattern([a-)"),
            Err(PolicyParseError::BadValue { .. })
        ));
    }

    #[test]
    fn first_broken_rule_in_policy_order() {
        let policy = "length(8) and digits(1) and lowerCase(1) and upperCase(1) and specialChars(1) and notUsername and notEmail and passwordHistory(3) and maxLength(64)";
        assert_eq!(
            check(policy, "abc"),
            Err("Invalid password: minimum length 8.".into())
        );
        assert!(check(policy, "abcdefgh").unwrap_err().contains("numerical"));
        assert!(
            check(policy, "abcdefg1")
                .unwrap_err()
                .contains("upper case")
        );
        assert!(check(policy, "Abcdefg1").unwrap_err().contains("special"));
        assert_eq!(check(policy, "Abcdef1!"), Ok(()));
        assert_eq!(PasswordPolicy::parse(policy).unwrap().history(), 3);
    }

    #[test]
    fn history_and_hash_items() {
        let p = PasswordPolicy::parse(
            "passwordHistory and hashAlgorithm(pbkdf2-sha512) and hashIterations(210000) and forceExpiredPasswordChange(365)",
        )
        .unwrap();
        assert_eq!(p.history(), 3);
        assert_eq!(p.check("x", "u", None), Ok(()));
        assert_eq!(
            p.history_violation().message(),
            "Invalid password: must not be equal to any of last 3 passwords."
        );
        assert_eq!(PasswordPolicy::parse("length(8)").unwrap().history(), 0);
    }

    #[test]
    fn bad_policies_are_refused() {
        assert_eq!(
            PasswordPolicy::parse("lenght(8)").unwrap_err(),
            PolicyParseError::Unknown("lenght".into())
        );
        assert!(matches!(
            PasswordPolicy::parse("length(x)"),
            Err(PolicyParseError::BadValue { .. })
        ));
        assert!(matches!(
            PasswordPolicy::parse("length(-1)"),
            Err(PolicyParseError::BadValue { .. })
        ));
        assert!(matches!(
            PasswordPolicy::parse("length(8"),
            Err(PolicyParseError::Malformed(_))
        ));
        assert!(matches!(
            PasswordPolicy::parse("length(8) junk"),
            Err(PolicyParseError::Malformed(_))
        ));
        assert!(matches!(
            PasswordPolicy::parse("length(8) and "),
            Err(PolicyParseError::Malformed(_))
        ));
    }

    #[test]
    fn violation_keys_match_keycloak() {
        let v = PasswordPolicy::parse("length(12)")
            .unwrap()
            .check("x", "u", None)
            .unwrap_err();
        assert_eq!(v.key, "invalidPasswordMinLengthMessage");
        assert_eq!(v.param.as_deref(), Some("12"));
    }
}
