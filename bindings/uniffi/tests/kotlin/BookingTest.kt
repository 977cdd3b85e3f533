// The Kotlin bindings against the embedded engine: each check prints PASS or FAIL, and the
// program ends with "kotlin: N passed, M failed" and a non-zero exit status on any failure.
import com.appointmentmaster.AppointmentChanges
import com.appointmentmaster.AsyncScheduler
import com.appointmentmaster.AppointmentException
import com.appointmentmaster.AppointmentInput
import com.appointmentmaster.BookerInput
import com.appointmentmaster.Closure
import com.appointmentmaster.DateOverride
import com.appointmentmaster.Event
import com.appointmentmaster.Hold
import com.appointmentmaster.ManualClock
import com.appointmentmaster.Scheduler
import java.time.Duration
import java.time.Instant
import java.util.UUID
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull

var passed = 0
var failed = 0

fun check(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("PASS $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
    }
}

// A check whose body calls suspend functions, run inside runBlocking.
fun checkSuspending(name: String, body: suspend CoroutineScope.() -> Unit) = check(name) { runBlocking { body() } }

fun expect(cond: Boolean, what: String) {
    if (!cond) throw AssertionError(what)
}

fun guest(email: String) = BookerInput.Guest(name = "Guest", email = email)

fun haircut(s: Scheduler, ownerId: String, kind: String = "single", capacity: UInt? = null) =
    s.createAppointment(
        ownerId,
        AppointmentInput(
            title = "Haircut",
            startDate = "2031-03-03",
            endDate = "2031-03-03",
            startTime = "09:00",
            endTime = "12:00",
            slotMinutes = 60u,
            kind = kind,
            capacity = capacity,
            timeZone = "Europe/Berlin",
        ),
    )

const val BARBER_WEEK = "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"

fun barberInput() = AppointmentInput(
    title = "Barber",
    startDate = "2031-03-03",
    endDate = "2031-12-31",
    slotMinutes = 30u,
    timeZone = "Europe/Paris",
    weeklyHours = BARBER_WEEK,
    overrides = listOf(DateOverride("2031-12-24", listOf("09:00-12:00"))),
    closures = listOf(Closure("2031-08-04", "2031-08-17", "Summer holidays")),
)

fun barber(s: Scheduler, ownerId: String) = s.createAppointment(ownerId, barberInput())

// An email no other run used (a Postgres database keeps data between runs).
fun unique(prefix: String) = "$prefix.${UUID.randomUUID()}@example.com"

// A page of no items, which the engine refuses.
fun Scheduler.perPageOf(ownerId: String) = myAppointments(ownerId, perPage = 0u)

// An instant of 2031-03-03 (a Monday), UTC.
fun at(hm: String): Instant = Instant.parse("2031-03-03T$hm:00Z")

// A workshop on 2031-03-03, 09:00-12:00 UTC, hourly slots of `seats` seats.
fun workshop(s: Scheduler, ownerId: String, seats: UInt, cutoff: UInt = 0u) =
    s.createAppointment(
        ownerId,
        AppointmentInput(
            title = "Workshop", startDate = "2031-03-03", endDate = "2031-03-03",
            startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
            kind = "group", capacity = seats, cancelCutoffMinutes = cutoff,
        ),
    )

