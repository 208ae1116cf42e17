//! `decrypt FILE`: write the plaintext (or one `--extract`ed value, or the
//! document converted with `--output-type`).

use crate::args::DecryptArgs;
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::multi::{self, Outcome};
use crate::{keysource, sopsfile, treepath};
use sops_like_format::binary::{self, BinaryFile, Stored};
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{EngineError, StreamError};
use sops_like_format::metadata::Metadata;
use sops_like_format::{engine, syntax, Entry, Format, Node, Pair, Tree, Value};
use sops_like_keys::DataKey;
use std::borrow::Cow;
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
    let output = output_of(args, &input, known)?;
    io::write_output(&args.io, &input, &output, Sensitivity::Plaintext)
}

/// What `decrypt` writes for `input` (read whole): the plaintext, the
/// `--extract`ed value, or the document in the output format (the file
/// name's unless `--output-type`). `known`: the metadata read already and
/// the data key it unwrapped. Also what `exec-file` gives its command.
pub(crate) fn output_of(
    args: &DecryptArgs,
    input: &io::Input,
    known: Option<(Metadata, DataKey)>,
) -> Result<Zeroizing<Vec<u8>>> {
    // A bad path is refused before any key is unwrapped, as in sops.
    let steps = args.extract.as_deref().map(treepath::parse).transpose()?;
    let steps = steps.filter(|s| !s.is_empty());
    let binary_store = io::is_binary(&args.io, input);
    let (mut format, mut file) = if binary_store {
        match binary::open_stored(input.encrypted_text()?)
            .map_err(|e| Failure::load(&input.name, e))?
        {
            Stored::Binary(bin) => return binary_file(args, input, &bin, steps.as_deref(), known),
            // Any other JSON document: sops's binary store reads it with
            // its JSON loader (`x.json.enc`, `--output-type binary`).
            Stored::Document(file) => (Format::Json, *file),
        }
    } else {
        let format = io::input_format(&args.io, input)?;
        let file = engine::open(format, input.encrypted_text()?)
            .map_err(|e| Failure::load(&input.name, e))?;
        // The binary store's own document of the default cipher holds the
        // raw bytes, not a JSON value: read as the binary store reads it,
        // whatever the input type says.
        if let Some(bin) = binary::unreadable_as_document(&file) {
            return binary_file(args, input, &bin, steps.as_deref(), known);
        }
        (format, file)
    };
    // `--output-type binary` (and a binary-store name without
    // `--output-type`): the document's `data` string, as sops's binary
    // store writes a tree.
    let out_format = if binary_store {
        binary_store_output(&args.io, input)?
    } else if args.io.output_type.as_deref().is_some_and(is_binary_type) {
        None
    } else {
        Some(io::output_format_by_name(&args.io, input, format)?)
    };
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
    let decrypted = match engine::decrypt_counting_kept(&file, key.as_bytes(), args.ignore_mac) {
        // A JSON text of the default cipher read as YAML (`--input-type
        // yaml x.json`): its values were sealed and MACed as JSON reads
        // them (`-0` a float, where YAML reads the integer 0): read as
        // JSON, if its MAC holds so (sops reads JSON as YAML alike).
        Err(EngineError::MacMismatch)
            if format == Format::Yaml
                && file.metadata.cipher() == Some(CipherKind::XChaCha20Poly1305) =>
        {
            let as_json = engine::open(Format::Json, file.src).ok().and_then(|json| {
                let done = engine::decrypt_counting_kept(&json, key.as_bytes(), false).ok()?;
                Some((json, done))
            });
            as_json
                .map(|(json, done)| {
                    (format, file) = (Format::Json, json);
                    done
                })
                .ok_or(EngineError::MacMismatch)
        }
        other => other,
    };
    let (plain, kept) = match decrypted {
        Ok(done) => done,
        // A binary-store document (any cipher) of bytes that are not UTF-8
        // text: its bytes, as sops gives them back (`--output-type binary`,
        // `--extract '["data"]'`).
        Err(EngineError::NotText { .. }) if let Some(bin) = binary::as_binary_store(&file) => {
            return binary_file(
                args,
                input,
                &bin,
                steps.as_deref(),
                Some((file.metadata, key)),
            );
        }
        Err(e) => return Err(Failure::engine(&input.name, e)),
    };
    warn_kept_comments(&input.name, kept);
    // The data as sops reads it (a sops-compatible .env file line by line,
    // .env and INI values typed by their `type:`), not a parse of the text.
    let tree = |plain: &str| sopsfile::decrypted_tree(&input.name, &file, key.as_bytes(), plain);
    let output = match (&steps, out_format) {
        (Some(steps), out) => extract(out, format, &tree(&plain)?, steps, path_of(args))?,
        (None, None) => binary_data(&tree(&plain)?)?,
        (None, Some(out)) if out != format => {
            emit(out, &without_empty_ini_default(format, out, &tree(&plain)?))?
        }
        (None, Some(_)) => plain,
    };
    Ok(text_bytes(output))
}

