//! `set FILE PATH VALUE` and `unset FILE PATH`: change one value of an
//! encrypted file in place. The plaintext is edited minimally (the
//! format's own structural edit), then re-encrypted keeping every other
//! value's ciphertext, so the git diff is the changed line(s) plus
//! `lastmodified` and `mac`.

use crate::args::{IoArgs, SetArgs, UnsetArgs};
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::sopsfile::{self, OpenedBinary};
use crate::{clock, keysource, treepath};
use sops_like_format::syntax::{plain_syntax, AliasConflict, PathStep};
use sops_like_format::Syntax;
use sops_like_format::{engine, splice, Entry, Format, Item, Node, Value};
use std::path::Path;
use zeroize::Zeroizing;

/// A JSON value as a tree node.
fn json_node(v: &serde_json::Value) -> Node {
    match v {
        serde_json::Value::Null => Node::value(Value::Null),
        serde_json::Value::Bool(b) => Node::value(Value::Bool(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Node::value(Value::Int(i)),
            None => Node::value(Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        serde_json::Value::String(s) => Node::str(s.clone()),
        serde_json::Value::Array(items) => {
            Node::Seq(items.iter().map(|i| Item::Node(json_node(i))).collect())
        }
        serde_json::Value::Object(map) => {
            Node::map(map.iter().map(|(k, v)| (k.clone(), json_node(v))))
        }
    }
}

/// Whether every number in `v` is an integer or a finite 64-bit float
/// (`1e400` is neither; sops refuses it as not valid JSON).
fn numbers_in_range(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => {
            n.as_i64().is_some() || n.as_f64().is_some_and(f64::is_finite)
        }
        serde_json::Value::Array(items) => items.iter().all(numbers_in_range),
        serde_json::Value::Object(map) => map.values().all(numbers_in_range),
        _ => true,
    }
}

/// Structural equality of data (no spans, no comments).
fn same(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Alias(x), y) | (y, Node::Alias(x)) => same(x, y),
        (Node::Scalar(x), Node::Scalar(y)) => match (&x.value, &y.value) {
            (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => *f == *i as f64,
            (p, q) => p == q,
        },
        (Node::Map(x), Node::Map(y)) => {
            let pairs = |e: &[Entry]| {
                e.iter()
                    .filter_map(|e| match e {
                        Entry::Pair(p) => Some((p.key.clone(), p.value.clone())),
                        Entry::Comment(_) => None,
                    })
                    .collect::<Vec<_>>()
            };
            let (x, y) = (pairs(x), pairs(y));
            x.len() == y.len()
                && x.iter()
                    .zip(&y)
                    .all(|(a, b)| a.0 == b.0 && same(&a.1, &b.1))
        }
        (Node::Seq(x), Node::Seq(y)) => {
            let items = |i: &[Item]| {
                i.iter()
                    .filter_map(|i| match i {
                        Item::Node(n) => Some(n.clone()),
                        Item::Comment(_) => None,
                    })
                    .collect::<Vec<_>>()
            };
            let (x, y) = (items(x), items(y));
            x.len() == y.len() && x.iter().zip(&y).all(|(a, b)| same(a, b))
        }
        _ => false,
    }
}

/// Decrypt `file` (read as `input`), let `change` edit the plaintext,
/// re-encrypt quietly and write back in place. `change` returns `None` for
/// "nothing to do".
fn update(
    file: &str,
    input: io::Input,
    types: (Option<String>, Option<String>),
    ignore_mac: bool,
    order: Option<&str>,
    target: Target<'_>,
    change: impl FnOnce(&dyn Syntax, Format, &str) -> Result<Option<Zeroizing<String>>>,
) -> Result<()> {
    let (input_type, output_type) = types;
    let io_args = IoArgs {
        output_type,
        ..IoArgs::file(true, input_type)
    };
    let format = io::input_format(&io_args, &input)?;
    let out_format = io::output_format(&io_args, format)?;
    let enc =
        engine::open(format, input.encrypted_text()?).map_err(|e| Failure::load(&input.name, e))?;
    let key = keysource::data_key(&enc.metadata, &input.name, order)?;
    let (plain, mut stash) = engine::decrypt_keeping(&enc, key.as_bytes(), ignore_mac)
        .map_err(|e| Failure::engine(&input.name, e))?;
    // The plaintext is read as it is re-encrypted (a .env text for sops's
    // cipher line by line, as sops reads it).
    let syntax = plain_syntax(format, enc.metadata.cipher_or_sops());
    let Some(new_plain) = change(syntax, format, &plain)? else {
        return Ok(());
    };
    if out_format != format {
        let now = clock::now_rfc3339();
        let out = sopsfile::reencrypt_as(
            &input.name,
            &enc,
            key.as_bytes(),
            &new_plain,
            out_format,
            &now,
        )?;
        return io::atomic_write(Path::new(file), out.as_bytes(), Sensitivity::Encrypted);
    }
    // sops's `set` writes the file (a new `lastmodified` and MAC) even when
    // the value was already there, unless `--idempotent`.
    let out = if matches!(target, Target::Set(_, true)) {
        engine::reseal(
            &enc,
            key.as_bytes(),
            &new_plain,
            &mut stash,
            &clock::now_rfc3339(),
        )
    } else {
        engine::reencrypt(
            &enc,
            key.as_bytes(),
            &plain,
            &new_plain,
            &mut stash,
            &clock::now_rfc3339(),
        )
    }
    .map_err(|e| Failure::engine(&input.name, e))?;
    if out.as_str() == input.text()? {
        return Ok(());
    }
    keeps_sealed(&input.name, &enc, format, &out, target)?;
    io::atomic_write(Path::new(file), out.as_bytes(), Sensitivity::Encrypted)
}

/// What `set` or `unset` changes: the values at and below this path. A
/// `set` that renews the file (a new `lastmodified` and MAC even when the
/// value was already there: not `--idempotent`) says so.
#[derive(Clone, Copy)]
enum Target<'p> {
    Set(&'p [PathStep], bool),
    Unset(&'p [PathStep]),
}

/// Refuse a `set` or `unset` whose text edit would write a value that is
/// encrypted now in clear: the edit moved or removed a comment that a
/// comment selector reads (a marker at the end of a line of a multi-line
/// list or inline table), so another value is no longer selected. Counted
/// outside the changed path for `set` (no other value moves), in the whole
/// file for `unset` (later list items move up).
fn keeps_sealed(
    name: &str,
    before: &engine::EncryptedFile<'_>,
    format: Format,
    out: &str,
    target: Target<'_>,
) -> Result<()> {
    use sops_like_format::metadata::Selector;
    if !matches!(
        before.metadata.selector,
        Some(Selector::UnencryptedCommentRegex(_) | Selector::EncryptedCommentRegex(_))
    ) {
        return Ok(());
    }
    let Ok(after) = engine::open(format, out) else {
        return Ok(());
    };
    // Counted without the changed path's values for `set` (no other value
    // moves), in the whole file after an `unset` (later list items move up).
    let (path, set) = match target {
        Target::Set(p, _) => (p, true),
        Target::Unset(p) => (p, false),
    };
    let sealed = |file: &engine::EncryptedFile<'_>, without_path: bool| {
        let Some(doc) = file.parsed.tree.docs.first() else {
            return 0;
        };
        let at_path = without_path
            .then(|| treepath::lookup(doc, path, format))
            .flatten()
            .map_or(0, |n| count_sealed(file.src, n));
        count_sealed(file.src, doc).saturating_sub(at_path)
    };
    let (was, now) = (sealed(before, true), sealed(&after, set));
    if now < was {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "{name}: this change would write {} value(s) that are encrypted now in clear: it moves a comment the file's comment selector reads; nothing written",
                was - now
            ),
        )
        .hint("make this change with `edit`, where the comments can be put back in place"));
    }
    Ok(())
}

