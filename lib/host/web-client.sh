#!/bin/bash
# /usr/local/sbin/xmpp-constructs-web-client: installs the web client (Converse.js) this configuration
# pins, which nginx serves at https://<domain>/. Rendered by xmpp-constructs.
# The release comes from the npm registry and is used only if its SHA-512 is the pinned one. Each
# release has a directory of its own; the link "current" moves to the new one only once it is
# complete, so the page never serves half of one. Run by provisioning and, while the registry is
# out of reach, by its timer. Idempotent: with the pinned release in place it downloads nothing.
set -euo pipefail
umask 022
# shellcheck source=/dev/null
. /etc/xmpp-constructs/host.env

root=/var/www/xmpp-constructs-web
release="$root/$WEB_CLIENT_VERSION"
url="https://registry.npmjs.org/converse.js/-/converse.js-$WEB_CLIENT_VERSION.tgz"
# One run at a time: provisioning and the timer may meet.
exec 9>/run/lock/xmpp-constructs-web-client.lock
flock 9

if [ ! -d "$release" ]; then
  install -d -m 0755 "$root"
  incoming=$(mktemp -d "$root/.incoming.XXXXXX")
  trap 'rm -rf "$incoming"' EXIT
  curl -fsS --proto '=https' --connect-timeout 10 --max-time 600 --retry 2 -o "$incoming/package.tgz" "$url" \
    || { echo "xmpp-constructs: could not download the web client from $url" >&2; exit 1; }
  # The pin is npm's integrity string, sha512-<base64 of the digest>.
  pinned=$(printf '%s' "${WEB_CLIENT_INTEGRITY#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  actual=$(sha512sum < "$incoming/package.tgz" | cut -d' ' -f1)
  if [ "$actual" != "$pinned" ]; then
    echo "xmpp-constructs: $url is not the pinned release (its SHA-512 differs); not installed" >&2
    exit 1
  fi
  # Only the browser's files: package/dist, without the source maps. Dated now, not as the tarball
  # has them (1985, for every release): nginx's ETag is the date and size, which must change with a release.
  mkdir "$incoming/converse"
  tar -xzf "$incoming/package.tgz" -C "$incoming/converse" --strip-components=2 --no-same-owner --no-same-permissions --touch --exclude='*.map' package/dist
  rm "$incoming/package.tgz"
  chmod 0755 "$incoming"
  mv -T "$incoming" "$release"
  trap - EXIT
  echo "xmpp-constructs: web client $WEB_CLIENT_VERSION installed"
fi

# The page and the module that starts the client, as this library renders them.
install -m 0644 /usr/local/lib/xmpp-constructs/web-client/index.html /usr/local/lib/xmpp-constructs/web-client/web-client.js "$release/"
ln -sfn "$WEB_CLIENT_VERSION" "$root/current.new"
mv -T "$root/current.new" "$root/current"
# Other releases, and downloads that never finished, go (find does not follow the link).
find "$root" -mindepth 1 -maxdepth 1 -type d ! -name "$WEB_CLIENT_VERSION" -exec rm -rf {} +
