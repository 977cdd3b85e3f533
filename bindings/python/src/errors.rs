//! The engine's errors as Python exceptions: one base class and one subclass per kind.

use appointment_core::Error;
use pyo3::IntoPyObjectExt;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    appointment_master,
    AppointmentError,
    PyException,
    "Base class of every error the engine reports; `code` names its kind."
);
create_exception!(
    appointment_master,
    SlotFullError,
    AppointmentError,
    "The slot (or party) has fewer seats left than were asked for (`requested`, `available`)."
);
create_exception!(
    appointment_master,
    NotFoundError,
    AppointmentError,
    "The thing named does not exist (`entity`: appointment, booking, user, ban, hold or waitlist entry)."
);
create_exception!(
    appointment_master,
    DuplicateError,
    AppointmentError,
    "A unique rule was broken (`what`: e.g. an active booking for this email, a place on the waiting list for this email)."
);
create_exception!(
    appointment_master,
    BannedError,
    AppointmentError,
    "The appointment's owner has banned this email."
);
create_exception!(
    appointment_master,
    RegistrationRequiredError,
    AppointmentError,
    "The appointment takes bookings of registered users only (strict anti-scalping)."
);
create_exception!(
    appointment_master,
    EmailNotVerifiedError,
    AppointmentError,
    "The appointment takes bookings of users with a verified email address (strict anti-scalping)."
);
create_exception!(
    appointment_master,
    ForbiddenError,
    AppointmentError,
    "The caller may not do this (e.g. reject a booking of someone else's appointment)."
);
create_exception!(
    appointment_master,
    InvalidInputError,
    AppointmentError,
    "An input is not acceptable (`field`, `reason`); nothing was changed."
);
create_exception!(
    appointment_master,
    InvalidTransitionError,
    AppointmentError,
    "The booking's status does not allow this (`status`, `action`)."
);
create_exception!(
    appointment_master,
    TooLateError,
    AppointmentError,
    "Too late for this change (`action`): past the cancellation cut-off, or the slot has started; `deadline` is the last instant it was allowed. Nothing was changed."
);
create_exception!(
    appointment_master,
    TooEarlyError,
    AppointmentError,
    "Too early for this change (`action`): a booking is marked completed or no-show only once its slot has started; `from_` is the first instant it is allowed. Nothing was changed."
);
create_exception!(
    appointment_master,
    HoldEndedError,
    AppointmentError,
    "The hold no longer keeps its seats (`status`: expired, released or booked); nothing was changed."
);
create_exception!(
    appointment_master,
    ChangedError,
    AppointmentError,
    "The thing (`entity`: appointment) changed since it was read: an edit, close or reopen given `if_revision` found another revision; nothing was changed."
);
create_exception!(
    appointment_master,
    StorageError,
    AppointmentError,
    "The store failed for a reason of its own (connection lost, disk full)."
);
create_exception!(
    appointment_master,
    UnavailableError,
    StorageError,
    "The store cannot be reached right now (database down or restarting); retrying later may succeed."
);

/// Python's name for an input the engine names otherwise (the engine uses the REST API's names:
/// `timezone`, `type`, `booking_duration`, `max_attendees`, …). Where `only_in` lists methods,
/// the entry holds in those methods only (there the engine's name means another argument than
/// elsewhere); an empty list means every method.
struct Argument {
    engine: &'static str,
    python: &'static str,
    only_in: &'static [&'static str],
    /// Words of the engine's reason that name its inputs, and Python's words for them.
    reason_words: &'static [(&'static str, &'static str)],
}

const fn everywhere(engine: &'static str, python: &'static str) -> Argument {
    Argument {
        engine,
        python,
        only_in: &[],
        reason_words: &[],
    }
}

