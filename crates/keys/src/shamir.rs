//! Shamir secret sharing exactly as sops does it (a fork of HashiCorp Vault's
//! `shamir` package): GF(2^8) with the AES polynomial 0x11B, share `i` is
//! evaluated at `x = i + 1`, and each share is the y-values for every secret
//! byte followed by the x byte: `[y_0, …, y_{n-1}, x]`.
//!
//! Field arithmetic is branch-free and table-free (constant time with respect
//! to the secret).

use zeroize::{Zeroize, Zeroizing};

/// Errors from [`split`] and [`combine`]. They never contain share bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShamirError {
    /// `parts` is smaller than `threshold`.
    #[error("parts ({parts}) cannot be less than the threshold ({threshold})")]
    PartsBelowThreshold {
        /// Requested number of shares.
        parts: usize,
        /// Requested threshold.
        threshold: usize,
    },
    /// More than 255 shares were requested.
    #[error("parts ({0}) cannot exceed 255")]
    TooManyParts(usize),
    /// The threshold is below 2.
    #[error("threshold must be at least 2, got {0}")]
    ThresholdTooSmall(usize),
    /// The secret is empty.
    #[error("cannot split an empty secret")]
    EmptySecret,
    /// Fewer than two shares were given to [`combine`].
    #[error("less than two parts cannot be used to reconstruct the secret")]
    TooFewParts,
    /// A share is shorter than two bytes.
    #[error("parts must be at least two bytes")]
    PartTooShort,
    /// The shares do not all have the same length.
    #[error("all parts must be the same length")]
    LengthMismatch,
    /// Two shares have the same x coordinate.
    #[error("duplicate part detected")]
    DuplicatePart,
    /// The random source failed.
    #[error("random number generator failed: {0}")]
    Random(String),
}

/// Splits `secret` into `parts` shares, any `threshold` of which recover it.
///
/// Share `i` (0-based) has x coordinate `i + 1` and is `secret.len() + 1`
/// bytes long, x last. Requires `2 <= threshold <= parts <= 255`.
pub fn split(
    secret: &[u8],
    parts: usize,
    threshold: usize,
) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    split_with(secret, parts, threshold, |buf| {
        getrandom::fill(buf).map_err(|e| ShamirError::Random(e.to_string()))
    })
}

/// Recovers the secret from shares produced by [`split`] (x read from the
/// last byte of each share). Fewer than `threshold` shares yield a wrong
/// value, not an error: the scheme cannot tell.
pub fn combine(shares: &[impl AsRef<[u8]>]) -> Result<Zeroizing<Vec<u8>>, ShamirError> {
    if shares.len() < 2 {
        return Err(ShamirError::TooFewParts);
    }
    let first_len = shares.first().map(|s| s.as_ref().len()).unwrap_or(0);
    if first_len < 2 {
        return Err(ShamirError::PartTooShort);
    }
    if shares.iter().any(|s| s.as_ref().len() != first_len) {
        return Err(ShamirError::LengthMismatch);
    }
    let secret_len = first_len - 1;
    let mut xs = Vec::with_capacity(shares.len());
    for share in shares {
        let x = share.as_ref().get(secret_len).copied().unwrap_or(0);
        if xs.contains(&x) {
            return Err(ShamirError::DuplicatePart);
        }
        xs.push(x);
    }
    let mut secret = Zeroizing::new(vec![0u8; secret_len]);
    for (idx, out) in secret.iter_mut().enumerate() {
        let mut ys = Zeroizing::new(Vec::with_capacity(shares.len()));
        ys.extend(
            shares
                .iter()
                .map(|s| s.as_ref().get(idx).copied().unwrap_or(0)),
        );
        *out = interpolate_at_zero(&xs, &ys);
    }
    Ok(secret)
}

/// [`split`] with an injectable source of polynomial coefficients (tests use
/// fixed ones to check known vectors).
pub(crate) fn split_with(
    secret: &[u8],
    parts: usize,
    threshold: usize,
    mut fill_random: impl FnMut(&mut [u8]) -> Result<(), ShamirError>,
) -> Result<Vec<Zeroizing<Vec<u8>>>, ShamirError> {
    if parts < threshold {
        return Err(ShamirError::PartsBelowThreshold { parts, threshold });
    }
    if parts > 255 {
        return Err(ShamirError::TooManyParts(parts));
    }
    if threshold < 2 {
        return Err(ShamirError::ThresholdTooSmall(threshold));
    }
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (1..=parts)
        .map(|x| {
            let mut share = Zeroizing::new(vec![0u8; secret.len() + 1]);
            if let Some(last) = share.last_mut() {
                // parts <= 255 was checked above, so x fits in a byte.
                *last = u8::try_from(x).unwrap_or(0);
            }
            share
        })
        .collect();
    // coefficients[0] is the secret byte, the rest are random.
    let mut coefficients = Zeroizing::new(vec![0u8; threshold]);
    for (idx, &byte) in secret.iter().enumerate() {
        if let Some((constant, rest)) = coefficients.split_first_mut() {
            *constant = byte;
            fill_random(rest)?;
        }
        for share in shares.iter_mut() {
            let x = share.last().copied().unwrap_or(0);
            if let Some(y) = share.get_mut(idx) {
                *y = evaluate(&coefficients, x);
            }
        }
    }
    coefficients.zeroize();
    Ok(shares)
}

/// Evaluates the polynomial with the given coefficients (constant first) at
/// `x`, by Horner's rule.
fn evaluate(coefficients: &[u8], x: u8) -> u8 {
    coefficients
        .iter()
        .rev()
        .fold(0u8, |acc, &c| gf_mul(acc, x) ^ c)
}

/// Lagrange interpolation of the points `(xs[i], ys[i])`, evaluated at 0.
fn interpolate_at_zero(xs: &[u8], ys: &[u8]) -> u8 {
    let mut result = 0u8;
    for (i, (&xi, &yi)) in xs.iter().zip(ys).enumerate() {
        let mut basis = 1u8;
        for (j, &xj) in xs.iter().enumerate() {
            if i != j {
                // (0 - xj) / (xi - xj); subtraction is XOR. xi != xj because
                // duplicates were rejected.
                basis = gf_mul(basis, gf_mul(xj, gf_inv(xi ^ xj)));
            }
        }
        result ^= gf_mul(yi, basis);
    }
    result
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, without
/// branches or tables.
pub(crate) fn gf_mul(a: u8, b: u8) -> u8 {
    let mut a = a;
    let mut b = b;
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// Multiplicative inverse as `a^254` (0 maps to 0).
pub(crate) fn gf_inv(a: u8) -> u8 {
    // a^254 = a^(2+4+8+16+32+64+128)
    let mut result = 1u8;
    let mut square = a;
    for _ in 0..7 {
        square = gf_mul(square, square);
        result = gf_mul(result, square);
    }
    result
}

#[cfg(test)]
mod tests;
