//! `edit FILE`: decrypt to a private temp file, open the editor, re-encrypt
//! on save keeping every unchanged value's ciphertext (quiet git diffs).
//! `--from PLAIN` replaces the content non-interactively.

use crate::args::{EditArgs, IoArgs};
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::sopsfile::{self, OpenedBinary};
use crate::{clock, editor, keysource};
use sops_like_format::syntax::plain_syntax;
use sops_like_format::{binary, engine};
use sops_like_format::{Format, Syntax};
use std::path::Path;
use zeroize::Zeroizing;

pub fn run(args: EditArgs) -> Result<()> {
    // An empty name (`sops-like "$FILE"` with FILE unset) is refused before
    // the editor opens: what was typed could not be written anywhere.
    if args.file.is_empty() {
        return Err(Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            "no file to edit: the file name is empty",
        ));
    }
    let path = Path::new(&args.file);
    if args.show_master_keys {
        // Not silently: a user who asked to see (or change) the recipients
        // must know the editor will not show them.
        stderr!(
            "warning: --show-master-keys is not supported: the editor shows the document only, \
             not the sops metadata (the recipients are in the file's `sops` block; change them \
             with `rotate --add-…/--rm-…`, `updatekeys` or `groups`)"
        );
    }
    let io_args = IoArgs {
        output_type: args.output_type.clone(),
        ..IoArgs::file(true, args.input_type.clone())
    };
    // Read first: a file that cannot be read (a directory, no permission)
    // is that (exit 2, as sops), not a file that cannot be written. One
    // that cannot be written (read-only, a missing directory) is refused
    // before the editor opens, not after the edits are made.
    let input = path
        .exists()
        .then(|| io::read_file_to_change(&args.file, code::COULD_NOT_READ_INPUT_FILE))
        .transpose()?;
    io::check_writable(path)?;
    let Some(input) = input else {
        return create(&args, &io_args);
    };
    if io::is_binary(&io_args, &input) {
        return edit_binary(&args, &input);
    }
    let format = io::input_format(&io_args, &input)?;
    let out_format = io::output_format(&io_args, format)?;
    let file =
        engine::open(format, input.encrypted_text()?).map_err(|e| Failure::load(&input.name, e))?;
    let key = keysource::data_key(
        &file.metadata,
        &input.name,
        args.decryption_order.as_deref(),
    )?;
    let (plain, stash) = engine::decrypt_keeping(&file, key.as_bytes(), args.ignore_mac)
        .map_err(|e| Failure::engine(&input.name, e))?;
    super::decrypt::warn_kept_comments(&input.name, stash.kept_comments());
    // Checked as it is re-encrypted (a .env text for sops's cipher line by
    // line, as sops reads it).
    let syntax = plain_syntax(format, file.metadata.cipher_or_sops());
    let mut stash = stash;
    // Encrypted as each save is checked: what the encryption refuses (a
    // key twice in a mapping for sops, a value a .env line cannot hold)
    // sends the user back to the editor, as a syntax error does.
    let mut encrypted: Option<String> = None;
    let mut encrypt = |text: &str| -> Result<String> {
        // When it is saved.
        let now = clock::now_rfc3339();
        if out_format == format {
            engine::reencrypt(&file, key.as_bytes(), &plain, text, &mut stash, &now)
                .map_err(|e| Failure::engine(&input.name, e))
        } else {
            sopsfile::reencrypt_as(&input.name, &file, key.as_bytes(), text, out_format, &now)
        }
    };
    let name = editor::file_name(path);
    let edited = match &args.from {
        Some(from) => read_from(from, syntax)?,
        None => editor::edit_text(path, &plain, |text| {
            validate(syntax, text).map_err(|msg| {
                Failure::new(
                    code::GENERIC,
                    format!("the edited file is not valid: {name}:{msg}"),
                )
            })?;
            if text != plain.as_str() {
                encrypted = Some(encrypt(text)?);
            }
            Ok(())
        })?,
    };
    let Some(edited) = edited else {
        return Err(Failure::new(
            code::FILE_HAS_NOT_BEEN_MODIFIED,
            format!("{}: file has not changed, nothing written", input.name),
        ));
    };
    if edited.as_str() == plain.as_str() {
        return Err(Failure::new(
            code::FILE_HAS_NOT_BEEN_MODIFIED,
            format!("{}: file has not changed, nothing written", input.name),
        ));
    }
    let out = match encrypted {
        Some(out) => out,
        None => encrypt(&edited)?,
    };
    io::atomic_write(path, out.as_bytes(), Sensitivity::Encrypted)
}

