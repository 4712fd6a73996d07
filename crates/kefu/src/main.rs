//! `kefu`: the contact-center platform in one binary.

use kefu::{config, seed};

/// mimalloc: imports and searches allocate heavily in short bursts (a fifth of an import's time went to
/// glibc malloc/free in a profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kefu_import::{FileFormat, ImportKind};
use kefu_store::{Actor, Store};

use crate::config::{Config, HttpOverride, Overrides, SipOverride};

#[derive(Parser)]
#[command(
    name = "kefu",
    version,
    about = "kefu 客服 — contact center for utilities"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// TOML configuration file (see kefu.example.toml).
    #[arg(long, env = "KEFU_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for kefu's data (the SQLite database when no PostgreSQL URL is configured).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system: HTTP API and web app.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to serve HTTP on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        http: Option<std::net::SocketAddr>,
        /// Address to answer SIP on (UDP and TCP), e.g. 0.0.0.0:5060.
        #[arg(long)]
        sip: Option<std::net::SocketAddr>,
        /// Seed the demo tenant (organization, one user per role, 1,000 customers) if not there yet.
        #[arg(long)]
        demo: bool,
    },
    /// Import a billing-system export (CSV or XLSX) into the database.
    Import {
        #[command(flatten)]
        common: Common,
        /// customers or bills.
        kind: ImportKind,
        file: PathBuf,
        /// Import the good rows and report the bad ones (default: a file with bad rows imports nothing).
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// The system prompt set (espeak-ng and sox).
    Prompts {
        #[command(subcommand)]
        what: PromptsWhat,
    },
    /// Measure (see docs/benchmarks.md): caller-ID lookup and search, or CSV import throughput.
    Bench {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum PromptsWhat {
    /// Speak every catalog prompt whose `<prompts-dir>/<language>/<key>.wav` is missing (8 kHz mono).
    Generate {
        /// TOML configuration file (its `sip.prompts_dir` is the default directory).
        #[arg(long, env = "KEFU_CONFIG")]
        config: Option<PathBuf>,
        /// Where the prompts are (default: the configuration's `sip.prompts_dir`).
        #[arg(long)]
        prompts_dir: Option<PathBuf>,
        /// zh-CN, en or all.
        #[arg(long, default_value = "all")]
        language: String,
        /// Speak every prompt again, also those whose files exist.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Seed N customers (if fewer) and time caller-ID lookups and customer searches.
    Lookup {
        #[arg(long, default_value_t = 1_000_000)]
        customers: usize,
        #[arg(long, default_value_t = 10_000)]
        samples: usize,
    },
    /// Import N generated customers from CSV into the database and report rows per second.
    Import {
        #[arg(long, default_value_t = 200_000)]
        rows: usize,
    },
    /// Work orders: create + dispatch throughput, the overdue list among many orders, the SLA sweep.
    WorkOrders {
        #[command(subcommand)]
        what: kefu::bench::WorkOrderBench,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        match cli.command {
            Command::Serve {
                common,
                http,
                sip,
                demo,
            } => {
                let config = Config::load(
                    common.config.as_deref(),
                    Overrides {
                        data_dir: common.data_dir,
                        http: http.map(|listen| HttpOverride { listen }),
                        sip: sip.map(|listen| SipOverride { listen }),
                    },
                )?;
                init_logging(&config);
                serve(config, demo).await
            }
            Command::Import {
                common,
                kind,
                file,
                skip_invalid,
            } => {
                let config = Config::load(
                    common.config.as_deref(),
                    Overrides {
                        data_dir: common.data_dir,
                        http: None,
                        sip: None,
                    },
                )?;
                init_logging(&config);
                import(config, kind, file, skip_invalid).await
            }
            Command::Bench { common, what } => {
                let config = Config::load(
                    common.config.as_deref(),
                    Overrides {
                        data_dir: common.data_dir,
                        http: None,
                        sip: None,
                    },
                )?;
                let store = open_store(&config).await?;
                let today = chrono::Utc::now()
                    .with_timezone(&config.utc_offset()?)
                    .date_naive();
                match what {
                    BenchWhat::Lookup { customers, samples } => {
                        kefu::bench::lookup(&store, customers, samples, today).await?
                    }
                    BenchWhat::Import { rows } => kefu::bench::import(&store, rows, today).await?,
                    BenchWhat::WorkOrders { what } => {
                        kefu::bench::work_orders(&store, what, today, config.utc_offset()?).await?
                    }
                }
                store.close().await?;
                Ok(())
            }
            Command::Prompts {
                what:
                    PromptsWhat::Generate {
                        config,
                        prompts_dir,
                        language,
                        force,
                    },
            } => {
                let dir = match prompts_dir {
                    Some(d) => d,
                    None => {
                        Config::load(
                            config.as_deref(),
                            Overrides {
                                data_dir: None,
                                http: None,
                                sip: None,
                            },
                        )?
                        .sip
                        .prompts_dir
                    }
                };
                let languages = kefu::prompts::languages(&language)?;
                kefu::prompts::tools_available().map_err(anyhow::Error::msg)?;
                let report = tokio::task::spawn_blocking(move || {
                    kefu::prompts::generate(&dir, &languages, force, 2)
                })
                .await?;
                println!(
                    "prompts: {} made, {} already there, {} failed",
                    report.made,
                    report.kept,
                    report.failed.len()
                );
                for (file, why) in &report.failed {
                    eprintln!("prompts: {}: {why}", file.display());
                }
                anyhow::ensure!(report.failed.is_empty(), "some prompts were not made");
                Ok(())
            }
            Command::Openapi => {
                println!("{}", kefu_api::openapi().to_pretty_json()?);
                Ok(())
            }
        }
    })
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let url = config.database_url();
    Store::connect(&url)
        .await
        .with_context(|| format!("opening the database {}", redact(&url)))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let interrupted = store.fail_interrupted_import_jobs().await?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "import jobs interrupted by the last stop were marked failed"
        );
    }
    let settings = config.api_settings()?;
    let state = kefu_api::AppState::new(store.clone(), settings);
    if demo
        && seed::demo_in_realm(
            &store,
            state.today(),
            seed::DEMO_CUSTOMERS,
            &config.sip.realm,
        )
        .await?
    {
        eprintln!(
            "kefu: demo tenant seeded — sign in as admin, supervisor, agent, site or auditor with password {}",
            kefu_demo::DEMO_PASSWORD
        );
    }
    seed::first_admin(&store).await?;
    // The knowledge base: the demo articles, then the search index (rebuilt when stale).
    if demo {
        let n = kefu::kb::seed_demo(&store).await?;
        if n > 0 {
            eprintln!("kefu: demo knowledge base seeded ({n} articles)");
        }
    }
    let (kb, kb_start) =
        kefu::kb::KbService::open(store.clone(), &config.data_dir.join("kb-index"))
            .await
            .context("opening the knowledge base index")?;
    if kb_start.rebuilt {
        eprintln!(
            "kefu: knowledge base index rebuilt ({} articles in {} ms)",
            kb_start.articles,
            kb_start.took.as_millis()
        );
    }
    state.set_kb(kb);
    // The system prompt set, before SIP answers calls: the missing files only.
    kefu::prompts::generate_missing_at_start(config.sip.prompts_dir.clone()).await;
    // Admins' recordings where the IVR finds them (a new machine, a cleaned prompts directory).
    match kefu_api::prompts::write_all_custom_files(&store, &config.sip.prompts_dir).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(n, "admins' prompt recordings written for the IVR"),
        Err(e) => tracing::warn!(error = %e, "writing admins' prompt recordings for the IVR"),
    }
    let telephony = if config.sip.enabled {
        let directory = std::sync::Arc::new(kefu::telephony::StoreDirectory {
            store: store.clone(),
        });
        let t = kefu_telephony::Telephony::start(config.telephony()?, directory)
            .await
            .with_context(|| format!("starting SIP on {}", config.sip.listen))?;
        let incoming = t.incoming().expect("taken once");
        let ivr = std::sync::Arc::new(kefu::ivr::IvrRuntime::new(
            store.clone(),
            t.clone(),
            kefu::ivr::IvrFiles {
                prompts_dir: config.sip.prompts_dir.clone(),
                tts_dir: config.data_dir.join("tts"),
                record_calls: config.sip.record_calls,
            },
        ));
        // The ACD: agents, queues and their calls; the IVR hands queue transfers to it.
        let acd = kefu::acd::AcdRuntime::start(
            store.clone(),
            t.clone(),
            kefu::acd::AcdFiles {
                recordings_dir: config.telephony()?.recordings_dir,
                record_calls: config.sip.record_calls,
                callback_caller_id: config.sip.callback_caller_id.clone(),
                hold_music: ivr.hold_music("zh-CN"),
                utc_offset: state.settings.utc_offset,
            },
        )
        .await
        .context("starting the ACD")?;
        ivr.set_acd(acd.clone());
        state.set_acd(std::sync::Arc::new(kefu::acd::AcdApi(acd)));
        let entry = kefu_telephony::entry::EntryPoints {
            record_bridged: config.sip.record_calls,
            runner: Some(ivr),
            ..Default::default()
        };
        tokio::spawn(kefu_telephony::entry::serve(t.clone(), incoming, entry));
        eprintln!("kefu: SIP on {} (UDP and TCP)", t.local_addr());
        state.set_telephony(std::sync::Arc::new(kefu::telephony::LiveEngine(t.clone())));
        Some(t)
    } else {
        None
    };
    tokio::spawn(kefu::webhooks::deliver_forever(
        store.clone(),
        std::time::Duration::from_secs(1),
    ));
    tokio::spawn(kefu::sla::sweep_forever(
        store.clone(),
        state.clone(),
        std::time::Duration::from_secs(config.work_orders.sla_sweep_secs.max(1)),
    ));
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding {}", config.http.listen))?;
    let addr = listener.local_addr()?;
    // Signals are caught from before the address is announced: a stop right after start is graceful too.
    let stop = shutdown()?;
    tracing::info!(%addr, database = %redact(&config.database_url()), "kefu serving");
    eprintln!("kefu: serving http://{addr}");
    let app = kefu_api::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    if let Some(t) = telephony {
        t.shutdown().await;
    }
    store.close().await?;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed by this call, not when the future is
