DROP TABLE bookings;
DROP TABLE slot_seats;
