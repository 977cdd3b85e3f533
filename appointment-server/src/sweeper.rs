//! The expiry sweeper: a task beside the server that, every `EXPIRY_SWEEP_MS`, writes down what
//! ran out by the clock and nothing else touched: holds past their expiry, pending bookings
//! past their `confirm_by` and waiting-list offers nobody took (which then pass to the next in
//! line). Correctness never waits for it (expired ones are free for every listing and claim from
//! their deadline on); it is what makes their events (`hold.expired`, `booking.expired`,
//! `waitlist.offered`) reach webhooks and email.
//!
//! Every replica runs one: sweeps racing over the same appointments expire each hold and
//! booking once (see [`appointment_core::Scheduler::reclaim_all_expired`]).

use std::time::Duration;

use crate::state::AppState;

/// The appointments one round of a sweep takes on.
pub const SWEEP_ROUND: u32 = 100;

/// The most rounds one sweep runs; what is left waits for the next sweep.
pub const MAX_SWEEP_ROUNDS: u32 = 50;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// The rounds it ran.
    pub rounds: u32,
    /// The appointments it found with something expired (over all rounds).
    pub appointments: u64,
    /// The seats it gave back.
    pub seats: u64,
    /// The appointments whose reclaim failed (each logged).
    pub failures: u64,
}

/// One sweep: rounds of up to [`SWEEP_ROUND`] appointments, until a round finds nothing or
/// gives nothing back (another replica got there first, or each reclaim failed), at most
/// [`MAX_SWEEP_ROUNDS`]. A failure on one appointment is logged and does not stop the others;
/// only a failure to find them is an error. Wakes the webhook dispatcher when it expired
/// something, so that the events go out at once.
pub async fn sweep_once(state: &AppState) -> appointment_core::Result<Swept> {
    let mut swept = Swept::default();
    while swept.rounds < MAX_SWEEP_ROUNDS {
        let round = state.scheduler.reclaim_all_expired(SWEEP_ROUND).await?;
        swept.rounds += 1;
        swept.appointments += u64::try_from(round.appointments).unwrap_or(u64::MAX);
        swept.seats += round.seats;
        for (appointment, error) in &round.failures {
            tracing::warn!(
                %appointment,
                error = %error,
                "reclaiming expired holds and bookings failed; the next sweep tries again"
            );
        }
        swept.failures += u64::try_from(round.failures.len()).unwrap_or(u64::MAX);
        if round.appointments == 0 || round.seats == 0 {
            break;
        }
    }
    if swept.seats > 0 {
        state.webhooks.wake();
        tracing::info!(
            appointments = swept.appointments,
            seats = swept.seats,
            "expired holds and pending bookings written down"
        );
    }
    Ok(swept)
}

/// Starts the sweeper: a sweep at once (what expired while no server ran), then one every
/// `every`, until the returned handle aborts it; `None` (and nothing started) when `every` is
/// zero. A failed sweep is logged and the next one tries again; a sweep runs in a task of its
/// own, so that not even a panic in it stops the sweeper.
pub fn spawn(state: &AppState, every: Duration) -> Option<tokio::task::AbortHandle> {
    if every.is_zero() {
        tracing::info!("expiry sweeper: off (EXPIRY_SWEEP_MS=0)");
        return None;
    }
    let state = state.clone();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let state = state.clone();
            match tokio::spawn(async move { sweep_once(&state).await }).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the expiry sweep failed; the next one tries again");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the expiry sweep stopped; the next one tries again");
                }
            }
        }
    });
    Some(task.abort_handle())
}
