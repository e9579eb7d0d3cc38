//! Sigma strings (with `*` and `?` wildcards and `\` escapes), the value
//! transformations of the modifiers, and the matchers they compile to.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use memchr::memmem;
use regex::Regex;

/// One piece of a Sigma string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Literal bytes (UTF-8, except between a utf16 and a base64 modifier).
    Lit(Vec<u8>),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A Sigma string: literals and wildcards.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct SigmaStr {
    toks: Vec<Tok>,
}

impl SigmaStr {
    /// Parses a rule value: `*` and `?` are wildcards, `\*`, `\?` and `\\`
    /// are the escaped characters, a `\` before anything else is literal.
    pub(crate) fn parse(text: &str) -> Self {
        if !text.contains(['\\', '*', '?']) {
            return SigmaStr::literal(text);
        }
        let mut out = SigmaStr::default();
        let bytes = text.as_bytes();
        let mut run_start = 0;
        let mut i = 0;
        // The special characters are ASCII, so byte positions are always on
        // character boundaries.
        while i < bytes.len() {
            let (token, skip) = match (bytes[i], bytes.get(i + 1)) {
                (b'\\', Some(&next @ (b'*' | b'?' | b'\\'))) => (Some(Err(next)), 2),
                (b'*', _) => (Some(Ok(Tok::Star)), 1),
                (b'?', _) => (Some(Ok(Tok::One)), 1),
                _ => (None, 1),
            };
            if let Some(token) = token {
                out.push_bytes(&bytes[run_start..i]);
                match token {
                    Ok(wildcard) => out.toks.push(wildcard),
                    Err(escaped) => out.push_bytes(&[escaped]),
                }
                run_start = i + skip;
            }
            i += skip;
        }
        out.push_bytes(&bytes[run_start..]);
        out
    }

