//! Values written into a .env or INI text from another document keep
//! their types, as sops keeps them: those formats hold every value as a
//! string, and sops records the type of the value it read in each
//! `ENC[…]` (`port=ENC[…,type:int]`), so that `decrypt --output-type json`
//! gives `8080`, not `"8080"`. For files sops reads (`AES256_GCM`).

use crate::syntax::flat::flat_value;
use crate::syntax::Format;
use crate::tree::{Entry, Item, Node, Tree, Value};
use std::collections::{HashMap, VecDeque};

/// The values of the source document by the name they are written under
/// (`("", name)` in .env: nested keys joined with `_`, list items by
/// index; `(section, key)` in INI), in document order.
type Names = HashMap<(String, String), VecDeque<Value>>;

/// Give each string value of `converted` (a parse of the `format` text
/// written from `source`) the type of the `source` value written there,
/// where its text is that value's. Returns how many were typed.
pub(super) fn retype(format: Format, converted: &mut Tree, source: &Tree) -> usize {
    let Some(root) = source.docs.first() else {
        return 0;
    };
    let mut names = Names::default();
    match format {
        Format::Dotenv => dotenv_names(root, None, &mut names),
        Format::Ini => ini_names(root, &mut names),
        _ => return 0,
    }
    let Some(Node::Map(entries)) = converted.docs.first_mut() else {
        return 0;
    };
    let mut typed = 0;
    for entry in entries {
        let Entry::Pair(pair) = entry else { continue };
        match (format, &mut pair.value) {
            (Format::Ini, Node::Map(keys)) => {
                for key in keys {
                    if let Entry::Pair(p) = key {
                        typed += take(&mut names, (pair.key.clone(), p.key.clone()), &mut p.value);
                    }
                }
            }
            (Format::Dotenv, value) => {
                typed += take(&mut names, (String::new(), pair.key.clone()), value);
            }
            _ => {}
        }
    }
    typed
}

/// Type `node` with the next source value named `name`, if its text is
/// that value's (as written: nothing changed it since).
fn take(names: &mut Names, name: (String, String), node: &mut Node) -> usize {
    let Some(value) = names.get_mut(&name).and_then(VecDeque::pop_front) else {
        return 0;
    };
    let Node::Scalar(scalar) = node else {
        return 0;
    };
    let Value::Str(text) = &scalar.value else {
        return 0;
    };
    // A string with the two characters `\n` in it: a .env text has no
    // spelling for them (sops reads every `\n` as a line break), so the
    // value read back from the text is not the source's. The source's is
    // sealed, as sops seals it (sops converts the tree, not a text).
    if let Value::Str(source) = &value {
        if source != text
            && source.contains("\\n")
            && crate::syntax::dotenv::sops_reads_back(source).as_str() == text.as_str()
        {
            scalar.value = value;
            return 1;
        }
        return 0;
    }
    if !matches!(
        value,
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Time(_)
    ) {
        return 0;
    }
    // A time that is no RFC 3339 one (a TOML local date or time, without
    // an offset) stays a string: sealed as `type:time`, neither sops nor
    // sops-like could read it back.
    if matches!(&value, Value::Time(t) if !crate::value::is_rfc3339(t)) {
        return 0;
    }
    let same = flat_value(&value).as_deref() == Some(text.as_str())
        || value.sops_text().as_deref() == Some(text.as_str());
    if !same {
        return 0;
    }
    scalar.value = value;
    1
}

/// The names a .env text is written under (as the .env writer names them).
fn dotenv_names(node: &Node, name: Option<&str>, out: &mut Names) {
    match node {
        Node::Alias(inner) => dotenv_names(inner, name, out),
        Node::Map(entries) => {
            for entry in entries {
                if let Entry::Pair(p) = entry {
                    let key = match name {
                        None => p.key.clone(),
                        Some(parent) => format!("{parent}_{}", p.key),
                    };
                    dotenv_names(&p.value, Some(&key), out);
                }
            }
        }
        Node::Seq(items) => {
            let nodes = items.iter().filter_map(|i| match i {
                Item::Node(n) => Some(n),
                Item::Comment(_) => None,
            });
            for (i, n) in nodes.enumerate() {
                let key = match name {
                    None => i.to_string(),
                    Some(parent) => format!("{parent}_{i}"),
                };
                dotenv_names(n, Some(&key), out);
            }
        }
        Node::Scalar(s) => {
            if let Some(name) = name {
                out.entry((String::new(), name.to_string()))
                    .or_default()
                    .push_back(s.value.clone());
            }
        }
    }
}

