//! Reading RON into a [`ScenarioSpec`], with ron's position and serde's field path on every
//! error, and ron's error codes rewritten as lowercase messages with did-you-mean.

use ron::error::{Error as RonError, Position, SpannedError};
use ron::extensions::Extensions;

use crate::error::{unknown_name, Origin, ScenarioError};
use crate::locate::{line_col, locate, path_string, Seg};
use crate::spec::ScenarioSpec;

/// Nesting deeper than this is refused, long before it could exhaust the stack.
pub(crate) const NESTING_MAX: usize = 128;

/// The path serde_path_to_error tracked, as segments (enum variants included).
pub(crate) fn segs_of(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// The path as messages show it.
pub(crate) fn path_string_of(path: &serde_path_to_error::Path) -> String {
    path_string(&segs_of(path))
}

/// Refuses text with NUL bytes: a binary file that happens to be valid UTF-8.
pub(crate) fn check_text(source: &str, file: &str) -> Result<(), ScenarioError> {
    if let Some(at) = source.find('\0') {
        let (line, col) = line_col(source, at);
        return Err(ScenarioError::NotText {
            origin: Origin::Source { file: file.to_string(), line, col },
            reason: format!("it contains a NUL byte (at byte {at}); a scenario is a RON text file"),
        });
    }
    Ok(())
}

/// Parses `source` as a scenario spec.
///
/// # Errors
/// [`ScenarioError::Syntax`] for text that is not RON (or is empty), [`ScenarioError::Field`]
/// for a value a field refuses, both located by ron.
pub(crate) fn read_spec(source: &str, file: &str) -> Result<ScenarioSpec, ScenarioError> {
    if source.trim().is_empty() {
        return Err(ScenarioError::Syntax {
            origin: Origin::Source { file: file.to_string(), line: 1, col: 1 },
            path: String::new(),
            message: "the file is empty; a scenario starts with `Scenario(`".to_string(),
        });
    }
    // Optional fields are written bare (`timeout: "1s"`), not as `Some("1s")`.
    let options = ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME)
        .with_recursion_limit(NESTING_MAX);
    let mut de = ron::Deserializer::from_str_with_options(source, &options)
        .map_err(|e| from_ron(e, String::new(), file))?;
    let spec = serde_path_to_error::deserialize::<_, ScenarioSpec>(&mut de).map_err(|e| {
        let mut segs = segs_of(e.path());
        let mut spanned = de.span_error(e.into_inner());
        if let RonError::NoSuchStructField { found, .. } = &spanned.code {
            // The path ends with the unknown field itself; the message names it already.
            if segs.last() == Some(&Seg::Key(found.clone())) {
                segs.pop();
            }
        }
        hint_constant_backoff(&segs, &mut spanned);
        relocate_compound(source, &segs, &mut spanned);
        back_to_quote(source, &mut spanned);
        from_ron(spanned, path_string(&segs), file)
    })?;
    de.end().map_err(|e| from_ron(de.span_error(e), String::new(), file))?;
    Ok(spec)
}

/// Fields whose value is checked as a whole once it has been read (a distribution, a
/// schedule, a fault's outcome, a list of outcomes or of flags): ron's position is then past
/// the value's end, so point at the field instead. `Work` is the step variant that holds a
/// distribution, and `startup` a lifecycle's (a probe's `startup` holds no such check).
const COMPOUND_FIELDS: &[&str] = &[
    "work",
    "think",
    "dist",
    "hit_latency",
    "Work",
    "schedule",
    "outcome",
    "retry_on",
    "non_fatal",
    "flags",
    "startup",
];

/// A constant back-off written like a constant distribution, `Constant("500ms")`, gets the
/// form it needs instead of ron's bare "expected identifier".
fn hint_constant_backoff(segs: &[Seg], e: &mut SpannedError) {
    let is_backoff = segs.ends_with(&[Seg::Key("backoff".to_string()), Seg::Key("Constant".to_string())]);
    if is_backoff && matches!(e.code, RonError::ExpectedIdentifier) {
        e.code = RonError::Message(
            "expected `delay: ...`: a constant back-off is written `Constant(delay: \"500ms\")`".to_string(),
        );
    }
}

fn relocate_compound(source: &str, segs: &[Seg], e: &mut SpannedError) {
    let is_compound = matches!(segs.last(), Some(Seg::Key(k)) if COMPOUND_FIELDS.contains(&k.as_str()));
    if !is_compound || !matches!(e.code, RonError::Message(_)) {
        return;
    }
    if let Some(at) = locate(source, segs, None) {
        let (line, col) = line_col(source, at);
        e.span.start = Position { line, col };
    }
}

/// ron points just inside a string it refused; point at its opening quote, as the
/// cross-entity checks do.
fn back_to_quote(source: &str, e: &mut SpannedError) {
    let Position { line, col } = e.span.start;
    if col < 2 {
        return;
    }
    let Some(text) = source.split('\n').nth(line - 1) else { return };
    if text.chars().nth(col - 2) == Some('"') {
        e.span.start.col = col - 1;
    }
}

fn from_ron(e: SpannedError, path: String, file: &str) -> ScenarioError {
    let origin = Origin::Source { file: file.to_string(), line: e.span.start.line, col: e.span.start.col };
    let (is_field, message) = message_of(&e.code);
    if is_field {
        ScenarioError::Field { origin, path, message }
    } else {
        ScenarioError::Syntax { origin, path, message }
    }
}

/// A lowercase message for ron's error, and whether it is about a field's value (rather
/// than the syntax).
fn message_of(code: &RonError) -> (bool, String) {
    let field = |m: String| (true, m);
    match code {
        RonError::Message(m) => field(m.clone()),
        RonError::NoSuchStructField { expected, found, .. } => field(unknown_name("field", found, expected)),
        RonError::NoSuchEnumVariant { expected, found, .. } => {
            field(unknown_name("variant", found, expected))
        }
        RonError::MissingStructField { field: name, .. } => field(format!("missing required field `{name}`")),
        RonError::DuplicateStructField { field: name, .. } => {
            field(format!("the field `{name}` is given twice"))
        }
        RonError::ExpectedDifferentStructName { expected, found } => {
            field(format!("expected `{expected}(...)`, found `{found}(...)`"))
        }
        RonError::InvalidValueForType { expected, found } => {
            field(format!("expected {expected}, found {found}"))
        }
        RonError::ExpectedDifferentLength { expected, found } => {
            field(format!("expected {expected}, found {found} elements"))
        }
        RonError::IntegerOutOfBounds => field("the number is out of range".to_string()),
        RonError::ExceededRecursionLimit => {
            (false, format!("the value is nested too deeply (more than {NESTING_MAX} levels)"))
        }
        RonError::ExpectedFloat | RonError::ExpectedInteger => (true, "expected a number".to_string()),
        RonError::ExpectedBoolean => (true, "expected `true` or `false`".to_string()),
        RonError::ExpectedString => (true, "expected a string in double quotes".to_string()),
        RonError::Eof => (false, "unexpected end of file; is a closing bracket missing?".to_string()),
        RonError::TrailingCharacters => (false, "unexpected text after the end of the scenario".to_string()),
        other => (false, lowercase_first(&other.to_string())),
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
