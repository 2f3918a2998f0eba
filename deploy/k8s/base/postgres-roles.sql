-- Run once by CloudNativePG when it creates the database (bootstrap.initdb,
-- postInitApplicationSQLRefs), connected to the database `gridsvc` as the superuser.
-- Least privilege: each service logs in as its own role, which owns its own schema and
-- nothing else; it has no right on another service's schema. Passwords (and the LOGIN
-- attribute) come from the Cluster's managed roles (secrets gridsvc-db-<service>).
-- tests/api/test_least_privilege.py runs this file against a real PostgreSQL.
CREATE ROLE enterprise LOGIN;
CREATE ROLE ticketing LOGIN;
CREATE ROLE notification LOGIN;
CREATE ROLE supplydemand LOGIN;
CREATE SCHEMA IF NOT EXISTS enterprise AUTHORIZATION enterprise;
CREATE SCHEMA IF NOT EXISTS ticketing AUTHORIZATION ticketing;
CREATE SCHEMA IF NOT EXISTS notification AUTHORIZATION notification;
CREATE SCHEMA IF NOT EXISTS supplydemand AUTHORIZATION supplydemand;
-- PgBouncer (the Pooler, transaction mode) does not pass the `options` startup parameter
-- the services set their search_path with: each role carries it instead.
ALTER ROLE enterprise SET search_path = enterprise, public;
ALTER ROLE ticketing SET search_path = ticketing, public;
ALTER ROLE notification SET search_path = notification, public;
ALTER ROLE supplydemand SET search_path = supplydemand, public;
-- nobody creates objects in public; the database itself is the owner's (gridsvc)
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE gridsvc FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE gridsvc TO enterprise, ticketing, notification, supplydemand;
