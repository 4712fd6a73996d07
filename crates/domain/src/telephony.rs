//! The telephony vocabulary: extension and called numbers, SIP digest passwords, trunk settings (source
//! allow-lists, proxies, transports), where a called number goes, and the words of a call record.
//!
//! Like every value here, each has a `parse` and no other way in; the SIP runtime and the API see the
//! same rules.

use std::net::IpAddr;

pub use ipnet::IpNet;

use crate::FieldError;
use crate::keyword_enum;

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An extension number of the registrar: 2 to 8 digits (`8001`). It is also the SIP digest username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ExtensionNumber(String);

impl ExtensionNumber {
    pub fn parse(input: &str) -> Result<ExtensionNumber, FieldError> {
        let s = input.trim();
        if (2..=8).contains(&s.len()) && digits(s) {
            Ok(ExtensionNumber(s.to_string()))
        } else {
            Err(FieldError::new("", "an extension number has 2 to 8 digits"))
        }
    }
}
string_value!(ExtensionNumber);

/// A called number as a trunk delivers it (DID, e.g. the service number `96777`): 3 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct DidNumber(String);

impl DidNumber {
    pub fn parse(input: &str) -> Result<DidNumber, FieldError> {
        let s = input.trim();
        if (3..=20).contains(&s.len()) && digits(s) {
            Ok(DidNumber(s.to_string()))
        } else {
            Err(FieldError::new("", "a called number has 3 to 20 digits"))
        }
    }
}
string_value!(DidNumber);

/// The number presented to the called party on outbound calls: 3 to 20 digits, optionally after `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CallerIdNumber(String);

impl CallerIdNumber {
    pub fn parse(input: &str) -> Result<CallerIdNumber, FieldError> {
        let s = input.trim();
        let rest = s.strip_prefix('+').unwrap_or(s);
        if (3..=20).contains(&rest.len()) && digits(rest) {
            Ok(CallerIdNumber(s.to_string()))
        } else {
            Err(FieldError::new(
                "",
                "a caller ID has 3 to 20 digits, optionally after '+'",
            ))
        }
    }
}
string_value!(CallerIdNumber);

/// Checks a SIP digest password for an extension or an inbound trunk: 8 to 64 characters, no control
/// characters, and not the username itself (phones are often configured with number = password).
/// The password is never stored: only its digest hashes (HA1) are.
pub fn check_sip_password(password: &str, username: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if !(8..=64).contains(&n) {
        return Err(FieldError::new("", "a SIP password has 8 to 64 characters"));
    }
    if password.chars().any(char::is_control) {
        return Err(FieldError::new("", "must not contain control characters"));
    }
    if password == username {
        return Err(FieldError::new(
            "",
            "a SIP password must not be the number or username itself",
        ));
    }
    Ok(())
}

/// A digest username a carrier or PBX uses: 1 to 64 visible ASCII characters without `"`, `\`, `:`,
/// `@`, `<` or `>` (they would break the SIP header or URI it goes into).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SipUsername(String);

impl SipUsername {
    pub fn parse(input: &str) -> Result<SipUsername, FieldError> {
        let s = input.trim();
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"\"\\:@<>".contains(&b));
        if ok {
            Ok(SipUsername(s.to_string()))
        } else {
            Err(FieldError::new(
                "",
                "a SIP username has 1 to 64 visible ASCII characters, without \" \\ : @ < >",
            ))
        }
    }
}
string_value!(SipUsername);

/// The password kefu sends to a carrier (outbound digest). Kept retrievable, so it can be answered
/// with; shown to nobody. 1 to 128 characters, no control characters.
#[derive(Clone, PartialEq, Eq)]
pub struct CarrierPassword(String);

