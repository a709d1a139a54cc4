//! Headers cudalens carries itself, for library types real kernels use by
//! value whose own headers are out of reach (no toolkit on the include
//! path) or beyond the front end (CCCL's `thrust/complex.h` is thousands
//! of lines of traits). An include that no directory resolves falls back
//! to one of these, so `thrust::complex<float>` is a class template of the
//! file (`model/class_instances.rs`) like any the user writes.
//!
//! Each text is written here from the library's documented interface, not
//! copied from it, and keeps to what its documentation promises for finite
//! values (thrust's `complex` product is the textbook one:
//! `(a·c − b·d, a·d + b·c)`). What a text leaves out is unknown to the
//! transpiler, never guessed: a call to it is an unknown function.

use std::path::{Path, PathBuf};

/// Where a built-in header seems to live: no directory on disk (the angle
/// brackets make sure), so a path never collides with a real file.
const ROOT: &str = "<cudalens>";

/// The headers, by the name an `#include` writes.
const HEADERS: &[(&str, &str)] = &[("thrust/complex.h", THRUST_COMPLEX)];

/// The built-in header `#include <name>` falls back to, as a path.
pub fn find(name: &str) -> Option<PathBuf> {
    HEADERS
        .iter()
        .any(|(n, _)| *n == name)
        .then(|| Path::new(ROOT).join(name))
}

/// The text of the built-in header at `path` (what [`find`] gave).
pub fn text(path: &Path) -> Option<&'static str> {
    let name = path.strip_prefix(ROOT).ok()?;
    HEADERS
        .iter()
        .find(|(n, _)| Path::new(n) == name)
        .map(|(_, text)| *text)
}

/// `thrust::complex<T>`: a value of two `T`s (C++'s `std::complex`
/// layout), its arithmetic, `real`/`imag`, `conj`, `norm`, `abs`, `arg`
/// and `polar`. Division is left out (thrust scales it to avoid overflow;
/// an unscaled quotient would differ near the range's ends).
const THRUST_COMPLEX: &str = r#"#pragma once
namespace thrust {
template <typename T>
struct complex {
  T re_;
  T im_;
  __host__ __device__ complex(const T &re = T(), const T &im = T()) : re_(re), im_(im) {}
  __host__ __device__ T real() const { return re_; }
  __host__ __device__ T imag() const { return im_; }
  __host__ __device__ void real(T re) { re_ = re; }
  __host__ __device__ void imag(T im) { im_ = im; }
  __host__ __device__ complex &operator+=(const complex &z) { re_ = re_ + z.re_; im_ = im_ + z.im_; return *this; }
  __host__ __device__ complex &operator-=(const complex &z) { re_ = re_ - z.re_; im_ = im_ - z.im_; return *this; }
  __host__ __device__ complex &operator*=(const complex &z) {
    T re = re_ * z.re_ - im_ * z.im_;
    im_ = re_ * z.im_ + im_ * z.re_;
    re_ = re;
    return *this;
  }
  friend __host__ __device__ complex operator+(const complex &a, const complex &b) { return complex(a.re_ + b.re_, a.im_ + b.im_); }
  friend __host__ __device__ complex operator+(const complex &a, const T &b) { return complex(a.re_ + b, a.im_); }
  friend __host__ __device__ complex operator+(const T &a, const complex &b) { return complex(a + b.re_, b.im_); }
  friend __host__ __device__ complex operator-(const complex &a, const complex &b) { return complex(a.re_ - b.re_, a.im_ - b.im_); }
  friend __host__ __device__ complex operator-(const complex &a, const T &b) { return complex(a.re_ - b, a.im_); }
  friend __host__ __device__ complex operator-(const T &a, const complex &b) { return complex(a - b.re_, -b.im_); }
  friend __host__ __device__ complex operator-(const complex &a) { return complex(-a.re_, -a.im_); }
  friend __host__ __device__ complex operator*(const complex &a, const complex &b) { return complex(a.re_ * b.re_ - a.im_ * b.im_, a.re_ * b.im_ + a.im_ * b.re_); }
  friend __host__ __device__ complex operator*(const complex &a, const T &b) { return complex(a.re_ * b, a.im_ * b); }
  friend __host__ __device__ complex operator*(const T &a, const complex &b) { return complex(a * b.re_, a * b.im_); }
  friend __host__ __device__ complex operator/(const complex &a, const T &b) { return complex(a.re_ / b, a.im_ / b); }
  friend __host__ __device__ bool operator==(const complex &a, const complex &b) { return a.re_ == b.re_ && a.im_ == b.im_; }
  friend __host__ __device__ bool operator!=(const complex &a, const complex &b) { return a.re_ != b.re_ || a.im_ != b.im_; }
  friend __host__ __device__ complex conj(const complex &z) { return complex(z.re_, -z.im_); }
  friend __host__ __device__ T norm(const complex &z) { return z.re_ * z.re_ + z.im_ * z.im_; }
  friend __host__ __device__ T abs(const complex &z) { return hypot(z.re_, z.im_); }
  friend __host__ __device__ T arg(const complex &z) { return atan2(z.im_, z.re_); }
};
template <typename T>
__host__ __device__ complex<T> polar(const T &m, const T &theta = T()) { return complex<T>(m * cos(theta), m * sin(theta)); }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_header_has_its_text() {
        let path = find("thrust/complex.h").expect("carried");
        assert!(text(&path).is_some_and(|t| t.contains("struct complex")));
        assert_eq!(find("thrust/sort.h"), None);
        assert_eq!(text(Path::new("thrust/complex.h")), None);
    }
}
