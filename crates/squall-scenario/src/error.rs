//! The one error type of the crate, and the did-you-mean helper every message uses.
//!
//! Every message starts with where the problem is: `file:line:col` when the position is
//! known, the file name when it is not, or `--set PATH=VALUE` when an override caused it.
//! Then comes the field path (`services.api.endpoints.feed.work`) and a lowercase message.

use std::fmt;

use crate::locate::{path_string, Seg};

/// Where an error points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A position in the scenario file (1-based line and column, columns in characters).
    Source {
        /// File name as given by the caller.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column in characters, from 1.
        col: usize,
    },
    /// The scenario file, when no position could be found.
    File {
        /// File name as given by the caller.
        file: String,
    },
    /// A `--set PATH=VALUE` override.
    Override {
        /// The override as the user wrote it, `PATH=VALUE`.
        set: String,
    },
    /// A variant in the scenario file: one of its overrides, or the variant as a whole when
    /// the problem it causes lies elsewhere. (Boxed: errors are passed by value and should
    /// stay small.)
    Variant(Box<VariantOrigin>),
}

/// Where in a variant a problem comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantOrigin {
    /// File name as given by the caller.
    pub file: String,
    /// 1-based line and column (in characters) of the entry, or of the variant's name when
    /// the variant as a whole is blamed, if found.
    pub at: Option<(usize, usize)>,
    /// The variant's name.
    pub variant: String,
    /// The override path of the entry to blame; `None` blames the variant as a whole.
    pub entry: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Source { file, line, col } => write!(f, "{file}:{line}:{col}"),
            Origin::File { file } => f.write_str(file),
            Origin::Override { set } => write!(f, "--set {set}"),
            Origin::Variant(v) => {
                let VariantOrigin { file, at, variant, entry } = &**v;
                let mut segs = vec![Seg::Key("variants".to_string()), Seg::Key(variant.clone())];
                segs.extend(entry.iter().map(|e| Seg::Key(e.clone())));
                match at {
                    Some((line, col)) => write!(f, "{file}:{line}:{col}: {}", path_string(&segs)),
                    None => write!(f, "{file}: {}", path_string(&segs)),
                }
            }
        }
    }
}

/// One problem found by the checks that look across entities (references, cycles, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub origin: Origin,
    /// The field path, such as `clients.users.target.service`.
    pub path: String,
    /// What is wrong, lowercase, with a did-you-mean where one fits.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, with_path(&self.path, &self.message))
    }
}

/// Cross-entity problems listed in one error; more are counted, not printed.
pub const N_PROBLEMS_SHOWN_MAX: usize = 100;

/// Why a scenario could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read: missing, unreadable, or a directory.
    #[error("{file}: cannot read the scenario file: {reason}")]
    Read {
        /// File name as given.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is larger than [`crate::MAX_FILE_BYTES`]; it is refused before parsing.
    #[error(
        "{file}: the file is {n_bytes} bytes, over the limit of {n_bytes_max} bytes (10 MiB) for a scenario"
    )]
    TooLarge {
        /// File name as given.
        file: String,
        /// Size found (at least this many bytes).
        n_bytes: u64,
        /// The limit.
        n_bytes_max: u64,
    },
    /// The file is not text: it is not UTF-8, or it contains NUL bytes.
    #[error("{origin}: not a text file: {reason}")]
    NotText {
        /// Where the first offending byte is.
        origin: Origin,
        /// What was found.
        reason: String,
    },
    /// The text is not valid RON (or is empty).
    #[error("{origin}: {}", with_path(path, message))]
    Syntax {
        /// Where the parser stopped.
        origin: Origin,
        /// The field being read when it stopped, empty at the top level.
        path: String,
        /// What was expected.
        message: String,
    },
    /// One field has a bad value, an unknown name, a wrong type, or is missing.
    #[error("{origin}: {}", with_path(path, message))]
    Field {
        /// Where the value is (or the override that set it).
        origin: Origin,
        /// The field path, empty at the top level.
        path: String,
        /// What is wrong, with a did-you-mean where one fits.
        message: String,
    },
    /// An override is not of the form `PATH=VALUE`.
    #[error("--set {text}: {message}")]
    BadOverride {
        /// The override as written.
        text: String,
        /// What is wrong with it.
        message: String,
    },
    /// A variant asked for by name is not in the file, or is asked for twice.
    #[error("{file}: {message}")]
    Selection {
        /// File name as given.
        file: String,
        /// What is wrong, with a did-you-mean where one fits.
        message: String,
    },
    /// Checks across entities failed: every problem found, one per line.
    #[error("{}", list_problems(problems))]
    Invalid {
        /// All problems, in file order of the entities they concern.
        problems: Vec<Problem>,
    },
}

