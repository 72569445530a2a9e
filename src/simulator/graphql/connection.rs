//! Relay connections as Shopify pages them (reference §4.2, checklist §9.5):
//! `first` or `last` required and at most 250, opaque base64 cursors holding
//! `{"last_id", "last_value"}` so ties on the sort value break by id, and
//! `reverse` flipping the order.

use std::ops::Bound;

use base64::Engine;

use super::errors::{GqlError, bad_request};
use super::plan::PlanField;

pub const MAX_PAGE: i64 = 250;

/// Lower and upper bounds over `(value, id)`.
pub type KeyBounds = (Bound<(i64, u64)>, Bound<(i64, u64)>);

/// A position in a sorted sequence of `(value, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub value: i64,
    pub id: u64,
}

impl Cursor {
    /// `scale` turns the stored value into the cursor's (seconds → epoch ms for timestamps).
    pub fn encode(&self, scale: i64) -> String {
        // Formatted by hand: this runs for every item of every page.
        let value = self.value.saturating_mul(scale);
        let body = format!(r#"{{"last_id":{},"last_value":{value}}}"#, self.id);
        base64::engine::general_purpose::STANDARD.encode(body)
    }

    pub fn decode(s: &str, scale: i64) -> Option<Cursor> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let id = v.get("last_id")?.as_u64()?;
        let value = v.get("last_value")?.as_i64()? / scale.max(1);
        Some(Cursor { value, id })
    }
}

#[derive(Debug, Clone)]
pub struct PageArgs {
    pub first: Option<usize>,
    pub last: Option<usize>,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    pub reverse: bool,
}

impl PageArgs {
    /// Everything, for bulk operations (first, cursors and pageInfo are ignored there, §3.7).
    pub fn unbounded() -> PageArgs {
        PageArgs {
            first: Some(usize::MAX),
            last: None,
            after: None,
            before: None,
            reverse: false,
        }
    }

    pub fn from_field(field: &PlanField, scale: i64, bulk: bool) -> Result<PageArgs, GqlError> {
        let reverse = field.arg_bool("reverse").unwrap_or(false);
        if bulk {
            return Ok(PageArgs {
                reverse,
                ..PageArgs::unbounded()
            });
        }
        let first = field.arg_i64("first");
        let last = field.arg_i64("last");
        if first.is_none() && last.is_none() {
            return Err(bad_request("you must provide one of first or last"));
        }
        for (name, n) in [("first", first), ("last", last)] {
            if let Some(n) = n {
                if n > MAX_PAGE {
                    return Err(bad_request(format!(
                        "The `{name}` argument must be less than or equal to {MAX_PAGE} (received {n})."
                    )));
                }
                if n < 0 {
                    return Err(bad_request(format!(
                        "The `{name}` argument must be non-negative."
                    )));
                }
            }
        }
        let cursor = |name: &str| -> Result<Option<Cursor>, GqlError> {
            match field.arg_str(name) {
                None => Ok(None),
                Some(s) => Cursor::decode(s, scale)
                    .map(Some)
                    .ok_or_else(|| bad_request(format!("Invalid cursor for `{name}`."))),
            }
        };
        Ok(PageArgs {
            first: first.map(|n| n as usize),
            last: last.map(|n| n as usize),
            after: cursor("after")?,
            before: cursor("before")?,
            reverse,
        })
    }

    /// The ascending `(value, id)` bounds this page may draw from.
    pub fn bounds(&self) -> KeyBounds {
        let (low, high) = if self.reverse {
            (self.before, self.after)
        } else {
            (self.after, self.before)
        };
        (
            low.map_or(Bound::Unbounded, |c| Bound::Excluded((c.value, c.id))),
            high.map_or(Bound::Unbounded, |c| Bound::Excluded((c.value, c.id))),
        )
    }
}

/// One page of items with their cursors.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<(T, String)>,
    pub has_next: bool,
    pub has_previous: bool,
}

