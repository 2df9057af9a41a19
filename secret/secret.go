// Package secret encrypts credentials at rest with AES-256-GCM. The key
// never lives in the database: the server is given it by file or by
// environment, so a copy of the database alone reveals no secret.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the key length in bytes (AES-256).
const KeySize = 32

// version prefixes every sealed value so the format can change later.
const version = 1

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain; ad (associated data, e.g. the credential's name)
// binds the ciphertext to its row so a sealed value moved to another row
// does not open.
func (b *Box) Seal(plain, ad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	rand.Read(nonce)
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, plain, ad)
}

// ErrOpen: the sealed value is corrupt, was sealed with another key, or
// belongs to another row.
var ErrOpen = errors.New("cannot decrypt secret (wrong key or corrupt data)")

// Open decrypts a value made by Seal with the same ad.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NewKey returns a fresh random key, base64-encoded as key files hold it.
func NewKey() string {
	k := make([]byte, KeySize)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// ParseKey decodes a base64 key (standard or URL alphabet, surrounding
// white space ignored).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("secret key must decode to %d bytes, got %d", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("secret key is not base64")
}

// LoadKey reads the key from the environment variable env when set, else
// from file. When neither exists and create is true, a new key is written
// to file with mode 0600 (created reports that). A key file readable by
// group or others is refused.
func LoadKey(file, env string, create bool) (key []byte, created bool, err error) {
	if v := os.Getenv(env); env != "" && v != "" {
		k, err := ParseKey(v)
		if err != nil {
			return nil, false, fmt.Errorf("$%s: %w", env, err)
		}
		return k, false, nil
	}
	if file == "" {
		return nil, false, fmt.Errorf("no secret key: set $%s or give a key file", env)
	}
	st, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) && create {
		s := NewKey()
		if err := os.WriteFile(file, []byte(s+"\n"), 0o600); err != nil {
			return nil, false, fmt.Errorf("write secret key: %w", err)
		}
		k, err := ParseKey(s)
		return k, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("secret key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("secret key %s: readable by others (mode %v); chmod 600 it", file, st.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, false, fmt.Errorf("secret key: %w", err)
	}
	k, err := ParseKey(string(data))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", file, err)
	}
	return k, false, nil
}
