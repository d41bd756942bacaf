#!/bin/bash
# Rehearsal only: the "droplet". Runs as PID 1 of fresh mount, network, PID and UTS namespaces
# (unshare --mount --net --pid --uts --fork --kill-child --mount-proc). Everything it starts dies with it.
#   boot-namespace.sh ROOT IMAGE VOLUME_DIR VOLUME_MOUNT PUBLIC4 RESERVED4 PUBLIC6 FILES_DIR MIRROR_DIR MIRROR4 SYSTEMCTL
set -euo pipefail
root=$1 image=$2 volume=$3 volume_mount=$4 public4=$5 reserved4=$6 public6=$7 files=$8 mirror=$9 mirror4=${10} systemctl=${11}
metadata=$files/metadata
rw=$(dirname "$files")/rw

# The droplet's disk: the platform's base image as it comes from the cloud, under a writable layer
# that lives in memory and vanishes with the namespace.
mount -t tmpfs -o mode=0755 tmpfs "$rw"
mkdir -p "$rw/upper" "$rw/work"
mount -t overlay overlay -o "lowerdir=$image,upperdir=$rw/upper,workdir=$rw/work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
# systemd is PID 1 on a droplet: maintainer scripts see /run/systemd/system and take the systemd
# path (deb-systemd-invoke, which asks policy-rc.d first); the stand-in answers for systemctl.
mkdir -p "$root/run/systemd/system" "$root/run/lock"
mount --bind "$systemctl" "$root/usr/bin/systemctl"
# The harness's exchange directory, live at the same path.
mkdir -p "$root$files"
mount --bind "$files" "$root$files"
# The volume: a directory standing in for the attached block device, mounted where the
# provisioning script expects it (it then skips waiting for and formatting the device).
# With "-" there is no stand-in: the harness points the script at a real block device instead.
mkdir -p "$root$volume_mount"
if [ "$volume" != - ]; then mount --bind "$volume" "$root$volume_mount"; fi
hostname droplet

# The droplet's network: its public addresses on eth0, a veth whose peer lives in a second
# network namespace, "the outside". No route leads out of these two namespaces.
ip link set lo up
ip link add eth0 type veth peer name outside0
ip link set eth0 up
ip addr add "$public4/24" dev eth0
ip addr add "$reserved4/32" dev eth0
ip -6 addr add "$public6/64" dev eth0 nodad
# As on DigitalOcean, the metadata service is reached over eth0's link-local route.
ip addr add 169.254.0.2/16 dev eth0
# The Debian mirror, as DigitalOcean runs one near every droplet.
ip route add "$mirror4/32" dev eth0 src "$public4"

unshare --net sleep infinity &
outside=$!
# Move the link only once the child is in a network namespace of its own, and never anywhere
# else: with --mount-proc, /proc and $! both speak of this PID namespace.
ours=$(readlink /proc/self/ns/net)
for _ in $(seq 1 100); do
  theirs=$(readlink "/proc/$outside/ns/net" 2>/dev/null || true)
  [ -n "$theirs" ] && [ "$theirs" != "$ours" ] && break; sleep 0.05
done
[ "$(readlink /proc/1/ns/net)" = "$ours" ] || { echo "boot-namespace.sh must run as PID 1 of its own namespaces" >&2; exit 1; }
[ "$theirs" != "$ours" ] || { echo "the outside namespace did not come up" >&2; exit 1; }
ip link set outside0 netns "$outside"
echo "$outside" > "$files/outside.pid"
nsenter -t "$outside" -n sh -c "ip link set lo up && ip link set outside0 up && ip addr add 169.254.169.254/16 dev outside0 \
  && ip addr add $mirror4/32 dev outside0 && ip route add $public4/32 dev outside0"
# The metadata service answers the few paths the provisioning scripts read; the mirror serves the
# platform's packages. Both are this machine's Python, in the outside namespace.
nsenter -t "$outside" -n setsid python3 -m http.server 80 --bind 169.254.169.254 --directory "$metadata" \
  > "$files/metadata.log" 2>&1 < /dev/null &
nsenter -t "$outside" -n setsid python3 -m http.server 80 --bind "$mirror4" --directory "$mirror" \
  > "$files/mirror.log" 2>&1 < /dev/null &
up=0
for _ in $(seq 1 100); do
  if nsenter -t "$outside" -n bash -c "exec 3<>/dev/tcp/169.254.169.254/80 && exec 4<>/dev/tcp/$mirror4/80" 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
[ "$up" = 1 ] || { echo "the metadata service or the mirror did not come up" >&2; cat "$files/metadata.log" "$files/mirror.log" >&2; exit 1; }

# Names resolve through the rehearsal's DNS server only.
rm -f "$root/etc/resolv.conf"
echo "nameserver 127.0.0.1" > "$root/etc/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"

echo ready
# PID 1 reaps, as systemd does on a droplet: the daemons the systemctl stand-in starts are
# re-parented here, and unreaped they would linger as zombies that its stop still finds alive.
while :; do sleep 1 & wait $! || true; done