// The booking lifecycle on a clock the checks pin, against the store `url` names.
fun lifecycleChecks(store: String, url: String) {
    val clock = ManualClock(Instant.parse("2031-03-01T00:00:00Z"))
    val s = Scheduler.openWithClock(url, clock)
    val owner = s.registerUser("Lia", unique("owner"), null, "")
    fun book(code: String, start: Instant, seats: UInt = 1u) =
        s.book(code, start, guest(unique("guest")), seats, "", null).code

    check("$store: the engine reads the pinned clock") {
        val app = workshop(s, owner.id, 1u)
        expect(app.createdAt == Instant.parse("2031-03-01T00:00:00Z"), "created at the clock's time")
        clock.set(at("09:30"))
        expect(s.allSlots(app.code, null).map { it.start } == listOf(at("10:00"), at("11:00")), "09:00 has started")
        clock.advance(Duration.ofHours(2))
        expect(clock.now() == at("11:30"), "advanced: ${clock.now()}")
        expect(s.allSlots(app.code, null).isEmpty(), "every slot has started")
    }

    check("$store: the cut-off stops the guest's cancel and reschedule with TooLate") {
        clock.set(Instant.parse("2031-03-01T00:00:00Z"))
        val app = workshop(s, owner.id, 3u, cutoff = 120u)
        expect(app.cancelCutoffMinutes == 120u, "cut-off stored")
        expect(s.appointment(app.code).cancelCutoffMinutes == 120u, "cut-off read back")
        val code = book(app.code, at("11:00"))
        clock.set(at("09:00").minusSeconds(1))
        val moved = s.reschedule(code, at("10:00"), 2u)
        expect(moved.slotStart == at("10:00") && moved.attendeeCount == 2u, "moved before the cut-off")
        try {
            s.cancel(code)
            throw AssertionError("cancelling past the cut-off must fail")
        } catch (e: AppointmentException.TooLate) {
            expect(e.action == "cancel" && e.deadline == at("08:00"), "$e")
            expect(e.detail.startsWith("too late to cancel"), "the engine's message: $e")
        }
        try {
            s.reschedule(code, at("11:00"), null)
            throw AssertionError("moving past the cut-off must fail")
        } catch (e: AppointmentException.TooLate) {
            expect(e.action == "reschedule" && e.deadline == at("08:00"), "$e")
        }
        val kept = s.booking(code)
        expect(kept.status == "active" && kept.slotStart == at("10:00"), "nothing changed: $kept")
        expect(s.slot(app.code, at("10:00")).seatsTaken == 2u, "seats kept")
    }

    check("$store: the owner cancels and moves inside the cut-off, not once it started") {
        clock.set(Instant.parse("2031-03-01T00:00:00Z"))
        val app = workshop(s, owner.id, 1u, cutoff = 120u)
        val moved = book(app.code, at("10:00"))
        val cancelled = book(app.code, at("09:00"))
        clock.set(at("08:30"))
        val stranger = s.registerUser("Eve", unique("eve"), null, "")
        try {
            s.ownerCancel(stranger.id, cancelled)
            throw AssertionError("only the owner")
        } catch (e: AppointmentException.Forbidden) {
        }
        val byOwner = s.ownerReschedule(owner.id, moved, at("11:00"), null, "moved by us")
        expect(byOwner.slotStart == at("11:00") && byOwner.description == "moved by us", "$byOwner")
        expect(s.slot(app.code, at("10:00")).seatsTaken == 0u, "old seat freed")
        expect(s.ownerCancel(owner.id, cancelled).status == "cancelled", "owner cancels")
        expect(s.slot(app.code, at("09:00")).seatsTaken == 0u, "seat freed")
        clock.set(at("11:00"))
        try {
            s.ownerReschedule(owner.id, moved, at("09:00"), null)
            throw AssertionError("nobody moves a started booking")
        } catch (e: AppointmentException.TooLate) {
            expect(e.action == "reschedule" && e.deadline == at("11:00"), "$e")
        }
        expect(s.ownerCancel(owner.id, moved).status == "cancelled", "the owner still calls it off")
        val edit = s.updateAppointment(owner.id, app.code, AppointmentChanges(cancelCutoffMinutes = 30u))
        expect(edit.appointment.cancelCutoffMinutes == 30u, "cut-off edited")
    }

    check("$store: completed and no_show only from the start; seats freed; analytics count them") {
        clock.set(Instant.parse("2031-03-01T00:00:00Z"))
        val marker = s.registerUser("Mia", unique("owner"), null, "")
        val app = workshop(s, marker.id, 4u)
        val attended = book(app.code, at("09:00"), 2u)
        val missed = book(app.code, at("09:00"))
        val waiting = book(app.code, at("11:00"))
        expect(s.analytics(marker.id, "2031-03-03", "2031-03-03").noShowRate == null, "no rate yet")
        clock.set(at("09:00").minusSeconds(1))
        try {
            s.complete(marker.id, attended)
            throw AssertionError("too early to complete")
        } catch (e: AppointmentException.TooEarly) {
            expect(e.action == "complete" && e.from == at("09:00"), "$e")
        }
        try {
            s.markNoShow(marker.id, missed)
            throw AssertionError("too early to mark a no-show")
        } catch (e: AppointmentException.TooEarly) {
            expect(e.action == "mark no-show" && e.from == at("09:00"), "$e")
        }
        expect(s.slot(app.code, at("09:00")).seatsTaken == 3u, "nothing changed")
        clock.set(at("09:00"))
        expect(s.complete(marker.id, attended).status == "completed", "completed")
        expect(s.markNoShow(marker.id, missed).status == "no_show", "no_show")
        expect(s.slot(app.code, at("09:00")).seatsTaken == 0u, "seats freed")
        try {
            s.cancel(missed)
            throw AssertionError("a mark is final")
        } catch (e: AppointmentException.InvalidTransition) {
            expect(e.status == "no_show" && e.action == "cancel", "$e")
        }
        val stats = s.analytics(marker.id, "2031-03-03", "2031-03-03")
        expect(stats.completedBookings == 1uL && stats.noShowBookings == 1uL, "$stats")
        expect(stats.activeBookings == 1uL && stats.totalBookings == 3uL, "$stats")
        expect(stats.noShowRate == 0.5, "rate: ${stats.noShowRate}")
        expect(stats.seatsBooked == 4uL, "seats not called off: $stats")
        expect(s.booking(waiting).status == "active", "the 11:00 booking waits")
    }

    check("$store: the clock refuses instants out of range") {
        try {
            clock.set(Instant.parse("1969-12-31T23:59:59Z"))
            throw AssertionError("before 1970 must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "now", "$e")
        }
        try {
            clock.advance(Duration.ofDays(9_000L * 366L))
            throw AssertionError("past 9999 must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "by", "$e")
        }
        try {
            ManualClock(Instant.parse("1960-01-01T00:00:00Z"))
            throw AssertionError("a clock before 1970 must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "now", "$e")
        }
    }
    s.close()
    clock.close()
}

// Holds on a clock the checks pin, against the store `url` names.
fun holdChecks(store: String, url: String) {
    val epoch = Instant.parse("2031-03-01T00:00:00Z")
    val clock = ManualClock(epoch)
    val s = Scheduler.openWithClock(url, clock)
    val owner = s.registerUser("Hal", unique("owner"), null, "")
    fun group(seats: UInt, holdMinutes: UInt = 10u, kind: String = "group", resource: String? = null) =
        s.createAppointment(
            owner.id,
            AppointmentInput(
                title = "Workshop", startDate = "2031-03-03", endDate = "2031-03-03",
                startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
                kind = kind, capacity = seats, antiScalping = "none",
                holdMinutes = holdMinutes, resource = resource,
            ),
        )
    fun book(code: String, start: Instant, seats: UInt = 1u, holdToken: String? = null) =
        s.book(code, start, guest(unique("guest")), seats, "", null, holdToken)
    fun taken(code: String, start: Instant) = s.slot(code, start).seatsTaken

    check("$store: a hold takes seats until its expiry exactly") {
        clock.set(epoch)
        val app = group(3u, holdMinutes = 15u)
        expect(app.holdMinutes == 15u && s.appointment(app.code).holdMinutes == 15u, "holdMinutes stored")
        val hold = s.hold(app.code, at("09:00"), 2u)
        expect(hold.token.startsWith("HD-") && hold.status == "held" && hold.seats == 2u, "$hold")
        expect(hold.slotStart == at("09:00") && hold.slotEnd == at("10:00") && hold.bookingId == null, "$hold")
        expect(hold.expiresAt == epoch.plus(Duration.ofMinutes(15)), "expires: ${hold.expiresAt}")
        val listed = s.allSlots(app.code, null).first { it.start == at("09:00") }
        expect(listed.seatsTaken == 2u && listed.seatsLeft == 1u, "listed as taken: $listed")
        try {
            book(app.code, at("09:00"), 2u)
            throw AssertionError("2 seats do not fit beside the hold")
        } catch (e: AppointmentException.SlotFull) {
            expect(e.requested == 2u && e.available == 1u, "$e")
        }
        clock.set(hold.expiresAt.minusNanos(1_000))
        expect(s.holdByToken(hold.token).status == "held", "held a microsecond before")
        expect(taken(app.code, at("09:00")) == 2u, "still taken")
        clock.set(hold.expiresAt)
        expect(s.holdByToken(hold.token).status == "expired", "expired at expiresAt")
        expect(taken(app.code, at("09:00")) == 0u, "free without a sweeper")
        try {
            book(app.code, at("09:00"), 2u, holdToken = hold.token)
            throw AssertionError("an expired hold cannot be booked")
        } catch (e: AppointmentException.HoldEnded) {
            expect(e.status == "expired", "$e")
            expect(e.detail == "the hold is expired", "the engine's message: $e")
        }
        expect(book(app.code, at("09:00"), 3u).attendeeCount == 3u, "the freed seats are booked")
        expect(taken(app.code, at("09:00")) == 3u, "3 taken")
    }

    check("$store: booking a hold takes its seats once") {
        clock.set(epoch)
        val app = group(2u)
        expect(app.holdMinutes == 10u, "default 10 minutes")
        val hold = s.hold(app.code, at("10:00"), 2u)
        try {
            book(app.code, at("10:00"))
            throw AssertionError("the hold took every seat")
        } catch (e: AppointmentException.SlotFull) {
        }
        try {
            book(app.code, at("10:00"), 1u, holdToken = hold.token)
            throw AssertionError("the seats must be the hold's")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "holdToken", "$e")
        }
        clock.advance(Duration.ofMinutes(9))
        val booking = book(app.code, at("10:00"), 2u, holdToken = hold.token)
        expect(booking.status == "active" && booking.attendeeCount == 2u, "$booking")
        val booked = s.holdByToken(hold.token)
        expect(booked.status == "booked" && booked.bookingId == booking.id, "$booked")
        clock.advance(Duration.ofMinutes(30))
        expect(taken(app.code, at("10:00")) == 2u, "the booking outlives the hold's expiry")
        try {
            book(app.code, at("10:00"), 2u, holdToken = hold.token)
            throw AssertionError("a token books once")
        } catch (e: AppointmentException.HoldEnded) {
            expect(e.status == "booked", "$e")
        }
        try {
            s.releaseHold(hold.token)
            throw AssertionError("a booked hold is not released")
        } catch (e: AppointmentException.HoldEnded) {
            expect(e.status == "booked", "$e")
        }
        val member = s.registerUser("Mo", unique("mo"), null, "")
        val userHold = s.hold(app.code, at("11:00"))
        val mine = s.book(app.code, at("11:00"), BookerInput.User(member.id), 1u, "", null, userHold.token)
        expect(mine.userId == member.id && s.holdByToken(userHold.token).bookingId == mine.id, "$mine")
    }

    check("$store: release gives the seats back; twice is fine") {
        clock.set(epoch)
        val app = group(4u)
        val hold = s.hold(app.code, at("09:00"), 3u)
        expect(taken(app.code, at("09:00")) == 3u, "held")
        expect(s.releaseHold(hold.token).status == "released", "released")
        expect(taken(app.code, at("09:00")) == 0u, "seats back")
        expect(s.releaseHold(hold.token).status == "released", "released twice")
        expect(taken(app.code, at("09:00")) == 0u, "not given back twice")
        try {
            book(app.code, at("09:00"), 3u, holdToken = hold.token)
            throw AssertionError("a released hold cannot be booked")
        } catch (e: AppointmentException.HoldEnded) {
            expect(e.status == "released", "$e")
        }
        expect(book(app.code, at("09:00"), 4u).attendeeCount == 4u, "all seats free")
        val late = s.hold(app.code, at("10:00"), 4u)
        clock.set(late.expiresAt)
        expect(s.releaseHold(late.token).status == "expired", "an expired hold is answered as it is")
    }

    check("$store: holdMinutes from 1 to 120; edits change new holds only") {
        clock.set(epoch)
        for (minutes in listOf(0u, 121u)) {
            try {
                group(1u, holdMinutes = minutes)
                throw AssertionError("$minutes minutes must fail")
            } catch (e: AppointmentException.InvalidInput) {
                expect(e.field == "holdMinutes", "$e")
            }
        }
        val app = group(5u, holdMinutes = 120u)
        val early = s.hold(app.code, at("09:00"))
        expect(early.expiresAt == epoch.plus(Duration.ofMinutes(120)), "120 minutes")
        for (minutes in listOf(0u, 121u)) {
            try {
                s.updateAppointment(owner.id, app.code, AppointmentChanges(holdMinutes = minutes))
                throw AssertionError("an edit to $minutes minutes must fail")
            } catch (e: AppointmentException.InvalidInput) {
                expect(e.field == "holdMinutes", "$e")
            }
        }
        val edit = s.updateAppointment(owner.id, app.code, AppointmentChanges(holdMinutes = 30u))
        expect(edit.appointment.holdMinutes == 30u, "edited")
        val renamed = s.updateAppointment(owner.id, app.code, AppointmentChanges(title = "Renamed"))
        expect(renamed.appointment.holdMinutes == 30u, "left alone by other edits")
        val later = s.hold(app.code, at("09:00"))
        expect(later.expiresAt == epoch.plus(Duration.ofMinutes(30)), "30 minutes")
        expect(s.holdByToken(early.token).expiresAt == early.expiresAt, "the earlier hold keeps its expiry")
    }

    check("$store: unknown and malformed tokens, shared resources") {
        clock.set(epoch)
        try {
            s.holdByToken("HD-AAAAAAAAAAAA")
            throw AssertionError("an unknown hold must fail")
        } catch (e: AppointmentException.NotFound) {
            expect(e.entity == "hold", "$e")
        }
        try {
            s.releaseHold("BK-AAAAAAAAAAAA")
            throw AssertionError("a booking code is no hold token")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "token", "$e")
        }
        val chair = group(1u, kind = "single", resource = "Chair 1")
        try {
            s.hold(chair.code, at("09:00"))
            throw AssertionError("an appointment on a shared resource takes no holds")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "code", "$e")
        }
    }

    check("$store: 100 threads of holds and bookings race for the last 20 seats of a party") {
        clock.set(epoch)
        val app = group(50u, kind = "party")
        repeat(3) { book(app.code, at("09:00"), 10u) }
        expect(s.slot(app.code, at("09:00")).seatsLeft == 20u, "20 seats left")
        val racers = 100
        val pool = Executors.newFixedThreadPool(racers)
        val go = CountDownLatch(1)
        val results = (0 until racers).map { i ->
            pool.submit<Any> {
                go.await()
                try {
                    if (i % 2 == 0) s.hold(app.code, at("09:00")) else book(app.code, at("09:00"))
                } catch (e: AppointmentException) {
                    e
                }
            }
        }
        go.countDown()
        val outcomes = results.map { it.get(120, TimeUnit.SECONDS) }
        pool.shutdown()
        val holds = outcomes.filterIsInstance<Hold>()
        val bookings = outcomes.count { it is com.appointmentmaster.Booking }
        val lost = outcomes.filterIsInstance<AppointmentException>()
        expect(holds.size + bookings == 20, "exactly 20 win: ${holds.size} holds, $bookings bookings")
        expect(lost.size == racers - 20 && lost.all { it is AppointmentException.SlotFull }, "the rest: $lost")
        expect(taken(app.code, at("09:00")) == 50u, "50 taken")
        expect(s.attendeesBooked(app.code) == 50uL, "attendees booked count the holds")
        clock.advance(Duration.ofMinutes(app.holdMinutes.toLong()))
        expect(taken(app.code, at("09:00")) == 30u + bookings.toUInt(), "the holds' seats came back")
        expect(holds.all { s.holdByToken(it.token).status == "expired" }, "every hold expired")
    }
    s.close()
    clock.close()
}

