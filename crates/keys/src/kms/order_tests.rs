//! Mixed age + key service groups with a fake [`KeyService`]: the order
//! keys are tried in, no service call when age suffices, falling through
//! failing keys and groups, and errors naming the key and endpoint.

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::prelude::*;
use zeroize::Zeroizing;

use super::*;
use crate::age::identity::tests::{recipient, testdata, AGE_TEST_1, AGE_TEST_2};
use crate::{
    decrypt_data_key, decrypt_data_key_ordered, decrypt_data_key_with, encrypt_data_key_for,
    DataKey, Identities, KeyRecipient, MasterKey, UnwrapError,
};

/// A key service that "wraps" by hex-encoding with a per-key prefix, and can
/// be switched off (every call then fails like a stopped server).
#[derive(Default)]
struct Fake {
    down: RefCell<bool>,
    calls: RefCell<Vec<String>>,
    broken: HashMap<String, String>,
}

impl Fake {
    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl KeyService for Fake {
    fn wrap(&self, key: &ServiceKey, secret: &[u8]) -> Result<Wrapped, ServiceError> {
        self.calls.borrow_mut().push(format!("wrap {}", key.id()));
        if *self.down.borrow() {
            return Err(ServiceError::transient(
                key,
                "http://fake",
                "connection refused",
            ));
        }
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Wrapped {
            key: key.clone(),
            enc: format!("{}:{hex}", key.id()),
        })
    }

    fn unwrap(&self, key: &ServiceKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        self.calls.borrow_mut().push(format!("unwrap {}", key.id()));
        if *self.down.borrow() {
            return Err(ServiceError::transient(
                key,
                "http://fake",
                "connection refused",
            ));
        }
        if let Some(why) = self.broken.get(&key.id()) {
            return Err(ServiceError::new(key, "http://fake", why.clone()));
        }
        let hex = enc
            .strip_prefix(&format!("{}:", key.id()))
            .ok_or_else(|| ServiceError::new(key, "http://fake", "wrong key"))?;
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| ServiceError::new(key, "http://fake", "bad enc"))?;
        Ok(Zeroizing::new(bytes))
    }
}

fn kms(name: &str) -> ServiceKey {
    ServiceKey::Kms(AwsKmsKey::parse(&format!("arn:aws:kms:us-east-1:1:key/{name}")).unwrap())
}

fn pgp(fp: &str) -> ServiceKey {
    ServiceKey::Pgp(PgpKey::parse(fp).unwrap())
}

fn age_ids(file: &str) -> Identities {
    let mut ids = Identities::new();
    ids.add_file(&testdata(file), true).unwrap();
    ids
}

fn must(result: Result<DataKey, UnwrapError>) -> DataKey {
    match result {
        Ok(k) => k,
        Err(e) => panic!("decryption failed: {e}"),
    }
}

fn must_fail(result: Result<DataKey, UnwrapError>) -> UnwrapError {
    match result {
        Ok(_) => panic!("the data key was unexpectedly recovered"),
        Err(e) => e,
    }
}

