//! Member operators called where C++ takes the object's address, and
//! overloads chosen by C++'s partial ordering, as HeCBench collision's
//! warp sort uses them (`LessThan<Pair<K, V>>::compare(x, y) == dir`,
//! `shfl_xor(const Pair<K, V> &p, ...)` beside `shfl_xor(const T val,
//! ...)`), and the silent miscompile found on the way: a device function
//! first lowered on trial (inside `a == b` of a file with a member
//! `operator==`) failed, its messages were dropped with the trial, and the
//! kernel called the broken body (`return 0;`). HeCBench frna's
//! `calc_V_bulge_internal` and prna's `calc_internal` were compiled so.
//! Our own kernels, run on a real adapter (lavapipe here).

mod common;

/// The warp's pairs sorted by a comparator template, each lane's pair
/// swapped with its neighbour's when the comparison says so.
const SWAP: &str = r#"
template <typename K, typename V>
struct Pair {
  __host__ __device__ __forceinline__ Pair() {}
  __host__ __device__ __forceinline__ Pair(K key, V value) : k(key), v(value) {}
  __host__ __device__ __forceinline__ bool
  operator==(const Pair<K, V>& rhs) const { return (k == rhs.k) && (v == rhs.v); }
  __host__ __device__ __forceinline__ bool
  operator<(const Pair<K, V>& rhs) const { return (k < rhs.k) || ((k == rhs.k) && (v < rhs.v)); }
  K k;
  V v;
};
template <typename T>
struct LessThan {
  static __device__ __forceinline__ bool compare(const T lhs, const T rhs) { return (lhs < rhs); }
};
template <typename T>
__device__ __forceinline__ T shfl_xor(const T val, int laneMask) {
  return __shfl_xor_sync(0xffffffff, val, laneMask, 32);
}
template <typename K, typename V>
__device__ __forceinline__ Pair<K, V> shfl_xor(const Pair<K, V>& p, int laneMask) {
  return Pair<K, V>(shfl_xor(p.k, laneMask), __shfl_xor_sync(0xffffffff, p.v, laneMask, 32));
}
template <typename T, typename Comparator>
__device__ T shflSwap(const T x, int mask, int dir) {
  T y = shfl_xor(x, mask);
  return Comparator::compare(x, y) == dir ? y : x;
}
__global__ void swap_pairs(const int *keys, int *out) {
  int lane = threadIdx.x;
  Pair<int, bool> p(keys[lane], lane & 1);
  p = shflSwap<Pair<int, bool>, LessThan<Pair<int, bool> > >(p, 1, lane & 1);
  out[lane] = p.k * 2 + p.v;
}
"#;

#[test]
fn member_operators_and_the_more_specialized_overload_are_called() {
    let opts = cudalens_wgsl::TranspileOptions {
        subgroups: true,
        source_name: Some("collision.cu".into()),
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(SWAP, "swap_pairs", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    // `shfl_xor` of the pair, not the bare template on a struct.
    assert!(out.wgsl.contains("fn shfl_xor_int_bool_("), "{}", out.wgsl);
    let keys: Vec<i32> = (0..32).map(|i| (i * 7) % 5).collect();
    {
        let Some(mut guard) = common::gpu_runner() else {
            return;
        };
        let Some(runner) = guard.as_mut() else { return };
        let report = runner.adapter().expect("adapter report");
        // Neighbours (`lane ^ 1`) must share a subgroup.
        if !report.features.subgroup || report.subgroup_min_size < 2 {
            eprintln!("adapter {}: no subgroups, not executed", report.name);
            return;
        }
    }
    let Some(got) = common::run_block::<i32>(
        &out,
        32,
        &[("keys", 32, bytemuck::cast_slice(&keys).to_vec())],
        ("out", 32),
    ) else {
        return;
    };
    for lane in 0..32usize {
        let own = (keys[lane], lane & 1 == 1);
        let other = (keys[lane ^ 1], (lane ^ 1) & 1 == 1);
        let less = own.0 < other.0 || (own.0 == other.0 && !own.1 & other.1);
        let dir = (lane & 1) as i32;
        let (k, v) = if i32::from(less) == dir { other } else { own };
        assert_eq!(got[lane], k * 2 + i32::from(v), "lane {lane}");
    }
}

#[test]
fn a_callee_that_failed_while_lowered_on_trial_stays_refused() {
    // `pick(t, d) == 3` is first lowered on trial (the file defines a
    // member `operator==`): `pick` cannot be compiled (its pointer chooses
    // between two arrays), and must be reported, not called as `return 0`.
    let src = r#"
struct Key {
  int a, b;
  __device__ bool operator==(const Key &o) const { return a == o.a && b == o.b; }
};
struct Table { int small[4]; int large[4]; };
__device__ int pick(const Table *t, int d) {
  const int *row;
  if (d == 1) row = &t->small[0];
  else row = &t->large[0];
  return row[d];
}
__global__ void k(const Table *t, int *out) {
  int d = threadIdx.x % 4;
  out[threadIdx.x] = pick(t, d) == 3;
}
"#;
    let e = common::compile_as("pick.cu", src, "k").expect_err("pick cannot be compiled");
    assert!(e.contains("pointer `row`"), "{e}");
}
