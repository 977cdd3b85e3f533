//! How a call reaches the engine: blocking (`Scheduler`) or as an awaitable (`AsyncScheduler`).
//!
//! Both classes share every method (see the `scheduler_methods!` macro in `lib.rs`); a method
//! checks its arguments, builds the engine future and hands it to [`Run::call`], which either
//! blocks on it with the GIL released or returns an asyncio future that it completes.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::OnceLock;

use appointment_core::{Paged, Scheduler as CoreScheduler};
use appointment_store::ServiceStore;
use pyo3::exceptions::PyRuntimeError;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::{IntoPyObjectExt, PyClass, PyClassInitializer};
use tokio::runtime::Runtime;

use crate::errors::OrRaise;
use crate::types::Page;

/// The engine over one store.
pub(crate) type Engine = CoreScheduler<dyn ServiceStore>;

/// The process's runtime for the engine; asyncio futures are completed from it too.
pub(crate) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("appointment-master")
            .build()
            .expect("the engine's tokio runtime could not start")
    })
}

/// A class whose methods call the engine.
pub(crate) trait Run {
    /// Runs the engine future `f` builds, and answers its value converted into Python (or its
    /// error as the exception of its kind), either at once or as an awaitable of it.
    fn call<'py, T, F>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(Engine) -> F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = appointment_core::Result<T>> + Send + 'static,
        T: for<'a> IntoPyObject<'a> + Send + 'static;
}

/// Runs an engine future on the runtime with the GIL released, and converts its answer.
pub(crate) fn block_on<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = appointment_core::Result<T>> + Send,
    T: for<'a> IntoPyObject<'a> + Send,
{
    let value = py.detach(move || runtime().block_on(fut)).or_raise()?;
    value.into_bound_py_any(py)
}

/// An asyncio future of the running event loop (`RuntimeError` without one) that the engine
/// future completes.
///
/// The engine future runs as its own task on the engine's runtime, started as soon as the
/// asyncio future exists. Cancelling the asyncio future (or the task awaiting it) does not stop
/// that task: it runs to completion, so a write is never left half done (each store write is
/// one transaction anyway), and its answer is dropped. The asyncio future is completed through
/// `loop.call_soon_threadsafe`, and only if it is not cancelled by then.
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = appointment_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    static BRIDGE: OnceLock<()> = OnceLock::new();
    BRIDGE.get_or_init(|| {
        // Err only if it was set before, and only this function sets it.
        let _ = pyo3_async_runtimes::tokio::init_with_runtime(runtime());
    });
    // The loop first: without one nothing may start.
    let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
    pyo3_async_runtimes::tokio::future_into_py_with_locals(py, locals, async move {
        // A task of its own: dropping its handle (on cancellation) detaches it, never stops it.
        match runtime().spawn(fut).await {
            Ok(answer) => Ok(Answer(answer)),
            Err(err) if err.is_panic() => {
                Err(PanicException::new_err(panic_message(err.into_panic())))
            }
            Err(_) => Err(PyRuntimeError::new_err(
                "the engine's runtime shut down before the call finished",
            )),
        }
    })
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => match panic.downcast::<&'static str>() {
            Ok(message) => (*message).to_owned(),
            Err(_) => "the engine panicked".to_owned(),
        },
    }
}

/// An engine answer on its way to an asyncio future: converted (values into classes, errors
/// into exceptions) once the GIL is held.
struct Answer<T>(appointment_core::Result<T>);

impl<'py, T: IntoPyObject<'py>> IntoPyObject<'py> for Answer<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.or_raise()?.into_bound_py_any(py)
    }
}

/// A page of engine values, converted into a `Page` of `P` once the GIL is held.
pub(crate) struct PageOf<T, P>(Paged<T>, PhantomData<fn() -> P>);

impl<T, P> PageOf<T, P> {
    pub(crate) fn new(paged: Paged<T>) -> Self {
        PageOf(paged, PhantomData)
    }
}

impl<'py, T, P> IntoPyObject<'py> for PageOf<T, P>
where
    P: From<T> + PyClass + Into<PyClassInitializer<P>>,
{
    type Target = Page;
    type Output = Bound<'py, Page>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, Page>> {
        Bound::new(py, Page::new::<T, P>(py, self.0)?)
    }
}
