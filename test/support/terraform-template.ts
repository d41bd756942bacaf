/**
 * What Terraform/OpenTofu make of a string in JSON configuration, per the HCL template spec:
 * `$${` and `%%{` are escapes for a literal `${` and `%{`; a bare `${…}` interpolates and a bare
 * `%{…}` is a directive. Only references `variables` holds are evaluated here: `${var.NAME}` by the
 * variable's name, any other (a resource's attribute) by its whole expression; any other
 * interpolation or directive is an error, because the text was meant to be literal.
 */
export function evaluateTemplate(text: string, variables: { readonly [name: string]: string } = {}): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i) || text.startsWith('%%{', i)) {
      out += text[i] + '{';
      i += 3;
    } else if (text.startsWith('${', i)) {
      const end = text.indexOf('}', i);
      const expression = text.slice(i + 2, end < 0 ? undefined : end);
      const ref = /^var\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expression);
      // A variable by its name, or any other reference (a resource's attribute) by its whole expression.
      const value = ref && ref[1] in variables ? variables[ref[1]] : !ref && expression in variables ? variables[expression] : undefined;
      if (end < 0 || value === undefined) {
        throw new Error(`Terraform would interpolate \${${expression}} at offset ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 40), i + 40))}`);
      }
      out += value;
      i = end + 1;
    } else if (text.startsWith('%{', i)) {
      throw new Error(`Terraform would read a template directive at offset ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 40), i + 40))}`);
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}
