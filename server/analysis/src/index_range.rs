//! Linear forms and ranges of integer index expressions, for the race lint
//! (`missing-syncthreads`): which slots of a shared array an access can
//! touch, written over block-uniform symbols (`i`, `stride`, `blockDim.x`)
//! so that two accesses can be shown to touch disjoint slots
//! (`s[j]` for `j < i` against `s[threadIdx.x]` under `threadIdx.x > i`).
//!
//! All arithmetic is checked: an overflow gives "unknown", never a panic.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One symbol of a linear form: its text and whether it can differ between
/// the threads of a block.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom {
    pub key: String,
    pub varies: bool,
}

/// `c + Σ coefficient · atom`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lin {
    pub terms: BTreeMap<Atom, i64>,
    pub c: i64,
}

impl Lin {
    pub fn constant(c: i64) -> Lin {
        Lin {
            terms: BTreeMap::new(),
            c,
        }
    }

    pub fn atom(key: String, varies: bool) -> Lin {
        let mut terms = BTreeMap::new();
        terms.insert(Atom { key, varies }, 1);
        Lin { terms, c: 0 }
    }

    pub fn as_const(&self) -> Option<i64> {
        self.terms.is_empty().then_some(self.c)
    }

    pub fn add(&self, other: &Lin) -> Option<Lin> {
        let mut out = self.clone();
        out.c = out.c.checked_add(other.c)?;
        for (a, k) in &other.terms {
            let e = out.terms.entry(a.clone()).or_insert(0);
            *e = e.checked_add(*k)?;
            if *e == 0 {
                out.terms.remove(a);
            }
        }
        Some(out)
    }

    pub fn scale(&self, k: i64) -> Option<Lin> {
        if k == 0 {
            return Some(Lin::constant(0));
        }
        let mut out = Lin::constant(self.c.checked_mul(k)?);
        for (a, v) in &self.terms {
            out.terms.insert(a.clone(), v.checked_mul(k)?);
        }
        Some(out)
    }

    pub fn sub(&self, other: &Lin) -> Option<Lin> {
        self.add(&other.scale(-1)?)
    }

    /// Whether any symbol can differ between threads.
    pub fn varies(&self) -> bool {
        self.terms.keys().any(|a| a.varies)
    }

    pub fn coef(&self, key: &str) -> i64 {
        self.terms
            .iter()
            .find(|(a, _)| a.key == key)
            .map_or(0, |(_, k)| *k)
    }

    /// The form with `key` replaced by the constant `value`.
    pub fn substitute(&self, key: &str, value: i64) -> Option<Lin> {
        let k = self.coef(key);
        let mut out = self.clone();
        out.terms.retain(|a, _| a.key != key);
        out.c = out.c.checked_add(k.checked_mul(value)?)?;
        Some(out)
    }

    /// Canonical text: the key of an opaque term built on this form.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for (a, k) in &self.terms {
            if !s.is_empty() {
                s.push_str(" + ");
            }
            if *k == 1 {
                s.push_str(&a.key);
            } else {
                let _ = write!(s, "{k}*{}", a.key);
            }
        }
        if s.is_empty() {
            return self.c.to_string();
        }
        if self.c != 0 {
            let _ = write!(s, " + {}", self.c);
        }
        s
    }

    /// An upper bound of the form's value when every atom is at least its
    /// known lower bound (`lower(key)`), if the form decreases in each atom.
    pub fn max_value(&self, lower: &impl Fn(&str) -> Option<i64>) -> Option<i64> {
        let mut m = self.c;
        for (a, k) in &self.terms {
            if *k > 0 {
                return None;
            }
            m = m.checked_add(k.checked_mul(lower(&a.key)?)?)?;
        }
        Some(m)
    }
}

/// The lower bounds CUDA guarantees for its builtins: a block and a grid
/// have at least one thread and block in each dimension, indices start at 0.
pub fn builtin_lower_bound(key: &str) -> Option<i64> {
    if key.starts_with("blockDim.") || key.starts_with("gridDim.") {
        Some(1)
    } else if key.starts_with("blockIdx.") || key.starts_with("threadIdx.") {
        Some(0)
    } else {
        None
    }
}

