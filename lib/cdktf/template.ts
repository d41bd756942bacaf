/**
 * Terraform reads every string in its JSON configuration as a template: `${…}` interpolates and
 * `%{…}` is a directive. Text that must reach the droplet verbatim (shell scripts full of
 * `${var:-default}`) is therefore escaped before it goes into the JSON. OpenTofu reads it the same way.
 */

/** `text` as a Terraform template literal that evaluates back to exactly `text`. */
export function escapeTemplateLiteral(text: string): string {
  // A replacer function, because in a replacement string `$$` itself means `$`.
  return text.replace(/([$%])\{/g, (sequence: string, sigil: string) => sigil + sequence);
}
