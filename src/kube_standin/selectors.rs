//! `labelSelector` and `fieldSelector` query parameters, parsed and matched
//! with the API server's semantics (a `!=` or `notin` requirement matches
//! objects that lack the label; a missing field compares as "").

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
enum LabelOp {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<(String, LabelOp)>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(requirement(part)?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.0.iter().all(|(key, op)| {
            let value = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
            match (op, value) {
                (LabelOp::Eq(want), Some(v)) => v == want,
                (LabelOp::Eq(_), None) => false,
                (LabelOp::NotEq(want), v) => v != Some(want.as_str()),
                (LabelOp::In(set), Some(v)) => set.iter().any(|s| s == v),
                (LabelOp::In(_), None) => false,
                (LabelOp::NotIn(set), v) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
                (LabelOp::Exists, v) => v.is_some(),
                (LabelOp::NotExists, v) => v.is_none(),
            }
        })
    }
}

/// Commas separate requirements except inside `in (a,b)` sets.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn requirement(part: &str) -> Result<(String, LabelOp), String> {
    let bad = || format!("unable to parse requirement: {part:?}");
    if let Some(key) = part.strip_prefix('!') {
        return Ok((label_key(key.trim()).ok_or_else(bad)?, LabelOp::NotExists));
    }
    if let Some(open) = part.find('(') {
        let close = part.rfind(')').filter(|c| *c > open).ok_or_else(bad)?;
        let mut head = part[..open].split_whitespace();
        let key = label_key(head.next().ok_or_else(bad)?).ok_or_else(bad)?;
        let op = head.next().ok_or_else(bad)?;
        let values: Vec<String> = part[open + 1..close]
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        return match op {
            "in" => Ok((key, LabelOp::In(values))),
            "notin" => Ok((key, LabelOp::NotIn(values))),
            _ => Err(bad()),
        };
    }
    for (token, neg) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((key, value)) = part.split_once(token) {
            let key = label_key(key.trim()).ok_or_else(bad)?;
            let value = value.trim().to_owned();
            return Ok((
                key,
                if neg {
                    LabelOp::NotEq(value)
                } else {
                    LabelOp::Eq(value)
                },
            ));
        }
    }
    Ok((label_key(part).ok_or_else(bad)?, LabelOp::Exists))
}

fn label_key(key: &str) -> Option<String> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then(|| key.to_owned())
}

/// A parsed `fieldSelector`: `field=value`, `field==value` or `field!=value`,
/// comma-separated, with `\,` `\=` `\\` escapes in values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in split_unescaped(text, ',') {
            if part.trim().is_empty() {
                continue;
            }
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            terms.push((field.trim().to_owned(), equal, unescape(value)));
        }
        Ok(FieldSelector(terms))
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(f, _, _)| f.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, want)| {
            let have = field_value(object, field);
            (have == *want) == *equal
        })
    }
}

/// A dotted path rendered the way field selectors compare it.
pub fn field_value(object: &Value, field: &str) -> String {
    let mut cur = object;
    for part in field.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next()
                && let Some(last) = parts.last_mut()
            {
                last.push('\\');
                last.push(next);
            }
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.trim().chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn equality_inequality_and_existence() {
        let l = labels(json!({"app": "shop", "tier": "db"}));
        assert!(LabelSelector::parse("app=shop").unwrap().matches(Some(&l)));
        assert!(
            LabelSelector::parse("app==shop,tier")
                .unwrap()
                .matches(Some(&l))
        );
        assert!(!LabelSelector::parse("app!=shop").unwrap().matches(Some(&l)));
        assert!(LabelSelector::parse("app!=web").unwrap().matches(Some(&l)));
        assert!(!LabelSelector::parse("!tier").unwrap().matches(Some(&l)));
        assert!(LabelSelector::parse("!missing").unwrap().matches(Some(&l)));
        assert!(!LabelSelector::parse("missing").unwrap().matches(Some(&l)));
    }

    #[test]
    fn inequality_matches_objects_without_the_label() {
        let sel = LabelSelector::parse("app!=shop").unwrap();
        assert!(sel.matches(None));
        assert!(!LabelSelector::parse("app=shop").unwrap().matches(None));
    }

    #[test]
    fn set_based_requirements() {
        let l = labels(json!({"env": "prod"}));
        let sel = LabelSelector::parse("env in (prod, staging),tier notin (db)").unwrap();
        assert!(sel.matches(Some(&l)));
        assert!(
            !LabelSelector::parse("env notin (prod)")
                .unwrap()
                .matches(Some(&l))
        );
        assert!(
            !LabelSelector::parse("env in (dev)")
                .unwrap()
                .matches(Some(&l))
        );
    }

    #[test]
    fn malformed_label_selectors_are_refused() {
        assert!(LabelSelector::parse("app=shop,(oops").is_err());
        assert!(LabelSelector::parse("a b=c").is_err());
        assert!(LabelSelector::parse("env within (a)").is_err());
    }

    #[test]
    fn field_selectors_compare_dotted_paths() {
        let ev = json!({"metadata": {"name": "x", "namespace": "ns"},
                        "involvedObject": {"kind": "ShopifyConnection", "name": "acme"}});
        let sel = FieldSelector::parse("involvedObject.name=acme,metadata.namespace==ns").unwrap();
        assert!(sel.matches(&ev));
        assert!(
            !FieldSelector::parse("metadata.name!=x")
                .unwrap()
                .matches(&ev)
        );
        assert!(
            FieldSelector::parse("involvedObject.uid=")
                .unwrap()
                .matches(&ev)
        );
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn field_selector_values_unescape() {
        let obj = json!({"metadata": {"name": "a,b=c"}});
        let sel = FieldSelector::parse(r"metadata.name=a\,b\=c").unwrap();
        assert!(sel.matches(&obj));
    }
}
