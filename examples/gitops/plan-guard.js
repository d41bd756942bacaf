#!/usr/bin/env node
// @ts-check
/**
 * The gate between synthesized Terraform JSON and the credentials that plan and apply it.
 *
 *   node plan-guard.js <stack directory>
 *
 * The workflow's synthesis job runs the pull request's code and its dependencies with no secrets. The
 * JSON it produces is untrusted: OpenTofu configuration can run code or read files when it is planned
 * (an `external` or `http` data source, a provisioner, another provider from a registry, `file()`),
 * and it can send credentials elsewhere (an `api_endpoint` override, an `http` backend). This script
 * accepts only what an xmpp-constructs stack consists of, and refuses the rest, naming each finding:
 *
 * - the directory holds `cdk.tf.json` and the `review/` files, nothing OpenTofu would also load;
 * - the only provider is digitalocean/digitalocean, configured without endpoint or credential settings;
 * - every resource and data source is a digitalocean_* one: no provisioner, connection or module;
 * - the backend is `local`, or `s3` at a DigitalOcean Spaces endpoint with no keys in it;
 * - no expression calls a function that reads the runner's files, nor a provider-defined function.
 *
 * Plain Node.js with no dependencies, so that the jobs holding credentials run it without `npm ci`.
 * Exit status: 0 accepted, 1 refused (findings on stderr, as GitHub annotations under Actions),
 * 2 unusable input.
 */
'use strict';

const fs = require('fs');
const path = require('path');

/** The provider, as `required_providers` may spell its source. */
const ALLOWED_PROVIDER_SOURCES = new Set([
  'digitalocean/digitalocean',
  'registry.terraform.io/digitalocean/digitalocean',
  'registry.opentofu.org/digitalocean/digitalocean',
]);

/** Provider arguments that only tune retries; endpoints and credentials come from nowhere but the environment. */
const ALLOWED_PROVIDER_ARGUMENTS = new Set(['alias', 'requests_per_second', 'http_retry_max', 'http_retry_wait_min', 'http_retry_wait_max', '//']);

/** The S3 backend arguments a Spaces bucket needs (see main.ts); credentials, profiles and roles are not among them. */
const ALLOWED_S3_BACKEND_ARGUMENTS = new Set([
  'bucket', 'key', 'region', 'endpoints', 'endpoint', 'workspace_key_prefix', 'encrypt', 'use_lockfile', 'use_path_style',
  'force_path_style', 'skip_credentials_validation', 'skip_requesting_account_id', 'skip_metadata_api_check',
  'skip_region_validation', 'skip_s3_checksum', '//',
]);

/** A Spaces endpoint: https://<region>.digitaloceanspaces.com, nothing else. */
const SPACES_ENDPOINT = /^https:\/\/[a-z]{3}[0-9]\.digitaloceanspaces\.com\/?$/;

/** Top-level blocks of a stack; `module` and `check` are not among them. */
const ALLOWED_TOP_LEVEL = new Set(['//', 'terraform', 'provider', 'resource', 'data', 'output', 'locals', 'variable', 'moved', 'import', 'removed']);

/** Built-in functions that read the machine running OpenTofu (its files, its home directory). */
const FILE_FUNCTIONS = ['file', 'fileexists', 'fileset', 'filebase64', 'filebase64sha256', 'filebase64sha512', 'filemd5', 'filesha1',
  'filesha256', 'filesha512', 'templatefile', 'abspath', 'pathexpand'];
const FILE_FUNCTION_CALL = new RegExp(`(?<![\\w.:])(${FILE_FUNCTIONS.join('|')})\\s*\\(`);
const PROVIDER_FUNCTION_CALL = /provider::[\w-]+::/;

/** The files a synthesized stack directory may hold besides cdk.tf.json: none that OpenTofu reads. */
const CONFIGURATION_FILE = /\.(tf|tofu)(\.json)?$/;

/**
 * Every reason to refuse `config` (the parsed cdk.tf.json), each naming where and what to do.
 * @param {unknown} config
 * @returns {string[]}
 */
