//! Best-effort positions for problems found after parsing, when ron can no longer say where.
//!
//! A small tokenizer (strings, identifiers, punctuation; comments skipped) walks a field path
//! through the source: each map key or field name is the next matching token, each list index
//! the n-th element of the next list. Then, optionally, the quoted name being complained about
//! (`"dbb"`) is the next string equal to it. If some step fails, the last position found is
//! used: it is still the right entity, if not the exact character.

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A struct field, map key or enum variant.
    Key(String),
    /// A list element.
    Index(usize),
}

/// Renders a path the way messages show it: `services.api.endpoints.feed.calls[0].service`.
/// A key that holds a separator (a variant's override path) is quoted:
/// `variants.bigger."services.api.replicas"`.
pub(crate) fn path_string(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if k.contains(['.', '[', ']', '"']) {
                    out.push_str(&format!("{k:?}"));
                } else {
                    out.push_str(k);
                }
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum Tok {
    Str(String),
    Ident(String),
    Punct(char),
    Other,
}

struct Token {
    tok: Tok,
    /// Byte offset of the token's first character.
    at: usize,
}

fn tokenize(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().map(|p| p.1) == Some('*') => {
                chars.next();
                // RON block comments nest.
                let mut depth = 1u32;
                let mut prev = ' ';
                for (_, c) in chars.by_ref() {
                    if prev == '/' && c == '*' {
                        depth += 1;
                        prev = ' ';
                        continue;
                    }
                    if prev == '*' && c == '/' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        prev = ' ';
                        continue;
                    }
                    prev = c;
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                s.push('\\');
                                s.push(e);
                            }
                        }
                        c => s.push(c),
                    }
                }
                out.push(Token { tok: Tok::Str(s), at });
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut s = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '.' && c.is_ascii_digit() {
                        s.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let tok = if c.is_ascii_digit() { Tok::Other } else { Tok::Ident(s) };
                out.push(Token { tok, at });
            }
            '(' | ')' | '[' | ']' | '{' | '}' | ',' | ':' => out.push(Token { tok: Tok::Punct(c), at }),
            _ => out.push(Token { tok: Tok::Other, at }),
        }
    }
    out
}

/// 1-based line and column (in characters) of byte offset `at`.
pub(crate) fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let mut before = &src[..0];
    // Back off to a character boundary so slicing cannot panic.
    for i in (0..=at).rev() {
        if src.is_char_boundary(i) {
            before = &src[..i];
            break;
        }
    }
    let line = 1 + before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = 1 + before[line_start..].chars().count();
    (line, col)
}

fn is_punct(tokens: &[Token], i: usize, c: char) -> bool {
    tokens.get(i).is_some_and(|t| t.tok == Tok::Punct(c))
}

/// Index of the token that starts element `n` of the list opened at or after token `from`.
fn list_element(tokens: &[Token], from: usize, n: usize) -> Option<usize> {
    let mut i = from;
    while is_punct(tokens, i, ':') {
        i += 1;
    }
    // Skip a variant name in front of the list, as in `Mixture([...])`.
    if matches!(tokens.get(i).map(|t| &t.tok), Some(Tok::Ident(_))) && is_punct(tokens, i + 1, '(') {
        i += 2;
    } else if is_punct(tokens, i, '(') && is_punct(tokens, i + 1, '[') {
        i += 1;
    }
    if !is_punct(tokens, i, '[') {
        return None;
    }
    let mut element = 0;
    let mut depth = 0u32;
    let mut j = i + 1;
    if n == 0 {
        return (!is_punct(tokens, j, ']')).then_some(j);
    }
    while let Some(t) = tokens.get(j) {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            }
            Tok::Punct(',') if depth == 0 => {
                element += 1;
                if element == n {
                    return (j + 1 < tokens.len() && !is_punct(tokens, j + 1, ']')).then_some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// Byte offset of the best position for `path`, and then for the quoted `anchor` after it.
pub(crate) fn locate(src: &str, path: &[Seg], anchor: Option<&str>) -> Option<usize> {
    let tokens = tokenize(src);
    let mut found: Option<usize> = None;
    let mut next = 0;
    for seg in path {
        let hit = match seg {
            Seg::Key(key) => tokens.iter().enumerate().skip(next).position(|(i, t)| match &t.tok {
                Tok::Str(s) => s == key && is_punct(&tokens, i + 1, ':'),
                Tok::Ident(s) => s == key && (is_punct(&tokens, i + 1, ':') || is_punct(&tokens, i + 1, '(')),
                _ => false,
            }),
            Seg::Index(n) => list_element(&tokens, next, *n).map(|j| j - next),
        };
        let Some(offset) = hit else { break };
        let i = next + offset;
        found = Some(i);
        // A list element may start with the variant the next segment names (`Call(` in
        // `steps[1].Call`), so the search after an index starts at the element itself.
        next = if matches!(seg, Seg::Index(_)) { i } else { i + 1 };
    }
    if let Some(anchor) = anchor {
        let start = found.map_or(0, |i| i + 1);
        if let Some(offset) =
            tokens.iter().skip(start).position(|t| matches!(&t.tok, Tok::Str(s) if s == anchor))
        {
            found = Some(start + offset);
        }
    }
    found.map(|i| tokens[i].at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Seg {
        Seg::Key(s.to_string())
    }

    fn at(src: &str, path: &[Seg], anchor: Option<&str>) -> Option<(usize, usize)> {
        locate(src, path, anchor).map(|o| line_col(src, o))
    }

    #[test]
    fn paths_walk_keys_fields_and_list_elements() {
        let src = "S(\n  services: {\n    \"api\": (calls: [(service: \"x\"), (service: \"dbb\")]),\n  },\n)";
        let path = [key("services"), key("api"), key("calls"), Seg::Index(1), key("service")];
        assert_eq!(at(src, &path, Some("dbb")), Some((3, 47)));
        assert_eq!(at(src, &path[..2], None), Some((3, 5)));
    }

    #[test]
    fn comments_and_string_contents_are_not_mistaken_for_keys() {
        let src = "// services: api\n/* \"api\": /* nested */ */ (services: {\"api\": ()})";
        assert_eq!(at(src, &[key("services"), key("api")], None), Some((2, 39)));
    }

    #[test]
    fn a_missing_step_falls_back_to_the_last_position_found() {
        let src = "(services: {})";
        assert_eq!(at(src, &[key("services"), key("nope")], None), Some((1, 2)));
        assert_eq!(at(src, &[key("nope")], None), None);
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        assert_eq!(line_col("µµx", 4), (1, 3));
        assert_eq!(line_col("a\nb", 2), (2, 1));
        assert_eq!(line_col("µ", 1), (1, 1));
    }
}
