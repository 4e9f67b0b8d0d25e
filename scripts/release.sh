#!/usr/bin/env bash
# Builds the release: doorstep-server and doorstep in release mode with the Swift runtime and
# Foundation linked statically (a machine needs no Swift toolchain), stripped, and packed as
#   dist/doorstep-VERSION-linux-ARCH.tar.gz   the binaries, the unit, the example configuration, the docs
#   dist/doorstep_VERSION_ARCH.deb            the same as a Debian package: the doorstep user,
#                                             /var/lib/doorstep (0700), /etc/doorstep/server.toml,
#                                             the systemd unit (enabled and started where systemd runs)
# The package's Depends are the shared libraries the binaries link (dpkg-shlibdeps), and the
# script fails if a binary links a library no package declares.
# Usage: scripts/release.sh [--version V]   (default: DoorstepVersion.string)
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/.*public static let string = "\(.*\)".*/\1/p' Sources/DoorstepCore/Version.swift)
while [ $# -gt 0 ]; do
    case "$1" in
        --version) version="$2"; shift 2 ;;
        *) echo "usage: scripts/release.sh [--version V]" >&2; exit 2 ;;
    esac
done
[ -n "$version" ] || { echo "release.sh: no version found in Sources/DoorstepCore/Version.swift" >&2; exit 1; }
arch=$(dpkg --print-architecture)

echo "== building doorstep-server and doorstep $version (release, static Swift runtime)"
for product in doorstep-server doorstep; do
    swift build -c release --static-swift-stdlib --product "$product"
done
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)

rm -rf dist/stage dist/doorstep_"$version"_"$arch".deb dist/doorstep-"$version"-linux-"$arch".tar.gz
stage=dist/stage/doorstep_"$version"_"$arch"
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/doorstep" "$stage/usr/share/doc/doorstep"
for product in doorstep-server doorstep; do
    install -m 0755 "$bin/$product" "$stage/usr/bin/$product"
    strip --strip-unneeded "$stage/usr/bin/$product"
done
install -m 0644 deploy/doorstep-server.service "$stage/lib/systemd/system/doorstep-server.service"
install -m 0640 deploy/server.toml "$stage/etc/doorstep/server.toml"
install -m 0644 docs/OPERATIONS.md docs/GUARANTEES.md "$stage/usr/share/doc/doorstep/"
install -m 0644 deploy/alerts.yml "$stage/usr/share/doc/doorstep/alerts.yml"
install -m 0644 README.md "$stage/usr/share/doc/doorstep/README.md"
# The --help text of every command, as a man page would hold it.
{
    "$stage/usr/bin/doorstep-server" --help
    for command in serve backup restore migrate rotate-admin-token; do
        printf '\n\n== doorstep-server %s\n\n' "$command"
        "$stage/usr/bin/doorstep-server" "$command" --help
    done
} >"$stage/usr/share/doc/doorstep/doorstep-server.txt"
"$stage/usr/bin/doorstep" --help >"$stage/usr/share/doc/doorstep/doorstep.txt" 2>&1 || true
[ -s "$stage/usr/share/doc/doorstep/doorstep.txt" ] || { echo "release.sh: doorstep --help printed nothing" >&2; exit 1; }

echo "== the libraries the binaries link, and the packages that hold them"
shlibs=$(mktemp -d)
mkdir -p "$shlibs/debian"
printf 'Source: doorstep\n\nPackage: doorstep\nArchitecture: any\n' >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "$OLDPWD/$stage/usr/bin/doorstep-server" "$OLDPWD/$stage/usr/bin/doorstep" | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shlibs"
[ -n "$depends" ] || { echo "release.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
for binary in "$stage/usr/bin/doorstep-server" "$stage/usr/bin/doorstep"; do
    for library in $(readelf -d "$binary" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
        # awk reads to the end (an early exit would kill ldconfig with SIGPIPE under pipefail).
        path=$(ldconfig -p | awk -v lib="$library" '$1 == lib && !found { print $NF; found = 1 }')
        real=$(readlink -f "$path")
        # With a merged /usr, dpkg knows a library by either of its paths.
        package=""
        for candidate in "$path" "$real" "${path#/usr}" "${real#/usr}" "/usr$path" "/usr$real"; do
            package=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1 || true)
            [ -n "$package" ] && break
        done
        [ -n "$package" ] || { echo "release.sh: no package holds $library ($path)" >&2; exit 1; }
        case ",$depends," in
            *"$package "* | *"$package,"* | *" $package"*) echo "   $(basename "$binary"): $library ($package)" ;;
            *) echo "release.sh: $(basename "$binary") links $library ($package), which the package does not declare" >&2; exit 1 ;;
        esac
    done
done

size=$(du -sk "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: doorstep
Version: $version
Architecture: $arch
Maintainer: Doorstep maintainers <doorstep@localhost>
Installed-Size: $size
Depends: $depends, adduser
Recommends: init-system-helpers
Section: net
Priority: optional
Description: hardship-relief home visits: the central server and the field CLI
 Doorstep takes trade-union offices' hardship-relief home visits from laptops
 without connectivity to a central server and back, without losing or
 duplicating a record. This package holds doorstep-server (SQLite embedded,
 or PostgreSQL), the systemd unit doorstep-server.service, and the doorstep CLI.
 Configuration: /etc/doorstep/server.toml; data: /var/lib/doorstep.
CONTROL
echo "/etc/doorstep/server.toml" >"$stage/DEBIAN/conffiles"
install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$stage/DEBIAN/"

dpkg-deb --root-owner-group --build "$stage" "dist/doorstep_${version}_${arch}.deb" >/dev/null
tar -C "$stage" --exclude=DEBIAN -czf "dist/doorstep-$version-linux-$arch.tar.gz" --owner=0 --group=0 .
rm -rf dist/stage
echo "== dist/doorstep_${version}_${arch}.deb ($(du -h "dist/doorstep_${version}_${arch}.deb" | cut -f1)), dist/doorstep-$version-linux-$arch.tar.gz"
echo "   Depends: $depends, adduser
Recommends: init-system-helpers"
