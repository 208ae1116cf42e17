//! AWS KMS against moto (`moto_server`, from PyPI `moto[server]`): round
//! trips with an encryption context, a wrong context refused, role
//! assumption through STS, a stopped server, and interop with the real sops.
#![cfg(feature = "aws-kms")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use sops_like_keys::kms::{AwsConfig, AwsCredentials, AwsKmsKey, ServiceOptions};
use sops_like_keys::{
    decrypt_data_key_with, encrypt_data_key_for, generate_identity, DataKey, Identities,
    KeyRecipient, KeyService, Recipient, ServiceConfig, ServiceKey, Services,
};
use support::{run, Server};
use zeroize::Zeroizing;

fn moto() -> Option<Server> {
    let bin = support::tool("moto_server")?;
    Some(Server::start_on_free_port(|port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        cmd
    }))
}

/// Creates a symmetric key in moto; returns its ARN.
fn create_key(url: &str) -> String {
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    let client = aws_sdk_kms::Client::from_conf(conf);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(client.create_key().send()).unwrap();
    out.key_metadata().unwrap().arn().unwrap().to_owned()
}

fn services(url: &str) -> Services {
    Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_secs(2),
            attempts: 2,
            backoff: Duration::from_millis(50),
        },
        aws: AwsConfig {
            endpoint_url: Some(url.to_owned()),
            credentials: Some(AwsCredentials {
                access_key_id: "test".into(),
                secret_access_key: Zeroizing::new("test".into()),
                session_token: None,
            }),
            role_session_name: None,
        },
        ..ServiceConfig::default()
    })
}

fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn must(result: Result<DataKey, sops_like_keys::UnwrapError>) -> DataKey {
    match result {
        Ok(k) => k,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn kms_round_trip_context_and_role() {
    let Some(server) = moto() else { return };
    let arn = create_key(&server.url);
    let svc = services(&server.url);
    let ctx = context(&[("app", "web"), ("env", "prod")]);
    let key = AwsKmsKey::parse(&arn).unwrap().with_context(ctx.clone());
    let service_key = ServiceKey::Kms(key.clone());
    let wrapped = svc.wrap(&service_key, &[9; 32]).unwrap();
    assert_eq!(
        &svc.unwrap(&service_key, &wrapped.enc).unwrap()[..],
        &[9; 32]
    );

    // A wrong or missing encryption context is refused by KMS.
    for other in [context(&[("app", "web"), ("env", "dev")]), BTreeMap::new()] {
        let wrong = ServiceKey::Kms(key.clone().with_context(other));
        let err = svc.unwrap(&wrong, &wrapped.enc).unwrap_err().to_string();
        assert!(err.contains("InvalidCiphertext"), "{err}");
        assert!(
            err.starts_with(&format!("kms key {arn} at {}", server.url)),
            "{err}"
        );
    }

    // Role assumption (arn+role, as sops writes it) through moto's STS.
    let with_role =
        AwsKmsKey::parse(&format!("{arn}+arn:aws:iam::123456789012:role/sops")).unwrap();
    assert_eq!(with_role.role, "arn:aws:iam::123456789012:role/sops");
    let data_key = DataKey::generate().unwrap();
    let groups = encrypt_data_key_for(
        &data_key,
        &[vec![ServiceKey::Kms(with_role).into()]],
        None,
        &svc,
        "2026-05-01T00:00:00Z",
    )
    .unwrap();
    assert!(
        must(decrypt_data_key_with(
            &groups,
            None,
            &Identities::new(),
            &svc
        )) == data_key
    );
}

#[test]
fn mixed_age_and_kms_with_the_server_stopped() {
    let Some(mut server) = moto() else { return };
    let arn = create_key(&server.url);
    let svc = services(&server.url);
    let (identity, age_recipient) = generate_identity();
    let age: KeyRecipient = Recipient::parse(&age_recipient).unwrap().into();
    let kms: KeyRecipient = ServiceKey::Kms(AwsKmsKey::parse(&arn).unwrap()).into();
    let data_key = DataKey::generate().unwrap();
    let groups = encrypt_data_key_for(&data_key, &[vec![kms, age]], None, &svc, "t").unwrap();
    server.stop();

    let mut ids = Identities::new();
    ids.add_text("test", &identity).unwrap();
    assert!(must(decrypt_data_key_with(&groups, None, &ids, &svc)) == data_key);

    let start = Instant::now();
    let err = match decrypt_data_key_with(&groups, None, &Identities::new(), &svc) {
        Ok(_) => panic!("decrypted with the server stopped"),
        Err(e) => e.to_string(),
    };
    let budget = svc.config().options.budget();
    assert!(
        start.elapsed() <= budget + Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(err.contains(&format!("kms {arn}: {}", server.url)), "{err}");
}

/// sops encrypts with our moto key and a context; we unwrap its `enc`,
/// re-wrap the data key ourselves, put our `enc` in its file, and sops
/// decrypts it.
#[test]
fn interop_with_real_sops() {
    let Some(sops) = support::sops() else { return };
    let Some(server) = moto() else { return };
    let arn = create_key(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("s.json");
    std::fs::write(&plain, "{\"password\": \"hunter2\"}\n").unwrap();
    let aws_env = |c: &mut Command| {
        c.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_ENDPOINT_URL", &server.url)
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    };
    let mut cmd = Command::new(&sops);
    cmd.args([
        "encrypt",
        "--kms",
        &arn,
        "--encryption-context",
        "app:web,env:prod",
    ])
    .arg(&plain);
    aws_env(&mut cmd);
    let out = run(&mut cmd);
    let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = doc["sops"]["kms"][0].clone();
    assert_eq!(entry["arn"], arn.as_str());
    assert_eq!(entry["aws_profile"], "");
    let key = AwsKmsKey::parse(&arn)
        .unwrap()
        .with_context(context(&[("app", "web"), ("env", "prod")]));
    let key = ServiceKey::Kms(key);
    let svc = services(&server.url);
    let data_key = svc.unwrap(&key, entry["enc"].as_str().unwrap()).unwrap();
    assert_eq!(data_key.len(), 32);

    let ours = svc.wrap(&key, &data_key).unwrap().enc;
    doc["sops"]["kms"][0]["enc"] = serde_json::Value::String(ours);
    let enc_file = dir.path().join("e.json");
    std::fs::write(&enc_file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let mut cmd = Command::new(&sops);
    cmd.arg("decrypt").arg(&enc_file);
    aws_env(&mut cmd);
    let out = run(&mut cmd);
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(back["password"], "hunter2");
}
