-- Shared resources: appointments of one owner may name the same resource (a person, a room, a
-- chair). An active booking occupies its appointment's resource from its slot's start to
-- claim_end (the slot's end plus the appointment's buffer); the exclusion constraint makes two
-- active bookings of different appointments on overlapping times of one resource impossible,
-- in the same statement that writes the booking, whatever runs concurrently.
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE appointments ADD COLUMN resource TEXT;

ALTER TABLE bookings ADD COLUMN resource_key UUID;
ALTER TABLE bookings ADD COLUMN claim_end TIMESTAMPTZ;
ALTER TABLE bookings ADD CONSTRAINT bookings_resource_claim_check
    CHECK ((resource_key IS NULL) = (claim_end IS NULL) AND (claim_end IS NULL OR claim_end > slot_start));
ALTER TABLE bookings ADD CONSTRAINT bookings_resource_excl EXCLUDE USING gist (
    resource_key WITH =,
    tstzrange(slot_start, claim_end) WITH &&,
    appointment_id WITH <>
) WHERE (status = 'active' AND resource_key IS NOT NULL);
