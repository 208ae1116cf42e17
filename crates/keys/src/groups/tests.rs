use proptest::prelude::*;

use super::*;
use crate::age::identity::tests::{recipient, testdata, AGE_TEST_1, AGE_TEST_2, AGE_TEST_3};

/// `unwrap_err` without `Debug` on the data key.
fn expect_err(result: Result<DataKey, UnwrapError>) -> UnwrapError {
    match result {
        Ok(_) => panic!("the data key was unexpectedly recovered"),
        Err(e) => e,
    }
}

fn ids_from(files: &[&str]) -> Identities {
    let mut ids = Identities::new();
    for f in files {
        ids.add_file(&testdata(f), true).unwrap();
    }
    ids
}

fn three_groups() -> Vec<Vec<Recipient>> {
    vec![
        vec![recipient(AGE_TEST_1)],
        vec![recipient(AGE_TEST_2)],
        vec![recipient(AGE_TEST_3)],
    ]
}

#[test]
fn one_group_every_key_wraps_the_raw_key() {
    let key = DataKey::generate().unwrap();
    let ed = std::fs::read_to_string(testdata("id_ed25519.pub")).unwrap();
    let groups = encrypt_data_key(
        &key,
        &[vec![
            recipient(AGE_TEST_1),
            recipient(AGE_TEST_2),
            recipient(&ed),
        ]],
        Some(5), // ignored with one group
    )
    .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].0.len(), 3);
    assert_eq!(groups[0].0[2].id(), ed.trim());
    // Each key alone opens it, and yields the raw 32 bytes.
    for file in ["age-test.txt", "age-test-2.txt"] {
        let got = decrypt_data_key(&groups, None, &ids_from(&[file])).unwrap();
        assert!(got == key);
        let raw = ids_from(&[file]).unwrap(groups[0].0[1].enc());
        if file == "age-test-2.txt" {
            assert_eq!(&raw.unwrap()[..], key.as_bytes());
        }
    }
    let mut ssh = Identities::new();
    ssh.add_ssh_key_file(&testdata("id_ed25519"), true).unwrap();
    assert!(decrypt_data_key(&groups, None, &ssh).unwrap() == key);
}

#[test]
fn two_of_three_groups() {
    let key = DataKey::generate().unwrap();
    let groups = encrypt_data_key(&key, &three_groups(), Some(2)).unwrap();
    // Shares are 33 bytes with x = group index + 1.
    for (i, file) in ["age-test.txt", "age-test-2.txt", "age-test-3.txt"]
        .iter()
        .enumerate()
    {
        let share = ids_from(&[file]).unwrap(groups[i].0[0].enc()).unwrap();
        assert_eq!(share.len(), 33);
        assert_eq!(share[32] as usize, i + 1);
    }
    for pair in [
        ["age-test.txt", "age-test-2.txt"],
        ["age-test.txt", "age-test-3.txt"],
        ["age-test-2.txt", "age-test-3.txt"],
    ] {
        let got = decrypt_data_key(&groups, Some(2), &ids_from(&pair)).unwrap();
        assert!(got == key, "{pair:?}");
    }
    let all = ids_from(&["age-test.txt", "age-test-2.txt", "age-test-3.txt"]);
    assert!(decrypt_data_key(&groups, Some(2), &all).unwrap() == key);
}

#[test]
fn one_of_three_groups_fails_with_a_report() {
    let key = DataKey::generate().unwrap();
    let groups = encrypt_data_key(&key, &three_groups(), Some(2)).unwrap();
    let mut ids = ids_from(&["age-test-2.txt"]);
    ids.add_file(&testdata("nope/keys.txt"), false).unwrap();
    let err = expect_err(decrypt_data_key(&groups, Some(2), &ids));
    let UnwrapError::NotEnoughKeys(report) = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(report.threshold, 2);
    assert_eq!(report.recovered, 1);
    assert_eq!(report.groups.len(), 3);
    assert!(!report.groups[0].recovered);
    assert!(report.groups[1].recovered);
    assert_eq!(report.groups[0].keys[0].id, AGE_TEST_1);
    assert_eq!(
        report.groups[0].keys[0].failure,
        Some(KeyFailure::NoIdentityMatches)
    );
    assert_eq!(report.groups[1].keys[0].failure, None);
    assert_eq!(report.sources.len(), 2);
    let text = err.to_string();
    assert!(text.contains("1 of 2"), "{text}");
    assert!(
        text.contains(&format!("age {AGE_TEST_1}: no identity matches")),
        "{text}"
    );
    assert!(text.contains("keys.txt: not found"), "{text}");
    assert!(text.contains(AGE_TEST_2), "{text}");
    // Default threshold = all groups: even two identities are not enough.
    let two = ids_from(&["age-test.txt", "age-test-2.txt"]);
    let err = expect_err(decrypt_data_key(&groups, None, &two));
    assert!(matches!(err, UnwrapError::NotEnoughKeys(r) if r.threshold == 3));
}

