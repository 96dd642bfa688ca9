//! The command line: `serve` (default), `worker`, `migrate`, `import wordpress`, `openapi`,
//! `users create`, `keys rotate`.

use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// broadsheet: a headless CMS REST API for news publications.
#[derive(Debug, Parser)]
#[command(name = "broadsheet", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP on BIND_ADDR (with a job
    /// runner unless JOBS_IN_SERVER=false).
    Serve,
    /// Apply pending migrations, then run background jobs until SIGTERM or
    /// SIGINT. Any number of workers (and servers) can share one database.
    Worker,
    /// Apply pending migrations and exit.
    Migrate,
    /// Import content from another CMS.
    Import {
        /// The source format.
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Print the OpenAPI 3.1 document (identical to openapi/openapi.json).
    Openapi,
    /// Manage user accounts.
    Users {
        /// What to do.
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Manage the stored token-signing keys (used when JWT_SECRET is unset).
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeysAction,
    },
}

/// `broadsheet keys …`
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Start signing with a new key. Older keys keep verifying tokens for
    /// the longest token lifetime plus 5 minutes; running instances pick the
    /// new key up within a minute, without a restart.
    Rotate,
}

/// `broadsheet users …`
#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create a user (e.g. the first admin). The password is read from stdin:
    /// prompted for without echo on a terminal, else the first line.
    Create {
        /// Login email.
        #[arg(long)]
        email: String,
        /// admin, editor, author or contributor.
        #[arg(long, value_parser = parse_role)]
        role: crate::auth::Role,
        /// Read the password from stdin without prompting, even on a terminal.
        #[arg(long)]
        password_stdin: bool,
        /// Display name of the author profile created and linked for the
        /// user (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
    },
}

/// `--media`: where imported attachments live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MediaMode {
    /// On the old site (hosted copies from earlier downloads are still used).
    Link,
    /// Downloaded into the media store.
    Download,
}

fn parse_origin(s: &str) -> Result<url::Url, String> {
    let url = crate::webhooks::ssrf::check_shape(s)?;
    if url.path() != "/" || url.query().is_some() {
        return Err("must be an origin only (scheme, host and port)".into());
    }
    Ok(url)
}

fn parse_role(s: &str) -> Result<crate::auth::Role, String> {
    crate::auth::Role::parse(s).ok_or_else(|| format!("`{s}` is not one of admin, editor, author, contributor"))
}

