"""Python threads book concurrently (the GIL is released while the engine works), and the
engine's no-overbooking rule holds across them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Tuple

from appointment_master import Appointment, Booking, Scheduler, SlotFullError

from conftest import unique_email

THREADS = 16


def _race(
    scheduler: Scheduler, app: Appointment, count: int
) -> Tuple[List[Booking], List[Exception]]:
    start = scheduler.slots(app.code).items[0].start
    barrier = threading.Barrier(count)
    emails = [unique_email("racer") for _ in range(count)]

    def attempt(email: str) -> object:
        barrier.wait()
        try:
            return scheduler.book(app.code, start, name="Racer", email=email)
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            return err

    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(attempt, emails))
    won = [r for r in results if isinstance(r, Booking)]
    lost = [r for r in results if isinstance(r, Exception)]
    return won, lost


def test_threads_race_for_one_seat_exactly_one_wins(
    scheduler: Scheduler, make_appointment: Callable[..., Appointment]
) -> None:
    app = make_appointment()
    won, lost = _race(scheduler, app, THREADS)
    assert len(won) == 1
    assert len(lost) == THREADS - 1
    assert all(isinstance(e, SlotFullError) for e in lost), lost
    assert scheduler.slot(app.code, won[0].slot_start).seats_taken == 1


def test_threads_race_for_a_group_slot_capacity_holds(
    scheduler: Scheduler, make_appointment: Callable[..., Appointment]
) -> None:
    app = make_appointment(kind="group", capacity=5)
    won, lost = _race(scheduler, app, THREADS)
    assert len(won) == 5
    assert all(isinstance(e, SlotFullError) for e in lost), lost
    assert scheduler.slot(app.code, won[0].slot_start).seats_taken == 5

