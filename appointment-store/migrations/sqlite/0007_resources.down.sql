-- Back to appointments without shared resources.
DROP TRIGGER bookings_resource_update;
DROP TRIGGER bookings_resource_insert;
DROP INDEX bookings_resource_idx;
ALTER TABLE bookings DROP COLUMN claim_end;
ALTER TABLE bookings DROP COLUMN resource_key;
ALTER TABLE appointments DROP COLUMN resource;
