//! Host-side buffer contents: seeded random inputs and uniform packing.

use crate::interface::{ElementLayout, LeafRole, Scalar, WgslType};

/// SplitMix64: tiny, fast, and deterministic across platforms, which is all
/// benchmark inputs need (no dependency, reproducible by seed).
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Integer in `[lo, hi]`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i64
    }
}

/// f32 → IEEE half bits (round toward zero; exact for the k/1024 values we
/// generate and for ordinary parameter values).
pub(crate) fn f32_to_f16_bits(v: f32) -> u16 {
    let bits = v.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    let mantissa = bits & 0x7f_ffff;
    if v.is_nan() {
        return sign | 0x7e00;
    }
    if exp >= 0x1f {
        return sign | 0x7c00; // overflow → infinity
    }
    if exp <= 0 {
        if exp < -10 {
            return sign; // underflow → zero
        }
        let m = (mantissa | 0x80_0000) >> (14 - exp);
        return sign | m as u16;
    }
    sign | ((exp as u16) << 10) | (mantissa >> 13) as u16
}

/// Writes one scalar of `scalar` kind as little-endian bytes.
pub(crate) fn push_scalar(out: &mut Vec<u8>, scalar: Scalar, value: f64) {
    match scalar {
        Scalar::F16 => out.extend_from_slice(&f32_to_f16_bits(value as f32).to_le_bytes()),
        Scalar::F32 => out.extend_from_slice(&(value as f32).to_le_bytes()),
        Scalar::F64 => out.extend_from_slice(&value.to_le_bytes()),
        Scalar::I32 => out.extend_from_slice(&(value as i32).to_le_bytes()),
        Scalar::U32 => out.extend_from_slice(&(value as u32).to_le_bytes()),
        Scalar::I64 => out.extend_from_slice(&(value as i64).to_le_bytes()),
        Scalar::U64 => out.extend_from_slice(&(value as u64).to_le_bytes()),
    }
}

/// `elements` random values of `ty` with the array stride of a storage
/// buffer. Floats are k/1024 in [-1, 1) (exact in f16 too), signed ints in
/// [-100, 100], unsigned ints in [0, 100] — small so that kernels doing
/// arithmetic on them do not overflow.
pub(crate) fn random_elements(ty: WgslType, elements: u64, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let stride = ty.array_stride() as usize;
    let mut out = Vec::with_capacity(elements as usize * stride);
    for _ in 0..elements {
        let start = out.len();
        for _ in 0..ty.lanes {
            let value = match ty.scalar {
                Scalar::F16 | Scalar::F32 | Scalar::F64 => rng.range(-1024, 1023) as f64 / 1024.0,
                Scalar::I32 | Scalar::I64 => rng.range(-100, 100) as f64,
                Scalar::U32 | Scalar::U64 => rng.range(0, 100) as f64,
            };
            push_scalar(&mut out, ty.scalar, value);
        }
        out.resize(start + stride, 0); // vec3 padding
    }
    out
}

/// `elements` random structs of `layout`: each value leaf as
/// [`random_elements`] fills its type, `bool`s 0 or 1, pointers and
/// padding zero.
pub(crate) fn random_struct_elements(layout: &ElementLayout, elements: u64, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let stride = layout.stride as usize;
    let mut out = vec![0u8; elements as usize * stride];
    for e in 0..elements as usize {
        for leaf in &layout.leaves {
            let Ok(ty) = WgslType::parse(&leaf.ty) else {
                continue;
            };
            for offset in leaf.offsets() {
                let values: Vec<f64> = match leaf.role {
                    LeafRole::Pointer => continue,
                    LeafRole::Bool => vec![(rng.next_u64() & 1) as f64],
                    LeafRole::Bytes => {
                        let bytes = [(); 4].map(|_| rng.range(0, 100) as u8);
                        vec![f64::from(u32::from_le_bytes(bytes))]
                    }
                    LeafRole::Value => (0..ty.lanes)
                        .map(|_| match ty.scalar {
                            Scalar::F16 | Scalar::F32 | Scalar::F64 => {
                                rng.range(-1024, 1023) as f64 / 1024.0
                            }
                            Scalar::I32 | Scalar::I64 => rng.range(-100, 100) as f64,
                            Scalar::U32 | Scalar::U64 => rng.range(0, 100) as f64,
                        })
                        .collect(),
                };
                write_at(&mut out, e * stride + offset as usize, ty, &values);
            }
        }
    }
    out
}