/// The one table of input names that differ between the engine and the Python API. An engine
/// name not listed is the Python argument's name too (`email`, `title`, `attendee_count`,
/// `buffer_minutes`, …).
const ARGUMENTS: &[Argument] = &[
    everywhere("timezone", "time_zone"),
    everywhere("type", "kind"),
    everywhere("anti_scalping_level", "anti_scalping"),
    everywhere("booking_duration", "slot_minutes"),
    everywhere("max_attendees", "capacity"),
    // Every method names the appointment's or the booking's code `code`.
    everywhere("app_code", "code"),
    everywhere("booking_code", "code"),
    // A slot is named by its start: `book`, `hold`, `slot`, `reschedule`, ….
    everywhere("start_time", "start"),
    everywhere("device_token", "device_id"),
    everywhere("database_url", "url"),
    // `slots_between(code, start, end)`: the engine's window is `from` to `to`.
    Argument {
        engine: "to",
        python: "end",
        only_in: &[],
        reason_words: &[("from", "start")],
    },
    // `waitlist_place(code)`, `leave_waitlist(code)`.
    everywhere("waitlist_code", "code"),
    // `hold(code, start, *, seats)`, `join_waitlist(code, start, *, ..., seats)`: the engine
    // counts those seats as an attendee count.
    Argument {
        engine: "attendee_count",
        python: "seats",
        only_in: &["hold", "join_waitlist"],
        reason_words: &[],
    },
    // `hold_by_token(token)`, `release_hold(token)`; `book(..., hold_token=...)` keeps its name.
    Argument {
        engine: "hold_token",
        python: "token",
        only_in: &["hold_by_token", "release_hold"],
        reason_words: &[],
    },
];