#[test]
fn threshold_default_is_all_groups() {
    let key = DataKey::generate().unwrap();
    let groups = encrypt_data_key(&key, &three_groups(), None).unwrap();
    let two = ids_from(&["age-test.txt", "age-test-2.txt"]);
    // Metadata said 3 (the default); pretending 2 recovers a wrong value or
    // fails: Shamir with a degree-2 polynomial needs 3 points.
    if let Ok(wrong) = decrypt_data_key(&groups, Some(2), &two) {
        assert!(wrong != key);
    }
    let all = ids_from(&["age-test.txt", "age-test-2.txt", "age-test-3.txt"]);
    assert!(decrypt_data_key(&groups, Some(0), &all).unwrap() == key);
}

#[test]
fn invalid_thresholds_and_empty_groups() {
    let key = DataKey::generate().unwrap();
    for t in [1, 4] {
        assert!(matches!(
            encrypt_data_key(&key, &three_groups(), Some(t)).unwrap_err(),
            KeyError::InvalidThreshold { threshold, groups: 3 } if threshold == t
        ));
    }
    assert!(matches!(
        encrypt_data_key(&key, &[], None).unwrap_err(),
        KeyError::NoRecipients(_)
    ));
    assert!(matches!(
        encrypt_data_key(&key, &[vec![recipient(AGE_TEST_1)], vec![]], None).unwrap_err(),
        KeyError::NoRecipients(m) if m.contains("group 1")
    ));
    let ids = ids_from(&["age-test.txt"]);
    assert!(matches!(
        expect_err(decrypt_data_key(&[], None, &ids)),
        UnwrapError::NoKeyGroups
    ));
    let groups = encrypt_data_key(&key, &three_groups(), Some(2)).unwrap();
    assert!(matches!(
        expect_err(decrypt_data_key(&groups, Some(4), &ids)),
        UnwrapError::InvalidThreshold {
            threshold: 4,
            groups: 3
        }
    ));
    // A threshold below 2 in the file (sops writes one with `groups add
    // --shamir-secret-sharing-threshold 1`): the shares recovered, as sops
    // combines them; one is not enough.
    let two = ids_from(&["age-test.txt", "age-test-2.txt"]);
    let got = decrypt_data_key(&groups, Some(1), &two).unwrap();
    assert_eq!(got.as_bytes(), key.as_bytes());
    assert!(matches!(
        expect_err(decrypt_data_key(&groups, Some(1), &ids)),
        UnwrapError::NotEnoughKeys(_)
    ));
    // The shares kept may be of a split that needs all three (sops keeps
    // a 3-of-3 split when `groups add` sets 1): every share recovered is
    // combined, as sops does, not the first two.
    let all_three = encrypt_data_key(&key, &three_groups(), Some(3)).unwrap();
    let every = ids_from(&["age-test.txt", "age-test-2.txt", "age-test-3.txt"]);
    let got = decrypt_data_key(&all_three, Some(1), &every).unwrap();
    assert_eq!(got.as_bytes(), key.as_bytes());
}

#[test]
fn unsupported_keys_are_reported_and_skipped() {
    let key = DataKey::generate().unwrap();
    let mut groups = encrypt_data_key(&key, &[vec![recipient(AGE_TEST_1)]], None).unwrap();
    groups[0].0.insert(
        0,
        MasterKey::Other {
            kind: "kms".to_owned(),
            id: "arn:aws:kms:us-east-1:111122223333:key/abc".to_owned(),
            enc: "AQICAHh...".to_owned(),
        },
    );
    // The age key still works after the unsupported one.
    assert!(decrypt_data_key(&groups, None, &ids_from(&["age-test.txt"])).unwrap() == key);
    let err = expect_err(decrypt_data_key(
        &groups,
        None,
        &ids_from(&["age-test-2.txt"]),
    ));
    let text = err.to_string();
    assert!(
        text.contains("kms arn:aws:kms:us-east-1:111122223333:key/abc: unsupported key type kms"),
        "{text}"
    );
    assert!(text.contains("no identity matches"), "{text}");
}

