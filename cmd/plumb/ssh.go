package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/inventory"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/sshtarget"
)

// sshOptions are the SSH flags of plumb scan: defaults for every SSH
// target, which an inventory host's own settings override.
type sshOptions struct {
	identity         string
	passphraseEnv    string
	passwordEnv      string
	agent            bool
	sudo             bool
	sudoPasswordEnv  string
	knownHosts       string
	acceptNewHostKey bool
	sshConfig        string
	connectTimeout   time.Duration
	commandTimeout   time.Duration
}

func (o *sshOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.identity, "identity", "i", "", "SSH private key `FILE` (default: the IdentityFile of ~/.ssh/config, then the agent)")
	f.StringVar(&o.passphraseEnv, "passphrase-env", "", "environment `VARIABLE` holding the private key's passphrase")
	f.StringVar(&o.passwordEnv, "password-env", "", "environment `VARIABLE` holding the SSH password (password and keyboard-interactive authentication)")
	f.BoolVar(&o.agent, "agent", os.Getenv("SSH_AUTH_SOCK") != "", "authenticate with the ssh-agent at SSH_AUTH_SOCK")
	f.BoolVar(&o.sudo, "sudo", false, "collect through sudo on the target (one elevation per scan; needed to read /etc/shadow and the like as a non-root user)")
	f.StringVar(&o.sudoPasswordEnv, "sudo-password-env", "", "environment `VARIABLE` holding the sudo password, when the sudo rule asks for one")
	f.StringVar(&o.knownHosts, "known-hosts", "", "known_hosts `FILE` host keys are checked against (default ~/.ssh/known_hosts)")
	f.BoolVar(&o.acceptNewHostKey, "accept-new-host-keys", false, "accept and record the key of a host not yet in known_hosts (a changed key is always refused)")
	f.StringVar(&o.sshConfig, "ssh-config", "", "OpenSSH client config `FILE` for HostName, Port, User, IdentityFile and ProxyJump (default ~/.ssh/config)")
	f.DurationVar(&o.connectTimeout, "connect-timeout", 15*time.Second, "give up connecting to a host after this long")
	f.DurationVar(&o.commandTimeout, "command-timeout", 2*time.Minute, "give up on one remote operation after this long")
}

// sshSpec is the target spec of one SSH host.
func sshSpec(h inventory.Host, o scanOptions) targetSpec {
	name := "ssh:" + h.Name
	return targetSpec{name: name, open: func(ctx context.Context) (target.Target, error) {
		cfg, err := sshConfig(h, o.ssh)
		if err != nil {
			return nil, err
		}
		t, err := sshtarget.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return t, nil
	}}
}

// sshConfig builds the connection settings of a host: ~/.ssh/config for
// the host alias first, then the command-line flags, then the inventory
// host's own settings. Secrets are read here, when the host is dialled,
// and go nowhere but the SSH client.
func sshConfig(h inventory.Host, o sshOptions) (sshtarget.Config, error) {
	// "" is ~/.ssh/config, which may be missing; a file named by
	// --ssh-config must exist.
	cfg, err := sshtarget.ConfigFromSSHConfig(h.Address, o.sshConfig)
	if err != nil {
		return cfg, err
	}
	if h.Port != 22 || cfg.Port == 0 {
		cfg.Port = h.Port
	}
	if h.User != "" {
		cfg.User = h.User
	}
	if cfg.User == "" {
		cfg.User = os.Getenv("USER")
	}
	env := func(name, what string) (string, error) {
		if name == "" {
			return "", nil
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("%s: environment variable %s is not set", what, name)
		}
		return v, nil
	}
	secret := func(s inventory.Secret, flagEnv, what string) (string, error) {
		if !s.IsZero() {
			v, err := s.Value()
			if err != nil {
				return "", fmt.Errorf("%s of %s (%s): %w", what, h.Name, s, err)
			}
			return v, nil
		}
		return env(flagEnv, what)
	}
	if o.identity != "" {
		cfg.PrivateKeyFile = o.identity
	}
	if h.KeyFile != "" {
		cfg.PrivateKeyFile = h.KeyFile
	}
	if cfg.Passphrase, err = secret(h.Passphrase, o.passphraseEnv, "key passphrase"); err != nil {
		return cfg, err
	}
	if cfg.Password, err = secret(h.Password, o.passwordEnv, "password"); err != nil {
		return cfg, err
	}
	cfg.UseAgent = o.agent || h.Agent
	if o.sudo || h.Sudo {
		cfg.Sudo = sshtarget.SudoSudo
		if cfg.SudoPassword, err = secret(h.SudoPassword, o.sudoPasswordEnv, "sudo password"); err != nil {
			return cfg, err
		}
	}
	if o.knownHosts != "" {
		cfg.KnownHostsFile = o.knownHosts
	}
	if h.KnownHosts != "" {
		cfg.KnownHostsFile = h.KnownHosts
	}
	if h.ProxyJump != "" {
		if cfg.Jump, err = sshtarget.ParseJump(h.ProxyJump); err != nil {
			return cfg, fmt.Errorf("%s: proxy_jump: %w", h.Name, err)
		}
	}
	cfg.AcceptNewHostKey = o.acceptNewHostKey
	cfg.ConnectTimeout = o.connectTimeout
	cfg.CommandTimeout = o.commandTimeout
	return cfg, nil
}

// addTransportStats records what an SSH scan cost on the wire.
func addTransportStats(t target.Target, st *result.Stats) {
	if s, ok := t.(*sshtarget.Target); ok {
		x := s.Stats()
		st.SSHSessions = int(x.Sessions)
		st.BytesIn = x.BytesIn
		st.BytesOut = x.BytesOut
	}
}
