//! A crypto-free check that a syntax module holds the format-preservation
//! contract: replace every leaf with an `ENC[…]`-like placeholder, add
//! metadata, parse the result, and put everything back byte for byte.
//! Used by every syntax module's tests.

use super::Syntax;
use crate::splice::{splice, Edit};
use crate::tree::{Entry, Item, Node, Tree, Value};
use crate::walk::{walk, Leaf};

/// A metadata tree shaped like sops's, with a multi-line `enc`.
pub(crate) fn sample_metadata() -> Node {
    sample_metadata_with_mac(
        "ENC[AES256_GCM,data:Br5H,iv:qIis,tag:31kI3NDPioUNCf1SxIpkDQ==,type:str]",
    )
}

/// [`sample_metadata`] with another `mac` (a .env file is read back in the
/// grammar of its MAC's cipher).
pub(crate) fn sample_metadata_with_mac(mac: &str) -> Node {
    let enc = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB1QnZ0V1pWWEJuY1d0V01p\nZz09\n-----END AGE ENCRYPTED FILE-----\n";
    Node::map([
        (
            "age".to_string(),
            Node::Seq(vec![Item::Node(Node::map([
                (
                    "recipient".to_string(),
                    Node::str("age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"),
                ),
                ("enc".to_string(), Node::str(enc)),
            ]))]),
        ),
        (
            "lastmodified".to_string(),
            Node::str("2026-11-22T03:51:54Z"),
        ),
        ("mac".to_string(), Node::str(mac)),
        ("unencrypted_suffix".to_string(), Node::str("_unencrypted")),
        ("version".to_string(), Node::str("3.11.0")),
    ])
}

