//! The system prompt catalog: every prompt kefu ships, with its Mandarin (`zh-CN`) and English text.
//!
//! Two kinds: the sentences of the demo flows (`main_menu`, `goodbye`, …) and the words
//! [`crate::say`] reads values with (`num_3`, `yuan`, `status_closed`, …). A prompt's audio is
//! `<prompts_dir>/<language>/<key>.wav`: `kefu prompts generate` (and `kefu serve` at start) speaks
//! every missing one with espeak-ng; an admin's upload replaces it. An empty text means the prompt is
//! not part of that language's set (`liang` 两 is Mandarin only, `ord_1` "first" English only).
//!
//! Keys are lowercase ASCII (`[a-z0-9_]`), so they are safe as file names.

/// One system prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemPrompt {
    pub key: &'static str,
    /// Mandarin text; empty when the prompt is English only.
    pub zh: &'static str,
    /// English text; empty when the prompt is Mandarin only.
    pub en: &'static str,
}

impl SystemPrompt {
    /// The text in `language` (`en`, else Mandarin), `None` if the prompt is not in that set.
    pub fn text(&self, language: &str) -> Option<&'static str> {
        let t = if language == "en" { self.en } else { self.zh };
        (!t.is_empty()).then_some(t)
    }

    /// A word of [`crate::say`] (short, read in runs) rather than a sentence.
    pub fn is_word(&self) -> bool {
        WORDS.iter().any(|w| w.key == self.key)
    }
}

/// The languages with a system set.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

const fn p(key: &'static str, zh: &'static str, en: &'static str) -> SystemPrompt {
    SystemPrompt { key, zh, en }
}

/// Every system prompt: the flow sentences, then the words.
pub fn catalog() -> &'static [SystemPrompt] {
    static ALL: std::sync::OnceLock<Vec<SystemPrompt>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| SENTENCES.iter().chain(WORDS).copied().collect())
}

/// The keys of [`catalog`], in its order.
pub fn system_keys() -> Vec<&'static str> {
    catalog().iter().map(|p| p.key).collect()
}

/// The system prompt `key`.
pub fn get(key: &str) -> Option<&'static SystemPrompt> {
    catalog().iter().find(|p| p.key == key)
}

/// The text of system prompt `key` in `language` (`zh-CN` or `en`; anything else reads Mandarin).
pub fn text(key: &str, language: &str) -> Option<&'static str> {
    get(key)?.text(language)
}

/// Whether `key` is a well-formed prompt key (`[a-z0-9_]`, 1 to 64 characters, starting with a letter).
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key.as_bytes()[0].is_ascii_lowercase()
        && key
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

