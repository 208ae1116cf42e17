//! Flattening of nested metadata into `key__map_sub__list_0` names, as sops
//! writes its metadata in .env and INI files, and the way back.
//!
//! Map keys below the top level are joined with `__map_`, list indices with
//! `__list_N`: `{age: [{recipient: r, enc: e}]}` becomes
//! `age__list_0__map_recipient = r` and `age__list_0__map_enc = e`.

use std::collections::{BTreeMap, HashMap};

use crate::tree::{Entry, Item, Node, Value};
use crate::value::go_float;

/// Joins a map key to its parent's name.
const MAP_SEP: &str = "__map_";
/// Joins a list index to its parent's name.
const LIST_SEP: &str = "__list_";
/// Names nested deeper than this are kept as one flat key by [`unflatten`]
/// (sops metadata is at most five levels deep), so input cannot make the
/// tree arbitrarily deep.
const MAX_DEPTH: usize = 32;

/// Flatten `node` into `(name, value)` pairs in document order, as sops
/// flattens its metadata: nested map keys joined with `__map_`, list
/// elements as `__list_N`. Null values, empty maps and empty lists produce
/// nothing; comments are skipped; scalars are written by [`flat_value`].
pub fn flatten(node: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten_into(node, None, &mut out);
    out
}

/// A scalar as sops writes it in flat formats (Go `stores.ValToString`):
/// strings as they are, ints in decimal, bools `true`/`false`, floats in
/// Go `%G` style with at least one decimal (`2.0`, `1.5`, `1E+06`), times
/// in RFC 3339 without fractional seconds. `None` for null.
pub fn flat_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(f) => Some(go_val_float(*f)),
        Value::Time(t) => Some(rfc3339_seconds(t)),
    }
}

/// Rebuild the nested tree from flattened `(name, value)` pairs. Values stay
/// strings (readers convert `"2"`, `"2.0"`, `"true"` where they need other
/// types). A name seen twice keeps its last value. List elements come back
/// in index order. Maps whose keys are sops metadata fields list them in
/// sops's field order (the order sops writes in YAML and JSON); other keys
/// keep the order in which they were first seen.
pub fn unflatten<I, K, V>(pairs: I) -> Node
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: Into<String>,
{
    let mut root = Builder::Map(MapBuilder::default());
    for (name, value) in pairs {
        let name = name.as_ref();
        let mut tokens = tokenize(name);
        if tokens.len() > MAX_DEPTH {
            tokens = vec![Token::Key(name)];
        }
        insert(&mut root, &tokens, value.into());
    }
    // The flattened names are sorted; give the metadata sops's field order.
    let mut node = root.into_node();
    crate::syntax::meta_order::canonical(&mut node);
    node
}

fn flatten_into(node: &Node, prefix: Option<&str>, out: &mut Vec<(String, String)>) {
    match node {
        Node::Alias(inner) => flatten_into(inner, prefix, out),
        Node::Scalar(s) => {
            if let Some(text) = flat_value(&s.value) {
                out.push((prefix.unwrap_or_default().to_string(), text));
            }
        }
        Node::Map(entries) => {
            for entry in entries {
                if let Entry::Pair(p) = entry {
                    let name = match prefix {
                        None => p.key.clone(),
                        Some(pre) => format!("{pre}{MAP_SEP}{}", p.key),
                    };
                    flatten_into(&p.value, Some(&name), out);
                }
            }
        }
        Node::Seq(items) => {
            let nodes = items.iter().filter_map(|i| match i {
                Item::Node(n) => Some(n),
                Item::Comment(_) => None,
            });
            for (i, n) in nodes.enumerate() {
                let name = format!("{}{LIST_SEP}{i}", prefix.unwrap_or_default());
                flatten_into(n, Some(&name), out);
            }
        }
    }
}

