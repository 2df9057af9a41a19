package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, _ := ParseKey(NewKey())
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"password":"hunter2"}`)
	sealed := b.Seal(plain, []byte("cred/1"))
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value holds the plain text")
	}
	got, err := b.Open(sealed, []byte("cred/1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := ParseKey(NewKey())
	ob, _ := New(other)
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"other row": func() ([]byte, error) { return b.Open(sealed, []byte("cred/2")) },
		"other key": func() ([]byte, error) { return ob.Open(sealed, []byte("cred/1")) },
		"flipped":   func() ([]byte, error) { return b.Open(flipped, []byte("cred/1")) },
		"truncated": func() ([]byte, error) { return b.Open(sealed[:5], []byte("cred/1")) },
		"empty":     func() ([]byte, error) { return b.Open(nil, nil) },
	} {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	k1, created, err := LoadKey(file, "PLUMB_TEST_NO_SUCH_ENV", true)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %v %v %d", err, created, len(k1))
	}
	k2, created, err := LoadKey(file, "PLUMB_TEST_NO_SUCH_ENV", false)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", err, created)
	}
	t.Setenv("PLUMB_TEST_KEY", NewKey())
	k3, _, err := LoadKey(file, "PLUMB_TEST_KEY", false)
	if err != nil || bytes.Equal(k3, k1) {
		t.Fatalf("env key not preferred: %v", err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey(file, "", false); err == nil {
		t.Error("world-readable key file accepted")
	}
	t.Setenv("PLUMB_TEST_KEY", "not base64!")
	if _, _, err := LoadKey(file, "PLUMB_TEST_KEY", false); err == nil {
		t.Error("bad env key accepted")
	}
	if _, _, err := LoadKey(filepath.Join(dir, "missing"), "", false); err == nil {
		t.Error("missing key file accepted")
	}
}
