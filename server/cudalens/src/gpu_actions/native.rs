//! `cudalens bench --native`: the same kernel compiled by nvcc and run on
//! the same inputs as the WGSL run, timed with CUDA events, its outputs
//! compared with the WGSL outputs.
//!
//! [`harness_source`] writes a small `.cu` program that includes the kernel's
//! own file (its `main` renamed away), allocates every buffer with the WGSL
//! run's size, uploads the WGSL run's exact input bytes (read from files
//! next to it), fills host-filled `__constant__` variables the same way,
//! launches the kernel once on those inputs and writes its outputs back,
//! then times `warmup` untimed and `iterations` timed launches with CUDA
//! events and prints the median. [`run_native`] compiles it with nvcc and
//! runs it; [`compare_outputs`] compares element by element within
//! [`Tolerance`].

use std::path::{Path, PathBuf};
use std::process::Command;

use cudalens_gpu::interface::ElementLayout;
use cudalens_gpu::{Benchmark, BindingKind, OutputBuffer, ParamValue, WgslType};
use cudalens_syntax::FileModel;
use serde::Serialize;

/// One kernel parameter of the native launch.
#[derive(Clone, Debug, PartialEq)]
pub enum NativeParam {
    /// A device buffer: the WGSL binding's name, its bytes, and whether the
    /// kernel writes it (then it is copied back and compared).
    Buffer {
        name: String,
        bytes: u64,
        output: bool,
    },
    /// A value: its C++ type and literal.
    Scalar { c_type: String, literal: String },
    /// A struct passed by value, which the WGSL run holds in a one-element
    /// buffer: the kernel receives that buffer's bytes.
    Struct { name: String, bytes: u64 },
}

/// A file-scope variable the host fills (`cudaMemcpyToSymbol`) or the kernel
/// writes (copied back with `cudaMemcpyFromSymbol` and compared).
#[derive(Clone, Debug, PartialEq)]
pub struct NativeGlobal {
    /// The CUDA symbol.
    pub symbol: String,
    /// The WGSL binding's name (the input/output file's name).
    pub name: String,
    pub bytes: u64,
    /// Uploaded from `<name>.in` before the first launch.
    pub upload: bool,
    /// Copied back to `<name>.out` after the first launch.
    pub output: bool,
}

/// Everything the harness needs.
#[derive(Clone, Debug, PartialEq)]
pub struct NativeSpec {
    /// The CUDA file that defines the kernel (included by the harness).
    pub source: PathBuf,
    /// `kernel` or `kernel<args>`.
    pub kernel_ref: String,
    /// The named namespaces the kernel is defined in, outermost first
    /// (`miniFE`): the harness opens them (`using namespace miniFE;`) so
    /// that the kernel and its template arguments' types are found.
    pub namespaces: Vec<String>,
    pub kernel: String,
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub dynamic_shared_bytes: u32,
    pub params: Vec<NativeParam>,
    pub globals: Vec<NativeGlobal>,
    pub warmup: u32,
    pub iterations: u32,
    /// The layout of each buffer of structs, by binding name: outputs are
    /// compared member by member.
    pub layouts: std::collections::HashMap<String, ElementLayout>,
}

/// The C++ type of a by-value argument: the parameter's own spelling when
/// it names no template parameter, else the one of the WGSL type it was
/// stored as (sizes agree except `bool`, which the WGSL stores as `u32`).
fn c_type_of(model: &FileModel, kernel: &str, index: usize, wgsl: &str) -> Option<String> {
    let f = model.function(kernel)?;
    let p = f.params.get(index)?;
    // `T`, or a type spelled through one (`typename V::ScalarType`).
    let mut words =
        p.ty.base
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let templated = words.any(|w| f.template_params.iter().any(|t| t.name == w));
    if !templated && p.ty.pointer == 0 && p.ty.template_args.is_empty() {
        return Some(p.ty.base.clone());
    }
    let ty = WgslType::parse(wgsl).ok()?;
    let scalar = match ty.scalar {
        cudalens_gpu::interface::Scalar::F16 => "__half",
        cudalens_gpu::interface::Scalar::F32 => "float",
        cudalens_gpu::interface::Scalar::F64 => "double",
        cudalens_gpu::interface::Scalar::I32 => "int",
        cudalens_gpu::interface::Scalar::U32 => "unsigned int",
        cudalens_gpu::interface::Scalar::I64 => "long long",
        cudalens_gpu::interface::Scalar::U64 => "unsigned long long",
    };
    Some(match (ty.lanes, scalar) {
        (1, s) => s.to_string(),
        (n, "float") => format!("float{n}"),
        (n, "double") => format!("double{n}"),
        (n, "int") => format!("int{n}"),
        (n, "unsigned int") => format!("uint{n}"),
        (n, "long long") => format!("longlong{n}"),
        (n, "unsigned long long") => format!("ulonglong{n}"),
        _ => return None,
    })
}

