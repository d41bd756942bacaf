/** `web`, `registration` and `federation`: switches and choices without further settings. */
import { DEFAULTS } from '../defaults';
import { checkBoolean, checkOneOf, checkWebClientTransports } from '../rules';
import { REGISTRATION_POLICIES, ResolvedSpec, XmppServiceSpec } from '../spec';
import { IssueCollector } from './collector';

export function resolveWeb(declared: XmppServiceSpec['web'], c: IssueCollector): ResolvedSpec['web'] {
  const web = { bosh: declared?.bosh ?? DEFAULTS.web.bosh, websocket: declared?.websocket ?? DEFAULTS.web.websocket, client: declared?.client ?? DEFAULTS.web.client };
  c.check('web.bosh', web.bosh, checkBoolean(web.bosh));
  c.check('web.websocket', web.websocket, checkBoolean(web.websocket));
  c.check('web.client', web.client, checkBoolean(web.client) ?? checkWebClientTransports(web.client, web.websocket, web.bosh));
  return web;
}

export function resolveRegistration(declared: XmppServiceSpec['registration'], c: IssueCollector): ResolvedSpec['registration'] {
  const registration = declared ?? DEFAULTS.service.registration;
  c.check('registration', registration, checkOneOf(registration, REGISTRATION_POLICIES));
  return registration;
}

export function resolveFederation(declared: XmppServiceSpec['federation'], c: IssueCollector): ResolvedSpec['federation'] {
  const federation = { enabled: declared?.enabled ?? DEFAULTS.federation.enabled, directTls: declared?.directTls ?? DEFAULTS.federation.directTls };
  c.check('federation.enabled', federation.enabled, checkBoolean(federation.enabled));
  c.check('federation.directTls', federation.directTls, checkBoolean(federation.directTls));
  if (!federation.enabled && federation.directTls) {
    c.check('federation.directTls', true, { problem: 'server direct TLS needs federation', fix: 'set federation.enabled to true, or directTls to false' });
  }
  return federation;
}
