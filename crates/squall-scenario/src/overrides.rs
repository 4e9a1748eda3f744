//! `--set PATH=VALUE` overrides, applied to a parsed spec.
//!
//! The spec is written out as a JSON tree (enums externally tagged, every field present, `None`
//! as null), each override replaces the node at its dotted path, and the tree is read back
//! through the same `Deserialize` impls as the file, so an override gets exactly the checks a
//! value in the file gets. Values are written in RON and converted to JSON by a small parser
//! here (`Poisson(rate: 500)` becomes `{"Poisson": {"rate": 500}}`).

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Number, Value};

use crate::error::{unknown_name, Origin, ScenarioError};
use crate::locate::{path_string, Seg};
use crate::spec::{DependencySpec, NamedMap, ScenarioSpec};

/// A `--set path=value` override, e.g. `services.api.replicas=8`,
/// `clients.users.arrivals=Poisson(rate: 500)`, `duration="2m"` or `duration=2m`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// Dotted path: map keys and field names as segments, list indices as numbers
    /// (`services.api.endpoints.feed.calls.0.timeout`; `calls[0]` works too).
    pub path: String,
    /// The new value, in RON. A bare word that is not a number, `true`/`false` or a RON
    /// value with parentheses is taken as a string, so `duration=2m` means `"2m"`.
    pub value: String,
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

impl FromStr for Override {
    type Err = ScenarioError;

    /// Splits on the first `=`.
    ///
    /// # Errors
    /// [`ScenarioError::BadOverride`] if there is no `=` or the path is empty.
    fn from_str(text: &str) -> Result<Self, ScenarioError> {
        let bad = |message: &str| ScenarioError::BadOverride {
            text: text.to_string(),
            message: message.to_string(),
        };
        let Some((path, value)) = text.split_once('=') else {
            return Err(bad("expected PATH=VALUE, as in `services.api.replicas=8`"));
        };
        let path = path.trim();
        if path.is_empty() {
            return Err(bad(
                "the path before `=` is empty; write PATH=VALUE, as in `services.api.replicas=8`",
            ));
        }
        Ok(Override { path: path.to_string(), value: value.trim().to_string() })
    }
}

/// Splits `a.b[0].c` or `a.b.0.c` into `["a", "b", "0", "c"]`.
pub(crate) fn split_path(path: &str) -> Result<Vec<String>, String> {
    let normalized = path.replace('[', ".").replace(']', "");
    let segs: Vec<String> = normalized.split('.').map(|s| s.trim().to_string()).collect();
    if segs.iter().any(String::is_empty) {
        return Err(format!("the path `{path}` has an empty segment; write it as `services.api.replicas`"));
    }
    Ok(segs)
}

/// An override and whom to blame for it: a `--set` on the command line, or an entry of a
/// variant in the file.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub ov: Override,
    pub origin: Origin,
}

impl Change {
    /// A `--set` from the command line.
    pub(crate) fn cli(o: &Override) -> Change {
        Change { ov: o.clone(), origin: Origin::Override { set: o.to_string() } }
    }
}

/// The last change whose path contains, or lies inside, `path`: the one to blame for a
/// problem found there after overrides were applied.
pub(crate) fn related_change<'a>(changes: &'a [Change], path: &[Seg]) -> Option<&'a Change> {
    let problem: Vec<String> = path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect();
    changes.iter().rev().find(|c| {
        let Ok(segs) = split_path(&c.ov.path) else { return false };
        let n = segs.len().min(problem.len());
        segs[..n] == problem[..n]
    })
}

