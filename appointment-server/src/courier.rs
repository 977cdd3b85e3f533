//! The delivery machinery webhooks and email share: claim what is due under a lease, send each
//! on its own task with at most a set number in flight, record the outcome, retry on a
//! schedule with jitter.
//!
//! A [`Channel`] says how to claim, send and record; a [`Courier`] runs the loop. What is
//! claimed is leased in the store, so a replica that dies mid-send loses nothing: the lease
//! runs out and a replica sends it again (at least once).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// One kind of delivery: how it is claimed, sent and recorded.
pub trait Channel: Clone + Send + Sync + 'static {
    /// A claimed delivery.
    type Due: Send + Sync + 'static;
    /// What an attempt gave.
    type Outcome: Send + Sync + 'static;
    /// The channel's name in logs.
    const NAME: &'static str;

    /// Claims up to `limit` due deliveries, leased until `lease_until`.
    fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = appointment_core::Result<Vec<Self::Due>>> + Send;
    /// Makes one attempt.
    fn attempt(&self, due: &Self::Due) -> impl Future<Output = Self::Outcome> + Send;
    /// Records an attempt's outcome.
    fn finish(
        &self,
        due: &Self::Due,
        outcome: &Self::Outcome,
    ) -> impl Future<Output = appointment_core::Result<()>> + Send;
    /// Counts an outcome in the metrics.
    fn count(&self, outcome: &Self::Outcome);
}

/// When to try again after failed attempt number `attempt` (1 for the first) made at `at`: the
/// schedule's wait for it, with ±20 % jitter, or `None` once the schedule has run out.
pub fn next_attempt(
    schedule: &[Duration],
    attempt: u32,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let index = usize::try_from(attempt)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    let wait = schedule
        .get(index)?
        .mul_f64(rand::rng().random_range(0.8..1.2));
    chrono::TimeDelta::from_std(wait).ok().map(|w| at + w)
}

/// Runs a [`Channel`]'s deliveries; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Courier<C> {
    channel: C,
    permits: Arc<Semaphore>,
    wake: Arc<Notify>,
    poll: Duration,
    lease: Duration,
}

impl<C: Channel> Courier<C> {
    /// A courier with at most `concurrency` deliveries in flight, looking for due ones every
    /// `poll` (or when woken), each leased for `lease`.
    pub fn new(channel: C, concurrency: usize, poll: Duration, lease: Duration) -> Self {
        Courier {
            channel,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            wake: Arc::new(Notify::new()),
            poll,
            lease,
        }
    }

    /// The channel.
    pub fn channel(&self) -> &C {
        &self.channel
    }

    /// Makes the courier look for due deliveries now rather than at its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until the task is dropped: claims as many due deliveries as it has free places
    /// for, and claims again as soon as a place frees up.
    pub async fn run(&self) {
        loop {
            // A free place first, then as many more as are free: the claim never takes more
            // than can be sent at once.
            let Ok(first) = self.permits.clone().acquire_owned().await else {
                return;
            };
            let mut places = vec![first];
            while let Ok(p) = self.permits.clone().try_acquire_owned() {
                places.push(p);
            }
            match self.deliver_with(places).await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, channel = C::NAME, "claiming deliveries failed")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Claims what is due (as many as there are free places) and sends each on its own task;
    /// answers how many it claimed.
    pub async fn deliver_due(&self) -> appointment_core::Result<usize> {
        let mut places = Vec::new();
        while let Ok(p) = self.permits.clone().try_acquire_owned() {
            places.push(p);
        }
        self.deliver_with(places).await
    }

    /// Claims up to one due delivery per place and sends each on its own task, which frees its
    /// place when done (unused places are freed at once).
    async fn deliver_with(
        &self,
        mut places: Vec<OwnedSemaphorePermit>,
    ) -> appointment_core::Result<usize> {
        if places.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        let lease =
            now + chrono::TimeDelta::from_std(self.lease).unwrap_or(chrono::TimeDelta::minutes(1));
        let due = self
            .channel
            .claim(now, lease, u32::try_from(places.len()).unwrap_or(u32::MAX))
            .await?;
        let n = due.len();
        for d in due {
            let Some(place) = places.pop() else {
                break;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let outcome = this.channel.attempt(&d).await;
                this.channel.count(&outcome);
                if let Err(e) = this.channel.finish(&d, &outcome).await {
                    tracing::warn!(error = %e, channel = C::NAME, "recording a delivery failed; it will be sent again");
                }
                drop(place);
                // The subject's next delivery may be due now.
                this.wake.notify_one();
            });
        }
        Ok(n)
    }
}

/// Runs `step` every `poll`, or at once when `wake` is notified, and again straight away while
/// it says there is more to do; logs its failures as `what`.
pub async fn repeat<F, Fut>(poll: Duration, wake: &Notify, what: &str, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = appointment_core::Result<bool>>,
{
    loop {
        match step().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "{what} failed; retrying at the next poll"),
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            () = wake.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_jitter_then_stop() {
        let at = Utc::now();
        let schedule = [Duration::from_secs(10), Duration::from_secs(100)];
        for _ in 0..100 {
            let first = next_attempt(&schedule, 1, at).expect("a retry") - at;
            assert!(
                (8_000..=12_000).contains(&first.num_milliseconds()),
                "{first}"
            );
            let second = next_attempt(&schedule, 2, at).expect("a retry") - at;
            assert!(
                (80_000..=120_000).contains(&second.num_milliseconds()),
                "{second}"
            );
        }
        assert_eq!(next_attempt(&schedule, 3, at), None);
        assert_eq!(next_attempt(&[], 1, at), None);
    }
}
