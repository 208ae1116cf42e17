//! `publish` end to end: S3 through moto_server, Vault KV 1 and 2 through
//! an OpenBao dev server (both started and stopped here, on 127.0.0.1, as
//! the KMS tests do), GCS through a fake upload endpoint served by the
//! test itself; and the real sops reading what was published.

use crate::kms::{Bao, Moto};
use crate::util::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const DOC: &str = "db:\n  user: admin\n  password: hunter2\nport: 5432\n";

/// `sops-like publish ARGS` in `dir` (the demo identity), with `env`, and
/// `stdin` as the answers to its questions.
fn publish(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut c = cmd(dir, Some("age-test.txt"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.arg("publish")
        .args(args)
        .write_stdin(stdin.to_string())
        .output()
        .unwrap()
}

/// An encrypted copy of `DOC` (AES256_GCM, for the demo recipient) at `dir/name`.
fn encrypted(dir: &Path, name: &str) -> Vec<u8> {
    let text = encrypt_text(dir, name, DOC, &["--cipher", "aes256-gcm"]);
    std::fs::write(dir.join(name), &text).unwrap();
    text.into_bytes()
}

fn aws(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", url.to_string()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// curl against moto's S3 (it wants some SigV4 header on reads, unchecked).
fn s3(url: &str, method: &str, path: &str) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-X", method, "-w", "\n%{http_code}"])
        .args(["-H", "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"])
        .arg(format!("{url}/{path}"))
        .output()
        .unwrap();
    let mut body = out.stdout;
    let cut = body.iter().rposition(|b| *b == b'\n').unwrap();
    let status = String::from_utf8_lossy(&body[cut + 1..]).parse().unwrap();
    body.truncate(cut);
    (status, body)
}

/// The object keys of `bucket`, sorted.
fn s3_keys(url: &str, bucket: &str) -> Vec<String> {
    let (status, body) = s3(url, "GET", bucket);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let text = String::from_utf8(body).unwrap();
    let mut keys: Vec<String> = text
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect();
    keys.sort();
    keys
}

#[test]
fn s3_publishes_as_is_or_recreated_for_the_rule_keys_and_sops_reads_it() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempdir();
    let d = dir.path();
    assert_eq!(s3(&moto.url, "PUT", "bkt").0, 200);
    let bob = recipient_of("age-test-2.txt");
    std::fs::write(
        d.join(".sops.yaml"),
        format!(
            "destination_rules:\n  - path_regex: ^recreate/\n    s3_bucket: bkt\n    s3_prefix: team/\n    recreation_rule:\n      age: {bob}\n  - path_regex: ^selective/\n    s3_bucket: bkt\n    recreation_rule:\n      age: {bob}\n      encrypted_regex: ^password$\n  - s3_bucket: bkt\n    s3_prefix: raw/\n"
        ),
    )
    .unwrap();
    let env = aws(&moto.url);
    let env = env_refs(&env);
    // No recreation rule: the file's bytes as they are.
    let raw = encrypted(d, "app.yaml");
    let out = publish(d, &env, &["-y", "app.yaml"], "");
    assert_ok(&out);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(s3(&moto.url, "GET", "bkt/raw/app.yaml"), (200, raw.clone()));
    // The real sops uploads the same bytes to the same key.
    if let Some(mut sops) = sops(d, "age-test.txt") {
        for (k, v) in &env {
            sops.env(k, v);
        }
        let out = sops
            .current_dir(d)
            .args(["publish", "-y", "app.yaml"])
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(s3(&moto.url, "GET", "bkt/raw/app.yaml"), (200, raw));
    }
    // A recreation rule: a new data key for bob only; the key change is
    // shown, and the answer `y` publishes.
    std::fs::create_dir(d.join("recreate")).unwrap();
    let original = encrypted(d, "recreate/db.yaml");
    let out = publish(d, &env, &["recreate/db.yaml"], "y\n");
    assert_ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let abs = d.join("recreate/db.yaml").canonicalize().unwrap();
    assert_eq!(
        stdout,
        format!(
            "The following changes will be made to the file's key groups:\nGroup 1\n+++ {bob}\n--- {}\nuploading {} to s3://bkt/team/db.yaml ? (y/n): ",
            demo_recipient(),
            abs.display()
        )
    );
    assert_eq!(std::fs::read(d.join("recreate/db.yaml")).unwrap(), original);
    let (status, published) = s3(&moto.url, "GET", "bkt/team/db.yaml");
    assert_eq!(status, 200);
    let published = String::from_utf8(published).unwrap();
    assert!(published.contains(&bob) && !published.contains(&demo_recipient()));
    let got = d.join("got.yaml");
    std::fs::write(&got, &published).unwrap();
    let out = cmd(d, Some("age-test-2.txt"))
        .arg("decrypt")
        .arg(&got)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC);
    // The old recipient cannot open the published copy (new data key).
    let out = cmd(d, Some("age-test.txt"))
        .arg("decrypt")
        .arg(&got)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    if let Some(mut sops) = sops(d, "age-test-2.txt") {
        let out = sops.arg("decrypt").arg(&got).output().unwrap();
        assert_ok(&out);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("password: hunter2") && text.contains("port: 5432"),
            "{text}"
        );
    }
    // The recreation rule's selector applies to the published copy.
    std::fs::create_dir(d.join("selective")).unwrap();
    encrypted(d, "selective/s.yaml");
    assert_ok(&publish(d, &env, &["-y", "selective/s.yaml"], ""));
    let (status, published) = s3(&moto.url, "GET", "bkt/s.yaml");
    assert_eq!(status, 200);
    let published = String::from_utf8(published).unwrap();
    assert!(
        published.contains("user: admin") && !published.contains("hunter2"),
        "{published}"
    );
    std::fs::write(&got, &published).unwrap();
    if let Some(mut sops) = sops(d, "age-test-2.txt") {
        let out = sops.arg("decrypt").arg(&got).output().unwrap();
        assert_ok(&out);
        assert!(String::from_utf8(out.stdout)
            .unwrap()
            .contains("password: hunter2"));
    }
}

