//! The registrar: digest authentication, identical refusals for unknown users and wrong passwords, bans
//! after repeated failures (with a log line fail2ban can match), registrations visible, and INVITEs from
//! unknown sources refused.

mod common;
mod support;

use common::{PASSWORD, RawSip, engine, header, sipp, status};
use kefu_telephony::Target;
use std::sync::{Arc, Mutex};
use support::{Sipp, scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_registers_with_digest_and_the_binding_is_visible() {
    let e = engine(&[]).await;
    sipp(
        Sipp::new(scenario("register_digest.xml"))
            .remote(e.addr)
            .service("8001")
            .auth("8001", PASSWORD),
    )
    .await
    .assert_ok();
    let regs = e.telephony.registrations();
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0].extension, "8001");
    assert!(regs[0].source.ip().is_loopback());
    assert!(regs[0].expires_at > chrono::Utc::now() + chrono::TimeDelta::seconds(250));
    // A wrong password through SIPp is refused.
    let wrong = sipp(
        Sipp::new(scenario("register_wrong.xml"))
            .remote(e.addr)
            .service("8002")
            .auth("8002", "not-the-password"),
    )
    .await;
    wrong.assert_ok();
    assert!(
        !e.telephony
            .registrations()
            .iter()
            .any(|r| r.extension == "8002")
    );
}

/// Everything but the headers that echo the request (Via, From, To, Call-ID, CSeq) and the varying ones.
fn shape(reply: &str) -> Vec<String> {
    reply
        .lines()
        .filter(|l| {
            let name = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            ![
                "via",
                "from",
                "to",
                "call-id",
                "cseq",
                "date",
                "server",
                "user-agent",
            ]
            .contains(&name.as_str())
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_and_wrong_passwords_get_identical_replies() {
    let e = engine(&[]).await;
    let addr = e.addr;
    tokio::task::spawn_blocking(move || {
        let mut a = RawSip::new("127.0.0.11", addr);
        let mut b = RawSip::new("127.0.0.12", addr);
        let unknown = a
            .register_with_password("7777", PASSWORD)
            .expect("a reply for the unknown user");
        let wrong = b
            .register_with_password("8001", "wrong-password")
            .expect("a reply for the wrong password");
        assert_eq!(status(&unknown), 403, "{unknown}");
        assert_eq!(
            shape(&unknown),
            shape(&wrong),
            "the replies tell nothing apart:\n{unknown}\n---\n{wrong}"
        );
        let mut c = RawSip::new("127.0.0.13", addr);
        let ok = c.register_with_password("8001", PASSWORD).unwrap();
        assert_eq!(status(&ok), 200, "{ok}");
        assert!(header(&ok, "Contact").unwrap().contains("expires="), "{ok}");
    })
    .await
    .unwrap();
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_ban_the_source_and_log_one_line_each() {
    // The engine logs from its own tasks on any thread: the subscriber is the process's global one.
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    let logs = LOGS
        .get_or_init(|| {
            let logs = Captured::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_env_filter("kefu::sip::auth=warn")
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("the only global subscriber");
            logs
        })
        .clone();
    let e = engine(&[]).await;
    let addr = e.addr;
    let banned = e.telephony.clone();
    let replies = tokio::task::spawn_blocking(move || {
        let mut attacker = RawSip::new("127.0.0.21", addr);
        let replies: Vec<Option<String>> = (0..6)
            .map(|_| attacker.register_with_password("8001", "guess"))
            .collect();
        let after = attacker.register("8001", None);
        let mut bystander = RawSip::new("127.0.0.22", addr);
        let other = bystander.register_with_password("8001", PASSWORD);
        (replies, after, other)
    })
    .await
    .unwrap();
    let (replies, after, other) = replies;
    for r in &replies[..5] {
        assert_eq!(r.as_deref().map(status), Some(403));
    }
    assert!(
        replies[5].is_none(),
        "the sixth attempt is ignored: the source is banned"
    );
    assert!(after.is_none(), "a banned source gets no reply at all");
    assert_eq!(
        other.as_deref().map(status),
        Some(200),
        "another source is not affected"
    );
    assert_eq!(
        banned.banned(),
        vec!["127.0.0.21".parse::<std::net::IpAddr>().unwrap()]
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let failures = text
        .lines()
        .filter(|l| l.contains("SIP auth failed: source=127.0.0.21 "))
        .count();
    assert_eq!(failures, 5, "one line per failure:\n{text}");
    assert!(
        text.contains("SIP source banned: source=127.0.0.21"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_from_unknown_sources_get_403_and_registered_phones_are_challenged() {
    let e = engine(&[("96777", Target::Flow("main".into()))]).await;
    let addr = e.addr;
    tokio::task::spawn_blocking(move || {
        let mut stranger = RawSip::new("127.0.0.31", addr);
        let reply = stranger.invite("96777", None).unwrap();
        assert_eq!(status(&reply), 403, "{reply}");
        let mut phone = RawSip::new("127.0.0.32", addr);
        assert_eq!(
            phone
                .register_with_password("8001", PASSWORD)
                .as_deref()
                .map(status),
            Some(200)
        );
        let reply = phone.invite("96777", None).unwrap();
        assert_eq!(
            status(&reply),
            407,
            "a registered phone's source is challenged: {reply}"
        );
        assert!(
            header(&reply, "Proxy-Authenticate")
                .unwrap()
                .contains("realm=\"kefu\"")
        );
    })
    .await
    .unwrap();
}