/// Applies `changes` in order and reads the result back with every field check; `original`
/// (the spec as read from the file) gives the order of entities.
///
/// # Errors
/// [`ScenarioError::Field`] with the change's origin for an unknown path (with a
/// did-you-mean among the keys at that level), a value that is not RON, or a value the field
/// refuses.
pub(crate) fn apply_overrides(
    original: &ScenarioSpec,
    changes: &[Change],
) -> Result<ScenarioSpec, ScenarioError> {
    let Some(first) = changes.first() else {
        return Ok(original.clone());
    };
    let write_out = |spec: &ScenarioSpec, origin: &Origin| {
        serde_json::to_value(spec).map_err(|e| ScenarioError::Field {
            origin: origin.clone(),
            path: String::new(),
            message: format!("internal error: the scenario could not be written out for overrides: {e}"),
        })
    };
    let mut tree = write_out(original, &first.origin)?;
    let mut spec = original.clone();
    for Change { ov: o, origin } in changes {
        let fail = |path: &str, message: String| ScenarioError::Field {
            origin: origin.clone(),
            path: path.to_string(),
            message,
        };
        let segs = split_path(&o.path).map_err(|m| fail("", m))?;
        if segs[0] == "variants" {
            return Err(fail(
                "variants",
                "variants are defined in the file and cannot be overridden; select one by name instead"
                    .to_string(),
            ));
        }
        let value = parse_value(&o.value).map_err(|m| fail(&o.path, m))?;
        set_path(&mut tree, &segs, value.clone()).map_err(|(at, m)| fail(&at, m))?;
        // Read back after each override, so a refused value is blamed on its own override.
        spec = crate::spec::reading_tree(|| serde_path_to_error::deserialize(&tree)).map_err(|e| {
            let path = crate::read::path_string_of(e.path());
            fail(&path, json_message(&e.into_inner().to_string()))
        })?;
        // Written out again, so the next override sees the defaults this one brought in:
        // `retry=(backoff: Exponential(...))` then `retry.backoff.jitter=None`.
        tree = write_out(&spec, origin)?;
        // serde reads a struct from a sequence too (its fields in order), so `health_check=[]`
        // would be read as a health check of defaults. A struct always comes back as an
        // object; where the value gave a sequence, it was read as one.
        if let Some(read) = get_path(&tree, &segs) {
            if let Some(at) = sequence_read_as_struct(&value, read, &o.path) {
                return Err(fail(
                    &at,
                    "expects a struct, as in `(field: value, ...)`, not a sequence `[...]`".to_string(),
                ));
            }
        }
    }
    restore_order(&mut spec, original);
    Ok(spec)
}

/// Puts entities back in file order, which gives their ids: the JSON tree's maps sort their
/// keys. (serde_json's `preserve_order` feature would avoid this, but features unify across
/// the workspace and it would change the key order of every other crate's JSON.) Entities
/// an override brings in by replacing a whole map come after, in name order.
fn restore_order(spec: &mut ScenarioSpec, original: &ScenarioSpec) {
    fn by<T, U>(map: &mut NamedMap<T>, file_order: &NamedMap<U>) {
        let rank = |k: &String| file_order.0.get_index_of(k).unwrap_or(usize::MAX);
        map.0.sort_by(|k1, _, k2, _| rank(k1).cmp(&rank(k2)));
    }
    by(&mut spec.services, &original.services);
    by(&mut spec.clients, &original.clients);
    for (name, service) in &mut spec.services.0 {
        if let Some(before) = original.services.0.get(name) {
            by(&mut service.endpoints, &before.endpoints);
            by(&mut service.dependencies, &before.dependencies);
            // Version order matters too: the first runs at the start.
            if let (Some(versions), Some(versions_before)) = (&mut service.versions, &before.versions) {
                by(versions, versions_before);
                for (v_name, version) in &mut versions.0 {
                    if let Some(v_before) = versions_before.0.get(v_name) {
                        by(&mut version.endpoints, &v_before.endpoints);
                    }
                }
            }
        }
    }
}

/// The collections whose keys are entity names, for messages ("no service named ...").
fn map_kind(at: &[Seg]) -> Option<&'static str> {
    let key = |seg: &Seg, name: &str| matches!(seg, Seg::Key(k) if k == name);
    match at {
        [s] if key(s, "services") => Some("service"),
        [s, _, e] if key(s, "services") && key(e, "endpoints") => Some("endpoint"),
        [s, _, v] if key(s, "services") && key(v, "versions") => Some("version"),
        [s, _, v, _, e] if key(s, "services") && key(v, "versions") && key(e, "endpoints") => {
            Some("endpoint")
        }
        [c] if key(c, "clients") => Some("client"),
        _ => None,
    }
}

/// Whether `at` is a service's `dependencies`: the one map an override may add entries to,
/// since every field of a dependency policy has a default. (Adding a service or a client
/// needs its required fields, and a typo there is likelier than a new entity.)
fn may_add_to(at: &[Seg]) -> bool {
    let key = |seg: &Seg, name: &str| matches!(seg, Seg::Key(k) if k == name);
    matches!(at, [s, _, d] if key(s, "services") && key(d, "dependencies"))
}

