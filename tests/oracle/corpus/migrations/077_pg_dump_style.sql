--
-- PostgreSQL database dump (the shape pg_dump writes)
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET default_tablespace = '';
SET default_table_access_method = heap;

CREATE TABLE public.staff_notes (
    id integer NOT NULL,
    author character varying(80) COLLATE pg_catalog."default",
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.staff_notes OWNER TO postgres;

CREATE SEQUENCE public.staff_notes_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.staff_notes_id_seq OWNED BY public.staff_notes.id;

ALTER TABLE ONLY public.staff_notes ALTER COLUMN id SET DEFAULT nextval('public.staff_notes_id_seq'::regclass);

ALTER TABLE ONLY public.staff_notes
    ADD CONSTRAINT staff_notes_pkey PRIMARY KEY (id);

CREATE INDEX staff_notes_created_at_idx ON public.staff_notes USING btree (created_at);