#[test]
fn s3_recursive_names_by_relative_path_and_answers_are_asked_until_y_or_n() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempdir();
    let d = dir.path();
    assert_eq!(s3(&moto.url, "PUT", "bkt").0, 200);
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - s3_bucket: bkt\n    s3_prefix: p/\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("tree/sub")).unwrap();
    encrypted(d, "tree/a.yaml");
    encrypted(d, "tree/sub/b.enc.yaml");
    encrypted(d, "one.yaml");
    // The S3-specific endpoint variable wins over the global one.
    let mut env = aws("http://127.0.0.1:9");
    env.push(("AWS_ENDPOINT_URL_S3", moto.url.clone()));
    let env = env_refs(&env);
    // A directory needs --recursive.
    let out = publish(d, &env, &["-y", "tree"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--recursive"));
    // "n" for the first file of the walk skips it; the walk goes on.
    let out = publish(
        d,
        &env,
        &["--recursive", "--omit-extensions", "tree"],
        "n\nmaybe\ny\n",
    );
    assert_ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let a = d.join("tree/a.yaml").canonicalize().unwrap();
    let b = d.join("tree/sub/b.enc.yaml").canonicalize().unwrap();
    assert_eq!(
        stdout,
        format!(
            "uploading {a} to s3://bkt/p/a ? (y/n): Publication of {a} canceled\nuploading {b} to s3://bkt/p/sub/b.enc ? (y/n): uploading {b} to s3://bkt/p/sub/b.enc ? (y/n): ",
            a = a.display(),
            b = b.display()
        )
    );
    assert_eq!(s3_keys(&moto.url, "bkt"), vec!["p/sub/b.enc".to_string()]);
    // "n" for a single file: nothing published, exit code 1 (as sops).
    let out = publish(d, &env, &["one.yaml"], "n\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("canceled"));
    // With --recursive even a single file's "n" is no error (as sops),
    // and the file keeps its name (sops would name it `.`).
    let out = publish(d, &env, &["--recursive", "one.yaml"], "n\n");
    assert_ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("to s3://bkt/p/one.yaml ? (y/n): Publication of"),
        "{stdout}"
    );
    // No answer at all: an error, nothing published.
    let out = publish(d, &env, &["one.yaml"], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s3_keys(&moto.url, "bkt"), vec!["p/sub/b.enc".to_string()]);
    // -y, and the rule's omit_extensions.
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - s3_bucket: bkt\n    s3_prefix: p/\n    omit_extensions: true\n",
    )
    .unwrap();
    assert_ok(&publish(d, &env, &["-y", "--recursive", "tree"], ""));
    assert_ok(&publish(d, &env, &["--yes", "one.yaml"], ""));
    assert_eq!(
        s3_keys(&moto.url, "bkt"),
        vec!["p/a", "p/one", "p/sub/b.enc"]
    );
    // A bucket that does not exist: a clear error naming it, exit code 1.
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - s3_bucket: nope\n",
    )
    .unwrap();
    let out = publish(d, &env, &["-y", "one.yaml"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s3://nope/one.yaml") && err.contains("404"),
        "{err}"
    );
}

