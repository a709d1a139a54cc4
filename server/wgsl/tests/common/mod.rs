//! Shared test helpers: build the kernel model of a CUDA source and transpile it.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use cudalens_gpu::Runner;

use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{BuildOptions, FileModel, analyze_source};
use cudalens_wgsl::{TranspileDiagnostic, TranspileOptions, TranspileOutput, transpile};

pub fn model_of(source: &str) -> FileModel {
    let provider: HashMap<PathBuf, String> = HashMap::new();
    analyze_source(
        source,
        &BuildOptions {
            path: Some(Path::new("test.cu")),
            flags: CompileFlags::default(),
            provider: &provider,
            max_include_depth: 8,
            deadline: None,
        },
    )
}

pub fn kernels_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kernels")
}

/// Every suite file: (stem, source).
pub fn suite() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(kernels_dir())
        .expect("tests/kernels")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cu"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&p).expect("read kernel"))
        })
        .collect()
}

pub fn suite_options(stem: &str) -> TranspileOptions {
    TranspileOptions {
        subgroups: true,
        source_name: Some(format!("{stem}.cu")),
        ..TranspileOptions::default()
    }
}

pub fn compile(
    source: &str,
    kernel: &str,
    opts: &TranspileOptions,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    let model = model_of(source);
    transpile(&model, source, kernel, opts)
}

/// The model of `main` (as `main.cu`) with `headers` (path, text) for its
/// includes, and those headers as the provider held them.
#[allow(dead_code)]
pub fn model_with_headers(
    main: &str,
    headers: &[(&str, &str)],
) -> (FileModel, HashMap<PathBuf, String>) {
    let provider: HashMap<PathBuf, String> = (headers.iter())
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    let model = analyze_source(
        main,
        &BuildOptions {
            path: Some(Path::new("main.cu")),
            flags: CompileFlags::default(),
            provider: &provider,
            max_include_depth: 8,
            deadline: None,
        },
    );
    (model, provider)
}

/// `kernel` of `main` (the file `main.cu`) transpiled with `headers`
/// (path, text) as the files it may include: what the CLI gives the
/// transpiler, the headers' texts included.
pub fn compile_with_headers(
    main: &str,
    headers: &[(&str, &str)],
    kernel: &str,
    opts: &TranspileOptions,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    let (model, provider) = model_with_headers(main, headers);
    let texts = cudalens_wgsl::SourceTexts {
        main,
        headers: (provider.iter())
            .map(|(p, t)| (p.clone(), std::sync::Arc::<str>::from(t.as_str())))
            .collect(),
    };
    cudalens_wgsl::transpile_in(&model, &texts, kernel, opts)
}

/// `kernel` of `source` transpiled with the default options as the file
/// `name`; on failure, the diagnostics' messages, a line each.
pub fn compile_as(name: &str, source: &str, kernel: &str) -> Result<TranspileOutput, String> {
    let opts = TranspileOptions {
        source_name: Some(name.into()),
        ..TranspileOptions::default()
    };
    compile(source, kernel, &opts).map_err(|d| {
        d.iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The suite file `stem` compiled (its kernel has the file's name).
pub fn compile_suite(stem: &str) -> TranspileOutput {
    compile_suite_with(stem, &suite_options(stem))
}

/// The suite file `stem` compiled with `opts`.
pub fn compile_suite_with(stem: &str, opts: &TranspileOptions) -> TranspileOutput {
    let source =
        std::fs::read_to_string(kernels_dir().join(format!("{stem}.cu"))).expect("read kernel");
    let kernel = if stem == "templates_device" {
        "smooth_squares"
    } else {
        stem
    };
    compile(&source, kernel, opts).unwrap_or_else(|d| panic!("{stem}: {d:#?}"))
}

/// One GPU runner per test binary (opening a device is slow).
static RUNNER: Mutex<Option<Runner>> = Mutex::new(None);

/// The shared runner, opened on first use; `None` when there is no adapter
/// and `CUDALENS_SKIP_GPU_TESTS=1` says to skip (without it, a missing
/// adapter fails the test with install instructions).
#[allow(dead_code)]
pub fn gpu_runner() -> Option<MutexGuard<'static, Option<Runner>>> {
    let mut guard = RUNNER.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        match Runner::new(None) {
            Ok(r) => *guard = Some(r),
            Err(e) if std::env::var("CUDALENS_SKIP_GPU_TESTS").as_deref() == Ok("1") => {
                eprintln!("skipping GPU test: {e}");
                return None;
            }
            Err(e) => panic!(
                "no usable GPU adapter: {e}\ninstall a Vulkan driver (`apt-get install -y mesa-vulkan-drivers libvulkan1`) or set CUDALENS_SKIP_GPU_TESTS=1"
            ),
        }
    }
    Some(guard)
}

/// Runs `out` once over one block of a thread per element of `input`,
/// bound as `in`, and returns the elements of the output `out` (as many,
/// zeroed before the run, of type `O`): the shape of most element-wise
/// kernels here. `None` where GPU tests are skipped.
#[allow(dead_code)]
pub fn run_in_out<I: bytemuck::Pod, O: bytemuck::Pod>(
    out: &TranspileOutput,
    input: &[I],
) -> Option<Vec<O>> {
    let n = input.len() as u64;
    run_block::<O>(
        out,
        input.len() as u32,
        &[("in", n, bytemuck::cast_slice(input).to_vec())],
        ("out", n),
    )
}

/// The shared runner where the adapter's subgroups are CUDA's 32-lane warp
/// (NVIDIA's Vulkan driver; lavapipe's are narrower): `None` elsewhere,
/// saying why, so warp-wide semantics are only run where they hold.
#[allow(dead_code)]
pub fn warp_runner(what: &str) -> Option<MutexGuard<'static, Option<Runner>>> {
    let mut guard = gpu_runner()?;
    let report = guard.as_mut()?.adapter().expect("adapter report");
    if !report.features.subgroup || report.subgroup_min_size != 32 || report.subgroup_max_size != 32
    {
        eprintln!(
            "adapter {}: subgroups are not 32 lanes, {what} not executed",
            report.name
        );
        return None;
    }
    Some(guard)
}

/// Runs `out` once over one block of `threads` threads with the input
/// buffers given as `(name, elements, bytes)` and returns the elements of
/// the buffer `output` (`length` of them, zeroed before the run); `None`
/// where GPU tests are skipped.
#[allow(dead_code)]
pub fn run_block<T: bytemuck::Pod>(
    out: &TranspileOutput,
    threads: u32,
    inputs: &[(&str, u64, Vec<u8>)],
    output: (&str, u64),
) -> Option<Vec<T>> {
    let mut guard = gpu_runner()?;
    let runner = guard.as_mut()?;
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench =
        cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [threads, 1, 1])
            .with_iterations(0, 1)
            .with_buffer(output.0, cudalens_gpu::BufferSpec::zeros(output.1));
    for (name, elements, bytes) in inputs {
        bench = bench.with_buffer(
            name,
            cudalens_gpu::BufferSpec::bytes(*elements, bytes.clone()),
        );
    }
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    Some(bytemuck::pod_collect_to_vec(
        &result.output(output.0).expect("output").bytes,
    ))
}
