#!/usr/bin/env bash
# Builds SQLite's command-line shell for wasm32-wasi from Debian's sqlite3 source package,
# for test/wasi/realprograms.test.ts: `apt-get source sqlite3` (a deb-src entry is added when
# missing), the amalgamation made by SQLite's own build (tclsh), then clang with wasi-libc and
# the flags SQLite's ext/wasm/api/sqlite3-wasi.h documents for WASI. The locking-free
# "unix-none" VFS is the default: a WASI program is alone with its disk, and wasi-libc has no
# fcntl() locks. Output: $TKL_WASI_CACHE/sqlite3.wasm (default .cache/wasi in the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${TKL_WASI_CACHE:-$PWD/.cache/wasi}"
mkdir -p "$OUT"
if [ -s "$OUT/sqlite3.wasm" ]; then echo "sqlite3.wasm: up to date ($OUT)"; exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if ! apt-get source --print-uris -qq sqlite3 >/dev/null 2>&1; then
  echo "adding a deb-src entry for Debian's main archive"
  $SUDO tee /etc/apt/sources.list.d/tkl-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO apt-get update -qq
fi

WORK="$OUT/sqlite-src"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
apt-get source -qq sqlite3 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
SRC_DIR="$(find . -maxdepth 1 -type d -name 'sqlite3-*' | head -1)"
[ -n "$SRC_DIR" ] || { echo "apt-get source sqlite3 gave no source tree" >&2; exit 1; }
mkdir -p build compat
(cd build && "../$SRC_DIR/configure" --disable-tcl >/dev/null && make -s sqlite3.c shell.c >/dev/null)

# wasi-libc has no users and no file modes: just enough for the shell.
cat > compat/pwd.h <<'H'
#ifndef TKL_WASI_PWD_H
#define TKL_WASI_PWD_H
struct passwd { char *pw_name; char *pw_dir; };
static inline struct passwd *getpwuid(unsigned uid) { (void)uid; return 0; }
static inline unsigned getuid(void) { return 0; }
#endif
H
cat > compat/shell-wasi.h <<'H'
#ifndef TKL_WASI_SHELL_H
#define TKL_WASI_SHELL_H
static inline int tkl_wasi_chmod(const char *path, unsigned mode) { (void)path; (void)mode; return 0; }
#define chmod tkl_wasi_chmod
#endif
H

FLAGS=(--target=wasm32-wasi -O2 -w
  -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS
  -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_NOHAVE_SYSTEM -DSQLITE_OMIT_POPEN
  '-DSQLITE_DEFAULT_UNIX_VFS="unix-none"' -Icompat -Ibuild)
clang "${FLAGS[@]}" -include "$SRC_DIR/ext/wasm/api/sqlite3-wasi.h" -c build/sqlite3.c -o build/sqlite3.o &
lib=$!
clang "${FLAGS[@]}" -include compat/shell-wasi.h -c build/shell.c -o build/shell.o
wait "$lib"
clang --target=wasm32-wasi build/sqlite3.o build/shell.o -o "$OUT/sqlite3.wasm" \
  -lwasi-emulated-mman -lwasi-emulated-getpid -lwasi-emulated-signal -lwasi-emulated-process-clocks
cd "$OUT" && rm -rf "$WORK"
echo "built $OUT/sqlite3.wasm ($(stat -c %s "$OUT/sqlite3.wasm") bytes) from $SRC_DIR"
