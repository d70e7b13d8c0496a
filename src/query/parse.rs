//! The query language's grammar: words, `key:value` terms, quoted phrases, `and`, `or`,
//! `not`/`-` and parentheses, each error naming the character it is at.

use super::expr::{Expr, Header, QueryError, State, Term};
use crate::date::{self, Day};

/// Nesting deeper than this is refused, so that no query can exhaust the stack.
const DEEPEST: usize = 64;

/// Reads a query; the error says at which character it went wrong and what would do.
pub fn parse(text: &str) -> Result<Expr, QueryError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        end: text.chars().count() + 1,
    };
    let expr = parser.either(0)?;
    match parser.peek() {
        None => Ok(expr),
        Some(t) => Err(error(t.at, "a `)` with no `(` before it")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Open,
    Close,
    /// A word as typed (`and`, `from:ann`, `hello`).
    Word(String),
    /// A quoted phrase, or a key with a quoted value (`subject:"a b"`).
    Quoted(Option<String>, String),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// The character it starts at, from 1.
    at: usize,
}

fn error(at: usize, reason: impl Into<String>) -> QueryError {
    QueryError {
        position: at,
        reason: reason.into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at = i + 1;
        let kind = match chars[i] {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Kind::Open
            }
            ')' => {
                i += 1;
                Kind::Close
            }
            '"' => Kind::Quoted(None, quoted(&chars, &mut i)?),
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()\"".contains(chars[i]) {
                    if chars[i].is_control() {
                        return Err(control(i + 1));
                    }
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.strip_suffix(':') {
                    Some(key) if chars.get(i) == Some(&'"') => {
                        Kind::Quoted(Some(key.to_string()), quoted(&chars, &mut i)?)
                    }
                    _ => Kind::Word(word),
                }
            }
        };
        tokens.push(Token { kind, at });
    }
    Ok(tokens)
}

fn control(at: usize) -> QueryError {
    error(at, "a control character: a query is text on one line")
}