fn with_path(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

fn list_problems(problems: &[Problem]) -> String {
    let mut lines: Vec<String> = problems.iter().take(N_PROBLEMS_SHOWN_MAX).map(Problem::to_string).collect();
    if problems.len() > N_PROBLEMS_SHOWN_MAX {
        lines.push(format!("... and {} more errors", problems.len() - N_PROBLEMS_SHOWN_MAX));
    }
    lines.join("\n")
}

/// Characters of a source line shown on each side of the caret; longer lines are cut.
const SNIPPET_CHARS_HALF: usize = 60;

impl Origin {
    /// 1-based line and column in the scenario file, when the origin has them.
    fn position(&self) -> Option<(usize, usize)> {
        match self {
            Origin::Source { line, col, .. } => Some((*line, *col)),
            Origin::Variant(v) => v.at,
            Origin::File { .. } | Origin::Override { .. } => None,
        }
    }
}

/// The line `line` of `source` with a caret under column `col` (both 1-based, columns in
/// characters), indented under the message; empty when the source has no such line.
/// Tabs before the column are kept in the caret line so the caret lines up.
fn snippet(source: &str, (line, col): (usize, usize)) -> String {
    let Some(text) = source.split('\n').nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let chars: Vec<char> = text.trim_end_matches('\r').chars().collect();
    let at = col.saturating_sub(1).min(chars.len());
    let from = at.saturating_sub(SNIPPET_CHARS_HALF);
    let to = (at + SNIPPET_CHARS_HALF).min(chars.len());
    let shown: String = chars[from..to].iter().collect();
    let pad: String = chars[from..at].iter().map(|c| if *c == '\t' { '\t' } else { ' ' }).collect();
    let number = line.to_string();
    let gutter = " ".repeat(number.len());
    let (open, close) = (if from > 0 { "..." } else { "" }, if to < chars.len() { "..." } else { "" });
    let indent = " ".repeat(open.len());
    format!("\n  {number} | {open}{shown}{close}\n  {gutter} | {indent}{pad}^")
}

impl ScenarioError {
    /// The message as [`fmt::Display`] writes it, with, under each problem located in the
    /// file, that line of `source` (the file's text) and a caret under the column. Every
    /// problem the error holds is shown (up to [`N_PROBLEMS_SHOWN_MAX`]): the checks across
    /// entities collect them all; a syntax error or a bad single field is where the parser
    /// stopped, so it comes alone.
    pub fn render(&self, source: &str) -> String {
        let located = |text: String, origin: &Origin| match origin.position() {
            Some(at) => format!("{text}{}", snippet(source, at)),
            None => text,
        };
        match self {
            ScenarioError::Invalid { problems } => {
                let mut lines: Vec<String> = problems
                    .iter()
                    .take(N_PROBLEMS_SHOWN_MAX)
                    .map(|p| located(p.to_string(), &p.origin))
                    .collect();
                if problems.len() > N_PROBLEMS_SHOWN_MAX {
                    lines.push(format!("... and {} more errors", problems.len() - N_PROBLEMS_SHOWN_MAX));
                }
                lines.join("\n")
            }
            ScenarioError::NotText { origin, .. }
            | ScenarioError::Syntax { origin, .. }
            | ScenarioError::Field { origin, .. } => located(self.to_string(), origin),
            _ => self.to_string(),
        }
    }

    /// The scenario file the first located problem is in: what [`ScenarioError::render`]
    /// needs the text of. `None` when no problem has a position in a file.
    pub fn located_file(&self) -> Option<&str> {
        fn file(o: &Origin) -> Option<&str> {
            match o {
                Origin::Source { file, .. } => Some(file.as_str()),
                Origin::Variant(v) if v.at.is_some() => Some(v.file.as_str()),
                _ => None,
            }
        }
        match self {
            ScenarioError::Invalid { problems } => problems.iter().find_map(|p| file(&p.origin)),
            ScenarioError::NotText { origin, .. }
            | ScenarioError::Syntax { origin, .. }
            | ScenarioError::Field { origin, .. } => file(origin),
            _ => None,
        }
    }

    /// The problems the error stands for, to report several errors as one
    /// [`ScenarioError::Invalid`]. Building a variant fails only with `Field` or `Invalid`;
    /// anything else keeps its whole text, with the file as its origin.
    pub(crate) fn into_problems(self, file: &str) -> Vec<Problem> {
        let one = |origin: Origin, path: String, message: String| vec![Problem { origin, path, message }];
        match self {
            ScenarioError::Invalid { problems } => problems,
            ScenarioError::Syntax { origin, path, message }
            | ScenarioError::Field { origin, path, message } => one(origin, path, message),
            other => one(Origin::File { file: file.to_string() }, String::new(), other.to_string()),
        }
    }

    /// The error with `f` applied to every origin in it.
    pub(crate) fn map_origins(self, f: impl Fn(Origin) -> Origin) -> ScenarioError {
        match self {
            ScenarioError::Invalid { problems } => ScenarioError::Invalid {
                problems: problems.into_iter().map(|p| Problem { origin: f(p.origin), ..p }).collect(),
            },
            ScenarioError::Syntax { origin, path, message } => {
                ScenarioError::Syntax { origin: f(origin), path, message }
            }
            ScenarioError::Field { origin, path, message } => {
                ScenarioError::Field { origin: f(origin), path, message }
            }
            ScenarioError::NotText { origin, reason } => ScenarioError::NotText { origin: f(origin), reason },
            other => other,
        }
    }
}

/// Similarity (Jaro-Winkler, case-insensitive) above which a name counts as a near miss.
/// 0.8 accepts one wrong, missing or extra letter in a name of three or more letters, and
/// rejects unrelated short names (`ab` vs `ac` scores 0.7).
const NEAR_MISS_SCORE_MIN: f64 = 0.8;

/// The candidate closest to `found`, if it is a near miss.
pub(crate) fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let found_lower = found.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&found_lower, &c.to_lowercase());
        if score >= NEAR_MISS_SCORE_MIN && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// "unknown field `x`, did you mean `y`?", or the list of what is allowed when nothing is close.