/// The bytes of `text`, in the same (wiped) buffer.
fn text_bytes(mut text: Zeroizing<String>) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(std::mem::take(&mut *text).into_bytes())
}

/// Warn that `kept` encrypted comments of `name` did not decrypt and are
/// written as they are (sops warns of them too, and keeps them).
pub(crate) fn warn_kept_comments(name: &str, kept: usize) {
    if kept > 0 {
        let s = if kept == 1 { "" } else { "s" };
        stderr!(
            "warning: {name}: {kept} encrypted comment{s} did not decrypt at the place it stands and {} kept as it is (ENC[…]): sops writes some comments at a path it then does not read them at",
            if kept == 1 { "is" } else { "are" }
        );
    }
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
        bytes: Zeroizing::new(Vec::new()).into(),
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
    // No selector: the binary store's document, read whole (see
    // `binary::as_binary_store`); the engine always names a selector.
    if stream.metadata().selector.is_none() {
        return Ok(Streamed::No(None));
    }
    let key = match keysource::data_key(
        stream.metadata(),
        &input.name,
        args.decryption_order.as_deref(),
    ) {
        Ok(key) => key,
        // Metadata lines above a data line: the whole file's metadata
        // decides, as sops reads it.
        Err(_) if stream.metadata_may_be_split(&mut reader).unwrap_or(false) => {
            return Ok(Streamed::No(None))
        }
        Err(e) => return Err(e),
    };
    let unreadable = |e: std::io::Error| {
        Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("could not read {path}: {e}"),
        )
    };
    reader.rewind().map_err(unreadable)?;
    let plain = match stream.decrypt(&mut reader, key.as_bytes(), args.ignore_mac) {
        Ok(plain) => plain,
        // A value that only looks encrypted, at a path the selector
        // leaves in clear: the whole decryption keeps it as it is.
        Err(StreamError::Engine(
            EngineError::Decrypt { .. } | EngineError::BadType { .. } | EngineError::NotText { .. },
        )) => return Ok(Streamed::No(Some((stream.metadata().clone(), key)))),
        Err(StreamError::Engine(e)) => return Err(Failure::load(&input.name, e)),
        Err(StreamError::Io(e)) => return Err(unreadable(e)),
        Err(_) => return Ok(Streamed::No(Some((stream.metadata().clone(), key)))),
    };
    io::stream_output(&args.io, &input, Sensitivity::Plaintext, |out| {
        plain.write_to(out).map_err(EngineError::Write)
    })?;
    Ok(Streamed::Done)
}

/// [`emit`] for a plaintext of `from` (`None`: a binary file's bytes) about
/// to be encrypted with `cipher`: a .env text is written as sops writes one
/// (values as they are, no quotes added: the quotes of `--output-type
/// dotenv` would become part of the values), without an INI file's empty
/// `DEFAULT` ([`without_empty_ini_default`]), and only if it gives its
/// values back ([`env_text_keeps_values`]).
pub fn emit_to_encrypt(
    from: Option<Format>,
    to: Format,
    cipher: CipherKind,
    tree: &Tree,
) -> Result<Zeroizing<String>> {
    if to != Format::Dotenv {
        return emit(to, tree);
    }
    let tree = match from {
        Some(from) => without_empty_ini_default(from, to, tree),
        None => Cow::Borrowed(tree),
    };
    env_text_keeps_values(cipher, &tree)?;
    let tree = if tree.docs.len() > 1 {
        let mut copy = tree.into_owned();
        one_document(&mut copy, to)?;
        Cow::Owned(copy)
    } else {
        tree
    };
    syntax::dotenv::emit_as_sops(&tree)
        .map(Zeroizing::new)
        .map_err(|e| {
            Failure::new(
                code::ERROR_DUMPING_TREE,
                format!("cannot write the document as {}: {e}", to.name()),
            )
        })
}

