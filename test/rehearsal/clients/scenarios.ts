/**
 * Every client scenario by name. Each takes JSON arguments and returns JSON-serialisable data
 * that the jest test on the host asserts on.
 */
import { durabilityScenarios } from './durability';
import { mediaScenarios } from './media';
import { messagingScenarios } from './messaging';
import { mobileScenarios } from './mobile';
import { connect, disconnect, iq, xml } from './xmpp';

export type Scenario = (args: any) => Promise<unknown>;

/** Log in (SRV discovery unless `service` is given) and report how the session was set up. */
async function login(args: { jid: string; password: string; service?: string }): Promise<unknown> {
  const xmpp = await connect(args);
  try {
    const disco = await iq(xmpp, xml('iq', { type: 'get', to: args.jid.split('@')[1] }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = disco.getChild('query')!.getChildren('feature').map((f) => String(f.attrs.var));
    return { jid: xmpp.jid?.toString(), features };
  } finally {
    await disconnect(xmpp);
  }
}

export const scenarios: { [name: string]: Scenario } = {
  login,
  ...messagingScenarios,
  ...mediaScenarios,
  ...durabilityScenarios,
  ...mobileScenarios,
};
