//! Per-thread symbolic integers.
//!
//! A [`Poly`] is a polynomial over warp-uniform symbols (blockIdx, kernel
//! parameters, loop iterations, values loaded uniformly from memory) whose
//! coefficients are per-thread vectors: `blockIdx.x * 256 + threadIdx.x` is
//! `{[bx]: 256 (every thread), []: [0, 1, 2, ...]}`. Lane-varying parts stay
//! exact, uniform parts stay symbolic, so address differences between the lanes
//! of a warp come out exactly whenever the kernel determines them.

use std::collections::BTreeMap;
use std::rc::Rc;

/// A uniform symbol, index into [`Symbols`].
pub type Sym = u32;

/// A product of symbols (sorted); the empty monomial is the constant term.
pub type Mono = Vec<Sym>;

/// Names of symbols, for messages (`NY`, `blockIdx.x`).
#[derive(Default, Debug)]
pub struct Symbols {
    names: Vec<String>,
    by_name: std::collections::HashMap<String, Sym>,
}

impl Symbols {
    /// The symbol called `name` (created on first use).
    pub fn named(&mut self, name: &str) -> Sym {
        if let Some(&s) = self.by_name.get(name) {
            return s;
        }
        let s = self.names.len() as Sym;
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), s);
        s
    }

    /// A symbol nothing else equals (an opaque uniform value).
    pub fn fresh(&mut self, hint: &str) -> Sym {
        let s = self.names.len() as Sym;
        self.names.push(hint.to_string());
        s
    }

    pub fn name(&self, s: Sym) -> &str {
        self.names.get(s as usize).map_or("?", String::as_str)
    }

    /// A block index, a grid size or a loop's iteration counted from 0:
    /// a non-negative value that takes every value of its range in turn
    /// (so the shifts it gives an address average over the grid or loop).
    pub fn is_counter(&self, s: Sym) -> bool {
        let name = self.name(s);
        name.starts_with("blockIdx.")
            || name.starts_with("gridDim.")
            || name.ends_with(" (iteration)")
    }
}

/// A coefficient: the same for every thread, or one value per thread.
#[derive(Clone, Debug, PartialEq)]
pub enum Lanes {
    Same(i64),
    Each(Rc<Vec<i64>>),
}

impl Lanes {
    pub fn get(&self, t: usize) -> i64 {
        match self {
            Lanes::Same(v) => *v,
            Lanes::Each(v) => v.get(t).copied().unwrap_or(0),
        }
    }

    fn is_zero(&self) -> bool {
        match self {
            Lanes::Same(v) => *v == 0,
            Lanes::Each(v) => v.iter().all(|x| *x == 0),
        }
    }

    /// Collapses a per-thread vector whose entries are all equal.
    fn normalize(self) -> Lanes {
        match &self {
            Lanes::Each(v) if v.windows(2).all(|w| w[0] == w[1]) => {
                Lanes::Same(v.first().copied().unwrap_or(0))
            }
            _ => self,
        }
    }

    /// Element-wise combination; `None` on overflow.
    pub fn zip(
        &self,
        other: &Lanes,
        n: usize,
        f: impl Fn(i64, i64) -> Option<i64>,
    ) -> Option<Lanes> {
        match (self, other) {
            (Lanes::Same(a), Lanes::Same(b)) => f(*a, *b).map(Lanes::Same),
            _ => {
                let mut out = Vec::with_capacity(n);
                for t in 0..n {
                    out.push(f(self.get(t), other.get(t))?);
                }
                Some(Lanes::Each(Rc::new(out)).normalize())
            }
        }
    }

    pub fn map(&self, f: impl Fn(i64) -> Option<i64>) -> Option<Lanes> {
        match self {
            Lanes::Same(a) => f(*a).map(Lanes::Same),
            Lanes::Each(v) => {
                let out: Option<Vec<i64>> = v.iter().map(|x| f(*x)).collect();
                Some(Lanes::Each(Rc::new(out?)).normalize())
            }
        }
    }

