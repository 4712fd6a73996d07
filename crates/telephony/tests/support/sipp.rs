//! SIPp (Debian package sip-tester, binary `sipp`) as a test peer.
//!
//! Every run gets its own temporary directory (its working directory, with SIPp's statistics, error,
//! screen and message traces, and links to the media files next to the scenario), its own SIP and media
//! ports, and is bound to 127.0.0.1 for signalling and media. The process is killed when its handle is
//! dropped, so a failing test leaves no SIPp behind.

use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::ports::{free_rtp_range, free_sip_port, tcp_listening, udp_bound};

/// A SIPp run to configure; `run` or `spawn` starts it.
#[derive(Debug, Clone)]
pub struct Sipp {
    scenario: ScenarioArg,
    remote: Option<SocketAddr>,
    service: Option<String>,
    local_port: Option<u16>,
    media_port: Option<u16>,
    calls: u32,
    rate: Option<u32>,
    tcp: bool,
    auth: Option<(String, String)>,
    timeout: Duration,
    call_duration: Option<Duration>,
    trace_msg: Option<bool>,
    args: Vec<String>,
}

#[derive(Debug, Clone)]
enum ScenarioArg {
    File(PathBuf),
    Builtin(String),
}

impl Sipp {
    /// A run of a scenario file. A bare file name (`"cancel.xml"`) is taken from tests/sipp/.
    pub fn new(scenario: impl AsRef<Path>) -> Self {
        let path = scenario.as_ref();
        let path = if path.components().count() == 1 {
            super::scenario(&path.to_string_lossy())
        } else {
            path.to_path_buf()
        };
        assert!(path.is_file(), "no SIPp scenario {}", path.display());
        Self::with(ScenarioArg::File(path))
    }

    /// A run of one of SIPp's built-in scenarios (`-sn`): "uac", "uas", "regexp", "branchc", ...
    pub fn builtin(name: &str) -> Self {
        Self::with(ScenarioArg::Builtin(name.to_string()))
    }

    fn with(scenario: ScenarioArg) -> Self {
        Sipp {
            scenario,
            remote: None,
            service: None,
            local_port: None,
            media_port: None,
            calls: 1,
            rate: None,
            tcp: false,
            auth: None,
            timeout: Duration::from_secs(60),
            call_duration: None,
            trace_msg: None,
            args: Vec::new(),
        }
    }

    /// Where to send calls (client scenarios); without it SIPp is a server waiting on `local_port`.
    pub fn remote(mut self, addr: SocketAddr) -> Self {
        self.remote = Some(addr);
        self
    }

    /// `-s`: the user part of the Request-URI (the number dialled, the user registering).
    pub fn service(mut self, s: &str) -> Self {
        self.service = Some(s.to_string());
        self
    }

    /// `-p`: SIPp's SIP port on 127.0.0.1 (default: a free one, see `SippChild::sip_addr`).
    pub fn local_port(mut self, p: u16) -> Self {
        self.local_port = Some(p);
        self
    }

    /// `-mp`: SIPp's media port (it binds it and port + 2; default: a free even port with 3 free above).
    pub fn media_port(mut self, p: u16) -> Self {
        self.media_port = Some(p);
        self
    }

    /// `-m`: the number of calls after which SIPp exits (default 1). A server counts incoming calls.
    pub fn calls(mut self, n: u32) -> Self {
        self.calls = n;
        self
    }

    /// `-r`: new calls per second.
    pub fn rate(mut self, cps: u32) -> Self {
        self.rate = Some(cps);
        self
    }

    /// `-t t1`: SIP over one TCP connection instead of UDP.
    pub fn tcp(mut self) -> Self {
        self.tcp = true;
        self
    }

    /// `-au`/`-ap`: digest credentials for `[authentication]` in the scenario.
    pub fn auth(mut self, user: &str, pass: &str) -> Self {
        self.auth = Some((user.to_string(), pass.to_string()));
        self
    }

    /// `-timeout` with `-timeout_error`: the whole run fails after this long (default 60 s); the harness
    /// kills SIPp if it is still running 10 s later.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// `-d`: the length of every `<pause/>` without `milliseconds` (the call duration of bench_*.xml, the
    /// ringing-to-BYE time of uas_answer_hangup.xml).
    pub fn call_duration(mut self, d: Duration) -> Self {
        self.call_duration = Some(d);
        self
    }

    /// Whether to trace every SIP message (`-trace_msg`); on by default for runs of up to 10 calls, and
    /// the end of that trace goes into `SippRun::log`.
    pub fn trace_messages(mut self, on: bool) -> Self {
        self.trace_msg = Some(on);
        self
    }