/// `--decryption-order`: listed types first in the listed order, every
/// other key after them in stored order.
#[test]
fn decryption_order_puts_listed_types_first() {
    let fake = Fake::default();
    let key = DataKey::generate().unwrap();
    let groups = encrypt_data_key_for(
        &key,
        &[vec![
            kms("a").into(),
            recipient(AGE_TEST_1).into(),
            kms("b").into(),
        ]],
        None,
        &fake,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    let ids = age_ids("age-test.txt");
    let unwraps = |order: &[&str]| {
        fake.calls.borrow_mut().clear();
        let got = must(decrypt_data_key_ordered(&groups, None, &ids, &fake, order));
        assert!(got == key);
        fake.calls()
    };
    // KMS first although the age identity is there: the first KMS key in
    // stored order is used.
    assert_eq!(unwraps(&["kms"]), ["unwrap arn:aws:kms:us-east-1:1:key/a"]);
    assert_eq!(unwraps(&["hc_vault", "kms", "age"]).len(), 1);
    // Age listed (the default): no service call.
    assert!(unwraps(&["age", "kms"]).is_empty());
    assert!(unwraps(crate::DEFAULT_DECRYPTION_ORDER).is_empty());
    // Nothing listed matches: stored order, so KMS key `a` comes first.
    assert_eq!(unwraps(&["pgp"]), ["unwrap arn:aws:kms:us-east-1:1:key/a"]);
    // A failing first choice falls through to the next key.
    *fake.down.borrow_mut() = true;
    assert_eq!(unwraps(&["kms"]).len(), 2);
}

#[test]
fn age_first_and_no_service_call_when_age_works() {
    let fake = Fake::default();
    let key = DataKey::generate().unwrap();
    // The KMS key is listed first, yet age is tried first.
    let groups = encrypt_data_key_for(
        &key,
        &[vec![kms("a").into(), recipient(AGE_TEST_1).into()]],
        None,
        &fake,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    assert_eq!(fake.calls(), ["wrap arn:aws:kms:us-east-1:1:key/a"]);
    assert!(
        matches!(&groups[0].0[0], MasterKey::Kms { created_at, .. } if created_at == "2026-01-01T00:00:00Z")
    );
    *fake.down.borrow_mut() = true;
    let got = must(decrypt_data_key_with(
        &groups,
        None,
        &age_ids("age-test.txt"),
        &fake,
    ));
    assert!(got == key);
    assert_eq!(fake.calls().len(), 1, "no unwrap call: {:?}", fake.calls());
    // Without the age identity the KMS key is used.
    *fake.down.borrow_mut() = false;
    let got = must(decrypt_data_key_with(
        &groups,
        None,
        &Identities::new(),
        &fake,
    ));
    assert!(got == key);
    assert_eq!(
        fake.calls().last().unwrap(),
        "unwrap arn:aws:kms:us-east-1:1:key/a"
    );
}

#[test]
fn pgp_before_other_services_and_fall_through_on_failure() {
    let mut fake = Fake::default();
    fake.broken
        .insert("ABCDEF0123456789".into(), "gpg failed".into());
    let key = DataKey::generate().unwrap();
    let groups = encrypt_data_key_for(
        &key,
        &[vec![
            kms("a").into(),
            kms("b").into(),
            pgp("ABCDEF0123456789").into(),
        ]],
        None,
        &fake,
        "t",
    )
    .unwrap();
    fake.calls.borrow_mut().clear();
    let got = must(decrypt_data_key_with(
        &groups,
        None,
        &Identities::new(),
        &fake,
    ));
    assert!(got == key);
    assert_eq!(
        fake.calls(),
        [
            "unwrap ABCDEF0123456789",
            "unwrap arn:aws:kms:us-east-1:1:key/a"
        ]
    );
}

#[test]
fn a_stopped_service_is_reported_with_key_and_endpoint() {
    let fake = Fake::default();
    let key = DataKey::generate().unwrap();
    let groups = encrypt_data_key_for(
        &key,
        &[vec![kms("a").into(), recipient(AGE_TEST_1).into()]],
        None,
        &fake,
        "t",
    )
    .unwrap();
    *fake.down.borrow_mut() = true;
    let err = must_fail(decrypt_data_key_with(
        &groups,
        None,
        &age_ids("age-test-2.txt"),
        &fake,
    ));
    let text = err.to_string();
    assert!(
        text.contains("kms arn:aws:kms:us-east-1:1:key/a: http://fake: connection refused"),
        "{text}"
    );
    assert!(text.contains("age "), "{text}");
    // The age-only entry point never calls a service.
    let err = must_fail(decrypt_data_key(&groups, None, &Identities::new()));
    assert!(
        err.to_string().contains("no key services are configured"),
        "{err}"
    );
}

#[test]
fn wrap_failure_names_key_and_endpoint() {
    let fake = Fake::default();
    *fake.down.borrow_mut() = true;
    let key = DataKey::generate().unwrap();
    let err = encrypt_data_key_for(&key, &[vec![kms("a").into()]], None, &fake, "t")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "could not encrypt the data key to kms key arn:aws:kms:us-east-1:1:key/a: http://fake: connection refused"
    );
}

#[test]
fn shamir_across_age_and_service_groups() {
    let fake = Fake::default();
    let key = DataKey::generate().unwrap();
    let groups: Vec<Vec<KeyRecipient>> = vec![
        vec![recipient(AGE_TEST_1).into()],
        vec![kms("g1").into()],
        vec![recipient(AGE_TEST_2).into(), pgp("0123456789ABCDEF").into()],
    ];
    let wrapped = encrypt_data_key_for(&key, &groups, Some(2), &fake, "t").unwrap();
    // Group 0 fails (no identity), groups 1 and 2 succeed through services.
    let got = must(decrypt_data_key_with(
        &wrapped,
        Some(2),
        &Identities::new(),
        &fake,
    ));
    assert!(got == key);
    // With the service down, two age groups still make the threshold.
    *fake.down.borrow_mut() = true;
    let mut ids = age_ids("age-test.txt");
    ids.add_file(&testdata("age-test-2.txt"), true).unwrap();
    fake.calls.borrow_mut().clear();
    let got = must(decrypt_data_key_with(&wrapped, Some(2), &ids, &fake));
    assert!(got == key);
    assert_eq!(fake.calls(), ["unwrap arn:aws:kms:us-east-1:1:key/g1"]);
}

#[test]
fn unsupported_feature_or_type_is_a_named_failure() {
    let services = Services::new(ServiceConfig::default());
    let gcp = ServiceKey::GcpKms(
        GcpKmsKey::parse("projects/p/locations/l/keyRings/r/cryptoKeys/k").unwrap(),
    );
    let err = services.unwrap(&gcp, "x").unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("gcp_kms key projects/p/locations/l/keyRings/r/cryptoKeys/k"),
        "{text}"
    );
    if cfg!(not(feature = "gcp-kms")) {
        assert!(text.contains("cargo feature `gcp-kms`"), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(24)))]

    /// Any mix of service keys and groups, with any subset of keys broken,
    /// decrypts exactly when enough groups have a working key.
    #[test]
    fn any_mix_decrypts_iff_enough_groups_work(
        layout in prop::collection::vec(prop::collection::vec(any::<bool>(), 1..4), 1..4),
        threshold_pick in 0usize..4,
    ) {
        let mut fake = Fake::default();
        let mut groups = Vec::new();
        let mut working_groups = 0;
        for (g, keys) in layout.iter().enumerate() {
            let mut group = Vec::new();
            for (k, works) in keys.iter().enumerate() {
                let key = kms(&format!("g{g}k{k}"));
                if !works {
                    fake.broken.insert(key.id(), "access denied".into());
                }
                group.push(KeyRecipient::from(key));
            }
            working_groups += usize::from(keys.iter().any(|w| *w));
            groups.push(group);
        }
        let n = groups.len();
        let threshold = if n == 1 { 1 } else { 2 + threshold_pick % (n - 1) };
        let key = DataKey::generate().unwrap();
        let wrapped = encrypt_data_key_for(&key, &groups, Some(threshold), &fake, "t").unwrap();
        let result = decrypt_data_key_with(&wrapped, Some(threshold), &Identities::new(), &fake);
        prop_assert_eq!(result.is_ok(), working_groups >= threshold);
        if let Ok(k) = result {
            prop_assert!(k == key);
        }
    }
}
