//! The light preprocessor: macros, conditionals and `#include "..."`, applied
//! while the model walks the tree so every result maps back to what the user
//! wrote. System headers (`<...>`) are never expanded.

pub mod builtin_headers;
pub mod cexpr;
pub mod conditionals;
pub mod include;
pub mod lex;
pub mod macros;
pub mod predefined;
pub mod scan;