/// A binary-store file: its bytes are edited as they are (no parsing), and
/// re-encrypted under the same data key.
fn edit_binary(args: &EditArgs, input: &io::Input) -> Result<()> {
    let path = Path::new(&args.file);
    let OpenedBinary { file, key, plain } =
        sopsfile::open_binary(input, args.decryption_order.as_deref(), args.ignore_mac)?;
    let edited = match &args.from {
        Some(from) => Some(read_bytes(from)?),
        None => editor::edit_bytes(path, &plain, |_| Ok(()))?,
    };
    let edited = edited.filter(|e| e.as_slice() != plain.as_slice());
    let Some(edited) = edited else {
        return Err(Failure::new(
            code::FILE_HAS_NOT_BEEN_MODIFIED,
            format!("{}: file has not changed, nothing written", input.name),
        ));
    };
    let out = file
        .reencrypt(key.as_bytes(), &edited, &clock::now_rfc3339())
        .map_err(|e| Failure::engine(&input.name, e))?;
    io::atomic_write(path, out.as_bytes(), Sensitivity::Encrypted)
}

/// A new file: start from sops's example document for the format (see
/// [`template`]), encrypt for the given keys.
fn create(args: &EditArgs, io_args: &IoArgs) -> Result<()> {
    let path = Path::new(&args.file);
    let format = if io::is_binary_name(io_args.input_type.as_deref(), Some(&args.file)) {
        None
    } else {
        Some(match &io_args.input_type {
            Some(t) => Format::from_name(t)
                .ok_or_else(|| Failure::new(code::GENERIC, format!("unknown file type {t:?}")))?,
            None => Format::from_path(&args.file).ok_or_else(|| {
                Failure::new(
                    code::GENERIC,
                    format!("cannot tell the format of {} from its name", args.file),
                )
                .hint("pass --input-type")
            })?,
        })
    };
    // `--output-type`, checked before the editor runs.
    let out_format = format.map(|f| io::output_format(io_args, f)).transpose()?;
    let plan = super::plan::new_file(
        Some(path),
        &args.keys,
        &args.selector,
        args.cipher.as_deref(),
    )?;
    // The data key first, as sops makes it before the editor opens: each
    // save of a text is encrypted as it is checked, so what the encryption
    // refuses (a key twice for sops, a value a .env line cannot hold) sends
    // the user back to the editor, as for an existing file.
    let (data_key, keys) = keysource::new_data_key(&plan.groups, plan.threshold)?;
    let encrypt_text = |f: Format, text: &str| -> Result<String> {
        let now = clock::now_rfc3339();
        let key = data_key.as_bytes();
        match out_format.unwrap_or(f) {
            to if to == f => engine::encrypt(to, text, key, &plan.opts, keys.clone(), &now)
                .map_err(|e| Failure::engine(&args.file, e)),
            to => {
                sopsfile::encrypt_as(&args.file, f, to, text, key, &plan.opts, keys.clone(), &now)
            }
        }
    };
    let mut encrypted: Option<String> = None;
    // The content: text of the format, or a binary file's bytes.
    let content: Option<Content> = match (format, &args.from) {
        (Some(f), Some(from)) => {
            read_from(from, plain_syntax(f, plan.opts.cipher))?.map(Content::Text)
        }
        (Some(f), None) => {
            let syntax = plain_syntax(f, plan.opts.cipher);
            let name = editor::file_name(path);
            editor::edit_text(path, template(Some(f)), |text| {
                validate(syntax, text).map_err(|msg| {
                    Failure::new(
                        code::GENERIC,
                        format!("the edited file is not valid: {name}:{msg}"),
                    )
                })?;
                encrypted = Some(encrypt_text(f, text)?);
                Ok(())
            })?
            .map(Content::Text)
        }
        (None, Some(from)) => Some(Content::Bytes(read_bytes(from)?)),
        (None, None) => {
            editor::edit_bytes(path, template(None).as_bytes(), |_| Ok(()))?.map(Content::Bytes)
        }
    };
    let Some(content) = content else {
        return Err(Failure::new(
            code::FILE_HAS_NOT_BEEN_MODIFIED,
            format!("{}: file has not changed, nothing written", args.file),
        ));
    };
    let out = match (format, &content) {
        (Some(f), Content::Text(text)) => match encrypted {
            Some(out) => out,
            None => encrypt_text(f, text)?,
        },
        _ => {
            let now = clock::now_rfc3339();
            binary::encrypt_binary(content.bytes(), data_key.as_bytes(), &plan.opts, keys, &now)
                .map_err(|e| Failure::engine(&args.file, e))?
        }
    };
    io::atomic_write(path, out.as_bytes(), Sensitivity::Encrypted)
}