    pub fn is_uniform(&self) -> bool {
        matches!(self, Lanes::Same(_))
    }
}

/// Σ coefficient(thread) × monomial(uniform symbols).
#[derive(Clone, Debug, PartialEq)]
pub struct Poly {
    pub terms: BTreeMap<Mono, Lanes>,
    /// Threads in the block (the length of per-thread vectors).
    pub n: usize,
}

impl Poly {
    pub fn constant(v: i64, n: usize) -> Poly {
        let mut terms = BTreeMap::new();
        if v != 0 {
            terms.insert(Vec::new(), Lanes::Same(v));
        }
        Poly { terms, n }
    }

    pub fn per_thread(values: Vec<i64>) -> Poly {
        let n = values.len();
        let mut terms = BTreeMap::new();
        let lanes = Lanes::Each(Rc::new(values)).normalize();
        if !lanes.is_zero() {
            terms.insert(Vec::new(), lanes);
        }
        Poly { terms, n }
    }

    pub fn symbol(s: Sym, n: usize) -> Poly {
        let mut terms = BTreeMap::new();
        terms.insert(vec![s], Lanes::Same(1));
        Poly { terms, n }
    }

    /// The constant (symbol-free) part, per thread.
    pub fn concrete(&self) -> Option<&Lanes> {
        self.terms.get(&Vec::new())
    }

    /// True when there are no symbolic terms.
    pub fn is_concrete(&self) -> bool {
        self.terms.keys().all(|m| m.is_empty())
    }

    /// The value of thread `t` when the polynomial is concrete.
    pub fn value(&self, t: usize) -> Option<i64> {
        if !self.is_concrete() {
            return None;
        }
        Some(self.concrete().map_or(0, |l| l.get(t)))
    }

    /// Same value in every thread (symbols included).
    pub fn is_uniform(&self) -> bool {
        self.terms.values().all(Lanes::is_uniform)
    }

