//! Reader throughput: `cargo bench --bench readers`.
//!
//! The SQL reader on generated plain DDL and on the handbook's `DO $$ … $$` template, the
//! model reader on a generated file of model classes, and model resolution over a generated
//! backend of 5,000 classes in 200 files (what every check of such a backend pays, since it
//! resolves the models of the whole project). Speed goals live here, not in tests.
//!
//! The `*_scaling` benches read the same kind of input at several sizes: the time per byte
//! must stay flat (linear growth). They guard against what issue 11 found — a column counted
//! from the start of its line made 100 MB of SQL on one line take a minute.
//! `benches/scaling.sh` does the same for whole runs of the binary.

use driftguard::migrations::sql;
use driftguard::source::SourceFile;

fn main() {
    divan::main();
}

const HANDBOOK_TEMPLATE: &str = "-- =====================================================
-- Migration: add new_column
-- =====================================================
BEGIN;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core'
        AND table_name = 'tablename'
        AND column_name = 'new_column'
    ) THEN
        ALTER TABLE core.tablename ADD COLUMN new_column VARCHAR(20);
        RAISE NOTICE 'Added new_column';
    END IF;
END $$;
COMMENT ON COLUMN core.tablename.new_column IS 'Description of the column';
CREATE INDEX IF NOT EXISTS idx_table_column ON core.tablename (new_column);
COMMIT;
-- ALTER TABLE core.tablename DROP COLUMN IF EXISTS new_column;
";

/// About 4 MiB of plain DDL.
fn plain_ddl() -> SourceFile {
    let mut ddl = String::new();
    let mut i = 0;
    while ddl.len() < 4 * 1024 * 1024 {
        ddl.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS core.table_{i} (\n    id bigserial PRIMARY KEY,\n    \
             customer_id integer NOT NULL REFERENCES core.customers (id) ON DELETE CASCADE,\n    \
             total numeric(10, 2) DEFAULT 0 NOT NULL,\n    note character varying(200),\n    \
             created_at timestamp(3) with time zone DEFAULT now() NOT NULL,\n    tags text[]\n);\n\
             ALTER TABLE core.table_{i} ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);\n\
             COMMENT ON COLUMN core.table_{i}.contact_preference IS 'How to reach them';\n"
        ));
        i += 1;
    }
    SourceFile::new("plain.sql", ddl)
}

fn handbook() -> SourceFile {
    SourceFile::new(
        "template.sql",
        HANDBOOK_TEMPLATE.repeat(4 * 1024 * 1024 / HANDBOOK_TEMPLATE.len()),
    )
}

fn models_file() -> SourceFile {
    let mut text = String::from(
        "from typing import Optional\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\nfrom .base import Base\n",
    );
    for i in 0..500 {
        text.push_str(&format!(
            "\n\nclass Model{i}(Base):\n    __tablename__ = \"table_{i}\"\n    __table_args__ = {{\"schema\": \"core\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str] = mapped_column(String(120))\n    note: Mapped[Optional[str]]\n"
        ));
    }
    SourceFile::new("models.py", text)
}

#[divan::bench]
fn sql_plain_ddl(bencher: divan::Bencher) {
    let file = plain_ddl();
    bencher
        .counter(divan::counter::BytesCount::new(file.text.len()))
        .bench(|| sql::read(divan::black_box(&file)));
}

#[divan::bench]
fn sql_handbook_do_blocks(bencher: divan::Bencher) {
    let file = handbook();
    bencher
        .counter(divan::counter::BytesCount::new(file.text.len()))
        .bench(|| sql::read(divan::black_box(&file)));
}

#[divan::bench]
fn models_extract(bencher: divan::Bencher) {
    let file = models_file();
    bencher
        .counter(divan::counter::BytesCount::new(file.text.len()))
        .bench(|| driftguard::models::extract_file(divan::black_box(&file)));
}

