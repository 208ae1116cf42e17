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
            ca_bundle: None,
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

/// An entry's `enc` opens only under the key its `arn` names: Decrypt is
/// sent with KeyId, as sops sends it, so a blob wrapped by key A under an
/// entry naming key B is refused by KMS, directly and through a key
/// service (whose server side unwraps with the same code).
#[test]
fn kms_blob_of_another_key_is_refused() {
    use sops_like_keys::remote::server::{serve, Listen, LocalKeys};
    use sops_like_keys::{MasterKey, RemoteKeyService};
    use std::sync::{mpsc, Arc};

    let Some(server) = moto() else { return };
    let attacker = create_key(&server.url);
    let trusted = create_key(&server.url);
    let svc = services(&server.url);
    let a = ServiceKey::Kms(AwsKmsKey::parse(&attacker).unwrap());
    let b = ServiceKey::Kms(AwsKmsKey::parse(&trusted).unwrap());
    let wrapped = svc.wrap(&a, &[7; 32]).unwrap();
    assert_eq!(&svc.unwrap(&a, &wrapped.enc).unwrap()[..], &[7; 32]);
    let err = svc.unwrap(&b, &wrapped.enc).unwrap_err().to_string();
    assert!(err.starts_with(&format!("kms key {trusted} at ")), "{err}");
    assert!(!err.contains("[7, 7"), "{err}");

    // The same through a key service serving these credentials.
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (addr_tx, addr_rx) = mpsc::channel::<String>();
    let handler = Arc::new(LocalKeys::new(Identities::new(), services(&server.url)));
    let thread = std::thread::spawn(move || {
        let stop = async move {
            while let Err(mpsc::TryRecvError::Empty) = stop_rx.try_recv() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        serve(&Listen::Tcp("127.0.0.1:0".into()), handler, stop, |addr| {
            let _ = addr_tx.send(addr.to_owned());
        })
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let remote = RemoteKeyService::new(&format!("tcp://{addr}"), Duration::from_secs(20)).unwrap();
    let as_a = MasterKey::from_service(a, "t".into(), wrapped.enc.clone());
    assert_eq!(&remote.decrypt(&as_a).unwrap()[..], &[7; 32]);
    let as_b = MasterKey::from_service(b, "t".into(), wrapped.enc.clone());
    let err = remote.decrypt(&as_b).unwrap_err();
    assert!(!err.contains("[7, 7"), "{err}");
    // The server waits for its connections to close before it stops.
    drop(remote);
    drop(stop_tx);
    thread.join().unwrap().unwrap();
}

/// KMS behind a private CA (moto over HTTPS): refused with the system's
/// roots, opened with `ca_bundle` (sops: the AWS SDK's `AWS_CA_BUNDLE`),
/// and a bundle without a certificate is a clear error, not a panic.
#[test]
fn kms_trusts_the_given_ca_bundle() {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = support::test_ca(dir.path()) else {
        return;
    };
    let Some(bin) = support::tool("moto_server") else {
        return;
    };
    let server = Server::start_on_free_port(|port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string(), "-c"])
            .arg(&cert)
            .arg("-k")
            .arg(&key);
        cmd
    });
    let url = format!("https://127.0.0.1:{}", server.port);
    let pem = std::fs::read(&ca).unwrap();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            tls::TlsContext::builder()
                .with_trust_store(tls::TrustStore::empty().with_pem_certificate(pem))
                .build()
                .unwrap(),
        )
        .build_https();
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&url)
        .http_client(http)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt
        .block_on(aws_sdk_kms::Client::from_conf(conf).create_key().send())
        .unwrap();
    let arn = out.key_metadata().unwrap().arn().unwrap().to_owned();
    let service_key = ServiceKey::Kms(AwsKmsKey::parse(&arn).unwrap());
    let with_bundle = |bundle: Option<&std::path::Path>| {
        let mut config = services(&url).config().clone();
        config.aws.ca_bundle = bundle.map(std::path::Path::to_path_buf);
        config.options.attempts = 1;
        Services::new(config)
    };

    // The system's roots (and no profile file): the private CA is unknown.
    let err = with_bundle(None)
        .wrap(&service_key, &[5; 32])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with(&format!("kms key {arn}")), "{err}");

    let svc = with_bundle(Some(&ca));
    let wrapped = svc.wrap(&service_key, &[5; 32]).unwrap();
    assert_eq!(
        &svc.unwrap(&service_key, &wrapped.enc).unwrap()[..],
        &[5; 32]
    );

    let not_pem = dir.path().join("not-a-bundle.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let err = with_bundle(Some(&not_pem))
        .unwrap(&service_key, &wrapped.enc)
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds no certificate"), "{err}");
    let missing = dir.path().join("missing.pem");
    let err = with_bundle(Some(&missing))
        .unwrap(&service_key, &wrapped.enc)
        .unwrap_err()
        .to_string();
    assert!(err.contains("could not read the CA bundle"), "{err}");
}

/// With a role, a failure to get credentials is the role assumption's:
/// the message names the role and STS, and the key as `ARN+ROLE` (as
/// sops does), not only the KMS endpoint.
#[test]
fn failed_role_assumption_names_the_role() {
    let dead = format!("http://127.0.0.1:{}", support::free_port());
    let arn = "arn:aws:kms:us-east-1:123456789012:key/k";
    let role = "arn:aws:iam::123456789012:role/r1";
    let mut config = services(&dead).config().clone();
    config.options.attempts = 1;
    let svc = Services::new(config);
    let key = ServiceKey::Kms(AwsKmsKey::parse(&format!("{arn}+{role}")).unwrap());
    let err = svc.wrap(&key, &[1; 32]).unwrap_err();
    assert_eq!(err.key, format!("{arn}+{role}"));
    let text = err.to_string();
    assert!(
        text.contains(&format!("failed to assume role '{role}' (STS AssumeRole")),
        "{text}"
    );
    let err = svc.unwrap(&key, "AQID").unwrap_err().to_string();
    assert!(err.contains("failed to assume role"), "{err}");
    // Without a role, a KMS failure is the KMS endpoint's.
    let plain = ServiceKey::Kms(AwsKmsKey::parse(arn).unwrap());
    let err = svc.wrap(&plain, &[1; 32]).unwrap_err().to_string();
    assert!(!err.contains("assume role"), "{err}");
    assert!(
        err.starts_with(&format!("kms key {arn} at {dead}")),
        "{err}"
    );
}
