-- Appointment revisions: every edit, close or reopen moves an appointment's revision on, and
-- applies only to the revision it was made from; every claim of seats names the revision its
-- rules were checked against and is refused if the appointment changed since.
ALTER TABLE appointments ADD COLUMN revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0);