/// Pages through ascending `(value, id)` pairs already limited to `args.bounds()`;
/// `accept` filters and loads each candidate.
pub fn paginate<T, I, F>(args: &PageArgs, scale: i64, candidates: I, mut accept: F) -> Page<T>
where
    I: DoubleEndedIterator<Item = (i64, u64)>,
    F: FnMut(i64, u64) -> Option<T>,
{
    let ordered: Box<dyn DoubleEndedIterator<Item = (i64, u64)>> = if args.reverse {
        Box::new(candidates.rev())
    } else {
        Box::new(candidates)
    };
    let mut items = Vec::new();
    let (has_next, has_previous);
    if let Some(first) = args.first {
        let mut it =
            ordered.filter_map(|(v, id)| accept(v, id).map(|t| (t, Cursor { value: v, id })));
        while items.len() < first {
            match it.next() {
                Some(x) => items.push(x),
                None => break,
            }
        }
        has_next = items.len() == first && it.next().is_some();
        has_previous = args.after.is_some();
    } else {
        let last = args.last.unwrap_or(0);
        let mut it = ordered
            .rev()
            .filter_map(|(v, id)| accept(v, id).map(|t| (t, Cursor { value: v, id })));
        while items.len() < last {
            match it.next() {
                Some(x) => items.push(x),
                None => break,
            }
        }
        has_previous = items.len() == last && it.next().is_some();
        has_next = args.before.is_some();
        items.reverse();
    }
    Page {
        items: items
            .into_iter()
            .map(|(t, c)| (t, c.encode(scale)))
            .collect(),
        has_next,
        has_previous,
    }
}

/// Pages through a small in-memory list in its natural order (line items, variants).
pub fn paginate_list<T: Clone>(args: &PageArgs, ids: &[(u64, T)]) -> Page<T> {
    let (lo, hi) = args.bounds();
    let keyed = ids
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (i as i64, *id))
        .filter(move |k| {
            let above = match lo {
                Bound::Excluded(b) => *k > b,
                _ => true,
            };
            let below = match hi {
                Bound::Excluded(b) => *k < b,
                _ => true,
            };
            above && below
        });
    let keyed: Vec<(i64, u64)> = keyed.collect();
    paginate(args, 1, keyed.into_iter(), |pos, _| {
        ids.get(pos as usize).map(|(_, t)| t.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        first: Option<usize>,
        last: Option<usize>,
        after: Option<Cursor>,
        reverse: bool,
    ) -> PageArgs {
        PageArgs {
            first,
            last,
            after,
            before: None,
            reverse,
        }
    }

    #[test]
    fn cursors_round_trip_and_break_ties_by_id() {
        let c = Cursor {
            value: 1_782_167_640,
            id: 8_837_991_727_410,
        };
        let s = c.encode(1000);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .expect("base64");
        assert_eq!(
            String::from_utf8_lossy(&raw),
            r#"{"last_id":8837991727410,"last_value":1782167640000}"#
        );
        assert_eq!(Cursor::decode(&s, 1000), Some(c));
    }

    #[test]
    fn forward_backward_and_reverse_pages() {
        let data: Vec<(i64, u64)> = vec![(10, 1), (10, 2), (20, 3), (30, 4), (40, 5)];
        let run = |a: &PageArgs| {
            let (lo, hi) = a.bounds();
            let c: Vec<(i64, u64)> = data
                .iter()
                .copied()
                .filter(|k| match lo {
                    Bound::Excluded(b) => *k > b,
                    _ => true,
                })
                .filter(|k| match hi {
                    Bound::Excluded(b) => *k < b,
                    _ => true,
                })
                .collect();
            paginate(a, 1, c.into_iter(), |_, id| Some(id))
        };
        let p1 = run(&args(Some(2), None, None, false));
        assert_eq!(p1.items.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2]);
        assert!(p1.has_next && !p1.has_previous);
        let after = Cursor::decode(&p1.items[1].1, 1);
        let p2 = run(&args(Some(2), None, after, false));
        assert_eq!(p2.items.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 4]);
        let p3 = run(&args(Some(2), None, None, true));
        assert_eq!(p3.items.iter().map(|x| x.0).collect::<Vec<_>>(), vec![5, 4]);
        let p4 = run(&args(None, Some(2), None, false));
        assert_eq!(p4.items.iter().map(|x| x.0).collect::<Vec<_>>(), vec![4, 5]);
        assert!(p4.has_previous && !p4.has_next);
    }
}