/// The phrase of the quote that starts at `chars[*i]`; `\"` and `\\` stand for `"` and
/// `\`. Leaves `*i` after the closing quote.
fn quoted(chars: &[char], i: &mut usize) -> Result<String, QueryError> {
    let open = *i + 1;
    let mut out = String::new();
    *i += 1;
    while let Some(&c) = chars.get(*i) {
        *i += 1;
        match c {
            '"' => return Ok(out),
            c if c.is_control() => return Err(control(*i)),
            '\\' if matches!(chars.get(*i), Some('"' | '\\')) => {
                out.push(chars[*i]);
                *i += 1;
            }
            c => out.push(c),
        }
    }
    Err(error(
        open,
        "a quote that is never closed: end the phrase with \"",
    ))
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// The position just past the text, for "ended too soon".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    /// `a or b or c`.
    fn either(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut expr = self.all(depth)?;
        while self.peek_word("or") {
            self.next += 1;
            let right = self.all(depth)?;
            expr = Expr::Either(Box::new(expr), Box::new(right));
        }
        Ok(expr)
    }

    /// `a b and c`: terms side by side, up to an `or`, a `)` or the end.
    fn all(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut all = vec![self.unary(depth)?];
        loop {
            if self.peek_word("and") {
                self.next += 1;
            } else if self.peek_word("or")
                || matches!(
                    self.peek(),
                    None | Some(Token {
                        kind: Kind::Close,
                        ..
                    })
                )
            {
                break;
            }
            all.push(self.unary(depth)?);
        }
        Ok(match all.len() {
            1 => all.remove(0),
            _ => Expr::All(all),
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let Some(token) = self.peek().cloned() else {
            return Err(error(self.end, "the query ends where a term should be"));
        };
        if depth > DEEPEST {
            return Err(error(token.at, format!("nested deeper than {DEEPEST}")));
        }
        self.next += 1;
        match token.kind {
            Kind::Open => {
                let inner = self.either(depth + 1)?;
                match self.peek() {
                    Some(Token {
                        kind: Kind::Close, ..
                    }) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    _ => Err(error(token.at, "a `(` that is never closed")),
                }
            }
            Kind::Close => Err(error(token.at, "a `)` where a term should be")),
            Kind::Word(w) if w.eq_ignore_ascii_case("not") => {
                Ok(Expr::Not(Box::new(self.unary(depth + 1)?)))
            }
            Kind::Word(w) if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") => {
                Err(error(token.at, format!("`{w}` where a term should be")))
            }
            Kind::Word(w) if w.len() > 1 && w.starts_with('-') => {
                let inner = term(&w[1..], None, token.at + 1)?;
                Ok(Expr::Not(Box::new(Expr::Term(inner))))
            }
            Kind::Word(w) => Ok(Expr::Term(term(&w, None, token.at)?)),
            Kind::Quoted(None, phrase) => Ok(Expr::Term(Term::Text(phrase))),
            Kind::Quoted(Some(key), phrase) => Ok(Expr::Term(term(&key, Some(phrase), token.at)?)),
        }
    }
}

/// The keys a term may have, for the error that names an unknown one.
const KEYS: &str =
    "from, to, cc, subject, body, text, since, before, on, larger, smaller, is, has, uid, gmail";

/// One term: `key:value` (the value given apart when it was quoted), or a bare word.
fn term(word: &str, quoted: Option<String>, at: usize) -> Result<Term, QueryError> {
    let (key, value) = match (quoted, word.split_once(':')) {
        (Some(v), _) => (word.to_string(), v),
        (None, Some((k, v))) => (k.to_string(), v.to_string()),
        (None, None) => return Ok(Term::Text(word.to_string())),
    };
    let value_at = at + key.chars().count() + 1;
    let key = key.to_ascii_lowercase();
    if value.is_empty() {
        return Err(error(value_at, format!("`{key}:` with nothing after it")));
    }
    let header = |h| Ok(Term::Header(h, value.clone()));
    match key.as_str() {
        "from" => header(Header::From),
        "to" => header(Header::To),
        "cc" => header(Header::Cc),
        "subject" => header(Header::Subject),
        "body" => Ok(Term::Body(value)),
        "text" => Ok(Term::Text(value)),
        "since" => day(&value, value_at).map(Term::Since),
        "before" => day(&value, value_at).map(Term::Before),
        "on" => day(&value, value_at).map(Term::On),
        "larger" => size(&value, value_at).map(Term::Larger),
        "smaller" => size(&value, value_at).map(Term::Smaller),
        "is" => state(&value, value_at).map(Term::Is),
        "has" if value.eq_ignore_ascii_case("attachment") => Ok(Term::HasAttachment),
        "has" => Err(error(
            value_at,
            format!("`has:{value}`: the one is has:attachment"),
        )),
        "uid" => uids(&value, value_at).map(Term::Uid),
        "gmail" => Ok(Term::Gmail(value)),
        _ => Err(error(
            at,
            format!(
                "`{key}:` is not a key: use one of {KEYS}, or quote the words (\"{key}:{value}\")"
            ),
        )),
    }
}

/// `2026-11-01`, `today`, `yesterday`, or a time back from today: `7d`, `2w`, `3m`, `1y`.
fn day(value: &str, at: usize) -> Result<Day, QueryError> {
    let v = value.to_ascii_lowercase();
    let back = match v.as_str() {
        "today" => Some(0),
        "yesterday" => Some(1),
        _ => v.char_indices().last().and_then(|(i, unit)| {
            let n: u32 = v[..i].parse().ok()?;
            let per = match unit {
                'd' => 1,
                'w' => 7,
                'm' => 30,
                'y' => 365,
                _ => return None,
            };
            n.checked_mul(per)
        }),
    };
    match back {
        Some(days) => Ok(date::local_days_ago(days)),
        None => Day::parse_iso(value).ok_or_else(|| {
            error(
                at,
                format!(
                    "{value:?} is not a day: give 2026-11-01, today, yesterday, 7d, 2w, 3m or 1y"
                ),
            )
        }),
    }
}

/// `5000`, `5K`, `5M`, `1G` (with or without a final `B`), in bytes.
fn size(value: &str, at: usize) -> Result<u64, QueryError> {
    let v = value.to_ascii_uppercase();
    let v = v.strip_suffix('B').unwrap_or(&v);
    let (digits, unit) = match v.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&v[..i], Some(c)),
        _ => (v, None),
    };
    let scale: u64 = match unit {
        None => 1,
        Some('K') => 1 << 10,
        Some('M') => 1 << 20,
        Some('G') => 1 << 30,
        Some(_) => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|n| n.checked_mul(scale))
        .filter(|&n| n <= u64::from(u32::MAX))
        .ok_or_else(|| {
            error(
                at,
                format!("{value:?} is not a size: give bytes, or 500K, 5M, 1G (at most 4G)"),
            )
        })
}