/// An INI document (`from`) written as a .env text (`to`): without its
/// empty `DEFAULT` section, which the INI reader gives every INI file (no
/// key before the first section) and which has no .env line. Its other
/// sections are flattened (`db_user=u`). Any other case: `tree` as it is.
pub fn without_empty_ini_default(from: Format, to: Format, tree: &Tree) -> Cow<'_, Tree> {
    let empty_default = |e: &Entry| {
        matches!(e, Entry::Pair(p) if p.key == "DEFAULT"
            && matches!(&p.value, Node::Map(inner) if inner.is_empty()))
    };
    let has = |doc: &Node| matches!(doc, Node::Map(entries) if entries.iter().any(empty_default));
    if from != Format::Ini || to != Format::Dotenv || !tree.docs.iter().any(has) {
        return Cow::Borrowed(tree);
    }
    let mut copy = tree.clone();
    for doc in &mut copy.docs {
        if let Node::Map(entries) = doc {
            entries.retain(|e| !empty_default(e));
        }
    }
    Cow::Owned(copy)
}

/// A document about to be written as a .env text and sealed with
/// `cipher`: with the default cipher, refused (exit 4) when a string value
/// holds the two characters `\n` or ends with a carriage return. A .env
/// text has no spelling for them (every `\n` reads back as a line break,
/// as in sops; a CR before the line's end is part of the line break) and
/// the default cipher seals the value's text, so the file would not give
/// the value back. (Sealed with `AES256_GCM`, the value itself is sealed, as sops
/// seals it: see `engine::Plaintext::typed_as`.)
fn env_text_keeps_values(cipher: CipherKind, tree: &Tree) -> Result<()> {
    if cipher == CipherKind::Aes256Gcm {
        return Ok(());
    }
    let mut found = None;
    sops_like_format::walk::walk(tree, |place, leaf| {
        if let sops_like_format::walk::Leaf::Value(s) = leaf {
            if found.is_none()
                && matches!(&s.value, Value::Str(t) if t.contains("\\n") || t.ends_with('\r'))
            {
                found = Some(place.path.join(":"));
            }
        }
    });
    match found {
        None => Ok(()),
        Some(path) => Err(Failure::new(
            code::ERROR_DUMPING_TREE,
            format!(
                "cannot write the document as dotenv: the value at {} holds the two characters `\\n` (read back as a line break) or ends with a carriage return (read back as the end of its line): its bytes would change",
                if path.is_empty() { "the top level".to_string() } else { format!("{path}:") }
            ),
        )
        .hint("encrypt it with --cipher aes256-gcm (the value is sealed as it is, as sops does), or keep another output type (binary, json, yaml)")),
    }
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
    emit(to, &binary_as_tree(bytes)?)
}

/// The document `{data: <bytes>}` of a binary file's bytes (text only).
pub fn binary_as_tree(bytes: &[u8]) -> Result<Tree> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Failure::new(
            code::ERROR_DUMPING_TREE,
            "cannot write the file as a document: its bytes are not UTF-8",
        )
    })?;
    Ok(Tree::new(vec![Node::Map(vec![Entry::Pair(Pair {
        key: "data".to_string(),
        value: Node::str(text),
    })])]))
}

/// `--output-type binary` for a document: its top-level `data` string, as
/// sops's binary store writes a tree.
pub fn binary_data(tree: &Tree) -> Result<Zeroizing<String>> {
    match tree.docs.first() {
        Some(doc) => data_string(doc),
        None => data_string(&Node::map([])),
    }
}

