//! Member functions of structs (HeCBench's projectile `obj[i].getangle()`,
//! mandelbrot, gamma-correction's `pixel[i].set(...)`): the front end
//! lowers `S::m` with a first parameter `S *this` and binds the members the
//! body names bare; a call `obj.m(a)` is `S::m(&obj, a)`, `p->m(a)` is
//! `S::m(p, a)`, on locals and on buffer elements, and a `static` one takes
//! no object. Run on the adapter against a Rust reference (our own
//! kernels).

mod common;

const PARTICLES: &str = r#"
struct Particle {
    float x, v;
    int hits;
    __device__ void step(float dt) { x += v * dt; bounce(); }
    __device__ void bounce() { if (x > 1.0f) { x = 2.0f - x; v = -v; hits++; } }
    __device__ float energy() const { return half(v * v); }
    __device__ static float half(float a) { return 0.5f * a; }
};

struct Acc {
    float sum;
    int n;
    __device__ void add(float s) { sum += s; n++; }
};

__global__ void simulate(Particle *p, float *e, float dt, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    p[i].step(dt);
    Particle q = p[i];
    Acc acc = {0.0f, 0};
    Acc *a = &acc;
    acc.add(q.energy());
    a->add(Particle::half(q.x));
    e[i] = acc.sum + acc.n;
}

struct Pixel {
    unsigned char r, g, b, a;
    __device__ void gray(unsigned char v) { r = v; g = v; b = v; }
};

__global__ void shade(Pixel *px) { px[threadIdx.x].gray(3); }
"#;

