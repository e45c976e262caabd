-- Enum labels with quotes, spaces, escapes and non-ASCII; a quoted schema on the path.
CREATE TYPE ops.label_kind AS ENUM ('it''s', 'with space', 'UPPER', 'Ünïcode');
ALTER TYPE ops.label_kind ADD VALUE E'tab\there' BEFORE 'UPPER';
ALTER TYPE ops.label_kind ADD VALUE $$dollar$$;
ALTER TYPE ops.label_kind RENAME VALUE 'with space' TO 'with_underscore';
DO $$
BEGIN
    ALTER TYPE ops.label_kind ADD VALUE IF NOT EXISTS 'from_do' AFTER 'it''s';
END $$;

SET search_path TO "Reporting", public;
CREATE TABLE "MonthlyTotals" ("Month" DATE, total BIGINT);
CREATE TABLE weekly_totals (week DATE);
ALTER TABLE "DailyTotals" ADD COLUMN "Weekday" SMALLINT;
