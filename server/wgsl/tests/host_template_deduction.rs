//! Template arguments of a kernel launched in a host template that is
//! itself only instantiated explicitly, without template arguments, by
//! the parameter types it spells (`template vector<float> eigen(const
//! csr<float> &m, int k);`), and reached through a parameter of class
//! template type (`const csr<T> &m`): the pattern of HeCBench's lanczos,
//! with our own kernel.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

const SOURCE: &str = r#"
template <typename T> struct csr { T *values; int rows; };
template <typename T> struct vec { T *data; };

template <typename T>
__global__ void scale_kernel(const int n, T *x, T a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] * a + (T)0.5;
}

template <typename T>
void device_scale(int n, T *x) { scale_kernel<T><<<(n + 63) / 64, 64>>>(n, x, (T)2); }

template <typename T>
void step(const csr<T> &m) { T *x = m.values; device_scale(m.rows, x); }

template <typename T>
vec<T> eigen(const csr<T> &matrix, int k) { step(matrix); return vec<T>(); }

template vec<double> eigen(const csr<double> &matrix, int k);
"#;

#[test]
fn arguments_come_from_an_explicit_instantiation_through_class_template_parameters() {
    let opts = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(SOURCE, "scale_kernel", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(out.sidecar.instantiation, vec!["double"]);
    assert!(out.wgsl.contains("array<f64>"), "{}", out.wgsl);

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner.adapter().is_ok_and(|a| a.features.shader_f64) {
        return;
    }
    let x: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.25 - 7.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(0, ParamValue::Scalar(100.0))
        .with_arg(2, ParamValue::Scalar(3.0))
        .with_buffer(
            "x",
            BufferSpec::bytes(100, bytemuck::cast_slice(&x).to_vec()),
        );
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f64> = bytemuck::pod_collect_to_vec(&result.output("x").expect("x").bytes);
    let want: Vec<f64> = x.iter().map(|v| v * 3.0 + 0.5).collect();
    assert_eq!(got, want);
}

/// Without the explicit instantiation nothing gives `T`: the kernel is
/// refused with the reason, not compiled for the literal name `T`.
#[test]
fn without_an_instantiation_the_parameter_has_no_argument() {
    let source = SOURCE.replace(
        "template vec<double> eigen",
        "// template vec<double> eigen",
    );
    let err = common::compile(&source, "scale_kernel", &TranspileOptions::default())
        .expect_err("no argument");
    assert!(
        err.iter()
            .any(|d| d.message.contains("template parameter `T` has no argument")),
        "{err:#?}"
    );
}

/// A launching function's own type alias (`using scalar_t = float;` in
/// `main`, quant3MatMul's pattern) names the type it aliases, through a
/// host template that deduces from a `scalar_t *` argument.
#[test]
fn a_callers_local_alias_is_the_type_it_names() {
    let source = r#"
template <typename scalar_t>
__global__ void halve(scalar_t *x, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] / (scalar_t)2;
}
template <typename scalar_t>
void run(scalar_t *x, int n) { halve<<<(n + 63) / 64, 64>>>(x, n); }
int main() {
    using scalar_t = float;
    scalar_t *d_x;
    run(d_x, 100);
}
"#;
    let out = common::compile(source, "halve", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(out.sidecar.instantiation, vec!["float"]);
    let x: Vec<f32> = (0..64).map(|i| i as f32 - 7.0).collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(1, ParamValue::Scalar(64.0))
        .with_buffer(
            "x",
            BufferSpec::bytes(64, bytemuck::cast_slice(&x).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("x").expect("x").bytes);
    let want: Vec<f32> = x.iter().map(|v| v / 2.0).collect();
    assert_eq!(got, want);
}

/// HeCBench's logic-rewrite: a kernel launched from a member function of
/// a class template defined outside the class (`template <typename K,
/// typename V> void Table<K, V>::insert(...)`), called on an object whose
/// declared type gives the class's arguments (`Table<unsigned, short>
/// t; t.insert(...)`).
#[test]
fn arguments_come_from_the_object_a_class_template_method_is_called_on() {
    let source = r#"
template <typename K, typename V>
__global__ void insert_kernel(K *keys, V *values, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) values[i] = (V)(keys[i] + 1);
}
template <typename K, typename V>
class Table {
public:
    K *keys; V *values;
    void insert(int n);
};
template <typename K, typename V>
void Table<K, V>::insert(int n) { insert_kernel<K, V><<<(n + 63) / 64, 64>>>(keys, values, n); }
int main() { Table<unsigned, float> t; t.insert(100); }
"#;
    let out = common::compile(source, "insert_kernel", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(out.sidecar.instantiation, vec!["unsigned int", "float"]);
    assert!(
        out.wgsl.contains("var<storage, read> keys: array<u32>;")
            && out
                .wgsl
                .contains("var<storage, read_write> values: array<f32>;"),
        "{}",
        out.wgsl
    );
}

/// HeCBench's miniFE: `axpy_kernel<VectorType>` takes `typename
/// VectorType::ScalarType` arguments; `axpy` is called with a `const
/// VectorType &` that `solve` passes on from `driver`'s `Vector<Scalar,
/// Ordinal> b`, and `driver` is called as `mini::driver<SCALAR, int>` with
/// `SCALAR` a macro. The kernel is compiled for `Vector<float, int>`, its
/// member type (`typedef Scalar ScalarType;`) read through the class
/// template's parameters. Run on the adapter against a Rust reference.
#[test]
fn member_types_of_class_template_instances_deduced_through_host_templates() {
    let source = r#"
#define SCALAR float
namespace mini {
template <typename Scalar, typename Ordinal>
struct Vector {
  typedef Scalar ScalarType;
  typedef Ordinal OrdinalType;
  Ordinal size;
};
template <typename VectorType>
__global__ void axpy_kernel(const typename VectorType::OrdinalType n,
                            const typename VectorType::ScalarType alpha,
                            const typename VectorType::ScalarType *x,
                            typename VectorType::ScalarType *y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += alpha * x[i];
}
template <typename VectorType>
void axpy(typename VectorType::ScalarType alpha, const VectorType &x, VectorType &y,
          typename VectorType::ScalarType *d_x, typename VectorType::ScalarType *d_y) {
  axpy_kernel<VectorType><<<(x.size + 63) / 64, 64>>>(x.size, alpha, d_x, d_y);
}
template <typename VectorType>
void solve(const VectorType &b, VectorType &x, typename VectorType::ScalarType *d) {
  axpy(1, b, x, d, d);
}
template <typename Scalar, typename Ordinal>
void driver(int n) {
  Vector<Scalar, Ordinal> b, x;
  Scalar *d;
  solve(b, x, d);
}
}
int main() { mini::driver<SCALAR, int>(100); }
"#;
    let out = common::compile(source, "axpy_kernel", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(out.sidecar.instantiation, vec!["Vector<float, int>"]);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let x: Vec<f32> = (0..100).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..100).map(|i| 100.0 - i as f32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(0, ParamValue::Scalar(100.0))
        .with_arg(1, ParamValue::Scalar(3.0))
        .with_buffer(
            "x",
            BufferSpec::bytes(100, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer(
            "y",
            BufferSpec::bytes(100, bytemuck::cast_slice(&y).to_vec()),
        );
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("y").expect("y").bytes);
    for i in 0..100 {
        assert_eq!(got[i], y[i] + 3.0 * x[i], "y[{i}]");
    }
}

/// HeCBench's miniFE `dot`: `typedef typename Vector::ScalarType Scalar;`
/// in the launching host template names the member type of the vector's
/// instance, not the file's own `Scalar` (here a `double`, in miniFE a
/// header's `typedef MINIFE_SCALAR Scalar;`).
#[test]
fn a_local_typedef_of_a_member_type_hides_the_files_type_of_that_name() {
    let source = r#"
typedef double Scalar;
template <typename S, typename O> struct Vec { typedef S ScalarType; O n; };
template <typename Scalar, int B>
__global__ void dot_kernel(int n, const Scalar *x, Scalar *d) {
  int i = threadIdx.x; if (i < n) d[i] = x[i] * (Scalar)B;
}
template <typename Vector>
void dot(const Vector &x, typename Vector::ScalarType *dx) {
  typedef typename Vector::ScalarType Scalar;
  const int BLOCK_SIZE = 256;
  Scalar *d;
  dot_kernel<Scalar, BLOCK_SIZE><<<1, BLOCK_SIZE>>>(x.n, dx, d);
}
int main() { Vec<float, int> v; float *p; dot(v, p); }
"#;
    let out = common::compile(source, "dot_kernel", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(out.sidecar.instantiation, vec!["float", "256"]);
    assert!(
        out.wgsl.contains("var<storage, read> x: array<f32>;"),
        "{}",
        out.wgsl
    );
}

/// A member type defined through itself (`typedef typename S<T>::X X;`,
/// which nvcc rejects) is an unknown type, not an endless lookup (it
/// overflowed the transpiler's stack when first written).
#[test]
fn a_member_type_defined_through_itself_is_unknown() {
    let source = "template <typename T> struct S { typedef typename S<T>::X X; };\n\
                  template <typename V> __global__ void k(typename V::X *x) { x[0] = 1; }\n\
                  void host() { k<S<int>><<<1, 1>>>(0); }\n";
    let diags = common::compile(source, "k", &TranspileOptions::default()).expect_err("refused");
    assert!(
        diags.iter().any(|d| d
            .message
            .contains("unknown or unsupported type `typename S<T>::X`")),
        "{diags:#?}"
    );
}

/// Local aliases of member types of class template specialisations
/// (`using T2 = typename TypeConverter<T>::Type;`, HeCBench's
/// addBiasResidualLayerNorm; `typedef typename Converter<T>::Scalar S;`),
/// with the kernel's arguments: on lavapipe against Rust.
#[test]
fn local_aliases_of_template_instances_take_the_kernels_arguments() {
    let source = r#"
template <typename T> struct Converter;
template <> struct Converter<float> { using Type = float2; typedef float Scalar; };
template <typename T>
__global__ void widen(const T *in, float *out) {
    using T2 = typename Converter<T>::Type;
    typedef typename Converter<T>::Scalar S;
    int i = threadIdx.x;
    T2 v = make_float2(in[i], 2.0f * in[i]);
    S lo = v.x, hi = v.y + 1.0f;
    out[i] = lo * 10.0f + hi;
}
template __global__ void widen<float>(const float *, float *);
"#;
    let out = common::compile_as("aliases.cu", source, "widen").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 0.25).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (i, x) in input.iter().enumerate() {
        assert_eq!(got[i], x * 10.0 + (2.0 * x + 1.0), "thread {i}");
    }
}

/// The launching template's constants see its own arguments: `BLOCK_Y`
/// folds `sizeof(T)` for the `run<double>` main calls (HeCBench tsa), a
/// local `enum` gives a constant (histogram's `enum { NUM_PARTS = 1024
/// }`), and the call sits in a range-based `for` (rmsnorm's loop over
/// block sizes).
const HOST_CONSTANTS: &str = r#"
template <typename T, int ROWS, int PARTS>
__global__ void fill(T *x) { x[threadIdx.x] = (T)(ROWS * 10000 + PARTS); }

template <typename T>
void run(T *x) {
  enum { NUM_PARTS = 1024, NEXT };
  const int BLOCK_Y = sizeof(T) == 8 ? 32 : 96;
  constexpr int UNROLL = sizeof(uint4) / sizeof(T);
  fill<T, BLOCK_Y + UNROLL, NEXT><<<1, 32>>>(x);
}

int main() {
  double *d;
  int sizes[] = {1, 2};
  for (int s : sizes) { run(d); }
}
"#;

#[test]
fn host_constants_fold_with_the_launching_templates_arguments() {
    let opts = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(HOST_CONSTANTS, "fill", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    // 32 rows for an 8-byte `T`, plus 16 / 8; `NEXT` follows 1024.
    assert_eq!(out.sidecar.instantiation, vec!["double", "34", "1025"]);
}

/// An instance named rather than called (`Run(t, run_smem<4, T>)` passes
/// it on as a function pointer) gives its template arguments as written.
#[test]
fn an_instance_passed_as_a_function_gives_its_arguments() {
    let source = r#"
template <int C>
__global__ void count(int *o) { o[threadIdx.x] = C; }
template <int C>
void run_count(int *o) { count<C><<<1, 32>>>(o); }
void Run(void (*f)(int *), int *o) { f(o); }
int main() { int *o; Run(run_count<7>, o); }
"#;
    let out = common::compile(source, "count", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(out.sidecar.instantiation, vec!["7"]);
}
