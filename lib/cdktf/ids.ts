/** Construct IDs are API: derived from stable names only, never from positions or hashes. */

/** A Terraform output name: letters, digits, underscores and hyphens, starting with a letter. */
export function outputName(prefix: string, name: string): string {
  const clean = `${prefix}_${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z]/.test(clean) ? clean : `x${clean}`;
}
