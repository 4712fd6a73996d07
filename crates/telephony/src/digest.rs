//! SIP digest authentication, server side (RFC 3261 §22, RFC 8760 for SHA-256), from stored HA1 values
//! so kefu never keeps a phone's plaintext password. Nonces are stateless: a timestamp plus an HMAC of it,
//! so they survive nothing but prove themselves and expire after `ttl` (the reply then says `stale=true`
//! and the phone retries with the new nonce without asking its user).

use std::fmt::Write as _;
use std::time::Duration;

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Longest Authorization header value we look at; longer ones are refused unparsed.
pub const MAX_AUTHORIZATION_LEN: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }
    fn hash(self, input: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(input.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(input.as_bytes())),
        }
    }
}

/// HA1 = H(username:realm:password), the value stored per extension and per algorithm.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&format!("{username}:{realm}:{password}"))
}

/// The parameters of a `Digest` Authorization / Proxy-Authorization header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DigestResponse {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Option<String>,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("not a Digest credential")]
    NotDigest,
    #[error("credential too long")]
    TooLong,
    #[error("malformed parameter list")]
    Malformed,
    #[error("missing parameter {0}")]
    Missing(&'static str),
}

impl DigestResponse {
    /// Parses `Digest username="8001", realm="kefu", ...`. Quoted values may contain commas and `\"`.
    pub fn parse(value: &str) -> Result<DigestResponse, DigestError> {
        if value.len() > MAX_AUTHORIZATION_LEN {
            return Err(DigestError::TooLong);
        }
        let value = value.trim_start();
        let rest = match value.get(..6) {
            Some(scheme) if scheme.eq_ignore_ascii_case("digest") => &value[6..],
            _ => return Err(DigestError::NotDigest),
        };
        let mut out = DigestResponse::default();
        let mut chars = rest.char_indices().peekable();
        let bytes = rest;
        loop {
            // skip separators
            while let Some(&(_, c)) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    chars.next();
                } else {
                    break;
                }
            }
            let Some(&(start, _)) = chars.peek() else {
                break;
            };
            let mut eq = None;
            for (i, c) in chars.by_ref() {
                if c == '=' {
                    eq = Some(i);
                    break;
                }
                if c == ',' {
                    return Err(DigestError::Malformed);
                }
            }
            let eq = eq.ok_or(DigestError::Malformed)?;
            let name = bytes[start..eq].trim().to_ascii_lowercase();
            while chars.peek().is_some_and(|&(_, c)| c == ' ' || c == '\t') {
                chars.next();
            }
            let mut val = String::new();
            if chars.peek().is_some_and(|&(_, c)| c == '"') {
                chars.next();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                val.push(e);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => val.push(c),
                    }
                }
                if !closed {
                    return Err(DigestError::Malformed);
                }
            } else {
                while let Some(&(_, c)) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
                val = val.trim().to_string();
            }
            match name.as_str() {
                "username" => out.username = val,
                "realm" => out.realm = val,
                "nonce" => out.nonce = val,
                "uri" => out.uri = val,
                "response" => out.response = val,
                "algorithm" => out.algorithm = Some(val),
                "qop" => out.qop = Some(val),
                "nc" => out.nc = Some(val),
                "cnonce" => out.cnonce = Some(val),
                "opaque" => out.opaque = Some(val),
                _ => {}
            }
        }
        for (name, v) in [
            ("username", &out.username),
            ("realm", &out.realm),
            ("nonce", &out.nonce),
            ("uri", &out.uri),
            ("response", &out.response),
        ] {
            if v.is_empty() {
                return Err(DigestError::Missing(name));
            }
        }
        Ok(out)
    }

    /// The algorithm the client used; `None` when it names one we do not offer.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match self.algorithm.as_deref() {
            None => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5") => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => Some(Algorithm::Sha256),
            Some(_) => None,
        }
    }

    /// Checks the response against the stored HA1 for the client's algorithm.
    pub fn verify(&self, method: &str, ha1: &str) -> bool {
        let Some(alg) = self.algorithm() else {
            return false;
        };
        let ha2 = alg.hash(&format!("{method}:{}", self.uri));
        let expected = match (&self.qop, &self.nc, &self.cnonce) {
            (Some(qop), Some(nc), Some(cnonce)) if qop.eq_ignore_ascii_case("auth") => {
                alg.hash(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
            }
            (Some(_), _, _) => return false,
            (None, _, _) => alg.hash(&format!("{ha1}:{}:{ha2}", self.nonce)),
        };
        constant_time_eq(
            expected.as_bytes(),
            self.response.to_ascii_lowercase().as_bytes(),
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    Valid,
    /// Ours, but older than the TTL: challenge again with `stale=true`.
    Stale,
    Invalid,
}

/// Issues and checks stateless nonces: `<unix seconds hex>.<HMAC-SHA256 truncated, hex>`.
#[derive(Clone)]
pub struct Nonces {
    secret: [u8; 32],
    ttl: Duration,
}

impl Nonces {
    pub fn new(secret: [u8; 32], ttl: Duration) -> Nonces {
        Nonces { secret, ttl }
    }

    fn mac(&self, stamp: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(stamp.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn issue(&self, now_unix: u64) -> String {
        let stamp = format!("{now_unix:x}");
        let mac = self.mac(&stamp);
        format!("{stamp}.{mac}")
    }

    pub fn check(&self, nonce: &str, now_unix: u64) -> NonceCheck {
        let Some((stamp, mac)) = nonce.split_once('.') else {
            return NonceCheck::Invalid;
        };
        if stamp.len() > 16 || !constant_time_eq(self.mac(stamp).as_bytes(), mac.as_bytes()) {
            return NonceCheck::Invalid;
        }
        let Ok(issued) = u64::from_str_radix(stamp, 16) else {
            return NonceCheck::Invalid;
        };
        if issued > now_unix + 5 {
            return NonceCheck::Invalid;
        }
        if now_unix - issued.min(now_unix) > self.ttl.as_secs() {
            NonceCheck::Stale
        } else {
            NonceCheck::Valid
        }
    }

    /// The `WWW-Authenticate` / `Proxy-Authenticate` value for a fresh challenge.
    pub fn challenge(
        &self,
        realm: &str,
        now_unix: u64,
        stale: bool,
        algorithm: Algorithm,
    ) -> String {
        let mut v = format!(
            "Digest realm=\"{realm}\", nonce=\"{}\", algorithm={}, qop=\"auth\"",
            self.issue(now_unix),
            algorithm.name()
        );
        if stale {
            let _ = write!(v, ", stale=true");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // HA1 checked against `md5sum`; the response is built from the RFC 2617 formula.
    #[test]
    fn verifies_a_qop_auth_response_computed_by_hand() {
        let ha1 = ha1(Algorithm::Md5, "8001", "kefu", "Kefu@2026");
        // echo -n 8001:kefu:Kefu@2026 | md5sum
        assert_eq!(ha1, "a490bc577bbef3a8d9ae82988295b6de");
        let nonce = "5f00.abc";
        let uri = "sip:127.0.0.1";
        let ha2 = Algorithm::Md5.hash(&format!("REGISTER:{uri}"));
        let response = Algorithm::Md5.hash(&format!("{ha1}:{nonce}:00000001:xyz:auth:{ha2}"));
        let header = format!(
            "Digest username=\"8001\", realm=\"kefu\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"xyz\""
        );
        let parsed = DigestResponse::parse(&header).unwrap();
        assert!(parsed.verify("REGISTER", &ha1));
        assert!(
            !parsed.verify("INVITE", &ha1),
            "method is part of the digest"
        );
        let wrong = super::ha1(Algorithm::Md5, "8001", "kefu", "wrong");
        assert!(!parsed.verify("REGISTER", &wrong));
    }

    #[test]
    fn md5_ha1_matches_a_known_value() {
        // printf 'Mufasa:testrealm@host.com:Circle Of Life' | md5sum  (RFC 2617 §3.5)
        assert_eq!(
            ha1(
                Algorithm::Md5,
                "Mufasa",
                "testrealm@host.com",
                "Circle Of Life"
            ),
            "939e7578ed9e3c518a452acee763bce9"
        );
    }

    #[test]
    fn rfc2617_example_response_verifies() {
        let header = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let d = DigestResponse::parse(header).unwrap();
        assert_eq!(
            d.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        let ha1 = ha1(
            Algorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
        );
        assert!(d.verify("GET", &ha1));
    }

    #[test]
    fn sha256_responses_verify() {
        let ha1 = ha1(Algorithm::Sha256, "8101", "kefu", "secret-pw");
        let ha2 = Algorithm::Sha256.hash("INVITE:sip:96777@127.0.0.1");
        let resp = Algorithm::Sha256.hash(&format!("{ha1}:n1:{ha2}"));
        let h = format!(
            "Digest username=\"8101\",realm=\"kefu\",nonce=\"n1\",uri=\"sip:96777@127.0.0.1\",response=\"{resp}\",algorithm=SHA-256"
        );
        assert!(DigestResponse::parse(&h).unwrap().verify("INVITE", &ha1));
    }

    #[test]
    fn malformed_credentials_are_errors_not_panics() {
        for bad in [
            "",
            "Basic abc",
            "Digest",
            "Digest username",
            "Digest username=\"unterminated",
            "Digest ,,,,",
            "Digest username=\"a\"",
            "Digést",
            "Digest 日本=\"x\"",
        ] {
            assert!(DigestResponse::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            DigestResponse::parse(&"x".repeat(3000)),
            Err(DigestError::TooLong)
        );
    }

    #[test]
    fn nonces_expire_and_cannot_be_forged() {
        let n = Nonces::new([7; 32], Duration::from_secs(300));
        let nonce = n.issue(1_000_000);
        assert_eq!(n.check(&nonce, 1_000_000), NonceCheck::Valid);
        assert_eq!(n.check(&nonce, 1_000_300), NonceCheck::Valid);
        assert_eq!(n.check(&nonce, 1_000_301), NonceCheck::Stale);
        let other = Nonces::new([8; 32], Duration::from_secs(300));
        assert_eq!(other.check(&nonce, 1_000_000), NonceCheck::Invalid);
        let (stamp, mac) = nonce.split_once('.').unwrap();
        let forged = format!("{:x}.{mac}", u64::from_str_radix(stamp, 16).unwrap() + 1000);
        assert_eq!(n.check(&forged, 1_000_500), NonceCheck::Invalid);
        assert_eq!(n.check("garbage", 1), NonceCheck::Invalid);
        assert!(
            n.challenge("kefu", 5, true, Algorithm::Md5)
                .ends_with("stale=true")
        );
    }
}
