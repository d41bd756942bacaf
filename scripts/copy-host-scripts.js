#!/usr/bin/env node
// Copies the scripts that run on the droplets (lib/host) next to the compiled library, which reads
// them at synthesis (lib/core/script-files.ts); tsc copies only what it compiles.
//   node scripts/copy-host-scripts.js OUT_DIR   (the outDir tsc compiled the repository into)
'use strict';
const { copyFileSync, mkdirSync, readdirSync } = require('fs');
const { join } = require('path');

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node scripts/copy-host-scripts.js OUT_DIR');
  process.exit(2);
}
const from = join(__dirname, '..', 'lib', 'host');
const to = join(outDir, 'lib', 'host');
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