/// A C++ literal of `values` as `c_type`; `float` says whether the WGSL
/// stored it as a float (a `typedef`'d name keeps its value's kind).
fn literal(c_type: &str, float: bool, values: &[f64]) -> String {
    if values.len() > 1 {
        let lane = c_type.trim_end_matches(|c: char| c.is_ascii_digit());
        let lane = match lane {
            "uint" => "unsigned int",
            "" => "float",
            other => other,
        };
        let lanes: Vec<String> = values.iter().map(|v| literal(lane, float, &[*v])).collect();
        return format!("make_{c_type}({})", lanes.join(", "));
    }
    let v = values.first().copied().unwrap_or(0.0);
    match (c_type, float) {
        ("float", _) => format!("{v:?}f"),
        ("double", _) => format!("{v:?}"),
        ("__half", _) => format!("__float2half({v:?}f)"),
        ("bool", _) => (v != 0.0).to_string(),
        (t, true) => format!("({t})({v:?})"),
        (t, false) => format!("({t})({})", v as i128),
    }
}

/// The native launch of a prepared benchmark: `None` with the reason when
/// a parameter cannot be passed the same way.
pub fn native_spec(
    model: &FileModel,
    file: &Path,
    bench: &Benchmark,
    instantiation: &[String],
    inputs: &[(String, String, Vec<u8>)],
) -> Result<NativeSpec, String> {
    let iface = &bench.interface;
    let kernel = iface.source_kernel.clone();
    let f = model
        .function(&kernel)
        .ok_or_else(|| format!("no kernel `{kernel}` in the model"))?;
    let bytes_of = |name: &str| {
        inputs
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, b)| b.len() as u64)
    };
    // The WGSL run reads texture objects and references as buffers; the
    // native harness would have to create CUDA textures over them.
    if let Some(p) = f
        .params
        .iter()
        .find(|p| matches!(p.ty.base.as_str(), "cudaTextureObject_t" | "CUtexObject"))
    {
        return Err(format!(
            "parameter `{}` is a texture object: the native harness does not create CUDA textures",
            p.name
        ));
    }
    if let Some((b, m)) = iface
        .bindings
        .iter()
        .find_map(|b| Some((b, b.member_of.as_ref()?)))
    {
        return Err(format!(
            "`{}` is the buffer behind the pointer member `{}` of parameter {}: the native harness does not build structs holding device pointers",
            b.name, m.member, m.param_index
        ));
    }
    if let Some(b) = iface
        .bindings
        .iter()
        .find(|b| b.param_index.is_none() && b.length.is_none() && b.kind != BindingKind::Uniform)
    {
        return Err(format!(
            "`{}` is a texture reference: the native harness does not bind CUDA textures",
            b.name
        ));
    }
    let mut params = Vec::new();
    for (index, p) in f.params.iter().enumerate() {
        if let Some(b) = iface
            .bindings
            .iter()
            .find(|b| b.param_index == Some(index) && b.kind != BindingKind::Uniform)
        {
            let element = b.element.as_deref().unwrap_or("u32");
            if WgslType::parse(element).is_ok_and(|t| t.lanes == 3) {
                return Err(format!(
                    "buffer `{}` has 3-component elements, laid out differently in WGSL",
                    b.name
                ));
            }
            if p.ty.pointer == 0 && p.dims.is_empty() {
                params.push(NativeParam::Struct {
                    name: b.name.clone(),
                    bytes: bytes_of(&b.name).ok_or_else(|| format!("no input for `{}`", b.name))?,
                });
                continue;
            }
            params.push(NativeParam::Buffer {
                name: b.name.clone(),
                bytes: bytes_of(&b.name).ok_or_else(|| format!("no input for `{}`", b.name))?,
                output: b.kind == BindingKind::StorageReadWrite,
            });
            continue;
        }
        let field = iface
            .bindings
            .iter()
            .flat_map(|b| &b.fields)
            .find(|fl| fl.param_index == Some(index))
            .ok_or_else(|| format!("parameter `{}` is neither a buffer nor a value", p.name))?;
        let c_type = c_type_of(model, &kernel, index, &field.ty)
            .ok_or_else(|| format!("parameter `{}`: no C++ type for `{}`", p.name, field.ty))?;
        let values = match bench.args.get(&index) {
            Some(ParamValue::Scalar(v)) => vec![*v],
            Some(ParamValue::Vector(v)) => v.clone(),
            None => return Err(format!("no value for parameter `{}`", p.name)),
        };
        let float = WgslType::parse(&field.ty).is_ok_and(|t| {
            use cudalens_gpu::interface::Scalar as S;
            matches!(t.scalar, S::F16 | S::F32 | S::F64)
        });
        params.push(NativeParam::Scalar {
            literal: literal(&c_type, float, &values),
            c_type,
        });
    }
    let mut globals = Vec::new();
    for b in &iface.bindings {
        if b.param_index.is_some() || b.kind == BindingKind::Uniform || b.length.is_none() {
            continue;
        }
        let element = b.element.as_deref().unwrap_or("u32");
        let output = b.kind == BindingKind::StorageReadWrite;
        // Initialised ones are compiled in; the others the host fills.
        let upload = b.initial.is_none() && !output;
        if (upload || output) && WgslType::parse(element).is_ok_and(|t| t.lanes == 3) {
            return Err(format!(
                "file-scope variable `{}` has 3-component elements, laid out differently in WGSL",
                b.name
            ));
        }
        let symbol = model
            .globals
            .iter()
            .find(|g| cudalens_wgsl::names::wgsl_ident(&g.name) == b.name)
            .map_or_else(|| b.name.clone(), |g| g.name.clone());
        globals.push(NativeGlobal {
            symbol,
            name: b.name.clone(),
            bytes: bytes_of(&b.name).ok_or_else(|| format!("no input for `{}`", b.name))?,
            upload,
            output,
        });
    }
    let kernel_ref = if instantiation.is_empty() {
        kernel.clone()
    } else {
        format!("{kernel}<{}>", instantiation.join(", "))
    };
    let defined_in = f.file.as_deref().unwrap_or(file);
    let namespaces = std::fs::read_to_string(defined_in)
        .map(|text| enclosing_namespaces(&text, f.name_span.start))
        .unwrap_or_default();
    Ok(NativeSpec {
        source: std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()),
        kernel_ref,
        namespaces,
        kernel,
        grid: bench.launch.grid,
        block: bench.launch.block,
        dynamic_shared_bytes: bench.launch.dynamic_shared_bytes,
        params,
        globals,
        warmup: bench.warmup,
        iterations: bench.iterations.max(1),
        layouts: iface
            .bindings
            .iter()
            .filter_map(|b| Some((b.name.clone(), b.layout.clone()?)))
            .collect(),
    })
}

