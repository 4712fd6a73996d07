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
];

/// Flags override everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpOverride>,
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
            },
        )
        .unwrap();
        assert_eq!(
            (c.data_dir.to_str().unwrap(), c.http.listen.port()),
            ("/tmp/x", 9001)
        );
        assert!(c.database_url().starts_with("sqlite:///tmp/x/kefu.db"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
