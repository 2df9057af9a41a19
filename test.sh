#!/usr/bin/env bash
# Runs Plumb's whole test suite on a fresh Debian machine: installs what the
# tests need, builds the cached Debian root, then vet, staticcheck and every
# package's tests (fuzz seed corpora included). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")"

need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
# SSH scanning: private sshd instances on 127.0.0.1 (the system sshd is
# never touched), sftp-server, and sudo for the privilege tests.
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v sudo >/dev/null || need_pkgs+=(sudo)
# SCAP parity: oscap and oscap-chroot as the anchor, the SCAP Security
# Guide's Debian and Ubuntu data streams as the content.
command -v oscap >/dev/null || need_pkgs+=(openscap-scanner)
command -v oscap-chroot >/dev/null || need_pkgs+=(openscap-utils)
[ -f /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml ] || need_pkgs+=(ssg-base ssg-debian)
[ -f /usr/share/xml/scap/ssg/content/ssg-ubuntu2204-ds.xml ] || need_pkgs+=(ssg-debderived)
[ -f /usr/share/xml/scap/ssg/content/ssg-rhel9-ds.xml ] || need_pkgs+=(ssg-nondebian)
# Reports and the dashboard: poppler's pdfsig, pdftotext, pdftoppm and
# pdfinfo check the signed PDFs; headless Chromium drives the web UI.
command -v pdfsig >/dev/null || need_pkgs+=(poppler-utils)
command -v chromium >/dev/null || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${need_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "test.sh: missing ${need_pkgs[*]} and not root to install them" >&2
    [ "${CI:-}" = true ] && exit 1
  fi
fi

# PostgreSQL for the server store's tests: $PLUMB_TEST_POSTGRES, by default
# the local server on 127.0.0.1:5432 (user postgres, trust authentication).
# Installed and started here when it is the default and not running.
pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if [ -z "${PLUMB_TEST_POSTGRES:-}" ] && ! pg_up; then
  if [ "$(id -u)" = 0 ]; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      echo "test.sh: installing postgresql"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      v=$(ls /etc/postgresql | head -n 1)
      # Trust local TCP connections, as the tests' default DSN expects.
      sed -i 's/^\(host[[:space:]]\+all[[:space:]]\+all[[:space:]]\+127.0.0.1\/32[[:space:]]\+\).*/\1trust/' "/etc/postgresql/$v/main/pg_hba.conf"
    fi
    echo "test.sh: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 30); do pg_up && break; sleep 1; done
  fi
  if ! pg_up; then
    echo "test.sh: PostgreSQL is not running on 127.0.0.1:5432 (set PLUMB_TEST_POSTGRES)" >&2
    [ "${CI:-}" = true ] && exit 1
  fi
fi

# Real Debian roots for the --root tests, the SCAP parity test and the
# benchmarks (built once, cached): bookworm for the built-in policies,
# bullseye with the packages SSG's Debian 11 rules look at.
if root=$(scripts/debian-root.sh bookworm); then
  export PLUMB_TEST_DEBIAN_ROOT="$root"
elif [ "${CI:-}" = true ]; then
  echo "test.sh: could not build the Debian test root" >&2
  exit 1
fi
if root=$(scripts/debian-root.sh bullseye "$(cat scripts/bullseye-packages)"); then
  export PLUMB_TEST_BULLSEYE_ROOT="$root"
elif [ "${CI:-}" = true ]; then
  echo "test.sh: could not build the bullseye test root" >&2
  exit 1
fi

echo "test.sh: go vet"
go vet ./...

echo "test.sh: staticcheck"
if ! command -v staticcheck >/dev/null; then
  GOBIN="$(go env GOPATH)/bin" go install honnef.co/go/tools/cmd/staticcheck@latest
  PATH="$(go env GOPATH)/bin:$PATH"
fi
staticcheck ./...

echo "test.sh: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed: $unformatted" >&2
  exit 1
fi

echo "test.sh: go test"
go test -count=1 ./... "$@"