function findings(config) {
  /** @type {string[]} */
  const found = [];
  if (!isObject(config)) return ['cdk.tf.json: not a JSON object. Fix: synthesize the stack again'];

  for (const key of Object.keys(config)) {
    if (!ALLOWED_TOP_LEVEL.has(key)) found.push(`${key}: a top-level "${key}" block is not part of an xmpp-constructs stack. Fix: remove it (modules and checks can fetch code or run data sources of other providers)`);
  }

  const terraform = isObject(config.terraform) ? config.terraform : {};
  const required = isObject(terraform.required_providers) ? terraform.required_providers : {};
  for (const [name, requirement] of Object.entries(required)) {
    const source = isObject(requirement) ? String(requirement.source ?? name) : String(requirement);
    if (name !== 'digitalocean' || !ALLOWED_PROVIDER_SOURCES.has(source.toLowerCase())) {
      found.push(`terraform.required_providers.${name}: source ${JSON.stringify(source)} is not digitalocean/digitalocean, the only provider this workflow runs. Fix: remove it`);
    }
  }
  for (const key of Object.keys(terraform)) {
    if (!['required_providers', 'backend', 'required_version', '//'].includes(key)) {
      found.push(`terraform.${key}: not allowed here. Fix: remove it (cloud blocks and provider_meta send state or data elsewhere)`);
    }
  }
  found.push(...backendFindings(terraform.backend));

  const providers = isObject(config.provider) ? config.provider : {};
  for (const [name, blocks] of Object.entries(providers)) {
    if (name !== 'digitalocean') {
      found.push(`provider.${name}: only the digitalocean provider runs here. Fix: remove it`);
      continue;
    }
    for (const [i, block] of asArray(blocks).entries()) {
      if (!isObject(block)) continue;
      for (const argument of Object.keys(block)) {
        if (!ALLOWED_PROVIDER_ARGUMENTS.has(argument)) {
          found.push(`provider.digitalocean[${i}].${argument}: endpoint and credential settings are not allowed in the configuration; the workflow gives the token through the environment. Fix: remove ${argument}`);
        }
      }
    }
  }

  for (const [kind, label] of [['resource', 'resource'], ['data', 'data source']]) {
    const blocks = isObject(config[kind]) ? config[kind] : {};
    for (const [type, instances] of Object.entries(blocks)) {
      if (!type.startsWith('digitalocean_')) {
        found.push(`${kind}.${type}: a ${label} of another provider (or a built-in one such as terraform_data); only digitalocean_* ones run here. Fix: remove it`);
      }
      for (const [name, body] of Object.entries(isObject(instances) ? instances : {})) {
        for (const block of asArray(body)) {
          if (!isObject(block)) continue;
          for (const forbidden of ['provisioner', 'connection']) {
            if (forbidden in block) found.push(`${kind}.${type}.${name}.${forbidden}: provisioners run commands on the machine that applies. Fix: remove it`);
          }
        }
      }
    }
  }

  walkStrings(config, '', (where, text) => {
    for (const expression of templateExpressions(text)) {
      const call = FILE_FUNCTION_CALL.exec(expression);
      if (call) found.push(`${where}: calls ${call[1]}(), which reads files of the machine running OpenTofu (its environment included, through /proc). Fix: put the content in the configuration instead`);
      if (PROVIDER_FUNCTION_CALL.test(expression)) found.push(`${where}: calls a provider-defined function. Fix: remove it`);
    }
  });
  return found;
}

/**
 * @param {unknown} backend
 * @returns {string[]}
 */
function backendFindings(backend) {
  if (backend === undefined) return [];
  if (!isObject(backend)) return ['terraform.backend: not an object. Fix: synthesize the stack again'];
  /** @type {string[]} */
  const found = [];
  for (const [type, settings] of Object.entries(backend)) {
    if (type === 'local') continue;
    if (type !== 's3') {
      found.push(`terraform.backend.${type}: only the s3 backend (at a Spaces endpoint) or local state are allowed. Fix: keep the state in a Spaces bucket as main.ts does`);
      continue;
    }
    const s3 = isObject(settings) ? settings : {};
    for (const argument of Object.keys(s3)) {
      if (!ALLOWED_S3_BACKEND_ARGUMENTS.has(argument)) {
        found.push(`terraform.backend.s3.${argument}: not allowed; the keys come from the environment, and state goes only to Spaces. Fix: remove ${argument}`);
      }
    }
    const endpoints = [s3.endpoint, ...(isObject(s3.endpoints) ? Object.entries(s3.endpoints).map(([service, url]) => (service === 's3' ? url : { service, url })) : [])];
    for (const endpoint of endpoints) {
      if (endpoint === undefined) continue;
      if (isObject(endpoint)) {
        found.push(`terraform.backend.s3.endpoints.${endpoint.service}: only the s3 endpoint may be set (${JSON.stringify(endpoint.url)} would receive the Spaces keys). Fix: remove it`);
      } else if (typeof endpoint !== 'string' || !SPACES_ENDPOINT.test(endpoint)) {
        found.push(`terraform.backend.s3.endpoints.s3 = ${JSON.stringify(endpoint)}: not a DigitalOcean Spaces endpoint, so the Spaces keys would go elsewhere. Fix: https://<region>.digitaloceanspaces.com`);
      }
    }
    if (s3.endpoint === undefined && !(isObject(s3.endpoints) && 's3' in s3.endpoints)) {
      found.push('terraform.backend.s3: no endpoint, so it would talk to AWS with the Spaces keys. Fix: endpoints = { s3 = "https://<region>.digitaloceanspaces.com" }');
    }
  }
  return found;
}