#[test]
fn member_functions_are_functions_of_their_object() {
    let out =
        common::compile_as("methods.cu", PARTICLES, "simulate").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "fn Particle__half(a: f32) -> f32 {",
        "fn Acc__add(this_: ptr<function, Acc>, s: f32) {",
        "    Acc__add(&acc, ",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    const N: usize = 64;
    // x, v, hits: 12 bytes each.
    let mut bytes = Vec::new();
    for i in 0..N {
        bytes.extend_from_slice(&(i as f32 / 40.0).to_le_bytes());
        bytes.extend_from_slice(&((i as f32 - 20.0) / 8.0).to_le_bytes());
        bytes.extend_from_slice(&(i as i32).to_le_bytes());
    }
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [N as u32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, cudalens_gpu::ParamValue::Scalar(0.25))
        .with_arg(3, cudalens_gpu::ParamValue::Scalar(N as f64))
        .with_buffer(
            "p",
            cudalens_gpu::BufferSpec::bytes(N as u64, bytes.clone()),
        )
        .with_buffer("e", cudalens_gpu::BufferSpec::zeros(N as u64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let p = result.output("p").expect("p").bytes.clone();
    let e: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("e").expect("e").bytes);
    let f = |b: &[u8], at: usize| f32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    for i in 0..N {
        let (mut x, mut v, mut hits) = (f(&bytes, 12 * i), f(&bytes, 12 * i + 4), i as i32);
        x += v * 0.25;
        if x > 1.0 {
            x = 2.0 - x;
            v = -v;
            hits += 1;
        }
        assert_eq!(f(&p, 12 * i), x, "p[{i}].x");
        assert_eq!(f(&p, 12 * i + 4), v, "p[{i}].v");
        assert_eq!(
            i32::from_le_bytes(p[12 * i + 8..12 * i + 12].try_into().unwrap()),
            hits,
            "p[{i}].hits"
        );
        let want = 0.5 * (v * v) + 0.5 * x + 2.0;
        assert!(
            (e[i] - want).abs() <= 1e-6 * want.abs().max(1.0),
            "e[{i}]: {} vs {want}",
            e[i]
        );
    }
}

/// A member function storing 8-bit members of a struct in a buffer would
/// rewrite words other threads may be writing: refused at the store.
#[test]
fn narrow_member_stores_through_a_method_on_a_buffer_element_are_refused() {
    let err = common::compile_as("methods.cu", PARTICLES, "shade").expect_err("refused");
    assert!(
        err.contains("a store to an 8- or 16-bit member of a struct in a buffer"),
        "{err}"
    );
}

/// Constructors (member initialisers first, then the body), the default
/// one for `S s;`, `S s = {a, b}` of a struct with a constructor, a
/// temporary `S(a)`, and the call operator of a struct passed by value
/// whose type is deduced from the temporary the host passes (HeCBench's
/// aop `PayoffPut(K)` and `payoff(S)`, dpid's `Local l(p)`). Run on the
/// adapter against a Rust reference.
#[test]
fn constructors_and_call_operators() {
    let source = r#"
struct Put {
    float k;
    __device__ Put(float strike) : k(strike) {}
    __device__ float operator()(float s) const { return fmaxf(k - s, 0.0f); }
};
struct Range {
    int lo, hi, width;
    __device__ Range() : lo(1), hi(3) { width = hi - lo; }
    __device__ Range(int a, int b) : lo(a), hi(b) { width = b - a; }
};
template <typename Payoff>
__global__ void price(Payoff payoff, const float *s, float *out, int n) {
    int i = threadIdx.x;
    if (i >= n) return;
    Range fixed;
    Range r(i, 2 * i + 1);
    Range q = {i, i};
    float twice = fmaxf(Put(2.0f).k - s[i], 0.0f);
    out[i] = payoff(s[i]) + twice + fixed.width * 100 + r.width * 1000 + q.width;
}
template <typename Payoff>
void run(Payoff p, const float *s, float *out) { price<<<1, 64>>>(p, s, out, 64); }
int main() { float *s, *o; run(Put(1.5f), s, o); }
"#;
    let out = common::compile_as("ctors.cu", source, "price").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("// Template instantiation: price<Put>."),
        "{}",
        out.wgsl
    );
    let s: Vec<f32> = (0..64).map(|i| i as f32 / 16.0).collect();
    let k = 1.5f32.to_le_bytes().to_vec();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, cudalens_gpu::ParamValue::Scalar(64.0))
        .with_buffer("payoff", cudalens_gpu::BufferSpec::bytes(1, k))
        .with_buffer(
            "s",
            cudalens_gpu::BufferSpec::bytes(64, bytemuck::cast_slice(&s).to_vec()),
        )
        .with_buffer("out", cudalens_gpu::BufferSpec::zeros(64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (i, x) in s.iter().enumerate() {
        let want = (1.5 - x).max(0.0) + (2.0 - x).max(0.0) + 200.0 + (i as f32 + 1.0) * 1000.0;
        assert_eq!(got[i], want, "out[{i}]");
    }
}

/// A member function storing 8-bit members of an object that is the
/// thread's own (`p.gray(v)` on a local copy) rewrites its words in place;
/// `Pixel q(p)` copies. Run on the adapter against a Rust reference.
#[test]
fn member_functions_store_narrow_members_of_local_objects() {
    let source = r#"
struct Pixel {
    unsigned char r, g, b, a;
    __device__ void gray(unsigned char v) { r = v; g = v; b = v; }
};
__global__ void shade_copy(const Pixel *px, int *out) {
    int i = threadIdx.x;
    Pixel p = px[i];
    p.gray(i * 9);
    Pixel q(p);
    out[i] = q.r + q.g * 256 + q.a * 65536;
}
"#;
    let out =
        common::compile_as("pixels.cu", source, "shade_copy").unwrap_or_else(|e| panic!("{e}"));
    let px: Vec<u8> = (0..64u32 * 4).map(|b| (b * 7 % 256) as u8).collect();
    let Some(got) = common::run_block::<i32>(&out, 64, &[("px", 64, px.clone())], ("out", 64))
    else {
        return;
    };
    for i in 0..64 {
        let v = (i * 9 % 256) as i32;
        let a = i32::from(px[4 * i + 3]);
        assert_eq!(got[i], v + v * 256 + a * 65536, "out[{i}]");
    }
}

/// HeCBench's logic-rewrite hash tables: a class template's static member
/// function called with the class's arguments (`HashTable<K, V>::
/// empty_key()`), a `constexpr` function with no `__device__` (callable
/// from kernels under nvcc's `--expt-relaxed-constexpr`) choosing with `if
/// constexpr`, and a constant variable template initialised by a call of
/// it (`EMPTY_KEY<K, V>`), inside a kernel template. Run on the adapter
/// against a Rust reference.
#[test]
fn class_template_statics_constexpr_functions_and_variable_templates() {
    let source = r#"
#include <type_traits>
typedef unsigned int u32;
typedef unsigned long long u64;
template <typename K, typename V>
struct Table {
    __host__ __device__ static constexpr K empty_key() {
        if (std::is_same<K, u32>::value) return 0xFFFFFFF0u;
        else return 0x7FFFFFFFu;
    }
};
template <typename K, typename V>
constexpr K table_empty_key() {
    if constexpr (std::is_same<K, u32>::value || std::is_same<K, u64>::value)
        return Table<K, V>::empty_key();
    else
        return -1;
}
template <typename K, typename V>
const K EMPTY_KEY = table_empty_key<K, V>();
template <int N>
const int TWICE = 2 * N;

template <typename K, typename V>
__global__ void clear(K *keys, V *values) {
    int i = threadIdx.x;
    if (keys[i] == EMPTY_KEY<K, V>) values[i] = TWICE<21>;
    else values[i] = (V)(keys[i] % 7u);
}
void host(u32 *k, int *v) { clear<<<1, 64>>>(k, v); }
"#;
    let out = common::compile_as("tables.cu", source, "clear").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("fn Table__empty_key_u32__int() -> u32 {"),
        "{}",
        out.wgsl
    );
    let keys: Vec<u32> = (0..64u32)
        .map(|i| if i % 3 == 0 { 0xFFFF_FFF0 } else { i * 5 })
        .collect();
    let Some(got) = common::run_block::<i32>(
        &out,
        64,
        &[("keys", 64, bytemuck::cast_slice(&keys).to_vec())],
        ("values", 64),
    ) else {
        return;
    };
    for (i, k) in keys.iter().enumerate() {
        let want = if *k == 0xFFFF_FFF0 {
            42
        } else {
            (k % 7) as i32
        };
        assert_eq!(got[i], want, "values[{i}]");
    }
}

