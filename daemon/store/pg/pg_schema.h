#pragma once

// The team store's schema on PostgreSQL (issue 27): SQLite's schema (daemon/store/database.cpp,
// version 2) translated, plus the team's tables (daemons, team) and schema_version.
namespace cb::store::pg::schema {

// The newest schema version this daemon knows.
int latest();

// The statements (several, separated by ';', no parameters) that move the schema from
// `from_version` to from_version + 1; 0 is an empty schema. Never edit a released entry;
// append. They do not write schema_version: the migration runner (PgDatabase::open, under
// pg_advisory_lock(7270270)) records the version it reached in the same transaction. Version 1
// creates schema_version itself, so a schema without that table is at version 0.
// Throws std::out_of_range for a version outside [0, latest()).
const char* migration(int from_version);

}  // namespace cb::store::pg::schema
