//! The client against the server, in process, over TCP and a Unix socket
//! (the interop with the real `sops keyservice` is in the binary's tests).

use super::server::{serve, Handler, Listen, LocalKeys};
use super::*;
use crate::age::identity::{generate_identity, Identities};
use crate::age::recipient::Recipient;
use crate::groups::{decrypt_data_key_via, encrypt_data_key_via, Remotes};
use crate::kms::NoServices;
use crate::DataKey;
use std::sync::mpsc;
use std::sync::Arc;

const SECOND: Duration = Duration::from_secs(5);

/// A server on `listen` answering with `handler`, stopped when the
/// returned sender is dropped; the address it listens on.
fn server(listen: Listen, handler: Arc<dyn Handler>) -> (mpsc::Sender<()>, String) {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (addr_tx, addr_rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let stop = async move {
            // Polls the std channel: the test ends by dropping the sender.
            while let Err(mpsc::TryRecvError::Empty) = stop_rx.try_recv() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let result = serve(&listen, handler, stop, |a| {
            let _ = addr_tx.send(a.to_owned());
        });
        assert!(result.is_ok(), "{result:?}");
    });
    let addr = addr_rx.recv_timeout(SECOND).unwrap();
    (stop_tx, addr)
}

fn local(identity: &str) -> Arc<dyn Handler> {
    let mut ids = Identities::new();
    ids.add_text("test", identity).unwrap();
    Arc::new(LocalKeys::new(ids, NoServices))
}

/// `key` wrapped for the age `recipient` through `remotes`.
fn wrapped(key: &DataKey, recipient: &str, remotes: &Remotes) -> Vec<crate::KeyGroup> {
    let groups = vec![vec![KeyRecipient::Age(
        Recipient::parse(recipient).unwrap(),
    )]];
    encrypt_data_key_via(key, &groups, None, &NoServices, "", remotes).unwrap()
}

#[test]
fn addresses_parse_as_sops_takes_them() {
    for ok in [
        "tcp://127.0.0.1:5000",
        "tcp://localhost:5000/",
        "tcp4://10.0.0.1:1",
        "tcp6://[::1]:5000",
        "unix:///tmp/sops.sock",
    ] {
        assert!(RemoteKeyService::new(ok, SECOND).is_ok(), "{ok}");
    }
    // Go's url.Parse, as sops reads them: the scheme in any case, a tcp
    // address's user, path, query and fragment ignored.
    for (uri, target) in [
        ("TCP://127.0.0.1:5000", Target::Tcp("127.0.0.1:5000".into())),
        (
            "Tcp4://127.0.0.1:5000",
            Target::Tcp("127.0.0.1:5000".into()),
        ),
        (
            "tcp://127.0.0.1:5000/path",
            Target::Tcp("127.0.0.1:5000".into()),
        ),
        (
            "tcp://127.0.0.1:5000?x=1",
            Target::Tcp("127.0.0.1:5000".into()),
        ),
        (
            "tcp://127.0.0.1:5000#f",
            Target::Tcp("127.0.0.1:5000".into()),
        ),
        (
            "tcp://me@127.0.0.1:5000/a?b",
            Target::Tcp("127.0.0.1:5000".into()),
        ),
        ("UNIX:///tmp/s.sock?x=1", Target::Unix("/tmp/s.sock".into())),
    ] {
        assert_eq!(
            RemoteKeyService::new(uri, SECOND).unwrap().target,
            target,
            "{uri}"
        );
    }
    for bad in [
        "127.0.0.1:5000",
        "tcp://",
        "tcp://host",
        "tcp://host:99999",
        "unix://relative.sock",
        "http://host:80",
        "tcp://127.0.0.1/5000",
        "tcp://?127.0.0.1:5000",
    ] {
        let e = RemoteKeyService::new(bad, SECOND).err().unwrap();
        assert!(e.contains(bad), "{e}");
    }
}

