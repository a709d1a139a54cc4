//! Float atomics: a discarded `atomicAdd` on an address every thread shares
//! is summed per subgroup first; every other float atomic stays a
//! compare-exchange loop per thread.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

fn wgsl(body: &str, subgroups: bool) -> String {
    let source = format!(
        "__global__ void k(const float* in, float* out, float* per_block, int n) {{\n\
         int i = blockIdx.x * blockDim.x + threadIdx.x;\n{body}\n}}\n"
    );
    let opts = TranspileOptions {
        subgroups,
        ..TranspileOptions::default()
    };
    common::compile(&source, "k", &opts)
        .unwrap_or_else(|d| panic!("{d:#?}"))
        .wgsl
}

const AGGREGATED: &str = "subgroupAdd(";

#[test]
fn shared_address_is_summed_per_subgroup() {
    for body in [
        "atomicAdd(out, in[i]);",
        "atomicAdd(&out[0], in[i]);",
        "if (i < n) atomicAdd(&per_block[blockIdx.x], in[i]);",
        "atomicSub(&out[n - 1], in[i]);",
    ] {
        let text = wgsl(body, true);
        assert!(text.contains(AGGREGATED), "{body}:\n{text}");
        assert!(
            text.contains("subgroupBroadcastFirst(lane_id) == lane_id"),
            "{body}:\n{text}"
        );
    }
}

#[test]
fn per_thread_addresses_used_results_and_no_subgroups_keep_the_loop() {
    for body in [
        "atomicAdd(&out[i], in[i]);",
        "atomicAdd(&out[threadIdx.x % 4], in[i]);",
        "float old = atomicAdd(out, in[i]); per_block[i] = old;",
        "int j = i / 32; atomicAdd(&out[j], in[i]);",
    ] {
        let text = wgsl(body, true);
        assert!(!text.contains(AGGREGATED), "{body}:\n{text}");
        assert!(
            text.contains("atomicCompareExchangeWeak"),
            "{body}:\n{text}"
        );
    }
    let text = wgsl("atomicAdd(out, in[i]);", false);
    assert!(!text.contains(AGGREGATED), "{text}");
}

#[test]
fn native_float_atomics_replace_the_loop_when_the_adapter_has_them() {
    let source = "__global__ void k(const float* in, float* out, int n) {\n\
                  int i = blockIdx.x * blockDim.x + threadIdx.x;\n\
                  if (i < n) { atomicAdd(out, in[i]); atomicSub(&out[1], in[i]); }\n}\n";
    let opts = TranspileOptions {
        float_atomics: true,
        ..TranspileOptions::default()
    };
    let native = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        native.wgsl.contains("array<atomic<f32>>"),
        "{}",
        native.wgsl
    );
    assert!(
        !native.wgsl.contains("atomicCompareExchangeWeak"),
        "{}",
        native.wgsl
    );
    assert!(
        native
            .sidecar
            .features
            .contains(&"float32_atomics".to_string())
    );
    // CAS on floats has no native form either way.
    let cas = "__global__ void k(float* out) { atomicCAS(out, 1.0f, 2.0f); }";
    assert!(common::compile(cas, "k", &opts).is_err());

    // Same sums on the adapter (lavapipe has VK_EXT_shader_atomic_float);
    // small integers keep float addition exact in any order.
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner
        .adapter()
        .is_ok_and(|a| a.features.shader_float32_atomic)
    {
        eprintln!("skipping: the adapter has no native float atomics");
        return;
    }
    let n = 4096u32;
    let input: Vec<f32> = (0..n).map(|i| (i % 7) as f32).collect();
    let want: f32 = input.iter().sum();
    for float_atomics in [false, true] {
        let opts = TranspileOptions {
            float_atomics,
            ..TranspileOptions::default()
        };
        let out = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
        let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
        let bench = Benchmark::new(out.wgsl.clone(), iface, [n / 256, 1, 1], [256, 1, 1])
            .with_iterations(0, 1)
            .with_arg(2, ParamValue::Scalar(f64::from(n)))
            .with_buffer(
                "in",
                BufferSpec::bytes(u64::from(n), bytemuck::cast_slice(&input).to_vec()),
            )
            .with_buffer("out", BufferSpec::bytes(2, vec![0; 8]));
        let result = runner
            .run(&bench)
            .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
        let sums: Vec<f32> = bytemuck::pod_collect_to_vec(&result.outputs[0].bytes);
        assert_eq!(sums, [want, -want], "float_atomics={float_atomics}");
    }
}

