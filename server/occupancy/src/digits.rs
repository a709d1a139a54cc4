//! Numbers as the calculator's messages and tables print them.

/// Thousands separated by commas, as in the CUDA occupancy calculator.
///
/// ```
/// use cudalens_occupancy::digits::group_digits;
///
/// assert_eq!(group_digits(1_234_567), "1,234,567");
/// assert_eq!(group_digits(999), "999");
/// ```
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(2048), "2,048");
        assert_eq!(group_digits(233_472), "233,472");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(u64::MAX), "18,446,744,073,709,551,615");
    }
}
