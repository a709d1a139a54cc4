//! `check` with nvcc: the register counts of nvcc's ptxas report replace the
//! estimate (a fake `nvcc` script stands in, since CI has no CUDA toolkit;
//! the real one is measured on the device machine, BENCHMARKS.md).

mod support;

use std::path::Path;

use support::cli::{cudalens, cudalens_env, stderr};

const SCALE: &str = "__global__ void scale(float* a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] *= 2.0f;
}
void host(float* a, int n) { scale<<<264, 256>>>(a, n); }
";

/// Prints what ptxas prints for `scale` compiled to use 128 registers.
const FAKE_NVCC: &str = r##"#!/bin/sh
echo "$@" > "$(dirname "$0")/nvcc-args.txt"
cat >&2 <<'PTXAS'
ptxas info    : Compiling entry function '_Z5scalePfi' for 'sm_90'
ptxas info    : Function properties for _Z5scalePfi
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 128 registers, used 0 barriers, 368 bytes cmem[0]
PTXAS
exit 0
"##;

const FAILING_NVCC: &str =
    "#!/bin/sh\necho 'scale.cu(3): error: identifier \"q\" is undefined' >&2\nexit 2\n";

fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn kernel_json(out: &std::process::Output) -> serde_json::Value {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    report["files"][0]["kernels"][0].clone()
}

#[cfg(unix)]
#[test]
fn nvcc_register_counts_replace_the_estimate_in_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("scale.cu"), SCALE).expect("write");
    std::fs::create_dir(dir.path().join("include")).expect("dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    executable(&bin.join("nvcc"), FAKE_NVCC);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let args = [
        "check", "scale.cu", "--format", "json", "-I", "include", "-D", "N=4",
    ];

    // nvcc on PATH (the default `--nvcc auto`): 128 registers, measured.
    let out = cudalens_env(&args, dir.path(), &[("PATH", &path)]);
    let k = kernel_json(&out);
    assert_eq!(k["name"], "scale");
    assert_eq!(k["registers"], 128, "{k}");
    assert_eq!(k["registers_estimated"], false, "{k}");
    assert_eq!(k["registers_range"], serde_json::json!([128, 128]));
    // 2 blocks of 256 threads per SM: 16 of 64 warps.
    assert_eq!(k["launches"][0]["occupancy"], 0.25, "{k}");
    assert_eq!(k["launches"][0]["limiter"], "registers", "{k}");
    assert!(
        stderr(&out).contains("registers measured by nvcc for 1 files"),
        "{}",
        stderr(&out)
    );
    let ran = std::fs::read_to_string(bin.join("nvcc-args.txt")).expect("nvcc ran");
    for arg in ["--resource-usage", "-arch=sm_90", "-DN=4", "scale.cu"] {
        assert!(ran.contains(arg), "{arg} missing: {ran}");
    }
    assert!(ran.contains("include"), "{ran}");

    // `--nvcc off`: the estimate, as without nvcc.
    let off: Vec<&str> = args.iter().copied().chain(["--nvcc", "off"]).collect();
    let k = kernel_json(&cudalens_env(&off, dir.path(), &[("PATH", &path)]));
    assert_eq!(k["registers_estimated"], true, "{k}");
    assert!(k["registers"].as_u64().unwrap() < 128, "{k}");

    // An nvcc that fails: the estimate, and a note saying why.
    let failing = dir.path().join("failing-nvcc");
    executable(&failing, FAILING_NVCC);
    let named: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--nvcc", failing.to_str().unwrap()])
        .collect();
    let out = cudalens(&named, dir.path());
    assert_eq!(kernel_json(&out)["registers_estimated"], true);
    let err = stderr(&out);
    assert!(
        err.contains("estimated for 1 that nvcc did not compile")
            && err.contains("identifier \"q\" is undefined"),
        "{err}"
    );
}

/// A kernel defined in a header is compiled by nvcc in the `.cu` files that
/// include it (the CUDA samples' `fastWalshTransform_kernel.cuh`, whose
/// kernels its own host functions launch): `check DIR` gives the header's
/// kernel the counts of the first such file instead of an estimate.
#[cfg(unix)]
#[test]
fn a_header_kernel_gets_the_counts_of_the_file_that_includes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("scale_kernel.cuh"), SCALE).expect("write");
    std::fs::write(
        dir.path().join("main.cu"),
        "#include \"scale_kernel.cuh\"\n__global__ void other(float* a) { a[threadIdx.x] = 0; }\n",
    )
    .expect("write");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    executable(&bin.join("nvcc"), FAKE_NVCC);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cudalens_env(
        &["check", ".", "--format", "json"],
        dir.path(),
        &[("PATH", &path)],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let header = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("scale_kernel.cuh"))
        })
        .expect("the header is checked");
    let k = &header["kernels"][0];
    assert_eq!(k["name"], "scale");
    assert_eq!(k["registers"], 128, "{k}");
    assert_eq!(k["registers_estimated"], false, "{k}");
    assert_eq!(k["launches"][0]["occupancy"], 0.25, "{k}");
}