    /// A string with no wildcards.
    pub(crate) fn literal(text: &str) -> Self {
        let mut out = SigmaStr::default();
        out.push_bytes(text.as_bytes());
        out
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_bytes(c.encode_utf8(&mut buf).as_bytes());
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(Tok::Lit(last)) = self.toks.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.toks.push(Tok::Lit(bytes.to_vec()));
        }
    }

    pub(crate) fn has_wildcards(&self) -> bool {
        self.toks.iter().any(|t| !matches!(t, Tok::Lit(_)))
    }

    /// The literal bytes, when there are no wildcards.
    fn literal_bytes(&self) -> Vec<u8> {
        self.toks
            .iter()
            .filter_map(|t| match t {
                Tok::Lit(b) => Some(b.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect()
    }

    /// `contains`: a `*` at both ends (unless one is there).
    pub(crate) fn contains(mut self) -> Self {
        self = self.starts_with_star();
        self.ends_with_star()
    }

    /// `startswith`: a `*` at the end.
    pub(crate) fn ends_with_star(mut self) -> Self {
        if self.toks.last() != Some(&Tok::Star) {
            self.toks.push(Tok::Star);
        }
        self
    }

    /// `endswith`: a `*` at the start.
    pub(crate) fn starts_with_star(mut self) -> Self {
        if self.toks.first() != Some(&Tok::Star) {
            self.toks.insert(0, Tok::Star);
        }
        self
    }

    /// `windash`: every `-` or `/` that starts a word (not preceded by a word
    /// character, followed by one) in all five dash forms. Returns every
    /// permutation.
    pub(crate) fn windash(&self) -> Vec<SigmaStr> {
        const DASHES: [&str; 5] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"];
        let mut variants = vec![SigmaStr::default()];
        for tok in &self.toks {
            let Tok::Lit(bytes) = tok else {
                variants.iter_mut().for_each(|v| v.toks.push(tok.clone()));
                continue;
            };
            let text = String::from_utf8_lossy(bytes);
            let chars: Vec<char> = text.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                let starts_word = matches!(c, '-' | '/')
                    && (i == 0 || !is_word(chars[i - 1]))
                    && chars.get(i + 1).is_some_and(|n| is_word(*n));
                if starts_word {
                    variants = variants
                        .into_iter()
                        .flat_map(|v| {
                            DASHES.iter().map(move |d| {
                                let mut v = v.clone();
                                v.push_bytes(d.as_bytes());
                                v
                            })
                        })
                        .collect();
                } else {
                    variants.iter_mut().for_each(|v| v.push_char(*c));
                }
            }
        }
        variants
    }

    /// `utf16le` / `wide`.
    pub(crate) fn utf16le(&self) -> Self {
        self.map_literals(|s| s.encode_utf16().flat_map(u16::to_le_bytes).collect())
    }

    /// `utf16be`.
    pub(crate) fn utf16be(&self) -> Self {
        self.map_literals(|s| s.encode_utf16().flat_map(u16::to_be_bytes).collect())
    }

    /// `utf16`: a little-endian byte-order mark, then UTF-16LE.
    pub(crate) fn utf16(&self) -> Self {
        let mut out = SigmaStr::default();
        out.push_bytes(&[0xFF, 0xFE]);
        for tok in self.utf16le().toks {
            match tok {
                Tok::Lit(b) => out.push_bytes(&b),
                other => out.toks.push(other),
            }
        }
        out
    }

    fn map_literals(&self, f: impl Fn(&str) -> Vec<u8>) -> Self {
        SigmaStr {
            toks: self
                .toks
                .iter()
                .map(|t| match t {
                    Tok::Lit(b) => Tok::Lit(f(&String::from_utf8_lossy(b))),
                    other => other.clone(),
                })
                .collect(),
        }
    }

    /// `base64`: the whole value encoded. Wildcards cannot be encoded.
    pub(crate) fn base64(&self) -> Result<Self, String> {
        if self.has_wildcards() {
            return Err("base64 cannot encode a value with wildcards".into());
        }
        Ok(SigmaStr::literal(&BASE64.encode(self.literal_bytes())))
    }

    /// `base64offset`: the three encodings of the value at byte offsets 0, 1
    /// and 2 of a longer string, without the characters that depend on the
    /// surrounding bytes.
    pub(crate) fn base64offset(&self) -> Result<Vec<Self>, String> {
        if self.has_wildcards() {
            return Err("base64offset cannot encode a value with wildcards".into());
        }
        let value = self.literal_bytes();
        let start = [0usize, 2, 3];
        let end_trim = [0usize, 3, 2];
        Ok((0..3)
            .map(|shift| {
                let mut padded = vec![b' '; shift];
                padded.extend_from_slice(&value);
                let encoded = BASE64.encode(&padded);
                let trim = end_trim[(value.len() + shift) % 3];
                let end = encoded.len().saturating_sub(trim).max(start[shift]);
                SigmaStr::literal(&encoded[start[shift]..end])
            })
            .collect())
    }

    /// Replaces `%name%` placeholders with each of their values (the
    /// cartesian product when there are several placeholders). Returns the
    /// names that have no value.
    pub(crate) fn expand(
        &self,
        lookup: &dyn Fn(&str) -> Option<Vec<String>>,
    ) -> (Vec<SigmaStr>, Vec<String>) {
        let mut variants = vec![SigmaStr::default()];
        let mut missing = Vec::new();
        for tok in &self.toks {
            let Tok::Lit(bytes) = tok else {
                variants.iter_mut().for_each(|v| v.toks.push(tok.clone()));
                continue;
            };
            let text = String::from_utf8_lossy(bytes).into_owned();
            for (piece, is_placeholder) in split_placeholders(&text) {
                if !is_placeholder {
                    variants
                        .iter_mut()
                        .for_each(|v| v.push_bytes(piece.as_bytes()));
                    continue;
                }
                match lookup(piece) {
                    Some(values) => {
                        variants = variants
                            .into_iter()
                            .flat_map(|v| {
                                values.iter().map(move |value| {
                                    let mut v = v.clone();
                                    v.toks.extend(SigmaStr::parse(value).toks);
                                    v.merge_literals()
                                })
                            })
                            .collect();
                    }
                    None => missing.push(piece.to_owned()),
                }
            }
        }
        if !missing.is_empty() {
            variants.clear();
        }
        (variants, missing)
    }

    fn merge_literals(self) -> Self {
        let mut out = SigmaStr::default();
        for tok in self.toks {
            match tok {
                Tok::Lit(b) => out.push_bytes(&b),
                other => out.toks.push(other),
            }
        }
        out
    }

    /// The literal pieces, lower-cased: used to build the pre-filter index.
    pub(crate) fn literal_pieces(&self) -> Vec<String> {
        self.toks
            .iter()
            .filter_map(|t| match t {
                Tok::Lit(b) => Some(lower(&String::from_utf8_lossy(b))),
                _ => None,
            })
            .collect()
    }

    /// Compiles to a matcher. Case-insensitive matchers expect lower-cased
    /// input text.
    pub(crate) fn compile(&self, cased: bool) -> StrMatcher {
        let fold = |b: &Vec<u8>| {
            let s = String::from_utf8_lossy(b).into_owned();
            if cased { s } else { lower(&s) }
        };
        if self.toks.contains(&Tok::One) {
            let longest = self
                .literal_pieces()
                .into_iter()
                .max_by_key(String::len)
                .unwrap_or_default();
            return StrMatcher::Glob(self.glob_regex(fold), longest);
        }
        let lits: Vec<String> = self
            .toks
            .iter()
            .filter_map(|t| match t {
                Tok::Lit(b) => Some(fold(b)),
                _ => None,
            })
            .collect();
        let leading = self.toks.first() == Some(&Tok::Star);
        let trailing = self.toks.last() == Some(&Tok::Star) && !self.toks.is_empty();
        match (leading, trailing, lits.as_slice()) {
            (_, _, []) if self.toks.is_empty() => StrMatcher::Exact(String::new()),
            (_, _, []) => StrMatcher::Any,
            (false, false, [one]) => StrMatcher::Exact(one.clone()),
            (false, true, [one]) => StrMatcher::Prefix(one.clone()),
            (true, false, [one]) => StrMatcher::Suffix(one.clone()),
            (true, true, [one]) => {
                StrMatcher::Contains(Box::new(memmem::Finder::new(one.as_bytes()).into_owned()))
            }
            _ => StrMatcher::Segments(Segments {
                prefix: (!leading).then(|| lits[0].clone()),
                suffix: (!trailing).then(|| lits[lits.len() - 1].clone()),
                middle: lits[usize::from(!leading)..lits.len() - usize::from(!trailing)]
                    .iter()
                    .map(|m| memmem::Finder::new(m.as_bytes()).into_owned())
                    .collect(),
            }),
        }
    }

    fn glob_regex(&self, fold: impl Fn(&Vec<u8>) -> String) -> Regex {
        let mut pattern = String::from("(?s)^");
        for tok in &self.toks {
            match tok {
                Tok::Lit(b) => pattern.push_str(&regex::escape(&fold(b))),
                Tok::Star => pattern.push_str(".*"),
                Tok::One => pattern.push('.'),
            }
        }
        pattern.push('$');
        // Every literal is escaped, so the pattern is always valid.
        Regex::new(&pattern).expect("escaped glob is a valid regex")
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Lower-cases text the way event values are lower-cased before matching:
/// Unicode lower case, with the two letters whose lower case is not their
/// case fold (long s, final sigma) folded too, so every case variant of a
/// letter compares equal (as Sigma's case-insensitive matching asks).
pub(crate) fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().flat_map(fold_char).collect()
}

/// One character's lower-cased, folded form.
pub(crate) fn fold_char(c: char) -> impl Iterator<Item = char> {
    let special = match c {
        '\u{17f}' => Some('s'),
        '\u{3c2}' => Some('\u{3c3}'),
        _ => None,
    };
    special
        .into_iter()
        .chain(c.to_lowercase().filter(move |_| special.is_none()))
}

/// Splits text into literal pieces and `%name%` placeholders; `\%` escapes
/// a percent sign.
fn split_placeholders(text: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = find_unescaped_percent(rest) {
        let Some(close) = rest[open + 1..].find('%') else {
            break;
        };
        if open > 0 {
            out.push((&rest[..open], false));
        }
        out.push((&rest[open + 1..open + 1 + close], true));
        rest = &rest[open + close + 2..];
    }
    if !rest.is_empty() {
        out.push((rest, false));
    }
    out
}

fn find_unescaped_percent(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b'%' && (i == 0 || bytes[i - 1] != b'\\'))
}

/// A test of one value's text against one Sigma string.
#[derive(Clone, Debug)]
pub(crate) enum StrMatcher {
    /// `*`: any value.
    Any,
    /// No wildcards.
    Exact(String),
    /// `value*`.
    Prefix(String),
    /// `*value`.
    Suffix(String),
    /// `*value*`.
    Contains(Box<memmem::Finder<'static>>),
    /// Several `*`-separated pieces.
    Segments(Segments),
    /// Anything with `?`, and its longest literal piece (lower-cased).
    Glob(Regex, String),
}

/// The pieces of a multi-`*` pattern.
#[derive(Clone, Debug)]
pub(crate) struct Segments {
    prefix: Option<String>,
    suffix: Option<String>,
    middle: Vec<memmem::Finder<'static>>,
}

impl StrMatcher {
    /// Whether `text` matches.
    #[inline]
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            StrMatcher::Any => true,
            StrMatcher::Exact(s) => text == s,
            StrMatcher::Prefix(s) => text.starts_with(s.as_str()),
            StrMatcher::Suffix(s) => text.ends_with(s.as_str()),
            StrMatcher::Contains(f) => f.find(text.as_bytes()).is_some(),
            StrMatcher::Segments(seg) => seg.is_match(text.as_bytes()),
            StrMatcher::Glob(re, _) => re.is_match(text),
        }
    }

    /// Whether the matcher matches one whole value only.
    pub(crate) fn is_exact(&self) -> bool {
        matches!(self, StrMatcher::Exact(_))
    }

    /// The longest literal every match must contain, lower-cased (for the
    /// pre-filter index); `None` for `*`.
    pub(crate) fn longest_literal(&self) -> Option<String> {
        let piece = match self {
            StrMatcher::Any => return None,
            StrMatcher::Exact(s) | StrMatcher::Prefix(s) | StrMatcher::Suffix(s) => s.as_str(),
            StrMatcher::Contains(f) => std::str::from_utf8(f.needle()).ok()?,
            StrMatcher::Segments(seg) => seg
                .prefix
                .iter()
                .chain(seg.suffix.iter())
                .map(String::as_str)
                .chain(
                    seg.middle
                        .iter()
                        .filter_map(|f| std::str::from_utf8(f.needle()).ok()),
                )
                .max_by_key(|s| s.len())?,
            StrMatcher::Glob(_, longest) => longest.as_str(),
        };
        Some(lower(piece))
    }
}