impl CarrierPassword {
    pub fn parse(input: &str) -> Result<CarrierPassword, FieldError> {
        let n = input.chars().count();
        if !(1..=128).contains(&n) {
            return Err(FieldError::new("", "must be 1 to 128 characters"));
        }
        if input.chars().any(char::is_control) {
            return Err(FieldError::new("", "must not contain control characters"));
        }
        Ok(CarrierPassword(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CarrierPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CarrierPassword(***)")
    }
}

/// Where a trunk's SIP server is: `host:port`, the host a name, an IPv4 address or a bracketed IPv6
/// address. Without a port, 5060. Stored as `host:port`, the name in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct SipProxy(String);

impl SipProxy {
    pub fn parse(input: &str) -> Result<SipProxy, FieldError> {
        let s = input.trim();
        let bad = |why: &str| {
            FieldError::new(
                "",
                format!(
                    "{why}: expected host:port, e.g. sip.carrier.example:5060 or 10.0.0.1:5060"
                ),
            )
        };
        if s.is_empty() || s.len() > 260 {
            return Err(bad("not a SIP proxy address"));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (ip, after) = rest.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            let ip: std::net::Ipv6Addr = ip.parse().map_err(|_| bad("not an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
            };
            (format!("[{ip}]"), port)
        } else {
            let (host, port) = match s.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            };
            if host.contains(':') {
                return Err(bad("write an IPv6 address in brackets"));
            }
            let host = host.to_ascii_lowercase();
            if host.parse::<std::net::Ipv4Addr>().is_err() && !hostname(&host) {
                return Err(bad("not a host name or IP address"));
            }
            (host, port)
        };
        // `u16::from_str` would take a leading `+`: only digits are a port.
        let port: u16 = match port {
            None => 5060,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && digits(p) => n,
                _ => return Err(bad("the port must be 1 to 65535")),
            },
        };
        Ok(SipProxy(format!("{host}:{port}")))
    }
}
string_value!(SipProxy);

/// An RFC 1123 host name: dot-separated labels of letters, digits and dashes, not starting or ending
/// with a dash; at least one letter somewhere (so `1.2.3` is not taken for a name).
fn hostname(h: &str) -> bool {
    let h = h.strip_suffix('.').unwrap_or(h);
    !h.is_empty()
        && h.len() <= 253
        && h.bytes().any(|b| b.is_ascii_alphabetic())
        && h.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// One entry of a trunk's inbound allow-list: an IP address (taken as a single host, `/32` or `/128`)
/// or a network in CIDR notation without host bits (`10.20.0.0/16`).
pub fn parse_source(input: &str) -> Result<IpNet, FieldError> {
    let s = input.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    match s.parse::<IpNet>() {
        Ok(net) if net.trunc() == net => Ok(net),
        Ok(net) => Err(FieldError::new(
            "",
            format!("host bits are set: did you mean {}?", net.trunc()),
        )),
        Err(_) => Err(FieldError::new(
            "",
            "must be an IP address or a CIDR network, e.g. 203.0.113.7 or 10.20.0.0/16",
        )),
    }
}

/// The name of an IVR flow, a queue or a prompt: 1 to 64 of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TargetName(String);

impl TargetName {
    pub fn parse(input: &str) -> Result<TargetName, FieldError> {
        let s = input.trim();
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(TargetName(s.to_string()))
        } else {
            Err(FieldError::new(
                "",
                "a name has 1 to 64 characters: a-z, 0-9, '_' or '-'",
            ))
        }
    }
}
string_value!(TargetName);

/// Where a called number goes: an IVR flow, a queue, an extension or a recorded prompt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteTarget {
    Flow { name: TargetName },
    Queue { name: TargetName },
    Extension { number: ExtensionNumber },
    Prompt { name: TargetName },
}

impl RouteTarget {
    pub const KINDS: &'static [&'static str] = &["flow", "queue", "extension", "prompt"];

    /// From its kind and its name (or, for an extension, its number). A bad kind is an error of field
    /// `kind`; a bad name of `name` or `number`.
    pub fn parse(kind: &str, value: &str) -> Result<RouteTarget, FieldError> {
        let name = |v: &str| TargetName::parse(v).map_err(|e| FieldError::new("name", e.reason));
        match kind.trim() {
            "flow" => Ok(RouteTarget::Flow { name: name(value)? }),
            "queue" => Ok(RouteTarget::Queue { name: name(value)? }),
            "prompt" => Ok(RouteTarget::Prompt { name: name(value)? }),
            "extension" => Ok(RouteTarget::Extension {
                number: ExtensionNumber::parse(value)
                    .map_err(|e| FieldError::new("number", e.reason))?,
            }),
            _ => Err(FieldError::new(
                "kind",
                format!("must be one of: {}", RouteTarget::KINDS.join(", ")),
            )),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            RouteTarget::Flow { .. } => "flow",
            RouteTarget::Queue { .. } => "queue",
            RouteTarget::Extension { .. } => "extension",
            RouteTarget::Prompt { .. } => "prompt",
        }
    }

    /// The name, or the extension's number.
    pub fn value(&self) -> &str {
        match self {
            RouteTarget::Flow { name }
            | RouteTarget::Queue { name }
            | RouteTarget::Prompt { name } => name.as_str(),
            RouteTarget::Extension { number } => number.as_str(),
        }
    }
}

keyword_enum!(
    /// A trunk to a carrier (运营商, the public network) or to the company's own PBX (用户交换机).
    TrunkKind { Carrier = "carrier", Pbx = "pbx" }
);

impl TrunkKind {
    fn from_chinese(s: &str) -> Option<TrunkKind> {
        match s {
            "运营商" | "运营商中继" => Some(TrunkKind::Carrier),
            "交换机" | "用户交换机" | "程控交换机" | "PBX" => Some(TrunkKind::Pbx),
            _ => None,
        }
    }
}

keyword_enum!(
    /// The transport of a trunk's outbound SIP.
    SipTransport { Udp = "udp", Tcp = "tcp" }
);

impl SipTransport {
    fn from_chinese(_: &str) -> Option<SipTransport> {
        None
    }
}

keyword_enum!(
    /// Inbound: a call to kefu (呼入); outbound: a call kefu places (呼出).
    CallDirection { Inbound = "inbound", Outbound = "outbound" }
);

impl CallDirection {
    fn from_chinese(s: &str) -> Option<CallDirection> {
        match s {
            "呼入" => Some(CallDirection::Inbound),
            "呼出" | "外呼" => Some(CallDirection::Outbound),
            _ => None,
        }
    }
}

