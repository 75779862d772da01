#!/usr/bin/env bash
# Package the frozen Windows program as a per-user MSI with wixl (msitools), from
# packaging/windows/traycourier.wxs and the file list wixl-heat makes of the bundle.
#
#   packaging/windows/build-msi.sh [VERSION] [DIST]   -> build/windows/traycourier-VERSION.msi
#
# VERSION defaults to the program's own; DIST to build/windows/dist/traycourier (made by
# packaging/windows/build.sh). wixl-heat's ids depend on the path it is given, so the bundle
# is always staged at the same path.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
version=${1:-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' agent/__init__.py)}
dist=${2:-build/windows/dist/traycourier}
[[ -f "$dist/traycourier.exe" ]] || { echo "build-msi: no $dist/traycourier.exe" >&2; exit 1; }
# shellcheck source=scripts/need.sh
source scripts/need.sh
need_packages wixl msitools
need_venv  # draws the icon

stage=build/windows/msi-stage/traycourier
rm -rf build/windows/msi-stage && mkdir -p "$(dirname "$stage")"
cp -r "$dist" "$stage"
(cd build/windows/msi-stage && find traycourier -type f | sort) |
  sed 's|^|build/windows/msi-stage/|' |
  wixl-heat --prefix build/windows/msi-stage/traycourier/ --directory-ref INSTALLDIR \
    --var var.SourceDir --component-group AppFiles --win64 >build/windows/files.wxs
out=build/windows/traycourier-$version.msi
.venv/bin/python packaging/make_icons.py build/icons >/dev/null
wixl -a x64 -D Win64=yes -D Version="$version" -D SourceDir="$stage" -D IconFile=build/icons/traycourier.ico \
  -o "$out" packaging/windows/traycourier.wxs build/windows/files.wxs
# the Start-menu shortcut carries the app's identity (wixl has no ShortcutProperty element):
# one MsiShortcutProperty row, imported as an IDT table (Windows Installer 5 sets it)
idt=build/windows/MsiShortcutProperty.idt
printf '%s\t%s\t%s\t%s\r\n' \
  MsiShortcutProperty Shortcut_ PropertyKey PropVariantValue \
  s72 s72 s255 s255 \
  MsiShortcutProperty MsiShortcutProperty "" "" \
  AppUserModelId AppShortcut System.AppUserModel.ID traycourier.agent |
  sed 's/\t\t\r$/\r/' >"$idt"
msibuild "$out" -i "$idt"
echo "$out"
