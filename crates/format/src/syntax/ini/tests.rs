#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::metadata::Metadata;
use crate::syntax::conformance::{plain, roundtrip, sample_metadata};
use crate::syntax::Format;
use crate::walk::{walk, Leaf};
use std::path::PathBuf;

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

fn fixtures() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(testdata("ini")).unwrap().flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) == Some("ini") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    assert!(out.len() >= 8, "fixtures missing");
    out
}

/// Every value leaf: (AAD path, value, lexeme).
fn leaves(src: &str) -> Vec<(String, String, String)> {
    let parsed = Ini.parse(src).unwrap();
    let mut out = Vec::new();
    walk(&parsed.tree, |place, leaf| {
        let path = place.path.join(":") + ":";
        match leaf {
            Leaf::Value(s) => {
                if let Value::Str(v) = &s.value {
                    let span = s.span.clone().unwrap();
                    out.push((path, v.clone(), src[span].to_string()));
                }
            }
            Leaf::Comment(c) => {
                out.push((path, format!("#{}", c.text), String::new()));
            }
        }
    });
    out
}

fn l(path: &str, value: &str, lexeme: &str) -> (String, String, String) {
    (path.into(), value.into(), lexeme.into())
}

#[test]
fn conformance_over_fixtures_and_variants() {
    for (name, src) in fixtures() {
        let crlf = src.replace("\r\n", "\n").replace('\n', "\r\n");
        let trimmed = src.trim_end_matches(['\n', '\r']).to_string();
        let lone_cr = format!("{trimmed}\r");
        for (variant, text) in [
            ("as is", src.clone()),
            ("crlf", crlf),
            ("no final newline", trimmed),
            ("final lone cr", lone_cr),
        ] {
            if let Err(e) = roundtrip(&Ini, &text) {
                panic!("{name} ({variant}): {e}");
            }
        }
    }
}

#[test]
fn sections_default_and_aad_paths() {
    let src = std::fs::read_to_string(testdata("sops/plain/ini-basic.ini")).unwrap();
    let got = leaves(&src);
    let expected = vec![
        l("DEFAULT:", "#top comment before any section", ""),
        l("DEFAULT:", "#hash comment before any section", ""),
        l("DEFAULT:global_key:", "global value", "global value"),
        l("DEFAULT:other:", "nospaces", "nospaces"),
        l("database:", "#semicolon comment in section", ""),
        l("database:host:", "db.example.com", "db.example.com"),
        l("database:port:", "5432", "5432"),
        l("database:", "#hash comment in section", ""),
        l("database:password:", "quoted secret", "\"quoted secret\""),
        l("database:empty:", "", ""),
        l("server:name:", "web", "web"),
        l("server:", "#inline semicolon", ""),
        l("server:listen:", "0.0.0.0:8080", "0.0.0.0:8080"),
        l(
            "server:url:",
            "https://example.com/path?a=1&b=2",
            "https://example.com/path?a=1&b=2",
        ),
        l("server:password_unencrypted:", "visible", "visible"),
        l(
            "DEFAULT:default_key:",
            "in explicit default",
            "in explicit default",
        ),
        l("unicode:greeting:", "héllo wörld 🔐", "héllo wörld 🔐"),
    ];
    assert_eq!(got, expected);
}

#[test]
fn empty_default_comes_first_and_comments_go_to_the_next_section() {
    let src = "; about a\n[a]\nk = v\n; about b\n\n[b]\nx = 1\n; at the end\n";
    let parsed = Ini.parse(src).unwrap();
    assert_eq!(
        plain(&parsed.tree.docs[0]),
        r#"{"DEFAULT":{},"a":{"k":Some("v")},"b":{"x":Some("1")}}"#
    );
    let got = leaves(src);
    assert_eq!(got[0], l("a:", "#about a", ""));
    assert_eq!(got[2], l("b:", "#about b", ""));
    assert_eq!(got[4], l("b:", "#at the end", ""));
}

