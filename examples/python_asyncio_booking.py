"""Appointment Master embedded in a plain asyncio program (no web framework, no extra package).

An owner creates a workshop with 5 seats on a SQLite file; 8 guests try to book at once from
their own tasks; the engine answers every call without blocking the event loop, and exactly 5
get a seat.

    python examples/python_asyncio_booking.py        # needs the bindings: scripts/test-python.sh
"""

import asyncio
import tempfile
from datetime import date, datetime, time
from pathlib import Path

from appointment_master import AsyncScheduler, Booking, SlotFullError

GUESTS = ["ada", "bo", "cy", "di", "ed", "flo", "gus", "hal"]


async def guest_books(scheduler: AsyncScheduler, code: str, start: datetime, name: str) -> str:
    try:
        booking: Booking = await scheduler.book(
            code, start, name=name.title(), email=f"{name}@example.com"
        )
    except SlotFullError:
        return f"{name}: full"
    return f"{name}: booked {booking.code}"


async def main(db: Path) -> None:
    scheduler = await AsyncScheduler.open(f"sqlite://{db}")
    owner = await scheduler.register_user("Workshop host", "host@example.com")
    app = await scheduler.create_appointment(
        owner.id,
        title="Pottery workshop",
        start_date=date(2031, 3, 3),
        end_date=date(2031, 3, 3),
        start_time=time(18),
        end_time=time(20),
        slot_minutes=120,
        kind="group",
        capacity=5,
    )
    start = (await scheduler.slots(app.code)).items[0].start
    print(f"appointment {app.code}: {app.title}, {app.capacity} seats at {start.isoformat()}")

    results = await asyncio.gather(
        *(guest_books(scheduler, app.code, start, name) for name in GUESTS)
    )
    for line in sorted(results):
        print(line)

    slot = await scheduler.slot(app.code, start)
    booked = sum(1 for line in results if "booked" in line)
    print(f"booked {booked}, full {len(results) - booked}, seats taken {slot.seats_taken}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp) / "bookings.db"))
