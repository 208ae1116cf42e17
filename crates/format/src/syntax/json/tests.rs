//! Tests of the whole JSON syntax: parsing, metadata, conformance.