#[test]
fn a_section_headers_comment_is_its_first_comment() {
    // After the comment lines above the header, as go-ini joins them.
    let got = leaves("; above\n[a] ; note\nk = v\n  [b]\t#  two words  \r\n");
    assert_eq!(
        got,
        vec![
            l("a:", "#above", ""),
            l("a:", "#note", ""),
            l("a:k:", "v", "v"),
            l("b:", "#two words", ""),
        ]
    );
    // go-ini's name runs to the last `]`: no comment then.
    let got = leaves("[a] ; see [b]\nk = v\n");
    assert_eq!(got, vec![l("a] ; see [b:k:", "v", "v")]);
    // Encrypted in place (sops-like's own files), read without it.
    let enc = "ENC[XCHACHA20_POLY1305,data:AA==,iv:AA==,tag:AA==,type:comment]";
    for header in ["[a]", "[a]b]"] {
        let src = format!("{header} ; {enc}\nk = v\n");
        let name = &header[1..header.len() - 1];
        assert_eq!(
            leaves(&src),
            vec![
                l(&format!("{name}:"), &format!("#{enc}"), ""),
                l(&format!("{name}:k:"), "v", "v")
            ],
            "{src}"
        );
    }
    // Not an encrypted comment: the name runs to the last `]`.
    let src = "[a] x ; ENC[AES256_GCM,data:AA==,type:comment]\nk = v\n";
    let name = "a] x ; ENC[AES256_GCM,data:AA==,type:comment";
    assert_eq!(leaves(src), vec![l(&format!("{name}:k:"), "v", "v")]);
}

#[test]
fn text_after_a_section_header_is_refused_in_a_plaintext() {
    for src in [
        "[db] password = x\nk = v\n",
        "[db] x ; c\n",
        "[a]\n[db]]x\n",
    ] {
        let e = Ini
            .parse(src)
            .err()
            .unwrap_or_else(|| panic!("{src:?} parsed"));
        assert!(e.message.contains("not a comment"), "{src:?}: {e}");
    }
    // Kept as it is in an encrypted file (go-ini ignores it).
    let enc = Ini
        .parse("[db] x\nk = v\n\n[sops]\nversion = 3.11.0\n")
        .unwrap();
    assert_eq!(
        plain(&enc.tree.docs[0]),
        r#"{"DEFAULT":{},"db":{"k":Some("v")}}"#
    );
}

#[test]
fn header_comments_move_above_their_headers_as_sops_writes_them() {
    let moved = |src: &str| header_comments_moved(src).map(|t| t.to_string());
    assert_eq!(moved("[a]\nk = v\n"), None);
    assert_eq!(
        moved("; above\n[db] ; note \nk = v\n  [x]\t#c\r\n"),
        Some("; above\n; note\n[db] \nk = v\n#c\n  [x]\r\n".into())
    );
    assert_eq!(moved("[a] ;\r\nk = v"), Some(";\r\n[a]\r\nk = v".into()));
    // Text go-ini ignores stays, for the parse to refuse.
    assert_eq!(moved("[a] x ; c\n"), None);
    // As sops reads it: the same comments, now a run above the header.
    assert_eq!(
        sops_comments(&moved("; above\n[db] ; note\nk = v\n").unwrap()),
        sops_comments("; above\n; note\n[db]\nk = v\n")
    );
}

#[test]
fn comments_go_ini_cannot_write_are_found() {
    // sops 3.11 panics decrypting these ("index out of range [0]").
    for (src, line) in [
        ("[db]\n;\n; note\npassword = x\n", 2),
        ("[db]\n; \n\n# note\npassword = x\n", 2),
        (";;;;\n; About\n;;;;\n[db]\n", 1),
        ("# #\n# x\n[db]\n", 1),
        ("k = v\n;\nk2 = v ; inline\n", 2),
        (";\n[db] ; inline\n", 1),
    ] {
        let at = comment_sops_cannot_write(src).unwrap_or_else(|| panic!("{src:?}"));
        assert_eq!(ParseError::at(src, at, "").line, line, "{src:?}");
    }
    // A lone empty comment is dropped by sops; a tab or `\r` is kept, and
    // a first line with text is written.
    for src in [
        "[db]\n;\npassword = x\n",
        "[db]\n;\t\n; note\npassword = x\n",
        "[db]\r\n;\r\n; note\r\npassword = x\r\n",
        "#;\n# x\n[db]\n",
        "; a\n;\n[db]\n",
        "k = v\n;\n; at the end\n",
    ] {
        assert_eq!(comment_sops_cannot_write(src), None, "{src:?}");
    }
}