const SENTENCES: &[SystemPrompt] = &[
    p(
        "welcome",
        "您好，欢迎致电燃气服务热线。自助语音服务暂时无法使用，请稍后再拨。再见。",
        "Hello, and thank you for calling the gas service hotline. Our self-service menu is not available at the moment, please call again later. Goodbye.",
    ),
    p(
        "main_welcome",
        "您好，欢迎致电燃气服务热线。",
        "Hello, and welcome to the gas service hotline.",
    ),
    p(
        "main_menu",
        "业务咨询请按1，账单查询请按2，故障报修请按3，工单进度查询请按4，投诉与建议请按5，索取价目表和申请表请按6，人工服务请按0。",
        "For service information, press 1. For your bill, press 2. To report a fault, press 3. To check the progress of a work order, press 4. For complaints and suggestions, press 5. To request our price list or an application form, press 6. To speak to an agent, press 0.",
    ),
    p(
        "info_menu",
        "瓶装液化气业务介绍请按1，管道燃气业务介绍请按2，开户办理请按3，安全用气常识请按4，返回上级菜单请按星号键。",
        "For bottled LPG, press 1. For piped gas, press 2. To open an account, press 3. For gas safety tips, press 4. To return to the main menu, press star.",
    ),
    p(
        "info_bottled",
        "我们为居民和商户提供瓶装液化气送气上门服务。您可以拨打本热线或在营业厅订气，市区一般在四小时内送达。送气人员会为您免费检查灶具和连接软管。",
        "We deliver bottled LPG to homes and businesses. You can order by calling this hotline or at any of our service halls; within the city, delivery usually takes less than four hours. Our delivery staff will check your stove and hose free of charge.",
    ),
    p(
        "info_pipeline",
        "管道燃气由我们的管网全天候供应，按表计量，按月抄表出账。您可以通过营业厅、银行代扣或手机支付缴纳燃气费，遇到停气或故障请拨打本热线报修。",
        "Piped gas is supplied around the clock through our network, metered and billed monthly. You can pay at our service halls, by bank direct debit or by mobile payment. If your supply is interrupted or faulty, call this hotline to report it.",
    ),
    p(
        "info_account",
        "开户请携带本人身份证、房产证明或租赁合同，到就近营业厅填写开户申请表。我们将在三个工作日内上门勘察并安装燃气表，验收合格后即可通气使用。",
        "To open an account, bring your ID card and proof of ownership or a rental contract to your nearest service hall and fill in an application form. We will survey your home and install a meter within three working days, and turn on the supply once it passes inspection.",
    ),
    p(
        "info_safety",
        "用气时请保持通风，人不要离开灶具；定期用肥皂水检查软管和接口是否漏气，软管老化请及时更换。外出或睡前请关闭燃气阀门。如闻到燃气异味，请立即关阀开窗，到室外拨打本热线。",
        "Keep the room ventilated while using gas and never leave a burning stove unattended. Check hoses and joints for leaks with soapy water regularly, and replace old hoses. Turn off the gas valve before going out or to bed. If you smell gas, close the valve, open the windows, and call this hotline from outside.",
    ),
    p(
        "enter_customer_no",
        "请输入您的用户编号，以井号键结束。",
        "Please enter your customer number, followed by the hash key.",
    ),
    p(
        "confirm_phone_tail",
        "请输入您登记的联系电话的后四位。",
        "Please enter the last four digits of the phone number registered with your account.",
    ),
    p(
        "customer_not_found",
        "对不起，没有找到该用户，请重新输入。",
        "Sorry, we could not find that customer. Please try again.",
    ),
    p("bill_intro", "您的账单信息如下。", "Here is your bill."),
    p("bill_amount_due", "您目前应缴燃气费", "The amount due is"),
    p("bill_due_date", "缴费截止日期为", "Please pay by"),
    p("bill_balance", "您的账户余额为", "Your account balance is"),
    p(
        "bill_last_payment",
        "您最近一次缴费金额为",
        "Your last payment was",
    ),
    p(
        "bill_nothing_due",
        "您目前没有待缴费用。",
        "You have nothing to pay at the moment.",
    ),
    p(
        "fault_menu",
        "如果您闻到燃气异味或怀疑燃气泄漏，请按1；其他故障报修请按2。",
        "If you smell gas or suspect a gas leak, press 1. To report any other fault, press 2.",
    ),
    p(
        "leak_advice",
        "请立即关闭燃气总阀，打开门窗通风，不要开关电器，不要使用明火，并到室外安全地点等候。正在为您转接抢修中心。",
        "Close the main gas valve now and open the doors and windows. Do not switch any electrical appliances on or off, and do not use any open flame. Wait outside in a safe place. We are connecting you to our emergency repair center.",
    ),
    p(
        "record_fault",
        "请在提示音后说明故障情况和详细地址，说完请按井号键。",
        "After the tone, please describe the fault and give your full address. Press the hash key when you have finished.",
    ),
    p(
        "fault_created",
        "您的报修已受理，工单号为",
        "Your report has been registered. Your work order number is",
    ),
    p(
        "sms_sent",
        "工单号已通过短信发送到您的手机。",
        "We have sent the work order number to your mobile phone by text message.",
    ),
    p(
        "enter_order_no",
        "请输入工单号中的数字，以井号键结束；直接按井号键查询您最近的工单。",
        "Please enter the digits of your work order number, followed by the hash key. To hear about your most recent work order, just press the hash key.",
    ),
    p("order_status_is", "当前状态为", "Its status is"),
    p("order_no_is", "您的工单", "Your work order"),
    p(
        "order_not_found",
        "对不起，没有找到相关工单。",
        "Sorry, we could not find that work order.",
    ),
    p(
        "complaint_transfer",
        "正在为您转接投诉与建议专席，请稍候。",
        "Connecting you to our complaints and suggestions desk. Please hold.",
    ),
    p(
        "agent_transfer",
        "正在为您转接人工服务，请稍候。",
        "Connecting you to an agent. Please hold.",
    ),
    p(
        "document_menu",
        "索取燃气价目表请按1，索取开户申请表请按2。",
        "For our gas price list, press 1. For an account application form, press 2.",
    ),
    p(
        "document_queued",
        "您索取的资料将发送到您的来电号码，请注意查收。",
        "We will send the document you requested to the number you are calling from.",
    ),
    p(
        "survey_ask",
        "请对本次服务进行评价：非常满意请按5，满意请按4，一般请按3，不满意请按2，非常不满意请按1。",
        "Please rate our service. Very satisfied, press 5. Satisfied, press 4. Neutral, press 3. Dissatisfied, press 2. Very dissatisfied, press 1.",
    ),
    p(
        "survey_thanks",
        "感谢您的评价。",
        "Thank you for your feedback.",
    ),
    p(
        "invalid_key",
        "对不起，您的输入有误。",
        "Sorry, that is not a valid choice.",
    ),
    p(
        "no_input",
        "对不起，没有收到您的输入。",
        "Sorry, we did not receive your input.",
    ),
    p(
        "too_many_errors",
        "输入错误次数过多，正在为您转接人工服务。",
        "Too many invalid attempts. Connecting you to an agent.",
    ),
    p(
        "after_hours",
        "现在是非工作时间，请在提示音后留言，我们将在工作时间尽快与您联系。",
        "We are currently closed. Please leave a message after the tone, and we will call you back as soon as we open.",
    ),
    p(
        "message_saved",
        "您的留言已记录。",
        "Your message has been recorded.",
    ),
    p(
        "goodbye",
        "感谢您的来电，再见。",
        "Thank you for calling. Goodbye.",
    ),
    p(
        "system_busy",
        "对不起，系统繁忙，正在为您转接人工服务。",
        "Sorry, our system is busy. Connecting you to an agent.",
    ),
    p("queue_position", "您前面还有", "There are"),
    p(
        "queue_position_unit",
        "位用户在等候。",
        "callers waiting ahead of you.",
    ),
    p("queue_wait", "预计等待", "Your estimated wait is"),
    p("queue_minutes", "分钟。", "minutes."),
    p(
        "queue_next",
        "您是下一位，请稍候。",
        "You are next in line. Please hold.",
    ),
    p(
        "queue_callback_offer",
        "当前等候人数较多。如需保留您的排队位置并由我们回电，请按1；继续等候请按其他键。",
        "All our agents are busy. To keep your place and have us call you back, press 1. To keep waiting, press any other key.",
    ),
    p(
        "queue_callback_confirmed",
        "已为您登记回电，我们将按排队顺序尽快与您联系。再见。",
        "Your callback is booked. We will call you back in turn. Goodbye.",
    ),
];