    /// Any other SIPp argument, passed as is (call once per word: `.arg("-l").arg("100")`).
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Starts SIPp and waits for it to end.
    pub fn run(self) -> SippRun {
        self.spawn().wait()
    }

    /// Starts SIPp and returns once its SIP port is bound (a server is then ready for calls).
    pub fn spawn(self) -> SippChild {
        let dir = tempfile::Builder::new()
            .prefix("kefu-sipp-")
            .tempdir()
            .expect("temporary directory for SIPp");
        let local_port = self.local_port.unwrap_or_else(|| free_sip_port(false));
        let media_port = self.media_port.unwrap_or_else(|| free_rtp_range(4).0);
        let trace_msg = self.trace_msg.unwrap_or(self.calls <= 10);

        let mut cmd = Command::new("sipp");
        match &self.scenario {
            ScenarioArg::File(path) => {
                cmd.arg("-sf").arg(path);
                link_media(path, dir.path());
            }
            ScenarioArg::Builtin(name) => {
                cmd.arg("-sn").arg(name);
            }
        }
        if let Some(remote) = self.remote {
            cmd.arg(remote.to_string());
        }
        cmd.args(["-i", "127.0.0.1", "-mi", "127.0.0.1"]);
        cmd.arg("-p").arg(local_port.to_string());
        cmd.arg("-mp").arg(media_port.to_string());
        cmd.arg("-m").arg(self.calls.to_string());
        if let Some(rate) = self.rate {
            cmd.arg("-r").arg(rate.to_string());
        }
        if self.tcp {
            cmd.args(["-t", "t1"]);
        }
        if let Some(service) = &self.service {
            cmd.arg("-s").arg(service);
        }
        if let Some((user, pass)) = &self.auth {
            cmd.arg("-au").arg(user).arg("-ap").arg(pass);
        }
        if let Some(d) = self.call_duration {
            cmd.arg("-d").arg(d.as_millis().to_string());
        }
        let timeout_s = self.timeout.as_secs().max(1);
        cmd.arg("-timeout")
            .arg(format!("{timeout_s}s"))
            .arg("-timeout_error");
        cmd.arg("-nostdin");
        let file = |name: &str| dir.path().join(name);
        cmd.arg("-trace_stat").arg("-stf").arg(file("stat.csv"));
        cmd.arg("-trace_err")
            .arg("-error_file")
            .arg(file("errors.log"));
        cmd.arg("-trace_screen")
            .arg("-screen_file")
            .arg(file("screen.log"));
        if trace_msg {
            cmd.arg("-trace_msg")
                .arg("-message_file")
                .arg(file("messages.log"));
        }
        cmd.args(&self.args);
        cmd.current_dir(dir.path());
        cmd.stdin(Stdio::null());
        cmd.stdout(File::create(file("stdout.log")).expect("SIPp stdout file"));
        cmd.stderr(File::create(file("stderr.log")).expect("SIPp stderr file"));
        let command_line = format!("{cmd:?}");
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start sipp (is sip-tester installed?): {e}"));

        // Wait until SIPp has bound its SIP port, so a server is ready when spawn returns.
        let ready = Instant::now() + Duration::from_secs(10);
        while Instant::now() < ready {
            let bound = if self.tcp {
                tcp_listening(local_port)
            } else {
                udp_bound(local_port)
            };
            if bound || matches!(child.try_wait(), Ok(Some(_))) {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }

        SippChild {
            child: Some(child),
            dir,
            command_line,
            sip_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, local_port)),
            media_port,
            calls: self.calls,
            deadline: Instant::now() + self.timeout + Duration::from_secs(10),
        }
    }
}

/// Links the files next to a scenario (pcap and raw audio it plays) into SIPp's working directory:
/// SIPp 3.6 looks for `play_pcap_audio` files next to the scenario but opens `rtp_stream` files relative
/// to its working directory.
fn link_media(scenario: &Path, dir: &Path) {
    let Some(parent) = scenario.parent() else {
        return;
    };
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if path.is_file() && !matches!(ext, "xml" | "py" | "md") {
            let _ = std::os::unix::fs::symlink(&path, dir.join(entry.file_name()));
        }
    }
}

/// A running SIPp. Dropping it kills the process.
#[derive(Debug)]
pub struct SippChild {
    child: Option<Child>,
    dir: tempfile::TempDir,
    command_line: String,
    sip_addr: SocketAddr,
    media_port: u16,
    calls: u32,
    deadline: Instant,
}

impl SippChild {
    /// SIPp's SIP address (127.0.0.1 and its `-p` port): where to send calls to a SIPp server.
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    /// SIPp's `-mp` port (the port in the SDP it sends for `[media_port]`).
    pub fn media_port(&self) -> u16 {
        self.media_port
    }

