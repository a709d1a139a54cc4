//! A pointer pointed at another array by a statement of the block that
//! declares it (HeCBench epistasis: `SNPi = (unsigned *)&dev_data_zeros[i *
//! 2];` for one phenotype's loop, then `SNPi = ... &dev_data_ones[...]` for
//! the next). Such an assignment runs, in every execution, after all that
//! precedes it in the block and before all that follows it, so from there
//! on the pointer is a view of the new array, as the lowering reads the
//! block in order. An assignment anywhere else (under a condition, in a
//! loop the declaration is outside of) would need the pointer to hold
//! either array at run time, which WGSL cannot express: it stays refused.

use cudalens_syntax::Span;

use crate::context::{FnLower, PtrVal, Sym};

impl FnLower<'_, '_> {
    /// `p = q` where `q` views another array than `p` did: `p` views
    /// `q`'s array from here on, its offset variable set to `q`'s offset.
    /// `false` (nothing done) where the assignment is not a statement of
    /// the block declaring `p` or `q` cannot be held by `p`.
    pub(crate) fn rebind_pointer(
        &mut self,
        name: &str,
        old: &PtrVal,
        new: PtrVal,
        offset_var: &str,
        span: Span,
    ) -> Option<String> {
        if !self.rebindable.contains(&span) {
            return None;
        }
        let named = new
            .base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !named || new.scalar_target || new.elem != old.elem || !new.rows.is_empty() {
            return None;
        }
        let mut view = new;
        let start = view.offset.take().map(|o| *o).unwrap_or_else(|| {
            crate::context::Val::konst(crate::types::Konst::Int(0), crate::types::Scalar::I32)
        });
        let start = self.convert(start, &crate::types::Ty::I32, span);
        view.offset = Some(Box::new(crate::context::Val::atom(
            offset_var.to_string(),
            crate::types::Ty::I32,
        )));
        self.redeclare(
            name,
            Sym::Pointer {
                view,
                offset_var: Some(offset_var.to_string()),
            },
        );
        Some(start.text)
    }
}