/// The words of [`crate::say`].
const WORDS: &[SystemPrompt] = &[
    p("num_0", "零", "zero"),
    p("num_1", "一", "one"),
    p("num_2", "二", "two"),
    p("num_3", "三", "three"),
    p("num_4", "四", "four"),
    p("num_5", "五", "five"),
    p("num_6", "六", "six"),
    p("num_7", "七", "seven"),
    p("num_8", "八", "eight"),
    p("num_9", "九", "nine"),
    p("num_10", "十", "ten"),
    p("num_100", "百", "hundred"),
    p("num_1000", "千", "thousand"),
    p("num_10000", "万", ""),
    p("num_1e8", "亿", ""),
    p("liang", "两", ""),
    p("yao", "幺", ""),
    p("point", "点", "point"),
    p("minus", "负", "minus"),
    p("yuan", "元", "yuan"),
    p("jiao", "角", ""),
    p("fen", "分", "fen"),
    p("zheng", "整", ""),
    p("year", "年", ""),
    p("month", "月", ""),
    p("day", "日", ""),
    p("en_11", "", "eleven"),
    p("en_12", "", "twelve"),
    p("en_13", "", "thirteen"),
    p("en_14", "", "fourteen"),
    p("en_15", "", "fifteen"),
    p("en_16", "", "sixteen"),
    p("en_17", "", "seventeen"),
    p("en_18", "", "eighteen"),
    p("en_19", "", "nineteen"),
    p("en_20", "", "twenty"),
    p("en_30", "", "thirty"),
    p("en_40", "", "forty"),
    p("en_50", "", "fifty"),
    p("en_60", "", "sixty"),
    p("en_70", "", "seventy"),
    p("en_80", "", "eighty"),
    p("en_90", "", "ninety"),
    p("en_million", "", "million"),
    p("en_billion", "", "billion"),
    p("en_and", "", "and"),
    p("en_oh", "", "oh"),
    p("ord_1", "", "first"),
    p("ord_2", "", "second"),
    p("ord_3", "", "third"),
    p("ord_4", "", "fourth"),
    p("ord_5", "", "fifth"),
    p("ord_6", "", "sixth"),
    p("ord_7", "", "seventh"),
    p("ord_8", "", "eighth"),
    p("ord_9", "", "ninth"),
    p("ord_10", "", "tenth"),
    p("ord_11", "", "eleventh"),
    p("ord_12", "", "twelfth"),
    p("ord_13", "", "thirteenth"),
    p("ord_14", "", "fourteenth"),
    p("ord_15", "", "fifteenth"),
    p("ord_16", "", "sixteenth"),
    p("ord_17", "", "seventeenth"),
    p("ord_18", "", "eighteenth"),
    p("ord_19", "", "nineteenth"),
    p("ord_20", "", "twentieth"),
    p("ord_30", "", "thirtieth"),
    p("month_1", "", "January"),
    p("month_2", "", "February"),
    p("month_3", "", "March"),
    p("month_4", "", "April"),
    p("month_5", "", "May"),
    p("month_6", "", "June"),
    p("month_7", "", "July"),
    p("month_8", "", "August"),
    p("month_9", "", "September"),
    p("month_10", "", "October"),
    p("month_11", "", "November"),
    p("month_12", "", "December"),
    p("status_new", "新建", "new"),
    p("status_dispatched", "已派单", "dispatched"),
    p("status_accepted", "已接单", "accepted"),
    p("status_in_progress", "处理中", "in progress"),
    p(
        "status_waiting_customer",
        "等待客户",
        "waiting for the customer",
    ),
    p("status_feedback_submitted", "已反馈", "feedback submitted"),
    p("status_closed", "已办结", "closed"),
    p("status_callback_done", "已回访", "followed up"),
    p("status_archived", "已归档", "archived"),
    p("status_cancelled", "已撤销", "cancelled"),
    p("status_merged", "已合并", "merged"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn keys_are_unique_and_well_formed_and_every_prompt_has_text() {
        let mut seen = BTreeSet::new();
        for p in catalog() {
            assert!(valid_key(p.key), "{}", p.key);
            assert!(seen.insert(p.key), "{} twice", p.key);
            assert!(!p.zh.is_empty() || !p.en.is_empty(), "{}", p.key);
            if !p.is_word() {
                assert!(!p.zh.is_empty() && !p.en.is_empty(), "{} needs both", p.key);
            }
        }
        assert_eq!(system_keys().len(), catalog().len());
        assert_eq!(text("goodbye", "zh-CN"), Some("感谢您的来电，再见。"));
        assert_eq!(
            text("goodbye", "en"),
            Some("Thank you for calling. Goodbye.")
        );
        assert_eq!(text("liang", "en"), None);
        assert_eq!(text("ord_1", "zh-CN"), None);
        assert_eq!(text("nope", "zh-CN"), None);
        for bad in ["", "Main", "1abc", "a-b", "a.wav", "../x", &"a".repeat(65)] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    /// Every prompt the demo flow plays is a system prompt in Mandarin and English.
    #[test]
    fn the_demo_flow_plays_system_prompts() {
        fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        if k == "prompt"
                            && let Some(s) = v.as_str()
                        {
                            out.insert(s.to_string());
                        }
                        walk(v, out);
                    }
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let flow: serde_json::Value =
            serde_json::from_str(include_str!("../flows/main.json")).unwrap();
        let mut used = BTreeSet::new();
        walk(&flow, &mut used);
        assert!(used.len() > 20, "{used:?}");
        for key in used {
            assert!(text(&key, "zh-CN").is_some(), "{key}");
            assert!(text(&key, "en").is_some(), "{key}");
        }
    }
}
