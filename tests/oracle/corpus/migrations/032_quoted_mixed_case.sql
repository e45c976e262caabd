-- Quoted identifiers keep their case; unquoted ones fold to lower case.
CREATE SCHEMA "Reporting";
CREATE TABLE "Reporting"."DailyTotals" (
    "Day" DATE NOT NULL,
    "TotalCents" BIGINT,
    notes TEXT,
    "Mixed Case Col" INT,
    "user" TEXT,
    "order" INTEGER
);
ALTER TABLE "Reporting"."DailyTotals" ADD COLUMN "ChefCount" INT;
ALTER TABLE "Reporting"."DailyTotals" ADD COLUMN UnquotedUpper INT;
ALTER TABLE "Reporting"."DailyTotals" RENAME COLUMN "Mixed Case Col" TO "Renamed Col";
CREATE TYPE "Reporting"."Grade" AS ENUM ('A', 'B', 'C');
CREATE TABLE "Reporting".scores ("Value" "Reporting"."Grade", "Label" TEXT);
CREATE TABLE Reporting_Lower (id INT);