keyword_enum!(
    /// How a call leg ended.
    CallDisposition {
        Answered = "answered",
        NoAnswer = "no_answer",
        Busy = "busy",
        Cancelled = "cancelled",
        Rejected = "rejected",
        Failed = "failed",
    }
);

impl CallDisposition {
    fn from_chinese(s: &str) -> Option<CallDisposition> {
        match s {
            "已接听" | "接通" => Some(CallDisposition::Answered),
            "未接听" | "未接" | "无应答" => Some(CallDisposition::NoAnswer),
            "忙" | "占线" => Some(CallDisposition::Busy),
            "取消" | "已取消" => Some(CallDisposition::Cancelled),
            "拒接" | "拒绝" => Some(CallDisposition::Rejected),
            "失败" => Some(CallDisposition::Failed),
            _ => None,
        }
    }
}

keyword_enum!(
    /// Who hung up: the calling party, the called party, or kefu itself (timeout, error, shutdown).
    HangupSide { Caller = "caller", Callee = "callee", System = "system" }
);

impl HangupSide {
    fn from_chinese(s: &str) -> Option<HangupSide> {
        match s {
            "主叫" => Some(HangupSide::Caller),
            "被叫" => Some(HangupSide::Callee),
            "系统" => Some(HangupSide::System),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(ExtensionNumber::parse(" 8001 ").unwrap().as_str(), "8001");
        for bad in ["1", "123456789", "80a1", "", "+801", "８００１"] {
            assert!(ExtensionNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(DidNumber::parse("96777").unwrap().as_str(), "96777");
        for bad in ["12", "1".repeat(21).as_str(), "0574-8765", "+8657487654321"] {
            assert!(DidNumber::parse(bad).is_err(), "{bad}");
        }
        assert!(CallerIdNumber::parse("+8657487654321").is_ok());
        assert!(CallerIdNumber::parse("96777").is_ok());
        assert!(CallerIdNumber::parse("++123").is_err());
    }

    #[test]
    fn sip_passwords() {
        assert!(check_sip_password("Kefu@2026", "8001").is_ok());
        assert!(check_sip_password("short", "8001").is_err());
        assert!(check_sip_password(&"x".repeat(65), "8001").is_err());
        assert!(check_sip_password("80018001", "80018001").is_err());
        assert!(check_sip_password("tab\there1", "8001").is_err());
    }

    #[test]
    fn proxies() {
        let ok = |s: &str| SipProxy::parse(s).unwrap().into_string();
        assert_eq!(ok("SIP.Carrier.example"), "sip.carrier.example:5060");
        assert_eq!(ok("10.0.0.1:5080"), "10.0.0.1:5080");
        assert_eq!(ok("[2001:db8::1]:5060"), "[2001:db8::1]:5060");
        assert_eq!(ok("[2001:db8::1]"), "[2001:db8::1]:5060");
        for bad in [
            "",
            "host:0",
            "host:70000",
            "host:+50",
            "host:",
            "2001:db8::1",
            "bad_host:5060",
            "-x.example",
            "sip:carrier",
            "a b",
            "1.2.3",
            "[::1",
        ] {
            assert!(SipProxy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sources() {
        assert_eq!(
            parse_source("127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(
            parse_source("10.20.0.0/16").unwrap().to_string(),
            "10.20.0.0/16"
        );
        assert_eq!(parse_source("::1").unwrap().to_string(), "::1/128");
        let e = parse_source("10.20.1.1/16").unwrap_err();
        assert!(e.reason.contains("10.20.0.0/16"), "{}", e.reason);
        for bad in ["", "localhost", "10.0.0.0/33", "300.1.1.1"] {
            assert!(parse_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets() {
        let t = RouteTarget::parse("flow", "main").unwrap();
        assert_eq!((t.kind(), t.value()), ("flow", "main"));
        assert_eq!(
            RouteTarget::parse("extension", "x").unwrap_err().field,
            "number"
        );
        assert_eq!(
            RouteTarget::parse("queue", "Main").unwrap_err().field,
            "name"
        );
        assert_eq!(
            RouteTarget::parse("voicemail", "x").unwrap_err().field,
            "kind"
        );
    }

    #[test]
    fn keywords() {
        assert_eq!(TrunkKind::parse("运营商").unwrap(), TrunkKind::Carrier);
        assert_eq!(TrunkKind::parse("PBX").unwrap(), TrunkKind::Pbx);
        assert_eq!(
            CallDisposition::parse("no_answer").unwrap(),
            CallDisposition::NoAnswer
        );
        assert_eq!(
            CallDirection::parse("呼入").unwrap(),
            CallDirection::Inbound
        );
        assert_eq!(HangupSide::parse("被叫").unwrap(), HangupSide::Callee);
        assert!(SipTransport::parse("tls").is_err());
    }

    #[test]
    fn usernames() {
        assert!(SipUsername::parse("0574880001").is_ok());
        for bad in ["", "a b", "a:b", "a@b", "\"x\"", &"u".repeat(65)] {
            assert!(SipUsername::parse(bad).is_err(), "{bad}");
        }
    }
}
