//! `cargo run -p cudalens-wgsl --example transpile -- file.cu [kernel] [--subgroups] [--f16] [--unroll=N]`:
//! prints the WGSL and the sidecar of each kernel, or the diagnostics.

use std::path::{Path, PathBuf};

use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{BuildOptions, analyze_source};
use cudalens_wgsl::{TranspileOptions, transpile_all};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: transpile FILE.cu [KERNEL] [--subgroups] [--f16] [--unroll=N]");
        std::process::exit(2);
    };
    let source = std::fs::read_to_string(path).expect("read source");
    let provider: std::collections::HashMap<PathBuf, String> = Default::default();
    let model = analyze_source(
        &source,
        &BuildOptions {
            path: Some(Path::new(path)),
            flags: CompileFlags::default(),
            provider: &provider,
            max_include_depth: 8,
            deadline: None,
        },
    );
    let opts = TranspileOptions {
        subgroups: args.iter().any(|a| a == "--subgroups"),
        enable_f16: args.iter().any(|a| a == "--f16"),
        unroll: args
            .iter()
            .find_map(|a| a.strip_prefix("--unroll="))
            .map(|n| n.parse().expect("--unroll=N takes a number")),
        source_name: Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        ..TranspileOptions::default()
    };
    let only = args.get(1).filter(|a| !a.starts_with("--"));
    for (name, result) in transpile_all(&model, &source, &opts) {
        if only.is_some_and(|k| *k != name) {
            continue;
        }
        match result {
            Ok(out) => {
                println!("{}", out.wgsl);
                println!("{}", out.sidecar.to_json());
                for w in out.warnings {
                    println!("{w}");
                }
            }
            Err(diags) => {
                for d in diags {
                    let line = source[..d.span.start.min(source.len())].lines().count();
                    println!("{name}: line {line}: {d}");
                }
            }
        }
    }
}