#[test]
fn block_and_system_scoped_atomics_are_device_atomics() {
    let text = wgsl(
        "atomicExch_system(&out[i], in[i]); atomicAdd_block(&per_block[0], in[i]);",
        false,
    );
    assert!(text.contains("atomicExchange(&out["), "{text}");
    let source = "__global__ void k(int* c, int n) { atomicCAS_system(&c[0], n, 1); atomicMin_block(&c[1], n); }";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("atomicCompareExchangeWeak(&c[0]"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("atomicMin(&c[1], n)"), "{}", out.wgsl);
}

#[test]
fn an_unused_float_exchange_is_kept() {
    // It was dropped: its text starts with `bitcast`, so it did not count as
    // a side effect, and an unused value is not emitted.
    let text = wgsl("atomicExch(&out[i], in[i]);", false);
    assert!(
        text.contains("    atomicExchange(&out[i], bitcast<u32>(in[i]));"),
        "{text}"
    );
    let text = wgsl(
        "float old = atomicExch(&out[i], in[i]); per_block[i] = old;",
        false,
    );
    assert!(
        text.contains("bitcast<f32>(atomicExchange(&out[i], bitcast<u32>(in[i])))"),
        "{text}"
    );
}

#[test]
fn wrapping_atomics_wrap_as_cuda_documents() {
    let source = "__global__ void k(unsigned int *c, unsigned int *olds) {\n    unsigned int t = threadIdx.x;\n    olds[t] = atomicInc(&c[0], 9u);\n    olds[64 + t] = atomicDec(&c[1], 9u);\n}\n";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("select(old_1 + 1u, 0u, old_1 >= 9u)"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("c", BufferSpec::zeros(2))
        .with_buffer("olds", BufferSpec::zeros(128));
    let result = runner.run(&bench).expect("run");
    let c: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("c").expect("c").bytes);
    // 64 increments from 0 wrapping after 9: 64 mod 10; 64 decrements from
    // 0 wrapping to 9: -64 mod 10.
    assert_eq!(c, vec![4, 6]);
    let olds: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("olds").expect("olds").bytes);
    let mut counts = [[0u32; 10]; 2];
    for (i, v) in olds.iter().enumerate() {
        counts[i / 64][*v as usize] += 1;
    }
    // Each old value in 0..=9, in the cyclic sequence: inc 0,1,..,9,0,..
    // (0..=3 seven times), dec 0,9,8,..,1,0,.. (0 and 9..=7 seven times).
    assert_eq!(counts[0], [7, 7, 7, 7, 6, 6, 6, 6, 6, 6]);
    assert_eq!(counts[1], [7, 6, 6, 6, 6, 6, 6, 7, 7, 7]);
}

/// `atomicInc((unsigned int *)&c[0], n)` on an `int` buffer (as the CUDA
/// samples' simpleAtomicIntrinsics writes it): the counter's bits compared
/// as unsigned; without the cast an `int` location is refused.
#[test]
fn wrapping_atomics_through_an_unsigned_view_of_int() {
    let source = "__global__ void k(int *c, unsigned int *olds) {\n    unsigned int t = threadIdx.x;\n    olds[t] = atomicInc((unsigned int *)&c[0], 9u);\n    olds[64 + t] = atomicDec((unsigned int *)&c[1], 9u);\n}\n";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl
            .contains("atomicCompareExchangeWeak(&c[0], bitcast<i32>(old_1), bitcast<i32>(select(old_1 + 1u, 0u, old_1 >= 9u)))"),
        "{}",
        out.wgsl
    );
    let plain = "__global__ void k(int *c) { atomicInc(&c[0], 9u); }";
    let err = common::compile(plain, "k", &TranspileOptions::default()).expect_err("int");
    assert!(
        err[0].message.contains("needs an `unsigned int` location"),
        "{err:#?}"
    );

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let start: Vec<i32> = vec![-1, -5];
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "c",
            BufferSpec::bytes(2, bytemuck::cast_slice(&start).to_vec()),
        )
        .with_buffer("olds", BufferSpec::zeros(128));
    let result = runner.run(&bench).expect("run");
    let c: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("c").expect("c").bytes);
    // 0xffffffff and 0xfffffffb are above the bound as unsigned: the first
    // increment wraps to 0 (63 more: 3), the first decrement to 9 (63 more:
    // 9 - 63 mod 10 = 6).
    assert_eq!(c, vec![3, 6]);
}