/// Go `strconv.FormatFloat(f, 'G', -1, 64)`, then `FormatFloat(f, 'f', 1, 64)`
/// when that looks like an integer (sops `ValToString`).
fn go_val_float(f: f64) -> String {
    if !f.is_finite() {
        // 'G' and 'f' agree here: +Inf, -Inf, NaN.
        return go_float(f);
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}E{sign}{:02}", exp.unsigned_abs());
    }
    let plain = go_float(f);
    if plain.contains('.') {
        plain
    } else {
        format!("{plain}.0")
    }
}

/// An RFC 3339 "nano" time without its fractional seconds (Go
/// `time.Format(time.RFC3339)`).
fn rfc3339_seconds(t: &str) -> String {
    match t.find('.') {
        Some(dot) => {
            let rest = t.get(dot + 1..).unwrap_or_default();
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            format!(
                "{}{}",
                t.get(..dot).unwrap_or_default(),
                rest.get(digits..).unwrap_or_default()
            )
        }
        None => t.to_string(),
    }
}

/// One step of a flattened name.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Key(&'a str),
    Index(usize),
}

/// Split a flattened name into its steps, as sops does: the text before
/// the first separator is a key, then every `__map_x` a key and every
/// `__list_N` an index (a non-numeric index reads as 0, like Go's `Atoi`).
fn tokenize(name: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    // The separator that began the token being read (none for the first).
    let mut sep: Option<&str> = None;
    let mut start = 0;
    let mut i = 0;
    while i < name.len() {
        let rest = name.get(i..).unwrap_or_default();
        let next = [MAP_SEP, LIST_SEP]
            .into_iter()
            .find(|s| rest.starts_with(s));
        match next {
            Some(next) => {
                tokens.push(token(name, start, i, sep));
                sep = Some(next);
                start = i;
                i += next.len();
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    tokens.push(token(name, start, name.len(), sep));
    tokens
}

/// The token `name[start..end]`, which begins with `sep`.
fn token<'a>(name: &'a str, start: usize, end: usize, sep: Option<&str>) -> Token<'a> {
    let skip = sep.map_or(0, str::len);
    let text = name.get(start + skip..end).unwrap_or_default();
    if sep == Some(LIST_SEP) {
        Token::Index(text.parse().unwrap_or(0))
    } else {
        Token::Key(text)
    }
}

/// A tree under construction.
enum Builder {
    Leaf(String),
    Map(MapBuilder),
    List(BTreeMap<usize, Builder>),
}

#[derive(Default)]
struct MapBuilder {
    entries: Vec<(String, Builder)>,
    index: HashMap<String, usize>,
}

impl MapBuilder {
    fn slot(&mut self, key: &str) -> Option<&mut Builder> {
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                let i = self.entries.len();
                self.entries
                    .push((key.to_string(), Builder::Leaf(String::new())));
                self.index.insert(key.to_string(), i);
                i
            }
        };
        self.entries.get_mut(i).map(|(_, b)| b)
    }
}

