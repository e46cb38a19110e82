/**
 * MySQL/MariaDB server error numbers, by what they mean to a driver of the mysql dialect: the
 * server's own codes, the same whichever wire carries them (mysql2's protocol, PlanetScale's HTTP).
 * One table, so that every mysql-dialect transport classifies a server error the same way.
 */

/** The server refuses the data itself: the same rows would fail again (`InvalidArgumentError`). */
export const MYSQL_REFUSED_DATA: ReadonlySet<number> = new Set([
  1048, // ER_BAD_NULL_ERROR
  1062, // ER_DUP_ENTRY ("Duplicate entry …": the create-only insert tells "already exists" by it)
  1153, // ER_NET_PACKET_TOO_LARGE (over max_allowed_packet)
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1292, // ER_TRUNCATED_WRONG_VALUE
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (incorrect string value)
  1406, // ER_DATA_TOO_LONG
  3140, // ER_INVALID_JSON_TEXT (MySQL)
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB: a CHECK such as JSON_VALID)
])

/**
 * Refusals that retrying cannot fix: the credentials, the database or the privileges are wrong
 * (`BackendConfigError`). A start fails on them at once, where an unreachable server only
 * degrades the engine.
 */
export const MYSQL_REFUSED_CONFIG: ReadonlySet<number> = new Set([
  1044, // ER_DBACCESS_DENIED_ERROR (no access to that database)
  1045, // ER_ACCESS_DENIED_ERROR (wrong user or password)
  1049, // ER_BAD_DB_ERROR (unknown database)
  1129, // ER_HOST_IS_BLOCKED (too many connection errors; needs FLUSH HOSTS)
  1130, // ER_HOST_NOT_PRIVILEGED (this host may not connect)
  1142, // ER_TABLEACCESS_DENIED_ERROR (a missing privilege on the table)
  1251, // ER_NOT_SUPPORTED_AUTH_MODE (the server wants an auth plugin the client lacks)
])

/** InnoDB rolled the whole transaction back (deadlock, lock wait timeout): running it again may work. */
export const MYSQL_ROLLED_BACK: ReadonlySet<number> = new Set([1205, 1213])

/** The connection went away under the statement: a fresh one may work. */
export const MYSQL_CONNECTION_LOST: ReadonlySet<number> = new Set([1053, 1927, 2006, 2013])
