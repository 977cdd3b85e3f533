//! Building and running the service.

use std::future::Future;
use std::path::Path;

use axum::Router;
use rand::RngCore;
use tokio::net::TcpListener;

use crate::auth::TokenKeys;
use crate::config::{Config, Environment, MIN_SECRET_BYTES, Secret};
use crate::connections::{self, ConnectionLimits};
use crate::routes::app;
use crate::state::AppState;
use crate::storage;

/// Any startup failure, with a message for the operator.
pub type StartupError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A service that is bound to its port and ready to run.
#[derive(Debug)]
pub struct Application {
    port: u16,
    listener: TcpListener,
    router: Router,
    state: AppState,
    limits: ConnectionLimits,
    /// The listener of `METRICS_ADDR` and its router, if configured.
    metrics: Option<(TcpListener, Router)>,
    /// The webhook dispatcher's task, stopped with the server.
    webhooks: tokio::task::AbortHandle,
    /// The mailer's task, stopped with the server.
    mail: tokio::task::AbortHandle,
    /// The expiry sweeper's task (none when `EXPIRY_SWEEP_MS` is 0), stopped with the server.
    sweeper: Option<tokio::task::AbortHandle>,
}

impl Application {
    /// Opens the store, resolves the JWT secret and binds the listener (port 0 picks a free
    /// port). Once this returns, the port accepts connections.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let store = storage::connect(&config.database_url).await?;
        Self::build_with_store(config, store).await
    }

    /// As [`Application::build`], on a store the caller opened (its own backend, or one it keeps
    /// a handle to); `config.database_url` only locates the development secret file.
    pub async fn build_with_store(
        config: Config,
        store: std::sync::Arc<dyn appointment_store::ServiceStore>,
    ) -> Result<Self, StartupError> {
        let secret = resolve_jwt_secret(&config)?;
        let verified_email_required = config
            .strict_requires_verified_email
            .unwrap_or(config.mail.smtp_url.is_some());
        if verified_email_required && config.mail.smtp_url.is_none() {
            return Err(
                "STRICT_REQUIRES_VERIFIED_EMAIL needs SMTP_URL: without email nobody \
                        can verify an address"
                    .into(),
            );
        }
        let state = AppState::new(
            store,
            TokenKeys::new(secret.expose().as_bytes()),
            config.bcrypt_cost,
            config.login_rate_per_minute,
        )
        .await
        .map_err(|e| e.to_string())?;
        let state = AppState {
            trust_forwarded_for: config.trust_forwarded_for,
            scheduler: state
                .scheduler
                .with_clock(config.clock.clone())
                .with_verified_email_required(verified_email_required)
                .with_read_cache(config.read_cache),
            request_timeout: config.request_timeout,
            device_token_limits: std::sync::Arc::new(crate::auth::DeviceTokenLimits::new(
                config.device_tokens_per_hour,
                config.device_tokens_per_hour_per_ip,
            )),
            metrics: metrics_of(&config),
            ..state
        }
        .with_limits(config.login_rate_per_minute, config.limits);
        let scheduler = state.scheduler.clone();
        let state = AppState {
            webhooks: crate::webhooks::Dispatcher::new(
                scheduler,
                state.store.clone(),
                config.webhooks.clone(),
            )
            .with_metrics(state.metrics.clone()),
            mail: crate::mail::Mailer::new(
                state.scheduler.clone(),
                state.store.clone(),
                config.mail.clone(),
            )?
            .with_metrics(state.metrics.clone()),
            ..state
        };
        if state.mail.enabled() {
            tracing::info!(from = %config.mail.from, "email: on");
        } else {
            tracing::info!(
                "email: off (set SMTP_URL to send confirmations, invites and reminders)"
            );
        }
        spawn_pruner(&state);
        let webhooks = tokio::spawn(state.webhooks.clone().run()).abort_handle();
        let mail = tokio::spawn(state.mail.clone().run()).abort_handle();
        let router = app(state.clone(), &config.cors_origins);
        let listener = TcpListener::bind((config.host, config.port)).await?;
        let port = listener.local_addr()?.port();
        let metrics = match config.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot listen on METRICS_ADDR {addr}: {e}"))?;
                tracing::info!(
                    address = %listener.local_addr()?,
                    token = config.metrics_token.is_some(),
                    "metrics: GET /metrics is served on its own listener"
                );
                Some((listener, crate::metrics::router(state.clone())))
            }
            None => None,
        };
        // Started once nothing else can fail, so that a failed start leaves no sweeper behind.
        let sweeper = crate::sweeper::spawn(&state, config.expiry_sweep);
        Ok(Application {
            port,
            listener,
            router,
            state,
            limits: config.connections,
            metrics,
            webhooks,
            mail,
            sweeper,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (the engine and its store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The bound port of the `METRICS_ADDR` listener, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        let (listener, _) = self.metrics.as_ref()?;
        listener.local_addr().ok().map(|a| a.port())
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // The handlers are installed before the service reports that it listens, so a signal
        // sent as soon as it is ready is never missed.
        let signal = shutdown_signal()?;
        self.run_until(signal).await
    }

    /// Serves until `signal` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        warn_if_few_file_descriptors(self.limits.max_connections);
        tracing::info!(port = self.port, "listening");
        // Deliveries in flight are leased: another replica (or this one, restarted) sends what
        // this one leaves unfinished.
        let _stop_webhooks = AbortOnDrop(self.webhooks);
        let _stop_mail = AbortOnDrop(self.mail);
        let _stop_sweeper = self.sweeper.map(AbortOnDrop);
        let Some((listener, router)) = self.metrics else {
            return connections::serve(self.listener, self.router, self.limits, signal).await;
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let limits = ConnectionLimits {
            max_connections: METRICS_MAX_CONNECTIONS,
            ..self.limits
        };
        let metrics = tokio::spawn(connections::serve(listener, router, limits, async {
            let _ = stopped.await;
        }));
        let served = connections::serve(self.listener, self.router, self.limits, signal).await;
        let _ = stop.send(());
        let metrics_served = metrics.await.map_err(std::io::Error::other)?;
        served.and(metrics_served)
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Warns when the process may open fewer files than `MAX_CONNECTIONS` needs (Linux: the soft
/// "Max open files" of `/proc/self/limits`), since past it accepting fails for everyone.
fn warn_if_few_file_descriptors(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok());
    // Room for the database pool, the listener and the log files.
    if let Some(soft) = soft
        && soft < max_connections.saturating_add(128)
    {
        tracing::warn!(
            open_files = soft,
            max_connections,
            "the open-file limit is below MAX_CONNECTIONS plus 128; raise `ulimit -n` or lower MAX_CONNECTIONS"
        );
    }
}

/// Connections the `METRICS_ADDR` listener serves at once (scrapers are few).
pub const METRICS_MAX_CONNECTIONS: usize = 16;

/// The metrics `config` asks for, said once in the log (never the token).
fn metrics_of(config: &Config) -> crate::metrics::Metrics {
    if config.metrics_token.is_none() && config.metrics_addr.is_none() {
        tracing::info!("metrics: off (set METRICS_TOKEN or METRICS_ADDR to serve GET /metrics)");
        return crate::metrics::Metrics::off();
    }
    if config.metrics_addr.is_none() {
        tracing::info!(
            "metrics: GET /metrics is served on the service's port to requests with the METRICS_TOKEN bearer token"
        );
    }
    let metrics =
        crate::metrics::Metrics::on(config.metrics_token.as_ref(), config.metrics_addr.is_some());
    metrics.spawn_upkeep();
    metrics
}

/// How often the rate limiters forget the keys whose limits have recovered.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Prunes the rate limiters every [`PRUNE_EVERY`] while the state lives.
fn spawn_pruner(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            state.prune_limiters();
        }
    });
}

