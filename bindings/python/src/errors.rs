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
    "The thing named does not exist (`entity`: appointment, booking, user, ban or hold)."
);
create_exception!(
    appointment_master,
    DuplicateError,
    AppointmentError,
    "A unique rule was broken (`what`: e.g. an active booking for this email)."
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

/// Builds the Python exception for an engine error, with its details as attributes.
pub(crate) fn to_py_err(err: Error) -> PyErr {
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
    /// The value, or the engine's error as a Python exception.
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
