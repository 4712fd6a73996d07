//! baresip 1.0 (Debian package baresip-core) as a test phone, driven over its ctrl_tcp interface.
//!
//! Each instance runs from its own configuration directory (a temporary directory) with only the modules
//! a G.711 phone without sound hardware needs: `g711`, `aufile` (audio source: a WAV file), `sndfile`
//! (an audio filter that writes what is sent and what is received to WAV files), `account`, `menu`
//! (the dial/hangup/accept commands) and `ctrl_tcp` (netstring-framed JSON commands and events). No audio
//! player module is loaded: received audio is decoded, passed through the filters and dropped. SIP listens
//! on 127.0.0.1 only (UDP and TCP on the SIP port, TLS on the next port), RTP on a range of free ports;
//! no STUN/ICE/TURN, no media encryption.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::ports::{free_rtp_range, free_sip_port, free_tcp_port};
use super::wav::{RATE, read_wav, write_wav};

/// How much audio baresip gets to send: its aufile source ends the call ("end of file") when the file
/// runs out and cannot loop, so `audio_in` is repeated up to this length.
const AUDIO_IN_SECONDS: usize = 120;

/// How to start a baresip.
#[derive(Debug, Clone)]
pub struct BaresipOptions {
    /// Register there (digest with `user`/`password`, every 300 s); `None`: no registration, the phone is
    /// only reachable directly at `sip:USER@127.0.0.1:PORT` (see `Baresip::uri`).
    pub registrar: Option<SocketAddr>,
    /// The account's user (AOR `sip:USER@registrar` or `sip:USER@127.0.0.1:PORT`).
    pub user: String,
    pub password: String,
    /// What the phone sends: an 8 kHz mono 16-bit WAV file, looped to 120 s. An empty path sends silence.
    pub audio_in: PathBuf,
    /// Answer incoming calls at once (answermode=auto); otherwise they ring until `answer`.
    pub auto_answer: bool,
}

impl Default for BaresipOptions {
    fn default() -> Self {
        BaresipOptions {
            registrar: None,
            user: "baresip".to_string(),
            password: String::new(),
            audio_in: PathBuf::new(),
            auto_answer: false,
        }
    }
}

/// A running baresip. Dropping it quits it (killing it if it does not quit within 2 s).
pub struct Baresip {
    child: Option<Child>,
    dir: tempfile::TempDir,
    ctrl: Mutex<TcpStream>,
    responses: Mutex<Receiver<Json>>,
    events: Arc<Mutex<Vec<String>>>,
    sip_addr: SocketAddr,
    user: String,
    token: Mutex<u64>,
}

impl std::fmt::Debug for Baresip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baresip")
            .field("sip_addr", &self.sip_addr)
            .field("dir", &self.dir.path())
            .finish()
    }
}