#[test]
fn an_encrypted_comment_after_a_run_of_markers_is_read() {
    // sops-like wrote `## note` for sops as `## ENC[…]` (sops encrypts
    // the text after the whole run).
    let enc = "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:comment]";
    let src = format!("## {enc}\n[a]\n;;{enc}\nk = v ; ;  {enc}\n");
    let got = leaves(&src);
    let c = format!("#{enc}");
    assert_eq!(
        got,
        vec![
            l("a:", &c, ""),
            l("a:", &c, ""),
            l("a:k:", "v", "v"),
            l("a:", &c, "")
        ]
    );
    // Plain comments keep their runs.
    assert_eq!(leaves("## note\n[a]\n")[0], l("a:", "## note", ""));
}

#[test]
fn reads_sops_written_files() {
    for name in ["ini-basic.ini", "groups-shamir.ini"] {
        let src = std::fs::read_to_string(testdata(&format!("sops/enc/{name}"))).unwrap();
        let parsed = Ini.parse(&src).unwrap();
        let meta = Metadata::from_node(parsed.metadata.as_ref().unwrap()).unwrap();
        assert!(meta.mac.starts_with("ENC[AES256_GCM,"));
        assert_eq!(meta.version, "3.11.0");
        for key in meta.all_keys() {
            let enc = key.enc().unwrap();
            assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
            assert!(enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        }
        // Removing the metadata leaves the data, ending with one newline.
        let mut rest = src.clone();
        for span in parsed.metadata_spans.iter().rev() {
            rest.replace_range(span.clone(), "");
        }
        assert!(!rest.contains("[sops]") && rest.ends_with("]\n"), "{rest}");
        // Comments as sops writes them (`; ENC[…]`) are recognised.
        let mut comments = 0;
        walk(&parsed.tree, |_, leaf| {
            if let Leaf::Comment(c) = leaf {
                assert!(c.text.starts_with("ENC[AES256_GCM,"));
                comments += 1;
            }
        });
        assert_eq!(comments, if name == "ini-basic.ini" { 4 } else { 0 });
    }
}

#[test]
fn reads_groups_and_threshold() {
    let src = std::fs::read_to_string(testdata("sops/enc/groups-shamir.ini")).unwrap();
    let parsed = Ini.parse(&src).unwrap();
    let meta = Metadata::from_node(parsed.metadata.as_ref().unwrap()).unwrap();
    assert_eq!(meta.key_groups.len(), 3);
    assert_eq!(meta.shamir_threshold, Some(2));
}

#[test]
fn reads_triple_quoted_metadata_of_sops_3_13() {
    let src = "[s]\nk = ENC[x]\n\n[sops]\nage__list_0__map_enc = \"\"\"-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\nage__list_0__map_recipient = age1x\nlastmodified = 2026-01-01T00:00:00Z\nmac = ENC[m]\nversion = 3.13.0\n";
    let parsed = Ini.parse(src).unwrap();
    let meta = Metadata::from_node(parsed.metadata.as_ref().unwrap()).unwrap();
    assert_eq!(
        meta.all_keys().next().unwrap().enc().unwrap(),
        "-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n"
    );
    assert_eq!(parsed.metadata_spans, vec![15..src.len()]);
}

#[test]
fn metadata_is_written_like_sops() {
    let src = "[s]\nk = v\n";
    let parsed = Ini.parse(src).unwrap();
    let edits = Ini
        .insert_metadata(src, &parsed, &sample_metadata())
        .unwrap();
    let out = crate::splice::splice(src, edits).unwrap();
    let expected = "[s]\nk = v\n\n[sops]\n\
age__list_0__map_enc       = -----BEGIN AGE ENCRYPTED FILE-----\\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB1QnZ0V1pWWEJuY1d0V01p\\nZz09\\n-----END AGE ENCRYPTED FILE-----\\n\n\
age__list_0__map_recipient = age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n\
lastmodified               = 2026-11-22T03:51:54Z\n\
mac                        = ENC[AES256_GCM,data:Br5H,iv:qIis,tag:31kI3NDPioUNCf1SxIpkDQ==,type:str]\n\
unencrypted_suffix         = _unencrypted\n\
version                    = 3.11.0\n";
    assert_eq!(out, expected);
    // Already encrypted: refused.
    let again = Ini.parse(&out).unwrap();
    assert!(Ini
        .insert_metadata(&out, &again, &sample_metadata())
        .is_err());
}

#[test]
fn metadata_values_that_need_quotes() {
    let meta = Node::map([
        ("lastmodified".to_string(), Node::str("t")),
        ("unencrypted_regex".to_string(), Node::str("^(a;b)#$")),
    ]);
    let src = "k = v\n";
    let parsed = Ini.parse(src).unwrap();
    let out =
        crate::splice::splice(src, Ini.insert_metadata(src, &parsed, &meta).unwrap()).unwrap();
    assert!(out.contains("unencrypted_regex = `^(a;b)#$`"), "{out}");
    let back = Ini.parse(&out).unwrap();
    assert_eq!(plain(back.metadata.as_ref().unwrap()), plain(&meta));
}

#[test]
fn value_lexemes_read_back() {
    for s in [
        "plain",
        "",
        " lead",
        "trail ",
        "a;b#c",
        "\"q\"",
        "'q'",
        "x\\",
        "two\nlines\n",
        "`tick`",
        "\"\"\"triple",
        "a`b\nc",
        "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]",
    ] {
        let lexeme = Ini.value_lexeme(Slot::Bare, &Value::Str(s.into()));
        let src = format!("[a]\nk = {lexeme}\nnext = 1\n");
        let got = leaves(&src);
        assert_eq!(got[0].1, s, "lexeme {lexeme:?}");
        assert_eq!(got[1].1, "1", "lexeme {lexeme:?}");
    }
    assert_eq!(Ini.value_lexeme(Slot::Bare, &Value::Int(3)), "3");
    assert_eq!(Ini.value_lexeme(Slot::Bare, &Value::Bool(true)), "true");
}

#[test]
fn emit_writes_sections() {
    let tree = Tree::new(vec![Node::map([
        ("top".to_string(), Node::str("1")),
        (
            "DEFAULT".to_string(),
            Node::map([("d".to_string(), Node::str("x"))]),
        ),
        (
            "app".to_string(),
            Node::Map(vec![
                Entry::Comment(Comment::new(" note", None)),
                Entry::Pair(Pair {
                    key: "name".into(),
                    value: Node::str("a;b"),
                }),
                Entry::Pair(Pair {
                    key: "port".into(),
                    value: Node::value(Value::Int(80)),
                }),
            ]),
        ),
    ])]);
    let out = Ini.emit(&tree).unwrap();
    assert_eq!(
        out,
        "top = 1\nd   = x\n\n[app]\n; note\nname = `a;b`\nport = 80\n"
    );
    let back = Ini.parse(&out).unwrap();
    assert_eq!(
        plain(&back.tree.docs[0]),
        r#"{"DEFAULT":{"top":Some("1"),"d":Some("x")},"app":{"name":Some("a;b"),"port":Some("80")}}"#
    );
    let deep = Tree::new(vec![Node::map([(
        "a".to_string(),
        Node::map([("b".to_string(), Node::map([]))]),
    )])]);
    assert!(Ini.emit(&deep).is_err());
}

#[test]
fn parse_errors_have_positions() {
    let e = Ini.parse("[a]\nk = v\nno delimiter here\n").err().unwrap();
    assert_eq!((e.line, e.column), (3, 1));
    assert!(!e.message.contains("delimiter here"));
    assert!(Ini.parse("k = \"\"\"never closed\n").is_err());
}

mod engine_level {
    use super::*;
    use crate::cipher::CipherKind;
    use crate::engine::{self, EncryptOptions, KeyMaterial};

    const KEY: [u8; 32] = [9u8; 32];

    fn keys() -> KeyMaterial {
        crate::testing::placeholder_keys()
    }

    fn values(src: &str) -> Vec<(String, String)> {
        leaves(src)
            .into_iter()
            .filter(|(_, v, _)| !v.starts_with('#'))
            .map(|(p, v, _)| (p, v))
            .collect()
    }

    #[test]
    fn encrypt_decrypt_round_trips() {
        for (name, src) in fixtures() {
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                let opts = EncryptOptions {
                    cipher,
                    ..EncryptOptions::default()
                };
                let enc = engine::encrypt(
                    Format::Ini,
                    &src,
                    &KEY,
                    &opts,
                    keys(),
                    "2026-11-22T03:51:54Z",
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(
                    !enc.contains("global value") && !enc.contains("5432"),
                    "{enc}"
                );
                let file = engine::open(Format::Ini, &enc).unwrap();
                let dec = engine::decrypt(&file, &KEY, false)
                    .unwrap_or_else(|e| panic!("{name} {cipher:?}: {e}\n{enc}"));
                if cipher == CipherKind::XChaCha20Poly1305 {
                    assert_eq!(dec.as_str(), src, "{name}");
                } else {
                    assert_eq!(values(&dec), values(&src), "{name}");
                }
            }
        }
    }
}

/// The comments of a [`SopsIni`] parse: (text, source of the span, attach).
fn sops_comments(src: &str) -> Vec<(String, String, Attach)> {
    let parsed = SopsIni.parse(src).unwrap();
    let mut out = Vec::new();
    walk(&parsed.tree, |_, leaf| {
        if let Leaf::Comment(c) = leaf {
            let span = c.span.clone().unwrap();
            out.push((c.text.clone(), src[span].to_string(), c.attach));
        }
    });
    out
}

#[test]
fn sops_grammar_joins_comment_runs_as_go_ini() {
    let c = |t: &str, s: &str, a| (t.to_string(), s.to_string(), a);
    assert_eq!(
        sops_comments("[s]\n; c1\n; c2\n; c3\na = 1\n"),
        [c("c1\n; c2\n; c3", "c1\n; c2\n; c3", Attach::AfterEntry)]
    );
    // Blank lines and indentation are skipped by go-ini; a run before a
    // header is the section's comment; sops strips `;` and spaces only.
    assert_eq!(
        sops_comments("; top  \r\n\n  # hash\n[s]\n;;\tx\na = 1 ;  inl\n"),
        [
            c("top  \r\n# hash", "top  \r\n\n  # hash", Attach::Here),
            c("\tx", "\tx", Attach::AfterEntry),
            c("inl", "inl", Attach::Here),
        ]
    );
    // At the end of the file: one comment where it stands.
    assert_eq!(
        sops_comments("a = 1\n# e1\n# e2\n"),
        [c("e1\n# e2", "e1\n# e2", Attach::Here)]
    );
    // sops-like's own grammar keeps one comment per line.
    assert_eq!(Ini.parse("; c1\n; c2\na = 1\n").unwrap().tree.docs.len(), 1);
    let mut n = 0;
    walk(&Ini.parse("; c1\n; c2\na = 1\n").unwrap().tree, |_, l| {
        n += usize::from(matches!(l, Leaf::Comment(_)));
    });
    assert_eq!(n, 2);
}

#[test]
fn sops_grammar_markers_select_the_key_after_the_one_below() {
    use crate::metadata::Selector;
    use crate::select::Decider;
    let encrypted = |src: &str, selector: Selector| {
        let d = Decider::new(&selector).unwrap();
        let mut out = Vec::new();
        walk(&SopsIni.parse(src).unwrap().tree, |place, leaf| {
            if let Leaf::Value(_) = leaf {
                out.push((place.path.join(":"), d.value(place.path, place.comments)));
            }
        });
        out
    };
    let p = |k: &str, e| (k.to_string(), e);
    let enc = || Selector::EncryptedCommentRegex("sops:enc".into());
    assert_eq!(
        encrypted("[db]\nh = 1\n; sops:enc\npw = 2\nuser = 3\n", enc()),
        [p("db:h", false), p("db:pw", false), p("db:user", true)]
    );
    // Last key of its section: nothing; a section's comment: its first key.
    assert_eq!(
        encrypted(
            "; sops:enc\n[x]\na = 1\n; sops:enc\nk = v\n[y]\nz = 1\n",
            enc()
        ),
        [p("x:a", true), p("x:k", false), p("y:z", false)]
    );
    let clear = Selector::UnencryptedCommentRegex("sops:enc".into());
    assert_eq!(
        encrypted("[s]\n; sops:enc\na = 1\nb = 2\n", clear),
        [p("s:a", true), p("s:b", false)]
    );
}