/// The `(section, key)` names an INI text is written under (as the INI
/// writer places them: top-level values and a leading `DEFAULT` mapping in
/// the section `DEFAULT`).
fn ini_names(root: &Node, out: &mut Names) {
    let Node::Map(entries) = root else { return };
    let mut push = |section: &str, key: &str, node: &Node| {
        if let Node::Scalar(s) = node {
            out.entry((section.to_string(), key.to_string()))
                .or_default()
                .push_back(s.value.clone());
        }
    };
    for entry in entries {
        let Entry::Pair(p) = entry else { continue };
        match &p.value {
            Node::Map(inner) => {
                for e in inner {
                    if let Entry::Pair(k) = e {
                        push(&p.key, &k.key, &k.value);
                    }
                }
            }
            other => push("DEFAULT", &p.key, other),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cipher::CipherKind;
    use crate::syntax::parse_plain_as;

    fn types(format: Format, text: &str, source: &str) -> Vec<(String, &'static str)> {
        let source = parse_plain_as(Format::Yaml, source, CipherKind::Aes256Gcm).unwrap();
        let mut parsed = parse_plain_as(format, text, CipherKind::Aes256Gcm).unwrap();
        retype(format, &mut parsed.tree, &source.tree);
        let mut out = Vec::new();
        crate::walk::walk(&parsed.tree, |place, leaf| {
            if let crate::walk::Leaf::Value(s) = leaf {
                out.push((place.path.join("."), s.value.sops_type()));
            }
        });
        out
    }

    /// A string with `\n` in it keeps its exact text (the .env text reads
    /// it as a line break).
    #[test]
    fn backslash_n_strings_keep_their_text() {
        let mut source = Tree::new(vec![Node::map([(
            "data".to_string(),
            Node::str("a\\nb\n"),
        )])]);
        let text = crate::syntax::dotenv::emit_as_sops(&source).unwrap();
        let mut parsed = parse_plain_as(Format::Dotenv, &text, CipherKind::Aes256Gcm).unwrap();
        assert_eq!(retype(Format::Dotenv, &mut parsed.tree, &source), 1);
        let value = parsed.tree.docs[0].get("data").and_then(Node::as_value);
        assert!(matches!(value, Some(Value::Str(t)) if t == "a\\nb\n"));
        // Edited since (another text): left as it is.
        source.docs[0] = Node::map([("data".to_string(), Node::str("other\\n"))]);
        let mut parsed = parse_plain_as(Format::Dotenv, &text, CipherKind::Aes256Gcm).unwrap();
        assert_eq!(retype(Format::Dotenv, &mut parsed.tree, &source), 0);
    }

    #[test]
    fn converted_values_keep_their_types() {
        let yaml = "port: 8080\nf: 1.5\nb: true\nt: x\nn: null\nd: 2024-01-01T00:00:00Z\ns:\n  k: 1\n  l: [2, y]\n";
        let env =
            "port=8080\nf=1.5\nb=true\nt=x\nn=\nd=2024-01-01T00:00:00Z\ns_k=1\ns_l_0=2\ns_l_1=y\n";
        let got = types(Format::Dotenv, env, yaml);
        let want = [
            ("port", "int"),
            ("f", "float"),
            ("b", "bool"),
            ("t", "str"),
            ("n", "str"),
            ("d", "time"),
            ("s_k", "int"),
            ("s_l_0", "int"),
            ("s_l_1", "str"),
        ];
        let want: Vec<(String, &str)> = want.iter().map(|(k, t)| (k.to_string(), *t)).collect();
        assert_eq!(got, want);
        let ini = "top = 1\n\n[s]\nk = 1\nb = false\nx = edited\n";
        let got = types(Format::Ini, ini, "top: 1\ns:\n  k: 1\n  b: false\n  x: 2\n");
        let want = [
            ("DEFAULT.top", "int"),
            ("s.k", "int"),
            ("s.b", "bool"),
            ("s.x", "str"),
        ];
        let want: Vec<(String, &str)> = want.iter().map(|(k, t)| (k.to_string(), *t)).collect();
        assert_eq!(got, want);
    }
}