// Approval on a clock the checks pin, against the store `url` names: bookings start pending and
// hold their seats until the owner confirms or declines them, or until confirmBy, from which
// instant they read "expired" and hold nothing; then the suspend API does the same.
fun approvalChecks(store: String, url: String) {
    val epoch = Instant.parse("2031-03-01T00:00:00Z")
    val clock = ManualClock(epoch)
    val s = Scheduler.openWithClock(url, clock)
    val owner = s.registerUser("Abe", unique("owner"), null, "")
    fun group(seats: UInt, confirmWithin: UInt? = 60u, scalping: String = "none", resource: String? = null) =
        s.createAppointment(
            owner.id,
            AppointmentInput(
                title = "Approved", startDate = "2031-03-03", endDate = "2031-03-03",
                startTime = "09:00", endTime = "12:00", slotMinutes = 60u, kind = "group",
                capacity = seats, antiScalping = scalping, confirmWithinMinutes = confirmWithin,
                resource = resource,
            ),
        )
    fun book(code: String, start: Instant, seats: UInt = 1u, email: String = unique("guest")) =
        s.book(code, start, guest(email), seats, "", null)
    fun taken(code: String, start: Instant) = s.slot(code, start).seatsTaken

    check("$store: a pending booking holds its seats until the owner confirms or declines it") {
        clock.set(epoch)
        val app = group(3u)
        expect(app.confirmWithinMinutes == 60u && s.appointment(app.code).confirmWithinMinutes == 60u, "stored")
        val pending = book(app.code, at("09:00"), 2u)
        expect(pending.status == "pending" && pending.confirmBy == epoch.plus(Duration.ofMinutes(60)), "$pending")
        expect(taken(app.code, at("09:00")) == 2u, "seats held while pending")
        try {
            book(app.code, at("09:00"), 2u)
            throw AssertionError("2 seats do not fit beside the pending booking")
        } catch (e: AppointmentException.SlotFull) {
            expect(e.requested == 2u && e.available == 1u, "$e")
        }
        val stranger = s.registerUser("Eve", unique("eve"), null, "")
        try {
            s.confirm(stranger.id, pending.code)
            throw AssertionError("only the owner confirms")
        } catch (e: AppointmentException.Forbidden) {
        }
        clock.advance(Duration.ofMinutes(59))
        val confirmed = s.confirm(owner.id, pending.code)
        expect(confirmed.status == "active" && confirmed.confirmBy == null, "$confirmed")
        clock.advance(Duration.ofHours(2))
        expect(s.booking(pending.code).status == "active", "confirmed: no deadline any more")
        expect(taken(app.code, at("09:00")) == 2u, "seats kept")
        try {
            s.decline(owner.id, pending.code)
            throw AssertionError("an active booking is not declined")
        } catch (e: AppointmentException.InvalidTransition) {
            expect(e.status == "active" && e.action == "decline", "$e")
        }
        val other = book(app.code, at("10:00"), 3u)
        val declined = s.decline(owner.id, other.code)
        expect(declined.status == "declined" && declined.confirmBy == null, "$declined")
        expect(taken(app.code, at("10:00")) == 0u, "declining frees the seats")
        val moved = s.reschedule(book(app.code, at("11:00")).code, at("10:00"), 2u)
        expect(moved.status == "pending" && moved.slotStart == at("10:00"), "a move keeps it pending: $moved")
        expect(s.cancel(moved.code).status == "cancelled", "a guest cancels a pending booking")
    }

    check("$store: a pending booking expires at confirmBy exactly; reclaimExpired; analytics") {
        clock.set(epoch)
        val counter = s.registerUser("Cal", unique("owner"), null, "")
        val app = s.createAppointment(
            counter.id,
            AppointmentInput(
                title = "Counted", startDate = "2031-03-03", endDate = "2031-03-03",
                startTime = "09:00", endTime = "12:00", slotMinutes = 60u, kind = "group",
                capacity = 2u, antiScalping = "standard", confirmWithinMinutes = 30u,
            ),
        )
        val email = unique("late")
        val pending = book(app.code, at("09:00"), 2u, email)
        val deadline = pending.confirmBy ?: throw AssertionError("no confirmBy: $pending")
        expect(deadline == epoch.plus(Duration.ofMinutes(30)), "deadline $deadline")
        clock.set(deadline.minusNanos(1_000))
        expect(s.booking(pending.code).status == "pending", "pending a microsecond before")
        expect(taken(app.code, at("09:00")) == 2u, "still held")
        expect(s.analytics(counter.id, "2031-03-03", "2031-03-03").seatsPending == 2uL, "seats pending")
        clock.set(deadline)
        val expired = s.booking(pending.code)
        expect(expired.status == "expired" && expired.confirmBy == null, "expired at confirmBy: $expired")
        expect(s.appointmentBookings(counter.id, app.code, 1u, 20u).items.single().status == "expired", "listed")
        expect(taken(app.code, at("09:00")) == 0u, "free without a sweeper")
        try {
            s.confirm(counter.id, pending.code)
            throw AssertionError("too late to confirm")
        } catch (e: AppointmentException.InvalidTransition) {
            expect(e.status == "expired" && e.action == "confirm", "$e")
        }
        val stats = s.analytics(counter.id, "2031-03-03", "2031-03-03")
        expect(stats.expiredBookings == 1uL && stats.pendingBookings == 0uL && stats.seatsPending == 0uL, "$stats")
        expect(stats.totalBookings == 1uL, "$stats")
        expect(s.reclaimExpired(app.code) == 2uL, "the sweep gives back 2 seats")
        expect(s.reclaimExpired(app.code) == 0uL, "and nothing twice")
        val again = book(app.code, at("09:00"), 2u, email)
        expect(again.status == "pending", "the expired booking no longer counts against its email")
        val declined = book(app.code, at("10:00"))
        s.decline(counter.id, declined.code)
        val after = s.analytics(counter.id, "2031-03-03", "2031-03-03")
        expect(after.pendingBookings == 1uL && after.declinedBookings == 1uL && after.expiredBookings == 1uL, "$after")
        expect(after.seatsPending == 2uL && after.activeBookings == 0uL, "$after")
    }

    check("$store: reclaimAllExpired sweeps every appointment; strict can require verified addresses") {
        clock.set(epoch)
        val sweeper = s.registerUser("Sweep", unique("owner"), null, "")
        val input = AppointmentInput(
            title = "Swept", startDate = "2031-03-03", endDate = "2031-03-03",
            startTime = "09:00", endTime = "12:00", slotMinutes = 60u, kind = "group",
            capacity = 2u, antiScalping = "none", confirmWithinMinutes = 30u,
        )
        val apps = listOf(s.createAppointment(sweeper.id, input), s.createAppointment(sweeper.id, input))
        val pending = apps.map { book(it.code, at("09:00"), 2u) }
        clock.set(pending[0].confirmBy ?: throw AssertionError("no confirmBy"))
        var given = 0uL
        while (true) {
            val seats = s.reclaimAllExpired(1u)
            if (seats == 0uL) break
            given += seats
        }
        // A shared database may hold other runs' expired bookings too.
        expect(given >= 4uL, "swept $given seats")
        expect(apps.all { s.reclaimExpired(it.code) == 0uL }, "nothing left to reclaim")
        expect(pending.all { s.booking(it.code).status == "expired" }, "stored expired")

        val strict = s.withVerifiedEmailRequired(true)
        val address = unique("member")
        val member = strict.registerUser("Member", address, null, "")
        expect(member.emailVerifiedAt == null, "$member")
        val drop = strict.createAppointment(
            sweeper.id,
            AppointmentInput(
                title = "Drop", startDate = "2031-03-03", endDate = "2031-03-03",
                startTime = "09:00", endTime = "12:00", slotMinutes = 60u, kind = "group",
                capacity = 5u, antiScalping = "strict",
            ),
        )
        try {
            strict.book(drop.code, at("10:00"), BookerInput.User(member.id), 1u, "", "phone-1")
            throw AssertionError("an unverified user books a strict appointment")
        } catch (e: AppointmentException.EmailNotVerified) {
            expect(e.message?.contains("verif") == true, "$e")
        }
        val verified = strict.verifyEmail(member.id, address)
        expect(verified.emailVerifiedAt == clock.now(), "$verified")
        val booked = strict.book(drop.code, at("10:00"), BookerInput.User(member.id), 1u, "", "phone-1")
        expect(booked.status == "active", "$booked")
        expect(s.user(member.id).emailVerifiedAt == verified.emailVerifiedAt, "stored, for every scheduler on the store")
    }

    check("$store: confirmWithinMinutes is checked, edited and removed") {
        clock.set(epoch)
        for (minutes in listOf(0u, 43201u)) {
            try {
                group(1u, confirmWithin = minutes)
                throw AssertionError("$minutes minutes must fail")
            } catch (e: AppointmentException.InvalidInput) {
                expect(e.field == "confirmWithinMinutes", "$e")
            }
        }
        try {
            group(1u, resource = "Room 1")
            throw AssertionError("approval and a shared resource do not combine")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "confirmWithinMinutes", "$e")
        }
        val app = group(5u, confirmWithin = null)
        expect(app.confirmWithinMinutes == null && book(app.code, at("09:00")).status == "active", "off by default")
        val on = s.updateAppointment(owner.id, app.code, AppointmentChanges(confirmWithinMinutes = 90u))
        expect(on.appointment.confirmWithinMinutes == 90u, "turned on")
        val waiting = book(app.code, at("09:00"))
        expect(waiting.status == "pending" && waiting.confirmBy == epoch.plus(Duration.ofMinutes(90)), "$waiting")
        try {
            s.updateAppointment(owner.id, app.code, AppointmentChanges(confirmWithinMinutes = 30u, removeApproval = true))
            throw AssertionError("not both")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "confirmWithinMinutes", "$e")
        }
        val off = s.updateAppointment(owner.id, app.code, AppointmentChanges(removeApproval = true))
        expect(off.appointment.confirmWithinMinutes == null, "turned off")
        expect(book(app.code, at("09:00")).status == "active", "active at once again")
        val kept = s.booking(waiting.code)
        expect(kept.status == "pending" && kept.confirmBy == waiting.confirmBy, "the pending one keeps its deadline")
        expect(s.confirm(owner.id, waiting.code).status == "active", "and is still confirmed")
    }
    s.close()

    checkSuspending("$store: suspend calls confirm, decline and expire") {
        clock.set(epoch)
        AsyncScheduler.openWithClock(url, clock).use { a ->
            // On `memory:` this is another store: its own owner.
            val boss = a.registerUser("Bea", unique("owner"), null, "")
            val app = a.createAppointment(
                boss.id,
                AppointmentInput(
                    title = "Awaited", startDate = "2031-03-03", endDate = "2031-03-03",
                    startTime = "09:00", endTime = "12:00", slotMinutes = 60u, kind = "group",
                    capacity = 3u, confirmWithinMinutes = 45u,
                ),
            )
            suspend fun book(start: Instant, seats: UInt = 1u) =
                a.book(app.code, start, guest(unique("guest")), seats, "", null)
            val confirmed = book(at("09:00"), 2u)
            val declined = book(at("10:00"))
            val expired = book(at("11:00"), 3u)
            expect(listOf(confirmed, declined, expired).all { it.status == "pending" }, "all pending")
            expect(a.confirm(boss.id, confirmed.code).status == "active", "confirmed")
            expect(a.decline(boss.id, declined.code).status == "declined", "declined")
            clock.set(expired.confirmBy ?: throw AssertionError("no confirmBy"))
            expect(a.booking(expired.code).status == "expired", "expired")
            expect(a.slot(app.code, at("11:00")).seatsTaken == 0u, "its seats are free")
            expect(a.reclaimExpired(app.code) == 3uL, "swept")
            val stats = a.analytics(boss.id, "2031-03-03", "2031-03-03")
            expect(stats.activeBookings == 1uL && stats.declinedBookings == 1uL && stats.expiredBookings == 1uL, "$stats")
            val off = a.updateAppointment(boss.id, app.code, AppointmentChanges(removeApproval = true))
            expect(off.appointment.confirmWithinMinutes == null, "turned off")
        }
    }
    clock.close()
}