/// How many encrypted values `node` holds (aliases not followed).
fn count_sealed(src: &str, node: &Node) -> usize {
    match node {
        Node::Scalar(s) => usize::from(engine::enc_text(src, s).is_some()),
        Node::Map(entries) => entries
            .iter()
            .map(|e| match e {
                Entry::Pair(p) => count_sealed(src, &p.value),
                Entry::Comment(_) => 0,
            })
            .sum(),
        Node::Seq(items) => items
            .iter()
            .map(|it| match it {
                Item::Node(child) => count_sealed(src, child),
                Item::Comment(_) => 0,
            })
            .sum(),
        Node::Alias(_) => 0,
    }
}

/// A set or unset at `path` that the YAML aliases of the first document
/// make impossible in place (see [`AliasConflict`]): refused with a
/// message that says why, nothing written.
fn alias_refusal(
    parsed: &sops_like_format::Parsed,
    path: &[PathStep],
    what: &str,
    index: &str,
    exit: i32,
) -> Result<()> {
    let Some(conflict) = parsed
        .tree
        .docs
        .first()
        .and_then(|d| sops_like_format::syntax::alias_conflict(d, path))
    else {
        return Ok(());
    };
    let why = match conflict {
        AliasConflict::Through(at) => format!(
            "the path goes through the YAML alias at {at}, and sops-like keeps aliases as aliases (sops would write the alias out as a copy and change the copy)"
        ),
        AliasConflict::Anchored(at) => format!(
            "the value at {at} is or holds a YAML anchor that aliases repeat, so the change would reach them too (sops would change this path only)"
        ),
    };
    Err(Failure::new(exit, format!("cannot {what} {index}: {why}"))
        .hint("edit the file with `sops-like edit`, writing the alias out where the value should differ"))
}

