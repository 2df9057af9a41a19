package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the SQL that differs between SQLite and PostgreSQL. Queries
// are written once with ? placeholders; everything else is here.
type dialect interface {
	name() string
	// rebind turns ? placeholders into the driver's own.
	rebind(q string) string
	// ddl fills the dialect's types into a migration.
	ddl(q string) string
	// forUpdate is appended to a SELECT that locks the rows it reads for
	// the rest of the transaction; skipLocked also skips rows another
	// transaction holds (the job queue). SQLite needs neither: its write
	// transactions are serialised by BEGIN IMMEDIATE.
	forUpdate() string
	skipLocked(table string) string
	// lock takes a transaction-scoped lock on key (PostgreSQL advisory
	// lock; a no-op on SQLite, where the write transaction is exclusive).
	lock(ctx context.Context, t tx, key string) error
	// serialWrites reports that write transactions run one at a time
	// (SQLite), so a transaction sees every write committed before it and
	// none can commit beside it.
	serialWrites() bool
	// writableCTE reports that an INSERT, UPDATE or DELETE may sit in a
	// WITH clause (PostgreSQL; SQLite's WITH takes SELECTs only).
	writableCTE() bool
	// jsonKeys is a join that adds, for every key of the JSON object in
	// the text column col, one row with the key as mk.key; a value that
	// is not an object (text not starting with "{") adds none.
	jsonKeys(col string) string
	// unique reports the constraint a uniqueness violation names.
	unique(err error) (constraint string, ok bool)
	// retryable reports an error worth running the transaction again for.
	retryable(err error) bool
	// insertRows inserts rows (values in the order of cols) into table in
	// bulk, inside t. A constraint violation is returned as an error and
	// the caller's transaction rolls back, so nothing is half written.
	insertRows(ctx context.Context, t tx, table string, cols []string, rows [][]any) error
}

type sqliteDialect struct{}

func (sqliteDialect) name() string           { return "sqlite" }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) ddl(q string) string {
	return strings.NewReplacer("@ID@", "INTEGER PRIMARY KEY AUTOINCREMENT", "@BLOB@", "BLOB").Replace(q)
}
func (sqliteDialect) forUpdate() string                      { return "" }
func (sqliteDialect) skipLocked(string) string               { return "" }
func (sqliteDialect) lock(context.Context, tx, string) error { return nil }
func (sqliteDialect) retryable(error) bool                   { return false }
func (sqliteDialect) serialWrites() bool                     { return true }
func (sqliteDialect) writableCTE() bool                      { return false }
func (sqliteDialect) jsonKeys(col string) string {
	return " JOIN json_each(CASE WHEN " + col + " LIKE '{%' THEN " + col + " END) mk"
}

func (sqliteDialect) unique(err error) (string, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return "", false
	}
	if e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && e.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", false
	}
	// "UNIQUE constraint failed: assets.name (2067)"
	msg := e.Error()
	if i := strings.Index(msg, "failed: "); i >= 0 {
		msg = msg[i+len("failed: "):]
	}
	if i := strings.Index(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg, true
}

// sqliteBatch is the most rows one SQLite INSERT takes: with 20 columns,
// 10,240 variables, well under modernc's limit of 32,766. Inserts run in
// batches of powers of two (300 rows: 256 + 32 + 8 + 4), so a handful
// of statements, each prepared once per Store, cover any count.
const sqliteBatch = 512

// sqliteInsert is the INSERT of n rows into table.
func sqliteInsert(table string, cols []string, n int) string {
	one := "(" + placeholders(len(cols)) + ")"
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Repeat(one+", ", n-1) + one
}

func (sqliteDialect) insertRows(ctx context.Context, t tx, table string, cols []string, rows [][]any) error {
	for len(rows) > 0 {
		n := sqliteBatch
		for n > len(rows) {
			n /= 2
		}
		args := make([]any, 0, n*len(cols))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := t.execHot(ctx, sqliteInsert(table, cols, n), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

type pgDialect struct{}

// insertRows runs COPY on the transaction's own connection: the pgx
// connection under database/sql is already inside t's transaction, so the
// rows commit or roll back with everything else t does.
func (pgDialect) insertRows(ctx context.Context, t tx, table string, cols []string, rows [][]any) error {
	return t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres connection is a %T, not pgx", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}

func (pgDialect) name() string { return "postgres" }

func (pgDialect) rebind(q string) string {
	n := strings.Count(q, "?")
	if n == 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 3*n)
	i := 0
	for _, r := range q {
		if r == '?' {
			i++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (pgDialect) ddl(q string) string {
	return strings.NewReplacer("@ID@", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "@BLOB@", "BYTEA").Replace(q)
}

func (pgDialect) forUpdate() string { return " FOR UPDATE" }

func (pgDialect) serialWrites() bool { return false }
func (pgDialect) writableCTE() bool  { return true }
func (pgDialect) jsonKeys(col string) string {
	return " CROSS JOIN LATERAL jsonb_object_keys(CASE WHEN " + col + " LIKE '{%' THEN CAST(" + col + " AS jsonb) END) AS mk(key)"
}

func (pgDialect) skipLocked(table string) string { return " FOR UPDATE OF " + table + " SKIP LOCKED" }

func (pgDialect) lock(ctx context.Context, t tx, key string) error {
	h := fnv.New64a()
	h.Write([]byte(key))
	_, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(h.Sum64()))
	return err
}

func (pgDialect) unique(err error) (string, bool) {
	var e *pgconn.PgError
	if errors.As(err, &e) && e.Code == "23505" {
		return e.ConstraintName, true
	}
	return "", false
}

func (pgDialect) retryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40001" || e.Code == "40P01")
}

// uniqueField maps a uniqueness constraint, as either database names it,
// to the API field a ConflictError reports.
func uniqueField(constraint string) string {
	switch constraint {
	case "assets_name_key", "assets.name",
		"asset_groups_name_key", "asset_groups.name",
		"credentials_name_key", "credentials.name",
		"tokens_name_key", "tokens.name":
		return "name"
	case "asset_addresses_key", "asset_addresses.net_partition, asset_addresses.address":
		return "addresses"
	case "tokens_hash_key", "tokens.hash":
		return "hash"
	case "policies_pkey", "policies.id, policies.version":
		return "version"
	}
	return ""
}

// conflict turns a uniqueness violation into a *ConflictError naming the
// field (values gives the offending value per field); other errors are
// wrapped with what.
func (s *Store) conflict(err error, what string, values map[string]string) error {
	if c, ok := s.d.unique(err); ok {
		if f := uniqueField(c); f != "" {
			return &ConflictError{Field: f, Value: values[f]}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}
