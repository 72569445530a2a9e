//! Shopify's search syntax for the `query:` argument (reference §5): terms
//! with implicit AND, explicit AND/OR/NOT, a `-` prefix, parentheses,
//! comparators `: :< :> :<= :>=`, quoted values, every date form clients send.
//! Unknown fields are ignored, as Shopify does (checklist §9.6).

use super::data::model::Ts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// `None` for free text.
    pub field: Option<String>,
    pub cmp: Cmp,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    All,
    Term(Term),
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
}

/// What a record offers a term to compare against.
pub enum FieldValue<'a> {
    Time(Ts),
    Number(u64),
    Text(&'a str),
    Owned(String),
    Bool(bool),
    /// Multi-valued fields (`status`, `tag`): `:` means membership.
    Set(Vec<&'a str>),
    OwnedSet(Vec<String>),
}

pub trait Searchable {
    /// `None` means the field is unknown here and the term is ignored.
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String, bool),
}

fn tokenize(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            _ => {
                let mut word = String::new();
                let mut quoted = false;
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == ')' || (c == '(' && word.is_empty()) {
                        break;
                    }
                    chars.next();
                    if c == '\'' || c == '"' {
                        quoted = true;
                        for q in chars.by_ref() {
                            if q == c {
                                break;
                            }
                            word.push(q);
                        }
                    } else {
                        word.push(c);
                    }
                }
                out.push(Token::Word(word, quoted));
            }
        }
    }
    out
}

/// Parses a search string; an empty string matches everything.
pub fn parse(input: &str) -> Query {
    let tokens = tokenize(input);
    let mut pos = 0;
    let q = parse_or(&tokens, &mut pos);
    q.unwrap_or(Query::All)
}

fn parse_or(t: &[Token], pos: &mut usize) -> Option<Query> {
    let mut parts = vec![parse_and(t, pos)?];
    while matches!(t.get(*pos), Some(Token::Word(w, false)) if w == "OR") {
        *pos += 1;
        if let Some(q) = parse_and(t, pos) {
            parts.push(q);
        }
    }
    Some(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Query::Or(parts)
    })
}

fn parse_and(t: &[Token], pos: &mut usize) -> Option<Query> {
    let mut parts = Vec::new();
    loop {
        match t.get(*pos) {
            None | Some(Token::Close) => break,
            Some(Token::Word(w, false)) if w == "OR" => break,
            Some(Token::Word(w, false)) if w == "AND" => *pos += 1,
            _ => match parse_unary(t, pos) {
                Some(q) => parts.push(q),
                None => break,
            },
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Query::And(parts)),
    }
}

fn parse_unary(t: &[Token], pos: &mut usize) -> Option<Query> {
    let tok = t.get(*pos)?.clone();
    *pos += 1;
    match tok {
        Token::Open => {
            let q = parse_or(t, pos);
            if matches!(t.get(*pos), Some(Token::Close)) {
                *pos += 1;
            }
            q
        }
        Token::Close => None,
        Token::Word(w, false) if w == "NOT" => parse_unary(t, pos).map(|q| Query::Not(Box::new(q))),
        Token::Word(w, quoted) => {
            if let Some(rest) = w.strip_prefix('-').filter(|r| !r.is_empty() && !quoted) {
                return Some(Query::Not(Box::new(Query::Term(term(rest)))));
            }
            Some(Query::Term(term(&w)))
        }
    }
}

fn term(word: &str) -> Term {
    let Some((field, rest)) = word.split_once(':') else {
        return Term {
            field: None,
            cmp: Cmp::Eq,
            value: word.to_string(),
        };
    };
    let (cmp, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Cmp::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Cmp::Ge, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Cmp::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Cmp::Gt, v)
    } else {
        (Cmp::Eq, rest)
    };
    Term {
        field: Some(field.to_lowercase()),
        cmp,
        value: value.to_string(),
    }
}

