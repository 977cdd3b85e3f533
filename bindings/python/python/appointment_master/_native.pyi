"""Type stub of the compiled module ``appointment_master._native``."""

from datetime import date, datetime, time, timedelta
from typing import (
    Awaitable,
    Dict,
    Generic,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    final,
)

_T = TypeVar("_T")

_DateLike = Union[date, str]
_Windows = Union[Sequence[str], str]
_WeeklyHoursLike = Union[str, Mapping[str, _Windows]]
"""Weekly hours: text like ``"mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"`` or a dict
like ``{"mon-fri": ["09:00-12:00", "13:00-17:30"], "sat": ["10:00-14:00"]}``."""
_OverridesLike = Mapping[_DateLike, _Windows]
"""Date overrides: ``{date(2031, 12, 24): ["09:00-12:00"], date(2031, 12, 25): []}``."""
_ClosureLike = Union["Closure", Tuple[_DateLike, _DateLike], Tuple[_DateLike, _DateLike, Optional[str]]]
"""A closure: a :class:`Closure` or a tuple ``(first, last)`` / ``(first, last, label)``."""

class AppointmentError(Exception):
    """Base class of every error the engine reports; ``code`` names its kind."""

    code: str

class SlotFullError(AppointmentError):
    requested: int
    available: int

class NotFoundError(AppointmentError):
    entity: str

class DuplicateError(AppointmentError):
    what: str

class BannedError(AppointmentError): ...
class RegistrationRequiredError(AppointmentError): ...
class EmailNotVerifiedError(AppointmentError): ...
class ForbiddenError(AppointmentError): ...

class InvalidInputError(AppointmentError):
    """An input is not acceptable; nothing was changed. ``field`` names the argument as this API
    names it (``slot_minutes``, ``time_zone``, ``kind``, ``start``, …), as the message does."""

    field: str
    reason: str

class InvalidTransitionError(AppointmentError):
    status: str
    action: str

class TooLateError(AppointmentError):
    """Too late for this change: past the cancellation cut-off, or the slot has started."""

    action: str
    deadline: datetime

class TooEarlyError(AppointmentError):
    """Too early for this change: a booking is marked only once its slot has started."""

    action: str
    from_: datetime

class HoldEndedError(AppointmentError):
    """The hold no longer keeps its seats: it expired, was released or was booked."""

    status: str

class ChangedError(AppointmentError):
    """The appointment changed since it was read (``if_revision`` named another revision)."""

    entity: str

class StorageError(AppointmentError): ...
class UnavailableError(StorageError): ...

@final
class User:
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def email_verified_at(self) -> Optional[datetime]:
        """When the user proved they receive mail at ``email``, or ``None``."""