impl Baresip {
    /// Writes the configuration, starts baresip and connects to its control port.
    pub fn start(opts: BaresipOptions) -> io::Result<Baresip> {
        let dir = tempfile::Builder::new().prefix("kefu-baresip-").tempdir()?;
        let sip_port = free_sip_port(true);
        let ctrl_port = free_tcp_port();
        let (rtp_first, rtp_last) = free_rtp_range(20);
        let recordings = dir.path().join("recordings");
        fs::create_dir(&recordings)?;
        let audio_in = dir.path().join("audio_in.wav");
        write_looped(&opts.audio_in, &audio_in)?;

        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             net_interface\t\t127.0.0.1\n\
             call_local_timeout\t120\n\
             call_max_calls\t\t4\n\
             audio_source\t\taufile,{audio_in}\n\
             audio_buffer\t\t20-160\n\
             rtp_ports\t\t{rtp_first}-{rtp_last}\n\
             rtp_timeout\t\t0\n\
             rtcp_mux\t\tno\n\
             jitter_buffer_delay\t1-10\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module\t\t\tsndfile.so\n\
             module_tmp\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             module_app\t\tctrl_tcp.so\n\
             ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}\n\
             snd_path\t\t{recordings}\n",
            audio_in = audio_in.display(),
            recordings = recordings.display(),
        );
        fs::write(dir.path().join("config"), config)?;

        let answermode = if opts.auto_answer { "auto" } else { "manual" };
        let account = match opts.registrar {
            Some(registrar) => format!(
                "<sip:{user}@{registrar}>;auth_pass={password};regint=300;answermode={answermode};audio_codecs=PCMA,PCMU\n",
                user = opts.user,
                password = opts.password,
            ),
            None => format!(
                "<sip:{user}@127.0.0.1:{sip_port}>;regint=0;answermode={answermode};audio_codecs=PCMA,PCMU\n",
                user = opts.user,
            ),
        };
        fs::write(dir.path().join("accounts"), account)?;
        fs::write(dir.path().join("contacts"), "")?;

        let log = File::create(dir.path().join("baresip.log"))?;
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("start baresip (is baresip-core installed?): {e}"),
                )
            })?;

        // ctrl_tcp accepts once baresip is up.
        let deadline = Instant::now() + Duration::from_secs(10);
        let ctrl = loop {
            match TcpStream::connect((Ipv4Addr::LOCALHOST, ctrl_port)) {
                Ok(stream) => break stream,
                Err(e) => {
                    let exited = matches!(child.try_wait(), Ok(Some(_)));
                    if exited || Instant::now() >= deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        let log =
                            fs::read_to_string(dir.path().join("baresip.log")).unwrap_or_default();
                        return Err(io::Error::other(format!(
                            "baresip did not start ({e}); its log:\n{log}"
                        )));
                    }
                    thread::sleep(Duration::from_millis(20));
                }
            }
        };

        let events = Arc::new(Mutex::new(Vec::new()));
        let (responses_tx, responses) = mpsc::channel();
        let reader = ctrl.try_clone()?;
        let reader_events = Arc::clone(&events);
        thread::spawn(move || read_messages(reader, &reader_events, &responses_tx));

        Ok(Baresip {
            child: Some(child),
            dir,
            ctrl: Mutex::new(ctrl),
            responses: Mutex::new(responses),
            events,
            sip_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, sip_port)),
            user: opts.user,
            token: Mutex::new(0),
        })
    }

    /// Where baresip takes SIP (UDP and TCP) on 127.0.0.1.
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    /// A URI that reaches this phone directly: `sip:USER@127.0.0.1:PORT`. (baresip 1.0 takes a request
    /// whose user part is its account's user or its own contact user `USER-0x...`; any other user gets
    /// 404.)
    pub fn uri(&self) -> String {
        format!("sip:{}@{}", self.user, self.sip_addr)
    }

    /// Sends a ctrl_tcp command (`"dial"`, `"hangup"`, `"accept"`, `"reginfo"`, `"sndcode"`, ...) and
    /// returns its response text, or the error text if baresip answered `ok: false`.
    pub fn command(&self, command: &str, params: Option<&str>) -> Result<String, String> {
        let token = {
            let mut t = self.token.lock().unwrap_or_else(|e| e.into_inner());
            *t += 1;
            format!("kefu-{}", *t)
        };
        let mut json = format!(
            "{{\"command\":{},\"token\":{}",
            json_string(command),
            json_string(&token)
        );
        if let Some(p) = params {
            json.push_str(&format!(",\"params\":{}", json_string(p)));
        }
        json.push('}');
        let frame = format!("{}:{},", json.len(), json);
        let responses = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        self.ctrl
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(frame.as_bytes())
            .map_err(|e| format!("ctrl_tcp write: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match responses.recv_timeout(left) {
                Ok(r) if r.get("token").and_then(Json::as_str) == Some(token.as_str()) => {
                    let data = r
                        .get("data")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string();
                    return if r.get("ok").and_then(Json::as_bool) == Some(true) {
                        Ok(data)
                    } else {
                        Err(data)
                    };
                }
                Ok(_) => continue, // the response to an earlier command that timed out
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no response to {command} within 10 s"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("ctrl_tcp connection closed".to_string());
                }
            }
        }
    }

    fn must(&self, command: &str, params: Option<&str>) {
        if let Err(e) = self.command(command, params) {
            panic!(
                "baresip {command} {}: {e}\n{}",
                params.unwrap_or(""),
                self.log()
            );
        }
    }

    /// Places a call (`dial`); the outcome arrives as events (CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED).
    pub fn dial(&self, uri: &str) {
        self.must("dial", Some(uri));
    }

    /// Answers the ringing incoming call (`accept`), for `auto_answer: false`.
    pub fn answer(&self) {
        self.must("accept", None);
    }

    /// Hangs up the current call (`hangup`): BYE, or CANCEL while it rings, or a rejection if incoming.
    pub fn hangup(&self) {
        self.must("hangup", None);
    }

    /// Sends DTMF digits (RFC 4733 telephone-event), one `sndcode` per digit, 250 ms apart.
    pub fn send_dtmf(&self, digits: &str) {
        for d in digits.chars() {
            self.must("sndcode", Some(&d.to_string()));
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until the account is registered (a REGISTER_OK event, or `reginfo` reporting OK).
    pub fn wait_registered(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count_events("REGISTER_OK") > 0 {
                return true;
            }
            // REGISTER_OK may have come before the control connection: ask.
            if let Ok(info) = self.command("reginfo", None)
                && strip_ansi(&info).contains(" OK ")
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a call has been established (at least one CALL_ESTABLISHED event so far).
    pub fn wait_established(&self, timeout: Duration) -> bool {
        self.wait_event("CALL_ESTABLISHED", 1, timeout)
    }

    /// Waits until a call has closed (at least one CALL_CLOSED event so far).
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        self.wait_event("CALL_CLOSED", 1, timeout)
    }

    /// Waits until at least `count` events of `event_type` (e.g. "CALL_INCOMING") have arrived.
    pub fn wait_event(&self, event_type: &str, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count_events(event_type) >= count {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn count_events(&self, event_type: &str) -> usize {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events
            .iter()
            .filter(|e| e.split(' ').next() == Some(event_type))
            .count()
    }

    /// The events so far, oldest first, as "TYPE PARAM": "CALL_INCOMING sip:kefu@127.0.0.1:5060",
    /// "CALL_ESTABLISHED sip:...", "CALL_DTMF_START 5", "CALL_CLOSED Connection reset by peer",
    /// "REGISTER_OK 200 OK", ...
    pub fn events(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The WAV file (8 kHz mono 16-bit) of the audio received in the latest call, as decoded: sndfile's
    /// `dump-<time>-dec.wav`. It grows while the call lasts and is complete once the call has closed.
    /// A path that does not exist if no call has had audio yet.
    pub fn recording(&self) -> PathBuf {
        self.latest_dump("-dec.wav")
    }

    /// The WAV file of the audio sent in the latest call (sndfile's `dump-<time>-enc.wav`).
    pub fn sent_audio(&self) -> PathBuf {
        self.latest_dump("-enc.wav")
    }

    fn latest_dump(&self, suffix: &str) -> PathBuf {
        let dir = self.dir.path().join("recordings");
        let mut dumps: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        dumps.retain(|p| p.to_string_lossy().ends_with(suffix));
        dumps.sort(); // dump-YYYY-MM-DD-hh-mm-ss-...: names sort by time
        dumps
            .pop()
            .unwrap_or_else(|| dir.join(format!("none{suffix}")))
    }

    /// baresip's configuration directory (config, accounts, baresip.log, recordings/).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// baresip's console output so far (for assertion messages).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // "quit" lets baresip hang up, unregister and close its WAV files; kill it if that takes too long.
        if let Ok(mut ctrl) = self.ctrl.lock() {
            let quit = "{\"command\":\"quit\"}";
            let _ = ctrl.write_all(format!("{}:{},", quit.len(), quit).as_bytes());
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        if let Ok(ctrl) = self.ctrl.lock() {
            let _ = ctrl.shutdown(Shutdown::Both);
        }
    }
}

/// Repeats the samples of `input` (8 kHz mono 16-bit WAV; empty path: silence) up to 120 s into `output`.
fn write_looped(input: &Path, output: &Path) -> io::Result<()> {
    let total = RATE as usize * AUDIO_IN_SECONDS;
    let samples: Vec<i16> = if input.as_os_str().is_empty() {
        vec![0; total]
    } else {
        let wav = read_wav(input)?;
        if wav.rate != RATE || wav.channels != 1 || wav.samples.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: baresip's aufile needs 8 kHz mono 16-bit audio, this is {} Hz, {} channels, {} samples",
                    input.display(),
                    wav.rate,
                    wav.channels,
                    wav.samples.len()
                ),
            ));
        }
        wav.samples.iter().copied().cycle().take(total).collect()
    };
    write_wav(output, RATE, &samples)
}