/// A search date as the period it names, `[start, end)` in seconds:
/// a full timestamp names one second, `2024-01-01` a day, `2024` a year.
pub fn parse_date(value: &str, now: Ts) -> Option<(Ts, Ts)> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("now") {
        return Some((now, now + 1));
    }
    let normalised = v.replacen(' ', "T", 1);
    if let Ok(t) = normalised.parse::<jiff::Timestamp>() {
        return Some((t.as_second(), t.as_second() + 1));
    }
    if let Some(dt) = normalised
        .contains('T')
        .then(|| normalised.parse::<jiff::civil::DateTime>().ok())
        .flatten()
    {
        let t = dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second();
        return Some((t, t + 1));
    }
    let day = |d: jiff::civil::Date| {
        d.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_second())
    };
    if let Ok(d) = v.parse::<jiff::civil::Date>() {
        return Some((day(d)?, day(d.tomorrow().ok()?)?));
    }
    let parts: Vec<&str> = v.split('-').collect();
    let year: i16 = parts.first()?.parse().ok()?;
    match parts.len() {
        1 => Some((
            day(jiff::civil::date(year, 1, 1))?,
            day(jiff::civil::date(year + 1, 1, 1))?,
        )),
        2 => {
            let month: i8 = parts[1].parse().ok().filter(|m| (1..=12).contains(m))?;
            let start = jiff::civil::Date::new(year, month, 1).ok()?;
            let end = if month == 12 {
                jiff::civil::date(year + 1, 1, 1)
            } else {
                jiff::civil::date(year, month + 1, 1)
            };
            Some((day(start)?, day(end)?))
        }
        _ => None,
    }
}

impl Query {
    pub fn matches(&self, record: &impl Searchable, now: Ts) -> bool {
        match self {
            Query::All => true,
            Query::And(parts) => parts.iter().all(|q| q.matches(record, now)),
            Query::Or(parts) => parts.iter().any(|q| q.matches(record, now)),
            Query::Not(q) => !q.matches(record, now),
            Query::Term(t) => term_matches(t, record, now),
        }
    }

