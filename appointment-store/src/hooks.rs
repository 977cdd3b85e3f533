//! Fault injection for crash-consistency tests (feature `test-hooks`; never in production).
//!
//! A [`Fault`] armed on a SQL store fires once, inside the next seat-changing write
//! (`insert_booking`, `move_booking`, `end_booking`), after every statement of its transaction
//! ran and before the commit. Whatever it does, the transaction must leave both the seat counter
//! and the booking as they were.

use std::sync::Arc;

use appointment_core::{Error, Result};
use parking_lot::Mutex;
use tokio::sync::Notify;

/// What an armed fault does when the write reaches it.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Fail the write with a storage error (the transaction is dropped without a commit).
    Error,
    /// Fail the write as if the database could not be reached (the transaction is dropped
    /// without a commit).
    Unavailable,
    /// Signal `reached`, then never finish, so that the caller can drop the future half way.
    Hang {
        /// Notified once the write has reached the point just before its commit.
        reached: Arc<Notify>,
    },
    /// Signal `reached`, wait for `resume`, then commit as usual: holds a write in flight for as
    /// long as the test needs (e.g. across a graceful shutdown).
    Pause {
        /// Notified once the write has reached the point just before its commit.
        reached: Arc<Notify>,
        /// The write commits once this is notified.
        resume: Arc<Notify>,
    },
    /// Abort the whole process, as a crash would (for tests that run the write in a child
    /// process).
    Abort,
}

/// Holds at most one armed fault.
#[derive(Debug, Default)]
pub(crate) struct Hooks {
    armed: Mutex<Option<Fault>>,
}

#[derive(Debug)]
struct InjectedFault;

impl std::fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected fault before commit")
    }
}

impl std::error::Error for InjectedFault {}

impl Hooks {
    pub(crate) fn arm(&self, fault: Fault) {
        *self.armed.lock() = Some(fault);
    }

    /// Runs the armed fault, if any.
    pub(crate) async fn before_commit(&self) -> Result<()> {
        let fault = self.armed.lock().take();
        match fault {
            None => Ok(()),
            Some(Fault::Error) => Err(Error::storage(InjectedFault)),
            Some(Fault::Unavailable) => Err(Error::unavailable(InjectedFault)),
            Some(Fault::Hang { reached }) => {
                reached.notify_one();
                std::future::pending::<()>().await;
                Ok(())
            }
            Some(Fault::Pause { reached, resume }) => {
                reached.notify_one();
                resume.notified().await;
                Ok(())
            }
            Some(Fault::Abort) => std::process::abort(),
        }
    }
}
