//! Configuration: defaults, then a TOML file, then `KEFU_*` environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where kefu keeps its files (the SQLite database, later recordings and faxes).
    pub data_dir: PathBuf,
    pub http: Http,
    pub database: DatabaseConfig,
    pub region: Region,
    pub auth: Auth,
    pub log: Log,
    pub sip: Sip,
    pub work_orders: WorkOrders,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkOrders {
    /// Printed at the top of a work order.
    pub company_name: String,
    /// CJK font files or directories for printed work orders; empty: the system's (Debian's
    /// fonts-noto-cjk or fonts-wqy-microhei).
    pub fonts: Vec<PathBuf>,
    /// Largest attachment (photo, document), in MiB.
    pub max_attachment_mib: usize,
    /// How often the SLA sweep looks for reminders, breaches and reassignments, in seconds.
    pub sla_sweep_secs: u64,
}

impl Default for WorkOrders {
    fn default() -> Self {
        WorkOrders {
            company_name: "宁波燃气集团 客户服务中心".into(),
            fonts: Vec::new(),
            max_attachment_mib: 10,
            sla_sweep_secs: 15,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sip {
    /// Answer SIP at all (`false`: HTTP only).
    pub enabled: bool,
    /// SIP over UDP and TCP on this address.
    pub listen: SocketAddr,
    /// The address phones and carriers reach kefu at, for Contact and SDP when `listen` is 0.0.0.0.
    pub public_ip: Option<std::net::IpAddr>,
    /// RTP port range (inclusive); each call leg takes an even port and the odd one above for RTCP.
    pub rtp_min: u16,
    pub rtp_max: u16,
    /// Digest realm. Extension passwords are stored as hashes that include it: changing it means
    /// setting every extension's password again.
    pub realm: String,
    /// Most simultaneous call legs; more calls get 503.
    pub max_calls: usize,
    /// Prompts: `<prompts_dir>/<language>/<name>.wav`, then `<prompts_dir>/<name>.wav`.
    pub prompts_dir: PathBuf,
    pub language: String,
    /// Empty: `<data_dir>/recordings`.
    pub recordings_dir: PathBuf,
    /// Record calls bridged to extensions (both directions, WAV).
    pub record_calls: bool,
    /// Sources (IP or CIDR) never rate-limited or banned, besides the trunks' allow-lists.
    pub trusted: Vec<String>,
    /// An outbound leg unanswered after this many seconds is cancelled.
    pub ring_timeout_secs: u64,
    /// The number customers see when kefu calls them back (a queue callback): the service hotline.
    pub callback_caller_id: String,
}

impl Default for Sip {
    fn default() -> Self {
        Sip {
            enabled: true,
            listen: "0.0.0.0:5060".parse().expect("static address"),
            public_ip: None,
            rtp_min: 20000,
            rtp_max: 29999,
            realm: "kefu".into(),
            max_calls: 2000,
            prompts_dir: PathBuf::from("assets/prompts"),
            language: "zh-CN".into(),
            recordings_dir: PathBuf::new(),
            record_calls: false,
            trusted: Vec::new(),
            ring_timeout_secs: 60,
            callback_caller_id: "96777".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub listen: SocketAddr,
    /// Mark the session cookie Secure: set when kefu is served over HTTPS (e.g. behind a TLS proxy).
    pub secure_cookies: bool,
    pub max_import_mib: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Empty: embedded SQLite at `<data_dir>/kefu.db`. Or `postgres://user@host:5432/db`.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Region {
    /// Given to local landline numbers written without an area code.
    pub area_code: String,
    /// The deployment's offset from UTC, for "today" (bill due dates).
    pub utc_offset: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    pub session_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info` or `kefu=debug,info`. `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            http: Http::default(),
            database: DatabaseConfig::default(),
            region: Region::default(),
            auth: Auth::default(),
            log: Log::default(),
            sip: Sip::default(),
            work_orders: WorkOrders::default(),
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: "127.0.0.1:8080".parse().expect("static address"),
            secure_cookies: false,
            max_import_mib: 200,
        }
    }
}

impl Default for Region {
    fn default() -> Self {
        Region {
            area_code: "0574".into(),
            utc_offset: "+08:00".into(),
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth { session_hours: 12 }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

/// The environment variables kefu reads (`KEFU_` + the upper-cased key; `__` separates sections).
/// Others with the prefix (for example the test suite's `KEFU_TEST_*`) are not configuration.
const ENV_KEYS: &[&str] = &[
    "data_dir",
    "http__listen",
    "http__secure_cookies",
    "http__max_import_mib",
    "database__url",
    "region__area_code",
    "region__utc_offset",
    "auth__session_hours",
    "log__format",
    "log__level",
    "sip__enabled",
    "sip__listen",
    "sip__public_ip",
    "sip__rtp_min",
    "sip__rtp_max",
    "sip__realm",
    "sip__max_calls",
    "sip__prompts_dir",
    "sip__language",
    "sip__recordings_dir",
    "sip__record_calls",
    "sip__ring_timeout_secs",
    "sip__callback_caller_id",
    "work_orders__company_name",
    "work_orders__max_attachment_mib",
    "work_orders__sla_sweep_secs",
];

/// Flags override everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip: Option<SipOverride>,
}

#[derive(Debug, Serialize)]
pub struct SipOverride {
    pub listen: SocketAddr,
}

#[derive(Debug, Serialize)]
pub struct HttpOverride {
    pub listen: SocketAddr,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                bail!("config file {} does not exist", f.display());
            }
            fig = fig.merge(Toml::file_exact(f));
        }
        let env = Env::prefixed("KEFU_")
            .filter(|k| ENV_KEYS.contains(&k.as_str().to_ascii_lowercase().as_str()))
            .split("__");
        fig = fig.merge(env).merge(Serialized::defaults(overrides));
        let config: Config = fig.extract().context("invalid configuration")?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        kefu_domain::AreaCode::parse(&self.region.area_code)
            .map_err(|e| anyhow::anyhow!("region.area_code: {}", e.reason))?;
        self.utc_offset()?;
        if !(1..=24 * 30).contains(&self.auth.session_hours) {
            bail!("auth.session_hours must be between 1 and 720");
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            bail!("log.format must be text or json");
        }
        if self.sip.rtp_min < 1024 || self.sip.rtp_max < self.sip.rtp_min.saturating_add(3) {
            bail!("sip.rtp_min must be at least 1024 and sip.rtp_max at least rtp_min + 3");
        }
        if self.sip.realm.trim().is_empty() || self.sip.realm.contains(['"', '\\']) {
            bail!("sip.realm must be a non-empty name without quotes or backslashes");
        }
        if self.sip.max_calls == 0 {
            bail!("sip.max_calls must be at least 1");
        }
        if !(5..=600).contains(&self.sip.ring_timeout_secs) {
            bail!("sip.ring_timeout_secs must be between 5 and 600");
        }
        self.sip_trusted()?;
        Ok(())
    }

    pub fn utc_offset(&self) -> anyhow::Result<chrono::FixedOffset> {
        self.region.utc_offset.parse().map_err(|_| {
            anyhow::anyhow!(
                "region.utc_offset must look like +08:00, not {:?}",
                self.region.utc_offset
            )
        })
    }

    pub fn sip_trusted(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        self.sip
            .trusted
            .iter()
            .map(|t| {
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| anyhow::anyhow!("sip.trusted: {t:?} is not an IP address or CIDR"))
            })
            .collect()
    }

    /// The telephony engine's settings.
    pub fn telephony(&self) -> anyhow::Result<kefu_telephony::TelephonyConfig> {
        let mut t = kefu_telephony::TelephonyConfig::new(self.sip.listen);
        t.public_ip = self.sip.public_ip;
        t.rtp_ports = (self.sip.rtp_min, self.sip.rtp_max);
        t.realm = self.sip.realm.clone();
        t.max_calls = self.sip.max_calls;
        t.prompts_dir = self.sip.prompts_dir.clone();
        t.language = self.sip.language.clone();
        t.recordings_dir = if self.sip.recordings_dir.as_os_str().is_empty() {
            self.data_dir.join("recordings")
        } else {
            self.sip.recordings_dir.clone()
        };
        t.trusted = self.sip_trusted()?;
        t.ring_timeout = std::time::Duration::from_secs(self.sip.ring_timeout_secs);
        Ok(t)
    }

    pub fn database_url(&self) -> String {
        if self.database.url.trim().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kefu.db").display()
            )
        } else {
            self.database.url.trim().to_string()
        }
    }