/// The marker of the harness's result line.
pub const RESULT_MARK: &str = "CUDALENS_NATIVE";

/// The harness program (see the module documentation).
/// The names of the `namespace X { ... }` blocks around byte `at` of a
/// CUDA file, outermost first (anonymous ones left out).
fn enclosing_namespaces(text: &str, at: usize) -> Vec<String> {
    let Some(tree) = cudalens_syntax::parser::cuda_parser().parse(text, None) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut node = tree.root_node().descendant_for_byte_range(at, at);
    while let Some(n) = node {
        if n.kind() == "namespace_definition"
            && let Some(name) = n.child_by_field_name("name")
            && let Some(name) = text.get(name.byte_range())
        {
            out.push(name.to_string());
        }
        node = n.parent();
    }
    out.reverse();
    out
}

pub fn harness_source(spec: &NativeSpec) -> String {
    let mut s = String::new();
    let source = spec.source.display().to_string().replace('\\', "/");
    s.push_str(&format!(
        "// Generated by `cudalens bench --native` for the kernel `{}` of {source}:\n\
         // the kernel as nvcc compiles it, launched with the WGSL run's grid, block,\n\
         // arguments and input bytes. Usage: harness DIR (DIR holds NAME.in, gets NAME.out).\n",
        spec.kernel
    ));
    // Runtime calls CUDA 12/13 removed that older programs still make (the
    // PolyBench-ACC sources call cudaThreadSynchronize): the kernel is what
    // is measured, the program's host code only has to compile.
    // The harness's own headers first: a program's macros (LULESH's
    // `#define max(a, b)`) would break the standard headers included after
    // them; their include guards keep the program's own includes harmless.
    s.push_str(
        "#include <algorithm>\n\
         #include <cstdio>\n\
         #include <cstdlib>\n\
         #include <string>\n\
         #include <vector>\n\
         #include <cuda_fp16.h>\n\
         #include <cuda_runtime.h>\n\
         #define cudaThreadSynchronize cudaDeviceSynchronize\n\
         #define cudaThreadExit cudaDeviceReset\n",
    );
    s.push_str(&format!(
        "#define main cudalens_program_main\n#include \"{source}\"\n#undef main\n\n"
    ));
    for ns in &spec.namespaces {
        s.push_str(&format!("using namespace {ns};\n"));
    }
    s.push_str(
        r#"
#define CUDALENS_CHECK(call)                                                          \
    do {                                                                              \
        cudaError_t cudalens_e = (call);                                              \
        if (cudalens_e != cudaSuccess) {                                              \
            std::fprintf(stderr, "cudalens native: %s: %s (%s)\n", #call,            \
                         cudaGetErrorName(cudalens_e), cudaGetErrorString(cudalens_e)); \
            std::exit(cudalens_e == cudaErrorNoDevice || cudalens_e == cudaErrorInsufficientDriver ? 3 : 2); \
        }                                                                             \
    } while (0)

static std::vector<char> cudalens_read(const std::string &path, size_t bytes) {
    std::vector<char> data(bytes);
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f || std::fread(data.data(), 1, bytes, f) != bytes) {
        std::fprintf(stderr, "cudalens native: cannot read %zu bytes from %s\n", bytes, path.c_str());
        std::exit(2);
    }
    std::fclose(f);
    return data;
}

static void cudalens_write(const std::string &path, const std::vector<char> &data) {
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
        std::fprintf(stderr, "cudalens native: cannot write %s\n", path.c_str());
        std::exit(2);
    }
    std::fclose(f);
}

