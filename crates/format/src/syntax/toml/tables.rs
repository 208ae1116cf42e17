//! Which tables and keys a TOML text defines, so that texts parsed one
//! window at a time can be checked to define them as one document would.
//!
//! Each window of a streamed decryption parses alone (see
//! `engine::stream`), but TOML's rules span the whole document: a table
//! header may not repeat, a key may not also be a table, `[[x]]` may not
//! extend a static array `x = []`. [`Sections`] lists what one window
//! defines, in source order; [`Tables`] replays the windows in order and
//! says whether the whole document could define the same. It errs only
//! towards "no" (the caller then parses the whole document, which decides):
//! - a key is kept as a hash (a collision reads as a redefinition);
//! - anything under a table made by dotted keys (`a.b = 1`, then
//!   `[a.b.c]`, which TOML allows in one section's window) is not replayed,
//!   and a later window's header through it reads as a redefinition;
//! - a table without a header that holds values is not listed at all
//!   ([`sections`] gives `None`).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use rustc_hash::FxBuildHasher;
use toml_edit::{Item, Table};

/// What one text defines: its sections (the root's keys, then each table
/// header with its keys) in source order.
#[derive(Debug, Default)]
pub(crate) struct Sections(Vec<Section>);

/// One section: a header (or the root, before the first header) and the
/// first part of each key written under it.
#[derive(Debug)]
struct Section {
    /// Where the header starts (0 for the root).
    at: usize,
    /// The header's key path; empty for the root.
    path: Vec<String>,
    /// `[[…]]`: a new element of an array of tables.
    array: bool,
    /// Hashes of the keys' first parts (`a` of `a.b = 1`; a table's items
    /// are each key once).
    keys: Vec<u64>,
}

/// A name's hash (not keyed: a collision only sends a file to the whole
/// parse).
fn hash(name: &str) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    h.write(name.as_bytes());
    h.finish()
}

/// The sections of a parsed document's root table, or `None` if it holds
/// something they cannot describe (values in a table without a header).
pub(crate) fn sections(root: &Table) -> Option<Sections> {
    let mut out = vec![Section {
        at: 0,
        path: Vec::new(),
        array: false,
        keys: Vec::new(),
    }];
    let mut path = Vec::new();
    walk(root, &mut path, Some(0), &mut out)?;
    out.sort_by_key(|s| s.at);
    Some(Sections(out))
}

/// Add the items of `t` (at `path`) to the section `own` of `out`, and the
/// sections of the header tables below it. `own` is `None` for a table
/// without a header, which must hold tables only.
fn walk(
    t: &Table,
    path: &mut Vec<String>,
    own: Option<usize>,
    out: &mut Vec<Section>,
) -> Option<()> {
    for (key, item) in t.iter() {
        let closed = match item {
            Item::None => continue,
            Item::Value(_) => true,
            Item::Table(sub) => sub.is_dotted(),
            Item::ArrayOfTables(_) => false,
        };
        if closed {
            // A value, or a table made by dotted keys (what is under it
            // is not replayed: a later header through it is refused).
            out.get_mut(own?)?.keys.push(hash(key));
            continue;
        }
        path.push(key.to_string());
        match item {
            Item::Table(sub) if sub.is_implicit() || sub.span().is_none() => {
                walk(sub, path, None, out)?;
            }
            Item::Table(sub) => {
                let at = sub.span().map_or(0, |s| s.start);
                out.push(Section {
                    at,
                    path: path.clone(),
                    array: false,
                    keys: Vec::new(),
                });
                walk(sub, path, Some(out.len() - 1), out)?;
            }
            Item::ArrayOfTables(aot) => {
                for sub in aot.iter() {
                    let at = sub.span()?.start;
                    out.push(Section {
                        at,
                        path: path.clone(),
                        array: true,
                        keys: Vec::new(),
                    });
                    walk(sub, path, Some(out.len() - 1), out)?;
                }
            }
            _ => {}
        }
        path.pop();
    }
    Some(())
}

/// The tables the windows so far define, as one document would: header
/// tables by name, with the hashes of their keys. Of an array of tables
/// only the last element is kept (no header reaches an earlier one).
#[derive(Debug, Default)]
pub(crate) struct Tables {
    root: Node,
}

