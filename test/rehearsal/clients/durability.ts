/**
 * Scenarios for durability: leave a trace of everything a user keeps on the server (roster, a
 * message in the archive, a persistent group chat with its history, an uploaded file), and read
 * it all back later, possibly from a replacement droplet or a restored backup.
 */
import { createHash } from 'crypto';
import { httpRequest } from './media-http';
import type { Scenario } from './scenarios';
import { Account, connect, disconnect, Element, iq, nextStanza, xml, XmppClient } from './xmpp';

const NS_ROSTER = 'jabber:iq:roster';
const NS_MAM = 'urn:xmpp:mam:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_DATA = 'jabber:x:data';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_RSM = 'http://jabber.org/protocol/rsm';

const domainOf = (jid: string): string => jid.split('@')[1];

/**
 * Every archived message body (MAM) of `to` (default: the account's own archive), filtered by `with`:
 * the first page (Prosody's default size), or with `all` every page, 100 at a time.
 */
async function archivedBodies(xmpp: XmppClient, options: { to?: string; with?: string; all?: boolean } = {}): Promise<string[]> {
  if (options.all) {
    const bodies: string[] = [];
    let after: string | undefined;
    // At most 100 pages: a test's archive is never that long, and a paging fault must not loop.
    for (let page = 0; page < 100; page++) {
      const { bodies: found, fin } = await archivePage(xmpp, options, after);
      bodies.push(...found);
      after = fin?.getChild('set', NS_RSM)?.getChildText('last') ?? undefined;
      if (fin?.attrs.complete === 'true' || after === undefined) break;
    }
    return bodies;
  }
  return (await archivePage(xmpp, options)).bodies;
}

/** One page of an archive query: with `after`, 100 results after that ID; without, the server's first page. */
async function archivePage(xmpp: XmppClient, options: { to?: string; with?: string; all?: boolean }, after?: string): Promise<{ bodies: string[]; fin?: Element }> {
  const queryid = `q${Math.random().toString(36).slice(2, 10)}`;
  const bodies: string[] = [];
  const listener = (stanza: Element) => {
    const result = stanza.is('message') ? stanza.getChild('result', NS_MAM) : undefined;
    if (result?.attrs.queryid !== queryid) return;
    const body = result.getChild('forwarded', NS_FORWARD)?.getChild('message')?.getChildText('body');
    if (body) bodies.push(body);
  };
  xmpp.on('stanza', listener);
  try {
    const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM))];
    if (options.with) fields.push(xml('field', { var: 'with' }, xml('value', {}, options.with)));
    const paging = options.all ? [xml('set', { xmlns: NS_RSM }, xml('max', {}, '100'), ...(after !== undefined ? [xml('after', {}, after)] : []))] : [];
    const answer = await iq(xmpp, xml('iq', { type: 'set', to: options.to }, xml('query', { xmlns: NS_MAM, queryid }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields), ...paging)));
    return { bodies, fin: answer.getChild('fin', NS_MAM) };
  } finally {
    xmpp.removeListener('stanza', listener);
  }
}

/** What `seedState` left, for `readState` to find later. */
export interface Seeded {
  messageBody: string;
  roomBody: string;
  room: string;
  roomName: string;
}

/** What `readState` found. */
export interface State {
  roster: { jid: string; name?: string; groups: string[] }[];
  archive: string[];
  roomFeatures: string[];
  roomName?: string;
  roomArchive: string[];
  upload?: { status: number; sha256: string };
}

