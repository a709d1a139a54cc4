//! Integer constant folding over the IR: array sizes, `__launch_bounds__`,
//! launch configurations. Names resolve through a [`ConstEnv`] (file-scope
//! constants, enum values, template arguments, function-local constants).

use std::collections::HashMap;

use crate::ir::{BinOp, Expr, ExprKind, Type, UnOp};
use crate::types::TypeTable;

/// Names with known integer values, layered: inner scopes shadow outer ones.
#[derive(Clone, Debug, Default)]
pub struct ConstEnv<'a> {
    pub values: HashMap<String, i128>,
    /// A borrowed layer under `values` (a file's constants, without copying them).
    pub base: Option<&'a HashMap<String, i128>>,
    pub parent: Option<&'a ConstEnv<'a>>,
    pub types: Option<&'a TypeTable>,
    /// Types of template parameters bound in this layer (`T` of a host
    /// template called as `run<double>()`), for `sizeof(T)`.
    pub type_names: HashMap<String, Type>,
}

impl<'a> ConstEnv<'a> {
    pub fn child(&'a self) -> ConstEnv<'a> {
        ConstEnv {
            values: HashMap::new(),
            base: None,
            parent: Some(self),
            types: self.types,
            type_names: HashMap::new(),
        }
    }

    pub fn lookup(&self, name: &str) -> Option<i128> {
        self.values
            .get(name)
            .or_else(|| self.base.and_then(|b| b.get(name)))
            .copied()
            .or_else(|| self.parent.and_then(|p| p.lookup(name)))
    }

    pub fn size_of(&self, ty: &Type) -> Option<u64> {
        if ty.pointer == 0
            && let Some(bound) = self.bound_type(&ty.base)
            && bound.base != ty.base
        {
            return self.size_of(&bound.clone());
        }
        match self.types {
            Some(t) => t.size_of(ty),
            None => crate::types::builtin_layout(&ty.base).map(|l| l.0),
        }
    }

    fn bound_type(&self, name: &str) -> Option<&Type> {
        (self.type_names.get(name)).or_else(|| self.parent.and_then(|p| p.bound_type(name)))
    }

    pub fn eval(&self, e: &Expr) -> Option<i128> {
        eval_int(e, self)
    }
}

pub fn eval_int(e: &Expr, env: &ConstEnv) -> Option<i128> {
    use ExprKind::*;
    Some(match &e.kind {
        Int {
            value, unsigned, ..
        } => crate::ir::int_literal_value(*value, *unsigned),
        Bool(b) => *b as i128,
        Float { value, .. } if value.fract() == 0.0 && value.abs() < 1e30 => *value as i128,
        Ident(name) => env.lookup(name)?,
        WarpSize => 32,
        Unary(op, a) => {
            let v = eval_int(a, env)?;
            match op {
                UnOp::Neg => v.wrapping_neg(),
                UnOp::Plus => v,
                UnOp::Not => (v == 0) as i128,
                UnOp::BitNot => !v,
                UnOp::Deref | UnOp::AddrOf => return None,
            }
        }
        Binary(op, a, b) => {
            // `1.0 / 512` is a floating division (0.001953125), never the
            // integers' 0.
            if matches!(op, BinOp::Div | BinOp::Rem) && (has_float(a) || has_float(b)) {
                return None;
            }
            let (x, y) = (eval_int(a, env)?, eval_int(b, env)?);
            fold_binary(*op, x, y)?
        }
        Ternary(c, a, b) => {
            if eval_int(c, env)? != 0 {
                eval_int(a, env)?
            } else {
                eval_int(b, env)?
            }
        }
        Cast { ty, expr, .. } if ty.pointer == 0 => {
            let v = eval_int(expr, env)?;
            match ty.base.as_str() {
                "int" | "int32_t" => v as i32 as i128,
                "unsigned int" | "uint32_t" => v as u32 as i128,
                "short" => v as i16 as i128,
                "unsigned short" => v as u16 as i128,
                "char" | "signed char" | "int8_t" => v as i8 as i128,
                "unsigned char" | "uint8_t" => v as u8 as i128,
                _ => v,
            }
        }
        SizeofType(ty) => env.size_of(ty)? as i128,
        // `sizeof("...")`: its bytes with the NUL (a message's length
        // written `sizeof(MSG) - 1`).
        SizeofExpr(inner) => match &inner.kind {
            Str(raw) => crate::literals::c_string_bytes(raw)?.len() as i128,
            // `sizeof(T)`, `sizeof(uint4)` read as expressions where the
            // name could be a variable's: a type's size when it names one.
            Ident(name) => env.size_of(&Type::named(name))? as i128,
            _ => return None,
        },
        Call(call) if call.args.len() == 2 => {
            let args = &call.args;
            let (x, y) = (eval_int(&args[0], env)?, eval_int(&args[1], env)?);
            match call.callee.trim_start_matches("std::") {
                "min" | "umin" => x.min(y),
                "max" | "umax" => x.max(y),
                _ => return None,
            }
        }
        Comma(v) => eval_int(v.last()?, env)?,
        _ => return None,
    })
}

/// C integer arithmetic on folded values; `None` where C is undefined (x/0).
pub fn fold_binary(op: BinOp, x: i128, y: i128) -> Option<i128> {
    use BinOp::*;
    Some(match op {
        Add => x.checked_add(y)?,
        Sub => x.checked_sub(y)?,
        Mul => x.checked_mul(y)?,
        Div => x.checked_div(y)?,
        Rem => x.checked_rem(y)?,
        Shl => x.checked_shl(u32::try_from(y).ok().filter(|s| *s < 64)?)?,
        Shr => x >> u32::try_from(y).ok().filter(|s| *s < 128)?,
        BitAnd => x & y,
        BitOr => x | y,
        BitXor => x ^ y,
        LogAnd => (x != 0 && y != 0) as i128,
        LogOr => (x != 0 || y != 0) as i128,
        Eq => (x == y) as i128,
        Ne => (x != y) as i128,
        Lt => (x < y) as i128,
        Gt => (x > y) as i128,
        Le => (x <= y) as i128,
        Ge => (x >= y) as i128,
    })
}

/// Whether `e` holds a floating literal (its arithmetic is not the
/// integers').
fn has_float(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |n| found |= matches!(n.kind, ExprKind::Float { .. }));
    found
}