/// What the editor shows for a new file: sops's example document for the
/// format (byte for byte, so scripted editors that rewrite it work as with
/// sops; sops has no TOML format, so TOML gets the same example). Saved
/// unchanged, nothing is written (exit 200), as in sops.
fn template(format: Option<Format>) -> &'static str {
    const WELCOME: &str = "Welcome to SOPS! Edit this file as you please!";
    match format {
        Some(Format::Yaml) => concat!(
            "hello: Welcome to SOPS! Edit this file as you please!\n",
            "example_key: example_value\n",
            "# Example comment\n",
            "example_array:\n",
            "    - example_value1\n",
            "    - example_value2\n",
            "example_number: 1234.56789\n",
            "example_booleans:\n",
            "    - true\n",
            "    - false\n",
        ),
        Some(Format::Json) => concat!(
            "{\n",
            "\t\"hello\": \"Welcome to SOPS! Edit this file as you please!\",\n",
            "\t\"example_key\": \"example_value\",\n",
            "\t\"example_array\": [\n",
            "\t\t\"example_value1\",\n",
            "\t\t\"example_value2\"\n",
            "\t],\n",
            "\t\"example_number\": 1234.56789,\n",
            "\t\"example_booleans\": [\n",
            "\t\ttrue,\n",
            "\t\tfalse\n",
            "\t]\n",
            "}\n",
        ),
        Some(Format::Dotenv) => concat!(
            "# This is an example file.\n",
            "hello=Welcome to SOPS! Edit this file as you please!\n",
            "example_key=example_value\n",
            "example_multiline=foo\\nbar\\nbaz\n",
        ),
        Some(Format::Ini) => concat!(
            "; This is an example file.\n",
            "[Welcome!]\n",
            "hello       = Welcome to SOPS! Edit this file as you please!\n",
            "example_key = example_value\n",
        ),
        Some(Format::Toml) => concat!(
            "hello = \"Welcome to SOPS! Edit this file as you please!\"\n",
            "example_key = \"example_value\"\n",
            "# Example comment\n",
            "example_array = [\"example_value1\", \"example_value2\"]\n",
            "example_number = 1234.56789\n",
            "example_booleans = [true, false]\n",
        ),
        None => WELCOME,
    }
}

/// The plaintext of a new file.
enum Content {
    Text(Zeroizing<String>),
    Bytes(Zeroizing<Vec<u8>>),
}

impl Content {
    fn bytes(&self) -> &[u8] {
        match self {
            Content::Text(t) => t.as_bytes(),
            Content::Bytes(b) => b,
        }
    }
}

/// The replacement bytes for `--from` (a file, or `-` for stdin), read
/// without growing a buffer that holds them (see [`io::read_secret`]).
fn read_bytes(from: &str) -> Result<Zeroizing<Vec<u8>>> {
    let data = if from == "-" {
        io::read_secret(&mut std::io::stdin().lock())
    } else {
        io::read_file(Path::new(from))
    };
    data.map_err(|e| {
        Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("could not read {from}: {e}"),
        )
    })
}

/// Read the replacement plaintext for `--from` and check it.
fn read_from(from: &str, syntax: &dyn Syntax) -> Result<Option<Zeroizing<String>>> {
    let mut bytes = read_bytes(from)?;
    let text = String::from_utf8(std::mem::take(&mut *bytes)).map_err(|e| {
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("{from} is not UTF-8 text"),
        )
    })?;
    let text = Zeroizing::new(text);
    validate(syntax, &text)
        .map_err(|msg| Failure::new(code::COULD_NOT_READ_INPUT_FILE, format!("{from}:{msg}")))?;
    Ok(Some(text))
}

/// The edited text must parse and must not carry sops metadata.
fn validate(syntax: &dyn Syntax, text: &str) -> std::result::Result<(), String> {
    match syntax.parse(text) {
        Err(e) => Err(e.to_string()),
        Ok(p) if p.metadata.is_some() => {
            Err(" the document must not contain a `sops` key (sops-like manages it)".into())
        }
        Ok(_) => Ok(()),
    }
}