/// Put `value` at the path `tokens` below `node`, replacing whatever stood
/// in the way with a node of the needed kind.
fn insert(node: &mut Builder, tokens: &[Token<'_>], value: String) {
    let Some((first, rest)) = tokens.split_first() else {
        *node = Builder::Leaf(value);
        return;
    };
    let child = match (first, &mut *node) {
        (Token::Key(k), Builder::Map(m)) => m.slot(k),
        (Token::Index(i), Builder::List(l)) => {
            Some(l.entry(*i).or_insert_with(|| Builder::Leaf(String::new())))
        }
        _ => {
            *node = match first {
                Token::Key(_) => Builder::Map(MapBuilder::default()),
                Token::Index(_) => Builder::List(BTreeMap::new()),
            };
            return insert(node, tokens, value);
        }
    };
    if let Some(child) = child {
        if let Some(next) = rest.first() {
            let fits = matches!(
                (next, &*child),
                (Token::Key(_), Builder::Map(_)) | (Token::Index(_), Builder::List(_))
            );
            if !fits {
                *child = match next {
                    Token::Key(_) => Builder::Map(MapBuilder::default()),
                    Token::Index(_) => Builder::List(BTreeMap::new()),
                };
            }
        }
        insert(child, rest, value);
    }
}

impl Builder {
    fn into_node(self) -> Node {
        match self {
            Builder::Leaf(s) => Node::str(s),
            Builder::Map(m) => Node::map(m.entries.into_iter().map(|(k, b)| (k, b.into_node()))),
            Builder::List(l) => list_node(l),
        }
    }
}

/// A list in index order; gaps left by missing indices are dropped.
fn list_node(l: BTreeMap<usize, Builder>) -> Node {
    Node::Seq(l.into_values().map(|b| Item::Node(b.into_node())).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::syntax::conformance::{plain, sample_metadata};

    fn pairs(node: &Node) -> Vec<(String, String)> {
        let mut p = flatten(node);
        p.sort();
        p
    }

    #[test]
    fn flattens_sample_metadata_like_sops() {
        let flat = pairs(&sample_metadata());
        let names: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "age__list_0__map_enc",
                "age__list_0__map_recipient",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
    }

    #[test]
    fn unflatten_restores_sops_field_order() {
        let meta = sample_metadata();
        let back = unflatten(pairs(&meta));
        assert_eq!(plain(&back), plain(&meta));
    }

    #[test]
    fn key_groups_and_kms_context() {
        let meta = Node::map([
            ("shamir_threshold".to_string(), Node::value(Value::Int(2))),
            (
                "key_groups".to_string(),
                Node::Seq(vec![
                    Item::Node(Node::map([(
                        "pgp".to_string(),
                        Node::Seq(vec![Item::Node(Node::map([
                            ("created_at".to_string(), Node::str("t")),
                            ("enc".to_string(), Node::str("e\n")),
                            ("fp".to_string(), Node::str("F")),
                        ]))]),
                    )])),
                    Item::Node(Node::map([
                        (
                            "kms".to_string(),
                            Node::Seq(vec![Item::Node(Node::map([
                                ("arn".to_string(), Node::str("a")),
                                (
                                    "context".to_string(),
                                    Node::map([
                                        ("Zed".to_string(), Node::str("1")),
                                        ("Abc".to_string(), Node::str("2")),
                                    ]),
                                ),
                                ("created_at".to_string(), Node::str("t")),
                                ("enc".to_string(), Node::str("x")),
                                ("aws_profile".to_string(), Node::str("")),
                            ]))]),
                        ),
                        ("hc_vault".to_string(), Node::Seq(vec![])),
                        ("nothing".to_string(), Node::value(Value::Null)),
                    ])),
                ]),
            ),
            (
                "mac_only_encrypted".to_string(),
                Node::value(Value::Bool(true)),
            ),
        ]);
        let flat = pairs(&meta);
        let names: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "key_groups__list_0__map_pgp__list_0__map_created_at",
                "key_groups__list_0__map_pgp__list_0__map_enc",
                "key_groups__list_0__map_pgp__list_0__map_fp",
                "key_groups__list_1__map_kms__list_0__map_arn",
                "key_groups__list_1__map_kms__list_0__map_aws_profile",
                "key_groups__list_1__map_kms__list_0__map_context__map_Abc",
                "key_groups__list_1__map_kms__list_0__map_context__map_Zed",
                "key_groups__list_1__map_kms__list_0__map_created_at",
                "key_groups__list_1__map_kms__list_0__map_enc",
                "mac_only_encrypted",
                "shamir_threshold",
            ]
        );
        assert!(flat.contains(&("shamir_threshold".into(), "2".into())));
        assert!(flat.contains(&("mac_only_encrypted".into(), "true".into())));
        // Back: empty lists and nulls are gone, everything else in sops order;
        // the context map keeps its first-seen (here: sorted) order.
        let back = unflatten(flat);
        assert_eq!(
            plain(&back),
            concat!(
                r#"{"shamir_threshold":Some("2"),"key_groups":["#,
                r#"{"pgp":[{"created_at":Some("t"),"enc":Some("e\n"),"fp":Some("F")}]},"#,
                r#"{"kms":[{"arn":Some("a"),"context":{"Abc":Some("2"),"Zed":Some("1")},"#,
                r#""created_at":Some("t"),"enc":Some("x"),"aws_profile":Some("")}]}],"#,
                r#""mac_only_encrypted":Some("true")}"#
            )
        );
    }

    #[test]
    fn tokenize_like_sops() {
        assert_eq!(
            tokenize("a__list_0__map_b__list_x"),
            [
                Token::Key("a"),
                Token::Index(0),
                Token::Key("b"),
                Token::Index(0)
            ]
        );
        assert_eq!(tokenize("plain_key"), [Token::Key("plain_key")]);
        assert_eq!(tokenize("é__map_ü"), [Token::Key("é"), Token::Key("ü")]);
    }

    #[test]
    fn unflatten_tolerates_conflicts_and_depth() {
        let deep = "a".to_string() + &"__map_b".repeat(100);
        let node = unflatten([
            ("x", "1"),
            ("x__map_y", "2"),
            ("x__list_3", "3"),
            ("l__list_5", "5"),
            ("l__list_2", "2"),
            (deep.as_str(), "d"),
        ]);
        let p = plain(&node);
        assert!(p.starts_with(r#"{"x":[Some("3")],"l":[Some("2"),Some("5")],"#));
        assert!(p.contains(r#"__map_b":Some("d")"#));
    }

    #[test]
    fn flat_values_like_go_val_to_string() {
        let f = |v: f64| flat_value(&Value::Float(v)).unwrap_or_default();
        assert_eq!(f(2.0), "2.0");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(100000.0), "100000.0");
        assert_eq!(f(1e6), "1E+06");
        assert_eq!(f(1234567.0), "1.234567E+06");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1E-05");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(1e-300), "1E-300");
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(
            flat_value(&Value::Time("2024-01-02T03:04:05.123+02:00".into())).as_deref(),
            Some("2024-01-02T03:04:05+02:00")
        );
        assert_eq!(flat_value(&Value::Bool(false)).as_deref(), Some("false"));
        assert_eq!(flat_value(&Value::Int(-7)).as_deref(), Some("-7"));
        assert_eq!(flat_value(&Value::Null), None);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// A node that proptest can print.
        #[derive(Clone)]
        struct Shown(Node);

        impl std::fmt::Debug for Shown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&plain(&self.0))
            }
        }

        fn key() -> impl Strategy<Value = String> {
            // No "__", so names cannot contain a separator; an upper-case
            // first letter, so no name is a sops field that gets reordered.
            "[A-Z][a-z0-9]{0,3}(_[a-z0-9]{1,3})?"
        }

        fn map(v: Vec<(String, Shown)>) -> Node {
            let mut seen = std::collections::HashSet::new();
            Node::map(
                v.into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .map(|(k, n)| (k, n.0)),
            )
        }

        fn tree() -> impl Strategy<Value = Shown> {
            let leaf = "[a-z0-9 _\n]{0,6}".prop_map(|s| Shown(Node::str(s)));
            leaf.prop_recursive(4, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec((key(), inner.clone()), 1..4).prop_map(|v| Shown(map(v))),
                    prop::collection::vec(inner, 1..4).prop_map(|v| {
                        Shown(Node::Seq(v.into_iter().map(|n| Item::Node(n.0)).collect()))
                    }),
                ]
            })
        }

        proptest! {
            #[test]
            fn flatten_then_unflatten_is_identity(
                top in prop::collection::vec((key(), tree()), 0..4)
            ) {
                let node = map(top);
                let back = unflatten(flatten(&node));
                prop_assert_eq!(plain(&back), plain(&node));
            }
        }
    }
}