/// `sops publish -y ARGS` in `dir` with `env`, if the real sops is there.
fn sops_publish(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Option<Output> {
    let mut sops = sops(dir, "age-test.txt")?;
    for (k, v) in env {
        sops.env(k, v);
    }
    Some(
        sops.current_dir(dir)
            .args(["publish", "-y"])
            .args(args)
            .output()
            .unwrap(),
    )
}

/// A file whose metadata sops's `LoadEncryptedFile` refuses (no keys at
/// all, `age: []`, a `lastmodified` that is no time) is refused before
/// anything is sent, with or without a recreation rule, alone or in a
/// walk: it would otherwise upload plaintext values as they are.
#[test]
fn s3_refuses_files_whose_metadata_sops_refuses_before_uploading() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempdir();
    let d = dir.path();
    assert_eq!(s3(&moto.url, "PUT", "bkt").0, 200);
    let bob = recipient_of("age-test-2.txt");
    std::fs::write(
        d.join(".sops.yaml"),
        format!("destination_rules:\n  - path_regex: ^re/\n    s3_bucket: bkt\n    recreation_rule:\n      age: {bob}\n  - s3_bucket: bkt\n"),
    )
    .unwrap();
    let env = aws(&moto.url);
    let env = env_refs(&env);
    let keyless = "password: hunter2\nsops:\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    version: 3.11.0\n";
    let text = String::from_utf8(encrypted(d, "good.yaml")).unwrap();
    let age_start = text.find("    age:\n").unwrap();
    let age_end = text.find("    lastmodified:").unwrap();
    let no_age = format!("{}    age: []\n{}", &text[..age_start], &text[age_end..]);
    let line_end = age_end + text[age_end..].find('\n').unwrap();
    let bad_time = format!(
        "{}    lastmodified: notatime{}",
        &text[..age_end],
        &text[line_end..]
    );
    std::fs::create_dir_all(d.join("re")).unwrap();
    std::fs::create_dir_all(d.join("walk")).unwrap();
    std::fs::write(d.join("keyless.yaml"), keyless).unwrap();
    std::fs::write(d.join("keyless-mac.yaml"), format!("{keyless}    mac: x\n")).unwrap();
    std::fs::write(d.join("re/keyless.yaml"), keyless).unwrap();
    std::fs::write(d.join("walk/keyless.yaml"), keyless).unwrap();
    std::fs::write(d.join("no-age.yaml"), &no_age).unwrap();
    std::fs::write(d.join("bad-time.yaml"), &bad_time).unwrap();
    for (args, says) in [
        (&["-y", "keyless.yaml"][..], "no keys found"),
        (&["-y", "keyless-mac.yaml"], "no keys found"),
        (&["-y", "re/keyless.yaml"], "no keys found"),
        (&["-y", "--recursive", "walk"], "no keys found"),
        (&["-y", "no-age.yaml"], "no keys found"),
        (&["-y", "bad-time.yaml"], "lastmodified"),
    ] {
        let out = publish(d, &env, args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && !err.contains("hunter2"),
            "{args:?}: {err}"
        );
        assert_eq!(s3_keys(&moto.url, "bkt"), Vec::<String>::new(), "{args:?}");
        // sops refuses them too (exit 1), and uploads nothing either.
        let file = args[args.len() - 1];
        if !file.starts_with("walk") {
            if let Some(theirs) = sops_publish(d, &env, &[file]) {
                assert_eq!(theirs.status.code(), Some(1), "sops {file}");
                assert_eq!(
                    s3_keys(&moto.url, "bkt"),
                    Vec::<String>::new(),
                    "sops {file}"
                );
            }
        }
    }
    // The intact file is published.
    assert_ok(&publish(d, &env, &["-y", "good.yaml"], ""));
    assert_eq!(s3_keys(&moto.url, "bkt"), vec!["good.yaml".to_string()]);
}