fn parse_plain(syntax: &dyn Syntax, plain: &str) -> Result<sops_like_format::Parsed> {
    syntax.parse(plain).map_err(Failure::decrypted_parse)
}

/// The value read for `--value-stdin` or `--value-file` (read without a
/// growing buffer, see [`io::read_secret`]) as text; bytes that are not
/// UTF-8 fail as `read_to_string` fails on them.
fn text(mut bytes: Zeroizing<Vec<u8>>) -> std::io::Result<String> {
    String::from_utf8(std::mem::take(&mut *bytes)).map_err(|e| {
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// The most steps a `set` path may have: YAML documents nest 255 levels
/// at most here (JSON 512).
const MAX_PATH_STEPS: usize = 255;

pub fn run_set(args: SetArgs) -> Result<()> {
    // The value's source is checked first, as sops checks its arguments
    // (exit 100: "no file specified, or index and value are missing").
    match (&args.value, args.value_file, args.value_stdin) {
        (_, true, true) => {
            return Err(Failure::new(
                code::GENERIC,
                "--value-file and --value-stdin cannot be used together",
            ))
        }
        (Some(_), false, true) => {
            return Err(Failure::new(
                code::NO_FILE_SPECIFIED,
                "--value-stdin reads the value from stdin: give FILE and INDEX only, no VALUE",
            ))
        }
        (None, _, false) => {
            return Err(Failure::new(code::NO_FILE_SPECIFIED, "no value given")
                .hint("pass the value as JSON, or use --value-stdin / --value-file"))
        }
        _ => {}
    }
    let path = treepath::parse(&args.index)?;
    // A document nested deeper than its parser reads is refused after it
    // is written; a path that deep is refused before anything is built
    // (the nested value's text grows with the square of its depth).
    if path.len() > MAX_PATH_STEPS {
        return Err(Failure::new(
            code::INVALID_SET_FORMAT,
            format!(
                "the path is nested too deeply: {} levels, at most {MAX_PATH_STEPS}",
                path.len()
            ),
        ));
    }
    let raw = Zeroizing::new(match (&args.value, args.value_file, args.value_stdin) {
        (_, _, true) => io::read_secret(&mut std::io::stdin().lock())
            .and_then(text)
            .map_err(|e| {
                Failure::new(
                    code::COULD_NOT_READ_INPUT_FILE,
                    format!("could not read stdin: {e}"),
                )
            })?,
        // sops: 1 for a value file it cannot read.
        (Some(f), true, false) => io::read_file(Path::new(f))
            .and_then(text)
            .map_err(|e| Failure::new(code::GENERIC, format!("could not read {f}: {e}")))?,
        (Some(v), _, _) => v.clone(),
        (None, _, _) => String::new(),
    });
    // Its strings are wiped when dropped (see `crate::json`).
    let json = crate::json::Wiped(serde_json::from_str(&raw).map_err(|e| {
        Failure::new(code::INVALID_SET_FORMAT, format!("the value is not valid JSON (line {}, column {})", e.line(), e.column()))
            .hint(r#"strings need JSON quotes: '"text"'; numbers, true/false, null, objects and arrays as in JSON"#)
    })?);
    let json = &json.0;
    if io::is_binary_name(args.input_type.as_deref(), Some(&args.file)) {
        return set_binary(&args, &path, json);
    }
    if !numbers_in_range(json) {
        return Err(Failure::new(
            code::INVALID_SET_FORMAT,
            "the value is not valid JSON: a number is out of range",
        )
        .hint(
            "numbers must fit a 64-bit float, as sops needs (quote it to store it as a string)",
        ));
    }
    let value = json_node(json);
    let input = io::read_file_to_change(&args.file, code::COULD_NOT_READ_INPUT_FILE)?;
    update(
        &args.file,
        input,
        (args.input_type.clone(), args.output_type.clone()),
        args.ignore_mac,
        args.decryption_order.as_deref(),
        Target::Set(&path, !args.idempotent),
        |syntax, format, plain| {
            let parsed = parse_plain(syntax, plain)?;
            alias_refusal(&parsed, &path, "set", &args.index, code::INVALID_SET_FORMAT)?;
            if args.idempotent {
                if let Some(current) = parsed
                    .tree
                    .docs
                    .first()
                    .and_then(|d| treepath::lookup(d, &path, format))
                {
                    if same(current, &value) {
                        return Ok(None);
                    }
                }
            }
            // The top-level `sops` key is the metadata's: a document that
            // has one cannot be encrypted (sops writes a second `sops` key,
            // and the file can no longer be read).
            let dotenv = syntax.name() == Format::Dotenv.name();
            if !dotenv && matches!(path.first(), Some(PathStep::Key(k)) if k == "sops") {
                return Err(Failure::new(
                    code::INVALID_SET_FORMAT,
                    format!(
                        "cannot set {}: the document must not contain a `sops` key (sops-like manages it)",
                        args.index
                    ),
                ));
            }
            // A mapping in a .env file (a mapping value, or a path below a
            // key) is one sops cannot write out, ErrorDumpingTree (4); a
            // list value is its invalid set value (7).
            let not_writable = dotenv && (path.len() > 1 || matches!(value, Node::Map(_)));
            let edits = syntax
                .set_value(plain, &parsed, &path, &value)
                .map_err(|e| {
                    Failure::new(
                        if not_writable {
                            code::ERROR_DUMPING_TREE
                        } else {
                            code::INVALID_SET_FORMAT
                        },
                        format!("cannot set {}: {e}", args.index),
                    )
                })?;
            let new =
                splice(plain, edits).map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
            Ok(Some(Zeroizing::new(new)))
        },
    )
}

/// `set` on a binary-store file: its one value, `["data"]`, takes the
/// string's bytes (as in sops).
fn set_binary(args: &SetArgs, path: &[PathStep], json: &serde_json::Value) -> Result<()> {
    let (Some(PathStep::Key(k)), 1, serde_json::Value::String(text)) =
        (path.first(), path.len(), json)
    else {
        return Err(Failure::new(
            code::INVALID_SET_FORMAT,
            format!("cannot set {} in a binary file", args.index),
        )
        .hint(r#"a binary file holds one string value: '["data"]' '"new content"'"#));
    };
    if k != "data" {
        return Err(Failure::new(
            code::INVALID_SET_FORMAT,
            format!(
                "cannot set {} in a binary file: its one value is [\"data\"]",
                args.index
            ),
        ));
    }
    let input = io::read_file_to_change(&args.file, code::COULD_NOT_READ_INPUT_FILE)?;
    let OpenedBinary { file, key, plain } =
        sopsfile::open_binary(&input, args.decryption_order.as_deref(), args.ignore_mac)?;
    if args.idempotent && plain.as_slice() == text.as_bytes() {
        return Ok(());
    }
    let out = file
        .reencrypt(key.as_bytes(), text.as_bytes(), &clock::now_rfc3339())
        .map_err(|e| Failure::engine(&input.name, e))?;
    io::atomic_write(
        Path::new(&args.file),
        out.as_bytes(),
        Sensitivity::Encrypted,
    )
}

pub fn run_unset(args: UnsetArgs) -> Result<()> {
    let path = treepath::parse(&args.index)?;
    // A binary-store file (a name with no known extension, as decrypt and
    // rotate read it) has one value, `["data"]`.
    let input = io::read_file_to_change(&args.file, code::COULD_NOT_READ_INPUT_FILE)?;
    if io::is_binary(&IoArgs::file(true, args.input_type.clone()), &input) {
        return unset_binary(&args, &path, &input);
    }
    update(
        &args.file,
        input,
        (args.input_type.clone(), args.output_type.clone()),
        args.ignore_mac,
        args.decryption_order.as_deref(),
        Target::Unset(&path),
        |syntax, _, plain| {
            let parsed = parse_plain(syntax, plain)?;
            alias_refusal(&parsed, &path, "unset", &args.index, code::GENERIC)?;
            let edits = syntax.remove_value(plain, &parsed, &path).map_err(|e| {
                Failure::new(code::GENERIC, format!("cannot unset {}: {e}", args.index))
            })?;
            match edits {
                Some(edits) => {
                    let new = splice(plain, edits)
                        .map_err(|e| Failure::new(code::GENERIC, e.to_string()))?;
                    Ok(Some(Zeroizing::new(new)))
                }
                None if args.idempotent => Ok(None),
                None => Err(Failure::new(
                    code::GENERIC,
                    format!("component {} not found", args.index),
                )
                .hint("--idempotent makes this a no-op")),
            }
        },
    )
}

/// `unset` on a binary-store file, as sops does it: the file is decrypted
/// first (MAC checked); any path but `["data"]` is not found (a no-op with
/// `--idempotent`). `["data"]` itself is refused: sops writes a file with
/// no data that neither tool can decrypt.
fn unset_binary(args: &UnsetArgs, path: &[PathStep], input: &io::Input) -> Result<()> {
    sopsfile::open_binary(input, args.decryption_order.as_deref(), args.ignore_mac)?;
    if matches!(path, [PathStep::Key(k)] if k == "data") {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "cannot unset {} in a binary file: it is the file's only value",
                args.index
            ),
        )
        .hint(r#"empty it with set FILE '["data"]' '""', or delete the file"#));
    }
    if args.idempotent {
        return Ok(());
    }
    Err(Failure::new(
        code::GENERIC,
        format!(
            "component {} not found (a binary file holds only [\"data\"])",
            args.index
        ),
    )
    .hint("--idempotent makes this a no-op"))
}
