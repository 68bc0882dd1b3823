use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use userstore_gateway::settings::Settings;
use userstore_gateway::telemetry::{self, LogFormat};
use userstore_gateway::{app, check, demo, import, password};

/// A strictly read-only HTTP gateway that lets Keycloak federate users from an existing SQL database.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Log line format (logs go to stderr; RUST_LOG sets the level).
    #[arg(
        long,
        value_enum,
        default_value = "text",
        global = true,
        env = "USERSTORE_GATEWAY_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API for the database in the configuration file.
    Serve {
        #[arg(long, short, env = "USERSTORE_GATEWAY_CONFIG")]
        config: PathBuf,
    },
    /// Serve an embedded SQLite demo database and print how to try it.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Read a password on stdin and print a hash of it, ready for the
    /// password_hash column: SHA-512 crypt ($6$) unless --scheme says otherwise.
    Hash {
        /// One of sha512-crypt, sha256-crypt, bcrypt, bcrypt_sha256_django,
        /// argon2id, argon2i, pbkdf2_sha1, pbkdf2_sha256, pbkdf2_sha256_django,
        /// pbkdf2_sha512, pbkdf2_sha512_hex, scrypt_werkzeug (the schemes with a
        /// safe maker; the others are verified but never made).
        #[arg(long, default_value = "sha512-crypt", value_parser = parse_scheme)]
        scheme: password::Scheme,
    },
    /// Check configuration, connectivity, every query, the read-only session
    /// and the plans of the lookups and searches.
    Check {
        #[arg(long, short, env = "USERSTORE_GATEWAY_CONFIG")]
        config: PathBuf,
        /// Exit non-zero on warnings too (a plan that reads a whole table),
        /// for deployment pipelines.
        #[arg(long)]
        strict: bool,
    },
    /// Turn Clerk's user exports (Dashboard CSV, Backend API JSON, or both,
    /// joined on the user id) into one SQL script on stdout for a DBA to
    /// review and run; notes and a summary go to stderr.
    ImportClerk {
        /// The Dashboard CSV export (the one with password digests).
        #[arg(long)]
        csv: Option<PathBuf>,
        /// The Backend API / CLI JSON export (an array of user objects).
        #[arg(long)]
        json: Option<PathBuf>,
        /// The database the script is for: postgres, mysql (MariaDB and
        /// MySQL) or sqlite.
        #[arg(long, value_parser = import::parse_dialect)]
        dialect: userstore_gateway::dialect::Dialect,
        /// Also import private_metadata, as clerk_private_<key> attributes.
        #[arg(long)]
        include_private_metadata: bool,
        /// Also import unsafe_metadata, as clerk_unsafe_<key> attributes.
        #[arg(long)]
        include_unsafe_metadata: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config, strict } => ExitCode::from(check::run(&config, strict).await),
        Command::ImportClerk {
            csv,
            json,
            dialect,
            include_private_metadata,
            include_unsafe_metadata,
        } => ExitCode::from(import::run(&import::Options {
            csv,
            json,
            dialect,
            metadata: import::MetadataChoice {
                private: include_private_metadata,
                unsafe_: include_unsafe_metadata,
            },
        })),
        Command::Hash { scheme } => match hash(scheme) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        },
        Command::Serve { config } => {
            telemetry::init(cli.log_format);
            report(serve(config).await)
        }
        Command::Demo { listen } => {
            telemetry::init(cli.log_format);
            report(demo::run(listen).await)
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: PathBuf) -> anyhow::Result<()> {
    let settings = Settings::load(&config)?;
    let app = app::build(&settings)?;
    app.refuse_writable_session().await?;
    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
    let scheme = if app.is_tls() { "https" } else { "http" };
    tracing::info!(address = %listener.local_addr()?, scheme, "userstore-gateway listening");
    // Serving already: a slow EXPLAIN must not hold up readiness.
    tokio::spawn(check::log_full_scans(
        app.store().clone(),
        settings.queries.clone(),
    ));
    app.serve(listener, app::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// A `--scheme` value: a scheme's name (see `password::Scheme::name`).
fn parse_scheme(name: &str) -> Result<password::Scheme, String> {
    password::Scheme::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = password::Scheme::ALL.iter().map(|s| s.name()).collect();
        format!("unknown scheme; known: {}", known.join(", "))
    })
}

/// Reads one password (without echo on a terminal) and hashes it.
fn hash(scheme: password::Scheme) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    anyhow::ensure!(!password.is_empty(), "empty password; nothing to hash");
    password::make_hash(scheme, &password).map_err(anyhow::Error::from)
}
