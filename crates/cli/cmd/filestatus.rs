//! `filestatus FILE`: `{"encrypted":true}` or `{"encrypted":false}`.

use crate::args::{FilestatusArgs, IoArgs};
use crate::exit::{Failure, Result};
use crate::io;
use sops_like_format::engine;

pub fn run(args: FilestatusArgs) -> Result<()> {
    let input = io::read_input(Some(&args.file))?;
    let io_args = IoArgs {
        in_place: false,
        output: None,
        input_type: args.input_type,
        output_type: None,
        filename_override: None,
    };
    let format = io::input_format(&io_args, &input)?;
    let encrypted = engine::is_encrypted_document(format, input.text()?)
        .map_err(|e| Failure::engine(&input.name, e))?;
    io::write_stdout(format!("{{\"encrypted\":{encrypted}}}\n").as_bytes())
}