/// HeCBench's aobench: a functor object's `operator()(void)` called as
/// `rng()` on a local and on a reference parameter (C's `(void)` is no
/// parameter; the callee changes the caller's object, so the reference is
/// passed as a pointer, as is one whose method is called), and mf-sgd's
/// `__ldg(&r[i].rate)` of a struct buffer's member. Run on the adapter
/// against a Rust reference.
#[test]
fn functors_references_and_loads_of_members() {
    let source = r#"
struct Rating { int u; float rate; };
struct RNG {
    unsigned int x;
    __device__ RNG(unsigned int seed) { x = seed; }
    __device__ int next() { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return int(x & 0xffu); }
    __device__ float operator()(void) { return next() / 256.0f; }
};
__device__ float two(RNG &rng) { return rng() + rng(); }
__device__ void skip(RNG &rng) { rng.next(); }
__global__ void k(const Rating *r, float *out) {
    int i = threadIdx.x;
    RNG rng(i + 1);
    float a = rng();
    float b = two(rng);
    skip(rng);
    float c = rng();
    out[i] = a + 10.0f * b + 100.0f * c + __ldg(&r[i].rate) * __ldg(&r[i].u);
}
void host(Rating *r, float *o) { k<<<1, 64>>>(r, o); }
"#;
    let out = common::compile_as("functors.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("fn two(rng: ptr<function, RNG>) -> f32 {")
            && out.wgsl.contains("fn skip(rng: ptr<function, RNG>) {"),
        "{}",
        out.wgsl
    );
    let mut bytes = Vec::new();
    for i in 0..64i32 {
        bytes.extend_from_slice(&(i % 7).to_le_bytes());
        bytes.extend_from_slice(&(i as f32 * 0.25).to_le_bytes());
    }
    let Some(got) = common::run_block::<f32>(&out, 64, &[("r", 64, bytes)], ("out", 64)) else {
        return;
    };
    for (i, got) in got.iter().enumerate() {
        let mut x = i as u32 + 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x & 0xff) as f32 / 256.0
        };
        let a = next();
        let b = next() + next();
        next();
        let c = next();
        let want = a + 10.0 * b + 100.0 * c + (i as f32 * 0.25) * (i % 7) as f32;
        assert!(
            (got - want).abs() <= 1e-4 * want.abs().max(1.0),
            "out[{i}]: {got} vs {want}"
        );
    }
}

/// A variable template defined through itself (`const A LOOP = LOOP<A>;`,
/// which nvcc rejects) is an error at its use, not an endless expansion
/// (it overflowed the transpiler's stack when first written).
#[test]
fn a_variable_template_defined_through_itself_is_refused() {
    let source = "template <typename A> const A LOOP = LOOP<A>;\n\
                  template <typename A> const A PING = PONG<A> + 1;\n\
                  template <typename A> const A PONG = PING<A> + 1;\n\
                  __global__ void k(int *x) { x[0] = LOOP<int>; x[1] = PING<int>; }\n\
                  void host(int *x) { k<<<1, 1>>>(x); }\n";
    let err = common::compile_as("loop.cu", source, "k").expect_err("refused");
    assert!(
        err.contains("variable template `LOOP<A>` is defined through itself"),
        "{err}"
    );
    // Through another: PING<int> → PONG<int> → PING<A> → PONG<A> again.
    assert!(
        err.contains("variable template `PONG<A>` is defined through itself"),
        "{err}"
    );
}