/// Reads ctrl_tcp netstrings (`LEN:JSON,`): events go to `events` as "TYPE PARAM", responses to `responses`.
fn read_messages(
    mut stream: TcpStream,
    events: &Mutex<Vec<String>>,
    responses: &mpsc::Sender<Json>,
) {
    let mut buf: VecDeque<u8> = VecDeque::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend(&chunk[..n]);
        loop {
            let bytes = buf.make_contiguous();
            let Some(colon) = bytes.iter().position(|&b| b == b':') else {
                break;
            };
            let Some(len) = std::str::from_utf8(&bytes[..colon])
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
            else {
                return; // not a netstring stream: give up rather than misread
            };
            if bytes.len() < colon + 1 + len + 1 {
                break;
            }
            let payload = String::from_utf8_lossy(&bytes[colon + 1..colon + 1 + len]).into_owned();
            buf.drain(..colon + 1 + len + 1);
            let Some(msg) = Json::parse(&payload) else {
                continue;
            };
            if msg.get("event").is_some() {
                let ty = msg.get("type").and_then(Json::as_str).unwrap_or("?");
                let param = msg.get("param").and_then(Json::as_str).unwrap_or("");
                let line = if param.is_empty() {
                    ty.to_string()
                } else {
                    format!("{ty} {param}")
                };
                events.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            } else if msg.get("response").is_some() {
                let _ = responses.send(msg);
            }
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Just enough JSON for baresip's ctrl_tcp messages.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Option<Json> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        (p.i == p.s.len()).then_some(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            // baresip 1.0 documents "event": "true" as a string in places
            Json::Str(s) => s.parse().ok(),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Some(Json::Object(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return None;
                    }
                    fields.push((key, self.value()?));
                    self.ws();
                    if self.eat("}") {
                        return Some(Json::Object(fields));
                    }
                    if !self.eat(",") {
                        return None;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    if self.eat("]") {
                        return Some(Json::Array(items));
                    }
                    if !self.eat(",") {
                        return None;
                    }
                }
            }
            b'"' => self.string().map(Json::Str),
            b't' => self.eat("true").then_some(Json::Bool(true)),
            b'f' => self.eat("false").then_some(Json::Bool(false)),
            b'n' => self.eat("null").then_some(Json::Null),
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()?
                    .parse()
                    .ok()
                    .map(Json::Number)
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat("\"") {
            return None;
        }
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?).unwrap_or('\u{fffd}')
                        }
                        other => other as char,
                    };
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
                c => out.push(c),
            }
        }
    }
}
