# tools/setup.sh: shared by tools/run.sh, tools/test.sh and .ci/run (source it,
# do not run it).
#
# Makes sure the Debian packages a task needs are installed (apt-get, as root or
# through sudo), configures a release build in build/ if there is none, and
# compiles what the task needs. Every step is a no-op when there is nothing to do.

# Debian 12 names, one list per task; each task installs its own list and those
# above it (gradlens_packages).
#   run:  build the two programs and start the window (dbus: a private session bus
#         when there is none; libxtst-dev: meson's configure step asks for it, for
#         test-student).
GRADLENS_RUN_PACKAGES="
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgtk-4-dev libgtksourceview-5-dev libgdk-pixbuf-2.0-dev libcairo2-dev libgraphviz-dev libopenblas-dev
  libpython3.11-dev
  adwaita-icon-theme librsvg2-common fonts-dejavu-core
  dbus libxtst-dev
  gettext
"
#   test: the test suites on a private X server, and the data-file validators.
GRADLENS_TEST_PACKAGES="
  xvfb xauth
  desktop-file-utils appstream
  locales
"
#   ci:   .ci/run's fuzzers (libFuzzer is clang's) and its sanitizer builds.
GRADLENS_CI_PACKAGES="
  clang libclang-rt-14-dev
"

# How long apt-get waits for another apt-get or dpkg to release its lock.
GRADLENS_APT_LOCK_TIMEOUT=600

# The packages of a task: run, test or ci.
gradlens_packages () {
  case "$1" in
    run)  echo $GRADLENS_RUN_PACKAGES ;;
    test) echo $GRADLENS_RUN_PACKAGES $GRADLENS_TEST_PACKAGES ;;
    ci)   echo $GRADLENS_RUN_PACKAGES $GRADLENS_TEST_PACKAGES $GRADLENS_CI_PACKAGES ;;
    *)    echo "setup: unknown task “$1” (run, test or ci)" >&2; return 1 ;;
  esac
}

# The packages among "$@" that are not installed.
gradlens_missing_packages () {
  # dpkg-query prints the packages it knows; unknown ones go to stderr.
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null \
                | awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }')
  for pkg in "$@"; do
    case " $(echo $installed) " in
      *" $pkg "*) ;;
      *) printf '%s ' "$pkg" ;;
    esac
  done
}

# Another apt-get, apt, dpkg or unattended-upgrade holds the package lock: say so,
# and wait (at most GRADLENS_APT_LOCK_TIMEOUT seconds; apt-get's own
# DPkg::Lock::Timeout then covers the lock taken between two checks).
gradlens_wait_for_apt () {
  command -v pgrep >/dev/null 2>&1 || return 0
  waited=0
  while holder=$(for name in apt apt-get aptitude dpkg unattended-upgr; do
                   pgrep -x "$name" || true
                 done | head -n 1) && [ -n "$holder" ]; do
    if [ "$waited" -eq 0 ]; then
      echo "setup: waiting for another package manager to finish (process $holder:" \
           "$(ps -o args= -p "$holder" 2>/dev/null | cut -c1-60)), at most" \
           "$GRADLENS_APT_LOCK_TIMEOUT s …"
    fi
    if [ "$waited" -ge "$GRADLENS_APT_LOCK_TIMEOUT" ]; then
      echo "setup: still locked after $waited s; trying anyway" >&2
      return 0
    fi
    sleep 2
    waited=$((waited + 2))
  done
  [ "$waited" -gt 0 ] && echo "setup: the package manager is free (waited $waited s)"
  return 0
}

# Install the packages of task $1 that are missing.
gradlens_install_packages () {
  packages=$(gradlens_packages "$1") || return 1
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup: not a Debian system (no dpkg-query): install the equivalents of" >&2
    echo "setup:   $packages" >&2
    echo "setup: then run this again." >&2
    return 1
  fi

  missing=$(echo $(gradlens_missing_packages $packages))
  [ -z "$missing" ] && return 0

  echo "setup: installing missing Debian packages: $missing"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    as_root="sudo"
  else
    echo "setup: these Debian packages are missing and I cannot install them" >&2
    echo "setup: (not root, and sudo is unavailable):" >&2
    echo "setup:   $missing" >&2
    echo "setup: install them with:  apt-get install $missing  (as root), then run this again." >&2
    return 1
  fi

  lock="-o DPkg::Lock::Timeout=$GRADLENS_APT_LOCK_TIMEOUT"
  gradlens_wait_for_apt
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get $lock update -q &&
  gradlens_wait_for_apt &&
  $as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get $lock install -y -q --no-install-recommends $missing || {
      echo "setup: apt-get failed; the missing packages are: $missing" >&2
      return 1
    }
}

# The Persian locale the translation tests run under (Debian generates only the
# locales named in /etc/locale.gen). Without root they skip, saying so.
GRADLENS_TEST_LOCALES="fa_IR.UTF-8"

gradlens_generate_locales () {
  for loc in $GRADLENS_TEST_LOCALES; do
    # locale -a spells it fa_IR.utf8.
    name=$(echo "$loc" | sed 's/\.UTF-8$/.utf8/')
    locale -a 2>/dev/null | grep -qx "$name" && continue
    if [ "$(id -u)" -eq 0 ]; then
      as_root=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root="sudo"
    else
      echo "setup: locale $loc is missing and I cannot generate it (not root);" >&2
      echo "setup: the Persian tests will skip. As root: localedef -i ${loc%%.*} -f UTF-8 $loc" >&2
      continue
    fi
    echo "setup: generating the locale $loc for the translation tests"
    $as_root localedef -i "${loc%%.*}" -f UTF-8 "$loc" ||
      echo "setup: localedef $loc failed; the Persian tests will skip" >&2
  done
  return 0
}

# Configure build/ once, then compile the targets given (all without any).
gradlens_build () {
  if [ ! -f build/meson-private/coredata.dat ]; then
    echo "setup: configuring build/ (release); the first build takes a few minutes," \
         "with pauses of up to a minute without output (engine/gemm.c)"
    meson setup build --buildtype=release || return 1
  fi
  # ninja re-runs meson by itself when a meson.build changed.
  meson compile -C build "$@"
}

# gradlens_setup TASK [TARGET...]: from the top of the tree, install what TASK
# (run, test, ci) needs and build TARGETs (everything without any).
gradlens_setup () {
  task=$1
  shift
  cd "$(dirname "$0")/.." || return 1
  gradlens_install_packages "$task" || return 1
  if [ "$task" != run ]; then
    gradlens_generate_locales
  fi
  gradlens_build "$@"
}
