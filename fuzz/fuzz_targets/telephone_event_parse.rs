#![no_main]
//! See `kefu_media::fuzzing::telephone_event_parse` for the properties checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| kefu_media::fuzzing::telephone_event_parse(data));
