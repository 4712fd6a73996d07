#![no_main]
//! See `kefu_telephony::fuzzing::digest_parse` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| kefu_telephony::fuzzing::digest_parse(data));
