/**
 * Prints the Debian packages this machine needs to run the test suite. None of them is a droplet
 * package: Prosody, nginx, coturn, certbot and cloud-init run inside each platform's own image
 * (test/support/platform.ts), built here with mmdebstrap from Debian's archive.
 */
const PACKAGES = [
  // Building the platform images and their package repositories.
  'mmdebstrap', 'apt-utils', 'debian-archive-keyring',
  // The rehearsal's cloud: namespaces and addresses, DNS, Let's Encrypt (Pebble), the metadata
  // service and the mirror (Python's http.server), a loop device as the volume.
  'util-linux', 'mount', 'iproute2', 'bind9', 'pebble', 'python3', 'openssl', 'curl', 'procps',
  // Checking rendered output on this machine: zone files, scripts, YAML, XML, Lua literals.
  'bind9-utils', 'shellcheck', 'yamllint', 'libxml2-utils', 'lua5.4',
  // The GitOps workflow's tools, which its tests run as GitHub's runner does (jq redacts the plan).
  'jq',
  // The web client's rehearsal: a real browser (driven by playwright-core) trusting the rehearsal's CA.
  'chromium', 'libnss3-tools',
];

process.stdout.write(PACKAGES.join(' ') + '\n');
