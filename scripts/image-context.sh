#!/usr/bin/env bash
# Makes the build context of the container image (see Containerfile) in DIR from a release
# binary: the binary with its symbols stripped, each shared library `ldd` names (and the
# dynamic loader) at the path the binary looks for it, the CA certificates, an
# /etc/passwd and /etc/group naming the user the image runs as, an empty /data.
#
#   scripts/image-context.sh target/release/authenticon target/image
set -euo pipefail

bin=${1:?usage: image-context.sh BINARY DIR}
dir=${2:?usage: image-context.sh BINARY DIR}
uid=10001
certs=/etc/ssl/certs/ca-certificates.crt

[ -x "$bin" ] || { echo "error: $bin is not an executable (run: cargo build --release --locked)" >&2; exit 1; }
[ -r "$certs" ] || { echo "error: $certs is missing (Debian's ca-certificates package)" >&2; exit 1; }

rm -rf "$dir"
# /run and /tmp are empty mount points: with a read-only root, Podman and Docker mount a
# tmpfs there, and secrets go to /run/secrets.
mkdir -p "$dir/rootfs/usr/local/bin" "$dir/rootfs/etc/ssl/certs" "$dir/rootfs/tmp" "$dir/rootfs/run/secrets" \
  "$dir/rootfs/var/tmp" "$dir/data"
cp Containerfile "$dir/Containerfile"
strip --strip-all -o "$dir/rootfs/usr/local/bin/authenticon" "$bin"

# Every library the dynamic loader will open, resolved on this machine; `ldd` prints
# "name => /path (addr)" for libraries and "/path (addr)" for the loader itself.
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
for lib in $libs; do
  mkdir -p "$dir/rootfs$(dirname "$lib")"
  cp -L "$lib" "$dir/rootfs$lib"
done
# Debian's loader path is /lib64/ld-linux-x86-64.so.2 while the file lives under /lib;
# `cp -L` above copied the file itself to the path the binary names, which is all it needs.

cp "$certs" "$dir/rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/nonexistent\nauthenticon:x:%s:%s:Authenticon:/data:/nonexistent\n' "$uid" "$uid" \
  > "$dir/rootfs/etc/passwd"
printf 'root:x:0:\nauthenticon:x:%s:\n' "$uid" > "$dir/rootfs/etc/group"
chmod 1777 "$dir/rootfs/tmp" "$dir/rootfs/var/tmp"

echo "image context in $dir: $(du -sh "$dir/rootfs" | cut -f1) ($(echo "$libs" | wc -w) shared libraries)"
