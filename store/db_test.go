package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The contract suite runs on both databases: a temp SQLite file and a
// fresh PostgreSQL database per test.

func TestSQLite(t *testing.T) { testStore(t, openSQLite) }

func TestPostgres(t *testing.T) {
	postgresAdmin(t) // skip (or fail in CI) once, not per subtest
	testStore(t, openPostgres)
}

func openSQLite(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "plumb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresAdmin connects to the server named by PLUMB_TEST_POSTGRES. An
// unreachable server fails the test in CI and skips it elsewhere.
func postgresAdmin(t testing.TB) (*sql.DB, string) {
	t.Helper()
	dsn := os.Getenv("PLUMB_TEST_POSTGRES")
	if dsn == "" {
		dsn = defaultPostgres
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		shown := dsn
		if u, perr := url.Parse(dsn); perr == nil {
			shown = u.Redacted()
		}
		msg := "PostgreSQL at " + shown + " (set PLUMB_TEST_POSTGRES) is unreachable: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// openPostgres creates a database of its own for the test and drops it
// afterwards.
func openPostgres(t testing.TB) *Store {
	t.Helper()
	admin, dsn := postgresAdmin(t)
	var b [6]byte
	rand.Read(b[:])
	name := "plumb_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reopen opens a second Store on the same database, as a second server
// process or replica would.
func reopen(t testing.TB, s *Store) *Store {
	t.Helper()
	s2, err := Open(context.Background(), s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// clock is a settable Store.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOpenSQLiteForms(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, dsn string
		wal       bool
	}{
		{"bare path", filepath.Join(dir, "a.db"), true},
		{"sqlite: prefix", "sqlite:" + filepath.Join(dir, "b.db"), true},
		{"missing directories", filepath.Join(dir, "x", "y", "c.db"), true},
		{"in memory", ":memory:", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Driver() != "sqlite" {
				t.Fatalf("Driver() = %q", s.Driver())
			}
			if _, err := s.CreateAsset(context.Background(), Asset{Name: "a"}, "x"); err != nil {
				t.Fatal(err)
			}
			if as, err := s.ListAssets(context.Background(), AssetFilter{}); err != nil || len(as) != 1 {
				t.Fatalf("ListAssets = %v, %v", as, err)
			}
			if !tt.wal {
				return
			}
			var mode string
			var fk, busy int
			if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
			}
			if err := s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
				t.Fatalf("foreign_keys = %d, %v", fk, err)
			}
			if err := s.rdb.QueryRow(`PRAGMA busy_timeout`).Scan(&busy); err != nil || busy < 5000 {
				t.Fatalf("busy_timeout = %d, %v", busy, err)
			}
			fi, err := os.Stat(strings.TrimPrefix(tt.dsn, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("database file mode %v, want 0600: it holds sealed credentials", fi.Mode().Perm())
			}
		})
	}
	if _, err := Open(context.Background(), "sqlite:"); err == nil {
		t.Fatal("an empty path opened")
	}
}
