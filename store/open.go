package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is the server's database: SQLite or PostgreSQL. It is safe for
// concurrent use, and several Stores (in one process or many) may share one
// database: every write is one transaction and the job queue hands each job
// to one worker at a time.
type Store struct {
	// Now is the clock (default time.Now), injectable for tests. Every
	// timestamp and lease the store writes is read from it.
	Now func() time.Time
	// MaxAttempts is how many workers may take a job and let its lease
	// expire before ClaimJob fails it instead of handing it out again
	// (default DefaultMaxAttempts).
	MaxAttempts int

	// db takes the writes. On SQLite it is one connection whose
	// transactions begin IMMEDIATE, so writers queue in the pool instead of
	// failing with SQLITE_BUSY; on PostgreSQL it is the only pool.
	db *sql.DB
	// rdb serves plain reads: on SQLite a pool of read-only connections
	// that WAL lets run beside the writer; on PostgreSQL the same as db.
	rdb *sql.DB
	d   dialect
	dsn string
	// stmts holds the hot statements of CompleteJob, prepared once on the
	// SQLite writer when the Store opens and reused by every write
	// transaction; read-only after Open. PostgreSQL needs none: pgx caches
	// its prepared statements.
	stmts map[string]*sql.Stmt
}

// SQLite connection settings: WAL lets readers run beside the writer, the
// busy timeout makes a second process wait for the write lock instead of
// failing, and foreign keys are off by default in SQLite. synchronous=NORMAL
// is the standard setting for WAL mode: a commit is appended to the WAL
// without an fsync and the WAL is synced at checkpoints, so the database
// never corrupts and a power loss can only undo the last transactions
// before it (a crash of the process alone loses nothing). FULL would add
// an fsync to every commit, which the result ingest rate cannot afford.
const (
	sqliteCommon = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	sqliteWriter = sqliteCommon + "&_pragma=journal_mode(WAL)&_txlock=immediate"
	sqliteReader = sqliteCommon + "&_pragma=query_only(1)"
)

// Open opens (and migrates) the database named by dsn: a postgres:// or
// postgresql:// URL for PostgreSQL, else a SQLite file path (optionally
// prefixed sqlite:), created when missing. Migrations run before Open
// returns and are safe when several servers start at once.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{Now: time.Now, dsn: dsn}
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.d = pgDialect{}
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// JIT off unless the DSN sets it: the store's reads run in
		// milliseconds, but the planner cannot estimate joins over CTEs
		// (no statistics), and a cost estimate past jit_above_cost then
		// spends far longer compiling the plan than running it (the group
		// breakdown: ~480 ms of JIT for a ~140 ms execution at 10,000
		// assets).
		if _, ok := cfg.RuntimeParams["jit"]; !ok {
			cfg.RuntimeParams["jit"] = "off"
		}
		s.db = stdlib.OpenDB(*cfg)
		s.db.SetMaxIdleConns(8)
		s.db.SetConnMaxIdleTime(5 * time.Minute)
		s.rdb = s.db
	default:
		s.d = sqliteDialect{}
		if err := s.openSQLite(strings.TrimPrefix(dsn, "sqlite:")); err != nil {
			return nil, err
		}
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s database: %w", s.d.name(), err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.d.name() == "sqlite" {
		if err := s.prepare(ctx, hotStatements()); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) openSQLite(path string) error {
	if path == "" {
		return errors.New("open sqlite: empty database path")
	}
	if path == ":memory:" {
		// One private in-memory database lives on one connection, so
		// reads and writes share it.
		db, err := sql.Open("sqlite", "file::memory:?"+sqliteCommon+"&_txlock=immediate")
		if err != nil {
			return fmt.Errorf("open sqlite: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
		s.db, s.rdb = db, db
		return nil
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("open sqlite: %w", err)
		}
	}
	// The file holds sealed credentials and token hashes: create it
	// readable by its owner only.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	f.Close()
	w, err := sql.Open("sqlite", path+"?"+sqliteWriter)
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", path+"?"+sqliteReader)
	if err != nil {
		w.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.db, s.rdb = w, r
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// Driver is "sqlite" or "postgres", for logs and the health endpoint.
func (s *Store) Driver() string { return s.d.name() }

// now is the store's clock truncated to the microseconds it stores, in UTC,
// so a value returned by a write equals the one read back later.
func (s *Store) now() time.Time {
	f := s.Now
	if f == nil {
		f = time.Now
	}
	return time.UnixMicro(f().UnixMicro()).UTC()
}

// querier is what both *sql.DB and *sql.Tx offer; readers take one so they
// run inside a write transaction or on the read pool alike.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx is a write transaction with the dialect's placeholders applied. conn
// is the connection it runs on, for driver-level work inside it (COPY on
// PostgreSQL); s prepares the statements it reuses.
type tx struct {
	tx   *sql.Tx
	d    dialect
	conn *sql.Conn
	s    *Store
}

func (t tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// reader runs plain reads on the read pool with the dialect's placeholders.
type reader struct {
	db *sql.DB
	d  dialect
}

func (r reader) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.db.ExecContext(ctx, r.d.rebind(q), args...)
}

func (r reader) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, r.d.rebind(q), args...)
}

func (r reader) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, r.d.rebind(q), args...)
}

func (s *Store) read() querier { return reader{s.rdb, s.d} }

// prepare prepares qs (with ? placeholders) once on the write pool, for
// prepared. It runs in Open: later, a transaction holds SQLite's only
// writer connection and a prepare on the pool would wait for it forever.
func (s *Store) prepare(ctx context.Context, qs []string) error {
	s.stmts = make(map[string]*sql.Stmt, len(qs))
	for _, q := range qs {
		st, err := s.db.PrepareContext(ctx, s.d.rebind(q))
		if err != nil {
			return fmt.Errorf("prepare statements: %w", err)
		}
		s.stmts[q] = st
	}
	return nil
}

// execHot runs q (with ? placeholders) in t as the statement Open
// prepared for it on SQLite. PostgreSQL runs it as a plain Exec: pgx
// prepares each query once per connection and caches it, where a
// statement prepared for t alone would cost two more round trips (prepare
// and deallocate).
func (t tx) execHot(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := t.s.stmts[q]; ok {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, q, args...)
}

// write runs fn in one write transaction: everything fn does, including its
// audit entry, commits together or not at all. On PostgreSQL a
// serialization failure or deadlock is retried a few times.
func (s *Store) write(ctx context.Context, fn func(t tx) error) error {
	for try := 0; ; try++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || try >= 4 || !s.d.retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(try+1) * 5 * time.Millisecond)
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(t tx) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx{tx: sqlTx, d: s.d, conn: conn, s: s}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// audit appends one entry to the audit log inside t.
func (s *Store) audit(ctx context.Context, t tx, now time.Time, actor, action, object, detail string) error {
	_, err := t.ExecContext(ctx, `INSERT INTO audit (at, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)`,
		now.UnixMicro(), actor, action, object, detail)
	if err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// limit applies the Page defaults: 100 items, at most 1000.
func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return 100
	case p.Limit > 1000:
		return 1000
	}
	return p.Limit
}

// Time columns hold unix microseconds: one portable integer type, ordered
// and compared the same on both databases.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullID stores 0 as NULL, for optional foreign keys.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