#[test]
fn wrong_identity_and_bad_payload_are_distinguished() {
    let key = DataKey::generate().unwrap();
    // The stored recipient says age-test-2 but enc was made for age-test.
    let enc = wrap(key.as_bytes(), &recipient(AGE_TEST_1)).unwrap();
    let groups = vec![KeyGroup(vec![MasterKey::Age {
        recipient: AGE_TEST_2.to_owned(),
        enc,
    }])];
    let err = expect_err(decrypt_data_key(
        &groups,
        None,
        &ids_from(&["age-test-2.txt"]),
    ));
    let UnwrapError::NotEnoughKeys(report) = err else {
        panic!()
    };
    assert!(matches!(
        report.groups[0].keys[0].failure,
        Some(KeyFailure::WrongIdentity(_))
    ));
    // A payload of the wrong size (a share where a key is expected).
    let groups = vec![KeyGroup(vec![MasterKey::Age {
        recipient: AGE_TEST_1.to_owned(),
        enc: wrap(&[1; 33], &recipient(AGE_TEST_1)).unwrap(),
    }])];
    let err = expect_err(decrypt_data_key(
        &groups,
        None,
        &ids_from(&["age-test.txt"]),
    ));
    let UnwrapError::NotEnoughKeys(report) = err else {
        panic!()
    };
    assert_eq!(
        report.groups[0].keys[0].failure,
        Some(KeyFailure::BadPayload {
            len: 33,
            expected: 32
        })
    );
    // Malformed enc.
    let groups = vec![KeyGroup(vec![MasterKey::Age {
        recipient: AGE_TEST_1.to_owned(),
        enc: "garbage".to_owned(),
    }])];
    let err = expect_err(decrypt_data_key(
        &groups,
        None,
        &ids_from(&["age-test.txt"]),
    ));
    assert!(err.to_string().contains("malformed"), "{err}");
}

#[test]
fn no_secret_in_errors_or_debug() {
    let key = DataKey::from_bytes(&[0xAB; 32]).unwrap();
    let groups = encrypt_data_key(&key, &three_groups(), Some(2)).unwrap();
    let debug = format!("{groups:?}");
    assert!(
        !debug.contains("BEGIN AGE"),
        "enc should be summarized: {debug}"
    );
    let err = expect_err(decrypt_data_key(
        &groups,
        Some(2),
        &ids_from(&["age-test.txt"]),
    ));
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("AGE-SECRET-KEY"));
        assert!(!shown.to_lowercase().contains("abababab"));
        assert!(!shown.contains("171, 171"));
    }
}

#[test]
fn master_key_display_is_the_holder() {
    let k = MasterKey::Age {
        recipient: AGE_TEST_1.to_owned(),
        enc: String::new(),
    };
    assert_eq!(k.to_string(), AGE_TEST_1);
    assert_eq!(k.kind(), "age");
    assert_eq!(recipient(AGE_TEST_1).to_string(), AGE_TEST_1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(12)))]

    /// Any `threshold` groups out of `n` recover the key, for n in 2..=4.
    #[test]
    fn any_threshold_subset_of_groups_recovers(
        (n, threshold, order) in (2usize..=4)
            .prop_flat_map(|n| (Just(n), 2..=n, Just((0..n).collect::<Vec<_>>()).prop_shuffle()))
    ) {
        let files = ["age-test.txt", "age-test-2.txt", "age-test-3.txt", "age-test.txt"];
        let publics = [AGE_TEST_1, AGE_TEST_2, AGE_TEST_3, AGE_TEST_1];
        let groups: Vec<Vec<Recipient>> =
            publics[..n].iter().map(|p| vec![recipient(p)]).collect();
        let key = DataKey::generate().unwrap();
        let wrapped = encrypt_data_key(&key, &groups, Some(threshold)).unwrap();
        // Keep only the keys of `threshold` groups; blank the others so a
        // shared identity (group 3 reuses age-test) cannot open them.
        let keep: Vec<usize> = order.into_iter().take(threshold).collect();
        let pruned: Vec<KeyGroup> = wrapped
            .iter()
            .enumerate()
            .map(|(i, g)| if keep.contains(&i) { g.clone() } else { KeyGroup(vec![]) })
            .collect();
        let chosen: Vec<&str> = keep.iter().map(|&i| files[i]).collect();
        let ids = ids_from(&chosen);
        let got = decrypt_data_key(&pruned, Some(threshold), &ids).unwrap();
        prop_assert!(got == key);
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Identities>();
    check::<Recipient>();
    check::<DataKey>();
    check::<KeyGroup>();
    check::<UnwrapError>();
    check::<KeyError>();
}
