-- Runs once, as the postgres superuser, when the data volume is first
-- initialised (docker-entrypoint-initdb.d). It does NOT run again on an
-- existing volume: to re-run, `docker compose down -v` (destroys all data).
--
-- Passwords match docker-compose.yml; change both for anything non-local.

-- Application database (DATABASE_URL=postgres://vcn:vcn@postgres:5432/vcn).
-- On PostgreSQL 15+ the public schema belongs to the database owner, so vcn
-- can create its tables there.
CREATE ROLE vcn WITH LOGIN PASSWORD 'vcn';
CREATE DATABASE vcn OWNER vcn;

-- Temporal persistence. The temporal-schema job (temporal-sql-tool) creates
-- and migrates the `temporal` and `temporal_visibility` databases itself, so
-- this role only needs CREATEDB.
CREATE ROLE temporal WITH LOGIN CREATEDB PASSWORD 'temporal';