@final
class Closure:
    """Local dates with no slots at all (a holiday, a vacation), ``first`` to ``last`` inclusive."""

    def __new__(cls, first: date, last: date, label: Optional[str] = None) -> "Closure": ...
    @property
    def first(self) -> date: ...
    @property
    def last(self) -> date: ...
    @property
    def label(self) -> Optional[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Appointment:
    @property
    def id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def owner_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def capacity(self) -> int: ...
    @property
    def anti_scalping(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def start_time(self) -> time: ...
    @property
    def end_time(self) -> time: ...
    @property
    def slot_minutes(self) -> int: ...
    @property
    def buffer_minutes(self) -> int: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def weekdays(self) -> List[str]: ...
    @property
    def min_notice_minutes(self) -> int: ...
    @property
    def horizon_days(self) -> Optional[int]: ...
    @property
    def cancel_cutoff_minutes(self) -> int: ...
    @property
    def hold_minutes(self) -> int: ...
    @property
    def confirm_within_minutes(self) -> Optional[int]:
        """Approval: minutes the owner has to confirm a booking (``None``: active at once)."""
    @property
    def weekly_hours(self) -> str: ...
    @property
    def weekly_hours_by_day(self) -> Dict[str, List[str]]: ...
    @property
    def overrides(self) -> Dict[date, List[str]]: ...
    @property
    def closures(self) -> List[Closure]: ...
    @property
    def resource(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def revision(self) -> int: ...

@final
class AppointmentEdit:
    """What an edit, close or reopen did."""

    @property
    def appointment(self) -> Appointment: ...
    @property
    def bookings_outside_hours(self) -> int: ...

@final
class Slot:
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def local_date(self) -> date: ...
    @property
    def capacity(self) -> int: ...
    @property
    def seats_taken(self) -> int: ...
    @property
    def seats_left(self) -> int: ...

@final
class Booking:
    @property
    def id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def appointment_id(self) -> str: ...
    @property
    def app_code(self) -> str: ...
    @property
    def user_id(self) -> Optional[str]: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone(self) -> Optional[str]: ...
    @property
    def slot_start(self) -> datetime: ...
    @property
    def slot_end(self) -> datetime: ...
    @property
    def attendee_count(self) -> int: ...
    @property
    def status(self) -> str:
        """As of the engine's clock when read: ``"active"``, ``"pending"``, ``"declined"``,
        ``"expired"``, ``"cancelled"``, ``"rejected"``, ``"completed"`` or ``"no_show"``."""
    @property
    def confirm_by(self) -> Optional[datetime]:
        """While pending: when it expires unless the owner confirms it; ``None`` otherwise."""
    @property
    def description(self) -> str: ...
    @property
    def device_id(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...

@final
class Hold:
    """Seats of one slot kept for a short time for whoever holds ``token``."""

    @property
    def id(self) -> str:
        """How events name the hold (``Event.hold_id``); they never carry its token."""
    @property
    def token(self) -> str: ...
    @property
    def app_code(self) -> str: ...
    @property
    def slot_start(self) -> datetime: ...
    @property
    def slot_end(self) -> datetime: ...
    @property
    def seats(self) -> int: ...
    @property
    def status(self) -> str:
        """``"held"``, ``"released"``, ``"expired"`` or ``"booked"``."""
    @property
    def expires_at(self) -> datetime: ...
    @property
    def booking_id(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...

@final
class WaitlistPlace:
    """A place on a slot's waiting list, as of the engine's clock when it was read."""

    @property
    def code(self) -> str:
        """``WL-…``: shows the place and leaves the list; keep it like a booking code."""
    @property
    def app_code(self) -> str: ...
    @property
    def slot_start(self) -> datetime: ...
    @property
    def slot_end(self) -> datetime: ...
    @property
    def seats(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def status(self) -> str:
        """``"waiting"``, ``"offered"``, ``"booked"``, ``"expired"`` or ``"left"``."""
    @property
    def position(self) -> int:
        """1 for the next in line; 0 once it no longer waits."""
    @property
    def offer(self) -> Optional[Hold]:
        """The hold of the seats offered to this place (book with its ``token``), once offered."""
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...

@final
class Event:
    """One entry of the outbox: what happened to an appointment, a booking, a hold or a place on
    a waiting list, with that thing as the change left it. Fields of other kinds of thing are
    ``None``; a hold's token never appears."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str:
        """``entity.verb``: ``"appointment.created"``, ``"booking.confirmed"``,
        ``"hold.released"``, ``"waitlist.offered"``, …"""
    @property
    def version(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def cursor(self) -> str:
        """``"TX.SEQ"``: ``events(after=cursor)`` goes on after this event."""
    @property
    def owner_id(self) -> str: ...
    @property
    def appointment_id(self) -> str: ...
    @property
    def app_code(self) -> str: ...
    @property
    def status(self) -> str:
        """The appointment's, booking's, hold's or place's status after the change."""
    @property
    def revision(self) -> Optional[int]:
        """Appointment events: the revision after the change."""
    @property
    def booking_id(self) -> Optional[str]:
        """Booking events: the booking's id; hold events: the booking it became, once booked."""
    @property
    def booking_code(self) -> Optional[str]: ...
    @property
    def hold_id(self) -> Optional[str]:
        """Hold events: the hold's id (``Hold.id``); waiting-list events: the offer's hold."""
    @property
    def waitlist_code(self) -> Optional[str]: ...
    @property
    def slot_start(self) -> Optional[datetime]: ...
    @property
    def slot_end(self) -> Optional[datetime]: ...
    @property
    def seats(self) -> Optional[int]:
        """Booking, hold and waiting-list events: the seats booked, held or wanted."""
    @property
    def name(self) -> Optional[str]: ...
    @property
    def email(self) -> Optional[str]: ...
    @property
    def confirm_by(self) -> Optional[datetime]:
        """Booking events under approval: the deadline for the owner's confirmation."""
    @property
    def expires_at(self) -> Optional[datetime]: ...

@final
class EventPage:
    """One read of the outbox: the events after a cursor, oldest first, and the cursor to read
    on from."""

    @property
    def events(self) -> List[Event]: ...
    @property
    def next(self) -> str:
        """The last event's cursor, or the one asked from when there was none."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Event]: ...

@final
class Ban:
    @property
    def id(self) -> str: ...
    @property
    def owner_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...

@final
class Analytics:
    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def appointments_created(self) -> int: ...
    @property
    def active_bookings(self) -> int: ...
    @property
    def pending_bookings(self) -> int: ...
    @property
    def declined_bookings(self) -> int: ...
    @property
    def expired_bookings(self) -> int: ...
    @property
    def cancelled_bookings(self) -> int: ...
    @property
    def rejected_bookings(self) -> int: ...
    @property
    def completed_bookings(self) -> int: ...
    @property
    def no_show_bookings(self) -> int: ...
    @property
    def no_show_rate(self) -> Optional[float]: ...
    @property
    def total_bookings(self) -> int: ...
    @property
    def seats_booked(self) -> int: ...
    @property
    def seats_pending(self) -> int: ...
    @property
    def seats_held(self) -> int:
        """Seats kept by holds live when the figures were counted (waiting-list offers too)."""
    @property
    def seats_offered(self) -> int: ...

@final
class Page(Generic[_T]):
    """One page of a longer list."""

    @property
    def items(self) -> List[_T]: ...
    @property
    def page(self) -> int: ...
    @property
    def per_page(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def total_pages(self) -> int: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_T]: ...

@final
class ManualClock:
    """A clock that stands still until moved, for tests and simulations.

    ``Scheduler(url, clock=clock)`` reads "now" from it instead of the system's clock.
    """

    def __new__(cls, now: datetime) -> "ManualClock": ...
    def now(self) -> datetime: ...
    def set(self, now: datetime) -> None: ...
    def advance(self, by: timedelta) -> None: ...

@final
class Scheduler:
    """The booking engine over one store (``memory:``, ``sqlite:…``, ``postgres://…``).

    Safe to share between threads; calls release the GIL while the engine works. ``clock``
    (tests and simulations only) pins the engine's time to a :class:`ManualClock`.
    """

    def __new__(
        cls,
        url: str = "memory:",
        *,
        clock: Optional[ManualClock] = None,
        verified_email_required: bool = False,
    ) -> "Scheduler": ...
    def register_user(
        self, name: str, email: str, *, phone: Optional[str] = None, password_hash: str = ""
    ) -> User: ...
    def user(self, user_id: str) -> User: ...
    def user_by_email(self, email: str) -> Optional[User]:
        """The user registered with ``email`` (case does not matter), or ``None``."""
    def verify_email(self, user_id: str, email: str) -> User:
        """Records that the user proved they receive mail at ``email``; the first time is kept."""
    def create_appointment(
        self,
        owner_id: str,
        *,
        title: str,
        start_date: date,
        end_date: date,
        start_time: Optional[time] = None,
        end_time: Optional[time] = None,
        slot_minutes: int,
        kind: str = "single",
        capacity: Optional[int] = None,
        description: str = "",
        anti_scalping: str = "none",
        time_zone: str = "UTC",
        weekdays: Optional[List[str]] = None,
        buffer_minutes: int = 0,
        min_notice_minutes: int = 0,
        horizon_days: Optional[int] = None,
        weekly_hours: Optional[_WeeklyHoursLike] = None,
        overrides: Optional[_OverridesLike] = None,
        closures: Optional[Iterable[_ClosureLike]] = None,
        resource: Optional[str] = None,
        cancel_cutoff_minutes: int = 0,
        hold_minutes: int = 10,
        confirm_within_minutes: Optional[int] = None,
    ) -> Appointment: ...
    def appointment(self, code: str) -> Appointment: ...
    def attendees_booked(self, code: str) -> int: ...
    def update_appointment(
        self,
        owner_id: str,
        code: str,
        *,
        title: Optional[str] = None,
        description: Optional[str] = None,
        weekly_hours: Optional[_WeeklyHoursLike] = None,
        overrides: Optional[_OverridesLike] = None,
        closures: Optional[Iterable[_ClosureLike]] = None,
        buffer_minutes: Optional[int] = None,
        min_notice_minutes: Optional[int] = None,
        horizon_days: Optional[int] = None,
        remove_horizon: bool = False,
        closed: Optional[bool] = None,
        resource: Optional[str] = None,
        remove_resource: bool = False,
        cancel_cutoff_minutes: Optional[int] = None,
        hold_minutes: Optional[int] = None,
        confirm_within_minutes: Optional[int] = None,
        remove_approval: bool = False,
        if_revision: Optional[int] = None,
    ) -> AppointmentEdit: ...
    def close_appointment(
        self, owner_id: str, code: str, *, if_revision: Optional[int] = None
    ) -> AppointmentEdit: ...
    def reopen_appointment(
        self, owner_id: str, code: str, *, if_revision: Optional[int] = None
    ) -> AppointmentEdit: ...
    def delete_appointment(self, owner_id: str, code: str) -> None: ...
    def my_appointments(
        self, owner_id: str, *, page: int = 1, per_page: int = 20
    ) -> Page[Appointment]: ...
    def slots(
        self, code: str, *, day: Optional[date] = None, page: int = 1, per_page: int = 20
    ) -> Page[Slot]: ...
    def slots_between(
        self, code: str, start: datetime, end: datetime, *, page: int = 1, per_page: int = 20
    ) -> Page[Slot]: ...
    def all_slots(self, code: str, *, day: Optional[date] = None) -> List[Slot]: ...
    def slot(self, code: str, start: datetime) -> Slot: ...
    def book(
        self,
        code: str,
        start: datetime,
        *,
        name: str,
        email: str,
        phone: Optional[str] = None,
        attendee_count: int = 1,
        description: str = "",
        device_id: Optional[str] = None,
        hold_token: Optional[str] = None,
    ) -> Booking: ...
    def book_as_user(
        self,
        code: str,
        start: datetime,
        user_id: str,
        *,
        attendee_count: int = 1,
        description: str = "",
        device_id: Optional[str] = None,
        hold_token: Optional[str] = None,
    ) -> Booking: ...
    def hold(self, code: str, start: datetime, *, seats: int = 1) -> Hold: ...
    def hold_by_token(self, token: str) -> Hold: ...
    def release_hold(self, token: str) -> Hold: ...
    def join_waitlist(
        self, code: str, start: datetime, *, name: str, email: str, seats: int = 1
    ) -> WaitlistPlace: ...
    def waitlist_place(self, code: str) -> WaitlistPlace: ...
    def leave_waitlist(self, code: str) -> WaitlistPlace: ...
    def booking(self, code: str) -> Booking: ...
    def reschedule(
        self,
        code: str,
        start: datetime,
        *,
        attendee_count: Optional[int] = None,
        description: Optional[str] = None,
    ) -> Booking: ...
    def owner_reschedule(
        self,
        owner_id: str,
        code: str,
        start: datetime,
        *,
        attendee_count: Optional[int] = None,
        description: Optional[str] = None,
    ) -> Booking: ...
    def cancel(self, code: str) -> Booking: ...
    def owner_cancel(self, owner_id: str, code: str) -> Booking: ...
    def reject(self, owner_id: str, code: str) -> Booking: ...
    def complete(self, owner_id: str, code: str) -> Booking: ...
    def mark_no_show(self, owner_id: str, code: str) -> Booking: ...
    def confirm(self, owner_id: str, code: str) -> Booking: ...
    def decline(self, owner_id: str, code: str) -> Booking: ...
    def reclaim_expired(self, code: str) -> int: ...
    def reclaim_all_expired(self, *, limit: int = 100) -> int:
        """Reclaims what ran out on every appointment (at most ``limit`` of them); answers the
        seats given back."""
    def appointment_bookings(
        self, owner_id: str, code: str, *, page: int = 1, per_page: int = 20
    ) -> Page[Booking]: ...
    def user_bookings(
        self, user_id: str, *, page: int = 1, per_page: int = 20
    ) -> Page[Booking]: ...
    def ban(self, owner_id: str, email: str) -> Ban: ...
    def unban(self, owner_id: str, email: str) -> None: ...
    def bans(self, owner_id: str) -> List[Ban]: ...
    def events(
        self, after: Optional[str] = None, *, limit: int = 100, owner_id: Optional[str] = None
    ) -> EventPage:
        """The events after the cursor ``after`` (``None``: from the start), oldest first, at
        most ``limit`` (1 to 1000); with ``owner_id``, only that owner's. Read on from
        ``EventPage.next``."""
    def analytics(self, owner_id: str, start_date: date, end_date: date) -> Analytics: ...

@final
class AsyncScheduler:
    """The booking engine over one store, for asyncio: every method of :class:`Scheduler`,
    each returning an awaitable (an ``asyncio.Future`` of the running event loop) that the
    engine's runtime completes, so the event loop is never blocked.

    Open one with ``await AsyncScheduler.open(url, clock=...)``. A call starts when the method
    is called. Cancelling the task awaiting it does not stop the engine: the call runs to
    completion and its answer is dropped, so a write is either done entirely or not at all.
    """

    @staticmethod
    def open(
        url: str = "memory:",
        *,
        clock: Optional[ManualClock] = None,
        verified_email_required: bool = False,
    ) -> Awaitable["AsyncScheduler"]: ...
    def register_user(
        self, name: str, email: str, *, phone: Optional[str] = None, password_hash: str = ""
    ) -> Awaitable[User]: ...
    def user(self, user_id: str) -> Awaitable[User]: ...
    def user_by_email(self, email: str) -> Awaitable[Optional[User]]: ...
    def verify_email(self, user_id: str, email: str) -> Awaitable[User]: ...
    def create_appointment(
        self,
        owner_id: str,
        *,
        title: str,
        start_date: date,
        end_date: date,
        start_time: Optional[time] = None,
        end_time: Optional[time] = None,
        slot_minutes: int,
        kind: str = "single",
        capacity: Optional[int] = None,
        description: str = "",
        anti_scalping: str = "none",
        time_zone: str = "UTC",
        weekdays: Optional[List[str]] = None,
        buffer_minutes: int = 0,
        min_notice_minutes: int = 0,
        horizon_days: Optional[int] = None,
        weekly_hours: Optional[_WeeklyHoursLike] = None,
        overrides: Optional[_OverridesLike] = None,
        closures: Optional[Iterable[_ClosureLike]] = None,
        resource: Optional[str] = None,
        cancel_cutoff_minutes: int = 0,
        hold_minutes: int = 10,
        confirm_within_minutes: Optional[int] = None,
    ) -> Awaitable[Appointment]: ...
    def appointment(self, code: str) -> Awaitable[Appointment]: ...
    def attendees_booked(self, code: str) -> Awaitable[int]: ...
    def update_appointment(
        self,
        owner_id: str,
        code: str,
        *,
        title: Optional[str] = None,
        description: Optional[str] = None,
        weekly_hours: Optional[_WeeklyHoursLike] = None,
        overrides: Optional[_OverridesLike] = None,
        closures: Optional[Iterable[_ClosureLike]] = None,
        buffer_minutes: Optional[int] = None,
        min_notice_minutes: Optional[int] = None,
        horizon_days: Optional[int] = None,
        remove_horizon: bool = False,
        closed: Optional[bool] = None,
        resource: Optional[str] = None,
        remove_resource: bool = False,
        cancel_cutoff_minutes: Optional[int] = None,
        hold_minutes: Optional[int] = None,
        confirm_within_minutes: Optional[int] = None,
        remove_approval: bool = False,
        if_revision: Optional[int] = None,
    ) -> Awaitable[AppointmentEdit]: ...
    def close_appointment(
        self, owner_id: str, code: str, *, if_revision: Optional[int] = None
    ) -> Awaitable[AppointmentEdit]: ...
    def reopen_appointment(
        self, owner_id: str, code: str, *, if_revision: Optional[int] = None
    ) -> Awaitable[AppointmentEdit]: ...
    def delete_appointment(self, owner_id: str, code: str) -> Awaitable[None]: ...
    def my_appointments(
        self, owner_id: str, *, page: int = 1, per_page: int = 20
    ) -> Awaitable[Page[Appointment]]: ...
    def slots(
        self, code: str, *, day: Optional[date] = None, page: int = 1, per_page: int = 20
    ) -> Awaitable[Page[Slot]]: ...
    def slots_between(
        self, code: str, start: datetime, end: datetime, *, page: int = 1, per_page: int = 20
    ) -> Awaitable[Page[Slot]]: ...
    def all_slots(self, code: str, *, day: Optional[date] = None) -> Awaitable[List[Slot]]: ...
    def slot(self, code: str, start: datetime) -> Awaitable[Slot]: ...
    def book(
        self,
        code: str,
        start: datetime,
        *,
        name: str,
        email: str,
        phone: Optional[str] = None,
        attendee_count: int = 1,
        description: str = "",
        device_id: Optional[str] = None,
        hold_token: Optional[str] = None,
    ) -> Awaitable[Booking]: ...
    def book_as_user(
        self,
        code: str,
        start: datetime,
        user_id: str,
        *,
        attendee_count: int = 1,
        description: str = "",
        device_id: Optional[str] = None,
        hold_token: Optional[str] = None,
    ) -> Awaitable[Booking]: ...
    def hold(self, code: str, start: datetime, *, seats: int = 1) -> Awaitable[Hold]: ...
    def hold_by_token(self, token: str) -> Awaitable[Hold]: ...
    def release_hold(self, token: str) -> Awaitable[Hold]: ...
    def join_waitlist(
        self, code: str, start: datetime, *, name: str, email: str, seats: int = 1
    ) -> Awaitable[WaitlistPlace]: ...
    def waitlist_place(self, code: str) -> Awaitable[WaitlistPlace]: ...
    def leave_waitlist(self, code: str) -> Awaitable[WaitlistPlace]: ...
    def booking(self, code: str) -> Awaitable[Booking]: ...
    def reschedule(
        self,
        code: str,
        start: datetime,
        *,
        attendee_count: Optional[int] = None,
        description: Optional[str] = None,
    ) -> Awaitable[Booking]: ...
    def owner_reschedule(
        self,
        owner_id: str,
        code: str,
        start: datetime,
        *,
        attendee_count: Optional[int] = None,
        description: Optional[str] = None,
    ) -> Awaitable[Booking]: ...
    def cancel(self, code: str) -> Awaitable[Booking]: ...
    def owner_cancel(self, owner_id: str, code: str) -> Awaitable[Booking]: ...
    def reject(self, owner_id: str, code: str) -> Awaitable[Booking]: ...
    def complete(self, owner_id: str, code: str) -> Awaitable[Booking]: ...
    def mark_no_show(self, owner_id: str, code: str) -> Awaitable[Booking]: ...
    def confirm(self, owner_id: str, code: str) -> Awaitable[Booking]: ...
    def decline(self, owner_id: str, code: str) -> Awaitable[Booking]: ...
    def reclaim_expired(self, code: str) -> Awaitable[int]: ...
    def reclaim_all_expired(self, *, limit: int = 100) -> Awaitable[int]: ...
    def appointment_bookings(
        self, owner_id: str, code: str, *, page: int = 1, per_page: int = 20
    ) -> Awaitable[Page[Booking]]: ...
    def user_bookings(
        self, user_id: str, *, page: int = 1, per_page: int = 20
    ) -> Awaitable[Page[Booking]]: ...
    def ban(self, owner_id: str, email: str) -> Awaitable[Ban]: ...
    def unban(self, owner_id: str, email: str) -> Awaitable[None]: ...
    def bans(self, owner_id: str) -> Awaitable[List[Ban]]: ...
    def events(
        self, after: Optional[str] = None, *, limit: int = 100, owner_id: Optional[str] = None
    ) -> Awaitable[EventPage]: ...
    def analytics(self, owner_id: str, start_date: date, end_date: date) -> Awaitable[Analytics]: ...