/// `.` and `..` segments of s3_prefix are part of the object key, as the
/// Go SDK sends it for sops: never resolved into another key, nor into
/// another bucket.
#[test]
fn s3_prefix_dot_segments_stay_in_the_key_of_the_rule_bucket() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempdir();
    let d = dir.path();
    for bucket in ["bkt", "bkt2"] {
        assert_eq!(s3(&moto.url, "PUT", bucket).0, 200);
    }
    let raw = encrypted(d, "x.yaml");
    let env = aws(&moto.url);
    let env = env_refs(&env);
    for (prefix, key) in [
        ("../bkt2/", "../bkt2/x.yaml"),
        ("a/../b/", "a/../b/x.yaml"),
        ("x/./y/", "x/./y/x.yaml"),
        ("../../", "../../x.yaml"),
    ] {
        std::fs::write(
            d.join(".sops.yaml"),
            format!("destination_rules:\n  - s3_bucket: bkt\n    s3_prefix: '{prefix}'\n"),
        )
        .unwrap();
        assert_ok(&publish(d, &env, &["-y", "x.yaml"], ""));
        assert_eq!(s3_keys(&moto.url, "bkt"), vec![key.to_string()], "{prefix}");
        assert_eq!(s3_keys(&moto.url, "bkt2"), Vec::<String>::new(), "{prefix}");
        // The object holds the file; sops writes the same key.
        let list = s3(
            &moto.url,
            "GET",
            &format!("bkt?prefix={}", key.replace('/', "%2F")),
        );
        assert!(String::from_utf8_lossy(&list.1).contains(&format!("<Size>{}</Size>", raw.len())));
        assert_eq!(
            s3(
                &moto.url,
                "DELETE",
                &format!("bkt/{}", key.replace('.', "%2E").replace('/', "%2F"))
            )
            .0,
            204
        );
        if let Some(theirs) = sops_publish(d, &env, &["x.yaml"]) {
            assert_ok(&theirs);
            assert_eq!(
                s3_keys(&moto.url, "bkt"),
                vec![key.to_string()],
                "sops {prefix}"
            );
            assert_eq!(
                s3_keys(&moto.url, "bkt2"),
                Vec::<String>::new(),
                "sops {prefix}"
            );
            assert_eq!(
                s3(
                    &moto.url,
                    "DELETE",
                    &format!("bkt/{}", key.replace('.', "%2E").replace('/', "%2F"))
                )
                .0,
                204
            );
        }
    }
}

/// `--recursive` publishes a symlink to a file through it, as sops's
/// `filepath.Walk` does; a symlink to a directory is not walked into and
/// is reported as a file that cannot be read (exit 2, as sops).
#[test]
fn s3_recursive_publishes_symlinked_files() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempdir();
    let d = dir.path();
    assert_eq!(s3(&moto.url, "PUT", "bkt").0, 200);
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - s3_bucket: bkt\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("d")).unwrap();
    std::fs::create_dir_all(d.join("other")).unwrap();
    std::fs::create_dir_all(d.join("d2")).unwrap();
    let linked = encrypted(d, "other/x.yaml");
    encrypted(d, "d/real.yaml");
    std::os::unix::fs::symlink("../other/x.yaml", d.join("d/link.yaml")).unwrap();
    let env = aws(&moto.url);
    let env = env_refs(&env);
    let out = publish(d, &env, &["-y", "--recursive", "d"], "");
    assert_ok(&out);
    assert_eq!(s3_keys(&moto.url, "bkt"), vec!["link.yaml", "real.yaml"]);
    assert_eq!(s3(&moto.url, "GET", "bkt/link.yaml"), (200, linked));
    // A symlink to a directory: reported, not skipped silently.
    std::os::unix::fs::symlink("../other", d.join("d2/sub")).unwrap();
    let out = publish(d, &env, &["-y", "--recursive", "d2"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("d2/sub"));
    assert_eq!(s3_keys(&moto.url, "bkt"), vec!["link.yaml", "real.yaml"]);
    if let Some(theirs) = sops_publish(d, &env, &["--recursive", "d2"]) {
        assert_eq!(theirs.status.code(), Some(2));
    }
}