/// `7`, `4200:4250`, `1,5:9`: ranges, lowest first.
fn uids(value: &str, at: usize) -> Result<Vec<(u32, u32)>, QueryError> {
    let uid = |t: &str| t.parse::<u32>().ok().filter(|&u| u > 0);
    value
        .split(',')
        .map(|part| match part.split_once(':') {
            Some((a, b)) => uid(a).zip(uid(b)).map(|(a, b)| (a.min(b), a.max(b))),
            None => uid(part).map(|u| (u, u)),
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| error(at, format!("{value:?} is not a UID: give numbers `mailer list` shows, or ranges such as 4200:4250")))
}

fn state(value: &str, at: usize) -> Result<State, QueryError> {
    match value.to_ascii_lowercase().as_str() {
        "unread" | "unseen" | "new" => Ok(State::Unread),
        "read" | "seen" => Ok(State::Read),
        "flagged" | "starred" => Ok(State::Flagged),
        "answered" | "replied" => Ok(State::Answered),
        "deleted" => Ok(State::Deleted),
        "draft" => Ok(State::Draft),
        _ => Err(error(
            at,
            format!("`is:{value}`: give is:unread, read, flagged, answered, deleted or draft"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Expr {
        Expr::Term(Term::Text(s.into()))
    }

    #[test]
    fn terms_side_by_side_all_match_and_or_binds_looser() {
        let q = parse("from:ann budget or subject:\"Q3 plan\"").unwrap();
        let want = Expr::Either(
            Box::new(Expr::All(vec![
                Expr::Term(Term::Header(Header::From, "ann".into())),
                text("budget"),
            ])),
            Box::new(Expr::Term(Term::Header(Header::Subject, "Q3 plan".into()))),
        );
        assert_eq!(q, want);
        let q = parse("not (a or b) -c and \"two words\"").unwrap();
        let want = Expr::All(vec![
            Expr::Not(Box::new(Expr::Either(
                Box::new(text("a")),
                Box::new(text("b")),
            ))),
            Expr::Not(Box::new(text("c"))),
            text("two words"),
        ]);
        assert_eq!(q, want);
    }

    #[test]
    fn values_are_read_as_people_write_them() {
        assert_eq!(
            parse("larger:5M").unwrap(),
            Expr::Term(Term::Larger(5 << 20))
        );
        assert_eq!(
            parse("smaller:200kb").unwrap(),
            Expr::Term(Term::Smaller(200 << 10))
        );
        assert_eq!(
            parse("is:unread").unwrap(),
            Expr::Term(Term::Is(State::Unread))
        );
        assert_eq!(
            parse("has:attachment").unwrap(),
            Expr::Term(Term::HasAttachment)
        );
        let on = Day::parse_iso("2026-11-01").unwrap();
        assert_eq!(parse("on:2026-11-01").unwrap(), Expr::Term(Term::On(on)));
        assert_eq!(
            parse("since:7d").unwrap(),
            Expr::Term(Term::Since(date::local_days_ago(7)))
        );
        assert_eq!(
            parse("before:2w").unwrap(),
            Expr::Term(Term::Before(date::local_days_ago(14)))
        );
        assert_eq!(
            parse("uid:4250:4200,7").unwrap(),
            Expr::Term(Term::Uid(vec![(4200, 4250), (7, 7)]))
        );
        assert_eq!(parse("主题").unwrap(), text("主题"));
        assert!(parse("subject:会议").unwrap().has_non_ascii());
        assert!(!parse("subject:meeting").unwrap().has_non_ascii());
    }

    #[test]
    fn a_query_that_does_not_parse_says_where() {
        for (query, at, says) in [
            ("from:", 6, "with nothing after it"),
            ("subject:\"open", 9, "never closed"),
            ("(a or b", 1, "`(` that is never closed"),
            ("a b)", 4, "`)` with no `(`"),
            ("a or", 5, "ends where a term should be"),
            ("foo:bar", 1, "`foo:` is not a key"),
            ("since:lastweek", 7, "is not a day"),
            ("larger:5X", 8, "is not a size"),
            ("is:happy", 4, "`is:happy`"),
            ("uid:0", 5, "is not a UID"),
            ("a and and b", 7, "`and` where a term should be"),
            ("subject:\"a\r\nb\"", 11, "a control character"),
        ] {
            let e = parse(query).unwrap_err();
            assert_eq!(e.position, at, "{query}: {e}");
            assert!(e.reason.contains(says), "{query}: {e}");
        }
        let deep = "(".repeat(100) + "a" + &")".repeat(100);
        assert!(parse(&deep).unwrap_err().reason.contains("nested deeper"));
    }
}
