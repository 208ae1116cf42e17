//! Azure Key Vault against a local HTTPS fake written below in Python
//! (`http.server`, `ssl` and `cryptography`), with a CA and a leaf
//! certificate for 127.0.0.1 made by `openssl` at test time: real
//! RSA-OAEP-256, two key versions, the 401 bearer challenge and a token
//! check. The client trusts the CA through `AzureConfig::extra_root_pem` only.
#![cfg(feature = "azure-kv")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sops_like_keys::kms::{AzureConfig, AzureCredentials, AzureKvKey, ServiceOptions};
use sops_like_keys::{
    decrypt_data_key_with, encrypt_data_key_for, DataKey, Identities, KeyService, ServiceConfig,
    ServiceKey, Services,
};
use support::{run, Server};
use zeroize::Zeroizing;

/// The fake vault: key `sops` has versions `v1` and `v2` (the latest);
/// requests need `Authorization: Bearer good-token`, and a request without
/// one gets the challenge.
const FAKE: &str = r#"
import base64, json, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
KEYS = {"sops": {v: rsa.generate_private_key(public_exponent=65537, key_size=2048) for v in ("v1", "v2")}}
LATEST = {"sops": "v2"}
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

def b64d(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def b64e(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization")
        if auth is None:
            return self.send(401, {"error": {"code": "Unauthorized", "message": "no token"}}, [(
                "WWW-Authenticate",
                'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"')])
        if auth != "Bearer good-token":
            return self.send(403, {"error": {"code": "Forbidden", "message": "bad token"}})
        path = self.path.split("?")[0].split("/")
        # /keys/NAME/VERSION/OP (VERSION may be empty: the latest)
        if len(path) != 5 or path[1] != "keys" or path[4] not in ("wrapkey", "unwrapkey"):
            return self.send(400, {"error": {"code": "BadRequest", "message": "bad path"}})
        name, version, op = path[2], path[3] or LATEST.get(path[2], ""), path[4]
        versions = KEYS.get(name)
        if versions is None or version not in versions:
            return self.send(404, {"error": {"code": "KeyNotFound", "message": "no such key"}})
        req = json.loads(body)
        if req.get("alg") != "RSA-OAEP-256":
            return self.send(400, {"error": {"code": "BadParameter", "message": "alg"}})
        priv = versions[version]
        try:
            if op == "wrapkey":
                out = priv.public_key().encrypt(b64d(req["value"]), OAEP)
            else:
                out = priv.decrypt(b64d(req["value"]), OAEP)
        except Exception:
            return self.send(400, {"error": {"code": "BadParameter", "message": "decryption failed"}})
        kid = "https://127.0.0.1:%d/keys/%s/%s" % (port, name, version)
        self.send(200, {"kid": kid, "value": b64e(out)})

srv = ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"#;

struct Fake {
    server: Server,
    cert_pem: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl Fake {
    fn start() -> Option<Fake> {
        let openssl = support::tool("openssl")?;
        let python = support::tool("python3")?;
        let has_crypto = Command::new(&python)
            .args(["-c", "import cryptography"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_crypto {
            let note = "python3 has no `cryptography` (run scripts/kms-servers.sh install)";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{note}");
            eprintln!("SKIPPED: {note}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, script) = (
            dir.path().join("cert.pem"),
            dir.path().join("key.pem"),
            dir.path().join("fake_kv.py"),
        );
        // A CA and a leaf for 127.0.0.1 (rustls refuses a CA as the server's
        // own certificate).
        let (ca, ca_key, csr, ext) = (
            dir.path().join("ca.pem"),
            dir.path().join("ca.key"),
            dir.path().join("leaf.csr"),
            dir.path().join("leaf.ext"),
        );
        let new_key = ["-newkey", "rsa:2048", "-nodes"];
        run(Command::new(&openssl)
            .args([
                "req",
                "-x509",
                "-days",
                "1",
                "-subj",
                "/CN=sops-like test CA",
            ])
            .args(new_key)
            .arg("-keyout")
            .arg(&ca_key)
            .arg("-out")
            .arg(&ca));
        run(Command::new(&openssl)
            .args(["req", "-subj", "/CN=127.0.0.1"])
            .args(new_key)
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr));
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        run(Command::new(&openssl)
            .args(["x509", "-req", "-days", "1", "-set_serial", "2"])
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&ca)
            .arg("-CAkey")
            .arg(&ca_key)
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert));
        std::fs::write(&script, FAKE).unwrap();
        let mut server = Server::start_on_free_port(|port| {
            let mut cmd = Command::new(&python);
            cmd.arg(&script).arg(port.to_string()).arg(&cert).arg(&key);
            cmd
        });
        server.url = format!("https://127.0.0.1:{}", server.port);
        Some(Fake {
            server,
            cert_pem: std::fs::read(&ca).unwrap(),
            _dir: dir,
        })
    }

    fn key(&self, suffix: &str) -> AzureKvKey {
        AzureKvKey::parse(&format!("{}/keys/{suffix}", self.server.url)).unwrap()
    }
}

fn services(cert: Option<&[u8]>, token: &str) -> Services {
    Services::new(ServiceConfig {
        options: ServiceOptions {
            timeout: Duration::from_secs(3),
            attempts: 3,
            backoff: Duration::from_millis(50),
        },
        ..ServiceConfig::default()
    })
    .with_azure(AzureConfig {
        credentials: AzureCredentials::Token(Zeroizing::new(token.to_owned())),
        extra_root_pem: cert.map(<[u8]>::to_vec),
        skip_challenge_resource_check: true,
    })
}

fn text(e: &sops_like_keys::ServiceError) -> String {
    e.to_string()
}

#[test]
fn azure_kv_round_trip_versions_challenge_and_errors() {
    let Some(mut fake) = Fake::start() else {
        return;
    };
    let svc = services(Some(&fake.cert_pem), "good-token");

    // No version: the latest (v2) is used and stored.
    let latest = ServiceKey::AzureKv(fake.key("sops"));
    let wrapped = svc.wrap(&latest, &[5; 32]).unwrap();
    let ServiceKey::AzureKv(resolved) = &wrapped.key else {
        panic!("not an Azure key")
    };
    assert_eq!(resolved.version, "v2");
    assert_eq!(resolved.name, "sops");
    assert_eq!(resolved.vault_url, fake.server.url);
    // base64url without padding, of a 2048-bit RSA ciphertext.
    assert!(!wrapped.enc.contains('=') && !wrapped.enc.contains('+'));
    assert!(!wrapped.enc.contains('/'));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&wrapped.enc)
        .unwrap();
    assert_eq!(raw.len(), 256);
    assert_eq!(
        &svc.unwrap(&wrapped.key, &wrapped.enc).unwrap()[..],
        &[5; 32]
    );

    // A pinned version stays as it is; the other version cannot unwrap it.
    let v1 = ServiceKey::AzureKv(fake.key("sops/v1"));
    let w1 = svc.wrap(&v1, &[6; 32]).unwrap();
    assert_eq!(w1.key, v1);
    assert_eq!(&svc.unwrap(&v1, &w1.enc).unwrap()[..], &[6; 32]);
    let err = svc.unwrap(&wrapped.key, &w1.enc).unwrap_err();
    assert!(!err.transient && text(&err).contains("400"), "{err}");

    // Through the data-key API: the stored key carries the version.
    let data_key = DataKey::generate().unwrap();
    let groups =
        encrypt_data_key_for(&data_key, &[vec![latest.clone().into()]], None, &svc, "t").unwrap();
    match decrypt_data_key_with(&groups, None, &Identities::new(), &svc) {
        Ok(k) => assert!(k == data_key),
        Err(e) => panic!("{e}"),
    }

    // A missing key: permanent, names key and vault.
    let err = svc
        .wrap(&ServiceKey::AzureKv(fake.key("nope")), &[1; 32])
        .unwrap_err();
    assert!(!err.transient, "{err}");
    assert!(
        text(&err).starts_with(&format!(
            "azure_kv key {0}/keys/nope at {0}: HTTP 404",
            fake.server.url
        )),
        "{err}"
    );

    // A bad token: refused, not retried, the token never shown.
    let bad = services(Some(&fake.cert_pem), "bad-token");
    let start = Instant::now();
    let err = bad.unwrap(&wrapped.key, &wrapped.enc).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(text(&err).contains("403"), "{err}");
    assert!(!text(&err).contains("bad-token"), "{err}");

    // The certificate is not trusted without the extra root.
    let untrusting = services(None, "good-token");
    let err = untrusting.unwrap(&wrapped.key, &wrapped.enc).unwrap_err();
    let t = text(&err).to_lowercase();
    assert!(
        t.contains("certificate") || t.contains("tls") || t.contains("connect"),
        "{t}"
    );

    // The server down: a clear, transient error within the retry budget.
    fake.server.stop();
    let start = Instant::now();
    let err = svc.unwrap(&wrapped.key, &wrapped.enc).unwrap_err();
    assert!(start.elapsed() <= svc.config().options.budget() + Duration::from_secs(1));
    assert!(err.transient, "{err}");
    assert!(text(&err).contains(&fake.server.url), "{err}");
}