fn read_password(no_prompt: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() && !no_prompt {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        anyhow::ensure!(first == again, "the passwords do not match");
        first
    } else {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdin.lock(), &mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(password)
}

/// Import sources.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A WordPress export (Tools → Export; WXR 1.0–1.2).
    Wordpress {
        /// Path to the .xml export.
        file: PathBuf,
        /// Read and check everything, report what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replace articles edited in broadsheet since their last import
        /// (recording a revision and a new version) instead of listing them
        /// as conflicts and keeping them.
        #[arg(long)]
        overwrite: bool,
        /// `link` leaves attachments on the old site; `download` fetches each
        /// into the media store first, with the upload checks and variants,
        /// and points bodies at the copies. A second run fetches only what
        /// is missing.
        #[arg(long, value_enum, default_value_t = MediaMode::Link)]
        media: MediaMode,
        /// Fetch attachments from this origin (`http://mirror:8000`) instead
        /// of the export's, with the same paths.
        #[arg(long, value_parser = parse_origin)]
        media_origin: Option<url::Url>,
        /// Downloads at once, 1–16.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
        media_concurrency: u16,
        /// Longest one file may take to download, in seconds (1–3600).
        #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
        media_timeout: u64,
    },
    /// Newsletter subscribers from a CSV file: a Mailchimp audience export,
    /// a Ghost members export, a listmonk file or a broadsheet export (the
    /// same rules as `POST /api/v1/subscriptions/import`; one transaction).
    Subscribers {
        /// Path to the .csv file (UTF-8).
        file: PathBuf,
        /// Check and report everything, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// A Disqus comments export (Admin → Community → Export): threads are
    /// matched to imported articles; re-importing updates.
    Disqus {
        /// Path to the .xml export.
        file: PathBuf,
    },
}

/// Parses the arguments, runs the command, and maps failure to exit code 1
/// with the error on stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Openapi) = cli.command {
        let mut out = std::io::stdout().lock();
        out.write_all(crate::openapi::spec_json().as_bytes())?;
        return Ok(());
    }
    let settings = Settings::from_env()?;
    crate::telemetry::init();
    let command = cli.command.unwrap_or(Command::Serve);
    // Everything that can fail without the database is checked before it is
    // opened, so a bad port or a bad file never leaves a database behind.
    let listener = match &command {
        Command::Serve => Some(
            std::net::TcpListener::bind(settings.bind_addr)
                .map_err(|e| anyhow::anyhow!("cannot bind BIND_ADDR {}: {e}", settings.bind_addr))?,
        ),
        _ => None,
    };
    let mut database_url = settings.database_url.clone();
    if let Command::Import { source: ImportSource::Wordpress { file, dry_run, .. } } = &command {
        let f = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
        crate::import::wxr::read::<_, crate::import::wxr::WxrError>(BufReader::new(f), |_| Ok(()))
            .map_err(|e| anyhow::anyhow!("import of {} failed, nothing was written: {e}", file.display()))?;
        if let (true, crate::config::DatabaseUrl::Sqlite(path)) = (*dry_run, &database_url) {
            if !path.exists() {
                // A dry run against a database that does not exist yet runs on a
                // throw-away in-memory one rather than creating the file.
                database_url = crate::config::DatabaseUrl::Sqlite(":memory:".into());
            }
        }
    }
    // One connection for an in-memory database (each would be a database of
    // its own), and for a WordPress import into a SQLite file that downloads
    // nothing: with no idle pooled connection beside the import's, SQLite
    // lets the import leave WAL mode for its transaction when no other
    // process has the file open (`db::sqlite_leave_wal`). Downloads store
    // media through the pool from several tasks, so they keep the full pool.
    let single_writer = matches!(
        (&command, &database_url),
        (
            Command::Import { source: ImportSource::Wordpress { media: MediaMode::Link, .. } },
            crate::config::DatabaseUrl::Sqlite(_)
        )
    );
    let pool_size = if database_url == crate::config::DatabaseUrl::Sqlite(":memory:".into()) || single_writer {
        1
    } else {
        settings.pool_size
    };
    let pool = crate::db::build_pool(&database_url, pool_size, None)?;
    let mut conn = pool.get()?;
    let applied = crate::data_fixes::migrate(&mut conn)?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    drop(conn);
    match command {
        Command::Serve => serve(settings, pool, listener.expect("bound above")),
        Command::Worker => worker(settings, pool),
        Command::Migrate => {
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Import {
            source:
                ImportSource::Wordpress { file, dry_run, overwrite, media, media_origin, media_concurrency, media_timeout },
        } => {
            let f = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let bar = if std::io::stderr().is_terminal() {
                indicatif::ProgressBar::new(len)
            } else {
                indicatif::ProgressBar::hidden()
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} importing [{bar:40}] {bytes}/{total_bytes} {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let options = crate::import::Options { dry_run, overwrite };
            let download = match media {
                MediaMode::Link => None,
                MediaMode::Download => {
                    let state = crate::media::MediaState::from_settings(&settings)?;
                    let mut d =
                        crate::import::attachments::Downloader::new(state, settings.distribution.import_allow_loopback);
                    d.origin = media_origin;
                    d.concurrency = media_concurrency.into();
                    d.timeout = std::time::Duration::from_secs(media_timeout);
                    Some(d)
                }
            };
            let media = crate::import::wordpress::MediaOptions { base_url: settings.public_base_url.clone(), download };
            // Off a terminal (CI, logs), progress is a plain line per tenth of the file.
            let input: Box<dyn std::io::Read> = if std::io::stderr().is_terminal() {
                Box::new(bar.wrap_read(f))
            } else {
                Box::new(PlainProgress { inner: f, read: 0, total: len, next_tenth: 1 })
            };
            let mut progress: Box<dyn crate::import::Progress> = if std::io::stderr().is_terminal() {
                Box::new(BarProgress(bar.clone()))
            } else {
                Box::new(LineProgress::default())
            };
            let result = crate::import::wordpress::import_with_media(
                &pool,
                BufReader::new(input),
                options,
                &media,
                progress.as_mut(),
            );
            bar.finish_and_clear();
            let summary =
                result.map_err(|e| anyhow::anyhow!("import of {} failed, nothing was written: {e}", file.display()))?;
            print!("{summary}");
            if !summary.dry_run {
                let pending = crate::articles::repo::pending_search(&mut *pool.get()?)?;
                if pending > 0 {
                    println!(
                        "search: {pending} articles are listed but not yet searchable; the job runner of \
                         `broadsheet serve` or `broadsheet worker` indexes them (about 1,000 a second per core)"
                    );
                }
            }
            Ok(())
        }
        Command::Import { source: ImportSource::Subscribers { file, dry_run } } => {
            let f = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let mut conn = pool.get()?;
            let report = crate::subscriptions::import::import(&mut conn, &settings, BufReader::new(f), dry_run)
                .map_err(|e| anyhow::anyhow!("import of {} failed, nothing was written: {e}", file.display()))?;
            print!("{report}");
            Ok(())
        }
        Command::Import { source: ImportSource::Disqus { file } } => {
            let f = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let mut conn = pool.get()?;
            let summary = crate::import::disqus::import(&mut conn, BufReader::new(f))
                .map_err(|e| anyhow::anyhow!("import of {} failed, nothing was written: {e}", file.display()))?;
            print!("{summary}");
            Ok(())
        }
        Command::Users { action: UsersAction::Create { email, role, password_stdin, name } } => {
            let password = read_password(password_stdin)?;
            let mut conn = pool.get()?;
            let user = crate::users::handlers::create(&mut conn, &email, &password, role, None, name.as_deref())
                .map_err(|e| {
                    let p = e.problem();
                    match p.errors.first() {
                        Some(f) => anyhow::anyhow!("{}: {}", f.field, f.message),
                        None => anyhow::anyhow!("{}", p.detail),
                    }
                })?;
            println!(
                "created user {} <{}> with role {} and author profile {}",
                user.id,
                user.email,
                user.role,
                user.author_id.map_or_else(|| "none".into(), |a| a.to_string())
            );
            Ok(())
        }
        Command::Keys { action: KeysAction::Rotate } => {
            anyhow::ensure!(
                settings.jwt_secret.is_none(),
                "JWT_SECRET is set, so stored keys are not used; rotate by changing JWT_SECRET on every instance"
            );
            let grace = crate::auth::rotation_grace_secs(&settings);
            let mut conn = pool.get()?;
            crate::auth::keys::load_or_create(&mut conn)?;
            let kid = crate::auth::keys::rotate(&mut conn, grace)?;
            println!("new signing key {kid}; the previous keys verify tokens for {grace} s more");
            Ok(())
        }
        Command::Openapi => unreachable!("handled above"),
    }
}

/// A reader that prints `import: read N% (x of y bytes)` to stderr at each
/// tenth of `total`: progress for logs, where a progress bar would be noise.
struct PlainProgress<R> {
    inner: R,
    read: u64,
    total: u64,
    next_tenth: u64,
}

impl<R: std::io::Read> std::io::Read for PlainProgress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        while self.total > 0 && self.next_tenth <= 10 && self.read * 10 >= self.total * self.next_tenth {
            eprintln!("import: read {}% ({} of {} bytes)", self.next_tenth * 10, self.read, self.total);
            self.next_tenth += 1;
        }
        Ok(n)
    }
}