/// Installs the SIGTERM and Ctrl-C handlers now; the future resolves when either arrives.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}

/// The JWT secret: the configured one (at least 32 bytes in production); in development without
/// one, a random secret kept in a file beside the database (mode 0600) so that tokens survive
/// restarts.
pub fn resolve_jwt_secret(config: &Config) -> Result<Secret, StartupError> {
    if let Some(s) = &config.jwt_secret {
        if s.expose().len() < MIN_SECRET_BYTES {
            if config.environment == Environment::Production {
                return Err(format!(
                    "JWT_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
                )
                .into());
            }
            tracing::warn!(
                "JWT_SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes; this is refused in production"
            );
        }
        return Ok(s.clone());
    }
    if config.environment == Environment::Production {
        return Err("JWT_SECRET_KEY is required in production (at least 32 bytes)".into());
    }
    match config.secret_file() {
        None => {
            tracing::warn!("no JWT_SECRET_KEY: using a random secret for this process only");
            Ok(random_secret())
        }
        Some(path) => load_or_create_secret(&path),
    }
}

fn random_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn load_or_create_secret(path: &Path) -> Result<Secret, StartupError> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= MIN_SECRET_BYTES {
            tracing::warn!(file = %path.display(), "no JWT_SECRET_KEY: using the development secret kept in this file");
            return Ok(Secret::new(existing));
        }
    }
    let secret = random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot write the JWT secret file {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, secret.expose().as_bytes())?;
    tracing::warn!(file = %path.display(), "no JWT_SECRET_KEY: generated a development secret and kept it in this file; set JWT_SECRET_KEY in production");
    Ok(secret)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_missing_or_short_secrets() {
        let mut c = Config {
            environment: Environment::Production,
            database_url: "memory:".into(),
            ..Config::default()
        };
        assert!(resolve_jwt_secret(&c).is_err());
        c.jwt_secret = Some(Secret::new("short"));
        assert!(resolve_jwt_secret(&c).is_err());
        c.jwt_secret = Some(Secret::new("x".repeat(32)));
        assert!(resolve_jwt_secret(&c).is_ok());
    }

    #[test]
    fn development_secret_is_kept_beside_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        let c = Config {
            database_url: format!("sqlite://{}", db.display()),
            ..Config::default()
        };
        let first = resolve_jwt_secret(&c).unwrap();
        let second = resolve_jwt_secret(&c).unwrap();
        assert_eq!(first, second);
        let file = dir.path().join("app.db.jwt-secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
