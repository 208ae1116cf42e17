//! `decrypt FILE`: write the plaintext (or one `--extract`ed value, or the
//! document converted with `--output-type`).

use crate::args::DecryptArgs;
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::multi::{self, Outcome};
use crate::{keysource, sopsfile, treepath};
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{EngineError, StreamError};
use sops_like_format::metadata::Metadata;
use sops_like_format::syntax::parse_plain_as;
use sops_like_format::{engine, syntax, Entry, Format, Node, Pair, Tree, Value};
use sops_like_keys::DataKey;
use std::fs::File;
use std::io::Seek;
use std::path::PathBuf;
use zeroize::Zeroizing;

pub fn run(args: DecryptArgs) -> Result<()> {
    let files = multi::expand(&args.files, args.recursive)?;
    if files.len() <= 1 && !args.recursive {
        return one(&args, files.first().map(String::as_str));
    }
    if !args.io.in_place {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "decrypting several files needs -i/--in-place",
        ));
    }
    multi::each(&files, "decrypted", |f| match one(&args, Some(f)) {
        Err(e) if e.message.contains("sops metadata not found") && args.recursive => {
            Ok(Outcome::Skipped("not encrypted".into()))
        }
        r => r.map(|_| Outcome::Done),
    })
}

fn one(args: &DecryptArgs, file: Option<&str>) -> Result<()> {
    let known = match streamed(args, file)? {
        Streamed::Done => return Ok(()),
        Streamed::No(known) => known,
    };
    let input = io::read_input(file)?;
    if io::is_binary(&args.io, &input) {
        if args.extract.is_some() {
            return Err(Failure::new(
                code::GENERIC,
                "--extract is not supported for binary files",
            ));
        }
        let bin = sopsfile::open_binary(&input, args.decryption_order.as_deref(), args.ignore_mac)?;
        return match args
            .io
            .output_type
            .as_deref()
            .filter(|t| !is_binary_type(t))
        {
            // As sops: the bytes as the string value of a `data` key.
            Some(t) => {
                let out =
                    binary_as_document(io::output_format(&args.io, Format::Json)?, &bin.plain)
                        .map_err(|e| {
                            e.hint(format!("{} is not text, so it has no {t} form", input.name))
                        })?;
                io::write_output(&args.io, &input, out.as_bytes(), Sensitivity::Plaintext)
            }
            None => io::write_output(&args.io, &input, &bin.plain, Sensitivity::Plaintext),
        };
    }
    let format = io::input_format(&args.io, &input)?;
    // `--output-type binary`: the document's `data` string, or with
    // `--extract` the value as it is (a string raw).
    let binary_out = args.io.output_type.as_deref().is_some_and(is_binary_type);
    let out_format = if binary_out {
        format
    } else {
        io::output_format_by_name(&args.io, &input, format)?
    };
    let file =
        engine::open(format, input.encrypted_text()?).map_err(|e| Failure::load(&input.name, e))?;
    let key = match known {
        // Unwrapped already for the same metadata (no second prompt or
        // key service call).
        Some((metadata, key)) if metadata == file.metadata => key,
        _ => keysource::data_key(
            &file.metadata,
            &input.name,
            args.decryption_order.as_deref(),
        )?,
    };
    let plain = engine::decrypt(&file, key.as_bytes(), args.ignore_mac)
        .map_err(|e| Failure::engine(&input.name, e))?;
    // The data as sops reads it (a sops-compatible .env file line by line,
    // .env and INI values typed by their `type:`), not a parse of the text.
    let tree = |plain: &str| sopsfile::decrypted_tree(&input.name, &file, key.as_bytes(), plain);
    let output = match &args.extract {
        Some(path) => extract(out_format, || tree(&plain), path)?,
        None if binary_out => binary_data(&tree(&plain)?)?,
        None if out_format != format => emit(out_format, &tree(&plain)?)?,
        None => plain,
    };
    io::write_output(&args.io, &input, output.as_bytes(), Sensitivity::Plaintext)
}

/// What [`streamed`] did.
enum Streamed {
    /// The file is decrypted and written.
    Done,
    /// Nothing: read the file whole. With the metadata read and the data
    /// key it unwrapped, if it got that far.
    No(Option<(Metadata, DataKey)>),
}

/// Decrypt a file a window at a time, on every core, reading it instead of
/// holding it (the formats [`engine::scan`] takes), when the plaintext is
/// all that is asked for.
fn streamed(args: &DecryptArgs, file: Option<&str>) -> Result<Streamed> {
    let Some(path) = file.filter(|f| *f != "-") else {
        return Ok(Streamed::No(None));
    };
    let input = io::Input {
        name: path.to_string(),
        path: Some(PathBuf::from(path)),
        bytes: Zeroizing::new(Vec::new()),
    };
    if args.extract.is_some() || io::is_binary(&args.io, &input) {
        return Ok(Streamed::No(None));
    }
    // Which formats stream is `engine::scan`'s to say.
    let Ok(format) = io::input_format(&args.io, &input) else {
        return Ok(Streamed::No(None));
    };
    if !io::output_format_by_name(&args.io, &input, format).is_ok_and(|f| f == format) {
        return Ok(Streamed::No(None));
    }
    let Ok(mut reader) = File::open(path) else {
        return Ok(Streamed::No(None));
    };
    if !reader.metadata().is_ok_and(|m| m.is_file()) {
        return Ok(Streamed::No(None));
    }
    let Ok(Some(stream)) = engine::scan(format, &mut reader) else {
        return Ok(Streamed::No(None));
    };
    let key = keysource::data_key(
        stream.metadata(),
        &input.name,
        args.decryption_order.as_deref(),
    )?;
    let unreadable = |e: std::io::Error| {
        Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("could not read {path}: {e}"),
        )
    };
    reader.rewind().map_err(unreadable)?;
    let plain = match stream.decrypt(&mut reader, key.as_bytes(), args.ignore_mac) {
        Ok(plain) => plain,
        Err(StreamError::Engine(e)) => return Err(Failure::load(&input.name, e)),
        Err(StreamError::Io(e)) => return Err(unreadable(e)),
        Err(_) => return Ok(Streamed::No(Some((stream.metadata().clone(), key)))),
    };
    io::stream_output(&args.io, &input, Sensitivity::Plaintext, |out| {
        plain.write_to(out).map_err(EngineError::Write)
    })?;
    Ok(Streamed::Done)
}