#[derive(Debug, Default)]
struct Node {
    /// Defined by its own header (not only as a prefix of another's).
    explicit: bool,
    /// Its keys' hashes, sorted (a table's keys are all in one section).
    keys: Vec<u64>,
    tables: HashMap<String, Child, FxBuildHasher>,
}

#[derive(Debug)]
enum Child {
    Table(Node),
    /// An array of tables: its last element.
    Array(Node),
}

impl Child {
    fn node(&mut self) -> &mut Node {
        match self {
            Child::Table(n) | Child::Array(n) => n,
        }
    }
}

impl Tables {
    /// Replay the next window's sections; `false` if the whole document
    /// might not define them so (a redefinition, or a case not tracked).
    pub(crate) fn add(&mut self, sections: Sections) -> bool {
        sections.0.into_iter().all(|s| self.section(s).is_some())
    }

    fn section(&mut self, s: Section) -> Option<()> {
        let mut node = &mut self.root;
        if let Some((last, inner)) = s.path.split_last() {
            for seg in inner {
                node = node.descend(seg)?;
            }
            node = node.define(last, s.array)?;
        }
        if s.keys.is_empty() {
            return Some(());
        }
        // Its keys are new, and none is one of its tables (made by a
        // deeper header before this one: `[a.b]`, then `[a]` with `b = 1`).
        let mut keys = s.keys;
        keys.sort_unstable();
        let clash = node
            .tables
            .keys()
            .any(|name| keys.binary_search(&hash(name)).is_ok());
        if !node.keys.is_empty() || clash {
            return None;
        }
        node.keys = keys;
        Some(())
    }
}

impl Node {
    fn fresh(explicit: bool) -> Node {
        Node {
            explicit,
            ..Node::default()
        }
    }

    /// Whether `seg` may name a new table in this one: it is not a key
    /// (or a key's hash).
    fn free(&self, seg: &str) -> bool {
        self.keys.binary_search(&hash(seg)).is_err()
    }

    /// The table `seg` on the way to a header: created (implicitly) if
    /// absent; the last element of an array of tables.
    fn descend(&mut self, seg: &str) -> Option<&mut Node> {
        if !self.tables.contains_key(seg) {
            if !self.free(seg) {
                return None;
            }
            let child = Child::Table(Node::fresh(false));
            self.tables.insert(seg.to_string(), child);
        }
        self.tables.get_mut(seg).map(Child::node)
    }