pub(crate) fn unknown_name(what: &str, found: &str, expected: &[&str]) -> String {
    unknown_name_in(what, found, "", expected)
}

/// As [`unknown_name`], with `owner` (such as " of service `db`") after the name.
pub(crate) fn unknown_name_in(what: &str, found: &str, owner: &str, expected: &[&str]) -> String {
    let head = format!("unknown {what} `{found}`{owner}");
    if let Some(near) = did_you_mean(found, expected.iter().copied()) {
        return format!("{head}, did you mean `{near}`?");
    }
    match expected {
        [] => head,
        [one] => format!("{head}; expected `{one}`"),
        // A long list helps less than it clutters.
        _ if expected.len() > 12 => head,
        _ => {
            let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            format!("{head}; expected one of {}", list.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_strangers_are_not() {
        assert_eq!(did_you_mean("dbb", ["db", "api"]), Some("db"));
        assert_eq!(did_you_mean("replicaz", ["workers", "replicas", "queue"]), Some("replicas"));
        assert_eq!(did_you_mean("Poison", ["Poisson", "Constant", "Closed"]), Some("Poisson"));
        assert_eq!(did_you_mean("poisson", ["Poisson"]), Some("Poisson"));
        assert_eq!(did_you_mean("zzz", ["db", "api"]), None);
        assert_eq!(did_you_mean("ab", ["ac"]), None);
    }

    #[test]
    fn unknown_names_list_the_choices_when_nothing_is_close() {
        assert_eq!(
            unknown_name("field", "zzz", &["a", "b"]),
            "unknown field `zzz`; expected one of `a`, `b`"
        );
        assert_eq!(
            unknown_name("field", "replicaz", &["replicas"]),
            "unknown field `replicaz`, did you mean `replicas`?"
        );
    }

    #[test]
    fn long_problem_lists_are_cut_with_a_count() {
        let p =
            Problem { origin: Origin::File { file: "f".into() }, path: "x".into(), message: "bad".into() };
        let e = ScenarioError::Invalid { problems: vec![p; N_PROBLEMS_SHOWN_MAX + 3] };
        let text = e.to_string();
        assert_eq!(text.lines().count(), N_PROBLEMS_SHOWN_MAX + 1);
        assert!(text.ends_with("... and 3 more errors"), "{text}");
    }
}