    /// SIPp's working directory (traces).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether SIPp is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits for SIPp to end (killing it 10 s after its own timeout) and collects the results.
    pub fn wait(mut self) -> SippRun {
        let mut child = self.child.take().expect("SIPp child");
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= self.deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("waiting for sipp: {e}"),
            }
        };
        self.collect(
            status.and_then(|s| s.code()).unwrap_or(-1),
            status.is_none(),
        )
    }

    /// Kills SIPp now and collects what it recorded.
    pub fn kill(mut self) -> SippRun {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.collect(-1, false)
    }

    fn collect(&self, exit_code: i32, killed: bool) -> SippRun {
        let read = |name: &str| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        let stats = parse_stats(&read("stat.csv"));
        let mut log = format!("$ {}\n", self.command_line);
        if killed {
            log.push_str("sipp did not end in time and was killed\n");
        }
        log.push_str(&format!("exit code {exit_code}\n"));
        for (name, limit) in [
            ("errors.log", 8000),
            ("stderr.log", 4000),
            ("screen.log", 6000),
            ("messages.log", 12000),
        ] {
            let text = read(name);
            if !text.trim().is_empty() {
                log.push_str(&format!("--- {name} ---\n{}\n", tail(&text, limit)));
            }
        }
        if read("screen.log").trim().is_empty() {
            log.push_str(&format!(
                "--- stdout.log ---\n{}\n",
                tail(&read("stdout.log"), 4000)
            ));
        }
        SippRun {
            exit_code,
            successful: stats.successful,
            failed: stats.failed,
            retransmissions: stats.retransmissions,
            expected_calls: u64::from(self.calls),
            log,
            messages: read("messages.log"),
        }
    }
}

impl Drop for SippChild {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a SIPp run did.
#[derive(Debug, Clone)]
pub struct SippRun {
    /// SIPp's exit code: 0 all calls succeeded, 1 some failed, 97 stopped by command, 99 no call
    /// processed, 255/254 fatal (bad scenario, port in use); -1 killed by the harness.
    pub exit_code: i32,
    /// SuccessfulCall(C), FailedCall(C) and Retransmissions(C) of SIPp's statistics file.
    pub successful: u64,
    pub failed: u64,
    pub retransmissions: u64,
    /// The `-m` the run was started with.
    pub expected_calls: u64,
    /// The command line, exit code, SIPp's error log, final screens and the end of the message trace.
    pub log: String,
    /// SIPp's whole `-trace_msg` trace (empty if tracing was off).
    pub messages: String,
}

impl SippRun {
    /// Whether SIPp exited 0 with every expected call successful and none failed.
    pub fn is_ok(&self) -> bool {
        self.exit_code == 0 && self.failed == 0 && self.successful == self.expected_calls
    }

    /// Panics with the log unless `is_ok`.
    pub fn assert_ok(&self) {
        assert!(
            self.is_ok(),
            "SIPp run failed: exit code {}, {} successful of {} calls, {} failed\n{}",
            self.exit_code,
            self.successful,
            self.expected_calls,
            self.failed,
            self.log
        );
    }

    /// The SIP messages SIPp sent and received, in order, each as its text (start line, headers, body;
    /// lines end in CRLF).
    pub fn sip_messages(&self) -> Vec<&str> {
        self.messages
            .split("\n-----------------------------------------------")
            .filter_map(|block| {
                block
                    .split_once("\n\n")
                    .map(|(_, msg)| msg.trim_end_matches('\n'))
            })
            .filter(|msg| !msg.trim().is_empty())
            .collect()
    }

    /// Panics with the log unless at least one call failed (for negative tests).
    pub fn assert_failed(&self) {
        assert!(
            self.exit_code != 0 && self.failed > 0,
            "SIPp run was expected to fail: exit code {}, {} successful, {} failed\n{}",
            self.exit_code,
            self.successful,
            self.failed,
            self.log
        );
    }
}

#[derive(Default)]
struct Stats {
    successful: u64,
    failed: u64,
    retransmissions: u64,
}

/// The last line of SIPp's `-trace_stat` file (semicolon-separated, header line first).
fn parse_stats(csv: &str) -> Stats {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Stats::default();
    };
    let Some(last) = lines.next_back() else {
        return Stats::default();
    };
    let names: Vec<&str> = header.split(';').collect();
    let values: Vec<&str> = last.split(';').collect();
    let get = |name: &str| {
        names
            .iter()
            .position(|n| n.trim() == name)
            .and_then(|i| values.get(i))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    Stats {
        successful: get("SuccessfulCall(C)"),
        failed: get("FailedCall(C)"),
        retransmissions: get("Retransmissions(C)"),
    }
}

fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
