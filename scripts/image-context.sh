#!/usr/bin/env bash
# Makes the build context of the container image (see Containerfile) in DIR from a release
# binary: the binary with its symbols stripped, each shared library `ldd` names (and the
# dynamic loader) at the path the binary looks for it, the Mozilla CA certificates, an
# /etc/passwd and /etc/group naming the user the image runs as, an empty /data.
#
#   scripts/image-context.sh target/release/authenticon target/image
set -euo pipefail
# The files keep these modes in the image: readable by the user it runs as, whatever the
# umask of whoever builds it.
umask 022

bin=${1:?usage: image-context.sh BINARY DIR}
dir=${2:?usage: image-context.sh BINARY DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
uid=10001
# Only the Mozilla set as Debian's ca-certificates ships it: never a certificate this host
# added for itself (/usr/local/share/ca-certificates), which the image would then trust.
mozilla=/usr/share/ca-certificates/mozilla

[ -x "$bin" ] || { echo "error: $bin is not an executable (run: cargo build --release --locked)" >&2; exit 1; }
compgen -G "$mozilla/*.crt" >/dev/null ||
  { echo "error: no certificates in $mozilla (Debian's ca-certificates package)" >&2; exit 1; }
linked=$(ldd "$bin")
if grep -q "not found" <<<"$linked"; then
  echo "error: $bin needs libraries this machine lacks:" >&2
  grep "not found" <<<"$linked" >&2
  exit 1
fi

rm -rf "$dir"
# /run/secrets, /tmp and /var/tmp are empty mount points for a read-only root.
mkdir -p "$dir/rootfs/usr/local/bin" "$dir/rootfs/etc/ssl/certs" "$dir/rootfs/tmp" "$dir/rootfs/run/secrets" \
  "$dir/rootfs/var/tmp" "$dir/data"
cp "$root/Containerfile" "$dir/Containerfile"
strip --strip-all -o "$dir/rootfs/usr/local/bin/authenticon" "$bin"

# Every library the dynamic loader will open, resolved on this machine; `ldd` prints
# "name => /path (addr)" for libraries and "/path (addr)" for the loader itself. `cp -L`
# copies the file a symbolic link names to the path the binary asks for.
libs=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$linked")
for lib in $libs; do
  mkdir -p "$dir/rootfs$(dirname "$lib")"
  cp -L "$lib" "$dir/rootfs$lib"
done

cat "$mozilla"/*.crt > "$dir/rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/nonexistent\nauthenticon:x:%s:%s:Authenticon:/data:/nonexistent\n' "$uid" "$uid" \
  > "$dir/rootfs/etc/passwd"
printf 'root:x:0:\nauthenticon:x:%s:\n' "$uid" > "$dir/rootfs/etc/group"
# Names given with --add-host (or compose's extra_hosts) are in /etc/hosts: ask it first.
printf 'hosts: files dns\n' > "$dir/rootfs/etc/nsswitch.conf"
chmod 1777 "$dir/rootfs/tmp" "$dir/rootfs/var/tmp"
# The database holds password hashes and sealed keys: the volume is its user's alone.
chmod 0700 "$dir/data"

echo "image context in $dir: $(du -sh "$dir/rootfs" | cut -f1)," \
  "$(echo "$libs" | wc -w) shared libraries, $(ls "$mozilla"/*.crt | wc -l) CA certificates"