/// `mib` MiB of statements, all on one line.
/// 200 model files of 25 classes each on a shared declarative base, as `benches/generate.py`
/// writes them, already read.
fn backend_models() -> Vec<driftguard::models::FileModels> {
    let mut files = vec![SourceFile::new(
        "apps/backend/src/db/base_class.py",
        "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n",
    )];
    for f in 0..200 {
        let mut text = String::from(
            "from typing import Optional\nfrom sqlalchemy import Boolean, ForeignKey, Integer, String, Text\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n",
        );
        for c in 0..25 {
            let i = f * 25 + c;
            let schema = ["core", "identity", "ops"][i % 3];
            text.push_str(&format!(
                "\n\nclass Model{i}(Base):\n    __tablename__ = \"table_{i}\"\n    __table_args__ = {{\"schema\": \"{schema}\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str] = mapped_column(String(120))\n    active: Mapped[bool] = mapped_column(Boolean, default=True)\n    notes: Mapped[Optional[str]] = mapped_column(Text)\n    owner_id: Mapped[Optional[int]] = mapped_column(Integer, ForeignKey(\"core.table_0.id\"))\n"
            ));
            for e in 0..(i % 12) {
                text.push_str(&format!(
                    "    extra_{e}: Mapped[Optional[str]] = mapped_column(String(40))\n"
                ));
            }
        }
        files.push(SourceFile::new(
            format!("apps/backend/src/db/models/models_{f:04}.py"),
            text,
        ));
    }
    files.iter().map(driftguard::models::extract_file).collect()
}

#[divan::bench(sample_count = 20)]
fn models_resolve_5000_classes(bencher: divan::Bencher) {
    let models = backend_models();
    let options = driftguard::models::ResolveOptions::default();
    bencher.bench(|| {
        let (tables, _) = driftguard::models::resolve(divan::black_box(&models), &options);
        assert_eq!(tables.len(), 5_000);
        tables
    });
}

fn one_line_sql(mib: usize) -> SourceFile {
    let mut sql = String::from("CREATE SCHEMA core; ");
    let mut i = 0;
    while sql.len() < mib * 1024 * 1024 {
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS core.t{i} (id serial PRIMARY KEY, name varchar(120) NOT NULL, note text DEFAULT 'é'); ALTER TABLE core.t{i} ADD COLUMN extra integer; "
        ));
        i += 1;
    }
    SourceFile::new("one_line.sql", sql)
}

#[divan::bench(args = [1, 2, 4, 8])]
fn sql_one_line_scaling(bencher: divan::Bencher, mib: usize) {
    let file = one_line_sql(mib);
    bencher
        .counter(divan::counter::BytesCount::new(file.text.len()))
        .bench(|| sql::read(divan::black_box(&file)));
}

/// The same statements, one per line.
#[divan::bench(args = [1, 2, 4, 8])]
fn sql_lines_scaling(bencher: divan::Bencher, mib: usize) {
    let file = SourceFile::new("lines.sql", one_line_sql(mib).text.replace("; ", ";\n"));
    bencher
        .counter(divan::counter::BytesCount::new(file.text.len()))
        .bench(|| sql::read(divan::black_box(&file)));
}

/// Model classes whose columns sit on one long line each (`a = Column(…); b = Column(…)`).
#[divan::bench(args = [250, 500, 1000, 2000])]
fn models_long_lines_scaling(bencher: divan::Bencher, classes: usize) {
    let mut text =
        String::from("from sqlalchemy import Column, Integer, String\nfrom .base import Base\n");
    for i in 0..classes {
        text.push_str(&format!(
            "class M{i}(Base): __tablename__ = \"t{i}\"; id = Column(Integer, primary_key=True); name = Column(String(20)); note = Column(String(200), comment=\"é\")\n"
        ));
    }
    let file = SourceFile::new("models.py", text);
    bencher
        .counter(divan::counter::BytesCount::new(file.text.len()))
        .bench(|| driftguard::models::extract_file(divan::black_box(&file)));
}