/// Wrapping and unwrapping through the server, over TCP and a socket;
/// the local key service off, so only the remote one can do it.
#[test]
fn data_keys_go_through_a_remote_key_service() {
    let (identity, recipient) = generate_identity();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("ks.sock");
    let (stop_tcp, tcp) = server(Listen::Tcp("127.0.0.1:0".into()), local(&identity));
    let (stop_unix, _) = server(Listen::Unix(socket.clone()), local(&identity));
    // Only this user may connect to the socket.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    for uri in [
        format!("tcp://{tcp}"),
        format!("unix://{}", socket.display()),
    ] {
        let remotes = Remotes {
            local: false,
            services: vec![RemoteKeyService::new(&uri, SECOND).unwrap()],
        };
        let key = DataKey::generate().unwrap();
        let groups = wrapped(&key, &recipient, &remotes);
        // Nothing local can open it.
        let empty = Identities::new();
        assert!(decrypt_data_key_via(
            &groups,
            None,
            &empty,
            &NoServices,
            &["age"],
            &Remotes::default()
        )
        .is_err());
        let back =
            decrypt_data_key_via(&groups, None, &empty, &NoServices, &["age"], &remotes).unwrap();
        assert!(back == key, "{uri}");
    }
    drop(stop_tcp);
    drop(stop_unix);
    // The socket is removed when the server stops.
    for _ in 0..100 {
        if !socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!socket.exists());
}

/// A server without the identity reports why, and the report names the
/// local failure and the key service's; a dead address fails in time.
#[test]
fn failures_name_each_key_service() {
    let (identity, recipient) = generate_identity();
    let (other, _) = generate_identity();
    let (_stop, tcp) = server(Listen::Tcp("127.0.0.1:0".into()), local(&other));
    let key = DataKey::generate().unwrap();
    let mut ids = Identities::new();
    ids.add_text("test", &identity).unwrap();
    let groups = wrapped(&key, &recipient, &Remotes::default());
    let uri = format!("tcp://{tcp}");
    let remotes = Remotes {
        local: true,
        services: vec![
            RemoteKeyService::new(&uri, SECOND).unwrap(),
            RemoteKeyService::new("tcp://127.0.0.1:1", SECOND).unwrap(),
        ],
    };
    let empty = Identities::new();
    let e = decrypt_data_key_via(&groups, None, &empty, &NoServices, &["age"], &remotes)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no identity matches"), "{e}");
    assert!(e.contains(&format!("key service {uri}:")), "{e}");
    assert!(
        e.contains("key service tcp://127.0.0.1:1: could not connect"),
        "{e}"
    );
    // The local identity works first, with no call made.
    let back = decrypt_data_key_via(&groups, None, &ids, &NoServices, &["age"], &remotes).unwrap();
    assert!(back == key);
}

/// Every key type crosses the protocol unchanged.
#[test]
fn service_keys_cross_the_protocol_unchanged() {
    use crate::kms::{AwsKmsKey, AzureKvKey, GcpKmsKey, PgpKey, VaultKey};
    let keys = [
        ServiceKey::Kms(AwsKmsKey {
            arn: "arn:aws:kms:us-east-1:1:key/x".into(),
            role: "arn:aws:iam::1:role/r".into(),
            context: [("a".to_owned(), "b".to_owned())].into_iter().collect(),
            aws_profile: "p".into(),
        }),
        ServiceKey::Pgp(PgpKey {
            fingerprint: "ABCD".into(),
        }),
        ServiceKey::GcpKms(GcpKmsKey {
            resource_id: "projects/p/locations/l/keyRings/r/cryptoKeys/k".into(),
        }),
        ServiceKey::AzureKv(AzureKvKey {
            vault_url: "https://v.vault.azure.net".into(),
            name: "n".into(),
            version: "1".into(),
        }),
        ServiceKey::HcVault(VaultKey {
            vault_address: "http://127.0.0.1:8200".into(),
            engine_path: "transit".into(),
            key_name: "k".into(),
        }),
    ];
    for key in keys {
        let sent = key_of_service(&key);
        let master = server::master_key_for_tests(Some(sent), "enc".into()).unwrap();
        assert_eq!(master.service_key(), Some(key.clone()));
        assert_eq!(master.enc(), "enc");
    }
}

/// A handler that runs its own runtime (as the KMS clients do) works from
/// the server's blocking threads.
#[test]
fn handlers_may_block_on_their_own_runtime() {
    struct Nested;
    impl Handler for Nested {
        fn encrypt(&self, _: &KeyRecipient, _: &[u8]) -> Result<String, String> {
            Err("no".into())
        }
        fn decrypt(&self, _: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Zeroizing::new(rt.block_on(async { vec![7u8; 32] })))
        }
    }
    let (_stop, tcp) = server(Listen::Tcp("127.0.0.1:0".into()), Arc::new(Nested));
    let remote = RemoteKeyService::new(&format!("tcp://{tcp}"), SECOND).unwrap();
    let key = MasterKey::Age {
        recipient: "age1x".into(),
        enc: "x".into(),
    };
    assert_eq!(remote.decrypt(&key).unwrap().as_slice(), &[7u8; 32]);
}
