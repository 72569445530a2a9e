//! The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[*].b` and
//! filters such as `.status.conditions[?(@.type=="Ready")].status`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    Filter {
        path: Vec<String>,
        equal: bool,
        literal: Value,
    },
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath(Vec<Step>);

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let text = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        let text = text.strip_prefix('$').unwrap_or(text);
        let mut steps = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return Err(format!("empty field name in {text:?}"));
                }
                steps.push(Step::Field(r[..end].to_owned()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = closing_bracket(r).ok_or_else(|| format!("unclosed [ in {text:?}"))?;
                steps.push(bracket(&r[..end])?);
                rest = &r[end + 1..];
            } else {
                return Err(format!("unexpected {rest:?} in {text:?}"));
            }
        }
        Ok(JsonPath(steps))
    }

    /// Every value the expression selects, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![root];
        for step in &self.0 {
            let mut next = Vec::new();
            for v in current {
                match step {
                    Step::Field(k) => next.extend(v.get(k)),
                    Step::Index(i) => next.extend(v.get(*i)),
                    Step::All => match v {
                        Value::Array(items) => next.extend(items.iter()),
                        Value::Object(map) => next.extend(map.values()),
                        _ => {}
                    },
                    Step::Filter {
                        path,
                        equal,
                        literal,
                    } => {
                        if let Value::Array(items) = v {
                            next.extend(items.iter().filter(|item| {
                                let got = path.iter().try_fold(*item, |cur, k| cur.get(k));
                                (got == Some(literal)) == *equal
                            }));
                        }
                    }
                }
            }
            current = next;
        }
        current
    }
}

/// Position of the `]` closing the bracket, skipping quoted text.
fn closing_bracket(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, ']') => return Some(i),
            _ => {}
        }
    }
    None
}

fn bracket(inner: &str) -> Result<Step, String> {
    let inner = inner.trim();
    if inner == "*" {
        return Ok(Step::All);
    }
    if let Ok(i) = inner.parse::<usize>() {
        return Ok(Step::Index(i));
    }
    if let Some(quoted) = unquote(inner) {
        return Ok(Step::Field(quoted));
    }
    let expr = inner
        .strip_prefix("?(")
        .and_then(|e| e.strip_suffix(')'))
        .ok_or_else(|| format!("unsupported [{inner}]"))?;
    let (lhs, equal, rhs) = if let Some((l, r)) = expr.split_once("==") {
        (l, true, r)
    } else if let Some((l, r)) = expr.split_once("!=") {
        (l, false, r)
    } else {
        return Err(format!("unsupported filter {expr:?}"));
    };
    let path = lhs
        .trim()
        .strip_prefix("@.")
        .ok_or_else(|| format!("filter must start with @. in {expr:?}"))?
        .split('.')
        .map(str::to_owned)
        .collect();
    let rhs = rhs.trim();
    let literal = match unquote(rhs) {
        Some(s) => Value::String(s),
        None => serde_json::from_str(rhs).map_err(|_| format!("bad literal {rhs:?}"))?,
    };
    Ok(Step::Filter {
        path,
        equal,
        literal,
    })
}

fn unquote(text: &str) -> Option<String> {
    ['"', '\''].iter().find_map(|q| {
        text.strip_prefix(*q)
            .and_then(|t| t.strip_suffix(*q))
            .map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({"spec": {"store": "acme.myshopify.com"},
               "status": {"conditions": [
                   {"type": "Synced", "status": "False"},
                   {"type": "Ready", "status": "True", "reason": "Fresh"}],
                 "rateLimit": {"available": 42}}})
    }

    #[test]
    fn plain_paths_and_indexes() {
        let o = obj();
        assert_eq!(
            JsonPath::parse(".spec.store").unwrap().find(&o),
            vec![&json!("acme.myshopify.com")]
        );
        assert_eq!(
            JsonPath::parse("{.status.conditions[1].type}")
                .unwrap()
                .find(&o),
            vec![&json!("Ready")]
        );
        assert_eq!(
            JsonPath::parse(".status.conditions[*].type")
                .unwrap()
                .find(&o)
                .len(),
            2
        );
        assert!(
            JsonPath::parse(".status.missing.x")
                .unwrap()
                .find(&o)
                .is_empty()
        );
    }

    #[test]
    fn filters_select_list_items() {
        let o = obj();
        let p = JsonPath::parse(r#".status.conditions[?(@.type=="Ready")].status"#).unwrap();
        assert_eq!(p.find(&o), vec![&json!("True")]);
        let p = JsonPath::parse(".status.conditions[?(@.type!='Ready')].status").unwrap();
        assert_eq!(p.find(&o), vec![&json!("False")]);
    }

    #[test]
    fn malformed_expressions_are_errors() {
        assert!(JsonPath::parse(".a[").is_err());
        assert!(JsonPath::parse(".a[?(@.x>1)]").is_err());
        assert!(JsonPath::parse("a.b").is_err());
    }
}
