//! A Vault (or OpenBao) KV destination: the **decrypted** document written
//! as one secret, as sops does: KV version 1 at `/v1/MOUNT/PATH+name`,
//! version 2 at `/v1/MOUNT/data/PATH+name` wrapped in `{"data": …}`. The
//! secret is read first; if it already holds the same data nothing is
//! written (no new KV version).
//!
//! The server is the rule's `vault_address`, else `VAULT_ADDR`, else
//! `https://127.0.0.1:8200` (Vault's default); the token `VAULT_TOKEN`, else
//! `~/.vault-token` (a deliberate difference: sops's publish reads
//! `VAULT_TOKEN` only; see docs/config.md); `VAULT_NAMESPACE` is sent as
//! `X-Vault-Namespace`. The request path is cleaned as Go's vault client
//! cleans it ([`go_clean`]).

use super::{encode_path, fail, Http};
use crate::config::VaultDestination;
use crate::exit::Result;
use crate::json::{wipe_data, wipe_json};
use serde_json::{Map, Value as Json};
use sops_like_format::{wipe, Entry, Item, Node, Tree, Value};

/// Vault's default address when neither the rule nor `VAULT_ADDR` names one.
const DEFAULT_ADDRESS: &str = "https://127.0.0.1:8200";

/// The server in use for `dest`.
pub fn address(dest: &VaultDestination) -> String {
    dest.address
        .clone()
        .or_else(|| std::env::var("VAULT_ADDR").ok().filter(|a| !a.is_empty()))
        .unwrap_or_else(|| DEFAULT_ADDRESS.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// Write `data` (the decrypted document) as the secret for `name`.
pub fn upload(
    http: &Http,
    dest: &VaultDestination,
    name: &str,
    data: &Map<String, Json>,
    verbose: bool,
) -> Result<()> {
    let address = address(dest);
    let secret_path = dest.secret_path(name);
    // Go's vault client joins and cleans the request path (`path.Join`):
    // `secret//apps` and a leading `/` in vault_path or the mount name
    // name the same secret as without (the server would answer 307).
    let url = format!(
        "{address}{}",
        encode_path(&go_clean(&format!("/v1/{secret_path}")))
    );
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(std::path::PathBuf::from);
    let env_token = std::env::var("VAULT_TOKEN").ok();
    let token = sops_like_keys::kms::VaultConfig::token_from(env_token.as_deref(), home.as_deref())
        .ok_or_else(|| {
            fail(format!("cannot write {url}: no Vault token"))
                .hint("set VAULT_TOKEN or write the token to ~/.vault-token")
        })?;
    let namespace = std::env::var("VAULT_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty());
    let request = |method: reqwest::Method| {
        let mut r = http
            .client()
            .request(method, &url)
            .header("X-Vault-Token", token.as_str())
            .header("X-Vault-Request", "true");
        if let Some(ns) = &namespace {
            r = r.header("X-Vault-Namespace", ns.as_str());
        }
        r
    };
    if verbose {
        stderr!("publish: GET {url}");
    }
    match http.send(request(reqwest::Method::GET), &url) {
        Ok(a) if a.status.is_success() => {
            let mut now = current(&a.body, dest.version);
            let same = now.as_ref() == Some(data);
            if let Some(now) = &mut now {
                wipe_data(now);
            }
            if same {
                if verbose {
                    stderr!("publish: the secret in {secret_path} is already up to date");
                }
                return Ok(());
            }
        }
        Ok(a) if a.status.as_u16() == 404 => {}
        _ => stderr!(
            "warning: cannot check whether the secret in {secret_path} is up to date: a new version is written even if the data did not change"
        ),
    }
    let body = put_body(data, dest.version)
        .map_err(|e| fail(format!("cannot encode the secret for {url}: {e}")))?;
    if verbose {
        stderr!("publish: PUT {url}");
    }
    let answer = http.send(
        request(reqwest::Method::PUT)
            .header("Content-Type", "application/json")
            // reqwest takes the body as it is, and frees it unwiped.
            .body(body.into_vec()),
        &url,
    )?;
    if answer.status.is_success() {
        return Ok(());
    }
    let errors = serde_json::from_slice::<Json>(&answer.body)
        .ok()
        .and_then(|j| {
            j["errors"].as_array().map(|list| {
                list.iter()
                    .filter_map(Json::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .filter(|e| !e.is_empty())
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    let mut failure = fail(format!(
        "could not write the secret {url}: HTTP {}{errors}",
        answer.status
    ));
    match answer.status.as_u16() {
        401 | 403 => failure = failure.hint("check VAULT_TOKEN (or ~/.vault-token) and its policy for this path"),
        404 | 405 => {
            failure = failure.hint(format!(
                "check that a KV version {} secrets engine is mounted at {} (vault_kv_mount_name, vault_kv_version)",
                dest.version, dest.mount
            ))
        }
        _ => {}
    }
    Err(failure)
}

/// `path` as Go's `path.Clean` returns it: repeated `/` collapsed, `.`
/// segments removed, `..` resolved (not above the root), no trailing `/`.
pub fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The body that writes `data` to a KV `version` secret: `data` (KV 1) or
/// `{"data": data}` (KV 2) as serde_json writes them, straight into a
/// buffer that grows by hand (see `sops_like_format::wipe::SecretBytes`):
/// no copy of `data` is made.
fn put_body(data: &Map<String, Json>, version: u8) -> serde_json::Result<wipe::SecretBytes> {
    let mut body = wipe::SecretBytes::default();
    let wrapped = version != 1;
    if wrapped {
        body.extend(b"{\"data\":");
    }
    serde_json::to_writer(&mut body, data)?;
    if wrapped {
        body.extend(b"}");
    }
    Ok(body)
}

/// The data of the secret as read (`data`, or `data.data` for KV 2).
fn current(body: &[u8], version: u8) -> Option<Map<String, Json>> {
    let mut json: Json = serde_json::from_slice(body).ok()?;
    let mut data = json.get_mut("data")?.take();
    if version != 1 {
        data = data.get_mut("data")?.take();
    }
    match data {
        Json::Object(m) => Some(m),
        mut other => {
            wipe_json(&mut other);
            None
        }
    }
}

/// The decrypted document as the secret's data, as sops's `EmitAsMap`
/// builds it: the top-level keys of every document (YAML can have
/// several; later ones win), nested mappings as objects, lists as arrays,
/// comments left out. A document whose top level is not a mapping cannot
/// be a KV secret.
pub fn secret_data(tree: &Tree) -> std::result::Result<Map<String, Json>, String> {
    let mut out = Map::new();
    for doc in &tree.docs {
        match unalias(doc) {
            Node::Map(_) => {
                if let Json::Object(m) = to_json(doc)? {
                    for (k, v) in m {
                        if let Some(mut replaced) = out.insert(k, v) {
                            wipe_json(&mut replaced);
                        }
                    }
                }
            }
            Node::Scalar(s) if s.value == Value::Null => {}
            _ => {
                return Err(
                    "the document's top level is not a mapping, so it cannot be a Vault KV secret"
                        .to_string(),
                )
            }
        }
    }
    Ok(out)
}

fn unalias(node: &Node) -> &Node {
    match node {
        Node::Alias(inner) => unalias(inner),
        other => other,
    }
}

fn to_json(node: &Node) -> std::result::Result<Json, String> {
    Ok(match unalias(node) {
        Node::Map(entries) => {
            let mut m = Map::new();
            for e in entries {
                if let Entry::Pair(p) = e {
                    if let Some(mut replaced) = m.insert(p.key.clone(), to_json(&p.value)?) {
                        wipe_json(&mut replaced);
                    }
                }
            }
            Json::Object(m)
        }
        Node::Seq(items) => Json::Array(
            items
                .iter()
                .filter_map(|i| match i {
                    Item::Node(n) => Some(to_json(n)),
                    Item::Comment(_) => None,
                })
                .collect::<std::result::Result<_, _>>()?,
        ),
        Node::Scalar(s) => match &s.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .ok_or_else(|| format!("the number {f} cannot be written as JSON"))?,
            Value::Str(t) | Value::Time(t) => Json::String(t.clone()),
        },
        Node::Alias(_) => Json::Null,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sops_like_format::Format;

    fn data(format: Format, text: &str) -> std::result::Result<Json, String> {
        let tree = format.syntax().parse(text).unwrap().tree;
        secret_data(&tree).map(Json::Object)
    }

    /// The body written by hand is what serde_json gives for the secret's
    /// data (KV 1) and for `{"data": …}` (KV 2).
    #[test]
    fn put_body_is_serde_jsons() {
        let Json::Object(m) = data(Format::Yaml, "a: 1\nb: \"x\\ny\"\nl: [1, {k: v}]\n").unwrap()
        else {
            panic!("not an object")
        };
        let v1 = serde_json::to_vec(&Json::Object(m.clone())).unwrap();
        let v2 = serde_json::to_vec(&serde_json::json!({ "data": m })).unwrap();
        assert_eq!(put_body(&m, 1).unwrap().as_slice(), v1.as_slice());
        assert_eq!(put_body(&m, 2).unwrap().as_slice(), v2.as_slice());
        let mut wiped = Json::Object(m);
        wipe_json(&mut wiped);
        assert_eq!(
            wiped,
            serde_json::json!({"a": 1, "b": "", "l": [1, {"k": ""}]})
        );
    }

    #[test]
    fn nested_maps_lists_and_scalars_become_json() {
        let got = data(
            Format::Yaml,
            "# c\na: 1\nb: x\nn:\n  c: true\n  d: 1.5\nl:\n  - 1\n  - two\n  - k: v\nz: null\n",
        )
        .unwrap();
        assert_eq!(
            got,
            serde_json::json!({"a": 1, "b": "x", "n": {"c": true, "d": 1.5}, "l": [1, "two", {"k": "v"}], "z": null})
        );
    }

    #[test]
    fn documents_merge_and_non_mappings_are_refused() {
        assert_eq!(
            data(Format::Yaml, "a: 1\nb: 1\n---\nb: 2\n").unwrap(),
            serde_json::json!({"a": 1, "b": 2})
        );
        assert!(data(Format::Json, "[1, 2]")
            .unwrap_err()
            .contains("not a mapping"));
        assert_eq!(
            data(Format::Dotenv, "A=1\nB=x y\n").unwrap(),
            serde_json::json!({"A": "1", "B": "x y"})
        );
    }

    #[test]
    fn request_paths_are_cleaned_as_go_does() {
        assert_eq!(
            go_clean("/v1/secret/data//apps/x.yaml"),
            "/v1/secret/data/apps/x.yaml"
        );
        assert_eq!(go_clean("/v1//m//a//b/x"), "/v1/m/a/b/x");
        assert_eq!(go_clean("/v1/m/./a/../b/"), "/v1/m/b");
        assert_eq!(go_clean("/v1/../../x"), "/x");
        assert_eq!(go_clean("a/../../b"), "../b");
        assert_eq!(go_clean(""), ".");
    }

    #[test]
    fn kv2_answers_are_unwrapped_once_more() {
        let v2 = br#"{"data": {"data": {"a": 1}, "metadata": {}}}"#;
        assert_eq!(
            current(v2, 2),
            Some(serde_json::json!({"a": 1}).as_object().unwrap().clone())
        );
        let v1 = br#"{"data": {"a": 1}}"#;
        assert_eq!(
            current(v1, 1),
            Some(serde_json::json!({"a": 1}).as_object().unwrap().clone())
        );
        assert_eq!(current(b"nope", 1), None);
    }
}
