# tools/setup.sh: shared by tools/run.sh and tools/test.sh (source it, do not run it).
#
# Makes sure the Debian packages GradLens needs are installed (apt-get, as root
# or through sudo), configures a release build in build/ if there is none, and
# compiles it. Every step is a no-op when there is nothing to do.

# Build, run and test dependencies, Debian 12 names.
GRADLENS_PACKAGES="
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgtk-4-dev libgdk-pixbuf-2.0-dev libcairo2-dev libgraphviz-dev libopenblas-dev
  libpython3.11-dev
  adwaita-icon-theme librsvg2-common fonts-dejavu-core
  xvfb xauth dbus libxtst-dev
  desktop-file-utils appstream
  clang libclang-rt-14-dev valgrind
"

gradlens_missing_packages () {
  # dpkg-query prints the packages it knows; unknown ones go to stderr.
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' $GRADLENS_PACKAGES 2>/dev/null \
                | awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }')
  for pkg in $GRADLENS_PACKAGES; do
    case " $(echo $installed) " in
      *" $pkg "*) ;;
      *) printf '%s ' "$pkg" ;;
    esac
  done
}

gradlens_install_packages () {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup: not a Debian system (no dpkg-query): install the equivalents of" >&2
    echo "setup:   $(echo $GRADLENS_PACKAGES)" >&2
    echo "setup: then run this again." >&2
    return 1
  fi

  missing=$(echo $(gradlens_missing_packages))
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

  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
  $as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $missing || {
      echo "setup: apt-get failed; the missing packages are: $missing" >&2
      return 1
    }
}

gradlens_build () {
  if [ ! -f build/meson-private/coredata.dat ]; then
    meson setup build --buildtype=release || return 1
  fi
  # ninja re-runs meson by itself when a meson.build changed.
  meson compile -C build
}

gradlens_setup () {
  cd "$(dirname "$0")/.." || return 1
  gradlens_install_packages && gradlens_build
}