/// The tree's shape: keys, sequence lengths, comments and which scalars are
/// null, with every value replaced by a marker. A comment inside the
/// lexeme of the scalar before it (a YAML block header's) is left out: it
/// goes with that scalar's text.
pub(crate) fn shape(tree: &Tree) -> String {
    fn inside(c: &crate::tree::Comment, before: Option<&Node>) -> bool {
        match (before, &c.span) {
            (Some(Node::Scalar(s)), Some(c)) => s
                .span
                .as_ref()
                .is_some_and(|v| crate::tree::in_lexeme(c, v)),
            _ => false,
        }
    }
    fn node(n: &Node, out: &mut String) {
        match n {
            Node::Scalar(s) => out.push_str(if s.value == Value::Null { "~" } else { "s" }),
            Node::Alias(inner) => {
                out.push('*');
                node(inner, out);
            }
            Node::Map(entries) => {
                out.push('{');
                let mut before = None;
                for e in entries {
                    match e {
                        Entry::Comment(c) if inside(c, before) => continue,
                        Entry::Comment(_) => out.push('#'),
                        Entry::Pair(p) => {
                            before = Some(&p.value);
                            out.push_str(&format!("{:?}:", p.key));
                            node(&p.value, out);
                        }
                    }
                    out.push(',');
                }
                out.push('}');
            }
            Node::Seq(items) => {
                out.push('[');
                let mut before = None;
                for i in items {
                    match i {
                        Item::Comment(c) if inside(c, before) => continue,
                        Item::Comment(_) => out.push('#'),
                        Item::Node(n) => {
                            before = Some(n);
                            node(n, out)
                        }
                    }
                    out.push(',');
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    for d in &tree.docs {
        node(d, &mut out);
        out.push_str("---");
    }
    out
}

/// Scalars as their sops text (so `2` and `"2"` compare equal, as they
/// must for flattened .env metadata), without spans.
pub(crate) fn plain(n: &Node) -> String {
    match n {
        Node::Scalar(s) => format!("{:?}", s.value.sops_text()),
        Node::Alias(inner) => plain(inner),
        Node::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(p) => Some(format!("{:?}:{}", p.key, plain(&p.value))),
                    Entry::Comment(_) => None,
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Node::Seq(items) => {
            let inner: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Item::Node(n) => Some(plain(n)),
                    Item::Comment(_) => None,
                })
                .collect();
            format!("[{}]", inner.join(","))
        }
    }
}

/// Run the contract on `src`, then the same document through the real
/// engine (XChaCha20-Poly1305): the decryption is byte-exact, and no
/// encrypted value's text (8+ bytes, not also present outside the
/// encrypted spans) appears in the encrypted file. `Err` says what broke.
pub(crate) fn roundtrip(syntax: &dyn Syntax, src: &str) -> Result<(), String> {
    placeholder_roundtrip(syntax, src)?;
    engine_roundtrip(syntax, src)
}

fn engine_roundtrip(syntax: &dyn Syntax, src: &str) -> Result<(), String> {
    use crate::engine::{self, EncryptOptions, KeyMaterial};
    let Some(format) = crate::syntax::Format::from_name(syntax.name()) else {
        return Ok(());
    };
    let key = [7u8; 32];
    let keys = KeyMaterial {
        key_groups: vec![vec![crate::metadata::MasterKey::age(
            "age1test",
            "-----BEGIN AGE ENCRYPTED FILE-----\nAA==\n-----END AGE ENCRYPTED FILE-----\n",
        )]],
        shamir_threshold: None,
    };
    let enc = match engine::encrypt(
        format,
        src,
        &key,
        &EncryptOptions::default(),
        keys,
        "2026-11-22T00:00:00Z",
    ) {
        Ok(e) => e,
        // Documents that cannot hold metadata are checked by the placeholder run.
        Err(engine::EngineError::Emit(_)) => return Ok(()),
        Err(e) => return Err(format!("engine encrypt: {e}")),
    };
    let file = engine::open(format, &enc).map_err(|e| format!("engine open: {e}\n{enc}"))?;
    let dec =
        engine::decrypt(&file, &key, false).map_err(|e| format!("engine decrypt: {e}\n{enc}"))?;
    if dec.as_str() != src {
        return Err(format!(
            "engine round trip not byte-exact\n--- in ---\n{src:?}\n--- out ---\n{:?}",
            dec.as_str()
        ));
    }
    selectors_roundtrip(format, src, &key)?;
    // Leak check: the skeleton is the source with every encrypted span blanked.
    let parsed = syntax.parse(src).map_err(|e| e.to_string())?;
    let decider = crate::select::Decider::new(&crate::metadata::Selector::default())
        .map_err(|e| e.to_string())?;
    let mut spans = Vec::new();
    walk(&parsed.tree, |place, leaf| {
        if place.in_alias {
            return;
        }
        match leaf {
            Leaf::Value(s) => {
                let empty = s.value.is_never_encrypted();
                if let (false, true, Some(sp)) = (
                    empty,
                    decider.value(place.path, place.comments),
                    s.span.clone(),
                ) {
                    spans.push(sp);
                }
            }
            Leaf::Comment(c) => {
                if let (false, true, Some(sp)) = (
                    c.text.is_empty(),
                    decider.comment(place.path, place.comments),
                    c.span.clone(),
                ) {
                    spans.push(sp);
                }
            }
        }
    });
    let mut skeleton = src.as_bytes().to_vec();
    for sp in &spans {
        for b in &mut skeleton[sp.clone()] {
            *b = 0;
        }
    }
    let skeleton = String::from_utf8_lossy(&skeleton);
    for sp in spans {
        let lexeme = &src[sp];
        if lexeme.trim().len() >= 8 && !skeleton.contains(lexeme) && enc.contains(lexeme) {
            return Err(format!(
                "plaintext {lexeme:?} appears in the encrypted file\n{enc}"
            ));
        }
    }
    Ok(())
}

/// Every selector, with and without `mac_only_encrypted`: what a selector
/// leaves in clear is read back as the file's own (decryption asks the
/// selector of every value in clear, see `engine::audit`), byte for byte.
fn selectors_roundtrip(
    format: crate::syntax::Format,
    src: &str,
    key: &[u8; 32],
) -> Result<(), String> {
    use crate::cipher::CipherKind;
    use crate::engine::{self, EncryptOptions, KeyMaterial};
    use crate::metadata::Selector;
    let selectors = [
        Selector::EncryptedRegex("1|a".into()),
        Selector::UnencryptedRegex("1|a".into()),
        Selector::EncryptedSuffix("0".into()),
        Selector::EncryptedCommentRegex("e".into()),
        Selector::UnencryptedCommentRegex("e".into()),
    ];
    let ciphers = [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm];
    for (i, (selector, cipher)) in selectors
        .into_iter()
        .flat_map(|s| ciphers.map(|c| (s.clone(), c)))
        .enumerate()
    {
        let opts = EncryptOptions {
            cipher,
            selector,
            mac_only_encrypted: i % 4 < 2,
        };
        let keys = KeyMaterial {
            key_groups: vec![vec![crate::metadata::MasterKey::age("age1test", "x")]],
            shamir_threshold: None,
        };
        let aes = cipher == CipherKind::Aes256Gcm;
        let enc = match engine::encrypt(format, src, key, &opts, keys, "2026-11-22T00:00:00Z") {
            Ok(e) => e,
            // What sops cannot hold is refused in AES mode (checked
            // elsewhere); what is written must read back.
            Err(_) if aes => continue,
            Err(e) => return Err(format!("engine encrypt with {opts:?}: {e}")),
        };
        let file = engine::open(format, &enc).map_err(|e| format!("engine open: {e}\n{enc}"))?;
        let dec = engine::decrypt(&file, key, false)
            .map_err(|e| format!("engine decrypt with {opts:?}: {e}\n{src:?}\n{enc}"))?;
        // (AES files give sops's spellings back.)
        if !aes && dec.as_str() != src {
            return Err(format!("round trip with {opts:?} not byte-exact\n{src:?}"));
        }
    }
    Ok(())
}

/// The placeholder half of [`roundtrip`].
fn placeholder_roundtrip(syntax: &dyn Syntax, src: &str) -> Result<(), String> {
    let parsed = syntax
        .parse(src)
        .map_err(|e| format!("parse of input failed: {e}"))?;
    if parsed.metadata.is_some() {
        return Err("input has metadata".into());
    }
    // "Encrypt": every non-empty, non-null leaf outside aliases.
    let mut table: Vec<&str> = Vec::new();
    let mut edits = Vec::new();
    // The last value replaced: a comment inside its lexeme (a YAML block
    // header's) goes with it, as XChaCha seals it.
    let mut replaced = 0..0;
    walk(&parsed.tree, |place, leaf| {
        if place.in_alias {
            return;
        }
        match leaf {
            Leaf::Value(s) => {
                let Some(span) = s.span.clone() else { return };
                if s.value.is_never_encrypted() {
                    return;
                }
                replaced = span.clone();
                let enc = format!(
                    "ENC[TEST,data:{},type:{}]",
                    table.len(),
                    s.value.sops_type()
                );
                table.push(&src[span.clone()]);
                edits.push(Edit {
                    span,
                    text: syntax.enc_lexeme(s.slot, &enc),
                });
            }
            Leaf::Comment(c) => {
                let Some(span) = c.span.clone() else { return };
                if crate::tree::in_lexeme(&span, &replaced) {
                    return;
                }
                let enc = format!("ENC[TEST,data:{},type:comment]", table.len());
                table.push(&src[span.clone()]);
                edits.push(Edit { span, text: enc });
            }
        }
    });
    // A .env text is read back in the grammar of its MAC's cipher:
    // `SopsDotenv` reads in sops's whatever the MAC, `Dotenv` here in its
    // own, as an XChaCha20-Poly1305 file is.
    let meta = if syntax.name() == "dotenv" {
        sample_metadata_with_mac(
            "ENC[XCHACHA20_POLY1305,data:Br5H,iv:qIis,tag:31kI3NDPioUNCf1SxIpkDQ==,type:str]",
        )
    } else {
        sample_metadata()
    };
    edits.extend(
        syntax
            .insert_metadata(src, &parsed, &meta)
            .map_err(|e| format!("insert_metadata: {e}"))?,
    );
    let encrypted = splice(src, edits).map_err(|e| e.to_string())?;

    let again = syntax.parse(&encrypted).map_err(|e| {
        format!("parse of encrypted text failed: {e}\n--- encrypted ---\n{encrypted}")
    })?;
    match &again.metadata {
        Some(m) if plain(m) == plain(&meta) => {}
        Some(m) => {
            return Err(format!(
                "metadata differs:\n{}\n{}\n--- encrypted ---\n{encrypted}",
                plain(m),
                plain(&meta)
            ))
        }
        None => {
            return Err(format!(
                "metadata not found\n--- encrypted ---\n{encrypted}"
            ))
        }
    }
    if shape(&again.tree) != shape(&parsed.tree) {
        return Err(format!(
            "shape differs:\n{}\n{}\n--- encrypted ---\n{encrypted}",
            shape(&parsed.tree),
            shape(&again.tree)
        ));
    }
    // "Decrypt".
    let mut edits = Vec::new();
    let mut bad = None;
    walk(&again.tree, |place, leaf| {
        if place.in_alias {
            return;
        }
        let (text, span) = match leaf {
            Leaf::Value(s) => match (&s.value, &s.span) {
                (Value::Str(t), Some(span)) => (t.as_str(), span.clone()),
                _ => return,
            },
            Leaf::Comment(c) => match &c.span {
                Some(span) => (c.text.as_str(), span.clone()),
                None => return,
            },
        };
        let Some(rest) = text.strip_prefix("ENC[TEST,data:") else {
            return;
        };
        let id: Option<usize> = rest.split(',').next().and_then(|n| n.parse().ok());
        match id.and_then(|i| table.get(i)) {
            Some(orig) => edits.push(Edit {
                span,
                text: orig.to_string(),
            }),
            None => bad = Some(text.to_string()),
        }
    });
    if let Some(b) = bad {
        return Err(format!("unknown placeholder {b}"));
    }
    for span in &again.metadata_spans {
        edits.push(Edit {
            span: span.clone(),
            text: again.metadata_text(span).to_string(),
        });
    }
    let decrypted = splice(&encrypted, edits).map_err(|e| e.to_string())?;
    if decrypted != src {
        return Err(format!("not byte-exact:\n--- input ---\n{src:?}\n--- encrypted ---\n{encrypted}\n--- decrypted ---\n{decrypted:?}"));
    }
    Ok(())
}