/// Re-write a plaintext document in another format; `cipher` is the one its
/// values are (to be) sealed with (a .env text for sops's cipher is read
/// line by line, as sops reads it).
pub fn convert(
    from: Format,
    to: Format,
    plain: &str,
    cipher: CipherKind,
) -> Result<Zeroizing<String>> {
    let tree = parse_plain_as(from, plain, cipher)
        .map(|p| p.tree)
        .map_err(Failure::decrypted_parse)?;
    emit(to, &tree)
}

/// Reduce a YAML stream to the one document a JSON, .env, INI or TOML file
/// holds: empty documents (`a: 1` then a lone `---`) are dropped; two
/// documents with data are refused. sops writes the first document and
/// drops the others without a word; sops-like does not lose data silently.
fn one_document(tree: &mut Tree, to: Format) -> Result<()> {
    let empty = |doc: &Node| match doc {
        Node::Scalar(s) => s.value == Value::Null,
        Node::Map(entries) => entries.is_empty(),
        _ => false,
    };
    if tree.docs.len() > 1 && tree.docs.iter().filter(|d| !empty(d)).count() <= 1 {
        let first = tree.docs.iter().position(|d| !empty(d)).unwrap_or(0);
        tree.docs = tree.docs.drain(..).skip(first).take(1).collect();
    }
    match tree.docs.len() {
        0 | 1 => Ok(()),
        n => Err(Failure::new(
            code::ERROR_DUMPING_TREE,
            format!(
                "cannot write the document as {}: it is a stream of {n} YAML documents and {} holds one",
                to.name(),
                to.name()
            ),
        )
        .hint("decrypt to YAML, or split the stream into one file per document (sops would write only the first)")),
    }
}

/// Write a document in format `to` (a YAML stream is reduced to the one
/// document the other formats hold, see [`one_document`]).
pub fn emit(to: Format, tree: &Tree) -> Result<Zeroizing<String>> {
    let reduced;
    let tree = if to != Format::Yaml && tree.docs.len() > 1 {
        let mut copy = tree.clone();
        one_document(&mut copy, to)?;
        reduced = copy;
        &reduced
    } else {
        tree
    };
    to.syntax().emit(tree).map(Zeroizing::new).map_err(|e| {
        Failure::new(
            code::ERROR_DUMPING_TREE,
            format!("cannot write the document as {}: {e}", to.name()),
        )
    })
}

/// Whether an `--output-type` names the binary store.
fn is_binary_type(t: &str) -> bool {
    t.eq_ignore_ascii_case("binary")
}

/// A binary file's bytes as sops shows them in another format: a document
/// whose `data` key holds them as a string.
pub fn binary_as_document(to: Format, bytes: &[u8]) -> Result<Zeroizing<String>> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Failure::new(
            code::ERROR_DUMPING_TREE,
            "cannot write the file as a document: its bytes are not UTF-8",
        )
    })?;
    let tree = Tree {
        docs: vec![Node::Map(vec![Entry::Pair(Pair {
            key: "data".to_string(),
            value: Node::str(text),
        })])],
    };
    emit(to, &tree)
}

/// `--output-type binary` for a document: its top-level `data` string, as
/// sops's binary store writes a tree.
pub fn binary_data(tree: &Tree) -> Result<Zeroizing<String>> {
    let data = match tree
        .docs
        .first()
        .and_then(|doc| doc.get("data"))
        .and_then(Node::as_value)
    {
        Some(Value::Str(v)) => Some(v.clone()),
        _ => None,
    };
    data.map(Zeroizing::new).ok_or_else(|| {
        Failure::new(
            code::ERROR_DUMPING_TREE,
            "cannot write the document as binary: it has no top-level string `data` key",
        )
        .hint("--output-type binary writes the value of the document's `data` key as raw bytes")
    })
}

/// `--extract`: a string leaf raw without a newline (as sops), another
/// value as sops's store for the output format writes it
/// ([`syntax::emit_value`]).
fn extract(
    out_format: Format,
    tree: impl FnOnce() -> Result<Tree>,
    path: &str,
) -> Result<Zeroizing<String>> {
    let steps = treepath::parse(path)?;
    let tree = tree()?;
    let node = tree
        .docs
        .first()
        .and_then(|doc| treepath::lookup(doc, &steps))
        .ok_or_else(|| {
            Failure::new(
                code::GENERIC,
                format!("component {path} not found in the document"),
            )
        })?;
    syntax::emit_value(out_format, node)
        .map(Zeroizing::new)
        .map_err(|e| {
            Failure::new(
                code::ERROR_DUMPING_TREE,
                format!("cannot write the value as {}: {e}", out_format.name()),
            )
        })
}
