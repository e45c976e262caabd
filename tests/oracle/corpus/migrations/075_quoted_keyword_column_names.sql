-- Quoted column names that spell constraint keywords are columns.
CREATE TABLE ops.keyword_columns (
    "like" TEXT,
    "primary" INT,
    "constraint" TEXT,
    "check" BOOLEAN,
    "unique" INT,
    "foreign" TEXT,
    "exclude" INT,
    "not" BOOLEAN NOT NULL DEFAULT false,
    "references" TEXT
);
ALTER TABLE ops.keyword_columns ADD COLUMN "constraint2" TEXT, ADD "primary_key" INT;
ALTER TABLE ops.keyword_columns ADD "unique_code" TEXT;
ALTER TABLE ops.keyword_columns RENAME "like" TO liked;
ALTER TABLE ops.keyword_columns DROP "exclude";