/// What the fake GCS endpoint received: the request line, the headers
/// (lower-case names) and the body.
struct Received {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Serve at most `max` requests on 127.0.0.1, answering `status` with a
/// JSON body, until `max` are served or 60 s have passed; the thread ends
/// on its own either way.
fn fake_gcs(max: usize, status: u16) -> (String, std::thread::JoinHandle<Vec<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while got.len() < max && Instant::now() < deadline {
            let (mut conn, _) = match listener.accept() {
                Ok(c) => c,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i;
                }
                let n = conn.read(&mut chunk).unwrap();
                assert!(n > 0, "connection closed before the headers ended");
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let line = lines.next().unwrap().to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut body = buf[head_end + 4..].to_vec();
            while body.len() < len {
                let n = conn.read(&mut chunk).unwrap();
                assert!(n > 0, "connection closed before the body ended");
                body.extend_from_slice(&chunk[..n]);
            }
            let answer = if status == 200 {
                r#"{"kind":"storage#object"}"#.to_string()
            } else {
                r#"{"error":{"code":403,"message":"no access to bucket"}}"#.to_string()
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            got.push(Received {
                line,
                headers,
                body,
            });
        }
        got
    });
    (addr.to_string(), handle)
}

#[test]
fn gcs_uploads_the_file_to_the_emulator_host() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - path_regex: \\.yaml$\n    gcs_bucket: my-bucket\n    gcs_prefix: cfg/\n",
    )
    .unwrap();
    let bytes = encrypted(d, "svc one.yaml");
    let (host, server) = fake_gcs(1, 200);
    let out = publish(
        d,
        &[("STORAGE_EMULATOR_HOST", &host)],
        &["-y", "--omit-extensions", "svc one.yaml"],
        "",
    );
    assert_ok(&out);
    let got = server.join().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].line,
        "POST /upload/storage/v1/b/my-bucket/o?uploadType=media&name=cfg%2Fsvc%20one HTTP/1.1"
    );
    assert_eq!(got[0].body, bytes);
    // The emulator gets no credentials.
    assert!(!got[0].headers.iter().any(|(k, _)| k == "authorization"));
    // A refusal: exit code 1, the server's message, nothing secret.
    let (host, server) = fake_gcs(1, 403);
    let out = publish(
        d,
        &[("STORAGE_EMULATOR_HOST", &format!("http://{host}/"))],
        &["-y", "svc one.yaml"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gcs://my-bucket/cfg/svc one.yaml") && err.contains("no access to bucket"),
        "{err}"
    );
    assert_eq!(server.join().unwrap().len(), 1);
}

