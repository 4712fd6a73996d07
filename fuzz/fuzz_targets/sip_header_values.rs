#![no_main]
//! See `kefu_telephony::fuzzing::sip_header_values` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| kefu_telephony::fuzzing::sip_header_values(data));
