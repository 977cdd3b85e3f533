-- The outbox: one row per change of an appointment, a booking, a hold or a waiting place,
-- written by the triggers below in the same transaction as the change (whatever statement
-- makes it), so that no change is without its event and no event without its change.
--
-- Order: seq. One write transaction runs at a time, so insertion order is commit order. Each
-- row snapshots the entity as the change left it (hold tokens never: they are bearer secrets).
-- A migration that rebuilds one of the four tables must create its triggers again.
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL DEFAULT (lower(hex(randomblob(4)) || '-' || hex(randomblob(2))
                       || '-4' || substr(hex(randomblob(2)), 2) || '-'
                       || substr('89ab', 1 + (abs(random()) % 4), 1)
                       || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    kind           TEXT    NOT NULL,
    occurred_at    INTEGER NOT NULL,
    owner_id       TEXT    NOT NULL,
    appointment_id TEXT    NOT NULL,
    app_code       TEXT    NOT NULL,
    subject_id     TEXT    NOT NULL,
    code           TEXT,
    status         TEXT    NOT NULL,
    slot_start     INTEGER,
    slot_end       INTEGER,
    seats          INTEGER,
    name           TEXT,
    email          TEXT,
    deadline       INTEGER,
    ref_id         TEXT,
    revision       INTEGER
) STRICT;

-- An owner's events, in order.
CREATE INDEX outbox_owner_idx ON outbox (owner_id, seq);

CREATE TRIGGER bookings_outbox_insert AFTER INSERT ON bookings
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id, code,
                        status, slot_start, slot_end, seats, name, email, deadline)
    SELECT 'booking.created', NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code,
           NEW.id, NEW.code, NEW.status, NEW.slot_start, NEW.slot_end, NEW.attendee_count,
           NEW.name, NEW.email, NEW.confirm_by
    FROM appointments a WHERE a.id = NEW.appointment_id;
END;

CREATE TRIGGER bookings_outbox_update AFTER UPDATE ON bookings
WHEN (OLD.status IS NOT NEW.status AND NEW.status <> 'pending')
     OR (OLD.status IS NEW.status AND (OLD.slot_start IS NOT NEW.slot_start
                                       OR OLD.attendee_count IS NOT NEW.attendee_count))
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id, code,
                        status, slot_start, slot_end, seats, name, email, deadline)
    SELECT CASE WHEN OLD.status IS NEW.status THEN 'booking.rescheduled'
                WHEN NEW.status = 'active' THEN 'booking.confirmed'
                ELSE 'booking.' || NEW.status END,
           NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code, NEW.id, NEW.code,
           NEW.status, NEW.slot_start, NEW.slot_end, NEW.attendee_count, NEW.name, NEW.email,
           NEW.confirm_by
    FROM appointments a WHERE a.id = NEW.appointment_id;
END;

CREATE TRIGGER holds_outbox_insert AFTER INSERT ON holds
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                        status, slot_start, slot_end, seats, deadline, ref_id)
    SELECT 'hold.created', NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code, NEW.id,
           NEW.status, NEW.slot_start, NEW.slot_end, NEW.seats, NEW.expires_at, NEW.booking_id
    FROM appointments a WHERE a.id = NEW.appointment_id;
END;

CREATE TRIGGER holds_outbox_update AFTER UPDATE ON holds
WHEN OLD.status IS NOT NEW.status AND NEW.status <> 'held'
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                        status, slot_start, slot_end, seats, deadline, ref_id)
    SELECT 'hold.' || NEW.status, NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code,
           NEW.id, NEW.status, NEW.slot_start, NEW.slot_end, NEW.seats, NEW.expires_at,
           NEW.booking_id
    FROM appointments a WHERE a.id = NEW.appointment_id;
END;

CREATE TRIGGER waitlist_outbox_insert AFTER INSERT ON waitlist
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id, code,
                        status, slot_start, slot_end, seats, name, email, ref_id)
    SELECT 'waitlist.joined', NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code,
           NEW.id, NEW.code, NEW.status, NEW.slot_start, NEW.slot_end, NEW.seats, NEW.name,
           NEW.email, NEW.hold_id
    FROM appointments a WHERE a.id = NEW.appointment_id;
END;

CREATE TRIGGER waitlist_outbox_update AFTER UPDATE ON waitlist
WHEN OLD.status IS NOT NEW.status AND NEW.status IN ('offered', 'left')
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id, code,
                        status, slot_start, slot_end, seats, name, email, ref_id)
    SELECT 'waitlist.' || NEW.status, NEW.updated_at, a.owner_id, NEW.appointment_id,
           NEW.app_code, NEW.id, NEW.code, NEW.status, NEW.slot_start, NEW.slot_end, NEW.seats,
           NEW.name, NEW.email, NEW.hold_id
    FROM appointments a WHERE a.id = NEW.appointment_id;
END;

CREATE TRIGGER appointments_outbox_insert AFTER INSERT ON appointments
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                        status, revision)
    VALUES ('appointment.created', NEW.created_at, NEW.owner_id, NEW.id, NEW.code, NEW.id,
            NEW.status, NEW.revision);
END;

CREATE TRIGGER appointments_outbox_update AFTER UPDATE ON appointments
WHEN (NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL) OR OLD.status IS NOT NEW.status
     OR OLD.revision IS NOT NEW.revision
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                        status, revision)
    VALUES (CASE WHEN NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL
                     THEN 'appointment.deleted'
                 WHEN OLD.status = 'active' AND NEW.status = 'closed' THEN 'appointment.closed'
                 WHEN OLD.status = 'closed' AND NEW.status = 'active'
                     THEN 'appointment.reopened'
                 ELSE 'appointment.updated' END,
            CASE WHEN NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN NEW.deleted_at
                 ELSE NEW.updated_at END,
            NEW.owner_id, NEW.id, NEW.code, NEW.id, NEW.status, NEW.revision);
END;