/// Atomics on `unsigned long long` and `double` (HeCBench's atomicCost and
/// ccsd-trpdrv, the CUDA samples' jacobiCudaGraphs: `atomicAdd(double*)`)
/// with the adapter's 64-bit atomics: `atomic<u64>` operations, and for
/// `double` a compare-exchange loop on its bits; without them, a refusal
/// that names the feature.
#[test]
fn sixty_four_bit_atomics_with_the_adapters_int64_atomics() {
    let source = "__global__ void k(const double* in, double* sum, unsigned long long* count,\n\
                  long long* low, int n) {\n\
                  __shared__ unsigned long long block_count;\n\
                  int i = blockIdx.x * blockDim.x + threadIdx.x;\n\
                  if (threadIdx.x == 0) block_count = 0;\n\
                  __syncthreads();\n\
                  if (i < n) {\n\
                    atomicAdd(sum, in[i]);\n\
                    atomicAdd(&block_count, 1ull);\n\
                    atomicMin(low, (long long)(in[i] * -3.0));\n\
                  }\n\
                  __syncthreads();\n\
                  if (threadIdx.x == 0) atomicAdd(count, block_count);\n}\n";
    let opts = TranspileOptions {
        enable_f64: true,
        enable_int64: true,
        int64_atomics: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    for needle in [
        "array<atomic<u64>>",
        "array<atomic<i64>>",
        "var<workgroup> block_count: atomic<u64>",
        "bitcast<u64>(bitcast<f64>(",
    ] {
        assert!(out.wgsl.contains(needle), "{needle}:\n{}", out.wgsl);
    }
    assert!(out.sidecar.features.contains(&"int64_atomics".to_string()));
    let without = TranspileOptions {
        int64_atomics: false,
        ..opts.clone()
    };
    let refused = common::compile(source, "k", &without).expect_err("needs 64-bit atomics");
    assert!(
        refused
            .iter()
            .any(|d| d.message.contains("SHADER_INT64_ATOMIC_ALL_OPS")),
        "{refused:#?}"
    );

    // The same sums on the adapter (lavapipe has VK_KHR_shader_atomic_int64);
    // small integers keep double addition exact in any order.
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner
        .adapter()
        .is_ok_and(|a| a.features.shader_int64_atomics && a.features.shader_f64)
    {
        eprintln!("skipping: the adapter has no 64-bit atomics");
        return;
    }
    let n = 4096u32;
    let input: Vec<f64> = (0..n).map(|i| f64::from(i % 7)).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [n / 256, 1, 1], [256, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(f64::from(n)))
        .with_buffer(
            "in",
            BufferSpec::bytes(u64::from(n), bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("sum", BufferSpec::bytes(1, vec![0; 8]))
        .with_buffer("count", BufferSpec::bytes(1, vec![0; 8]))
        .with_buffer("low", BufferSpec::bytes(1, vec![0; 8]));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let word = |name: &str| -> [u8; 8] {
        let o = result
            .outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no output {name}"));
        o.bytes[..8].try_into().expect("8 bytes")
    };
    assert_eq!(f64::from_le_bytes(word("sum")), input.iter().sum::<f64>());
    assert_eq!(u64::from_le_bytes(word("count")), u64::from(n));
    assert_eq!(i64::from_le_bytes(word("low")), -18);
}

/// CUDA 12.8's `__nv_atomic_load_n(p, __NV_ATOMIC_RELAXED)`, the first read
/// of HeCBench atomicCAS's compare-exchange loops (`CUDA_VERSION >= 12080`):
/// a relaxed read of `*p`, as every WGSL atomic access is; a stronger order
/// is refused, since WGSL's atomics cannot keep it. Run on the adapter: a
/// minimum by compare-exchange.
#[test]
fn relaxed_nv_atomic_loads_read_the_atomic() {
    let source = |order: &str| {
        format!(
            "__device__ int atomic_min_relaxed(int* address, int val) {{\n\
             int ret = __nv_atomic_load_n(address, {order});\n\
             while (val < ret) {{ int old = ret; if ((ret = atomicCAS(address, old, val)) == old) break; }}\n\
             return ret;\n}}\n\
             __global__ void k(const int* in, int* out, int n) {{\n\
             int i = blockIdx.x * blockDim.x + threadIdx.x;\n\
             if (i < n) atomic_min_relaxed(out, in[i]);\n}}\n"
        )
    };
    let strong = common::compile(
        &source("__NV_ATOMIC_ACQUIRE"),
        "k",
        &TranspileOptions::default(),
    )
    .expect_err("an acquire load is refused");
    assert!(
        strong
            .iter()
            .any(|d| d.message.contains("__NV_ATOMIC_RELAXED")),
        "{strong:#?}"
    );
    let out = common::compile(
        &source("__NV_ATOMIC_RELAXED"),
        "k",
        &TranspileOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("atomicLoad(") || out.wgsl.contains("atomicCompareExchangeWeak("),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 200usize;
    let input: Vec<i32> = (0..n as i32).map(|i| (i * 37) % 101 - 50).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer(
            "out",
            BufferSpec::bytes(1, bytemuck::cast_slice(&[i32::MAX]).to_vec()),
        );
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    assert_eq!(got[0], *input.iter().min().unwrap());
}

/// CUDA has no `atomicMax(float *)`/`atomicMin(double *)`; programs define
/// them as compare-and-swap loops on the bits (HeCBench's michalewicz,
/// lebesgue, hausdorff). The file's own function is called, not refused
/// as a float builtin, and a float array used with integer atomics through
/// a cast holds its bits in `atomic<u32>` even when the adapter has float
/// atomics. Run on the adapter against Rust's maximum and minimum.
#[test]
fn the_files_own_float_atomic_max_and_min_run_as_cas_loops() {
    let source = r#"
__device__ float atomicMax(float *addr, float value) {
    unsigned int *ptr = (unsigned int *)addr;
    unsigned int ret = *ptr;
    while (value > __uint_as_float(ret)) {
        unsigned int old = ret;
        if ((ret = atomicCAS(ptr, old, __float_as_uint(value))) == old) break;
    }
    return __uint_as_float(ret);
}
__device__ double atomicMin(double *address, double val) {
    unsigned long long *ptr = (unsigned long long *)address;
    unsigned long long ret = *ptr;
    while (val < __longlong_as_double(ret)) {
        unsigned long long old = ret;
        if ((ret = atomicCAS(ptr, old, __double_as_longlong(val))) == old) break;
    }
    return __longlong_as_double(ret);
}
__global__ void extremes(const float *in, float *hi, double *lo, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        atomicMax(hi, in[i]);
        atomicMin(lo, (double)in[i]);
    }
}
"#;
    let opts = TranspileOptions {
        float_atomics: true,
        enable_f64: true,
        enable_int64: true,
        int64_atomics: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "extremes", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    for want in [
        "var<storage, read_write> hi: array<atomic<u32>>;",
        "var<storage, read_write> lo: array<atomic<u64>>;",
        "atomicCompareExchangeWeak(",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let adapter = runner.adapter().expect("adapter");
    if !(adapter.features.shader_f64 && adapter.features.shader_int64_atomics) {
        eprintln!("skipping the run: the adapter lacks f64 or 64-bit atomics");
        return;
    }
    let n = 1000u32;
    let input: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f32 * 0.25 - 100.0)
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [256, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(f64::from(n)))
        .with_buffer(
            "in",
            BufferSpec::bytes(u64::from(n), bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer(
            "hi",
            BufferSpec::bytes(1, (-1000.0f32).to_le_bytes().to_vec()),
        )
        .with_buffer("lo", BufferSpec::bytes(1, 1000.0f64.to_le_bytes().to_vec()));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let hi = f32::from_le_bytes(
        result.output("hi").expect("hi").bytes[..4]
            .try_into()
            .unwrap(),
    );
    let lo = f64::from_le_bytes(
        result.output("lo").expect("lo").bytes[..8]
            .try_into()
            .unwrap(),
    );
    assert_eq!(hi, input.iter().copied().fold(f32::MIN, f32::max));
    assert_eq!(
        lo,
        f64::from(input.iter().copied().fold(f32::MAX, f32::min))
    );
}

/// Atomics on members of buffer structs of one scalar type (HeCBench's
/// linearprobing: `atomicCAS(&hashtable[slot].key, kEmpty, key)` then
/// `atomicExch(&hashtable[slot].value, value)`; testSNAP: `atomicAdd(&(y[i].re),
/// ...)` on `{double re, im}`): each element is `array<atomic<T>, n>`,
/// members read and written through atomics. A hash table filled on
/// lavapipe holds every key with its value; a float struct sums.
#[test]
fn atomics_on_members_of_struct_elements() {
    let source = r#"
struct KeyValue { unsigned int key; unsigned int value; };
struct Pair { float re; float im; };
__global__ void insert(KeyValue *table, const unsigned int *keys, Pair *sums, unsigned int capacity) {
    unsigned int i = threadIdx.x;
    unsigned int key = keys[i];
    unsigned int slot = (key * 2654435761u) & (capacity - 1);
    while (true) {
        unsigned int prev = atomicCAS(&table[slot].key, 0xffffffffu, key);
        if (prev == 0xffffffffu || prev == key) {
            atomicExch(&table[slot].value, key * 3u);
            break;
        }
        slot = (slot + 1) & (capacity - 1);
    }
    atomicAdd(&sums[i % 2].re, 1.0f);
    atomicAdd(&(sums[i % 2].im), (float)i);
}
"#;
    let out = common::compile_as("table.cu", source, "insert").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("table: array<array<atomic<u32>, 2>>"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let capacity = 64usize;
    let keys: Vec<u32> = (0..32u32).map(|i| i * 7 + 1).collect();
    let empty: Vec<u32> = vec![0xffff_ffff; 2 * capacity];
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(capacity as f64))
        .with_buffer(
            "table",
            BufferSpec::bytes(capacity as u64, bytemuck::cast_slice(&empty).to_vec()),
        )
        .with_buffer(
            "keys",
            BufferSpec::bytes(32, bytemuck::cast_slice(&keys).to_vec()),
        )
        .with_buffer("sums", BufferSpec::zeros(2));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let table: Vec<u32> =
        bytemuck::pod_collect_to_vec(&result.output("table").expect("table").bytes);
    let mut found: Vec<(u32, u32)> = table
        .chunks(2)
        .filter(|kv| kv[0] != 0xffff_ffff)
        .map(|kv| (kv[0], kv[1]))
        .collect();
    found.sort();
    let want: Vec<(u32, u32)> = keys.iter().map(|k| (*k, k * 3)).collect();
    assert_eq!(found, want);
    let sums: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("sums").expect("sums").bytes);
    let even: f32 = (0..32).filter(|i| i % 2 == 0).map(|i| i as f32).sum();
    let odd: f32 = (0..32).filter(|i| i % 2 == 1).map(|i| i as f32).sum();
    assert_eq!(sums, vec![16.0, even, 16.0, odd]);
}

#[test]
fn atomics_on_members_of_mixed_structs_are_refused() {
    let source = "struct M { int key; float w; };\n\
        __global__ void k(M *t) { atomicAdd(&t[threadIdx.x].key, 1); }";
    let err = common::compile_as("mixed.cu", source, "k").expect_err("mixed members");
    assert!(err.contains("one 32- or 64-bit scalar type"), "{err}");
}

/// `&table[i++].key`: the element's index is evaluated once (the check
/// that the element is held as atomic members lowered it a second time
/// into the kernel before review): `i` moves by one, on lavapipe.
#[test]
fn a_member_address_evaluates_its_index_once() {
    let source = "struct KV { unsigned int key; unsigned int value; };\n\
        __global__ void k(KV *t, int *out) { int i = threadIdx.x; atomicAdd(&t[i++].key, 1u); out[threadIdx.x] = i; }";
    let out = common::compile_as("once.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let Some(got) = common::run_block::<i32>(&out, 32, &[("t", 32, vec![0u8; 256])], ("out", 32))
    else {
        return;
    };
    let want: Vec<i32> = (1..=32).collect();
    assert_eq!(got, want);
}
