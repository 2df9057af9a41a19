package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/store"
)

func newCredentialCommand() *cobra.Command {
	return nounCommand("credential", "Manage the SSH credentials the server's scanners log in with (secrets are never shown)",
		newCredentialListCommand(), newCredentialAddCommand(), newCredentialShowCommand(), removeCommand("credential", "Remove a credential (assets and scans that used it lose it)", "deploy", resolveCredential, (*client.Client).DeleteCredential))
}

func credentialTable(w io.Writer, cs []store.Credential) error {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tUSER\tSUDO\tCREATED")
	for _, c := range cs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\n", c.ID, c.Name, cell(c.Kind), c.User, c.Sudo, tcell(c.Created))
	}
	return tw.Flush()
}

func newCredentialListCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List credentials",
		Example: `  plumb credential list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				cs, err := fetch(ctx, lo, cmd.ErrOrStderr(), c.ListCredentials)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), cs, func(w io.Writer) error { return credentialTable(w, cs) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	return cmd
}

// credentialFlags are the flags of credential add. Secrets come from files
// and environment variables only: command lines are visible to every
// user of the machine and kept in shell histories.
type credentialFlags struct {
	user           string
	keyFile        string
	passphraseEnv  string
	passwordEnv    string
	sudo           bool
	sudoPasswordEv string
}

// maxKeyFile bounds a private key file: keys are a few KiB.
const maxKeyFile = 64 << 10

func (f *credentialFlags) input(name string) (api.CredentialInput, error) {
	in := api.CredentialInput{Name: name, Kind: "ssh", User: f.user, Sudo: f.sudo}
	if f.user == "" {
		return in, errors.New("--user: the login name is required")
	}
	switch {
	case f.keyFile != "" && f.passwordEnv != "":
		return in, errors.New("--key-file and --password-env: give one of them")
	case f.keyFile == "" && f.passwordEnv == "":
		return in, errors.New("give --key-file FILE (a private key) or --password-env VAR (the name of an environment variable holding the password)")
	case f.keyFile != "":
		key, err := readSecretFile(f.keyFile)
		if err != nil {
			return in, fmt.Errorf("--key-file: %w", err)
		}
		in.PrivateKey = key
		if f.passphraseEnv != "" {
			if in.Passphrase, err = secretEnv("--passphrase-env", f.passphraseEnv); err != nil {
				return in, err
			}
		}
	default:
		if f.passphraseEnv != "" {
			return in, errors.New("--passphrase-env unlocks a --key-file; with --password-env it has no use")
		}
		var err error
		if in.Password, err = secretEnv("--password-env", f.passwordEnv); err != nil {
			return in, err
		}
	}
	if f.sudoPasswordEv != "" {
		var err error
		if in.SudoPassword, err = secretEnv("--sudo-password-env", f.sudoPasswordEv); err != nil {
			return in, err
		}
		in.Sudo = true
	}
	return in, nil
}

func readSecretFile(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyFile+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxKeyFile {
		return "", fmt.Errorf("%s is larger than %d bytes, not a private key", name, maxKeyFile)
	}
	if len(data) == 0 {
		return "", fmt.Errorf("%s is empty", name)
	}
	return string(data), nil
}

// secretEnv reads the secret in the environment variable named by flag's
// value.
func secretEnv(flag, name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "", fmt.Errorf("%s %s: the environment variable is not set or empty (the flag takes the variable's name, not the secret)", flag, name)
	}
	return v, nil
}

func newCredentialAddCommand() *cobra.Command {
	var (
		o remoteOptions
		f credentialFlags
	)
	cmd := &cobra.Command{
		Use:   "add NAME --user USER (--key-file FILE | --password-env VAR)",
		Short: "Add an SSH credential; secrets are read from files and environment variables, never from the command line",
		Example: `  plumb credential add deploy --user scan --key-file ~/.ssh/plumb_ed25519 --sudo
  PLUMB_SSH_PASSWORD=... plumb credential add legacy --user scan --password-env PLUMB_SSH_PASSWORD`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := f.input(args[0])
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				cr, err := c.CreateCredential(ctx, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), cr, func(w io.Writer) error { return credentialDetails(w, cr) })
			})
		},
	}
	o.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.user, "user", "", "login `NAME` on the hosts")
	fl.StringVar(&f.keyFile, "key-file", "", "private key `FILE` (OpenSSH or PEM)")
	fl.StringVar(&f.passphraseEnv, "passphrase-env", "", "environment variable `VAR` holding the key's passphrase")
	fl.StringVar(&f.passwordEnv, "password-env", "", "environment variable `VAR` holding the login password")
	fl.BoolVar(&f.sudo, "sudo", false, "run privileged reads with sudo")
	fl.StringVar(&f.sudoPasswordEv, "sudo-password-env", "", "environment variable `VAR` holding the sudo password (implies --sudo)")
	return cmd
}

func credentialDetails(w io.Writer, c store.Credential) error {
	return details(w,
		"ID", strconv.FormatInt(c.ID, 10),
		"Name", c.Name,
		"Kind", c.Kind,
		"User", c.User,
		"Sudo", strconv.FormatBool(c.Sudo),
		"Created", tcell(c.Created),
	)
}

func newCredentialShowCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "show ID-or-NAME",
		Short:   "Show a credential (without its secrets)",
		Example: `  plumb credential show deploy`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolveCredential(ctx, c, args[0])
				if err != nil {
					return err
				}
				cr, err := c.GetCredential(ctx, id)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), cr, func(w io.Writer) error { return credentialDetails(w, cr) })
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}
