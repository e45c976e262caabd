-- Quoted identifiers with doubled quotes; only ASCII letters fold to lower case.
CREATE TABLE public."Weird ""Quoted"" Name" (
    "col""quote" INT,
    "lower" TEXT,
    Café TEXT,
    "ÜBER" INT
);
CREATE TABLE CRÈME (Naïve INT);
ALTER TABLE public."Weird ""Quoted"" Name" RENAME COLUMN "col""quote" TO "col ""still"" quoted";