    pub fn api_settings(&self) -> anyhow::Result<kefu_api::Settings> {
        Ok(kefu_api::Settings {
            area: kefu_domain::AreaCode::parse(&self.region.area_code)
                .map_err(|e| anyhow::anyhow!(e.reason))?,
            utc_offset: self.utc_offset()?,
            session_ttl: chrono::TimeDelta::hours(self.auth.session_hours),
            secure_cookies: self.http.secure_cookies,
            max_import_bytes: self.http.max_import_mib * 1024 * 1024,
            sip_realm: self.sip.realm.clone(),
            max_attachment_bytes: self.work_orders.max_attachment_mib * 1024 * 1024,
            company_name: self.work_orders.company_name.clone(),
            font_paths: self.work_orders.fonts.clone(),
            prompts_dir: self.sip.prompts_dir.clone(),
            recordings_dir: self.telephony()?.recordings_dir,
            ..kefu_api::Settings::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_valid_and_holds_the_defaults() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../kefu.example.toml");
        let from_file: Config = Figment::from(Toml::file_exact(&example))
            .extract()
            .expect("example parses");
        let defaults = Config::default();
        assert_eq!(
            serde_json::to_value(&from_file).unwrap(),
            serde_json::to_value(&defaults).unwrap()
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = std::env::temp_dir().join(format!("kefu-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bad.toml");
        std::fs::write(&f, "[http]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n").unwrap();
        let err = Config::load(Some(&f), Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
        std::fs::write(&f, "[region]\narea_code = \"574\"\n").unwrap();
        assert!(
            format!(
                "{:#}",
                Config::load(Some(&f), Overrides::default()).unwrap_err()
            )
            .contains("area_code")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("kefu-config-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("kefu.toml");
        std::fs::write(
            &f,
            "data_dir = \"/srv/kefu\"\n[http]\nlisten = \"127.0.0.1:9000\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&f), Overrides::default()).unwrap();
        assert_eq!(
            (c.data_dir.to_str().unwrap(), c.http.listen.port()),
            ("/srv/kefu", 9000)
        );
        let c = Config::load(
            Some(&f),
            Overrides {
                data_dir: Some("/tmp/x".into()),
                http: Some(HttpOverride {
                    listen: "127.0.0.1:9001".parse().unwrap(),
                }),
                sip: Some(SipOverride {
                    listen: "127.0.0.1:5099".parse().unwrap(),
                }),
            },
        )
        .unwrap();
        assert_eq!(c.sip.listen.port(), 5099);
        assert_eq!(
            (c.data_dir.to_str().unwrap(), c.http.listen.port()),
            ("/tmp/x", 9001)
        );
        assert!(c.database_url().starts_with("sqlite:///tmp/x/kefu.db"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
