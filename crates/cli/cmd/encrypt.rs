//! `encrypt FILE`: encrypt a plaintext file for the given recipients.

use crate::args::EncryptArgs;
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::multi::{self, Outcome};
use crate::{clock, keysource};
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{self, EncryptOptions};

pub fn run(args: EncryptArgs) -> Result<()> {
    let files = multi::expand(&args.files, args.recursive)?;
    if files.len() <= 1 && !args.recursive {
        return one(&args, files.first().map(String::as_str));
    }
    if !args.io.in_place {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "encrypting several files needs -i/--in-place",
        ));
    }
    multi::each(&files, "encrypted", |f| match one(&args, Some(f)) {
        Err(e) if e.code == code::FILE_ALREADY_ENCRYPTED && args.recursive => {
            Ok(Outcome::Skipped("already encrypted".into()))
        }
        r => r.map(|_| Outcome::Done),
    })
}

fn one(args: &EncryptArgs, file: Option<&str>) -> Result<()> {
    let input = io::read_input(file)?;
    let format = io::input_format(&args.io, &input)?;
    let out_format = io::output_format(&args.io, format)?;
    let text = if out_format != format {
        super::decrypt::convert(format, out_format, &input.text)?
    } else {
        zeroize::Zeroizing::new(input.text.clone())
    };
    let cipher = match &args.cipher {
        None => CipherKind::XChaCha20Poly1305,
        Some(c) => CipherKind::from_name(c).ok_or_else(|| {
            Failure::new(code::GENERIC, format!("unknown cipher {c:?}"))
                .hint("use --cipher xchacha20-poly1305 or --cipher aes256-gcm")
        })?,
    };
    let selector = super::selector_from_args(&args.selector)?.unwrap_or_default();
    let opts = EncryptOptions {
        cipher,
        selector,
        mac_only_encrypted: args.selector.mac_only_encrypted,
    };
    if engine::is_encrypted_document(out_format, &text)
        .map_err(|e| Failure::engine(&input.name, e))?
    {
        return Err(Failure::engine(
            &input.name,
            engine::EngineError::AlreadyEncrypted,
        ));
    }
    let groups = keysource::recipient_groups(&args.keys)?;
    let (data_key, keys) =
        keysource::new_data_key(&groups, args.keys.shamir_secret_sharing_threshold)?;
    let out = engine::encrypt(
        out_format,
        &text,
        data_key.as_bytes(),
        &opts,
        keys,
        &clock::now_rfc3339(),
    )
    .map_err(|e| Failure::engine(&input.name, e))?;
    io::write_output(&args.io, &input, out.as_bytes(), Sensitivity::Encrypted)
}