// Revisions against the store `url` names: counted from 0 by every edit, close and reopen; a
// change given a stale ifRevision throws Changed and changes nothing; the current one applies.
fun revisionChecks(store: String, url: String) {
    val s = Scheduler.open(url)
    val owner = s.registerUser("Rev", unique("owner"), null, "")

    check("$store: revision starts at 0 and every edit, close and reopen moves it on") {
        val app = workshop(s, owner.id, 2u)
        expect(app.revision == 0uL && s.appointment(app.code).revision == 0uL, "created at 0: ${app.revision}")
        s.book(app.code, at("09:00"), guest(unique("guest")), 1u, "", null)
        expect(s.appointment(app.code).revision == 0uL, "a booking is not an edit")
        expect(s.updateAppointment(owner.id, app.code, AppointmentChanges(title = "Renamed")).appointment.revision == 1uL, "edit")
        expect(s.closeAppointment(owner.id, app.code).appointment.revision == 2uL, "close")
        expect(s.reopenAppointment(owner.id, app.code).appointment.revision == 3uL, "reopen")
        try {
            s.updateAppointment(owner.id, app.code, AppointmentChanges(weeklyHours = "mon 9-5"))
            throw AssertionError("bad hours must fail")
        } catch (e: AppointmentException.InvalidInput) {
        }
        expect(s.appointment(app.code).revision == 3uL, "a refused edit moves nothing")
    }

    check("$store: a stale ifRevision throws Changed and changes nothing") {
        val app = workshop(s, owner.id, 2u)
        s.updateAppointment(owner.id, app.code, AppointmentChanges(title = "Edited elsewhere"))
        val before = s.appointment(app.code)
        expect(before.revision == 1uL, "one edit: ${before.revision}")
        for (stale in listOf(0uL, 2uL, 99uL)) {
            try {
                s.updateAppointment(
                    owner.id, app.code,
                    AppointmentChanges(title = "Stale", holdMinutes = 30u, closed = true, ifRevision = stale),
                )
                throw AssertionError("revision $stale is not current")
            } catch (e: AppointmentException.Changed) {
                expect(e.entity == "appointment" && e.detail.isNotEmpty(), "$e")
            }
        }
        for (close in listOf(true, false)) {
            try {
                if (close) s.closeAppointment(owner.id, app.code, 0uL) else s.reopenAppointment(owner.id, app.code, 0uL)
                throw AssertionError("a stale close/reopen must fail")
            } catch (e: AppointmentException.Changed) {
            }
        }
        val now = s.appointment(app.code)
        expect(now == before, "nothing changed: $now")
        expect(s.allSlots(app.code, null).size == 3, "still open")
    }

    check("$store: the current ifRevision applies; two editors of one revision lose nothing") {
        val app = workshop(s, owner.id, 2u)
        val edit = s.updateAppointment(owner.id, app.code, AppointmentChanges(title = "Seen", ifRevision = 0uL))
        expect(edit.appointment.revision == 1uL && edit.appointment.title == "Seen", "applied: ${edit.appointment}")
        val seenByA = s.appointment(app.code)
        val seenByB = s.appointment(app.code)
        s.updateAppointment(owner.id, app.code, AppointmentChanges(title = "A's title", ifRevision = seenByA.revision))
        try {
            s.updateAppointment(owner.id, app.code, AppointmentChanges(holdMinutes = 45u, ifRevision = seenByB.revision))
            throw AssertionError("B's revision is stale")
        } catch (e: AppointmentException.Changed) {
        }
        val again = s.appointment(app.code)
        val b = s.updateAppointment(owner.id, app.code, AppointmentChanges(holdMinutes = 45u, ifRevision = again.revision))
        expect(b.appointment.title == "A's title" && b.appointment.holdMinutes == 45u, "both edits kept: ${b.appointment}")
        expect(b.appointment.revision == 3uL, "revision ${b.appointment.revision}")
        val closed = s.closeAppointment(owner.id, app.code, 3uL)
        expect(closed.appointment.status == "closed" && closed.appointment.revision == 4uL, "closed at 3")
        val reopened = s.reopenAppointment(owner.id, app.code, ifRevision = 4uL)
        expect(reopened.appointment.status == "active" && reopened.appointment.revision == 5uL, "reopened at 4")
    }
    s.close()
}

