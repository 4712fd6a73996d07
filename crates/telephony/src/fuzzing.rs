//! The properties the telephony fuzz targets check (`fuzz/`, libFuzzer) and `tests/corpus.rs` runs on
//! stable Rust: the parsers kefu-telephony owns take any input without panicking.

use crate::digest::{Algorithm, DigestResponse, MAX_AUTHORIZATION_LEN, Nonces};

/// A fuzz target's check: panics if the input breaks a property.
pub type Check = fn(&[u8]);

pub const TARGETS: &[(&str, Check)] = &[
    ("digest_parse", digest_parse),
    ("sip_header_values", sip_header_values),
];

/// `Authorization` values: parsing never panics; what parses has its required parameters, and
/// verifying it against any HA1 and checking its nonce never panic.
pub fn digest_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = DigestResponse::parse(text) else {
        return;
    };
    assert!(text.len() <= MAX_AUTHORIZATION_LEN);
    assert!(!d.username.is_empty() && !d.nonce.is_empty() && !d.response.is_empty());
    let _ = d.verify("REGISTER", "00000000000000000000000000000000");
    let _ = d.verify(
        "INVITE",
        &crate::digest::ha1(Algorithm::Sha256, "8001", "kefu", "x"),
    );
    let nonces = Nonces::new([1; 32], std::time::Duration::from_secs(300));
    let _ = nonces.check(&d.nonce, 1_800_000_000);
}

/// From/To/Contact values: the user part and the contact list never panic; a contact found is never
/// empty and its URI is a piece of it.
pub fn sip_header_values(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(user) = crate::sip::uri_user(text) {
        assert!(!user.is_empty());
    }
    for c in crate::sip::split_contacts(text) {
        assert!(!c.is_empty());
        let (uri, _expires) = crate::sip::split_contact(&c);
        assert!(c.contains(uri.as_str()), "{uri} from {c}");
    }
}