/// GET a secret from the dev server: its `data` object.
fn vault_get(url: &str, path: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-s", "-H", "X-Vault-Token: root"])
        .arg(format!("{url}/v1/{path}"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    v["data"].clone()
}

#[test]
fn vault_kv_1_and_2_get_the_decrypted_document_as_sops_writes_it() {
    let Some(bao) = Bao::start() else { return };
    bao.cli(&["secrets", "enable", "-path=kv1", "-version=1", "kv"]);
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join(".sops.yaml"),
        format!(
            "destination_rules:\n  - path_regex: v1\n    vault_path: apps\n    vault_kv_mount_name: kv1/\n    vault_kv_version: 1\n    vault_address: {}\n  - path_regex: ^theirs\n    vault_path: theirs/\n  - vault_path: apps\n",
            bao.url
        ),
    )
    .unwrap();
    let doc = "# config\ndb:\n  user: admin\n  port: 5432\n  ratio: 0.5\n  on: true\nhosts:\n  - a\n  - b\nempty: null\n";
    let expected = serde_json::json!({
        "db": {"user": "admin", "port": 5432, "ratio": 0.5, "on": true},
        "hosts": ["a", "b"],
        "empty": null
    });
    for name in ["v2.yaml", "v1.yaml", "theirs.yaml"] {
        let text = encrypt_text(d, name, doc, &["--cipher", "aes256-gcm"]);
        std::fs::write(d.join(name), text).unwrap();
    }
    let env = [("VAULT_ADDR", bao.url.as_str()), ("VAULT_TOKEN", "root")];
    // KV 2 (default mount secret/, address from VAULT_ADDR).
    let out = publish(d, &env, &["v2.yaml"], "y\n");
    assert_ok(&out);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "uploading {} to {}/v1/secret/data/apps/v2.yaml ? (y/n): ",
            d.join("v2.yaml").canonicalize().unwrap().display(),
            bao.url
        )
    );
    let secret = vault_get(&bao.url, "secret/data/apps/v2.yaml");
    assert_eq!(secret["data"], expected);
    assert_eq!(secret["metadata"]["version"], 1);
    // The same data again: no new version.
    assert_ok(&publish(d, &env, &["-y", "v2.yaml"], ""));
    assert_eq!(
        vault_get(&bao.url, "secret/data/apps/v2.yaml")["metadata"]["version"],
        1
    );
    // KV 1 (the rule's address and mount).
    let out = publish(d, &[("VAULT_TOKEN", "root")], &["-y", "v1.yaml"], "");
    assert_ok(&out);
    assert_eq!(vault_get(&bao.url, "kv1/apps/v1.yaml"), expected);
    // The real sops writes the same secret for the same document.
    if let Some(mut sops) = sops(d, "age-test.txt") {
        let out = sops
            .current_dir(d)
            .envs(env)
            .args(["publish", "-y", "theirs.yaml"])
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(
            vault_get(&bao.url, "secret/data/theirs/theirs.yaml")["data"],
            expected
        );
    }
    // A wrong token: exit code 1, the server's error, not the token.
    let out = publish(
        d,
        &[
            ("VAULT_ADDR", bao.url.as_str()),
            ("VAULT_TOKEN", "s3cr3t-wrong"),
        ],
        &["-y", "v2.yaml"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("403") && !err.contains("s3cr3t-wrong") && !err.contains("hunter2"),
        "{err}"
    );
    // A document that is not a mapping cannot be a KV secret.
    let list = encrypt_text(
        d,
        "list.json",
        "[1, 2]",
        &["--cipher", "xchacha20-poly1305"],
    );
    std::fs::write(d.join("list.json"), list).unwrap();
    let out = publish(d, &env, &["-y", "list.json"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a mapping"));
}

/// The KV path is cleaned as Go's vault client cleans it for sops (a
/// leading `/`, doubled `/` in vault_path and vault_kv_mount_name), and
/// `vault_kv_version: 1.0` is version 1, as go-yaml reads it for sops.
/// The token may come from `~/.vault-token` (a deliberate difference:
/// sops's publish reads VAULT_TOKEN only).
#[test]
fn vault_paths_are_cleaned_and_whole_float_versions_are_integers() {
    let Some(bao) = Bao::start() else { return };
    bao.cli(&["secrets", "enable", "-path=kv1", "-version=1", "kv"]);
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - path_regex: ^lead\n    vault_path: /apps\n  - path_regex: ^double\n    vault_path: a//b\n    vault_kv_mount_name: /secret//\n  - path_regex: ^v1\n    vault_path: apps\n    vault_kv_mount_name: kv1\n    vault_kv_version: 1.0\n",
    )
    .unwrap();
    for name in ["lead.yaml", "double.yaml", "v1.yaml"] {
        encrypted(d, name);
    }
    let expected =
        serde_json::json!({"db": {"user": "admin", "password": "hunter2"}, "port": 5432});
    let env = [("VAULT_ADDR", bao.url.as_str()), ("VAULT_TOKEN", "root")];
    let out = publish(d, &env, &["-y", "lead.yaml"], "");
    assert_ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        vault_get(&bao.url, "secret/data/apps/lead.yaml")["data"],
        expected
    );
    assert_ok(&publish(d, &env, &["-y", "double.yaml"], ""));
    assert_eq!(
        vault_get(&bao.url, "secret/data/a/b/double.yaml")["data"],
        expected
    );
    // The same data again: the read found it (no new version).
    assert_ok(&publish(d, &env, &["-y", "double.yaml"], ""));
    assert_eq!(
        vault_get(&bao.url, "secret/data/a/b/double.yaml")["metadata"]["version"],
        1
    );
    // A whole float is the integer 1: KV version 1 (no data/ wrapper).
    let out = publish(d, &env, &["-y", "v1.yaml"], "");
    assert_ok(&out);
    assert_eq!(vault_get(&bao.url, "kv1/apps/v1.yaml"), expected);
    if let Some(theirs) = sops_publish(d, &env, &["lead.yaml"]) {
        assert_ok(&theirs);
    }
    // ~/.vault-token when VAULT_TOKEN is not set.
    std::fs::write(d.join(".vault-token"), "root\n").unwrap();
    encrypted(d, "lead2.yaml");
    assert_ok(&publish(
        d,
        &[("VAULT_ADDR", bao.url.as_str())],
        &["-y", "lead2.yaml"],
        "",
    ));
    assert_eq!(
        vault_get(&bao.url, "secret/data/apps/lead2.yaml")["data"],
        expected
    );
}

