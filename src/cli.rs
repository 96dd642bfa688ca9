//! The command line: `serve` (default), `migrate`, `import wordpress`, `openapi`.

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
    /// Apply pending migrations, then serve HTTP on BIND_ADDR.
    Serve,
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
    let pool = crate::db::build_pool(&settings.database_url, settings.pool_size, None)?;
    let mut conn = pool.get()?;
    let applied = crate::db::migrate(&mut conn)?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    drop(conn);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings, pool),
        Command::Migrate => {
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Import { source: ImportSource::Wordpress { file, dry_run } } => {
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
            let mut conn = pool.get()?;
            let result = crate::import::wordpress::import(&mut conn, BufReader::new(bar.wrap_read(f)), dry_run);
            bar.finish_and_clear();
            let summary =
                result.map_err(|e| anyhow::anyhow!("import of {} failed, nothing was written: {e}", file.display()))?;
            print!("{summary}");
            Ok(())
        }
        Command::Openapi => unreachable!("handled above"),
    }
}

fn serve(settings: Settings, pool: crate::db::Pool) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let addr = settings.bind_addr;
        let app = crate::startup::Application::build(settings, pool)?;
        tracing::info!(%addr, port = app.port(), "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}
