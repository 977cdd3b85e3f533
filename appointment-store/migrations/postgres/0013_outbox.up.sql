-- The outbox: one row per change of an appointment, a booking, a hold or a waiting place,
-- written by the triggers below in the same transaction as the change (whatever statement
-- makes it), so that no change is without its event and no event without its change.
--
-- Order: (tx, seq). tx is the writing transaction's id; a reader answers only events whose
-- transaction is older than every transaction still running (pg_snapshot_xmin), so no event can
-- ever appear behind a cursor that was handed out. Each row snapshots the entity as the change
-- left it (hold tokens never: they are bearer secrets).
CREATE TABLE outbox (
    tx             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    seq            bigserial   NOT NULL,
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    kind           text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    owner_id       uuid        NOT NULL,
    appointment_id uuid        NOT NULL,
    app_code       text        NOT NULL,
    subject_id     uuid        NOT NULL,
    code           text,
    status         text        NOT NULL,
    slot_start     timestamptz,
    slot_end       timestamptz,
    seats          bigint,
    name           text,
    email          text,
    deadline       timestamptz,
    ref_id         uuid,
    revision       bigint,
    PRIMARY KEY (tx, seq)
);

-- An owner's events, in order.
CREATE INDEX outbox_owner_idx ON outbox (owner_id, tx, seq);

CREATE FUNCTION outbox_booking() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := 'booking.created';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        k := CASE NEW.status WHEN 'active' THEN 'booking.confirmed' WHEN 'pending' THEN NULL
             ELSE 'booking.' || NEW.status END;
    ELSE
        k := 'booking.rescheduled';
    END IF;
    IF k IS NOT NULL THEN
        INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                            code, status, slot_start, slot_end, seats, name, email, deadline)
        SELECT k, NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code, NEW.id,
               NEW.code, NEW.status, NEW.slot_start, NEW.slot_end, NEW.attendee_count,
               NEW.name, NEW.email, NEW.confirm_by
        FROM appointments a WHERE a.id = NEW.appointment_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER bookings_outbox_insert AFTER INSERT ON bookings
    FOR EACH ROW EXECUTE FUNCTION outbox_booking();
CREATE TRIGGER bookings_outbox_update AFTER UPDATE ON bookings
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.slot_start IS DISTINCT FROM NEW.slot_start
                       OR OLD.attendee_count IS DISTINCT FROM NEW.attendee_count)
    EXECUTE FUNCTION outbox_booking();

CREATE FUNCTION outbox_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                        status, slot_start, slot_end, seats, deadline, ref_id)
    SELECT CASE WHEN TG_OP = 'INSERT' THEN 'hold.created' ELSE 'hold.' || NEW.status END,
           NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code, NEW.id, NEW.status,
           NEW.slot_start, NEW.slot_end, NEW.seats, NEW.expires_at, NEW.booking_id
    FROM appointments a WHERE a.id = NEW.appointment_id;
    RETURN NULL;
END $$;

CREATE TRIGGER holds_outbox_insert AFTER INSERT ON holds
    FOR EACH ROW EXECUTE FUNCTION outbox_hold();
CREATE TRIGGER holds_outbox_update AFTER UPDATE ON holds
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status <> 'held')
    EXECUTE FUNCTION outbox_hold();

CREATE FUNCTION outbox_waitlist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                        code, status, slot_start, slot_end, seats, name, email, ref_id)
    SELECT CASE WHEN TG_OP = 'INSERT' THEN 'waitlist.joined' ELSE 'waitlist.' || NEW.status END,
           NEW.updated_at, a.owner_id, NEW.appointment_id, NEW.app_code, NEW.id, NEW.code,
           NEW.status, NEW.slot_start, NEW.slot_end, NEW.seats, NEW.name, NEW.email, NEW.hold_id
    FROM appointments a WHERE a.id = NEW.appointment_id;
    RETURN NULL;
END $$;

CREATE TRIGGER waitlist_outbox_insert AFTER INSERT ON waitlist
    FOR EACH ROW EXECUTE FUNCTION outbox_waitlist();
CREATE TRIGGER waitlist_outbox_update AFTER UPDATE ON waitlist
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       AND NEW.status IN ('offered', 'left'))
    EXECUTE FUNCTION outbox_waitlist();

CREATE FUNCTION outbox_appointment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
    at timestamptz := NEW.updated_at;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := 'appointment.created';
        at := NEW.created_at;
    ELSIF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
        k := 'appointment.deleted';
        at := NEW.deleted_at;
    ELSIF OLD.status = 'active' AND NEW.status = 'closed' THEN
        k := 'appointment.closed';
    ELSIF OLD.status = 'closed' AND NEW.status = 'active' THEN
        k := 'appointment.reopened';
    ELSIF NEW.revision IS DISTINCT FROM OLD.revision THEN
        k := 'appointment.updated';
    END IF;
    IF k IS NOT NULL THEN
        INSERT INTO outbox (kind, occurred_at, owner_id, appointment_id, app_code, subject_id,
                            status, revision)
        VALUES (k, at, NEW.owner_id, NEW.id, NEW.code, NEW.id, NEW.status, NEW.revision);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER appointments_outbox AFTER INSERT OR UPDATE ON appointments
    FOR EACH ROW EXECUTE FUNCTION outbox_appointment();
