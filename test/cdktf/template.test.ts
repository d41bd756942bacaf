import { escapeTemplateLiteral } from '../../lib/cdktf/template';
import { evaluateTemplate } from '../support/terraform-template';

describe('escapeTemplateLiteral', () => {
  test.each([
    ['plain text', 'listen 443 ssl;'],
    ['shell parameter expansion', 'echo "${CURRENT_STEP:-start}" "${#changed[@]}"'],
    ['a directive-like sequence', 'printf "%{http_code}"'],
    ['already-escaped-looking text', 'a $${b} %%{c} $$ %% $ %'],
    ['sequences at the very end', 'x $', ],
    ['adjacent sequences', '${${%{%{}}'],
  ])('%s reads back unchanged through Terraform\'s template evaluation', (_name, text) => {
    expect(evaluateTemplate(escapeTemplateLiteral(text))).toBe(text);
  });

  test('unescaped shell text is what Terraform would have rejected', () => {
    expect(() => evaluateTemplate('echo "${CURRENT_STEP:-start}"')).toThrow(/would interpolate \$\{CURRENT_STEP:-start\}/);
    expect(() => evaluateTemplate('curl -w "%{http_code}"')).toThrow(/template directive/);
  });

  test('a variable reference put in after escaping stays a reference', () => {
    expect(evaluateTemplate(`${escapeTemplateLiteral('s=${x} ')}\${var.turn_secret}`, { turn_secret: 'abc' })).toBe('s=${x} abc');
  });
});
