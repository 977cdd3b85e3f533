//! How a call reaches the engine: blocking (`Scheduler`) or as an awaitable (`AsyncScheduler`).
//!
//! Both classes share every method (see the `scheduler_methods!` macro in `lib.rs`); a method
//! checks its arguments, builds the engine future and hands it to [`Run::call`], which either
//! blocks on it with the GIL released or returns an asyncio future that it completes.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Condvar, Mutex, OnceLock};

use appointment_core::{Paged, Scheduler as CoreScheduler};
use appointment_store::ServiceStore;
use pyo3::intern;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::PyString;
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
/// The engine future runs as its own task on the engine's runtime, started at once. Cancelling
/// the asyncio future (or the task awaiting it) does not stop that task: it runs to completion,
/// so a write is never left half done (each store write is one transaction anyway), and its
/// answer is dropped. The asyncio future is completed through `loop.call_soon_threadsafe`, and
/// only if it is not done (cancelled) by then.
///
/// This is the bridge pyo3-async-runtimes 0.30 offers, written out for two reasons: that crate
/// cancels the Rust future when the asyncio future is cancelled, and its completing threads may
/// still hold the GIL while the interpreter finalizes (a crash at exit). Here completions are
/// counted, and the interpreter's exit waits for those under way ([`exiting`]).
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = appointment_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // The loop first: without one nothing may start.
    let event_loop = py
        .import(intern!(py, "asyncio"))?
        .call_method0(intern!(py, "get_running_loop"))?;
    let py_fut = event_loop.call_method0(intern!(py, "create_future"))?;
    let target = (event_loop.unbind(), py_fut.clone().unbind());
    let engine_task = runtime().spawn(fut);
    runtime().spawn(async move {
        // A task of its own: it runs to completion whatever happens to the asyncio future.
        let answer = engine_task.await.map_err(|err| {
            if err.is_panic() {
                panic_message(err.into_panic())
            } else {
                "the engine's runtime shut down before the call finished".to_owned()
            }
        });
        // Completing takes the GIL: not on a runtime worker.
        let _ = tokio::task::spawn_blocking(move || complete(target, answer)).await;
    });
    Ok(py_fut)
}

/// Hands an answer to the asyncio future's loop, unless the interpreter is exiting.
fn complete<T>(
    (event_loop, py_fut): (Py<PyAny>, Py<PyAny>),
    answer: Result<appointment_core::Result<T>, String>,
) where
    T: for<'a> IntoPyObject<'a>,
{
    let Some(_completing) = Completing::start() else {
        return;
    };
    Python::attach(|py| {
        let (method, value) = match answer {
            Err(panic) => (
                intern!(py, "set_exception"),
                PanicException::new_err(panic).into_value(py).into_any(),
            ),
            Ok(answer) => match Answer(answer).into_bound_py_any(py) {
                Ok(value) => (intern!(py, "set_result"), value.unbind()),
                Err(err) => (intern!(py, "set_exception"), err.into_value(py).into_any()),
            },
        };
        // Fails only once the loop is closed: then no one waits for the answer.
        let _ = event_loop.bind(py).call_method1(
            intern!(py, "call_soon_threadsafe"),
            (Completer, py_fut, method, value),
        );
    });
}

/// Sets the answer on the loop's thread, if the future is not done (cancelled) by then.
#[pyclass(frozen)]
struct Completer;

#[pymethods]
impl Completer {
    fn __call__(
        &self,
        future: &Bound<'_, PyAny>,
        method: &Bound<'_, PyString>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if !future
            .call_method0(intern!(future.py(), "done"))?
            .is_truthy()?
        {
            future.call_method1(method, (value,))?;
        }
        Ok(())
    }
}

/// Completions under way, and whether the interpreter is exiting.
static COMPLETIONS: Mutex<(usize, bool)> = Mutex::new((0, false));
static COMPLETED: Condvar = Condvar::new();

/// One completion under way (`None` once the interpreter exits).
struct Completing;

impl Completing {
    fn start() -> Option<Self> {
        let mut state = COMPLETIONS.lock().unwrap_or_else(|e| e.into_inner());
        if state.1 {
            return None;
        }
        state.0 += 1;
        Some(Completing)
    }
}

impl Drop for Completing {
    fn drop(&mut self) {
        let mut state = COMPLETIONS.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        COMPLETED.notify_all();
    }
}

/// Registered with `atexit`: from now on answers are dropped, and the completions under way
/// finish (they need the GIL, which this releases) before the interpreter finalizes.
#[pyfunction]
pub(crate) fn exiting(py: Python<'_>) {
    py.detach(|| {
        let mut state = COMPLETIONS.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        while state.0 > 0 {
            state = COMPLETED.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    });
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

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => match panic.downcast::<&'static str>() {
            Ok(message) => (*message).to_owned(),
            Err(_) => "the engine panicked".to_owned(),
        },
    }
}
