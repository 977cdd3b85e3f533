-- Back to the original model: the window columns keep each appointment's span of hours.
ALTER TABLE appointments DROP COLUMN closures;
ALTER TABLE appointments DROP COLUMN date_overrides;
ALTER TABLE appointments DROP COLUMN weekly_hours;