/// first polled: a signal that arrives in between would otherwise kill the process uncleanly.
fn shutdown() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).context("catching SIGTERM")?,
            signal(SignalKind::interrupt()).context("catching SIGINT")?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}

async fn import(
    config: Config,
    kind: ImportKind,
    file: PathBuf,
    skip_invalid: bool,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = FileFormat::detect(&name, &bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let store = open_store(&config).await?;
    let settings = config.api_settings()?;
    let today = chrono::Utc::now()
        .with_timezone(&settings.utc_offset)
        .date_naive();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:8} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let b = bar.clone();
    let progress = move |phase: kefu_api::imports::Phase, done: u64, total: u64| {
        b.set_length(total);
        b.set_message(match phase {
            kefu_api::imports::Phase::Reading => "reading",
            kefu_api::imports::Phase::Writing => "writing",
        });
        b.set_position(done);
    };
    let actor = Actor {
        user_id: None,
        name: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        ),
        source_ip: None,
        request_id: None,
    };
    let out = kefu_api::imports::run(
        &store,
        &actor,
        kind,
        format,
        bytes.into(),
        skip_invalid,
        settings.area,
        today,
        progress,
    )
    .await?;
    bar.finish_and_clear();
    for e in out.errors.iter().take(50) {
        eprintln!("  line {}, {}: {}", e.line, e.column, e.reason);
    }
    if out.errors.len() > 50 {
        eprintln!("  … and {} more", out.errors.len() - 50);
    }
    store.close().await?;
    if let Some(why) = out.failure {
        anyhow::bail!("{}: {why}", file.display());
    }
    println!(
        "{}: {} rows — {} inserted, {} updated, {} skipped",
        file.display(),
        out.total_rows,
        out.inserted,
        out.updated,
        out.skipped
    );
    Ok(())
}
