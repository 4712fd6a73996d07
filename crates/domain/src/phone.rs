//! Phone numbers in one canonical form, so that a caller ID and a number typed by an agent or imported
//! from billing meet in one indexed exact-match lookup.
//!
//! Canonical form (digits only, national format, no country code):
//! - mobile: `13812345678` (11 digits, `1[3-9]…`);
//! - landline: area code with its leading 0, then the local number: `057487654321`.
//!
//! A local landline number without an area code (7-8 digits) gets the deployment's default area code.

use crate::FieldError;

/// A Chinese long-distance area code with its leading zero, e.g. `0574` for Ningbo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(input: &str) -> Result<AreaCode, FieldError> {
        let s = input.trim();
        let ok = (3..=4).contains(&s.len())
            && s.starts_with('0')
            && !s.starts_with("00")
            && s.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(AreaCode(s.to_string()))
        } else {
            Err(FieldError::new(
                "",
                "must be an area code of 3-4 digits starting with 0, e.g. 0574",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for AreaCode {
    /// Ningbo, where the first customer is.
    fn default() -> Self {
        AreaCode("0574".to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Parses what a person or a switch may write: spaces, dashes, dots and brackets are ignored;
    /// `+86`/`0086` is dropped.
    pub fn parse(input: &str, area: &AreaCode) -> Result<Phone, FieldError> {
        let mut digits = String::with_capacity(input.len());
        for (i, c) in input.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                '+' if i == 0 => {}
                _ => {
                    return Err(FieldError::new(
                        "",
                        format!("invalid character {c:?} in phone number"),
                    ));
                }
            }
        }
        let plus = input.trim_start().starts_with('+');
        let (national, had_country_code) = if plus {
            match digits.strip_prefix("86") {
                Some(rest) => (rest, true),
                None => {
                    return Err(FieldError::new(
                        "",
                        "only Chinese (+86) numbers are supported",
                    ));
                }
            }
        } else if let Some(rest) = digits.strip_prefix("0086") {
            (rest, true)
        } else {
            (digits.as_str(), false)
        };
        // After a country code a landline loses its trunk prefix 0: put it back.
        let national =
            if had_country_code && !national.starts_with('0') && !national.starts_with('1') {
                format!("0{national}")
            } else {
                national.to_string()
            };
        classify(&national, area)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }
}

fn classify(n: &str, area: &AreaCode) -> Result<Phone, FieldError> {
    let len = n.len();
    if len == 0 {
        return Err(FieldError::new("", "must not be empty"));
    }
    if n.starts_with('1') {
        let second = n.as_bytes().get(1).copied().unwrap_or(b'0');
        if len == 11 && (b'3'..=b'9').contains(&second) {
            return Ok(Phone(n.to_string()));
        }
        return Err(FieldError::new(
            "",
            "a mobile number has 11 digits and starts with 13-19",
        ));
    }
    if let Some(rest) = n.strip_prefix('0') {
        if rest.starts_with('0') {
            return Err(FieldError::new(
                "",
                "international numbers are not supported",
            ));
        }
        // 0 + area code (2-3 digits) + local number (7-8 digits): 10 to 12 digits in all.
        if (10..=12).contains(&len) {
            return Ok(Phone(n.to_string()));
        }
        return Err(FieldError::new(
            "",
            "a landline number with area code has 10-12 digits, e.g. 0574-87654321",
        ));
    }
    if (7..=8).contains(&len) {
        return Ok(Phone(format!("{}{n}", area.as_str())));
    }
    Err(FieldError::new(
        "",
        "not a phone number: expected a mobile (11 digits) or a landline (7-8 digits, optionally with area code)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<String, String> {
        Phone::parse(s, &AreaCode::default())
            .map(|p| p.0)
            .map_err(|e| e.reason)
    }

    #[test]
    fn accepted_forms_normalize_to_one_canonical_number() {
        for s in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "008613812345678",
            "+8613812345678",
        ] {
            assert_eq!(p(s).as_deref(), Ok("13812345678"), "{s}");
        }
        for s in [
            "87654321",
            "8765-4321",
            "0574-87654321",
            "(0574) 8765 4321",
            "+86 574 8765 4321",
            "0086 574 87654321",
        ] {
            assert_eq!(p(s).as_deref(), Ok("057487654321"), "{s}");
        }
        assert_eq!(p("010-12345678").as_deref(), Ok("01012345678"));
    }

    #[test]
    fn rejects_what_is_not_a_phone_number() {
        for s in [
            "",
            "abc",
            "12345",
            "1381234567",
            "138123456789",
            "12812345678",
            "+1 415 555 0100",
            "001 415",
            "0574-123",
            "<script>",
            "13812345678;",
        ] {
            assert!(p(s).is_err(), "{s} should be rejected");
        }
    }

    #[test]
    fn area_code_validation() {
        assert!(AreaCode::parse("0574").is_ok());
        assert!(AreaCode::parse("010").is_ok());
        assert!(AreaCode::parse("574").is_err());
        assert!(AreaCode::parse("00574").is_err());
    }
}
