//! GCP Cloud KMS against `drongo` (PyPI `drongo==0.8.0` + `google-crc32c`,
//! a REST emulator whose "ciphertext" is not real crypto): round trips through
//! the official client, the data-key API, a missing key, and the server down.
#![cfg(feature = "gcp-kms")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sops_like_keys::kms::{GcpConfig, GcpCredentials, GcpKmsKey, ServiceOptions};
use sops_like_keys::{
    decrypt_data_key_with, encrypt_data_key_for, DataKey, Identities, KeyService, ServiceConfig,
    ServiceKey, Services,
};
use support::Server;

const KEY: &str = "projects/p1/locations/global/keyRings/ring/cryptoKeys/sops";

/// A drongo server with key ring `ring` and key `sops` in project `p1`.
fn drongo() -> Option<Server> {
    let bin = support::tool("drongo")?;
    let server = Server::start_on_free_port(|port| {
        let mut cmd = Command::new(&bin);
        cmd.args(["server", "--host", "127.0.0.1", "--port", &port.to_string()]);
        cmd
    });
    let port = server.port;
    post(
        port,
        "/v1/projects/p1/locations/global/keyRings?keyRingId=ring",
        "{}",
    );
    post(
        port,
        "/v1/projects/p1/locations/global/keyRings/ring/cryptoKeys?cryptoKeyId=sops",
        r#"{"purpose":"ENCRYPT_DECRYPT"}"#,
    );
    Some(server)
}

/// A minimal HTTP/1.1 POST on loopback; panics unless the answer is 200.
fn post(port: u16, path: &str, body: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
}

fn services(endpoint: &str) -> Services {
    Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_secs(2),
            attempts: 3,
            backoff: Duration::from_millis(50),
        },
        ..ServiceConfig::default()
    })
    .with_gcp(GcpConfig {
        endpoint: Some(endpoint.to_owned()),
        credentials: GcpCredentials::Anonymous,
    })
}

#[test]
fn gcp_kms_round_trip_missing_key_and_server_down() {
    let Some(mut server) = drongo() else { return };
    let svc = services(&server.url);
    let key = ServiceKey::GcpKms(GcpKmsKey::parse(KEY).unwrap());

    let wrapped = svc.wrap(&key, &[9; 32]).unwrap();
    assert_eq!(wrapped.key, key);
    // sops stores standard, padded base64 of the ciphertext.
    assert!(base64::engine::general_purpose::STANDARD
        .decode(&wrapped.enc)
        .is_ok());
    assert_eq!(&svc.unwrap(&key, &wrapped.enc).unwrap()[..], &[9; 32]);

    // Through the data-key API.
    let data_key = DataKey::generate().unwrap();
    let groups =
        encrypt_data_key_for(&data_key, &[vec![key.clone().into()]], None, &svc, "t").unwrap();
    match decrypt_data_key_with(&groups, None, &Identities::new(), &svc) {
        Ok(k) => assert!(k == data_key),
        Err(e) => panic!("{e}"),
    }

    // A key that does not exist: permanent, names key and endpoint.
    let missing = ServiceKey::GcpKms(
        GcpKmsKey::parse("projects/p1/locations/global/keyRings/ring/cryptoKeys/nope").unwrap(),
    );
    let start = Instant::now();
    let err = svc.wrap(&missing, &[1; 32]).unwrap_err();
    assert!(!err.transient, "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
    let text = err.to_string();
    eprintln!("missing key: {text}");
    assert!(
        text.starts_with(&format!(
            "gcp_kms key projects/p1/locations/global/keyRings/ring/cryptoKeys/nope at {}: ",
            server.url
        )),
        "{text}"
    );

    // The server down: a clear, transient error within the retry budget.
    server.stop();
    let start = Instant::now();
    let err = svc.unwrap(&key, &wrapped.enc).unwrap_err();
    let budget = svc.config().options.budget();
    assert!(start.elapsed() <= budget + Duration::from_secs(1));
    eprintln!("server down: {err}");
    assert!(err.transient, "{err}");
    assert!(err.to_string().contains(&server.url), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let svc = Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_millis(300),
            attempts: 2,
            backoff: Duration::from_millis(50),
        },
        ..ServiceConfig::default()
    })
    .with_gcp(GcpConfig {
        endpoint: Some(url),
        credentials: GcpCredentials::Anonymous,
    });
    let key = ServiceKey::GcpKms(GcpKmsKey::parse(KEY).unwrap());
    let start = Instant::now();
    let err = svc.wrap(&key, &[0; 32]).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(err.transient, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("timed out") || text.contains("no answer within 300 ms"),
        "{text}"
    );
    drop(listener);
}
