-- The booking transaction of the Postgres store (appointment-store/src/postgres.rs,
-- insert_booking with the BOOK statement: ban check, booking row and seat claim in one statement),
-- on one of the 56 slots of a week (8 one-hour slots a day from 09:00 UTC, from :day0 on).
-- Variables: :app (appointment id), :owner (its owner's id), :code (its code), :day0, :cap (seats per slot).
\set s random(0, 55)
\set d :s / 8
\set h 9 + :s % 8
BEGIN;
WITH banned AS (SELECT EXISTS (SELECT 1 FROM bans WHERE owner_id = :owner::uuid AND email = 'guest@example.com') AS yes), booked AS (INSERT INTO bookings (id, code, appointment_id, app_code, user_id, name, email, phone, slot_start, slot_end, attendee_count, status, description, device_id, guard_email, guard_device, created_at, updated_at) SELECT gen_random_uuid(), 'BK-' || upper(substr(md5(random()::text), 1, 12)), :app::uuid, :code, NULL, 'Guest', 'guest@example.com', NULL, ((:day0::date + :d::int) + make_interval(hours => :h::int)) AT TIME ZONE 'UTC', ((:day0::date + :d::int) + make_interval(hours => :h::int + 1)) AT TIME ZONE 'UTC', 1, 'active', '', NULL, NULL, NULL, now(), now() FROM banned WHERE NOT banned.yes RETURNING id), claim AS (INSERT INTO slot_seats (appointment_id, slot_start, seats_taken) SELECT :app::uuid, ((:day0::date + :d::int) + make_interval(hours => :h::int)) AT TIME ZONE 'UTC', 1::bigint FROM booked WHERE 1 <= :cap::bigint ON CONFLICT (appointment_id, slot_start) DO UPDATE SET seats_taken = slot_seats.seats_taken + excluded.seats_taken WHERE slot_seats.seats_taken + excluded.seats_taken <= :cap::bigint RETURNING seats_taken) SELECT (SELECT yes FROM banned) AS banned, EXISTS (SELECT 1 FROM claim) AS booked;
COMMIT;
