ALTER TABLE appointments DROP COLUMN revision;
