use proptest::prelude::*;

use super::*;

/// Deterministic "random" coefficients: the k-th one is `17k + 5 mod 256`.
fn fixed_coefficients() -> impl FnMut(&mut [u8]) -> Result<(), ShamirError> {
    let mut k: u32 = 0;
    move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            *b = ((17 * k + 5) & 0xff) as u8;
            k += 1;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// Computed once by an independent Python implementation (log/exp tables with
// generator 3, direct polynomial sums, same coefficient sequence).
const SECRET_1_TO_32_2_OF_3: [&str; 3] = [
    "0414243c4c5c6c748494a4ccdcecfc140434245c4c7c6c9484b4a4ccfcec1c3401",
    "0b2e4d7497b2d1f0082d4e97b4d1f2183b5e7d84a7c2e11b385d7ea7c4e1190802",
    "0e386a4cdee8ba8c85b3e1576533011c2e784accfea89a97a5f3c17725131a1c03",
];
const SECRET_1_TO_32_3_OF_5: [&str; 5] = [
    "121d1013166934ff3a7538fb3e611c07020d00030639e42f6a25e82b6e310c3701",
    "53ace2394a6e1be5bb5f0afca206334683e7325f9a3ee6ae700ff7b7695655b602",
    "40b3f12e590128128820390b9169205190f8214889111599033004801a7946a103",
    "6e33eb322438cca90b3a8ee3416b1f47c8e24d0d8285de22c1879c688bd620c104",
    "7d2cf8253757ff5e3845bd1472040c50dbfd5e1a91aa2d15b2b86f5ff8f933d605",
];

fn secret_1_to_32() -> Vec<u8> {
    (1..=32).collect()
}

#[test]
fn field_matches_vault_tables() {
    // Vault's expTable with generator 0xe5: e5^2 = 4c, e5^3 = b5.
    assert_eq!(gf_mul(0xe5, 0xe5), 0x4c);
    assert_eq!(gf_mul(0x4c, 0xe5), 0xb5);
    // AES (FIPS-197 §4.2): {57} • {83} = {c1}.
    assert_eq!(gf_mul(0x57, 0x83), 0xc1);
    for a in 1..=255u8 {
        assert_eq!(gf_mul(a, gf_inv(a)), 1, "inverse of {a}");
        assert_eq!(gf_mul(a, 1), a);
        assert_eq!(gf_mul(a, 0), 0);
    }
    assert_eq!(gf_inv(0), 0);
}

#[test]
fn split_known_vector_2_of_3() {
    let shares = split_with(&secret_1_to_32(), 3, 2, fixed_coefficients()).unwrap();
    let got: Vec<String> = shares.iter().map(|s| hex(s)).collect();
    assert_eq!(got, SECRET_1_TO_32_2_OF_3);
}

#[test]
fn split_known_vector_3_of_5() {
    let shares = split_with(&secret_1_to_32(), 5, 3, fixed_coefficients()).unwrap();
    let got: Vec<String> = shares.iter().map(|s| hex(s)).collect();
    assert_eq!(got, SECRET_1_TO_32_3_OF_5);
}

#[test]
fn combine_known_vectors() {
    let shares: Vec<Vec<u8>> = SECRET_1_TO_32_3_OF_5.iter().map(|s| unhex(s)).collect();
    let picked = [shares[4].clone(), shares[1].clone(), shares[2].clone()];
    assert_eq!(*combine(&picked).unwrap(), secret_1_to_32());
    let shares: Vec<Vec<u8>> = SECRET_1_TO_32_2_OF_3.iter().map(|s| unhex(s)).collect();
    assert_eq!(*combine(&shares[1..]).unwrap(), secret_1_to_32());
    // Arbitrary points, interpolated by the Python reference.
    let a = unhex("010203040507");
    let b = unhex("a0b0c0d0e02a");
    let c = unhex("ffeeddccbbfe");
    assert_eq!(hex(&combine(&[a, b, c]).unwrap()), "9f6957bf56");
}

#[test]
fn shares_have_sequential_x_last_and_33_bytes() {
    let shares = split(&[0xab; 32], 4, 3).unwrap();
    for (i, share) in shares.iter().enumerate() {
        assert_eq!(share.len(), 33);
        assert_eq!(share[32] as usize, i + 1);
    }
}

#[test]
fn split_rejects_bad_parameters() {
    assert_eq!(
        split(&[1; 32], 2, 3).unwrap_err(),
        ShamirError::PartsBelowThreshold {
            parts: 2,
            threshold: 3
        }
    );
    assert_eq!(
        split(&[1; 32], 256, 3).unwrap_err(),
        ShamirError::TooManyParts(256)
    );
    assert_eq!(
        split(&[1; 32], 3, 1).unwrap_err(),
        ShamirError::ThresholdTooSmall(1)
    );
    assert_eq!(split(&[], 3, 2).unwrap_err(), ShamirError::EmptySecret);
    assert!(split(&[1; 32], 255, 255).is_ok());
}

#[test]
fn combine_rejects_bad_input() {
    let shares = split(&[9; 32], 3, 2).unwrap();
    assert_eq!(combine(&shares[..1]).unwrap_err(), ShamirError::TooFewParts);
    assert_eq!(
        combine(&[vec![1u8], vec![2u8]]).unwrap_err(),
        ShamirError::PartTooShort
    );
    assert_eq!(
        combine(&[shares[0].to_vec(), shares[1][1..].to_vec()]).unwrap_err(),
        ShamirError::LengthMismatch
    );
    assert_eq!(
        combine(&[shares[0].clone(), shares[0].clone()]).unwrap_err(),
        ShamirError::DuplicatePart
    );
}

/// A subset of `0..parts` of exactly `size` indices, in random order.
fn subset(parts: usize, size: usize) -> impl Strategy<Value = Vec<usize>> {
    Just((0..parts).collect::<Vec<_>>())
        .prop_shuffle()
        .prop_map(move |v| v.into_iter().take(size).collect())
}

fn params() -> impl Strategy<Value = (Vec<u8>, usize, usize, Vec<usize>, Vec<usize>)> {
    (prop::collection::vec(any::<u8>(), 1..48), 2usize..12)
        .prop_flat_map(|(secret, parts)| (Just(secret), Just(parts), 2..=parts))
        .prop_flat_map(|(secret, parts, threshold)| {
            (
                Just(secret),
                Just(parts),
                Just(threshold),
                subset(parts, threshold),
                (2..=threshold).prop_flat_map(move |n| subset(parts, n)),
            )
        })
}

proptest! {
    #[test]
    fn any_threshold_subset_recovers(
        (secret, parts, threshold, enough, _few) in params()
    ) {
        let shares = split(&secret, parts, threshold).unwrap();
        let picked: Vec<_> = enough.iter().map(|&i| shares[i].clone()).collect();
        prop_assert_eq!(&*combine(&picked).unwrap(), &secret);
        // Every share beyond the threshold is consistent too.
        prop_assert_eq!(&*combine(&shares).unwrap(), &secret);
    }

    #[test]
    fn fewer_than_threshold_shares_do_not_recover(
        (_secret, parts, threshold, _enough, few) in params()
    ) {
        prop_assume!(few.len() < threshold);
        // With a fixed secret of 16 random-looking bytes, `few` shares
        // interpolate a different polynomial; a match on all 16 bytes has
        // probability 2^-128. Use a long secret so the test is reliable.
        let secret = [0x5a_u8; 16];
        let shares = split(&secret, parts, threshold).unwrap();
        let picked: Vec<_> = few.iter().map(|&i| shares[i].clone()).collect();
        prop_assert_ne!(&*combine(&picked).unwrap(), &secret[..]);
    }

    #[test]
    fn mul_is_commutative_associative_distributive(a: u8, b: u8, c: u8) {
        prop_assert_eq!(gf_mul(a, b), gf_mul(b, a));
        prop_assert_eq!(gf_mul(gf_mul(a, b), c), gf_mul(a, gf_mul(b, c)));
        prop_assert_eq!(gf_mul(a, b ^ c), gf_mul(a, b) ^ gf_mul(a, c));
    }
}
