// Package pgtest gives tests a fresh PostgreSQL database of their own on
// the server named by $PLUMB_TEST_POSTGRES (default: the local server on
// 127.0.0.1:5432, user postgres, trust authentication), dropped when the
// test ends. When PostgreSQL cannot be reached the test fails under
// CI=true and is skipped, with the reason, elsewhere.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
)

// DefaultDSN is the server the tests use when $PLUMB_TEST_POSTGRES is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerDSN is the DSN of the server the tests use.
func ServerDSN() string {
	if d := os.Getenv("PLUMB_TEST_POSTGRES"); d != "" {
		return d
	}
	return DefaultDSN
}

// Require skips the test (fails it under CI=true) unless the server is
// reachable: a suite calls it once rather than skipping every subtest.
func Require(t testing.TB) {
	t.Helper()
	db := connect(t)
	db.Close()
}

// connect opens the server, skipping or failing the test when it cannot.
func connect(t testing.TB) *sql.DB {
	t.Helper()
	admin := ServerDSN()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		shown := admin
		if u, perr := url.Parse(admin); perr == nil {
			shown = u.Redacted()
		}
		msg := "pgtest: PostgreSQL at " + shown + " is not reachable (set PLUMB_TEST_POSTGRES): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return db
}

// NewDatabase creates an empty database and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := ServerDSN()
	db := connect(t)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := make([]byte, 6)
	rand.Read(b)
	name := "plumb_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: PLUMB_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
