-- Opening hours beyond the original model's one daily window, in the engine's own notation
-- (see appointment-store/src/hours_codec.rs). NULL: the row's hours are its window columns and
-- weekday mask, as before.
ALTER TABLE appointments ADD COLUMN weekly_hours TEXT;
ALTER TABLE appointments ADD COLUMN date_overrides TEXT;
ALTER TABLE appointments ADD COLUMN closures TEXT;