/// Import progress as an `indicatif` bar on a terminal: the reading bar
/// (bytes) becomes a bar of records written.
struct BarProgress(indicatif::ProgressBar);

impl crate::import::Progress for BarProgress {
    fn phase(&mut self, name: &'static str, total: u64) {
        self.0.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {name} [{{bar:40}}] {{pos}}/{{len}} {{eta}}"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn advance(&mut self, n: u64) {
        self.0.inc(n);
    }
}

/// Import progress as plain lines on stderr (`import: writing 30% (x of y
/// records)`), one per tenth of a phase: for logs, where a bar would be noise.
#[derive(Default)]
struct LineProgress {
    name: &'static str,
    total: u64,
    done: u64,
    next_tenth: u64,
}

impl crate::import::Progress for LineProgress {
    fn phase(&mut self, name: &'static str, total: u64) {
        *self = Self { name, total, done: 0, next_tenth: 1 };
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        while self.total > 0 && self.next_tenth <= 10 && self.done * 10 >= self.total * self.next_tenth {
            eprintln!("import: {} {}% ({} of {} records)", self.name, self.next_tenth * 10, self.done, self.total);
            self.next_tenth += 1;
        }
    }
}

fn serve(settings: Settings, pool: crate::db::Pool, listener: std::net::TcpListener) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let addr = settings.bind_addr;
        let mailer = crate::mail::from_settings(&settings)?;
        let app = crate::startup::Application::from_listener(listener, settings, pool, mailer)?;
        tracing::info!(%addr, port = app.port(), "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn worker(settings: Settings, pool: crate::db::Pool) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let mailer = crate::mail::from_settings(&settings)?;
        let runner = crate::jobs::Runner::new(pool, &settings, mailer);
        tracing::info!(runner = runner.id(), "worker started");
        let (stop, handle) = crate::jobs::runner::spawn(runner);
        crate::jobs::runner::shutdown_signal().await;
        let _ = stop.send(true);
        handle.await.map_err(|e| anyhow::anyhow!("the job runner ended abnormally: {e}"))?;
        Ok(())
    })
}
