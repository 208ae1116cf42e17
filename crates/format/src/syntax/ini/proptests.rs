//! Property tests: generated INI documents with the hard cases.