/// A closed range `[lo, hi]`; `None` is unbounded on that side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub lo: Option<Lin>,
    pub hi: Option<Lin>,
}

impl Range {
    pub fn point(l: Lin) -> Range {
        Range {
            lo: Some(l.clone()),
            hi: Some(l),
        }
    }

    pub fn unbounded() -> Range {
        Range::default()
    }

    pub fn add(&self, other: &Range) -> Range {
        Range {
            lo: self
                .lo
                .as_ref()
                .zip(other.lo.as_ref())
                .and_then(|(a, b)| a.add(b)),
            hi: self
                .hi
                .as_ref()
                .zip(other.hi.as_ref())
                .and_then(|(a, b)| a.add(b)),
        }
    }

    pub fn scale(&self, k: i64) -> Range {
        let lo = self.lo.as_ref().and_then(|l| l.scale(k));
        let hi = self.hi.as_ref().and_then(|h| h.scale(k));
        if k >= 0 {
            Range { lo, hi }
        } else {
            Range { lo: hi, hi: lo }
        }
    }

    /// Whether no value lies in both ranges: one ends below the other's
    /// start, for every value of the symbols.
    pub fn disjoint(&self, other: &Range) -> bool {
        let below = |a: &Range, b: &Range| match (&a.hi, &b.lo) {
            (Some(hi), Some(lo)) => hi
                .sub(lo)
                .and_then(|d| d.max_value(&builtin_lower_bound))
                .is_some_and(|m| m < 0),
            _ => false,
        };
        below(self, other) || below(other, self)
    }

    /// The single constant value, if the range holds exactly one.
    pub fn as_const(&self) -> Option<i64> {
        let lo = self.lo.as_ref()?.as_const()?;
        let hi = self.hi.as_ref()?.as_const()?;
        (lo == hi).then_some(lo)
    }

    /// The atoms the bounds are written over.
    pub fn atoms(&self) -> impl Iterator<Item = &Atom> {
        self.lo
            .iter()
            .chain(self.hi.iter())
            .flat_map(|l| l.terms.keys())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(k: &str) -> Lin {
        Lin::atom(k.into(), false)
    }

    #[test]
    fn ranges_below_a_shared_symbol_are_disjoint() {
        // j in [0, i - 1] against t in [i + 1, blockDim.x - 1].
        let i = sym("i");
        let j = Range {
            lo: Some(Lin::constant(0)),
            hi: i.add(&Lin::constant(-1)),
        };
        let t = Range {
            lo: i.add(&Lin::constant(1)),
            hi: sym("blockDim.x").add(&Lin::constant(-1)),
        };
        assert!(j.disjoint(&t));
        assert!(t.disjoint(&j));
        // [0, i] and [i, ...] share i.
        let j2 = Range {
            lo: Some(Lin::constant(0)),
            hi: Some(i.clone()),
        };
        let t2 = Range {
            lo: Some(i),
            hi: None,
        };
        assert!(!j2.disjoint(&t2));
    }

    #[test]
    fn builtin_bounds_decide_signs() {
        // [0, 0] against [blockDim.x, 2 * blockDim.x - 1]: blockDim.x >= 1.
        let b = sym("blockDim.x");
        let zero = Range::point(Lin::constant(0));
        let upper = Range {
            lo: Some(b.clone()),
            hi: b.scale(2).and_then(|x| x.add(&Lin::constant(-1))),
        };
        assert!(zero.disjoint(&upper));
        // An unknown symbol has no sign: [0, 0] against [n, n] is not disjoint.
        assert!(!zero.disjoint(&Range::point(sym("n"))));
    }

    #[test]
    fn overflow_is_unknown_not_a_panic() {
        let big = Lin::constant(i64::MAX);
        assert_eq!(big.add(&Lin::constant(1)), None);
        assert_eq!(big.scale(2), None);
        assert_eq!(
            sym("x").substitute("x", i64::MAX).map(|l| l.c),
            Some(i64::MAX)
        );
    }
}