// The table renames each name once: a Python name is never an engine name, and an engine name
// is listed at most once for every method and once for all of them. Checked when compiling.
const _: () = {
    let mut i = 0;
    while i < ARGUMENTS.len() {
        let mut j = 0;
        while j < ARGUMENTS.len() {
            let (a, b) = (&ARGUMENTS[i], &ARGUMENTS[j]);
            assert!(!same(a.python, b.engine), "a Python name is an engine name");
            assert!(
                i == j || !same(a.engine, b.engine) || !share_scope(a.only_in, b.only_in),
                "an engine name is listed twice for one method"
            );
            j += 1;
        }
        i += 1;
    }
};

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut k = 0;
    while k < a.len() {
        if a[k] != b[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// Whether two entries' `only_in` lists hold for a common method (both empty: every method).
const fn share_scope(a: &[&str], b: &[&str]) -> bool {
    if a.is_empty() || b.is_empty() {
        return a.is_empty() && b.is_empty();
    }
    let mut i = 0;
    while i < a.len() {
        let mut j = 0;
        while j < b.len() {
            if same(a[i], b[j]) {
                return true;
            }
            j += 1;
        }
        i += 1;
    }
    false
}

/// The engine's error with the input it names as the Python argument, in `field` and in the
/// message, as seen from `method` (`None`: the entries that hold in every method).
fn in_python_terms(err: Error, method: Option<&str>) -> Error {
    let Error::InvalidInput { field, reason } = err else {
        return err;
    };
    let applies = |a: &&Argument| {
        a.engine == field
            && match method {
                Some(m) => a.only_in.contains(&m),
                None => a.only_in.is_empty(),
            }
    };
    match ARGUMENTS.iter().find(applies) {
        Some(arg) => Error::InvalidInput {
            field: arg.python,
            reason: arg.reason_words.iter().fold(reason, |r, (engine, python)| {
                replace_word(&r, engine, python)
            }),
        },
        None => Error::InvalidInput { field, reason },
    }
}

/// `text` with every whole-word `word` replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// For a method whose arguments the engine names otherwise than in the rest of the API (`hold`,
/// `hold_by_token`, `release_hold`, `join_waitlist`): its engine errors named as its own arguments.
/// `to_py_err` then names the rest.
pub(crate) fn in_method(method: &'static str) -> impl Fn(Error) -> Error {
    move |err| in_python_terms(err, Some(method))
}

/// `InvalidInputError` for an argument the bindings refuse themselves, `arg` being its Python
/// name.
pub(crate) fn invalid_argument(arg: &'static str, reason: impl Into<String>) -> PyErr {
    exception(Error::invalid(arg, reason))
}

/// Builds the Python exception for an engine error, with its details as attributes; an input
/// it names is named as the Python argument (see `ARGUMENTS`).
pub(crate) fn to_py_err(err: Error) -> PyErr {
    exception(in_python_terms(err, None))
}

/// The exception of the error's kind, its message the error's text.
fn exception(err: Error) -> PyErr {
    Python::attach(|py| {
        let message = match &err {
            // The store's own error is worth showing to an embedding program (it is not a client).
            Error::Storage(source) | Error::Unavailable(source) => format!("{err}: {source}"),
            _ => err.to_string(),
        };
        let (py_err, attrs): (PyErr, Vec<(&str, Py<PyAny>)>) = match &err {
            Error::SlotFull {
                requested,
                available,
            } => (
                SlotFullError::new_err(message),
                vec![
                    ("requested", to_obj(py, *requested)),
                    ("available", to_obj(py, *available)),
                ],
            ),
            Error::NotFound(entity) => (
                NotFoundError::new_err(message),
                vec![("entity", to_obj(py, entity.to_string()))],
            ),
            Error::Duplicate(what) => (
                DuplicateError::new_err(message),
                vec![("what", to_obj(py, what.to_string()))],
            ),
            Error::Banned => (BannedError::new_err(message), Vec::new()),
            Error::RegistrationRequired => {
                (RegistrationRequiredError::new_err(message), Vec::new())
            }
            Error::EmailNotVerified => (EmailNotVerifiedError::new_err(message), Vec::new()),
            Error::Forbidden(_) => (ForbiddenError::new_err(message), Vec::new()),
            Error::InvalidInput { field, reason } => (
                InvalidInputError::new_err(message),
                vec![
                    ("field", to_obj(py, *field)),
                    ("reason", to_obj(py, reason.clone())),
                ],
            ),
            Error::InvalidTransition { from, action } => (
                InvalidTransitionError::new_err(message),
                vec![
                    ("status", to_obj(py, from.as_str())),
                    ("action", to_obj(py, *action)),
                ],
            ),
            Error::TooLate { action, deadline } => (
                TooLateError::new_err(message),
                vec![
                    ("action", to_obj(py, *action)),
                    ("deadline", to_obj(py, *deadline)),
                ],
            ),
            // `from` is a Python keyword.
            Error::TooEarly { action, from } => (
                TooEarlyError::new_err(message),
                vec![
                    ("action", to_obj(py, *action)),
                    ("from_", to_obj(py, *from)),
                ],
            ),
            Error::HoldEnded { status } => (
                HoldEndedError::new_err(message),
                vec![("status", to_obj(py, status.as_str()))],
            ),
            Error::Changed(entity) => (
                ChangedError::new_err(message),
                vec![("entity", to_obj(py, entity.to_string()))],
            ),
            Error::Storage(_) => (StorageError::new_err(message), Vec::new()),
            Error::Unavailable(_) => (UnavailableError::new_err(message), Vec::new()),
            _ => (AppointmentError::new_err(message), Vec::new()),
        };
        let value = py_err.value(py);
        let _ = value.setattr("code", err.code());
        for (name, v) in attrs {
            let _ = value.setattr(name, v);
        }
        py_err
    })
}

fn to_obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Py<PyAny> {
    v.into_py_any(py).unwrap_or_else(|_| py.None())
}

/// `?` for engine results inside Python methods.
pub(crate) trait OrRaise<T> {
    /// The value, or the engine's error as a Python exception, naming Python's arguments.
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for appointment_core::Result<T> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// Registers the exception classes in the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("AppointmentError", py.get_type::<AppointmentError>())?;
    m.add("SlotFullError", py.get_type::<SlotFullError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("DuplicateError", py.get_type::<DuplicateError>())?;
    m.add("BannedError", py.get_type::<BannedError>())?;
    m.add(
        "RegistrationRequiredError",
        py.get_type::<RegistrationRequiredError>(),
    )?;
    m.add(
        "EmailNotVerifiedError",
        py.get_type::<EmailNotVerifiedError>(),
    )?;
    m.add("ForbiddenError", py.get_type::<ForbiddenError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add(
        "InvalidTransitionError",
        py.get_type::<InvalidTransitionError>(),
    )?;
    m.add("TooLateError", py.get_type::<TooLateError>())?;
    m.add("TooEarlyError", py.get_type::<TooEarlyError>())?;
    m.add("HoldEndedError", py.get_type::<HoldEndedError>())?;
    m.add("ChangedError", py.get_type::<ChangedError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    m.add("UnavailableError", py.get_type::<UnavailableError>())?;
    Ok(())
}
