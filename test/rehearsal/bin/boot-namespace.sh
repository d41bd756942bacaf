#!/bin/bash
# Rehearsal only: the "droplet". Runs as PID 1 of fresh mount, network and PID namespaces
# (unshare --mount --net --pid --fork --kill-child --mount-proc). Everything it starts dies with it.
#   boot-namespace.sh ROOT UPPER WORK VOLUME_DIR VOLUME_MOUNT PUBLIC4 RESERVED4 PUBLIC6 FILES_DIR
set -euo pipefail
root=$1 upper=$2 work=$3 volume=$4 volume_mount=$5 public4=$6 reserved4=$7 public6=$8 files=$9
metadata=$files/metadata

# A disposable copy of this machine: files land at their real paths, the host stays untouched.
mount -t overlay overlay -o "lowerdir=/,upperdir=$upper,workdir=$work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
# The harness's exchange directory, live at the same path (the overlay would freeze its view).
mount --bind "$files" "$root$files"
# The volume: a directory standing in for the attached block device, mounted where the
# provisioning script expects it (it then skips waiting for and formatting the device).
# With "-" there is no stand-in: the harness points the script at a real block device instead.
mkdir -p "$root$volume_mount"
if [ "$volume" != - ]; then mount --bind "$volume" "$root$volume_mount"; fi

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
nsenter -t "$outside" -n sh -c 'ip link set lo up && ip link set outside0 up && ip addr add 169.254.169.254/16 dev outside0'
# The metadata service answers the few paths the provisioning scripts read.
nsenter -t "$outside" -n setsid python3 -m http.server 80 --bind 169.254.169.254 --directory "$metadata" \
  > "$metadata.log" 2>&1 < /dev/null &
for _ in $(seq 1 50); do nsenter -t "$outside" -n sh -c 'exec 3<>/dev/tcp/169.254.169.254/80' 2>/dev/null && break; sleep 0.1; done

# Names resolve through the rehearsal's DNS server only.
rm -f "$root/etc/resolv.conf"
echo "nameserver 127.0.0.1" > "$root/etc/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"

echo ready
# PID 1 reaps, as systemd does on a droplet: the daemons the systemctl stand-in starts are
# re-parented here, and unreaped they would linger as zombies that its stop still finds alive.
while :; do sleep 1 & wait $! || true; done
