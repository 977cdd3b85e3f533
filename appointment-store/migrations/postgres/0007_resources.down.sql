-- Back to appointments without shared resources (the btree_gist extension stays: other
-- databases' objects may use it).
ALTER TABLE bookings DROP CONSTRAINT bookings_resource_excl;
ALTER TABLE bookings DROP CONSTRAINT bookings_resource_claim_check;
ALTER TABLE bookings DROP COLUMN claim_end;
ALTER TABLE bookings DROP COLUMN resource_key;
ALTER TABLE appointments DROP COLUMN resource;
