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

use crate::context::{FnLower, PtrVal};

impl FnLower<'_, '_> {
    /// Whether `p = q`, where `q` views another array than `p` (`old`)
    /// did, points `p` into `q`'s array from here on: the assignment is a
    /// statement of the block declaring `p`, and `p` can hold `q` (a named
    /// array of the same element type).
    pub(crate) fn can_rebind(&self, old: &PtrVal, new: &PtrVal, span: Span) -> bool {
        self.rebindable.contains(&span)
            && crate::expr::is_named_array(new)
            && !new.scalar_target
            && new.elem == old.elem
            && new.rows.is_empty()
    }
}