    /// The table a header `[… seg]` (or `[[… seg]]`) defines.
    fn define(&mut self, seg: &str, array: bool) -> Option<&mut Node> {
        if !self.tables.contains_key(seg) {
            if !self.free(seg) {
                return None;
            }
            let child = if array {
                Child::Array(Node::fresh(true))
            } else {
                Child::Table(Node::fresh(true))
            };
            self.tables.insert(seg.to_string(), child);
            return self.tables.get_mut(seg).map(Child::node);
        }
        match self.tables.get_mut(seg)? {
            Child::Table(n) if !array && !n.explicit => {
                n.explicit = true;
                Some(n)
            }
            Child::Array(n) if array => {
                *n = Node::fresh(true);
                Some(n)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use toml_edit::Document;

    /// What the windows' replay says of `windows`: `None` if one of them
    /// does not parse alone (the stream leaves such a file to the whole
    /// parse anyway).
    fn replay(windows: &[String]) -> Option<bool> {
        let mut tables = Tables::default();
        let mut all = true;
        for w in windows {
            let doc = Document::parse(w.as_str()).ok()?;
            let s = sections(doc.as_table())?;
            all = all && tables.add(s);
        }
        Some(all)
    }

    fn whole(windows: &[String]) -> bool {
        Document::parse(windows.concat()).is_ok()
    }

    fn split(doc: &str) -> Vec<String> {
        doc.split('|').map(str::to_string).collect()
    }

    #[test]
    fn redefinitions_across_windows_are_seen() {
        for doc in [
            "k4 = []\n|[[k4.sub]]\n",
            "[a]\nx = 1\n|[a]\ny = 2\n",
            "[a]\nx = 1\n|[a.x]\n",
            "[a.b]\n|[a]\nb = 1\n",
            "[[a]]\n|[a]\n",
            "[a.b]\n|[[a]]\n",
            "a = { b = 1 }\n|[a.c]\n",
            "[[a]]\n[a.b]\n|[a.b]\n",
            "[a]\nb = 1\n|[a.b.c]\n",
        ] {
            let windows = split(doc);
            assert!(!whole(&windows), "{doc:?}");
            assert_eq!(replay(&windows), Some(false), "{doc:?}");
        }
    }

    #[test]
    fn what_toml_allows_across_windows_is_allowed() {
        for doc in [
            "title = 1\n|[a]\nx = 1\n|[b]\n",
            "[[a]]\nx = 1\n|[[a]]\nx = 2\n|[a.b]\ny = 1\n|[[a]]\n[a.b]\n",
            "[a.b]\nx = 1\n|[a.c]\n|[a]\nd = 1\n",
            "[a.b.c]\n|[a.b]\n|[a]\n",
            "[[a.b]]\n|[a]\nx = 1\n",
            "[\"a.b\"]\n|[a.b]\n|[a]\n",
            "[fruit]\napple.color = 1\n[fruit.apple.texture]\nsmooth = true\n|[veg]\n",
            "[sops]\nversion = '3'\n[[sops.age]]\n|[app]\n",
        ] {
            let windows = split(doc);
            assert!(whole(&windows), "{doc:?}");
            assert_eq!(replay(&windows), Some(true), "{doc:?}");
        }
    }

    /// TOML allows a header through a table made by dotted keys in an
    /// earlier window; the replay does not track those and says no (the
    /// whole parse then decides).
    #[test]
    fn headers_through_dotted_tables_are_left_to_the_whole_parse() {
        let windows = split("[x]\na.b = 1\n|[x.a.c]\n");
        assert!(whole(&windows));
        assert_eq!(replay(&windows), Some(false));
    }

    fn path() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a", "b", "a.b", "a.c", "b.a", "a.b.c", "\"a\".b", "'a.b'",
        ])
    }

    fn key(dotted: bool) -> BoxedStrategy<&'static str> {
        let mut keys = vec!["a", "b", "c", "\"b\""];
        if dotted {
            keys.extend(["a.b", "b.c", "c.a.b"]);
        }
        prop::sample::select(keys).boxed()
    }

    fn value() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["1", "[]", "[1]", "{}", "{ x = 1 }", "[{ y = 2 }]"])
    }

    /// A document of sections from a few names (many redefine a table or
    /// key), cut into windows before some headers (`|`).
    fn document(dotted: bool) -> impl Strategy<Value = Vec<String>> {
        let keys = || prop::collection::vec((key(dotted), value()), 0..3);
        (
            keys(),
            prop::collection::vec((path(), any::<bool>(), keys(), any::<bool>()), 0..7),
        )
            .prop_map(|(root, sections)| {
                let mut windows = vec![String::new()];
                let pairs = |out: &mut String, pairs: &[(&str, &str)]| {
                    for (k, v) in pairs {
                        out.push_str(&format!("{k} = {v}\n"));
                    }
                };
                pairs(windows.last_mut().unwrap(), &root);
                for (path, array, keys, cut) in sections {
                    if cut {
                        windows.push(String::new());
                    }
                    let out = windows.last_mut().unwrap();
                    if array {
                        out.push_str(&format!("[[{path}]]\n"));
                    } else {
                        out.push_str(&format!("[{path}]\n"));
                    }
                    pairs(out, &keys);
                }
                windows
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Without dotted keys the replay says what the whole parse says;
        /// with them it never says yes where the whole parse says no.
        #[test]
        fn the_replay_agrees_with_the_whole_parse(
            windows in document(false),
            dotted in document(true),
        ) {
            if let Some(ok) = replay(&windows) {
                prop_assert_eq!(ok, whole(&windows), "{:?}", windows);
            }
            if replay(&dotted) == Some(true) {
                prop_assert!(whole(&dotted), "{:?}", dotted);
            }
        }
    }
}
