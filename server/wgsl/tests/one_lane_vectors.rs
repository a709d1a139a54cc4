//! CUDA's 1-lane vectors (`uchar1`, `float1`: a scalar read as `.x`) and
//! the overloads HeCBench histogram picks among by them: `DecodePixel`
//! templates that differ in a written parameter type (`uchar1`, `uchar4`,
//! `float4 &`), with a value parameter deduced from the extent of an array
//! reference (`unsigned (&bins)[N]`). Our own kernels, run on a real
//! adapter (lavapipe here) against a Rust reference.

mod common;

const HISTOGRAM: &str = r#"
template <int NUM_BINS, int CHANNELS>
__device__ void Decode(float4 &pixel, unsigned int (&bins)[CHANNELS]) {
  float samples[4] = {pixel.x, pixel.y, pixel.z, pixel.w};
  for (int c = 0; c < CHANNELS; ++c) bins[c] = (unsigned int)(samples[c] * float(NUM_BINS));
}
template <int NUM_BINS, int CHANNELS>
__device__ void Decode(uchar4 pixel, unsigned int (&bins)[CHANNELS]) {
  unsigned char samples[4] = {pixel.x, pixel.y, pixel.z, pixel.w};
  for (int c = 0; c < CHANNELS; ++c) bins[c] = (unsigned int)(samples[c]) % NUM_BINS;
}
template <int NUM_BINS, int CHANNELS>
__device__ void Decode(uchar1 pixel, unsigned int (&bins)[CHANNELS]) {
  bins[0] = (unsigned int)pixel.x % NUM_BINS;
}
template <int NUM_BINS, typename PixelType>
__global__ void histogram(const PixelType *in, unsigned int *out, float1 *scale) {
  PixelType pixel = in[threadIdx.x];
  unsigned int bins[1];
  Decode<NUM_BINS>(pixel, bins);
  atomicAdd(&out[bins[0]], 1);
  float1 half_pixel = make_float1(pixel.x * 0.5f);
  scale[threadIdx.x].x = half_pixel.x;
}
int main() { uchar1 *in; unsigned *out; float1 *s; histogram<16><<<1, 64>>>(in, out, s); }
"#;

#[test]
fn one_lane_vectors_pick_their_overload_and_read_as_scalars() {
    let out = common::compile_as("histogram.cu", HISTOGRAM, "histogram")
        .unwrap_or_else(|e| panic!("{e}"));
    // The `uchar1` overload, with `CHANNELS` deduced as 1 from `bins`.
    assert!(
        out.wgsl.contains("fn Decode_1_16(pixel_in: i32"),
        "{}",
        out.wgsl
    );
    assert!(!out.wgsl.contains("vec4<f32>"), "{}", out.wgsl);
    let pixels: Vec<u8> = (0..64u32).map(|i| (i * 37 % 251) as u8).collect();
    let Some(got) = common::run_block::<u32>(
        &out,
        64,
        &[("in", 64, pixels.clone()), ("scale", 64, vec![0; 256])],
        ("out", 16),
    ) else {
        return;
    };
    let mut want = [0u32; 16];
    for p in &pixels {
        want[usize::from(*p) % 16] += 1;
    }
    assert_eq!(got, want);
    let Some(halves) = common::run_block::<f32>(
        &out,
        64,
        &[("in", 64, pixels.clone()), ("out", 16, vec![0; 64])],
        ("scale", 64),
    ) else {
        return;
    };
    let want: Vec<f32> = pixels.iter().map(|p| f32::from(*p) * 0.5).collect();
    assert_eq!(halves, want);
}
