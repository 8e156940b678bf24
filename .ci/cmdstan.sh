#!/usr/bin/env bash
# A CmdStan for the cmdstanpy backend, built offline when none exists.
#
# CmdStan cannot be downloaded everywhere. ../shared/cmdstan/assemble.sh builds CmdStan 2.35.0 from an
# installed httpstan 4.13.x (which ships Stan, Stan Math, stanc and their libraries) plus a small
# tarball of CmdStan's own files. This script:
#   1. prints the install cmdstanpy will use and stops, when there is one: $CMDSTAN, the newest
#      ~/.cmdstan/cmdstan-* (cmdstanpy's default), or a finished build in the harness cache;
#   2. otherwise, holding a lock so that concurrent CI runs build once: makes a small venv with
#      httpstan==4.13.0 in $PPL_HARNESS_CACHE/cmdstan/httpstan-venv, runs assemble.sh into
#      $PPL_HARNESS_CACHE/cmdstan/cmdstan-2.35.0 and compiles CmdStan's main.o once by building
#      examples/bernoulli (3-4 minutes on 2 cores, 3.4 GB peak), then checks that the example samples.
# The harness finds that build without any variable (harness/backends/stan_cmdstanpy.py).
#
# stdout: exactly one line, the CmdStan directory (export CMDSTAN=$(.ci/cmdstan.sh)), or nothing when
# ../shared/cmdstan is absent (then it says on stderr how to install CmdStan with internet, and exits 0).
# Progress goes to stderr, the build's output to $PPL_HARNESS_CACHE/cmdstan/build.log.
# env: PPL_HARNESS_CACHE (default ~/.cache/ppl-harness), MAKE_JOBS (default: number of CPUs),
#      CMDSTAN_SHARED_DIR (default: ../shared/cmdstan from the project root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "cmdstan.sh: $*" >&2; }

version=2.35.0
cache="${PPL_HARNESS_CACHE:-$HOME/.cache/ppl-harness}"
base="$cache/cmdstan"
target="$base/cmdstan-$version"
venv="$base/httpstan-venv"
log="$base/build.log"
shared="${CMDSTAN_SHARED_DIR:-$PWD/../shared/cmdstan}"

is_cmdstan() { [ -f "$1/makefile" ] && [ -x "$1/bin/stanc" ]; }
is_built() { is_cmdstan "$1" && [ -f "$1/src/cmdstan/main.o" ]; }  # harness-cache builds: main.o done
newest() {  # newest usable cmdstan-* under $1 ($2: also require main.o)
  local dir best=""
  [ -d "$1" ] || return 0
  while IFS= read -r dir; do
    if [ "${2:-}" = main ]; then is_built "$dir" || continue; else is_cmdstan "$dir" || continue; fi
    best=$dir
  done < <(find "$1" -mindepth 1 -maxdepth 1 -type d -name 'cmdstan-*' | sort -V)
  [ -n "$best" ] && echo "$best"
  return 0
}
found() {  # the install cmdstanpy would be given, in the harness's order
  if [ -n "${CMDSTAN:-}" ] && is_cmdstan "$CMDSTAN"; then (cd "$CMDSTAN" && pwd -P); return; fi
  local dir
  dir=$(newest "$HOME/.cmdstan")
  [ -z "$dir" ] && dir=$(newest "$base" main)
  [ -n "$dir" ] && (cd "$dir" && pwd -P)
  return 0
}

existing=$(found)
if [ -n "$existing" ]; then
  echo "$existing"
  exit 0
fi
[ -n "${CMDSTAN:-}" ] && say "\$CMDSTAN=$CMDSTAN is not a CmdStan directory (no makefile or bin/stanc); ignoring it"

if [ ! -f "$shared/assemble.sh" ] || [ ! -f "$shared/cmdstan-src.tar.gz" ]; then
  say "no CmdStan install, and no offline build kit at $shared."
  say "With internet: pip install cmdstanpy && python -m cmdstanpy.install_cmdstan (installs to ~/.cmdstan),"
  say "or download a CmdStan release, build it (make build) and export CMDSTAN=<its directory>."
  say "Without CmdStan the cmdstanpy backend is unavailable and its tests skip."
  exit 0
fi

mkdir -p "$base"
exec 9>"$base/.build.lock"
if ! flock -n 9; then
  say "another process is building CmdStan in $base; waiting for it"
  flock 9
fi
if is_built "$target"; then  # built while we waited
  (cd "$target" && pwd -P)
  exit 0
fi

start=$SECONDS
# 1. httpstan 4.13 (Stan 2.35) in a venv of its own: CmdStan's models link its libtbb by rpath, so it stays
if ! "$venv/bin/python" -c 'import httpstan, sys; sys.exit(not httpstan.__version__.startswith("4.13."))' 2>/dev/null; then
  py=""
  for candidate in python3.11 python3.12; do
    if "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then py=$candidate; break; fi
  done
  [ -n "$py" ] || { say "needs python3.11 or python3.12 (httpstan 4.13 has wheels for them)"; exit 1; }
  say "creating $venv with $py and httpstan==4.13.0"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "httpstan==4.13.0" >>"$log" 2>&1 \
    || { say "pip install httpstan==4.13.0 failed (see $log)"; exit 1; }
fi

# 2. assemble CmdStan from httpstan's files and the kit's tarball (idempotent: re-unpacks over a partial one)
say "assembling CmdStan $version in $target (log: $log)"
PYTHON="$venv/bin/python" bash "$shared/assemble.sh" "$target" >>"$log" 2>&1 \
  || { say "assemble.sh failed (see $log)"; exit 1; }

# 3. CmdStan's main.o, once, by building the bernoulli example; then check that the example samples
jobs=${MAKE_JOBS:-$(nproc 2>/dev/null || echo 2)}
say "compiling CmdStan's main.o and examples/bernoulli (-j$jobs; about 3-4 minutes on 2 cores)"
make -C "$target" -j"$jobs" examples/bernoulli/bernoulli >>"$log" 2>&1 \
  || { say "make examples/bernoulli/bernoulli failed (see $log)"; exit 1; }
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
(cd "$target" && ./examples/bernoulli/bernoulli sample num_samples=100 num_warmup=100 \
  data file=examples/bernoulli/bernoulli.data.json output file="$check/out.csv" >>"$log" 2>&1) \
  || { say "the bernoulli example does not run (see $log)"; exit 1; }
grep -q "Elapsed Time" "$check/out.csv" || { say "the bernoulli example wrote no draws (see $log)"; exit 1; }
is_built "$target" || { say "no src/cmdstan/main.o after the build (see $log)"; exit 1; }
say "CmdStan $version ready in $((SECONDS - start)) s"
(cd "$target" && pwd -P)