/**
 * Every reason to refuse the stack directory `dir`: its files, then its cdk.tf.json.
 * @param {string} dir
 * @returns {string[]}
 */
function checkStackDirectory(dir) {
  /** @type {string[]} */
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const where = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) found.push(`${where}: a symbolic link. Fix: synthesize the stack again`);
    else if (entry.name === '.terraform' || entry.name === '.terraform.lock.hcl') found.push(`${where}: comes from the pipeline's checked-in files, never from synthesis. Fix: do not synthesize it`);
    else if (entry.name !== 'cdk.tf.json' && (CONFIGURATION_FILE.test(entry.name) || entry.name.startsWith('.'))) found.push(`${where}: OpenTofu would read it with cdk.tf.json. Fix: remove it`);
  }
  const file = path.join(dir, 'cdk.tf.json');
  let config;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UnusableInputError(`${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return [...found, ...findings(config)];
}

class UnusableInputError extends Error {}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {unknown[]}
 */
function asArray(value) {
  return Array.isArray(value) ? value : [value];
}

/**
 * The `${…}` and `%{…}` sequences OpenTofu evaluates in a JSON string: everything else is literal
 * text, such as the shell and Lua in user_data, where `$${` and `%%{` are the escaped forms.
 * @param {string} text
 * @returns {string[]}
 */
function templateExpressions(text) {
  /** @type {string[]} */
  const expressions = [];
  for (let i = 0; i < text.length - 1; i++) {
    const pair = text.slice(i, i + 2);
    if (pair === '$$' || pair === '%%') {
      if (text[i + 2] === '{') i += 2;
      continue;
    }
    if (pair !== '${' && pair !== '%{') continue;
    let depth = 0;
    let quoted = false;
    let end = i + 1;
    for (; end < text.length; end++) {
      const c = text[end];
      if (quoted) {
        if (c === '\\') end++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    expressions.push(text.slice(i + 2, end));
    i = end;
  }
  return expressions;
}

/**
 * Calls `visit` with every string in `value` (keys included) and where it is.
 * @param {unknown} value
 * @param {string} where
 * @param {(where: string, text: string) => void} visit
 */
function walkStrings(value, where, visit) {
  if (typeof value === 'string') visit(where || '(top)', value);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, `${where}[${i}]`, visit));
  else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      const at = where ? `${where}.${key}` : key;
      visit(at, key);
      walkStrings(v, at, visit);
    }
  }
}

function main() {
  const dir = process.argv[2];
  if (!dir || process.argv.length > 3) {
    process.stderr.write('usage: node plan-guard.js <stack directory holding cdk.tf.json>\n');
    return 2;
  }
  let found;
  try {
    found = checkStackDirectory(dir);
  } catch (error) {
    if (!(error instanceof UnusableInputError) && !(error instanceof Error && 'code' in error)) throw error;
    process.stderr.write(`plan-guard: cannot read the stack: ${error.message}\n`);
    return 2;
  }
  if (found.length === 0) {
    process.stdout.write(`plan-guard: ${path.join(dir, 'cdk.tf.json')} holds only digitalocean resources; nothing in it runs code or reads files of this machine.\n`);
    return 0;
  }
  const annotate = process.env.GITHUB_ACTIONS === 'true';
  process.stderr.write(`plan-guard: refusing ${path.join(dir, 'cdk.tf.json')} (${found.length} finding${found.length === 1 ? '' : 's'}); nothing was planned:\n`);
  for (const finding of found) process.stderr.write(annotate ? `::error title=Refused by plan-guard::${finding.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n` : `  - ${finding}\n`);
  return 1;
}

module.exports = { findings, checkStackDirectory, templateExpressions, FILE_FUNCTIONS };

if (require.main === module) process.exitCode = main();