#[test]
fn config_and_argument_errors_match_sops() {
    let dir = tempdir();
    let d = dir.path();
    encrypted(d, "app.yaml");
    std::fs::write(d.join("plain.yaml"), "a: 1\n").unwrap();
    // No config file: exit code 1 (checked before the file argument).
    assert_eq!(publish(d, &[], &[], "").status.code(), Some(1));
    let out = publish(d, &[], &["app.yaml"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config file not found"));
    std::fs::write(
        d.join(".sops.yaml"),
        "destination_rules:\n  - path_regex: ^prod/\n    s3_bucket: b\n  - path_regex: both\n    s3_bucket: b\n    gcs_bucket: g\n  - path_regex: none\n",
    )
    .unwrap();
    // No file: exit code 100.
    assert_eq!(publish(d, &[], &[], "").status.code(), Some(100));
    // No rule matches: exit code 1, the rules listed, nothing uploaded.
    let out = publish(d, &[], &["-y", "app.yaml"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no destination rule") && err.contains("^prod/"),
        "{err}"
    );
    // Two destinations in the matching rule; none at all.
    for (file, says) in [
        ("both.yaml", "more than one destination"),
        ("none.yaml", "no destination configured"),
    ] {
        std::fs::copy(d.join("app.yaml"), d.join(file)).unwrap();
        let out = publish(d, &[], &["-y", file], "");
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{file}"
        );
    }
    // A file that is not encrypted, and one that does not exist.
    std::fs::create_dir(d.join("prod")).unwrap();
    std::fs::write(d.join("prod/plain.yaml"), "a: 1\n").unwrap();
    let out = publish(d, &[], &["-y", "prod/plain.yaml"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sops metadata not found"));
    let out = publish(d, &[], &["-y", "prod/missing.yaml"], "");
    assert_eq!(out.status.code(), Some(1));
    // The real sops agrees on these exit codes.
    if let Some(sops_bin) = sops_bin() {
        for args in [
            &["publish"][..],
            &["publish", "-y", "app.yaml"],
            &["publish", "-y", "both.yaml"],
            &["publish", "-y", "none.yaml"],
            &["publish", "-y", "prod/plain.yaml"],
            &["publish", "-y", "prod/missing.yaml"],
        ] {
            let theirs = Command::new(&sops_bin)
                .current_dir(d)
                .env_clear()
                .env("HOME", d)
                .env("SOPS_DISABLE_VERSION_CHECK", "1")
                .args(args)
                .output()
                .unwrap();
            let ours = publish(d, &[], &args[1..], "");
            assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        }
    }
}