// Waiting lists on a clock the checks pin, against the store `url` names: places in line for a
// full slot, a cancel offering the seat to the first in line as a hold booked with its token, an
// offer running out and passing to the next, leaving, and anti-scalping; blocking, then suspend.
fun waitlistChecks(store: String, url: String) {
    val epoch = Instant.parse("2031-03-01T00:00:00Z")
    val clock = ManualClock(epoch)
    val s = Scheduler.openWithClock(url, clock)
    val owner = s.registerUser("Wal", unique("owner"))
    fun group(seats: UInt, antiScalping: String = "none") = s.createAppointment(
        owner.id,
        AppointmentInput(
            title = "Waited", startDate = "2031-03-03", endDate = "2031-03-03",
            startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
            kind = "group", capacity = seats, antiScalping = antiScalping, holdMinutes = 15u,
        ),
    )
    fun book(code: String, start: Instant) = s.book(code, start, guest(unique("guest")))

    check("$store: a waiting list offers a freed seat to the first in line") {
        clock.set(epoch)
        val app = group(1u)
        try {
            s.joinWaitlist(app.code, at("09:00"), "Ada", unique("ada"))
            throw AssertionError("a slot with free seats takes no places")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "seats", "named as Kotlin's parameter: $e")
            expect(e.detail.startsWith("invalid seats: "), "$e")
        }
        val taken = book(app.code, at("09:00"))
        val ada = s.joinWaitlist(app.code, at("09:00"), "Ada", unique("ada"))
        val bo = s.joinWaitlist(app.code, at("09:00"), name = "Bo", email = unique("bo"), seats = 1u)
        expect(ada.code.startsWith("WL-") && ada.status == "waiting" && ada.position == 1uL, "$ada")
        expect(ada.slotStart == at("09:00") && ada.seats == 1u && ada.offer == null, "$ada")
        expect(bo.position == 2uL, "$bo")
        expect(s.waitlistPlace(bo.code).position == 2uL, "read back")

        clock.advance(Duration.ofMinutes(1))
        s.cancel(taken.code)
        val offered = s.waitlistPlace(ada.code)
        val offer = offered.offer ?: throw AssertionError("no offer: $offered")
        expect(offered.status == "offered" && offered.position == 0uL, "$offered")
        expect(offer.status == "held" && offer.seats == 1u, "$offer")
        expect(offer.expiresAt == clock.now().plus(Duration.ofMinutes(15)), "expires: ${offer.expiresAt}")
        expect(s.waitlistPlace(bo.code).position == 1uL, "Bo moves up")
        expect(s.analytics(owner.id, "2031-03-03", "2031-03-03").seatsHeld == 1uL, "the offer is held")
        val booking = s.book(app.code, at("09:00"), guest(offered.email), holdToken = offer.token)
        expect(booking.status == "active", "$booking")
        val booked = s.waitlistPlace(ada.code)
        expect(booked.status == "booked" && booked.offer?.bookingId == booking.id, "$booked")
        expect(s.analytics(owner.id, "2031-03-03", "2031-03-03").seatsHeld == 0uL, "nothing held")
    }

    check("$store: an offer that runs out passes to the next in line; leaving") {
        clock.set(epoch)
        val app = group(1u)
        val taken = book(app.code, at("10:00"))
        val ada = s.joinWaitlist(app.code, at("10:00"), "Ada", unique("ada"))
        val bo = s.joinWaitlist(app.code, at("10:00"), "Bo", unique("bo"))
        val cy = s.joinWaitlist(app.code, at("10:00"), "Cy", unique("cy"))
        s.cancel(taken.code)
        val offer = s.waitlistPlace(ada.code).offer ?: throw AssertionError("no offer")
        clock.set(offer.expiresAt.minusNanos(1_000))
        expect(s.waitlistPlace(bo.code).status == "waiting", "a microsecond before, still Ada's")
        clock.set(offer.expiresAt)
        expect(s.waitlistPlace(ada.code).status == "expired", "expired at expiresAt")
        val passed = s.waitlistPlace(bo.code)
        expect(passed.status == "offered" && passed.offer?.token != offer.token, "passed on: $passed")
        val left = s.leaveWaitlist(bo.code)
        expect(left.status == "left" && left.offer?.status == "released", "given back: $left")
        expect(s.waitlistPlace(cy.code).status == "offered", "then Cy's")
        try {
            s.waitlistPlace("WL-AAAAAAAAAAAA")
            throw AssertionError("unknown place")
        } catch (e: AppointmentException.NotFound) {
            expect(e.entity == "waitlist entry", "$e")
        }
        try {
            s.leaveWaitlist("BK-AAAAAAAAAAAA")
            throw AssertionError("a booking code is no place")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "code", "$e")
        }
    }

    check("$store: one email, one place under anti-scalping") {
        clock.set(epoch)
        val app = group(1u, antiScalping = "standard")
        book(app.code, at("11:00"))
        val email = unique("ada")
        s.joinWaitlist(app.code, at("11:00"), "Ada", email)
        try {
            s.joinWaitlist(app.code, at("11:00"), "Ada", email.uppercase())
            throw AssertionError("twice in line")
        } catch (e: AppointmentException.Duplicate) {
            expect(e.what == "place on the waiting list for this email", "$e")
        }
    }

    checkSuspending("$store: suspend calls join, read, book the offer and leave") {
        clock.set(epoch)
        val a = s.asAsync()
        val app = group(1u)
        val taken = a.book(app.code, at("11:00"), guest(unique("guest")))
        val ada = a.joinWaitlist(app.code, at("11:00"), "Ada", unique("ada"))
        val bo = a.joinWaitlist(app.code, at("11:00"), "Bo", unique("bo"), 1u)
        expect(ada.position == 1uL && bo.position == 2uL, "in line")
        a.cancel(taken.code)
        val offered = a.waitlistPlace(ada.code)
        val token = offered.offer?.token ?: throw AssertionError("no offer: $offered")
        a.book(app.code, at("11:00"), guest(offered.email), holdToken = token)
        expect(a.waitlistPlace(ada.code).status == "booked", "booked")
        expect(a.leaveWaitlist(bo.code).status == "left", "left")
        try {
            a.joinWaitlist(app.code, at("11:00"), "Cy", unique("cy"), 0u)
            throw AssertionError("no seats")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "seats", "$e")
        }
    }
    s.close()
}

// The outbox on a clock the checks pin, against the store `url` names: a booking, a cancel, a
// hold and its release, a pending booking confirmed and a seat offered to a waiting list are
// events with the thing as the change left it (never a hold's token); reading on from `next` in
// pages of any size gives each event once, in order; bad cursors and limits throw InvalidInput
// naming the Kotlin parameter; the suspend API reads the same.
fun eventChecks(store: String, url: String) {
    val epoch = Instant.parse("2031-03-01T00:00:00Z")
    val clock = ManualClock(epoch)
    val s = Scheduler.openWithClock(url, clock)
    val owner = s.registerUser("Eve", unique("owner"))
    fun group(seats: UInt, confirmWithin: UInt? = null) = s.createAppointment(
        owner.id,
        AppointmentInput(
            title = "Evented", startDate = "2031-03-03", endDate = "2031-03-03",
            startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
            kind = "group", capacity = seats, holdMinutes = 15u, confirmWithinMinutes = confirmWithin,
        ),
    )
    // The owner's events after `after`, read in pages of `limit` until at least `atLeast` have
    // come, then whatever else is already there. A store may answer an event a moment after its
    // change committed (Postgres answers it once every older writing transaction has ended, which
    // other databases of the cluster can delay), as the engine's conformance suite says: the
    // reader asks again until the events it expects are there, for at most 30 seconds.
    fun readAll(after: String? = null, limit: UInt = 100u, atLeast: Int = 0): List<Event> {
        val deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos()
        val out = mutableListOf<Event>()
        var cursor = after
        while (true) {
            val page = s.events(cursor, limit, owner.id)
            expect(page.events.size.toUInt() <= limit, "at most $limit: ${page.events.size}")
            expect(page.next == (page.events.lastOrNull()?.cursor ?: cursor ?: "0.0"), "next: ${page.next}")
            out += page.events
            cursor = page.next
            if (page.events.size.toUInt() == limit) continue
            if (out.size >= atLeast) return out
            expect(System.nanoTime() < deadline, "${out.size} of $atLeast events came: $out")
            Thread.sleep(2)
        }
    }

    check("$store: a booking, a cancel, a hold and an approval are events, in order") {
        clock.set(epoch)
        val app = group(3u)
        val booking = s.book(app.code, at("09:00"), BookerInput.Guest("Bo", unique("bo")), 2u)
        clock.advance(Duration.ofMinutes(1))
        s.cancel(booking.code)
        val hold = s.hold(app.code, at("10:00"), 3u)
        s.releaseHold(hold.token)
        val approved = group(2u, confirmWithin = 60u)
        val pending = s.book(approved.code, at("11:00"), guest(unique("cy")))
        clock.advance(Duration.ofMinutes(1))
        s.confirm(owner.id, pending.code)

        val events = readAll(atLeast = 8)
        expect(
            events.map { it.type } == listOf(
                "appointment.created", "booking.created", "booking.cancelled", "hold.created",
                "hold.released", "appointment.created", "booking.created", "booking.confirmed",
            ),
            "types: ${events.map { it.type }}",
        )
        expect(events.all { it.ownerId == owner.id && it.version == 1u }, "owner and version")
        val (created, made, cancelled, taken, released) = events
        val (asked, confirmed) = events.drop(6)
        expect(created.appCode == app.code && created.appointmentId == app.id, "$created")
        expect(created.status == "active" && created.revision == 0uL && created.bookingCode == null, "$created")
        expect(made.at == epoch && cancelled.at == epoch.plus(Duration.ofMinutes(1)), "at: ${made.at}, ${cancelled.at}")
        expect(made.bookingId == booking.id && made.bookingCode == booking.code && made.status == "active", "$made")
        expect(made.slotStart == at("09:00") && made.slotEnd == at("10:00") && made.seats == 2u, "$made")
        expect(made.name == "Bo" && made.email == booking.email && made.holdId == null && made.revision == null, "$made")
        expect(cancelled.status == "cancelled" && cancelled.bookingCode == booking.code, "$cancelled")
        expect(taken.holdId == hold.id && taken.status == "held" && taken.seats == 3u, "$taken")
        expect(taken.expiresAt == hold.expiresAt && taken.bookingId == null && taken.name == null, "$taken")
        expect(released.holdId == hold.id && released.status == "released", "$released")
        expect(asked.status == "pending" && asked.confirmBy == pending.confirmBy && asked.confirmBy != null, "$asked")
        expect(confirmed.status == "active" && confirmed.bookingCode == pending.code, "$confirmed")
        expect(events.none { it.toString().contains(hold.token) }, "no event carries the hold's token")
        val keys = events.map { it.cursor.split(".").let { (tx, seq) -> tx.toULong() to seq.toULong() } }
        expect(keys.zipWithNext().all { (a, b) -> a.first < b.first || (a.first == b.first && a.second < b.second) }, "cursors ascend: $keys")
        for (limit in listOf(1u, 3u, 5u)) {
            expect(readAll(null, limit, 8) == events, "pages of $limit give the same events")
        }
        expect(readAll(events[4].cursor, atLeast = 3) == events.drop(5), "after an event: exactly the ones after it")
    }

    check("$store: a freed seat offered to the waiting list is one change, three events") {
        clock.set(epoch)
        val start = readAll(atLeast = 8).last().cursor
        val app = group(1u)
        val taken = s.book(app.code, at("09:00"), guest(unique("bo")))
        val place = s.joinWaitlist(app.code, at("09:00"), "Ada", unique("ada"))
        val joined = readAll(start, atLeast = 3).last()
        expect(joined.type == "waitlist.joined" && joined.waitlistCode == place.code && joined.status == "waiting", "$joined")
        s.cancel(taken.code)
        val offer = s.waitlistPlace(place.code).offer ?: throw AssertionError("no offer")
        val after = readAll(joined.cursor, atLeast = 3)
        expect(after.map { it.type }.sorted() == listOf("booking.cancelled", "hold.created", "waitlist.offered"), "${after.map { it.type }}")
        val offered = after.single { it.type == "waitlist.offered" }
        expect(offered.holdId == offer.id && offered.waitlistCode == place.code && offered.status == "offered", "$offered")
        expect(after.single { it.type == "hold.created" }.holdId == offer.id, "the offer's hold")
    }

    check("$store: a bad cursor, limit or owner throws InvalidInput naming the parameter") {
        for ((field, call) in listOf<Pair<String, () -> Any>>(
            "after" to { s.events("nonsense") },
            "after" to { s.events("-1.2") },
            "limit" to { s.events(limit = 0u) },
            "limit" to { s.events(limit = 1001u) },
            "ownerId" to { s.events(ownerId = "not-a-uuid") },
        )) {
            try {
                call()
                throw AssertionError("$field must be refused")
            } catch (e: AppointmentException.InvalidInput) {
                expect(e.field == field && e.detail == "invalid $field: ${e.reason}", "$e")
            }
        }
    }

    checkSuspending("$store: suspend events read what the blocking ones read") {
        val a = s.asAsync()
        val all = a.events(ownerId = owner.id, limit = 1000u)
        expect(all == s.events(null, 1000u, owner.id) && all.events.isNotEmpty(), "the same page")
        try {
            a.events(limit = 0u)
            throw AssertionError("limit 0")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "limit", "$e")
        }
    }
    s.close()
}

