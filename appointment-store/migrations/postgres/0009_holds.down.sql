-- Back to counters of bookings only: the seats of held holds go back to their slots.
UPDATE slot_seats s SET seats_taken = s.seats_taken - h.seats
FROM (SELECT appointment_id, slot_start, SUM(seats) AS seats FROM holds
      WHERE status = 'held' GROUP BY appointment_id, slot_start) h
WHERE s.appointment_id = h.appointment_id AND s.slot_start = h.slot_start;
DROP TABLE holds;
ALTER TABLE appointments DROP COLUMN hold_minutes;
