//! A template parameter deduced from a literal argument of the launch
//! (`cross_kernel<<<g, b>>>(n, d_o, d_a, d_b, 1, 1, 1)` with `StrideType
//! ostride`: HeCBench's cross): C++ gives `1` the type `int`, `1.0f`
//! `float`, `2.0` `double`, `1u` `unsigned int`; the other parameters come
//! through the host template `eval<float>` as before.

mod common;

use cudalens_wgsl::TranspileOptions;

const SOURCE: &str = r#"
template <typename T, typename StrideType, typename Scale>
__global__ void strided(int n, T *out, const T *x, StrideType stride, Scale scale) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        out[i * stride] = x[i * stride] * scale;
}
template <typename T>
void eval(int n) {
    T *d_o, *d_x;
    strided<<<4, 256>>>(n, d_o, d_x, 1, 2.0f);
    strided<<<4, 256>>>(n, d_o, d_x, 1u, -2.0);
}
int main() { eval<float>(1024); }
"#;

#[test]
fn literal_arguments_give_their_cpp_types() {
    let opts = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(SOURCE, "strided", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("array<f32>"),
        "T from eval<float>:\n{}",
        out.wgsl
    );
    // The first launch: an `int` stride and a `float` scale.
    assert!(out.wgsl.contains("stride: i32"), "{}", out.wgsl);
    assert!(out.wgsl.contains("scale: f32"), "{}", out.wgsl);
}
