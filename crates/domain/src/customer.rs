//! A gas customer's identity and contact data, each field validated on its way in.

use crate::{FieldError, bounded_text};

macro_rules! text_value {
    ($(#[$m:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<$name, $crate::FieldError> {
                bounded_text(input, $min, $max).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

text_value!(
    /// A person's or a company's name as the billing system has it: 张三, 宁波某某餐饮有限公司.
    CustomerName, 1, 60
);
text_value!(
    /// A street address; stored and shown verbatim.
    Address, 1, 200
);
text_value!(
    /// A district (区) of the service area, e.g. 海曙区. Free text: districts are data, not code.
    District, 1, 20
);
text_value!(
    /// The gas meter's number as printed on it.
    MeterNo, 1, 32
);

/// 户号: the customer number of the billing system. Letters, digits and dashes, 4 to 20 of them,
/// stored upper-case so that `nb-001` and `NB-001` are the same customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CustomerNo(String);

impl CustomerNo {
    pub fn parse(input: &str) -> Result<CustomerNo, FieldError> {
        let s = input.trim();
        let n = s.chars().count();
        if !(4..=20).contains(&n) {
            return Err(FieldError::new(
                "",
                "a customer number has 4 to 20 characters",
            ));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(FieldError::new(
                "",
                "a customer number holds only letters, digits and dashes",
            ));
        }
        Ok(CustomerNo(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An enum of keywords that read in English (`as_str`, serde) and, through the type's own
/// `from_chinese`, in Chinese.
#[macro_export]
macro_rules! keyword_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $word:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),*
                }
            }

            pub fn parse(input: &str) -> Result<$name, $crate::FieldError> {
                let s = input.trim();
                $(if s.eq_ignore_ascii_case($word) { return Ok($name::$variant); })*
                if let Some(v) = Self::from_chinese(s) {
                    return Ok(v);
                }
                Err($crate::FieldError::new("", format!(
                    "must be one of: {}",
                    [$($word),*].join(", ")
                )))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keyword_enum!(
    /// 瓶装气 (cylinders delivered) or 管道气 (piped, metered).
    ServiceType { Bottled = "bottled", Pipeline = "pipeline" }
);

impl ServiceType {
    fn from_chinese(s: &str) -> Option<ServiceType> {
        match s {
            "瓶装气" | "瓶装" => Some(ServiceType::Bottled),
            "管道气" | "管道" => Some(ServiceType::Pipeline),
            _ => None,
        }
    }
}

keyword_enum!(
    /// How the customer wants notices (payment reminders, surveys) to reach them.
    NoticePreference { Voice = "voice", Fax = "fax", Sms = "sms", Email = "email" }
);

impl NoticePreference {
    fn from_chinese(s: &str) -> Option<NoticePreference> {
        match s {
            "语音" | "电话" => Some(NoticePreference::Voice),
            "传真" => Some(NoticePreference::Fax),
            "短信" => Some(NoticePreference::Sms),
            "邮件" | "电子邮件" => Some(NoticePreference::Email),
            _ => None,
        }
    }
}

keyword_enum!(
    /// The language prompts and notices use for this customer.
    Language { ZhCn = "zh-CN", En = "en" }
);

impl Language {
    fn from_chinese(s: &str) -> Option<Language> {
        match s {
            "中文" | "普通话" | "zh" => Some(Language::ZhCn),
            "英文" | "英语" => Some(Language::En),
            _ => None,
        }
    }
}

/// A deliberately plain e-mail check: one `@`, something on each side, a dot in the domain, no spaces,
/// at most 254 characters. Deliverability is proven by sending, not by a regex.
pub fn email_address(input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    let bad = || FieldError::new("", "not an e-mail address");
    if s.len() > 254
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(bad());
    }
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_numbers_are_case_insensitive() {
        assert_eq!(CustomerNo::parse(" nb-0001 ").unwrap().as_str(), "NB-0001");
        assert!(CustomerNo::parse("123").is_err());
        assert!(CustomerNo::parse("12 34").is_err());
        assert!(CustomerNo::parse("户号1234").is_err());
    }

    #[test]
    fn keywords_accept_english_and_chinese() {
        assert_eq!(ServiceType::parse("管道气").unwrap(), ServiceType::Pipeline);
        assert_eq!(ServiceType::parse("Bottled").unwrap(), ServiceType::Bottled);
        assert_eq!(
            NoticePreference::parse("短信").unwrap(),
            NoticePreference::Sms
        );
        assert_eq!(Language::parse("zh-cn").unwrap(), Language::ZhCn);
        assert_eq!(
            ServiceType::parse("coal").unwrap_err().reason,
            "must be one of: bottled, pipeline"
        );
    }

    #[test]
    fn email_addresses() {
        assert!(email_address("zhang.san@example.com").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@@b.com",
            "a b@c.com",
            "<a@b.com>",
            "a@.com",
        ] {
            assert!(email_address(bad).is_err(), "{bad}");
        }
    }
}
