//! Robustness: random mutations of the suite files never make the
//! transpiler panic, and whatever it returns as `Ok` validates with naga.

mod common;

use cudalens_wgsl::validate::validate_wgsl;
use cudalens_wgsl::{TranspileOptions, transpile_all};
use proptest::prelude::*;

/// Fragments that exercise odd corners when spliced into kernels.
const SNIPPETS: &[&str] = &[
    "x++",
    "--y",
    "a[i++]",
    "(float)",
    "(int)",
    "?",
    ":",
    "0xffffffffu",
    "-2147483648",
    "1e39f",
    "__syncthreads();",
    "atomicAdd(&",
    "__shfl_down_sync(0xffffffff, ",
    "*",
    "&",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ";",
    "return;",
    "break;",
    "continue;",
    "do {",
    "} while (0);",
    "switch (i) { case 1: ",
    "default: ;}",
    "1 << 31",
    "x / 0",
    "% 0",
    "sizeof(float)",
    "threadIdx",
    "blockDim.y",
    "gridDim.z",
    "warpSize",
    "make_float4(1,2,3,4)",
    ".w",
    "->",
    "goto l;",
    "l:",
    "double",
    "half",
    "long long",
    "unsigned",
    "bool",
    "float4",
    "int2",
    "extern __shared__ float dyn[];",
    "__shared__ int s[4][4];",
    "static",
    "const",
    "volatile",
    "0.5",
    "true",
    "NULL",
    "printf(\"\")",
    "asm(\"\")",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, snippet: usize },
    Duplicate { at: usize, len: usize },
    Swap { at: usize, other: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..SNIPPETS.len())
            .prop_map(|(at, snippet)| Mutation::Insert { at, snippet }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<usize>(), 1usize..8).prop_map(|(at, other, len)| Mutation::Swap {
            at,
            other,
            len
        }),
    ]
}

fn apply(source: &str, mutations: &[Mutation]) -> String {
    let mut s: Vec<u8> = source.as_bytes().to_vec();
    for m in mutations {
        let n = s.len().max(1);
        match m {
            Mutation::Delete { at, len } => {
                let a = at % n;
                let b = (a + len).min(s.len());
                s.drain(a.min(s.len())..b);
            }
            Mutation::Insert { at, snippet } => {
                let a = (at % n).min(s.len());
                let text = format!(" {} ", SNIPPETS[*snippet]);
                s.splice(a..a, text.bytes());
            }
            Mutation::Duplicate { at, len } => {
                let a = (at % n).min(s.len());
                let b = (a + len).min(s.len());
                let copy = s[a..b].to_vec();
                s.splice(b..b, copy);
            }
            Mutation::Swap { at, other, len } => {
                let a = at % n;
                let b = other % n;
                let l = (*len).min(s.len().saturating_sub(a.max(b)));
                for k in 0..l {
                    s.swap(a + k, b + k);
                }
            }
        }
    }
    // Keep the text valid UTF-8 (the suite is ASCII; mutations stay ASCII).
    String::from_utf8_lossy(&s).into_owned()
}

fn check(source: &str, opts: &TranspileOptions) {
    let model = common::model_of(source);
    for (kernel, result) in transpile_all(&model, source, opts) {
        if let Err(d) = &result
            && std::env::var("SHOW_ICE").is_ok()
        {
            for x in d
                .iter()
                .filter(|x| x.message.contains("internal compiler error"))
            {
                eprintln!(
                    "ICE {kernel}: {}",
                    x.message.lines().take(6).collect::<Vec<_>>().join(" | ")
                );
            }
        }
        if let Ok(out) = result {
            match validate_wgsl(&out.wgsl) {
                Ok(needs) => assert_eq!(
                    needs.feature_names(),
                    out.sidecar.features,
                    "{kernel}: the sidecar's features are the module's"
                ),
                Err(e) => panic!("{kernel}: Ok output does not validate: {e}\n{}", out.wgsl),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn mutated_suite_files_never_panic(
        file in 0usize..64,
        mutations in proptest::collection::vec(mutation(), 1..6),
        subgroups in any::<bool>(),
        wide in any::<bool>(),
        unroll in proptest::option::of(0u32..6),
    ) {
        let files = common::suite();
        let (_, source) = &files[file % files.len()];
        let mutated = apply(source, &mutations);
        let opts = TranspileOptions {
            subgroups,
            enable_f16: wide,
            enable_f64: wide,
            enable_int64: wide,
            unroll,
            ..TranspileOptions::default()
        };
        check(&mutated, &opts);
    }
}

#[test]
fn unmutated_suite_with_every_option_combination() {
    for (_, source) in common::suite() {
        for bits in 0..8u8 {
            let opts = TranspileOptions {
                subgroups: bits & 1 != 0,
                enable_f16: bits & 2 != 0,
                enable_f64: bits & 2 != 0,
                enable_int64: bits & 2 != 0,
                unroll: (bits & 4 != 0).then_some(4),
                ..TranspileOptions::default()
            };
            check(&source, &opts);
        }
    }
}
