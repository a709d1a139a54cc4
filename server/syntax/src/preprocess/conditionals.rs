//! The state of nested conditionals (`#if` … `#endif`) while text is read
//! line by line, without a syntax tree.

use super::scan::Directive;

/// The state of nested conditionals while reading text line by line.
#[derive(Default)]
pub struct Conditionals {
    /// Per open `#if`: (this group is active, a group was taken, the
    /// enclosing code is active).
    stack: Vec<(bool, bool, bool)>,
}

impl Conditionals {
    pub fn active(&self) -> bool {
        self.stack.last().is_none_or(|c| c.0)
    }

    /// Applies a conditional directive (`false` for any other kind);
    /// `eval` decides a condition and is called only where it matters.
    pub fn apply(&mut self, d: &Directive, mut eval: impl FnMut(&Directive) -> bool) -> bool {
        match d {
            Directive::If(_) | Directive::Ifdef { .. } => {
                let outer = self.active();
                let v = outer && eval(d);
                self.stack.push((v, v, outer));
            }
            Directive::Elif(_) | Directive::Elifdef { .. } => {
                if let Some(&(_, taken, outer)) = self.stack.last() {
                    let v = outer && !taken && eval(d);
                    if let Some(top) = self.stack.last_mut() {
                        *top = (v, taken || v, outer);
                    }
                }
            }
            Directive::Else => {
                if let Some(top) = self.stack.last_mut() {
                    *top = (top.2 && !top.1, true, top.2);
                }
            }
            Directive::Endif => {
                self.stack.pop();
            }
            _ => return false,
        }
        true
    }
}