    /// The `[lo, hi)` range a top-level AND of terms puts on a time field, so
    /// a connection sorted by that field can seek instead of scanning.
    pub fn time_bounds(&self, field: &str, now: Ts) -> (Option<Ts>, Option<Ts>) {
        let terms: Vec<&Term> = match self {
            Query::Term(t) => vec![t],
            Query::And(parts) => parts
                .iter()
                .filter_map(|p| {
                    if let Query::Term(t) = p {
                        Some(t)
                    } else {
                        None
                    }
                })
                .collect(),
            _ => vec![],
        };
        let (mut lo, mut hi): (Option<Ts>, Option<Ts>) = (None, None);
        for t in terms
            .into_iter()
            .filter(|t| t.field.as_deref() == Some(field))
        {
            let Some((start, end)) = parse_date(&t.value, now) else {
                continue;
            };
            let (l, h) = match t.cmp {
                Cmp::Eq => (Some(start), Some(end)),
                Cmp::Gt => (Some(end), None),
                Cmp::Ge => (Some(start), None),
                Cmp::Lt => (None, Some(start)),
                Cmp::Le => (None, Some(end)),
            };
            lo = lo.max(l);
            hi = match (hi, h) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        (lo, hi)
    }
}

fn term_matches(t: &Term, record: &impl Searchable, now: Ts) -> bool {
    let Some(name) = t.field.as_deref() else {
        return match record.field("default") {
            Some(FieldValue::Set(words)) => {
                let needle = t.value.to_lowercase();
                words.iter().any(|w| w.to_lowercase().contains(&needle))
            }
            Some(FieldValue::OwnedSet(words)) => {
                let needle = t.value.to_lowercase();
                words.iter().any(|w| w.to_lowercase().contains(&needle))
            }
            _ => true,
        };
    };
    if let Some(positive) = name.strip_suffix("_not") {
        let flipped = Term {
            field: Some(positive.to_string()),
            cmp: t.cmp,
            value: t.value.clone(),
        };
        return record.field(positive).is_none() || !term_matches(&flipped, record, now);
    }
    let Some(value) = record.field(name) else {
        return true;
    };
    let ord = |o: std::cmp::Ordering| match t.cmp {
        Cmp::Eq => o.is_eq(),
        Cmp::Lt => o.is_lt(),
        Cmp::Gt => o.is_gt(),
        Cmp::Le => o.is_le(),
        Cmp::Ge => o.is_ge(),
    };
    match value {
        FieldValue::Time(ts) => match parse_date(&t.value, now) {
            Some((start, end)) => match t.cmp {
                Cmp::Eq => ts >= start && ts < end,
                Cmp::Gt => ts >= end,
                Cmp::Ge => ts >= start,
                Cmp::Lt => ts < start,
                Cmp::Le => ts < end,
            },
            None => false,
        },
        FieldValue::Number(n) => {
            let raw = t.value.rsplit('/').next().unwrap_or(&t.value);
            raw.parse::<u64>().is_ok_and(|v| ord(n.cmp(&v)))
        }
        FieldValue::Text(s) => text_matches(s, &t.value),
        FieldValue::Owned(s) => text_matches(&s, &t.value),
        FieldValue::Bool(b) => t.value.parse::<bool>().is_ok_and(|v| v == b),
        FieldValue::OwnedSet(items) => t
            .value
            .split(',')
            .any(|want| items.iter().any(|i| text_matches(i, want))),
        FieldValue::Set(items) => t.value.split(',').any(|want| {
            want.eq_ignore_ascii_case("any") || items.iter().any(|i| text_matches(i, want))
        }),
    }
}

/// Case-insensitive equality, with a trailing `*` as a prefix match.
fn text_matches(have: &str, want: &str) -> bool {
    match want.strip_suffix('*') {
        Some(prefix) => have.to_lowercase().starts_with(&prefix.to_lowercase()),
        None => have.eq_ignore_ascii_case(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rec;
    impl Searchable for Rec {
        fn field(&self, name: &str) -> Option<FieldValue<'_>> {
            match name {
                "updated_at" => Some(FieldValue::Time(1_700_000_000)), // 2023-11-14T22:13:20Z
                "id" => Some(FieldValue::Number(1234)),
                "status" => Some(FieldValue::Set(vec!["closed", "cancelled"])),
                "tag" => Some(FieldValue::Set(vec!["vip"])),
                _ => None,
            }
        }
    }

    #[test]
    fn every_date_form_clients_send_is_accepted() {
        let now = 1_800_000_000;
        for form in [
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20+00:00",
            "2023-11-14T22:13:20.000000Z",
            "2023-11-14 22:13:20+00:00",
            "2023-11-14T17:13:20-05:00",
        ] {
            assert_eq!(
                parse_date(form, now),
                Some((1_700_000_000, 1_700_000_001)),
                "{form}"
            );
        }
        assert_eq!(
            parse_date("2023-11-14", now).map(|(s, e)| e - s),
            Some(86_400)
        );
        assert_eq!(parse_date("2024", now).map(|(s, _)| s), Some(1_704_067_200));
        assert_eq!(parse_date("now", now), Some((now, now + 1)));
    }

    #[test]
    fn ranges_statuses_ids_and_connectives() {
        let now = 1_800_000_000;
        let yes = |q: &str| parse(q).matches(&Rec, now);
        assert!(yes(
            "updated_at:>='2023-11-14T00:00:00Z' AND updated_at:<'2023-11-15T00:00:00Z'"
        ));
        assert!(!yes("updated_at:>'2023-11-14T22:13:20Z'"));
        assert!(yes("updated_at:<=2023"));
        assert!(yes("updated_at:<now"));
        assert!(
            yes("status:closed")
                && yes("status:cancelled")
                && yes("status:any")
                && !yes("status:open")
        );
        assert!(yes("id:>=1234") && !yes("id:>1234") && yes("id:<2000"));
        assert!(yes("status:open OR tag:vip") && !yes("-tag:vip") && yes("NOT tag:gift"));
        assert!(!yes("tag_not:vip") && yes("(tag:gift OR id:1234) unknown_field:x"));
        assert_eq!(
            parse("updated_at:>=2023-11-14 updated_at:<2023-11-15").time_bounds("updated_at", now),
            (Some(1_699_920_000), Some(1_700_006_400))
        );
    }
}