/// The `data` string of the mapping `node` (see [`binary_data`]).
fn data_string(node: &Node) -> Result<Zeroizing<String>> {
    match node.get("data").and_then(Node::as_value) {
        Some(Value::Str(v)) => Ok(Zeroizing::new(v.clone())),
        _ => Err(Failure::new(
            code::ERROR_DUMPING_TREE,
            "cannot write the document as binary: it has no top-level string `data` key",
        )
        .hint("this is likely not an encrypted binary file: use --output-type json|yaml|dotenv to see the document")),
    }
}

/// The `--extract` path as given (for messages).
fn path_of(args: &DecryptArgs) -> &str {
    args.extract.as_deref().unwrap_or_default()
}

/// The output of a file the binary store reads: `--output-type`, else the
/// format sops gives its name (`--input-type binary x.json`: JSON), else
/// the binary store's own (`None`: the bytes, or a document's `data`).
fn binary_store_output(io_args: &crate::args::IoArgs, input: &io::Input) -> Result<Option<Format>> {
    if let Some(t) = io_args.output_type.as_deref() {
        return if is_binary_type(t) {
            Ok(None)
        } else {
            io::output_format(io_args, Format::Json).map(Some)
        };
    }
    let name = io_args
        .filename_override
        .as_deref()
        .or(input.path.as_ref().and_then(|p| p.to_str()));
    Ok(name.and_then(Format::from_path_as_sops))
}

/// Decrypt a binary file (`{"data": …}`): its bytes raw (also for
/// `--extract '["data"]'`, whatever the output type, as in sops), or shown
/// as a document with a `data` key in another output format.
fn binary_file(
    args: &DecryptArgs,
    input: &io::Input,
    bin: &BinaryFile,
    steps: Option<&[treepath::Step]>,
    known: Option<(Metadata, DataKey)>,
) -> Result<Zeroizing<Vec<u8>>> {
    // The binary store's document has one key, `data`.
    if steps.is_some_and(|s| !matches!(s, [treepath::Step::Key(k)] if k == "data")) {
        return Err(Failure::new(
            code::GENERIC,
            format!("component {} not found in the document", path_of(args)),
        )
        .hint(r#"a binary file is the document {"data": <its bytes>}: extract '["data"]'"#));
    }
    let key = match known {
        Some((metadata, key)) if metadata == bin.metadata => key,
        _ => keysource::data_key(&bin.metadata, &input.name, args.decryption_order.as_deref())?,
    };
    let plain = bin
        .decrypt(key.as_bytes(), args.ignore_mac)
        .map_err(|e| Failure::engine(&input.name, e))?;
    match binary_store_output(&args.io, input)? {
        Some(to) if steps.is_none() => {
            // As sops: the bytes as the string value of a `data` key.
            let out = binary_as_document(to, &plain).map_err(|e| {
                e.hint(format!(
                    "{} is not text, so it has no {} form: decrypt it with --output-type binary (or --extract '[\"data\"]')",
                    input.name,
                    to.name()
                ))
            })?;
            Ok(text_bytes(out))
        }
        _ => Ok(plain),
    }
}

/// `--extract`: a string leaf raw without a newline (as sops), another
/// value as sops's store for the output format writes it
/// ([`syntax::emit_value`]). To binary output (`None`), as sops's binary
/// store: a string raw, a mapping's `data` string, nothing else.
fn extract(
    out_format: Option<Format>,
    format: Format,
    tree: &Tree,
    steps: &[treepath::Step],
    path: &str,
) -> Result<Zeroizing<String>> {
    let node = tree
        .docs
        .first()
        .and_then(|doc| treepath::lookup(doc, steps, format))
        .ok_or_else(|| {
            Failure::new(
                code::GENERIC,
                format!("component {path} not found in the document"),
            )
        })?;
    let Some(out_format) = out_format else {
        return match node.as_value() {
            Some(Value::Str(s)) => Ok(Zeroizing::new(s.clone())),
            Some(_) => Err(Failure::new(
                code::ERROR_DUMPING_TREE,
                format!("cannot write the value at {path} as binary: it is not a string"),
            )
            .hint("use --output-type json|yaml to see it")),
            None => data_string(node),
        };
    };
    syntax::emit_value(out_format, node)
        .map(Zeroizing::new)
        .map_err(|e| {
            Failure::new(
                code::ERROR_DUMPING_TREE,
                format!("cannot write the value as {}: {e}", out_format.name()),
            )
        })
}
