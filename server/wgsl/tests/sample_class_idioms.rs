//! Class idioms of the CUDA samples' Monte Carlo and template programs,
//! pinned on our own kernels: a kernel launched only from a member of a
//! class template that the file instantiates explicitly (`template class
//! PiEstimator<float>;`, MC_EstimatePiP), an enum nested in a class
//! template read through an instance (`AsianOption<Real>::Put`,
//! MC_SingleAsianOptionP), and the samples' two other `SharedMemory<T>`
//! structs, objects whose `getPointer()` or `operator[]` hand out the
//! block's dynamic shared memory (simpleTemplates, the Monte Carlo
//! samples' `BUILD_SHAREDMEMORY_TYPE` macro). Each runs on a real adapter
//! (lavapipe here) against a Rust reference.

mod common;

/// The option's payoff kernel, launched only from the engine's
/// `operator()`, a member of a class template instantiated at the end.
const ENGINE: &str = r#"
template <typename Real> struct Option {
  enum CallPut { Call, Put };
  Real strike;
  CallPut type;
};
template <typename Real>
__global__ void payoff(Real *values, const Option<Real> *option) {
  int i = threadIdx.x;
  Real p = values[i] - option->strike;
  if (option->type == Option<Real>::Put) p = -p;
  values[i] = p > 0 ? p : 0;
}
template <typename Real> class Engine {
 public:
  void operator()(Real *v, Option<Real> *o);
};
template <typename Real> void Engine<Real>::operator()(Real *v, Option<Real> *o) {
  payoff<<<1, 32>>>(v, o);
}
template class Engine<float>;
template class Engine<double>;
"#;

#[test]
fn an_explicit_class_instantiation_gives_a_member_s_launch_its_arguments() {
    let out = common::compile_as("engine.cu", ENGINE, "payoff").unwrap_or_else(|e| panic!("{e}"));
    // The first instantiation, as for an explicit function instantiation.
    assert!(
        out.wgsl.contains("Template instantiation: payoff<float>"),
        "{}",
        out.wgsl
    );
    let values: Vec<f32> = (0..32).map(|i| i as f32 - 10.0).collect();
    for (kind, sign) in [(0i32, 1.0f32), (1, -1.0)] {
        // `Option<float>`: strike at 0, the enum (an `int`) at 4.
        let option: Vec<u8> = [2.5f32.to_le_bytes(), kind.to_le_bytes()].concat();
        let Some(got) = common::run_block::<f32>(
            &out,
            32,
            &[
                ("values", 32, bytemuck::cast_slice(&values).to_vec()),
                ("option", 1, option),
            ],
            ("values", 32),
        ) else {
            return;
        };
        for (i, v) in got.iter().enumerate() {
            let want = (sign * (values[i] - 2.5)).max(0.0);
            assert_eq!(*v, want, "type {kind}, thread {i}");
        }
    }
}

#[test]
fn an_enumerator_whose_value_depends_on_the_template_is_refused() {
    // `sizeof(T)` is unknown in the class template's own definition: `B`
    // (counted on from it) must not get the value counted from 0.
    let src = r#"
template <typename T> struct Sized { enum { A = sizeof(T), B }; T v; };
__global__ void k(int *out) { out[threadIdx.x] = Sized<double>::B; }
"#;
    let e = common::compile_as("sized.cu", src, "k").expect_err("B's value is unknown");
    assert!(e.contains("unknown identifier `Sized<double>::B`"), "{e}");
}

/// simpleTemplates' accessor: specializations per type whose
/// `getPointer()` returns an `extern __shared__` array.
const GET_POINTER: &str = r#"
template <typename T> struct SharedMemory {
  __device__ T *getPointer() { extern __device__ void error(void); error(); return NULL; }
};
template <> struct SharedMemory<int> {
  __device__ int *getPointer() { extern __shared__ int s_int[]; return s_int; }
};
template <> struct SharedMemory<float> {
  __device__ float *getPointer() { extern __shared__ float s_float[]; return s_float; }
};
template <class T>
__global__ void reverse(const T *in, T *out) {
  SharedMemory<T> smem;
  T *sdata = smem.getPointer();
  const unsigned int tid = threadIdx.x;
  sdata[tid] = in[tid];
  __syncthreads();
  out[tid] = sdata[blockDim.x - 1 - tid] * (T)2;
}
int main() { float *a, *b; reverse<float><<<1, 32, 32 * sizeof(float)>>>(a, b); }
"#;

/// The Monte Carlo samples' accessor: `operator[]` and `operator*`
/// written by a macro with line continuations.
const SUBSCRIPT: &str = r#"
template <typename T> struct SharedMemory {
  virtual __device__ T &operator*() = 0;
  virtual __device__ T &operator[](int i) = 0;
};
#define BUILD_SHAREDMEMORY_TYPE(t, n)   \
    template <> struct SharedMemory<t>  \
    {                                   \
        __device__ t &operator*()       \
        {                               \
            extern __shared__ t n[];    \
            return *n;                  \
        }                               \
        __device__ t &operator[](int i) \
        {                               \
            extern __shared__ t n[];    \
            return n[i];                \
        }                               \
    }
BUILD_SHAREDMEMORY_TYPE(int, s_int);
BUILD_SHAREDMEMORY_TYPE(float, s_float);
template <typename Real>
__device__ Real block_sum(Real in) {
  SharedMemory<Real> sdata;
  unsigned int t = threadIdx.x;
  sdata[t] = in;
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) sdata[t] += sdata[t + s];
    __syncthreads();
  }
  return *sdata;
}
__global__ void sums(const float *in, float *out) {
  out[threadIdx.x] = block_sum(in[threadIdx.x]);
}
"#;

/// `out` over one block of 32 threads with 32 floats of dynamic shared
/// memory, `in` given; `out`'s elements, or `None` where GPU tests are skipped.
fn run_with_shared(out: &cudalens_wgsl::TranspileOutput, input: &[f32]) -> Option<Vec<f32>> {
    use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};
    let mut guard = common::gpu_runner()?;
    let runner = guard.as_mut()?;
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(32, bytemuck::cast_slice(input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(32));
    bench.launch.dynamic_shared_bytes = 32 * 4;
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    Some(bytemuck::pod_collect_to_vec(
        &result.output("out").expect("out").bytes,
    ))
}

#[test]
fn shared_memory_objects_hand_out_the_dynamic_shared_memory() {
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 1.5).collect();
    let reversed = common::compile_as("templates.cu", GET_POINTER, "reverse")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        reversed.wgsl.contains("var<workgroup>"),
        "{}",
        reversed.wgsl
    );
    let Some(got) = run_with_shared(&reversed, &input) else {
        return;
    };
    for (i, v) in got.iter().enumerate() {
        assert_eq!(*v, input[31 - i] * 2.0, "thread {i}");
    }
    let sums = common::compile_as("sums.cu", SUBSCRIPT, "sums").unwrap_or_else(|e| panic!("{e}"));
    let Some(got) = run_with_shared(&sums, &input) else {
        return;
    };
    let total: f32 = input.iter().sum();
    assert!(got.iter().all(|v| *v == total), "{got:?} vs {total}");
}
