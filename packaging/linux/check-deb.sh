#!/usr/bin/env bash
# Check a built .deb: the paths it installs, its desktop files, and lintian with only the tags
# inherent to a bundled (PyInstaller) application suppressed.
#   packaging/linux/check-deb.sh build/traycourier_0.1.0_amd64.deb
set -euo pipefail
deb=$1
# shellcheck source=scripts/need.sh
source "$(dirname "$0")/../../scripts/need.sh"
need_packages lintian desktop-file-utils
fail() { echo "check-deb: $*" >&2; exit 1; }

listing=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for path in /opt/traycourier/traycourier /usr/bin/traycourier \
  /usr/share/applications/traycourier.desktop /etc/xdg/autostart/traycourier.desktop \
  /usr/share/icons/hicolor/48x48/apps/traycourier.png \
  /usr/share/icons/hicolor/256x256/apps/traycourier.png \
  /usr/share/doc/traycourier/copyright /usr/share/doc/traycourier/changelog.gz; do
  grep -qx "$path" <<<"$listing" || fail "missing $path"
done
# the XEmbed tray's GTK travels in the bundle; the StatusNotifier item needs no library
for lib in Gtk-3.0.typelib libgtk-3.so.0; do
  grep -q "^/opt/traycourier/_internal/.*$lib\$" <<<"$listing" || fail "the bundle lacks $lib"
done
# everything lives in the places above, nowhere else
parents='^/((etc|etc/xdg|opt|usr|usr/share)/)?$'
owned='^/(opt/traycourier|usr/bin|usr/share/(applications|icons|doc)|etc/xdg/autostart)(/|$)'
stray=$(grep -vE "$parents" <<<"$listing" | grep -vE "$owned" || true)
[[ -z "$stray" ]] || fail "unexpected paths: $stray"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in 'libc6 (>= 2.36)' libnotify-bin libwayland-client0 fontconfig; do
  grep -qF "$dep" <<<"$depends" || fail "Depends lacks $dep"
done
[[ -z "$(dpkg-deb -f "$deb" Recommends)" ]] || fail "no Recommends: they would pull a desktop"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work"
desktop-file-validate "$work/usr/share/applications/traycourier.desktop"
desktop-file-validate "$work/etc/xdg/autostart/traycourier.desktop"

# Suppressed, each inherent to shipping a frozen Python application in /opt:
#  dir-or-file-in-opt            the bundle lives in /opt by design (Debian policy 9.1.1 allows it for add-ons)
#  embedded-library              PyInstaller bundles its own copies (libpython, GTK, sqlite, ...)
#  library-not-linked-against-libc, shared-library-lacks-prerequisites
#                                bundled Python extension modules resolve libc through the interpreter
#  hardening-no-pie, hardening-no-fortify-functions
#                                PyInstaller's prebuilt bootloader and bundled libraries
#  no-manual-page                `traycourier --help` is the documentation
#  missing-depends-on-sensible-utils  spurious: the bundle does not call sensible-utils
#  unstripped-binary-or-object   some bundled wheels' libraries resist strip
#  binary-without-manpage        same as no-manual-page
#  spelling-error-in-binary      text inside bundled third-party libraries
#  executable-in-usr-share-doc, package-contains-vcs-control-file: never expected; not suppressed
suppress=dir-or-file-in-opt,embedded-library,library-not-linked-against-libc
suppress+=,shared-library-lacks-prerequisites,hardening-no-pie,hardening-no-fortify-functions
suppress+=,no-manual-page,missing-depends-on-sensible-utils,unstripped-binary-or-object
suppress+=,binary-without-manpage,spelling-error-in-binary
lintian --suppress-tags "$suppress" --fail-on error,warning --tag-display-limit 0 "$deb"
echo "check-deb: ok"
