package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/pdfsign"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/server"
	"github.com/plumbhq/plumb/store"
)

// secretKeyEnv holds the credential encryption key (base64, 32 bytes)
// when no key file is used.
const secretKeyEnv = "PLUMB_SECRET_KEY"

type serverOptions struct {
	listen    string
	dataDir   string
	database  string
	keyFile   string
	tlsCert   string
	tlsKey    string
	lease     time.Duration
	tokenFile string
	logLevel  string
	content   []string
	signCert  string
	signKey   string
}

func (o *serverOptions) addStoreFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "`DIR` for the embedded database and the generated secret key")
	f.StringVar(&o.database, "database", "", "database: a postgres://user@host/db URL, or a SQLite file (default DATA-DIR/plumb.db)")
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "plumb")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "plumb")
	}
	return "plumb-data"
}

func (o *serverOptions) dsn() (string, error) {
	if o.database != "" {
		return o.database, nil
	}
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return filepath.Join(o.dataDir, "plumb.db"), nil
}

func newServerCommand() *cobra.Command {
	var o serverOptions
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Plumb server: REST API, scan queue and scheduler",
		Long: `Run the Plumb server. With no flags it keeps an embedded SQLite database in the
data directory and listens on 127.0.0.1:8080. On the first start it creates an admin
API token and prints it once (only its hash is stored).

--database postgres://... uses PostgreSQL instead; several servers may share one
PostgreSQL database, and must then share one secret key (--secret-key-file or
$` + secretKeyEnv + `), which encrypts credentials at rest.

Scans are run by scanner workers: see 'plumb scanner'.

The dashboard is at /ui/ (log in with an API token). Reports are signed with
--signing-cert/--signing-key, else with a self-signed certificate made on first
use and kept in the database (its key sealed with the secret key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	o.addStoreFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`ADDRESS` to listen on (port 0 picks a free port; the address is printed)")
	f.StringVar(&o.keyFile, "secret-key-file", "", "`FILE` with the base64 AES-256 key that encrypts credentials (default: $"+secretKeyEnv+", else DATA-DIR/secret.key, created on first start)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	f.StringVar(&o.tlsKey, "tls-key", "", "the certificate's private key `FILE` (PEM)")
	f.DurationVar(&o.lease, "lease", 2*time.Minute, "how long a scanner holds a job without a heartbeat before another may take it")
	f.StringVar(&o.tokenFile, "admin-token-file", "", "on first start, also write the admin token to this `FILE` (mode 0600)")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.signCert, "signing-cert", "", "sign reports with this certificate `FILE` (PEM, the leaf first; default: a self-signed certificate the server creates once and keeps in the database)")
	f.StringVar(&o.signKey, "signing-key", "", "the signing certificate's private key `FILE` (PEM, PKCS #8, EC or RSA)")
	f.StringSliceVar(&o.content, "content-dir", nil, "`DIR` SCAP data streams may be imported from (repeatable; default the SCAP Security Guide's install directories)")
	cmd.AddCommand(newServerTokenCommand())
	return cmd
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// openServer opens the store and the secret key and builds the server.
func openServer(ctx context.Context, o serverOptions, log *slog.Logger) (*server.Server, *store.Store, error) {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, nil, errors.New("--tls-cert and --tls-key go together")
	}
	if (o.signCert == "") != (o.signKey == "") {
		return nil, nil, errors.New("--signing-cert and --signing-key go together")
	}
	var signer *pdfsign.Signer
	if o.signCert != "" {
		certPEM, err := readBounded(o.signCert, 1<<20)
		if err != nil {
			return nil, nil, fmt.Errorf("--signing-cert: %w", err)
		}
		keyPEM, err := readBounded(o.signKey, 1<<20)
		if err != nil {
			return nil, nil, fmt.Errorf("--signing-key: %w", err)
		}
		if signer, err = pdfsign.Load(certPEM, keyPEM); err != nil {
			return nil, nil, fmt.Errorf("--signing-cert/--signing-key: %w", err)
		}
	}
	dsn, err := o.dsn()
	if err != nil {
		return nil, nil, err
	}
	keyFile, create := o.keyFile, false
	if keyFile == "" {
		if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data directory: %w", err)
		}
		keyFile, create = filepath.Join(o.dataDir, "secret.key"), true
	}
	key, created, err := secret.LoadKey(keyFile, secretKeyEnv, create)
	if err != nil {
		return nil, nil, err
	}
	if created {
		log.Warn("created a new secret key for credentials; back it up, and give the same key to every server replica", "file", keyFile)
	}
	box, err := secret.New(key)
	if err != nil {
		return nil, nil, err
	}
	lib, err := library.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("built-in library: %w", err)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	srv, err := server.New(server.Config{Store: st, Library: lib, Box: box, Logger: log, Lease: o.lease, ContentDirs: o.content,
		SecureCookies: o.tlsCert != "", Signer: signer})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return srv, st, nil
}

func runServer(ctx context.Context, o serverOptions, stderr io.Writer) error {
	log, err := newLogger(stderr, o.logLevel)
	if err != nil {
		return err
	}
	srv, st, err := openServer(ctx, o, log)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, err := srv.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if tok != "" {
		fmt.Fprintf(stderr, "\nCreated the first admin API token. It is shown this once; store it safely:\n\n    %s\n\n", tok)
		if o.tokenFile != "" {
			if err := os.WriteFile(o.tokenFile, []byte(tok+"\n"), 0o600); err != nil {
				return fmt.Errorf("--admin-token-file: %w", err)
			}
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go srv.RunScheduler(ctx)
	errc := make(chan error, 1)
	go func() {
		if o.tlsCert != "" {
			errc <- hs.ServeTLS(ln, o.tlsCert, o.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	log.Info("plumb server listening", "url", scheme+"://"+ln.Addr().String(), "database", st.Driver())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// newServerTokenCommand makes a token straight in the database: the way
// back in when the admin token is lost.
func newServerTokenCommand() *cobra.Command {
	var o serverOptions
	var role string
	cmd := &cobra.Command{
		Use:   "token NAME",
		Short: "Create an API token directly in the server's database (e.g. a lost admin token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			srv, st, err := openServer(cmd.Context(), o, log)
			if err != nil {
				return err
			}
			defer st.Close()
			user := os.Getenv("USER")
			if user == "" {
				user = "local"
			}
			tok, err := srv.CreateToken(cmd.Context(), args[0], strings.ToLower(role), "cli:"+user)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	o.addStoreFlags(cmd)
	cmd.Flags().StringVar(&o.keyFile, "secret-key-file", "", "the server's secret key `FILE` (default as for plumb server)")
	cmd.Flags().StringVar(&role, "role", "admin", "admin, operator, approver, auditor or scanner")
	return cmd
}
