//! `ConfigError`: everything that stops configuration from being read; its `Display` is the
//! message printed to the user.
//!
//! Invariant: messages name the option as the user wrote it (`--http-port`, `KC_HTTP_PORT`, or
//! `http-port` with its file and line) and never contain a secret value.

use std::path::PathBuf;

/// Why the command line, environment or conf file could not be turned into an invocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No command was given after the global options.
    #[error("No command given. Run 'portcullis --help' for the list of commands.")]
    MissingCommand,

    /// The first positional argument is not a command.
    #[error("Unknown command: '{given}'.{}", did_you_mean(suggestion))]
    UnknownCommand {
        /// What was typed.
        given: String,
        /// The closest command, if any.
        suggestion: Option<String>,
    },

    /// A `kc.sh` command that portcullis does not have.
    #[error("The '{command}' command is not available: {reason}")]
    UnsupportedCommand {
        /// The command.
        command: String,
        /// Why, and what to do instead.
        reason: String,
    },

    /// An option that no command knows.
    #[error("Unknown option: '{given}'.{}", did_you_mean(suggestion))]
    UnknownOption {
        /// The option as typed.
        given: String,
        /// The closest valid option for this command, written as on the command line.
        suggestion: Option<String>,
    },

    /// An option that exists, but not for this command.
    #[error(
        "Option '{option}' is not available for the '{command}' command; it applies to {applies_to}."
    )]
    OptionNotForCommand {
        /// The option as typed.
        option: String,
        /// The command given.
        command: String,
        /// The commands that accept it.
        applies_to: String,
    },

    /// An option that needs a value got none.
    #[error("Option '{option}' needs a value{}.", expected_suffix(expected))]
    MissingValue {
        /// The option as typed.
        option: String,
        /// What it takes.
        expected: String,
    },

    /// A positional argument that the command does not take.
    #[error("Unexpected argument '{given}' for the '{command}' command.")]
    UnexpectedArgument {
        /// The argument.
        given: String,
        /// The command.
        command: String,
    },

    /// A value that does not parse or is out of range.
    #[error("Invalid value for option {option}: '{value}'. {expected}")]
    InvalidValue {
        /// The option with its origin, quoted: `'--http-port'`, `'KC_HTTP_PORT'`,
        /// `'http-port' (conf/portcullis.conf:3)`.
        option: String,
        /// The bad value (masked when secret).
        value: String,
        /// What is accepted.
        expected: String,
    },

    /// A conf-file line that is not `name=value`, or whose `${...}` cannot be expanded.
    #[error("{}:{line}: {message}", path.display())]
    ConfFile {
        /// The conf file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// An unknown key in the conf file.
    #[error("{}:{line}: unknown option '{key}'.{}", path.display(), did_you_mean(suggestion))]
    UnknownConfKey {
        /// The conf file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
        /// The closest option name.
        suggestion: Option<String>,
    },

    /// The conf file named explicitly could not be read.
    #[error("Cannot read the configuration file '{}': {reason}", path.display())]
    ReadConfFile {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },

    /// Options that are each valid but do not fit together, or a mode rule.
    #[error("{0}")]
    Invalid(String),
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" Did you mean '{s}'?"),
        None => String::new(),
    }
}

fn expected_suffix(expected: &str) -> String {
    if expected.is_empty() {
        String::new()
    } else {
        format!(" ({expected})")
    }
}