/// Writes `values` (one per lane) of `ty` at `offset` into `buf`.
pub(crate) fn write_at(buf: &mut [u8], offset: usize, ty: WgslType, values: &[f64]) {
    let mut bytes = Vec::with_capacity(ty.size() as usize);
    for lane in 0..ty.lanes as usize {
        push_scalar(
            &mut bytes,
            ty.scalar,
            values.get(lane).copied().unwrap_or(0.0),
        );
    }
    if let Some(dst) = buf.get_mut(offset..offset + bytes.len()) {
        dst.copy_from_slice(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_data_is_seeded_and_laid_out() {
        let t = WgslType::parse("f32").unwrap();
        assert_eq!(random_elements(t, 64, 7), random_elements(t, 64, 7));
        assert_ne!(random_elements(t, 64, 7), random_elements(t, 64, 8));
        let v3 = WgslType::parse("vec3<u32>").unwrap();
        let bytes = random_elements(v3, 5, 1);
        assert_eq!(bytes.len(), 5 * 16);
        for el in bytes.chunks(4) {
            assert!(u32::from_le_bytes([el[0], el[1], el[2], el[3]]) <= 100);
        }
    }

    /// A repeated leaf (`count` copies `stride` apart) fills every copy;
    /// the bytes between copies and past them stay zero.
    #[test]
    fn repeated_leaves_fill_every_copy() {
        use crate::interface::{ElementLayout, LayoutLeaf, LeafRole};
        let layout = ElementLayout {
            stride: 48,
            leaves: vec![LayoutLeaf {
                name: "big[0..5]".into(),
                ty: "u32".into(),
                offset: 4,
                role: LeafRole::Value,
                count: 5,
                stride: 8,
            }],
        };
        let bytes = random_struct_elements(&layout, 2, 3);
        assert_eq!(bytes.len(), 96);
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        for e in 0..2 {
            let base = 48 * e;
            // Random values in 0..100: at least one copy is nonzero.
            assert!((0..5).any(|k| word(base + 4 + 8 * k) != 0));
            for k in 0..5 {
                assert!(word(base + 4 + 8 * k) < 100);
                assert_eq!(word(base + 8 + 8 * k), 0, "gap after copy {k}");
            }
            assert_eq!(word(base + 44), 0);
        }
    }

    #[test]
    fn converts_f16() {
        assert_eq!(f32_to_f16_bits(1.0), 0x3c00);
        assert_eq!(f32_to_f16_bits(-2.0), 0xc000);
        assert_eq!(f32_to_f16_bits(0.0), 0);
        assert_eq!(f32_to_f16_bits(1.0 / 1024.0), 0x1400);
        assert_eq!(f32_to_f16_bits(1e6), 0x7c00);
    }

    #[test]
    fn packs_uniform_fields() {
        let mut buf = vec![0u8; 32];
        write_at(
            &mut buf,
            16,
            WgslType::parse("vec3<u32>").unwrap(),
            &[7.0, 8.0, 9.0],
        );
        write_at(&mut buf, 4, WgslType::parse("f32").unwrap(), &[2.5]);
        assert_eq!(&buf[16..20], &7u32.to_le_bytes());
        assert_eq!(&buf[24..28], &9u32.to_le_bytes());
        assert_eq!(&buf[4..8], &2.5f32.to_le_bytes());
    }
}