// The suspend API (AsyncScheduler) against the store `url` names: the booking flow, a race of
// coroutines for the last seats of a party, and coroutines cancelled mid-call.
fun asyncChecks(store: String, url: String) {
    val s = runBlocking { AsyncScheduler.open(url) }
    val owner = runBlocking { s.registerUser("Sue", unique("owner"), null, "") }
    suspend fun group(seats: UInt, kind: String = "group") = s.createAppointment(
        owner.id,
        AppointmentInput(
            title = "Async $kind", startDate = "2031-03-03", endDate = "2031-03-03",
            startTime = "09:00", endTime = "12:00", slotMinutes = if (kind == "party") 180u else 60u,
            kind = kind, capacity = seats, antiScalping = "none",
        ),
    )

    checkSuspending("$store: suspend calls: book, read, move, cancel; errors are typed") {
        val app = group(2u)
        val slots = s.allSlots(app.code, null)
        expect(slots.map { it.start } == listOf(at("09:00"), at("10:00"), at("11:00")), "slots: $slots")
        val booking = s.book(app.code, at("09:00"), guest(unique("guest")), 2u, "", null)
        expect(booking.status == "active" && s.booking(booking.code).id == booking.id, "read back")
        try {
            s.book(app.code, at("09:00"), guest(unique("guest")), 1u, "", null)
            throw AssertionError("the slot is full")
        } catch (e: AppointmentException.SlotFull) {
            expect(e.requested == 1u && e.available == 0u, "$e")
        }
        val moved = s.reschedule(booking.code, at("10:00"), 1u)
        expect(moved.slotStart == at("10:00") && moved.attendeeCount == 1u, "moved: $moved")
        expect(s.slot(app.code, at("09:00")).seatsTaken == 0u, "old seats freed")
        // The blocking view reads the same store and engine.
        s.blocking().use { b -> expect(b.slot(app.code, at("10:00")).seatsTaken == 1u, "seen blocking") }
        expect(s.cancel(booking.code).status == "cancelled", "cancelled")
        try {
            s.cancel(booking.code)
            throw AssertionError("cancelling twice must fail")
        } catch (e: AppointmentException.InvalidTransition) {
            expect(e.status == "cancelled", "$e")
        }
        try {
            s.booking("BK-AAAAAAAAAAAA")
            throw AssertionError("unknown booking must fail")
        } catch (e: AppointmentException.NotFound) {
            expect(e.entity == "booking", "$e")
        }
        val hold = s.hold(app.code, at("11:00"), 2u)
        val held = s.book(app.code, at("11:00"), guest(unique("guest")), 2u, "", null, hold.token)
        expect(s.holdByToken(hold.token).status == "booked" && held.status == "active", "hold booked")
        val edit = s.closeAppointment(owner.id, app.code, app.revision)
        expect(edit.appointment.status == "closed", "closed")
        expect(s.myAppointments(owner.id, 1u, 100u).items.any { it.code == app.code }, "listed")
    }

    checkSuspending("$store: 300 coroutines race for the last 25 seats of a party") {
        val party = group(25u, kind = "party")
        val start = s.allSlots(party.code, null).single().start
        val racers = 300
        val outcomes = (1..racers).map { i ->
            async(Dispatchers.Default) {
                try {
                    s.book(party.code, start, guest(unique("racer$i")), 1u, "", null)
                    "won"
                } catch (e: AppointmentException.SlotFull) {
                    "full"
                }
            }
        }.awaitAll()
        expect(outcomes.count { it == "won" } == 25, "exactly 25 win: ${outcomes.count { it == "won" }}")
        expect(outcomes.count { it == "full" } == racers - 25, "the rest see SlotFull")
        val slot = s.slot(party.code, start)
        expect(slot.seatsTaken == 25u && slot.seatsLeft == 0u, "25 seats taken: $slot")
        expect(s.appointmentBookings(owner.id, party.code, 1u, 100u).total == 25uL, "25 bookings")
    }

    checkSuspending("$store: coroutines cancelled mid-call leave no partial booking") {
        val app = group(20u)
        val start = at("09:00")
        // 60 bookings of one 20-seat slot; every other one is cancelled: half of those time out
        // after 1 to 15 ms, the other half are cancelled as soon as all are launched.
        var timedOut = 0
        val returned = java.util.concurrent.ConcurrentLinkedQueue<String>()
        val fullSeen = java.util.concurrent.atomic.AtomicInteger()
        val jobs = (0 until 60).map { i ->
            launch(Dispatchers.Default) {
                val call = suspend {
                    try {
                        returned.add(s.book(app.code, start, guest(unique("c$i")), 1u, "", null).code)
                    } catch (e: AppointmentException.SlotFull) {
                        fullSeen.incrementAndGet()
                    }
                }
                if (i % 4 == 0) {
                    if (withTimeoutOrNull(1L + (i / 4) % 15) { call() } == null) synchronized(returned) { timedOut++ }
                } else {
                    call()
                }
            }
        }
        jobs.filterIndexed { i, _ -> i % 4 == 2 }.forEach { it.cancel() }
        jobs.joinAll()
        val active = s.appointmentBookings(owner.id, app.code, 1u, 100u).items.filter { it.status == "active" }
        val slot = s.slot(app.code, start)
        expect(slot.seatsTaken.toInt() == active.size, "seats taken ${slot.seatsTaken}, active bookings ${active.size}")
        expect(active.size <= 20, "at most 20: ${active.size}")
        expect(active.all { it.slotStart == start && it.attendeeCount == 1u }, "whole bookings only")
        expect(returned.all { code -> active.any { it.code == code } }, "every answered booking is kept")
        // Nothing frees a seat here: once one call was refused, the slot stayed full.
        expect(fullSeen.get() == 0 || active.size == 20, "refused ${fullSeen.get()}, kept ${active.size}")
        // The 30 calls nobody cancelled all answered, with a booking or SlotFull.
        expect(returned.size + fullSeen.get() >= 30, "answered ${returned.size}, refused ${fullSeen.get()}")
        // Kept beyond those answered: cancelled calls whose transaction had committed.
        println("  ($store: ${returned.size} answered, ${active.size} kept, $timedOut timed out mid-call)")
    }

    runBlocking {
        val clock = ManualClock(Instant.parse("2031-03-03T09:30:00Z"))
        AsyncScheduler.openWithClock(url, clock).use { pinned ->
            check("$store: an AsyncScheduler opened with a clock reads it") {
                runBlocking {
                    // On `memory:` this is another store: its own owner.
                    val pinnedOwner = pinned.registerUser("Pia", unique("owner"), null, "")
                    val app = pinned.createAppointment(
                        pinnedOwner.id,
                        AppointmentInput(
                            title = "Pinned", startDate = "2031-03-03", endDate = "2031-03-03",
                            startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
                        ),
                    )
                    expect(app.createdAt == Instant.parse("2031-03-03T09:30:00Z"), "created at ${app.createdAt}")
                    expect(pinned.allSlots(app.code, null).map { it.start } == listOf(at("10:00"), at("11:00")), "09:00 started")
                }
            }
        }
        clock.close()
    }
    s.close()
}