    /// A single known integer, equal in every thread.
    pub fn as_const(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => match self.terms.get(&Vec::new()) {
                Some(Lanes::Same(v)) => Some(*v),
                _ => None,
            },
            _ => None,
        }
    }

    fn insert(&mut self, m: Mono, l: Lanes) -> Option<()> {
        let merged = match self.terms.remove(&m) {
            Some(old) => old.zip(&l, self.n, i64::checked_add)?,
            None => l,
        };
        if !merged.is_zero() {
            self.terms.insert(m, merged);
        }
        Some(())
    }

    pub fn add(&self, o: &Poly) -> Option<Poly> {
        let mut r = self.clone();
        for (m, l) in &o.terms {
            r.insert(m.clone(), l.clone())?;
        }
        Some(r)
    }

    pub fn neg(&self) -> Option<Poly> {
        let mut r = self.clone();
        for l in r.terms.values_mut() {
            *l = l.map(i64::checked_neg)?;
        }
        Some(r)
    }

    pub fn sub(&self, o: &Poly) -> Option<Poly> {
        self.add(&o.neg()?)
    }

    pub fn mul(&self, o: &Poly) -> Option<Poly> {
        let mut r = Poly {
            terms: BTreeMap::new(),
            n: self.n,
        };
        for (ma, la) in &self.terms {
            for (mb, lb) in &o.terms {
                let mut m: Mono = ma.iter().chain(mb).copied().collect();
                m.sort_unstable();
                if m.len() > 4 {
                    return None;
                }
                r.insert(m, la.zip(lb, self.n, i64::checked_mul)?)?;
            }
        }
        Some(r)
    }

    /// Applies a per-thread function to a concrete polynomial.
    pub fn map_concrete(&self, f: impl Fn(i64) -> Option<i64>) -> Option<Poly> {
        if !self.is_concrete() {
            return None;
        }
        let l = self.concrete().cloned().unwrap_or(Lanes::Same(0)).map(f)?;
        let mut terms = BTreeMap::new();
        if !l.is_zero() {
            terms.insert(Vec::new(), l);
        }
        Some(Poly { terms, n: self.n })
    }

    /// Combines two concrete polynomials thread by thread.
    pub fn zip_concrete(&self, o: &Poly, f: impl Fn(i64, i64) -> Option<i64>) -> Option<Poly> {
        if !self.is_concrete() || !o.is_concrete() {
            return None;
        }
        let zero = Lanes::Same(0);
        let a = self.concrete().unwrap_or(&zero);
        let b = o.concrete().unwrap_or(&zero);
        let l = a.zip(b, self.n, f)?;
        let mut terms = BTreeMap::new();
        if !l.is_zero() {
            terms.insert(Vec::new(), l);
        }
        Some(Poly { terms, n: self.n })
    }

    /// Multiplies by a constant.
    pub fn scale(&self, k: i64) -> Option<Poly> {
        self.mul(&Poly::constant(k, self.n))
    }

    /// The greatest common divisor of the symbolic terms' coefficients (0 when
    /// there are none): how the uniform part can shift addresses.
    pub fn symbolic_gcd(&self) -> i64 {
        let mut g = 0i64;
        for (m, l) in &self.terms {
            if m.is_empty() {
                continue;
            }
            match l {
                Lanes::Same(v) => g = gcd(g, *v),
                Lanes::Each(v) => {
                    let mut last = None;
                    for &x in v.iter() {
                        // Runs of equal coefficients are common (a row index
                        // shared by a whole warp); 1 cannot get smaller.
                        if last != Some(x) {
                            g = gcd(g, x);
                            last = Some(x);
                        }
                        if g == 1 {
                            return 1;
                        }
                    }
                }
            }
            if g == 1 {
                return 1;
            }
        }
        g.abs()
    }

    /// Symbolic terms whose coefficient differs between the given threads: the
    /// stride is symbolic (e.g. `i * NY` with `i` from threadIdx).
    pub fn lane_varying_symbols(&self) -> Vec<&Mono> {
        self.terms
            .iter()
            .filter(|(m, l)| !m.is_empty() && !l.is_uniform())
            .map(|(m, _)| m)
            .collect()
    }

    /// Renders the polynomial with symbol names, e.g. `NY` or `2*N + 1`.
    pub fn render(&self, syms: &Symbols, t: usize) -> String {
        let mut parts = Vec::new();
        for (m, l) in self.terms.iter().rev() {
            let c = l.get(t);
            if c == 0 {
                continue;
            }
            let names: Vec<&str> = m.iter().map(|s| syms.name(*s)).collect();
            let body = names.join("*");
            parts.push(match (c, body.is_empty()) {
                (_, true) => c.to_string(),
                (1, false) => body,
                (-1, false) => format!("-{body}"),
                _ => format!("{c}*{body}"),
            });
        }
        if parts.is_empty() {
            "0".into()
        } else {
            parts.join(" + ").replace("+ -", "- ")
        }
    }
}

pub fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.min(i64::MAX as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_index() {
        let mut syms = Symbols::default();
        let bx = Poly::symbol(syms.named("blockIdx.x"), 4);
        let tid = Poly::per_thread(vec![0, 1, 2, 3]);
        let i = bx.scale(256).unwrap().add(&tid).unwrap();
        let d = i.sub(&bx.scale(256).unwrap()).unwrap();
        assert!(d.is_concrete());
        assert_eq!(d.value(3), Some(3));
        assert_eq!(i.symbolic_gcd(), 256);
        let ny = Poly::symbol(syms.named("NY"), 4);
        let strided = tid.mul(&ny).unwrap();
        assert_eq!(strided.lane_varying_symbols().len(), 1);
        assert_eq!(strided.render(&syms, 1), "NY");
        assert!(!strided.is_uniform());
    }
}