CUDALENS_KERNEL_ADDRESS
int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    CUDALENS_CHECK(cudaSetDevice(0));
"#,
    );
    // The kernel's address taken at file scope, where no local of `main`
    // (`grid`, `args`, ...) can hide a kernel of that name: a kernel
    // named `kernel` (HeCBench has dozens) once named the harness's own
    // pointer instead.
    s = s.replace(
        "CUDALENS_KERNEL_ADDRESS\n",
        &format!(
            "static const void *cudalens_kernel_address() {{\n    return reinterpret_cast<const void *>(&{});\n}}\n\n",
            spec.kernel_ref
        ),
    );
    // Buffers.
    let mut arg_names = Vec::new();
    let mut uploads = Vec::new();
    let mut outputs = Vec::new();
    for (i, p) in spec.params.iter().enumerate() {
        match p {
            NativeParam::Buffer {
                name,
                bytes,
                output,
            } => {
                let d = format!("d_{i}");
                s.push_str(&format!(
                    "    // `{name}`: {bytes} bytes.\n    void *{d} = nullptr;\n    CUDALENS_CHECK(cudaMalloc(&{d}, {bytes}));\n    const std::vector<char> h_{i} = cudalens_read(dir + \"/{name}.in\", {bytes});\n"
                ));
                uploads.push(format!(
                    "        CUDALENS_CHECK(cudaMemcpy({d}, h_{i}.data(), {bytes}, cudaMemcpyHostToDevice));\n"
                ));
                if *output {
                    outputs.push(format!(
                        "    {{\n        std::vector<char> out({bytes});\n        CUDALENS_CHECK(cudaMemcpy(out.data(), {d}, {bytes}, cudaMemcpyDeviceToHost));\n        cudalens_write(dir + \"/{name}.out\", out);\n    }}\n"
                    ));
                }
                arg_names.push(format!("&{d}"));
            }
            NativeParam::Scalar { c_type, literal } => {
                s.push_str(&format!("    {c_type} a_{i} = {literal};\n"));
                arg_names.push(format!("&a_{i}"));
            }
            NativeParam::Struct { name, bytes } => {
                s.push_str(&format!(
                    "    // `{name}`: a struct passed by value, {bytes} bytes.\n    std::vector<char> h_{i} = cudalens_read(dir + \"/{name}.in\", {bytes});\n"
                ));
                arg_names.push(format!("h_{i}.data()"));
            }
        }
    }
    for g in &spec.globals {
        if g.upload {
            s.push_str(&format!(
                "    // `{sym}`: filled by the host in the program; here with the WGSL run's bytes.\n    {{\n        const std::vector<char> v = cudalens_read(dir + \"/{name}.in\", {bytes});\n        CUDALENS_CHECK(cudaMemcpyToSymbol({sym}, v.data(), std::min<size_t>({bytes}, sizeof({sym}))));\n    }}\n",
                sym = g.symbol,
                name = g.name,
                bytes = g.bytes
            ));
        }
        if g.output {
            outputs.push(format!(
                "    {{\n        std::vector<char> out({bytes});\n        CUDALENS_CHECK(cudaMemcpyFromSymbol(out.data(), {sym}, {bytes}));\n        cudalens_write(dir + \"/{name}.out\", out);\n    }}\n",
                sym = g.symbol,
                name = g.name,
                bytes = g.bytes
            ));
        }
    }
    let [gx, gy, gz] = spec.grid;
    let [bx, by, bz] = spec.block;
    s.push_str(&format!(
        "    void *args[] = {{{}}};\n    const dim3 grid({gx}, {gy}, {gz}), block({bx}, {by}, {bz});\n    const size_t smem = {};\n    const void *cudalens_kernel = cudalens_kernel_address();\n",
        if arg_names.is_empty() {
            "nullptr".to_string()
        } else {
            arg_names.join(", ")
        },
        spec.dynamic_shared_bytes,
    ));
    s.push_str("    auto upload = [&]() {\n");
    for u in &uploads {
        s.push_str(u);
    }
    s.push_str("    };\n");
    s.push_str(
        "    auto launch = [&]() { CUDALENS_CHECK(cudaLaunchKernel(cudalens_kernel, grid, block, args, smem, 0)); };\n\n",
    );
    s.push_str("    // One launch on the inputs, its outputs written for the comparison.\n    upload();\n    launch();\n    CUDALENS_CHECK(cudaDeviceSynchronize());\n");
    for o in &outputs {
        s.push_str(o);
    }
    s.push_str(&format!(
        r#"
    // Timing: {warmup} untimed launches, then {iterations} launches each between two events.
    for (int i = 0; i < {warmup}; i++) launch();
    CUDALENS_CHECK(cudaDeviceSynchronize());
    cudaEvent_t start, stop;
    CUDALENS_CHECK(cudaEventCreate(&start));
    CUDALENS_CHECK(cudaEventCreate(&stop));
    std::vector<float> ms;
    for (int i = 0; i < {iterations}; i++) {{
        CUDALENS_CHECK(cudaEventRecord(start));
        launch();
        CUDALENS_CHECK(cudaEventRecord(stop));
        CUDALENS_CHECK(cudaEventSynchronize(stop));
        float t = 0.0f;
        CUDALENS_CHECK(cudaEventElapsedTime(&t, start, stop));
        ms.push_back(t);
    }}
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    const double median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
    cudaDeviceProp prop;
    CUDALENS_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("{RESULT_MARK} {{\"median_ms\": %.6f, \"min_ms\": %.6f, \"samples\": %zu, \"device\": \"%s\"}}\n",
                median, ms[0], n, prop.name);
    return 0;
}}
"#,
        warmup = spec.warmup,
        iterations = spec.iterations,
    ));
    s
}