fun main() {
    val s = Scheduler.open("memory:")
    val owner = s.registerUser("Ada", "ada@example.com")

    check("slots are computed in the appointment's time zone") {
        val app = haircut(s, owner.id)
        val page = s.slots(app.code)
        expect(page.total == 3uL, "3 slots, got ${page.total}")
        expect(page.items[0].start == Instant.parse("2031-03-03T08:00:00Z"), "09:00 Berlin is 08:00Z")
        expect(page.items[0].localDate == "2031-03-03", "local date")
    }

    check("a guest books and the booking can be read back") {
        val app = haircut(s, owner.id)
        val start = s.slots(app.code).items[0].start
        val booking = s.book(app.code, start, guest("bo@example.com"))
        expect(booking.status == "active", "active")
        expect(booking.slotStart == start, "same slot")
        expect(s.booking(booking.code).id == booking.id, "read back")
        expect(s.slot(app.code, start).seatsLeft == 0u, "seat taken")
    }

    check("left-out arguments take their defaults; the others can be named") {
        val app = haircut(s, owner.id, kind = "group", capacity = 3u)
        val page = s.slots(app.code)
        expect(page.page == 1u && page.perPage == 20u, "page 1, 20 a page: ${page.page}, ${page.perPage}")
        val start = page.items[0].start
        val short = s.book(app.code, start, BookerInput.Guest("Bo", "bo.short@example.com"))
        expect(short.attendeeCount == 1u && short.description == "", "one seat, no text: $short")
        expect(short.deviceId == null && short.phone == null, "no device, no phone: $short")
        val named = s.book(
            app.code, start, BookerInput.Guest("Di", "di@example.com", phone = "+44 20 7946 0000"),
            attendeeCount = 2u, description = "window seat",
        )
        expect(named.attendeeCount == 2u && named.description == "window seat", "named: $named")
        expect(named.phone == "+442079460000", "phone: ${named.phone}")
        val moved = s.reschedule(named.code, page.items[1].start, description = "aisle")
        expect(moved.attendeeCount == 2u && moved.description == "aisle", "seats kept, text changed: $moved")
        val onePerPage = s.appointmentBookings(owner.id, app.code, perPage = 1u)
        expect(onePerPage.totalPages == 2uL && onePerPage.items.size == 1, "two pages of one")
        expect(s.appointmentBookings(owner.id, app.code, page = 2u, perPage = 1u).page == 2u, "page 2")
    }

    check("a full slot throws AppointmentException.SlotFull") {
        val app = haircut(s, owner.id)
        val start = s.slots(app.code).items[0].start
        s.book(app.code, start, guest("first@example.com"))
        try {
            s.book(app.code, start, guest("second@example.com"))
            throw AssertionError("the second booking must fail")
        } catch (e: AppointmentException.SlotFull) {
            expect(e.requested == 1u && e.available == 0u, "requested 1, available 0: $e")
            expect(e.detail.startsWith("not enough seats left"), "the engine's message: $e")
        }
    }

    check("cancel twice throws InvalidTransition; unknown code throws NotFound") {
        val app = haircut(s, owner.id)
        val start = s.slots(app.code).items[1].start
        val booking = s.book(app.code, start, guest("cy@example.com"))
        expect(s.cancel(booking.code).status == "cancelled", "cancelled")
        try {
            s.cancel(booking.code)
            throw AssertionError("cancelling twice must fail")
        } catch (e: AppointmentException.InvalidTransition) {
            expect(e.status == "cancelled" && e.action == "cancel", "$e")
        }
        try {
            s.booking("BK-AAAAAAAAAAAA")
            throw AssertionError("unknown booking must fail")
        } catch (e: AppointmentException.NotFound) {
            expect(e.entity == "booking", "$e")
        }
    }

    check("userByEmail finds a registered user, whatever the case, or null") {
        val found = s.userByEmail("ADA@example.com")
        expect(found?.id == owner.id, "found: $found")
        expect(s.userByEmail(unique("nobody")) == null, "nobody")
        try {
            s.userByEmail("not an email")
            throw AssertionError("must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "email", "$e")
        }
    }

    check("InvalidInput names the Kotlin parameter or field, not the engine's input") {
        fun refused(body: () -> Unit): String = try {
            body()
            throw AssertionError("must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.detail == "invalid ${e.field}: ${e.reason}", "the message names it too: $e")
            e.field
        }
        val input = AppointmentInput(
            title = "Named", startDate = "2031-03-03", endDate = "2031-03-03",
            startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
        )
        expect(refused { s.createAppointment(owner.id, input.copy(slotMinutes = 0u)) } == "slotMinutes", "slotMinutes")
        expect(refused { s.createAppointment(owner.id, input.copy(kind = "banquet")) } == "kind", "kind")
        expect(refused { s.createAppointment(owner.id, input.copy(kind = "group")) } == "capacity", "capacity")
        expect(refused { s.createAppointment(owner.id, input.copy(antiScalping = "maybe")) } == "antiScalping", "antiScalping")
        expect(refused { s.createAppointment(owner.id, input.copy(holdMinutes = 0u)) } == "holdMinutes", "holdMinutes")
        expect(refused { s.createAppointment(owner.id, input.copy(startTime = "9")) } == "startTime", "startTime")
        expect(refused { s.createAppointment(owner.id, input.copy(endDate = "2031-03-01")) } == "endDate", "endDate")
        expect(refused { s.createAppointment("not-a-uuid", input) } == "ownerId", "ownerId")
        val app = s.createAppointment(owner.id, input)
        expect(refused { s.book(app.code, at("09:30"), guest(unique("g"))) } == "start", "start")
        expect(refused { s.book(app.code, at("09:00"), guest(unique("g")), attendeeCount = 2u) } == "attendeeCount", "attendeeCount")
        expect(refused { s.book(app.code, at("09:00"), guest(unique("g")), holdToken = "x") } == "holdToken", "holdToken")
        expect(refused { s.hold(app.code, at("09:00"), 2u) } == "seats", "seats of a hold")
        expect(refused { s.holdByToken("BK-AAAAAAAAAAAA") } == "token", "token")
        expect(refused { s.appointment("BK-AAAAAAAAAAAA") } == "code", "code of an appointment")
        expect(refused { s.cancel("AP-AAAAAAAAAAAA") } == "code", "code of a booking")
        expect(refused { s.waitlistPlace("") } == "code", "code of a place")
        expect(refused { s.joinWaitlist(app.code, at("09:00"), "Bo", unique("bo")) } == "seats", "seats of a place")
        expect(refused { s.userBookings("nope") } == "userId", "userId")
        expect(refused { s.perPageOf(owner.id) } == "perPage", "perPage")
        expect(s.appointmentBookings(owner.id, app.code).total == 0uL, "nothing was booked")
    }

    check("bad input throws InvalidInput with the field") {
        try {
            s.createAppointment(
                owner.id,
                AppointmentInput(
                    title = "X", startDate = "2031-03-03", endDate = "2031-03-03",
                    startTime = "09:00", endTime = "12:00", slotMinutes = 60u,
                    timeZone = "Mars/Olympus",
                ),
            )
            throw AssertionError("an unknown zone must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "timeZone", "$e")
        }
    }

    check("threads racing for one group seat: capacity holds") {
        val app = haircut(s, owner.id, kind = "group", capacity = 3u)
        val start = s.slots(app.code).items[2].start
        val threads = 12
        val pool = Executors.newFixedThreadPool(threads)
        val go = CountDownLatch(1)
        val results = (1..threads).map { i ->
            pool.submit<String> {
                go.await()
                try {
                    s.book(app.code, start, guest("racer$i@example.com"))
                    "won"
                } catch (e: AppointmentException.SlotFull) {
                    "full"
                }
            }
        }
        go.countDown()
        val outcomes = results.map { it.get(60, TimeUnit.SECONDS) }
        pool.shutdown()
        expect(outcomes.count { it == "won" } == 3, "exactly 3 win: $outcomes")
        expect(outcomes.count { it == "full" } == threads - 3, "the rest see SlotFull: $outcomes")
        expect(s.slot(app.code, start).seatsTaken == 3u, "3 seats taken")
    }

    check("bans, bookings as a user, owner listings, reject, analytics") {
        val app = haircut(s, owner.id, kind = "group", capacity = 2u)
        val start = s.slots(app.code).items[0].start
        s.ban(owner.id, "troll@example.com")
        try {
            s.book(app.code, start, guest("troll@example.com"))
            throw AssertionError("a banned email must fail")
        } catch (e: AppointmentException.Banned) {
        }
        expect(s.bans(owner.id).map { it.email } == listOf("troll@example.com"), "ban listed")
        try {
            s.book(app.code, start, guest("Troll+Alias@example.com"))
            throw AssertionError("a +tag alias of a banned email must fail")
        } catch (e: AppointmentException.Banned) {
        }
        val member = s.registerUser("Mo", "mo@example.com")
        val mine = s.book(app.code, start, BookerInput.User(member.id))
        expect(mine.userId == member.id && mine.email == "mo@example.com", "booked as user")
        expect(s.userBookings(member.id).items.map { it.code } == listOf(mine.code), "user bookings")
        expect(s.appointmentBookings(owner.id, app.code).total == 1uL, "appointment bookings")
        expect(s.reject(owner.id, mine.code).status == "rejected", "rejected")
        try {
            s.appointmentBookings(member.id, app.code, 1u, 20u)
            throw AssertionError("only the owner lists bookings")
        } catch (e: AppointmentException.Forbidden) {
        }
        expect(s.allSlots(app.code, "2031-03-03").size == 3, "all slots of the day")
        expect(s.myAppointments(owner.id, perPage = 100u).items.any { it.code == app.code }, "my appointments")
        val stats = s.analytics(owner.id, "2031-03-03", "2031-03-03")
        expect(stats.rejectedBookings == 1uL, "rejected counted: $stats")
        expect(stats.totalBookings >= 1uL, "bookings counted: $stats")
    }

    check("weekly hours with a lunch break, an override and a closure") {
        val app = barber(s, owner.id)
        expect(app.weeklyHours == BARBER_WEEK, "weekly hours: ${app.weeklyHours}")
        expect(app.weeklyHoursByDay["tue"] == listOf("09:00-12:00", "13:00-17:30"), "tuesday")
        expect(app.weeklyHoursByDay["sun"] == emptyList<String>(), "sunday closed")
        expect(app.closures == listOf(Closure("2031-08-04", "2031-08-17", "Summer holidays")), "closures")
        expect(app.overrides == listOf(DateOverride("2031-12-24", listOf("09:00-12:00"))), "overrides")
        val tuesday = s.allSlots(app.code, "2031-03-04")
        expect(tuesday.size == 15, "6 morning + 9 afternoon slots, got ${tuesday.size}")
        // 09:00 in Paris is 08:00Z in March; nothing between 12:00 and 13:00 Paris time.
        expect(tuesday[0].start == Instant.parse("2031-03-04T08:00:00Z"), "first slot")
        expect(tuesday[6].start == Instant.parse("2031-03-04T12:00:00Z"), "after lunch")
        expect(s.allSlots(app.code, "2031-03-08").size == 8, "saturday 10:00-14:00")
        expect(s.allSlots(app.code, "2031-08-05").isEmpty(), "closed for the summer")
        expect(s.allSlots(app.code, "2031-12-24").size == 6, "christmas eve: mornings only")
        try {
            s.createAppointment(owner.id, barberInput().copy(weeklyHours = "mon-fri 09:00-25:00"))
            throw AssertionError("25:00 must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "weeklyHours", "$e")
        }
        try {
            s.createAppointment(
                owner.id,
                barberInput().copy(closures = listOf(Closure("2031-08-17", "2031-08-04", null))),
            )
            throw AssertionError("a backwards closure must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "closures", "$e")
        }
    }

    check("an edit changes the hours, never a booking; close, reopen, delete") {
        val app = barber(s, owner.id)
        val afternoon = s.allSlots(app.code, "2031-03-04")[6].start
        val booking = s.book(app.code, afternoon, guest("trim@example.com"))
        expect(s.attendeesBooked(app.code) == 1uL, "one seat booked")
        val edit = s.updateAppointment(
            owner.id, app.code,
            AppointmentChanges(weeklyHours = "mon-fri 09:00-12:00", closures = emptyList(), title = "Mornings"),
        )
        expect(edit.bookingsOutsideHours == 1uL, "the 13:00 booking is outside: ${edit.bookingsOutsideHours}")
        expect(edit.appointment.weeklyHours == "mon-fri 09:00-12:00", "new hours")
        expect(edit.appointment.title == "Mornings" && edit.appointment.closures.isEmpty(), "title, closures")
        expect(edit.appointment.overrides == app.overrides, "overrides kept")
        expect(edit.appointment.updatedAt.isAfter(app.updatedAt), "updatedAt moves")
        expect(s.booking(booking.code).status == "active", "the booking stays")
        expect(s.allSlots(app.code, "2031-03-04").size == 6, "mornings only")
        expect(s.allSlots(app.code, "2031-08-05").size == 6, "the closure is gone")
        try {
            s.updateAppointment(owner.id, app.code, AppointmentChanges(weeklyHours = "mon 9-5"))
            throw AssertionError("bad hours must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "weeklyHours", "$e")
        }
        val week = s.slotsBetween(
            app.code, Instant.parse("2031-03-03T00:00:00Z"), Instant.parse("2031-03-10T00:00:00Z"), 1u, 100u,
        )
        expect(week.total == 5uL * 6uL, "five mornings of 6 slots: ${week.total}")
        try {
            s.slotsBetween(
                app.code, Instant.parse("2031-03-03T00:00:00Z"), Instant.parse("2031-07-03T00:00:00Z"), 1u, 20u,
            )
            throw AssertionError("a window over 92 days must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "to", "$e")
        }
        expect(s.closeAppointment(owner.id, app.code).appointment.status == "closed", "closed")
        expect(s.slots(app.code).total == 0uL, "no slots while closed")
        expect(s.reopenAppointment(owner.id, app.code).appointment.status == "active", "reopened")
        s.deleteAppointment(owner.id, app.code)
        try {
            s.appointment(app.code)
            throw AssertionError("a deleted appointment is gone")
        } catch (e: AppointmentException.NotFound) {
        }
        expect(s.booking(booking.code).slotStart == afternoon, "its bookings stay readable")
    }

    check("two appointments on one chair never overlap; removing the resource frees the slots") {
        val barberOwner = s.registerUser("Bea", "bea@example.com", null, "")
        fun onChair(title: String, minutes: UInt, ownerId: String = barberOwner.id, resource: String? = "Chair 1") =
            s.createAppointment(
                ownerId,
                AppointmentInput(
                    title = title, startDate = "2031-03-03", endDate = "2031-03-03",
                    startTime = "09:00", endTime = "12:00", slotMinutes = minutes, resource = resource,
                ),
            )
        fun times(code: String) = s.allSlots(code, "2031-03-03").map { it.start.toString().substring(11, 16) }
        val cut = onChair("Haircut", 60u)
        val trim = onChair("Beard trim", 30u, resource = "chair 1")
        expect(cut.resource == "Chair 1" && s.appointment(trim.code).resource == "chair 1", "resource stored")
        val other = s.registerUser("Cy", "cy-barber@example.com", null, "")
        val theirs = onChair("Haircut", 60u, ownerId = other.id)
        s.book(cut.code, Instant.parse("2031-03-03T10:00:00Z"), guest("chair1@example.com"), 1u, "", null)
        expect(times(trim.code) == listOf("09:00", "09:30", "11:00", "11:30"), "trims hidden: ${times(trim.code)}")
        try {
            s.book(trim.code, Instant.parse("2031-03-03T10:30:00Z"), guest("chair2@example.com"), 1u, "", null)
            throw AssertionError("the chair is taken")
        } catch (e: AppointmentException.SlotFull) {
            expect(e.available == 0u, "$e")
        }
        s.book(theirs.code, Instant.parse("2031-03-03T10:00:00Z"), guest("chair3@example.com"), 1u, "", null)
        try {
            onChair("Blank", 30u, resource = " ")
            throw AssertionError("a blank resource must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "resource", "$e")
        }
        val off = s.updateAppointment(barberOwner.id, trim.code, AppointmentChanges(removeResource = true))
        expect(off.appointment.resource == null, "resource removed")
        expect(times(trim.code).size == 6, "all trims free again: ${times(trim.code)}")
        s.book(trim.code, Instant.parse("2031-03-03T10:30:00Z"), guest("chair2@example.com"), 1u, "", null)
        val on = s.updateAppointment(barberOwner.id, trim.code, AppointmentChanges(resource = "Chair 2"))
        expect(on.appointment.resource == "Chair 2", "resource set by an edit")
    }

    check("a SQLite file keeps bookings across a reopen") {
        val dir = java.nio.file.Files.createTempDirectory("appointment-master")
        val url = "sqlite://" + dir.resolve("kotlin.db")
        val first = Scheduler.open(url)
        val o = first.registerUser("Kim", "kim@example.com", null, "")
        val app = haircut(first, o.id)
        val start = first.slots(app.code, null, 1u, 20u).items[0].start
        val booking = first.book(app.code, start, guest("lee@example.com"), 1u, "", null)
        first.close()
        val again = Scheduler.open(url)
        expect(again.booking(booking.code).slotStart == start, "booking kept")
        try {
            again.book(app.code, start, guest("max@example.com"), 1u, "", null)
            throw AssertionError("the kept booking still holds the seat")
        } catch (e: AppointmentException.SlotFull) {
        }
        again.close()
    }

    check("an unknown store URL throws InvalidInput") {
        try {
            Scheduler.open("ftp://nowhere")
            throw AssertionError("must fail")
        } catch (e: AppointmentException.InvalidInput) {
            expect(e.field == "url", "$e")
        }
    }

    check("an unreachable database throws Unavailable") {
        // Nothing listens on port 1: the store gives up within its bounded wait.
        try {
            Scheduler.open("postgres://postgres@127.0.0.1:1/appointments")
            throw AssertionError("must fail")
        } catch (e: AppointmentException.Unavailable) {
            expect(e.detail.isNotEmpty(), "$e")
        }
    }

    lifecycleChecks("memory", "memory:")
    val dir = java.nio.file.Files.createTempDirectory("appointment-master-lifecycle")
    lifecycleChecks("sqlite", "sqlite://" + dir.resolve("lifecycle.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { lifecycleChecks("postgres", it) }
    holdChecks("memory", "memory:")
    holdChecks("sqlite", "sqlite://" + dir.resolve("holds.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { holdChecks("postgres", it) }
    asyncChecks("memory", "memory:")
    asyncChecks("sqlite", "sqlite://" + dir.resolve("async.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { asyncChecks("postgres", it) }
    revisionChecks("memory", "memory:")
    revisionChecks("sqlite", "sqlite://" + dir.resolve("revisions.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { revisionChecks("postgres", it) }
    approvalChecks("memory", "memory:")
    approvalChecks("sqlite", "sqlite://" + dir.resolve("approval.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { approvalChecks("postgres", it) }
    waitlistChecks("memory", "memory:")
    waitlistChecks("sqlite", "sqlite://" + dir.resolve("waitlist.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { waitlistChecks("postgres", it) }
    eventChecks("memory", "memory:")
    eventChecks("sqlite", "sqlite://" + dir.resolve("events.db"))
    System.getenv("TEST_POSTGRES_URL")?.takeIf { it.isNotEmpty() }?.let { eventChecks("postgres", it) }

    s.close()
    println("kotlin: $passed passed, $failed failed")
    if (failed > 0) exitProcess(1)
}
