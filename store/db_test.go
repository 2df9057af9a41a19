package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/pgtest"
)

// The contract suite runs on both databases: a temp SQLite file and a
// fresh PostgreSQL database per test.

func TestSQLite(t *testing.T) { testStore(t, openSQLite) }

func TestPostgres(t *testing.T) {
	pgtest.Require(t) // skip (or fail in CI) once, not per subtest
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

// openPostgres opens a database of its own for the test, dropped
// afterwards.
func openPostgres(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.NewDatabase(t))
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