async function seedState(args: { owner: Account; friend: Account; room: string }): Promise<unknown> {
  const run = Math.random().toString(36).slice(2, 8);
  const messageBody = `remember me ${run}`;
  const roomBody = `the room remembers ${run}`;
  const room = `${args.room}@conference.${domainOf(args.owner.jid)}`;
  const xmpp = await connect({ ...args.owner, resource: 'seed' });
  try {
    await iq(xmpp, xml('iq', { type: 'set' }, xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: args.friend.jid, name: 'Friend' }, xml('group', {}, 'Family')))));
    await xmpp.send(xml('presence'));
    await xmpp.send(xml('message', { type: 'chat', to: args.friend.jid, id: `m-${run}` }, xml('body', {}, messageBody)));

    const self = nextStanza(xmpp, (s) => s.is('presence') && s.attrs.from === `${room}/owner` && (s.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).some((st) => st.attrs.code === '110'));
    await xmpp.send(xml('presence', { to: `${room}/owner` }, xml('x', { xmlns: NS_MUC })));
    await self;
    // A persistent room outlives its last occupant, and so must outlive the droplet.
    await iq(xmpp, xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: NS_DATA, type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, 'http://jabber.org/protocol/muc#roomconfig')),
      xml('field', { var: 'muc#roomconfig_persistentroom' }, xml('value', {}, '1')),
      xml('field', { var: 'muc#roomconfig_roomname' }, xml('value', {}, `Family ${run}`)),
    ))));
    const echoed = nextStanza(xmpp, (s) => s.is('message') && s.attrs.type === 'groupchat' && s.getChildText('body') === roomBody);
    await xmpp.send(xml('message', { type: 'groupchat', to: room, id: `r-${run}` }, xml('body', {}, roomBody)));
    await echoed;
    await xmpp.send(xml('presence', { to: `${room}/owner`, type: 'unavailable' }));
    // A round trip, so everything above has been processed (and archived) before we leave.
    await iq(xmpp, xml('iq', { type: 'get', to: domainOf(args.owner.jid) }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    return { messageBody, roomBody, room, roomName: `Family ${run}` } satisfies Seeded;
  } finally {
    await disconnect(xmpp);
  }
}

async function readState(args: { owner: Account; friend: Account; room: string; uploadUrl?: string }): Promise<unknown> {
  const xmpp = await connect({ ...args.owner, resource: 'check' });
  try {
    const roster = (await iq(xmpp, xml('iq', { type: 'get' }, xml('query', { xmlns: NS_ROSTER })))).getChild('query', NS_ROSTER)!;
    const items = roster.getChildren('item').map((i) => ({ jid: String(i.attrs.jid), name: i.attrs.name, groups: i.getChildren('group').map((g) => g.getText()) }));
    const archive = await archivedBodies(xmpp, { with: args.friend.jid });
    const info = (await iq(xmpp, xml('iq', { type: 'get', to: args.room }, xml('query', { xmlns: NS_DISCO_INFO })))).getChild('query', NS_DISCO_INFO)!;
    const roomFeatures = info.getChildren('feature').map((f) => String(f.attrs.var));
    const roomName = info.getChildren('identity').map((i) => i.attrs.name)[0];
    const roomArchive = await archivedBodies(xmpp, { to: args.room });
    let upload: { status: number; sha256: string } | undefined;
    if (args.uploadUrl) {
      const answer = await httpRequest({ url: args.uploadUrl }, true);
      upload = { status: answer.status, sha256: createHash('sha256').update(Buffer.from(answer.body, 'base64')).digest('hex') };
    }
    return { roster: items, archive, roomFeatures, roomName, roomArchive, upload } satisfies State;
  } finally {
    await disconnect(xmpp);
  }
}

/** The first 40 characters of every message body in `owner`'s archive with `with`, page by page, oldest first. */
async function wholeArchive(args: { owner: Account; with: string }): Promise<unknown> {
  const xmpp = await connect({ ...args.owner, resource: 'archive' });
  try {
    // Heads only: an archive of long messages would not fit in the one result line.
    return { bodies: (await archivedBodies(xmpp, { with: args.with, all: true })).map((body) => body.slice(0, 40)) };
  } finally {
    await disconnect(xmpp);
  }
}

export const durabilityScenarios: { [name: string]: Scenario } = { seedState, readState, wholeArchive };