/// `Comparator::compare(x, y)` with `Comparator` a template type parameter
/// bound to a struct (`Max`) or a class template instance (`LessThan<int>`,
/// HeCBench collision's warp bitonic sort): the static method of the type
/// it is bound to. On lavapipe against Rust.
#[test]
fn static_methods_called_through_a_template_parameter() {
    let source = r#"
template <typename T>
struct LessThan { static __device__ bool compare(const T a, const T b) { return a < b; } };
struct Max { static __device__ int pick(int a, int b) { return a > b ? a : b; } };
template <typename T, typename Comparator>
__device__ T smaller(T x, T y) { return Comparator::compare(x, y) ? x : y; }
template <typename P>
__device__ int chosen(int x, int y) { return P::pick(x, y); }
__global__ void order(const int *a, const int *b, int *out) {
    int i = threadIdx.x;
    out[2 * i] = smaller<int, LessThan<int>>(a[i], b[i]);
    out[2 * i + 1] = chosen<Max>(a[i], b[i]);
}
"#;
    let out = common::compile_as("cmp.cu", source, "order").unwrap_or_else(|e| panic!("{e}"));
    let a: Vec<i32> = (0..32).map(|i| (i * 7) % 11 - 5).collect();
    let b: Vec<i32> = (0..32).map(|i| (i * 5) % 13 - 6).collect();
    let Some(got) = common::run_block::<i32>(
        &out,
        32,
        &[
            ("a", 32, bytemuck::cast_slice(&a).to_vec()),
            ("b", 32, bytemuck::cast_slice(&b).to_vec()),
        ],
        ("out", 64),
    ) else {
        return;
    };
    for i in 0..32 {
        assert_eq!(
            &got[2 * i..2 * i + 2],
            &[a[i].min(b[i]), a[i].max(b[i])],
            "thread {i}"
        );
    }
}

/// A member type named bare in the struct's member functions (`using
/// acc_t = Acc;` in HeCBench rowwiseMoments' `WelfordOps`) is that type,
/// in a class template's instance too.
#[test]
fn member_types_named_bare_in_methods() {
    let source = r#"
struct Acc { float sum; int n; };
template <typename T>
struct Ops {
  using acc_t = Acc;
  __device__ acc_t add(acc_t a, T x) const { acc_t r; r.sum = a.sum + x; r.n = a.n + 1; return r; }
};
__global__ void k(const float *x, float *out) {
  Ops<float> ops;
  Acc a; a.sum = 0.0f; a.n = 0;
  a = ops.add(a, x[threadIdx.x]);
  a = ops.add(a, 1.5f);
  out[threadIdx.x] = a.sum * a.n;
}
"#;
    let out = common::compile_as("ops.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let x: Vec<f32> = (0..32).map(|i| i as f32 - 3.0).collect();
    let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[("x", 32, bytemuck::cast_slice(&x).to_vec())],
        ("out", 32),
    ) else {
        return;
    };
    for (v, x) in got.iter().zip(&x) {
        assert_eq!(*v, (x + 1.5) * 2.0);
    }
}

/// A conversion operator (`operator int() const`, HeCBench idivide's
/// `int_fastdiv`), written after CUDA's attributes, where the grammar
/// reads a function `int()` of type `operator`: `(int)d` calls it, and a
/// free `operator/` taking the class is the division C++ calls.
const CONVERSION: &str = r#"
class fastdiv {
public:
  __host__ __device__ fastdiv(int d) : d_(d) {}
  __host__ __device__ __forceinline__ operator int() const { return d_; }
  int d_;
};
__host__ __device__ __forceinline__ int operator/(const int n, const fastdiv &d) { return n / d.d_ + 1000; }
__global__ void divide(fastdiv d, int *out) {
  int n = threadIdx.x * 7;
  out[threadIdx.x] = n / (int)d * 10000 + n / d;
}
"#;

#[test]
fn conversion_operators_are_called_for_casts() {
    let out = common::compile_as("conv.cu", CONVERSION, "divide").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("fn fastdiv__operatorint"), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "d",
            cudalens_gpu::BufferSpec::bytes(1, 3i32.to_le_bytes().to_vec()),
        )
        .with_buffer("out", cudalens_gpu::BufferSpec::zeros(32));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (t, g) in got.iter().enumerate() {
        let n = t as i32 * 7;
        assert_eq!(*g, n / 3 * 10000 + n / 3 + 1000, "thread {t}");
    }
}