impl Segments {
    fn is_match(&self, text: &[u8]) -> bool {
        let mut start = 0;
        let mut end = text.len();
        if let Some(p) = &self.prefix {
            if !text.starts_with(p.as_bytes()) {
                return false;
            }
            start = p.len();
        }
        if let Some(s) = &self.suffix {
            if !text.ends_with(s.as_bytes()) || end < start + s.len() {
                return false;
            }
            end -= s.len();
        }
        let mut hay = &text[start..end];
        for finder in &self.middle {
            match finder.find(hay) {
                Some(at) => hay = &hay[at + finder.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str) -> StrMatcher {
        SigmaStr::parse(pattern).compile(false)
    }

    #[test]
    fn escapes_follow_the_specification() {
        assert_eq!(SigmaStr::parse(r"a\*b"), SigmaStr::literal("a*b"));
        assert_eq!(SigmaStr::parse(r"a\\b"), SigmaStr::literal(r"a\b"));
        assert_eq!(
            SigmaStr::parse(r"C:\Windows\"),
            SigmaStr::literal(r"C:\Windows\")
        );
        assert!(SigmaStr::parse(r"a\\*").has_wildcards());
        assert!(!SigmaStr::parse(r"a\\\*").has_wildcards());
        assert_eq!(SigmaStr::parse(r"\\\\"), SigmaStr::literal(r"\\"));
    }

    #[test]
    fn matcher_shapes() {
        assert!(m("cmd.exe").is_match("cmd.exe"));
        assert!(!m("cmd.exe").is_match("xcmd.exe"));
        assert!(m("*\\cmd.exe").is_match("c:\\windows\\cmd.exe"));
        assert!(m(r"c:\\*").is_match(r"c:\x"));
        assert!(m(r"c:\*").is_match("c:*"));
        assert!(m("*evil*").is_match("very evil thing"));
        assert!(m("a*b*c").is_match("a--b--c"));
        assert!(!m("a*b*c").is_match("a--c--b"));
        assert!(!m("ab*ba").is_match("aba"));
        assert!(m("prog?.exe").is_match("proga.exe"));
        assert!(!m("prog?.exe").is_match("prog.exe"));
        assert!(m("*").is_match(""));
    }

    #[test]
    fn case_folding_happens_on_the_pattern() {
        assert!(m("*\\CMD.EXE").is_match("c:\\cmd.exe"));
        assert!(
            !SigmaStr::parse("*\\CMD.EXE")
                .compile(true)
                .is_match("c:\\cmd.exe")
        );
    }

    #[test]
    fn folding_treats_case_variants_alike() {
        assert_eq!(lower("KERBEROS"), "kerberos");
        assert_eq!(lower("Kerbero\u{17f}"), "kerberos");
        assert_eq!(lower("\u{212a}\u{3a3}\u{3c2}"), "k\u{3c3}\u{3c3}");
        assert!(m("*kerberos*").is_match(&lower("x KERBEROſ y")));
    }

    #[test]
    fn windash_permutations() {
        let v = SigmaStr::parse(" -enc ").windash();
        assert_eq!(v.len(), 5);
        assert!(v.contains(&SigmaStr::literal(" /enc ")));
        assert!(v.contains(&SigmaStr::literal(" \u{2015}enc ")));
        assert_eq!(SigmaStr::parse("a-b").windash().len(), 1);
        assert_eq!(SigmaStr::parse("-a -b").windash().len(), 25);
    }

    #[test]
    fn base64_offsets_match_known_values() {
        let v = SigmaStr::literal("http://")
            .base64offset()
            .expect("no wildcards");
        let texts: Vec<String> = v
            .iter()
            .map(|s| String::from_utf8(s.literal_bytes()).expect("ascii"))
            .collect();
        // Substrings of base64("http://"), base64(" http://"), base64("  http://").
        assert_eq!(texts, ["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]);
        assert_eq!(
            SigmaStr::literal("cmd")
                .utf16le()
                .base64()
                .expect("no wildcards"),
            SigmaStr::literal("YwBtAGQA")
        );
        assert!(SigmaStr::parse("a*").base64().is_err());
    }

    #[test]
    fn placeholders_expand() {
        let lookup = |name: &str| (name == "dc").then(|| vec!["dc1".to_owned(), "dc2".to_owned()]);
        let (v, missing) = SigmaStr::parse("x%dc%y").expand(&lookup);
        assert!(missing.is_empty());
        assert_eq!(
            v,
            vec![SigmaStr::literal("xdc1y"), SigmaStr::literal("xdc2y")]
        );
        let (v, missing) = SigmaStr::parse("%nope%").expand(&lookup);
        assert!(v.is_empty());
        assert_eq!(missing, ["nope"]);
    }
}
