//! Where a work order came from: the channel, and what created it (a call, a message, a document).

use kefu_domain::keyword_enum;

keyword_enum!(
    /// How the request reached the company.
    Channel {
        Phone = "phone",
        Ivr = "ivr",
        Sms = "sms",
        Fax = "fax",
        Email = "email",
        Web = "web",
        WalkIn = "walk_in",
        Authority = "authority",
    }
);

impl Channel {
    fn from_chinese(s: &str) -> Option<Channel> {
        Channel::ALL.iter().copied().find(|v| v.label_zh() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Channel::Phone => "电话",
            Channel::Ivr => "语音自助",
            Channel::Sms => "短信",
            Channel::Fax => "传真",
            Channel::Email => "邮件",
            Channel::Web => "网站",
            Channel::WalkIn => "来访",
            Channel::Authority => "上级转办",
        }
    }
}

keyword_enum!(
    /// What created the order: a call record (and its recording), an inbound message (SMS, email,
    /// web form), a document (a fax, a letter from the consumer association), or a person at the desk.
    OriginKind { Call = "call", Message = "message", Document = "document", Person = "person" }
);

impl OriginKind {
    fn from_chinese(s: &str) -> Option<OriginKind> {
        Some(match s {
            "通话" => OriginKind::Call,
            "消息" => OriginKind::Message,
            "文件" => OriginKind::Document,
            "来人" => OriginKind::Person,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_read_in_both_languages() {
        assert_eq!(Channel::parse("上级转办").unwrap(), Channel::Authority);
        assert_eq!(Channel::parse("walk_in").unwrap(), Channel::WalkIn);
        assert!(Channel::parse("pigeon").is_err());
        assert_eq!(OriginKind::parse("call").unwrap(), OriginKind::Call);
    }
}
