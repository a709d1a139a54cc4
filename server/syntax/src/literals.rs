//! The values of C literals the front end and the transpiler both need.

/// The bytes of a plain C string literal (`"ab\\n"`, quotes included in
/// `raw`) with its terminating NUL; `None` for prefixed, raw or
/// universal-character strings.
pub fn c_string_bytes(raw: &str) -> Option<Vec<u8>> {
    let body = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::new();
    let mut chars = body.bytes().peekable();
    while let Some(c) = chars.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let b = match e {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'v' => 11,
            b'\\' | b'\'' | b'"' | b'?' => e,
            b'x' => {
                let mut v: u32 = 0;
                let mut any = false;
                while let Some(&h) = chars.peek() {
                    let Some(d) = (h as char).to_digit(16) else {
                        break;
                    };
                    v = v.checked_mul(16)? + d;
                    any = true;
                    chars.next();
                }
                if !any || v > 255 {
                    return None;
                }
                v as u8
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match chars.peek() {
                        Some(&o @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(o - b'0');
                            chars.next();
                        }
                        _ => break,
                    }
                }
                if v > 255 {
                    return None;
                }
                v as u8
            }
            _ => return None,
        };
        out.push(b);
    }
    out.push(0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_the_terminating_nul() {
        assert_eq!(c_string_bytes(r#""ab\n""#), Some(b"ab\n\0".to_vec()));
        assert_eq!(c_string_bytes(r#""\x41\101\0""#), Some(b"AA\0\0".to_vec()));
        assert_eq!(c_string_bytes(r#""""#), Some(vec![0]));
        assert_eq!(c_string_bytes(r#"u8"x""#), None);
        assert_eq!(c_string_bytes(r#""\u00e9""#), None);
    }
}