/// What the harness measured.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct NativeTiming {
    pub median_ms: f64,
    pub min_ms: f64,
    pub samples: u64,
    pub device: String,
}

/// How close a native output must be to the WGSL one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tolerance {
    /// Relative bound for floats: |wgsl − native| ≤ abs + rel · |native|.
    pub rel: f64,
    /// Absolute bound for floats.
    pub abs: f64,
}

impl Default for Tolerance {
    /// f32 kernels: GPUs contract `a * b + c` into FMAs differently and
    /// WGSL's built-ins (`exp`, `sin`, division) have wider error bounds
    /// than CUDA's; 1e-4 relative catches wrong results, not rounding.
    fn default() -> Self {
        Tolerance {
            rel: 1e-4,
            abs: 1e-5,
        }
    }
}

/// The comparison of one output buffer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputComparison {
    pub name: String,
    pub elements: u64,
    /// Scalars (vector lanes) outside the tolerance (integers: not equal).
    pub mismatches: u64,
    pub max_abs_error: f64,
    /// The first mismatch: scalar index, WGSL value, native value.
    pub first_mismatch: Option<(u64, f64, f64)>,
}

fn scalars(bytes: &[u8], scalar: cudalens_gpu::interface::Scalar) -> Vec<f64> {
    use cudalens_gpu::interface::Scalar as S;
    match scalar {
        S::F32 => bytes
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        S::I32 => bytes
            .chunks_exact(4)
            .map(|c| f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        S::U32 => bytes
            .chunks_exact(4)
            .map(|c| f64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
        S::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        S::F16 => bytes
            .chunks_exact(2)
            .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        // For the report only: integers are compared on their bytes.
        S::I64 => bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64)
            .collect(),
        S::U64 => bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64)
            .collect(),
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let frac = f64::from(h & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Compares `wgsl` with `native` bytes of the element type `element`
/// (`layout` for a buffer of structs: member by member): integers exactly,
/// floats within `tol` (NaN equals NaN).
pub fn compare_outputs(
    name: &str,
    element: &str,
    layout: Option<&ElementLayout>,
    wgsl: &[u8],
    native: &[u8],
    tol: Tolerance,
) -> Result<OutputComparison, String> {
    if wgsl.len() != native.len() {
        return Err(format!(
            "`{name}`: the WGSL run has {} bytes, the native run {}",
            wgsl.len(),
            native.len()
        ));
    }
    let mut out = OutputComparison {
        name: name.to_string(),
        elements: 0,
        mismatches: 0,
        max_abs_error: 0.0,
        first_mismatch: None,
    };
    let Some(layout) = layout else {
        let ty = WgslType::parse(element).map_err(|e| e.to_string())?;
        out.elements = (wgsl.len() as u64 / ty.scalar.size()) / u64::from(ty.lanes.max(1));
        compare_scalars(&mut out, ty.scalar, wgsl, native, 0, tol);
        return Ok(out);
    };
    let stride = layout.stride as usize;
    if stride == 0 {
        return Err(format!("`{name}`: a struct element of 0 bytes"));
    }
    out.elements = (wgsl.len() / stride) as u64;
    for e in 0..wgsl.len() / stride {
        for leaf in &layout.leaves {
            let ty = WgslType::parse(&leaf.ty).map_err(|e| e.to_string())?;
            for offset in leaf.offsets() {
                let at = e * stride + offset as usize;
                let range = at..at + ty.size() as usize;
                let (Some(a), Some(b)) = (wgsl.get(range.clone()), native.get(range)) else {
                    continue;
                };
                compare_scalars(&mut out, ty.scalar, a, b, e as u64, tol);
            }
        }
    }
    Ok(out)
}

/// Adds the scalars of `wgsl` and `native` (both of `scalar`) to `out`;
/// a mismatch is reported at `index`, or at its scalar's own index when
/// `index` is 0 and the bytes are a whole buffer.
fn compare_scalars(
    out: &mut OutputComparison,
    scalar: cudalens_gpu::interface::Scalar,
    wgsl: &[u8],
    native: &[u8],
    index: u64,
    tol: Tolerance,
) {
    use cudalens_gpu::interface::Scalar as S;
    let float = matches!(scalar, S::F16 | S::F32 | S::F64);
    let (a, b) = (scalars(wgsl, scalar), scalars(native, scalar));
    // Integers exactly, on their bytes (a 64-bit one need not fit an f64).
    let size = scalar.size() as usize;
    let same_bytes: Vec<bool> = wgsl
        .chunks_exact(size)
        .zip(native.chunks_exact(size))
        .map(|(p, q)| p == q)
        .collect();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let ok = if float {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= tol.abs + tol.rel * y.abs()
        } else {
            same_bytes.get(i).copied().unwrap_or(false)
        };
        if x.is_finite() && y.is_finite() {
            out.max_abs_error = out.max_abs_error.max((x - y).abs());
        }
        if !ok {
            out.mismatches += 1;
            if out.first_mismatch.is_none() {
                out.first_mismatch = Some((index.max(i as u64), *x, *y));
            }
        }
    }
}

/// The native run's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum NativeOutcome {
    /// nvcc or a CUDA device is missing: nothing was compared.
    Unavailable(String),
    /// Measured and compared.
    Measured {
        timing: NativeTiming,
        outputs: Vec<OutputComparison>,
        tolerance: Tolerance,
        harness: PathBuf,
    },
}

/// nvcc's flags unless `--nvcc-flag`s are given: optimised, for the GPU
/// present; the program's own host code (its renamed `main`, never called)
/// may call functions of other files of the program (PolyBench's timers),
/// so symbols the objects leave undefined are not a link error; and
/// `constexpr` host functions are callable from device code, as the
/// programs that call them there are built (HeCBench's quantVLLM: `min`).
pub const DEFAULT_NVCC_FLAGS: [&str; 5] = [
    "-O3",
    "-arch=native",
    "--expt-relaxed-constexpr",
    "-Xlinker",
    "--unresolved-symbols=ignore-in-object-files",
];

/// How to compile the harness.
#[derive(Clone, Debug, Default)]
pub struct NvccOptions {
    /// The nvcc binary (`nvcc` on PATH by default).
    pub nvcc: Option<PathBuf>,
    /// Flags instead of the defaults ([`DEFAULT_NVCC_FLAGS`]).
    pub flags: Vec<String>,
    /// The file's own `-I`/`-D` flags, as given to cudalens.
    pub preprocessor: Vec<String>,
}

/// Compiles and runs the harness for `spec` in `dir`, with `inputs` (the
/// WGSL run's bytes), and compares with the WGSL run's outputs.
pub fn run_native(
    spec: &NativeSpec,
    inputs: &[(String, String, Vec<u8>)],
    wgsl_outputs: &[OutputBuffer],
    dir: &Path,
    nvcc: &NvccOptions,
    tol: Tolerance,
) -> Result<NativeOutcome, String> {
    let nvcc_bin = nvcc.nvcc.clone().unwrap_or_else(|| PathBuf::from("nvcc"));
    if Command::new(&nvcc_bin).arg("--version").output().is_err() {
        return Ok(NativeOutcome::Unavailable(format!(
            "`{}` not found: install the CUDA toolkit or pass --nvcc PATH",
            nvcc_bin.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let harness = dir.join("harness.cu");
    std::fs::write(&harness, harness_source(spec))
        .map_err(|e| format!("{}: {e}", harness.display()))?;
    for (name, _, bytes) in inputs {
        let path = dir.join(format!("{name}.in"));
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let exe = dir.join("harness");
    let mut cmd = Command::new(&nvcc_bin);
    if nvcc.flags.is_empty() {
        cmd.args(DEFAULT_NVCC_FLAGS);
    } else {
        cmd.args(&nvcc.flags);
    }
    if let Some(parent) = spec.source.parent() {
        cmd.arg("-I").arg(parent);
    }
    cmd.args(&nvcc.preprocessor)
        .arg("-o")
        .arg(&exe)
        .arg(&harness);
    let built = cmd
        .output()
        .map_err(|e| format!("running {}: {e}", nvcc_bin.display()))?;
    if !built.status.success() {
        return Err(format!(
            "nvcc could not compile {}:\n{}",
            harness.display(),
            tail(&String::from_utf8_lossy(&built.stderr), 3000)
        ));
    }
    let ran = Command::new(&exe)
        .arg(dir)
        .output()
        .map_err(|e| format!("running {}: {e}", exe.display()))?;
    let stderr = String::from_utf8_lossy(&ran.stderr);
    if ran.status.code() == Some(3) {
        return Ok(NativeOutcome::Unavailable(format!(
            "no usable CUDA device: {}",
            stderr.trim()
        )));
    }
    if !ran.status.success() {
        return Err(format!(
            "the native harness failed ({}):\n{}",
            ran.status,
            tail(&stderr, 3000)
        ));
    }
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let timing: NativeTiming = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_MARK))
        .and_then(|j| serde_json::from_str(j.trim()).ok())
        .ok_or_else(|| {
            format!(
                "the native harness printed no result line:\n{}",
                tail(&stdout, 2000)
            )
        })?;
    let mut outputs = Vec::new();
    for o in wgsl_outputs {
        let path = dir.join(format!("{}.out", o.name));
        let Ok(native) = std::fs::read(&path) else {
            continue;
        };
        outputs.push(compare_outputs(
            &o.name,
            &o.element,
            spec.layouts.get(&o.name),
            &o.bytes,
            &native,
            tol,
        )?);
    }
    Ok(NativeOutcome::Measured {
        timing,
        outputs,
        tolerance: tol,
        harness,
    })
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// miniFE's `typename VectorType::ScalarType alpha`: a by-value
    /// parameter spelled through a template parameter is written in the
    /// harness as the type the WGSL run stored (`double`), a plain one as
    /// written.
    #[test]
    fn by_value_parameters_spelled_through_template_parameters_take_the_stored_type() {
        let source = "template <typename V>\n__global__ void k(typename V::ScalarType alpha, int n, typename V::ScalarType *y) {}\n";
        let provider: std::collections::HashMap<PathBuf, String> = Default::default();
        let model = cudalens_syntax::analyze_source(
            source,
            &cudalens_syntax::BuildOptions {
                path: Some(Path::new("k.cu")),
                flags: Default::default(),
                provider: &provider,
                max_include_depth: 8,
                deadline: None,
            },
        );
        assert_eq!(c_type_of(&model, "k", 0, "f64").as_deref(), Some("double"));
        assert_eq!(c_type_of(&model, "k", 1, "i32").as_deref(), Some("int"));
    }

    /// HeCBench's miniFE defines its kernels and their template arguments'
    /// types in `namespace miniFE`: the harness opens the namespaces the
    /// kernel stands in.
    #[test]
    fn the_harness_opens_the_kernels_namespaces() {
        let text = "namespace outer {\nnamespace inner {\n__global__ void k(float *x) {}\n}\n}\nnamespace {\n__global__ void g() {}\n}\n__global__ void top() {}\n";
        let at = |name: &str| text.find(name).unwrap();
        assert_eq!(enclosing_namespaces(text, at("k(")), ["outer", "inner"]);
        assert!(enclosing_namespaces(text, at("g(")).is_empty());
        assert!(enclosing_namespaces(text, at("top(")).is_empty());
        assert!(harness_source(&spec()).contains("#undef main\n\nusing namespace blas;\n"));
    }

    fn spec() -> NativeSpec {
        NativeSpec {
            source: PathBuf::from("/work/project/saxpy.cu"),
            kernel_ref: "saxpy<float>".into(),
            namespaces: vec!["blas".into()],
            kernel: "saxpy".into(),
            grid: [4, 1, 1],
            block: [256, 1, 1],
            dynamic_shared_bytes: 0,
            params: vec![
                NativeParam::Scalar {
                    c_type: "int".into(),
                    literal: "(int)(1024)".into(),
                },
                NativeParam::Scalar {
                    c_type: "float".into(),
                    literal: "2.5f".into(),
                },
                NativeParam::Buffer {
                    name: "x".into(),
                    bytes: 4096,
                    output: false,
                },
                NativeParam::Buffer {
                    name: "y".into(),
                    bytes: 4096,
                    output: true,
                },
                NativeParam::Struct {
                    name: "seg".into(),
                    bytes: 32,
                },
            ],
            globals: vec![
                NativeGlobal {
                    symbol: "c_bias".into(),
                    name: "c_bias".into(),
                    bytes: 16,
                    upload: true,
                    output: false,
                },
                NativeGlobal {
                    symbol: "d_count".into(),
                    name: "d_count".into(),
                    bytes: 4,
                    upload: false,
                    output: true,
                },
            ],
            warmup: 3,
            iterations: 20,
            layouts: Default::default(),
        }
    }

    /// LULESH `#define`s `max(a, b)`: the standard headers the harness
    /// needs come before the program's source, so its macros cannot break
    /// them (nvcc failed in `uniform_int_dist.h` on the H100, stop 37).
    #[test]
    fn the_harness_includes_its_headers_before_the_program() {
        let text = harness_source(&spec());
        let program = text.find("#define main cudalens_program_main").unwrap();
        for header in ["<algorithm>", "<vector>", "<cuda_fp16.h>"] {
            assert!(text.find(header).unwrap() < program, "{header}: {text}");
        }
    }

    /// A kernel named `kernel` (HeCBench tsa and dozens more): its address
    /// is taken at file scope, where no local of the harness's `main` can
    /// hide it (a local `kernel` pointer once named itself there: nvcc's
    /// `type name is not allowed` for a template, a launch of the
    /// pointer's own address for a plain kernel).
    #[test]
    fn a_kernel_named_like_a_harness_local_is_launched() {
        let spec = NativeSpec {
            kernel_ref: "kernel<float, 1, 16>".into(),
            kernel: "kernel".into(),
            ..spec()
        };
        let text = harness_source(&spec);
        let address = text
            .find("return reinterpret_cast<const void *>(&kernel<float, 1, 16>);")
            .expect("the kernel's address");
        assert!(address < text.find("int main(").unwrap(), "{text}");
        assert!(text.contains("cudaLaunchKernel(cudalens_kernel,"), "{text}");
        assert!(!text.contains("const void *kernel ="), "{text}");
    }

    #[test]
    fn harness_launches_the_kernel_with_the_wgsl_runs_shape_and_inputs() {
        insta::assert_snapshot!(harness_source(&spec()));
    }

    #[test]
    fn literals_keep_the_parameters_type() {
        assert_eq!(literal("float", true, &[2.5]), "2.5f");
        assert_eq!(literal("double", true, &[1.0]), "1.0");
        assert_eq!(literal("DATA_TYPE", true, &[1.5]), "(DATA_TYPE)(1.5)");
        assert_eq!(literal("int", false, &[-3.0]), "(int)(-3)");
        assert_eq!(literal("unsigned int", false, &[7.0]), "(unsigned int)(7)");
        assert_eq!(literal("bool", false, &[1.0]), "true");
        assert_eq!(
            literal("float2", true, &[1.0, 2.0]),
            "make_float2(1.0f, 2.0f)"
        );
        assert_eq!(
            literal("uint2", false, &[1.0, 2.0]),
            "make_uint2((unsigned int)(1), (unsigned int)(2))"
        );
    }

    #[test]
    fn outputs_compare_floats_within_the_tolerance_and_integers_exactly() {
        let f = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let tol = Tolerance::default();
        let c = compare_outputs(
            "y",
            "f32",
            None,
            &f(&[1.0, 2.0, 3.0]),
            &f(&[1.0, 2.00001, 3.1]),
            tol,
        )
        .unwrap();
        assert_eq!(c.mismatches, 1);
        assert_eq!(c.first_mismatch.map(|m| m.0), Some(2));
        assert!((c.max_abs_error - 0.1).abs() < 1e-6);
        let i = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let c = compare_outputs("n", "atomic<i32>", None, &i(&[1, 2]), &i(&[1, 3]), tol).unwrap();
        assert_eq!((c.elements, c.mismatches), (2, 1));
        let c = compare_outputs(
            "v",
            "vec2<f32>",
            None,
            &f(&[f32::NAN, 1.0]),
            &f(&[f32::NAN, 1.0]),
            tol,
        )
        .unwrap();
        assert_eq!((c.elements, c.mismatches), (1, 0));
        assert!(compare_outputs("y", "f32", None, &f(&[1.0]), &f(&[1.0, 2.0]), tol).is_err());
    }

    /// A buffer of structs is compared member by member: a float member
    /// within the tolerance, an integer one exactly, padding not at all.
    #[test]
    fn struct_outputs_compare_member_by_member() {
        use cudalens_gpu::interface::{LayoutLeaf, LeafRole};
        let layout = ElementLayout {
            stride: 12,
            leaves: vec![
                LayoutLeaf {
                    name: "w".into(),
                    ty: "f32".into(),
                    offset: 0,
                    role: LeafRole::Value,
                    count: 1,
                    stride: 0,
                },
                LayoutLeaf {
                    name: "id".into(),
                    ty: "i32".into(),
                    offset: 4,
                    role: LeafRole::Value,
                    count: 1,
                    stride: 0,
                },
            ],
        };
        // Two elements: (w, id, padding).
        let element = |w: f32, id: i32, pad: u32| {
            let mut b = w.to_le_bytes().to_vec();
            b.extend(id.to_le_bytes());
            b.extend(pad.to_le_bytes());
            b
        };
        let wgsl = [element(1.0, 7, 0), element(2.0, 8, 0)].concat();
        let native = [element(1.00001, 7, 99), element(2.0, 9, 5)].concat();
        let c = compare_outputs(
            "p",
            "S",
            Some(&layout),
            &wgsl,
            &native,
            Tolerance::default(),
        )
        .unwrap();
        assert_eq!((c.elements, c.mismatches), (2, 1));
        assert_eq!(c.first_mismatch, Some((1, 8.0, 9.0)));
    }

    #[test]
    fn without_nvcc_the_native_run_is_unavailable_not_failed() {
        let nvcc = NvccOptions {
            nvcc: Some(PathBuf::from("/nonexistent/cudalens-test/nvcc")),
            ..NvccOptions::default()
        };
        let dir = std::env::temp_dir().join("cudalens-native-test-unused");
        let out = run_native(&spec(), &[], &[], &dir, &nvcc, Tolerance::default()).unwrap();
        assert!(
            matches!(&out, NativeOutcome::Unavailable(m) if m.contains("not found")),
            "{out:?}"
        );
        assert!(!dir.exists());
    }
}
