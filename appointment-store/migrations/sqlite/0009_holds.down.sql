-- Back to counters of bookings only: the seats of held holds go back to their slots.
UPDATE slot_seats SET seats_taken = seats_taken - (
    SELECT COALESCE(SUM(h.seats), 0) FROM holds h WHERE h.status = 'held'
    AND h.appointment_id = slot_seats.appointment_id AND h.slot_start = slot_seats.slot_start);
DROP TABLE holds;
ALTER TABLE appointments DROP COLUMN hold_minutes;
