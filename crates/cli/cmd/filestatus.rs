//! `filestatus FILE`: `{"encrypted":true}` or `{"encrypted":false}`.

use crate::args::{FilestatusArgs, IoArgs};
use crate::exit::{code, Failure, Result};
use crate::io;
use sops_like_format::{binary, engine};

pub fn run(args: FilestatusArgs) -> Result<()> {
    // sops: 1 for a file it cannot read, as for any other failure here.
    let input = io::read_encrypted(&args.file, code::GENERIC)?;
    let io_args = IoArgs::file(false, args.input_type);
    let encrypted = if io::is_binary(&io_args, &input) {
        // Any bytes: encrypted only if they are a binary-store document.
        std::str::from_utf8(&input.bytes)
            .ok()
            .is_some_and(|text| binary::open_binary(text).is_ok())
    } else {
        let format = io::input_format(&io_args, &input)?;
        let text = input.encrypted_text()?;
        let presence =
            engine::metadata_presence(format, text).map_err(|e| Failure::load(&input.name, e))?;
        // A `sops` key that is not valid metadata is an error, as in sops
        // (not "encrypted": nothing could decrypt it), and so is one with
        // no key at all; without a version or a MAC the file is not
        // encrypted, as sops reports it, and a `sops` key that holds
        // nothing (`sops: null`) is no metadata.
        if presence == engine::MetadataPresence::Present {
            let fail = |why: String| {
                Failure::new(
                    code::GENERIC,
                    format!("cannot check the status of {}: {why}", input.name),
                )
            };
            let file = engine::open(format, text).map_err(|e| fail(e.to_string()))?;
            let metadata = &file.metadata;
            if metadata.key_groups.iter().all(|group| group.is_empty()) {
                return Err(fail("no keys found in its metadata".to_string()));
            }
            !metadata.version.is_empty() && !metadata.mac.is_empty()
        } else {
            false
        }
    };
    io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())
}
