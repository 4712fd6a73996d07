//! A throwaway network namespace that has only loopback, and threads that live inside it.
//!
//! The hostile-input tests run the engine and the attacker in such a namespace, so a reply the engine
//! sends to a forged address (198.51.100.7, say) has no route and goes nowhere. A thread enters the
//! namespace with setns(2) (`nix::sched::setns`, no unsafe code); sockets it creates, threads and
//! processes it starts (a tokio runtime's workers, `ip netns exec ... sipp`) are in the namespace too.
//! The namespace is deleted when the [`Netns`] is dropped, also when a test panics; namespaces left
//! behind by a killed test process are deleted by the next run.
#![allow(dead_code)]

use std::fs::File;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

const PREFIX: &str = "kefu-hostile-";

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct Netns {
    name: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    match Command::new("ip").args(args).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("`ip {}` could not run: {e}", args.join(" "))),
    }
}

fn uid() -> String {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// Deletes `kefu-hostile-<pid>-<n>` namespaces whose process is gone (a test run killed mid-way).
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

impl Netns {
    /// Creates `kefu-hostile-<pid>-<n>` with loopback up. Panics with the reason when that is impossible
    /// (these tests need root, or CAP_SYS_ADMIN and CAP_NET_ADMIN, and iproute2): they must not pass
    /// without having run.
    pub fn new() -> Netns {
        remove_stale();
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        if let Err(e) = ip(&["netns", "add", &name]) {
            panic!(
                "SKIPPED FOR A REASON, COUNTED AS FAILED: cannot create the network namespace {name} the \
                 hostile-input tests run in (uid {}; they need root or CAP_SYS_ADMIN + CAP_NET_ADMIN, and \
                 iproute2): {e}",
                uid()
            );
        }
        let ns = Netns { name };
        if let Err(e) = ip(&["netns", "exec", &ns.name, "ip", "link", "set", "lo", "up"]) {
            panic!("loopback of {} does not come up: {e}", ns.name);
        }
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts a thread inside the namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/run/netns/{}", self.name);
        let ns_name = self.name.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                setns(&file, CloneFlags::CLONE_NEWNET)
                    .unwrap_or_else(|e| panic!("setns into {ns_name}: {e}"));
                drop(file);
                assert!(
                    is_current(&path),
                    "this thread is in the namespace {ns_name}"
                );
                f()
            })
            .expect("spawn a thread")
    }

    /// Runs `f` on a thread inside the namespace and returns its result (its panic, if it panics).
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        match self.spawn("in-netns", f).join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// `ip netns exec <name> <program>`: a command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

/// Whether the calling thread's network namespace is the one at `path` (same nsfs inode).
fn is_current(path: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata("/proc/thread-self/ns/net"),
        std::fs::metadata(path),
    ) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("could not delete the network namespace {}: {e}", self.name);
        }
    }
}
