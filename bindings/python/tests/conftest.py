"""Fixtures: a scheduler on each store the build supports, and a user who owns appointments."""

import os
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

from appointment_master import Appointment, ManualClock, Scheduler, User

# A Monday far enough ahead that every slot of it is in the future.
DAY = date(2031, 3, 3)


def at(hour: int, minute: int = 0) -> datetime:
    """An instant of DAY, in UTC (the appointments of `make_appointment` are 09:00-12:00 UTC)."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> ManualClock:
    """Two days before DAY: every slot of DAY is still to come (a test file that pins the
    engine's time overrides `scheduler` to read it)."""
    return ManualClock(at(0) - timedelta(days=2))


def _store_urls() -> List[str]:
    urls = ["memory:", "sqlite"]
    if os.environ.get("TEST_POSTGRES_URL"):
        urls.append("postgres")
    return urls


@pytest.fixture(params=_store_urls())
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend's URL: memory, a fresh SQLite temp file, Postgres when configured."""
    kind: str = request.param
    if kind == "sqlite":
        return f"sqlite://{tmp_path / 'appointments.db'}"
    if kind == "postgres":
        return os.environ["TEST_POSTGRES_URL"]
    return kind


@pytest.fixture
def scheduler(store_url: str) -> Iterator[Scheduler]:
    """A fresh scheduler on each backend, on the system's clock."""
    yield Scheduler(store_url)


def unique_email(prefix: str = "user") -> str:
    """An email no other test used (a Postgres database keeps data between runs)."""
    return f"{prefix}.{uuid.uuid4().hex}@example.com"


@pytest.fixture
def owner(scheduler: Scheduler) -> User:
    return scheduler.register_user("Owner", unique_email("owner"))


@pytest.fixture
def make_appointment(scheduler: Scheduler, owner: User) -> Callable[..., Appointment]:
    """Creates an appointment on DAY, 09:00-12:00 UTC, 60-minute slots, unless told otherwise."""

    def make(**kwargs: object) -> Appointment:
        args: dict = dict(
            title="Consultation",
            start_date=DAY,
            end_date=DAY,
            start_time=time(9),
            end_time=time(12),
            slot_minutes=60,
        )
        args.update(kwargs)
        return scheduler.create_appointment(owner.id, **args)

    return make
