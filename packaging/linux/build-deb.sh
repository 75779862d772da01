#!/usr/bin/env bash
# Build the Linux .deb: a PyInstaller one-folder bundle under /opt/traycourier, a launcher in
# /usr/bin, a .desktop launcher, hicolor icons, and an XDG autostart entry a user can switch
# off (`traycourier autostart disable` writes a Hidden=true override).
#
#   packaging/linux/build-deb.sh            -> build/traycourier_<version>_<arch>.deb
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/need.sh
source scripts/need.sh
need_packages patchelf
need_venv
PY=.venv/bin/python
version=$("$PY" -c 'from traycourier import agent; print(agent.__version__)')
arch=$(dpkg --print-architecture)
stage=build/deb/root
out=build/traycourier_${version}_${arch}.deb

"$PY" -m pip install -q 'pyinstaller==6.22.3' 'pyinstaller-hooks-contrib==2026.9' \
  'psycopg[binary]==3.3.9'  # the .deb serves a PostgreSQL URL too (README)
"$PY" packaging/make_icons.py build/icons >/dev/null
"$PY" -m PyInstaller --noconfirm --log-level ERROR --distpath build/dist --workpath build/work \
  packaging/traycourier.spec

rm -rf build/deb
install -d "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/etc/xdg/autostart" "$stage/usr/share/doc/traycourier"
cp -a build/dist/traycourier "$stage/opt/traycourier"
# the build machine's interpreter path must not leak into the package (lintian:
# custom-library-search-path on the bundled libpython)
prefix=$("$PY" -c 'import sys; print(sys.base_prefix)')
while IFS= read -r -d '' lib; do
  if patchelf --print-rpath "$lib" 2>/dev/null | grep -qF "$prefix"; then
    patchelf --remove-rpath "$lib"
  fi
done < <(find "$stage/opt/traycourier" -name '*.so*' -type f -print0)
# shared objects are data to dpkg: not executable (lintian: shared-library-is-executable)
find "$stage/opt/traycourier" -name '*.so*' -type f -exec chmod 0644 {} +
cat >"$stage/usr/bin/traycourier" <<'LAUNCHER'
#!/bin/sh
exec /opt/traycourier/traycourier "$@"
LAUNCHER
chmod 0755 "$stage/usr/bin/traycourier"
install -m 0644 packaging/linux/traycourier.desktop "$stage/usr/share/applications/"
install -m 0644 packaging/linux/traycourier-autostart.desktop \
  "$stage/etc/xdg/autostart/traycourier.desktop"
for dir in build/icons/hicolor/*/; do
  size=$(basename "$dir")
  install -D -m 0644 "$dir/apps/traycourier.png" \
    "$stage/usr/share/icons/hicolor/$size/apps/traycourier.png"
done
install -m 0644 packaging/linux/copyright "$stage/usr/share/doc/traycourier/copyright"
printf 'traycourier (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- traycourier authors <traycourier@users.noreply.github.com>  %s\n' \
  "$version" "$version" "$(date -R)" | gzip -9n >"$stage/usr/share/doc/traycourier/changelog.gz"
echo "/etc/xdg/autostart/traycourier.desktop" >"$stage/DEBIAN/conffiles"
size_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: traycourier
Version: $version
Architecture: $arch
Maintainer: traycourier authors <traycourier@users.noreply.github.com>
Installed-Size: $size_kb
Depends: libc6 (>= 2.36), libnotify-bin, libxcb1, libwayland-client0, libwayland-cursor0, libwayland-egl1, fontconfig, default-dbus-session-bus | dbus-session-bus
Suggests: dunst | notification-daemon, gnome-shell-extension-appindicator
Section: utils
Priority: optional
Homepage: https://github.com/traycourier/traycourier
Description: desktop notification agent for local programs
 traycourier shows notifications that local programs write into a shared
 SQLite file, exactly once, from the system tray, and records what happened
 to each of them.
CONTROL
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
