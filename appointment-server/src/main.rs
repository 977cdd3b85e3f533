//! `appointment-server`: runs the REST service, or migrates its database.

use appointment_server::config::Config;
use appointment_server::storage::{self, Migration};
use appointment_server::{Application, telemetry};
use clap::{Parser, Subcommand};

/// The Appointment Master REST service. Configuration comes from the environment (and `.env`).
#[derive(Debug, Parser)]
#[command(version, about, after_help = appointment_server::config::environment_help())]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the service (the default).
    #[command(after_help = appointment_server::config::environment_help())]
    Serve,
    /// Migrates the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Prints the OpenAPI document.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Applies every pending migration.
    Up,
    /// Reverts every migration.
    Down,
    /// Migrates up or down to a version.
    To {
        /// The target version.
        version: i64,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_format, "info,sqlx=warn", std::io::stdout);
    let result: Result<(), Box<dyn std::error::Error + Send + Sync>> = async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let app = Application::build(config).await?;
                app.run_until_stopped().await?;
            }
            Command::Migrate { action } => {
                let m = match action {
                    MigrateAction::Up => Migration::Up,
                    MigrateAction::Down => Migration::Down,
                    MigrateAction::To { version } => Migration::To(version),
                };
                let version = storage::migrate(&config.database_url, m).await?;
                println!("database at migration version {version}");
            }
            Command::Openapi => print!("{}", appointment_server::openapi_json()),
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(error = %message, "appointment-server failed");
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