fn is_variant_tag(k: &str) -> bool {
    k.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Replaces the node at `segs`. An enum's variant tag may be left out of the path:
/// `clients.users.arrivals.rate` reaches into `{"Poisson": {"rate": ...}}`.
fn set_path(root: &mut Value, segs: &[String], value: Value) -> Result<(), (String, String)> {
    let mut cur = root;
    let mut walked: Vec<Seg> = Vec::new();
    for seg in segs {
        let here = path_string(&walked);
        cur = match cur {
            Value::Object(map) => {
                // Decide with shared borrows, then take the one mutable borrow.
                let tag = match map.iter().next() {
                    Some((tag, inner))
                        if map.len() == 1
                            && !map.contains_key(seg.as_str())
                            && is_variant_tag(tag)
                            && inner.as_object().is_some_and(|m| m.contains_key(seg.as_str())) =>
                    {
                        Some(tag.clone())
                    }
                    _ => None,
                };
                if let Some(tag) = tag {
                    walked.push(Seg::Key(tag.clone()));
                    walked.push(Seg::Key(seg.clone()));
                    map.get_mut(&tag)
                        .and_then(Value::as_object_mut)
                        .and_then(|m| m.get_mut(seg.as_str()))
                        .expect("checked to hold the key")
                } else if map.contains_key(seg.as_str()) {
                    walked.push(Seg::Key(seg.clone()));
                    map.get_mut(seg.as_str()).expect("checked to contain the key")
                } else if may_add_to(&walked) {
                    walked.push(Seg::Key(seg.clone()));
                    let empty = serde_json::to_value(DependencySpec::default())
                        .expect("a policy of defaults serializes");
                    map.entry(seg.clone()).or_insert(empty)
                } else {
                    return Err((here, unknown_key(map, seg, &walked)));
                }
            }
            Value::Array(items) => {
                let Ok(i) = seg.parse::<usize>() else {
                    return Err((
                        here,
                        format!("`{seg}` is not a list index; this is a list, index it with a number"),
                    ));
                };
                let n = items.len();
                walked.push(Seg::Index(i));
                match items.get_mut(i) {
                    Some(item) => item,
                    None => {
                        return Err((here, format!("index {i} is out of range: the list has {n} entries")))
                    }
                }
            }
            Value::Null => {
                return Err((
                    here.clone(),
                    format!("cannot set `{seg}` inside `{here}`, which is not set (None); set `{here}` as a whole"),
                ));
            }
            _ => {
                return Err((here, format!("cannot set `{seg}` inside a single value")));
            }
        };
    }
    *cur = value;
    Ok(())
}

/// The value at `segs` in `root`, looking through an enum's variant tag as [`set_path`] does.
fn get_path<'a>(root: &'a Value, segs: &[String]) -> Option<&'a Value> {
    let mut cur = root;
    for seg in segs {
        cur = match cur {
            Value::Object(map) => match map.get(seg.as_str()) {
                Some(v) => v,
                None => match map.iter().next() {
                    Some((tag, inner)) if map.len() == 1 && is_variant_tag(tag) => inner.get(seg.as_str())?,
                    _ => return None,
                },
            },
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The path of the first place where `given` (an override's value) holds a sequence and
/// `read` (the same place read back and written out) a struct.
fn sequence_read_as_struct(given: &Value, read: &Value, at: &str) -> Option<String> {
    match (given, read) {
        (Value::Array(_), Value::Object(_)) => Some(at.to_string()),
        (Value::Array(g), Value::Array(r)) => g
            .iter()
            .zip(r)
            .enumerate()
            .find_map(|(i, (g, r))| sequence_read_as_struct(g, r, &format!("{at}.{i}"))),
        (Value::Object(g), Value::Object(r)) => g.iter().find_map(|(k, g)| {
            let r = match r.get(k.as_str()) {
                Some(r) => r,
                // A variant tag the reading kept, with a struct beneath it.
                None => return None,
            };
            let at = if is_variant_tag(k) { at.to_string() } else { format!("{at}.{k}") };
            sequence_read_as_struct(g, r, &at)
        }),
        _ => None,
    }
}

fn unknown_key(map: &Map<String, Value>, seg: &str, walked: &[Seg]) -> String {
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    if let Some(kind) = map_kind(walked) {
        return unknown_name(kind, seg, &keys);
    }
    // Inside an enum, offer the variant's fields too.
    let mut all = keys.clone();
    if let [tag] = keys[..] {
        if is_variant_tag(tag) {
            if let Some(inner) = map.get(tag).and_then(Value::as_object) {
                all.extend(inner.keys().map(String::as_str));
            }
        }
    }
    unknown_name("field", seg, &all)
}

/// Rewrites serde's "unknown variant `X`, expected one of `A`, `B`" (and the same for
/// fields) as a did-you-mean. serde_json gives only the text, so the names are read back out
/// of it; anything else passes through.
fn json_message(message: &str) -> String {
    for what in ["variant", "field"] {
        let prefix = format!("unknown {what} `");
        let Some(rest) = message.strip_prefix(&prefix) else { continue };
        let Some(end) = rest.find('`') else { continue };
        let found = &rest[..end];
        let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
        return unknown_name(what, found, &expected);
    }
    message.to_string()
}

/// Deepest nesting accepted in an override value.
const VALUE_DEPTH_MAX: u32 = 64;

/// Reads a RON value (as written after `--set PATH=`) as JSON.
pub(crate) fn parse_value(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the value is empty; write one after `=`, as in `8`, `\"2m\"` or `Poisson(rate: 500)`"
            .to_string());
    }
    let mut p = ValueParser { chars: t.chars().collect(), pos: 0 };
    let parsed = p.value(0).and_then(|v| {
        p.skip_ws();
        match p.peek() {
            None => Ok(v),
            Some(c) => Err(format!("unexpected `{c}` after the value")),
        }
    });
    match parsed {
        Ok(v) => Ok(v),
        // A bare word such as 2m or 10 sec: the user meant a string.
        Err(_) if !t.contains(['(', ')', '[', ']', '{', '}', '"', ',']) => Ok(Value::String(t.to_string())),
        Err(e) => Err(format!("the value `{t}` is not valid RON: {e}")),
    }
}

struct ValueParser {
    chars: Vec<char>,
    pos: usize,
}

impl ValueParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: u32) -> Result<Value, String> {
        if depth > VALUE_DEPTH_MAX {
            return Err(format!("nested deeper than {VALUE_DEPTH_MAX} levels"));
        }
        self.skip_ws();
        match self.peek() {
            None => Err("unexpected end of the value".to_string()),
            Some('"') => self.string().map(Value::String),
            Some('(') => {
                self.pos += 1;
                self.items(depth, ')')
            }
            Some('[') => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    if self.eat(']') {
                        return Ok(Value::Array(out));
                    }
                    out.push(self.value(depth + 1)?);
                    if !self.eat(',') {
                        return if self.eat(']') {
                            Ok(Value::Array(out))
                        } else {
                            Err("expected `,` or `]`".to_string())
                        };
                    }
                }
            }
            Some('{') => {
                self.pos += 1;
                let mut out = Map::new();
                loop {
                    if self.eat('}') {
                        return Ok(Value::Object(out));
                    }
                    let key = match self.value(depth + 1)? {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        other => return Err(format!("a map key must be a string, got {other}")),
                    };
                    if !self.eat(':') {
                        return Err("expected `:` after a map key".to_string());
                    }
                    let v = self.value(depth + 1)?;
                    out.insert(key, v);
                    if !self.eat(',') {
                        return if self.eat('}') {
                            Ok(Value::Object(out))
                        } else {
                            Err("expected `,` or `}`".to_string())
                        };
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let name = self.ident();
                self.skip_ws();
                if self.peek() == Some('(') {
                    self.pos += 1;
                    if name == "Some" {
                        let v = self.value(depth + 1)?;
                        return if self.eat(')') {
                            Ok(v)
                        } else {
                            Err("expected `)` after `Some(...`".to_string())
                        };
                    }
                    // `Name()` is a struct variant with every field at its default, as in a
                    // file; a unit variant is written bare, `Name`.
                    let inner = self.items(depth, ')')?;
                    return Ok(Value::Object(Map::from_iter([(name, inner)])));
                }
                Ok(match name.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "None" => Value::Null,
                    _ => Value::String(name),
                })
            }
            Some(c) => Err(format!("unexpected `{c}`")),
        }
    }

    /// The inside of `( ... )`: named fields become an object, one unnamed value stays itself
    /// (a newtype), several become a list (a tuple), and nothing becomes an empty object: a
    /// struct with every field at its default, as `()` means in a file.
    fn items(&mut self, depth: u32, close: char) -> Result<Value, String> {
        let mut named = Map::new();
        let mut unnamed = Vec::new();
        loop {
            if self.eat(close) {
                break;
            }
            self.skip_ws();
            let save = self.pos;
            let mut field = None;
            if self.peek().is_some_and(|c| c.is_alphabetic() || c == '_') {
                let name = self.ident();
                if self.eat(':') {
                    field = Some(name);
                } else {
                    self.pos = save;
                }
            }
            let v = self.value(depth + 1)?;
            match field {
                Some(name) => {
                    named.insert(name, v);
                }
                None => unnamed.push(v),
            }
            if !self.eat(',') {
                if self.eat(close) {
                    break;
                }
                return Err(format!("expected `,` or `{close}`"));
            }
        }
        match (named.is_empty(), unnamed.len()) {
            (true, 0) => Ok(Value::Object(Map::new())),
            (true, 1) => Ok(unnamed.pop().expect("one element")),
            (true, _) => Ok(Value::Array(unnamed)),
            (false, 0) => Ok(Value::Object(named)),
            (false, _) => Err("mixes named fields and unnamed values".to_string()),
        }
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else { return Err("unterminated string".to_string()) };
            self.pos += 1;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else { return Err("unterminated string".to_string()) };
                    self.pos += 1;
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        '"' | '\\' | '/' | '\'' => e,
                        other => return Err(format!("unknown escape `\\{other}`")),
                    });
                }
                c => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')) {
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().filter(|&&c| c != '_').collect();
        let digits = raw.trim_start_matches(['+', '-']);
        if !digits.contains(['.', 'e', 'E']) {
            if let Ok(n) = raw.trim_start_matches('+').parse::<u64>() {
                return Ok(Value::Number(n.into()));
            }
            if let Ok(n) = raw.parse::<i64>() {
                return Ok(Value::Number(n.into()));
            }
        }
        match raw.parse::<f64>() {
            Ok(f) if f.is_finite() && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
                Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("`{raw}` is not a finite number"))
            }
            _ => Err(format!("`{raw}` is not a number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ron_values_become_externally_tagged_json() {
        assert_eq!(parse_value("Poisson(rate: 500)").unwrap(), json!({"Poisson": {"rate": 500}}));
        assert_eq!(parse_value("Constant(\"5ms\")").unwrap(), json!({"Constant": "5ms"}));
        assert_eq!(parse_value("RoundRobin").unwrap(), json!("RoundRobin"));
        assert_eq!(parse_value("()").unwrap(), json!({}));
        assert_eq!(parse_value("Semaphore()").unwrap(), json!({"Semaphore": {}}));
        assert_eq!(parse_value("None").unwrap(), json!(null));
        assert_eq!(parse_value("Some(\"2s\")").unwrap(), json!("2s"));
        assert_eq!(
            parse_value("[(0.0, \"1ms\"), (1.0, \"2ms\")]").unwrap(),
            json!([[0.0, "1ms"], [1.0, "2ms"]])
        );
        assert_eq!(parse_value("{\"a\": 1, b: true}").unwrap(), json!({"a": 1, "b": true}));
        assert_eq!(
            parse_value("(capacity: 5, shared: true,)").unwrap(),
            json!({"capacity": 5, "shared": true})
        );
        assert_eq!(parse_value("-1.5e3").unwrap(), json!(-1500.0));
        assert_eq!(parse_value("1_000").unwrap(), json!(1000));
    }

    #[test]
    fn bare_words_are_strings_and_broken_structures_are_errors() {
        assert_eq!(parse_value("2m").unwrap(), json!("2m"));
        assert_eq!(parse_value("10 sec").unwrap(), json!("10 sec"));
        assert!(parse_value("Poisson(rate: 5").unwrap_err().contains("not valid RON"));
        assert!(parse_value("").is_err());
        assert!(parse_value(&"[".repeat(100)).unwrap_err().contains("nested deeper"));
    }

    #[test]
    fn overrides_split_on_the_first_equals_sign() {
        let o: Override = "a.b=x=y".parse().unwrap();
        assert_eq!(o, Override { path: "a.b".into(), value: "x=y".into() });
        assert!("novalue".parse::<Override>().is_err());
        assert!("=5".parse::<Override>().is_err());
    }

    #[test]
    fn serde_json_unknown_names_get_a_did_you_mean() {
        let m = json_message("unknown variant `Poison`, expected one of `Poisson`, `Constant`, `Closed`");
        assert_eq!(m, "unknown variant `Poison`, did you mean `Poisson`?");
    }
}
