/**
 * A small STUN/TURN client (RFC 5389, RFC 5766) for `xmpp-doctor`: it checks a coturn server from
 * outside the way a browser would use it for a call, so that "calls connect only on the same
 * network" can be traced to its cause (nothing answers on UDP, or the TURN shared secret that
 * Prosody hands out in XEP-0215 credentials does not match coturn's). Dependency-free on purpose:
 * the doctor runs on an operator's laptop, and the wire format is small enough to own.
 *
 * UDP only: it is what WebRTC tries first and what the firewall plan opens for TURN.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import * as zlib from 'node:zlib';

/** One attribute as it is on the wire, without its padding. */
export interface StunAttribute {
  readonly type: number;
  readonly value: Buffer;
}

/** A STUN message: `type` holds method and class together, as on the wire (e.g. 0x0113). */
export interface StunMessage {
  readonly type: number;
  /** 12 bytes; the magic cookie is not part of it. */
  readonly transactionId: Buffer;
  readonly attributes: readonly StunAttribute[];
}

/** Message types and attribute types this client sends or reads. */
export const STUN = {
  BINDING_REQUEST: 0x0001,
  BINDING_SUCCESS: 0x0101,
  BINDING_ERROR: 0x0111,
  ALLOCATE_REQUEST: 0x0003,
  ALLOCATE_SUCCESS: 0x0103,
  ALLOCATE_ERROR: 0x0113,
  REFRESH_REQUEST: 0x0004,
  REFRESH_SUCCESS: 0x0104,
  REFRESH_ERROR: 0x0114,

  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  LIFETIME: 0x000d,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
  XOR_MAPPED_ADDRESS: 0x0020,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
} as const;

const MAGIC_COOKIE = 0x2112a442;
const HEADER_LENGTH = 20;
const INTEGRITY_LENGTH = 20;
const FINGERPRINT_XOR = 0x5354554e;
/** UDP, the only transport a WebRTC client asks a TURN server to relay over (RFC 5766 14.7). */
const PROTOCOL_UDP = 17;
/** Lets an operator tell the doctor's checks apart from real clients in coturn's log. */
const SOFTWARE = 'xmpp-doctor';
const DEFAULT_TIMEOUT_MS = 5000;
/** RFC 5389 7.2.1 defaults: initial RTO, number of requests (Rc) and the wait after the last (Rm). */
const INITIAL_RTO_MS = 500;
const MAX_REQUESTS = 7;
const LAST_WAIT_FACTOR = 16;
/** Releasing an allocation is best effort, but is given this much even if the check used its budget. */
const MIN_RELEASE_BUDGET_MS = 1000;

// ---------------------------------------------------------------------------------------------
// Wire format

/**
 * Encode; when `integrityKey` is given, append MESSAGE-INTEGRITY (HMAC-SHA1 over the message with
 * the length field adjusted as RFC 5389 15.4 says); when `fingerprint`, append FINGERPRINT (CRC-32
 * xor 0x5354554e). Attribute values are padded with zeros to a multiple of 4 bytes.
 *
 * @throws RangeError when the type, the transaction ID or an attribute cannot be put on the wire.
 */
export function encodeStunMessage(message: StunMessage, options: { integrityKey?: Buffer; fingerprint?: boolean } = {}): Buffer {
  if (!Number.isInteger(message.type) || message.type < 0 || message.type > 0x3fff) {
    // The two top bits tell STUN from other protocols multiplexed on the same port (RFC 5389 6).
    throw new RangeError(`STUN message type 0x${message.type.toString(16)} does not fit in 14 bits`);
  }
  if (message.transactionId.length !== 12) {
    throw new RangeError(`a STUN transaction ID is 12 bytes, got ${message.transactionId.length}`);
  }
  const parts: Buffer[] = [Buffer.alloc(HEADER_LENGTH)];
  for (const attribute of message.attributes) parts.push(encodeAttribute(attribute.type, attribute.value));
  let data = Buffer.concat(parts);
  writeHeader(data, message.type, data.length - HEADER_LENGTH, message.transactionId);

  if (options.integrityKey) {
    const hmac = integrityOver(data, data.length, options.integrityKey);
    data = Buffer.concat([data, encodeAttribute(STUN.MESSAGE_INTEGRITY, hmac)]);
    data.writeUInt16BE(data.length - HEADER_LENGTH, 2);
  }
  if (options.fingerprint) {
    data = Buffer.concat([data, encodeAttribute(STUN.FINGERPRINT, fingerprintOver(data, data.length))]);
    data.writeUInt16BE(data.length - HEADER_LENGTH, 2);
  }
  return data;
}

/**
 * Decode; throws a clear Error on malformed input (short, bad magic cookie, attribute overruns).
 * A UDP datagram carries exactly one message, so a length field that disagrees with the datagram's
 * size is an error too: it means a truncated datagram or a peer that does not speak STUN.
 */
export function decodeStunMessage(data: Buffer): StunMessage {
  const { type, transactionId, attributes } = parse(data);
  return { type, transactionId, attributes: attributes.map(({ type: t, value }) => ({ type: t, value })) };
}

/**
 * Verify MESSAGE-INTEGRITY of a received message with `key`; false when absent or wrong (and
 * when the message is malformed: a check that cannot be made has not passed). Attributes after
 * MESSAGE-INTEGRITY, such as FINGERPRINT, are left out of the HMAC as RFC 5389 15.4 says.
 */
export function verifyMessageIntegrity(data: Buffer, key: Buffer): boolean {
  const parsed = tryParse(data);
  const attribute = parsed?.attributes.find((a) => a.type === STUN.MESSAGE_INTEGRITY);
  if (!attribute || attribute.value.length !== INTEGRITY_LENGTH) return false;
  return timingSafeEqual(integrityOver(data, attribute.offset, key), attribute.value);
}

/** Verify FINGERPRINT; false when absent or wrong, or when it is not the last attribute. */
export function verifyFingerprint(data: Buffer): boolean {
  const parsed = tryParse(data);
  const last = parsed?.attributes[parsed.attributes.length - 1];
  if (!last || last.type !== STUN.FINGERPRINT || last.value.length !== 4) return false;
  return fingerprintOver(data, last.offset).equals(last.value);
}

/**
 * The long-term credential key: MD5(username ":" realm ":" password) (RFC 5389 15.4).
 * SASLprep is not applied: XEP-0215 REST credentials are ASCII ("expiry:user" and base64), for
 * which it changes nothing; callers with other strings pass them already prepared.
 */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`, 'utf8').digest();
}

/**
 * Decode XOR-MAPPED-ADDRESS / XOR-RELAYED-ADDRESS (IPv4 and IPv6) to { address, port } with the
 * address in canonical text form (RFC 5952 for IPv6, as inet_ntop and Node's sockets print it).
 *
 * @throws Error on an unknown address family or a value of the wrong length.
 */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): { address: string; port: number } {
  if (transactionId.length !== 12) throw new Error(`a STUN transaction ID is 12 bytes, got ${transactionId.length}`);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4);
  const { family, port, raw } = splitAddress(value, 'XOR address');
  const address = Buffer.alloc(raw.length);
  for (let i = 0; i < raw.length; i++) address[i] = raw[i] ^ mask[i];
  return { address: formatAddress(family, address), port: port ^ (MAGIC_COOKIE >>> 16) };
}

/**
 * ERROR-CODE to { code, reason }.
 *
 * @throws Error when the value is shorter than its 4 fixed bytes or the code is outside 300-699.
 */
export function decodeErrorCode(value: Buffer): { code: number; reason: string } {
  if (value.length < 4) throw new Error(`ERROR-CODE is at least 4 bytes, got ${value.length}`);
  const errorClass = value[2] & 0x07;
  const number = value[3];
  if (errorClass < 3 || errorClass > 6 || number > 99) {
    throw new Error(`ERROR-CODE holds class ${errorClass} number ${number}, not a code from 300 to 699`);
  }
  // coturn 4.6 counts a C string's terminating NUL into some reasons ("Stale nonce\0").
  return { code: errorClass * 100 + number, reason: value.subarray(4).toString('utf8').replace(/\0+$/, '') };
}

interface ParsedAttribute extends StunAttribute {
  /** Where the attribute's header starts, for the HMAC and CRC, which cover what precedes it. */
  readonly offset: number;
}

interface ParsedMessage {
  readonly type: number;
  readonly transactionId: Buffer;
  readonly attributes: readonly ParsedAttribute[];
}

function parse(data: Buffer): ParsedMessage {
  if (data.length < HEADER_LENGTH) {
    throw new Error(`not a STUN message: ${data.length} bytes, shorter than the 20-byte header`);
  }
  const type = data.readUInt16BE(0);
  if (type & 0xc000) throw new Error(`not a STUN message: the first two bits of the type 0x${hex16(type)} are not zero`);
  const cookie = data.readUInt32BE(4);
  if (cookie !== MAGIC_COOKIE) {
    throw new Error(`not a STUN message: magic cookie 0x${cookie.toString(16).padStart(8, '0')} instead of 0x2112a442`);
  }
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0) throw new Error(`malformed STUN message: length ${length} is not a multiple of 4`);
  if (HEADER_LENGTH + length !== data.length) {
    throw new Error(`malformed STUN message: the header announces ${length} bytes of attributes, ${data.length - HEADER_LENGTH} arrived`);
  }
  const attributes: ParsedAttribute[] = [];
  let offset = HEADER_LENGTH;
  while (offset < data.length) {
    if (offset + 4 > data.length) throw new Error(`malformed STUN message: attribute header at byte ${offset} overruns the message`);
    const attributeType = data.readUInt16BE(offset);
    const valueLength = data.readUInt16BE(offset + 2);
    const end = offset + 4 + valueLength;
    if (end > data.length) {
      throw new Error(
        `malformed STUN message: attribute 0x${hex16(attributeType)} at byte ${offset} announces ${valueLength} bytes, ${data.length - offset - 4} remain`,
      );
    }
    attributes.push({ type: attributeType, value: Buffer.from(data.subarray(offset + 4, end)), offset });
    offset = end + padding(valueLength);
  }
  // A last attribute's padding cannot overrun: the length is a multiple of 4, so it ends in the message.
  return { type, transactionId: Buffer.from(data.subarray(8, HEADER_LENGTH)), attributes };
}

function tryParse(data: Buffer): ParsedMessage | undefined {
  try {
    return parse(data);
  } catch {
    return undefined;
  }
}

function writeHeader(data: Buffer, type: number, length: number, transactionId: Buffer): void {
  data.writeUInt16BE(type, 0);
  data.writeUInt16BE(length, 2);
  data.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(data, 8);
}

function encodeAttribute(type: number, value: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) throw new RangeError(`attribute type ${type} does not fit in 16 bits`);
  if (value.length > 0xffff) throw new RangeError(`attribute 0x${hex16(type)} is ${value.length} bytes, more than 65535`);
  const out = Buffer.alloc(4 + value.length + padding(value.length));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/**
 * HMAC-SHA1 over `data[0, end)` as if MESSAGE-INTEGRITY started at `end` and were the last
 * attribute: the length field must count it (RFC 5389 15.4), whatever the message says.
 */
function integrityOver(data: Buffer, end: number, key: Buffer): Buffer {
  const covered = Buffer.from(data.subarray(0, end));
  covered.writeUInt16BE(end - HEADER_LENGTH + 4 + INTEGRITY_LENGTH, 2);
  return createHmac('sha1', key).update(covered).digest();
}

/** CRC-32 over `data[0, end)` with the length field counting a FINGERPRINT at `end` (RFC 5389 15.5). */
function fingerprintOver(data: Buffer, end: number): Buffer {
  const covered = Buffer.from(data.subarray(0, end));
  covered.writeUInt16BE(end - HEADER_LENGTH + 8, 2);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc32(covered) ^ FINGERPRINT_XOR) >>> 0, 0);
  return out;
}

function padding(length: number): number {
  return (4 - (length % 4)) % 4;
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** zlib.crc32 exists from Node 20.15 / 22.2 on; `engines` allows older Node 20, which need the table. */
const nativeCrc32: ((data: Buffer) => number) | undefined = typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : undefined;

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320), the one FINGERPRINT uses. */
function crc32(data: Buffer): number {
  if (nativeCrc32) return nativeCrc32(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** MAPPED-ADDRESS and the XOR variants share a layout: reserved, family, port, address. */
function splitAddress(value: Buffer, what: string): { family: 4 | 6; port: number; raw: Buffer } {
  if (value.length < 4) throw new Error(`${what} is at least 4 bytes, got ${value.length}`);
  const familyCode = value[1];
  const family = familyCode === 0x01 ? 4 : familyCode === 0x02 ? 6 : undefined;
  if (!family) throw new Error(`${what} has unknown address family 0x${familyCode.toString(16).padStart(2, '0')}`);
  const expected = family === 4 ? 8 : 20;
  if (value.length !== expected) throw new Error(`${what} of an IPv${family} address is ${expected} bytes, got ${value.length}`);
  return { family, port: value.readUInt16BE(2), raw: value.subarray(4) };
}

function decodePlainAddress(value: Buffer): { address: string; port: number } {
  const { family, port, raw } = splitAddress(value, 'MAPPED-ADDRESS');
  return { address: formatAddress(family, raw), port };
}

/** Canonical text (RFC 5952), so results compare equal to what Node reports for a socket. */
function formatAddress(family: 4 | 6, bytes: Buffer): string {
  if (family === 4) return Array.from(bytes).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  }
  // The longest run of two or more zero groups becomes "::"; the first one wins a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart < 0) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLength).join(':')}`;
}

// ---------------------------------------------------------------------------------------------
// Transactions over UDP

interface Target {
  readonly address: string;
  readonly family: 4 | 6;
}

async function resolveTarget(host: string, family: 4 | 6 | undefined): Promise<Target> {
  // A bracketed literal is how IPv6 addresses appear in URLs and in XEP-0215 `host` values.
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const literal = isIP(bare);
  if (literal === 4 || literal === 6) {
    if (family && family !== literal) throw new Error(`${host} is an IPv${literal} address, but IPv${family} was asked for`);
    return { address: bare, family: literal };
  }
  try {
    const found = await lookup(bare, { family: family ?? 0 });
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    throw new Error(`cannot resolve ${host}${family ? ` to an IPv${family} address` : ''}: ${(error as Error).message}`);
  }
}

function describeTarget(host: string, port: number, target: Target): string {
  const shown = target.family === 6 ? `[${target.address}]:${port}` : `${target.address}:${port}`;
  return host === target.address || host === `[${target.address}]` ? shown : `${host} (${shown})`;
}

type Exchange =
  | { readonly kind: 'response'; readonly message: StunMessage; readonly raw: Buffer }
  | { readonly kind: 'timeout'; readonly sent: number }
  | { readonly kind: 'error'; readonly error: Error };

/**
 * A UDP socket connected to one server. Connecting, rather than sending to an address, makes the
 * kernel drop datagrams from anyone else and report an ICMP port unreachable as ECONNREFUSED,
 * which tells "nothing listens there" apart from "a firewall drops it" in the doctor's report.
 * Connecting binds an ephemeral local port; one socket per check keeps TURN's 5-tuple (RFC 5766
 * 2.2) to ourselves, so coturn never answers 437 Allocation Mismatch for an earlier check.
 */
class Transport {
  private constructor(
    private readonly socket: dgram.Socket,
    private readonly target: Target,
  ) {}

  static async open(target: Target, port: number): Promise<Transport> {
    const socket = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    // An ICMP error can arrive between two exchanges; unheard, it would crash the doctor.
    socket.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(port, target.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      socket.close();
      throw error;
    }
    return new Transport(socket, target);
  }

  /**
   * Sends `request` and retransmits it per RFC 5389 7.2.1 (RTO 500 ms, doubling, at most 7
   * requests, then 16 RTO for the last), giving up at `deadline` whatever the schedule says.
   * Datagrams that are not a STUN response to this transaction are ignored, as the RFC says.
   */
  exchange(request: Buffer, transactionId: Buffer, deadline: number): Promise<Exchange> {
    const socket = this.socket;
    return new Promise<Exchange>((resolve) => {
      let sent = 0;
      let rto = INITIAL_RTO_MS;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (outcome: Exchange): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        socket.off('message', onMessage);
        socket.off('error', onError);
        resolve(outcome);
      };
      const onMessage = (raw: Buffer): void => {
        const message = tryDecode(raw);
        if (message && message.transactionId.equals(transactionId) && isResponse(message.type)) {
          finish({ kind: 'response', message, raw });
        }
      };
      const onError = (error: Error): void => finish({ kind: 'error', error });
      const send = (): void => {
        if (done) return;
        sent++;
        socket.send(request, (error) => {
          if (error) finish({ kind: 'error', error });
        });
        const wait = sent < MAX_REQUESTS ? rto : LAST_WAIT_FACTOR * INITIAL_RTO_MS;
        rto *= 2;
        const now = Date.now();
        const last = sent >= MAX_REQUESTS || now + wait >= deadline;
        timer = setTimeout(last ? () => finish({ kind: 'timeout', sent }) : send, Math.max(0, Math.min(now + wait, deadline) - now));
      };
      socket.on('message', onMessage);
      socket.on('error', onError);
      if (Date.now() >= deadline) finish({ kind: 'timeout', sent });
      else send();
    });
  }

  describe(host: string, port: number): string {
    return describeTarget(host, port, this.target);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // Already closed after an error: nothing is left to release.
    }
  }
}

function tryDecode(raw: Buffer): StunMessage | undefined {
  try {
    return decodeStunMessage(raw);
  } catch {
    return undefined;
  }
}

/** Class bits C1 C0 (0x0100, 0x0010): 10 is a success response, 11 an error response. */
function isResponse(type: number): boolean {
  return (type & 0x0100) !== 0;
}

function attribute(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

function errorOf(message: StunMessage): { code?: number; reason: string } {
  const value = attribute(message, STUN.ERROR_CODE);
  if (!value) return { reason: 'an error response without ERROR-CODE' };
  try {
    return decodeErrorCode(value);
  } catch (error) {
    return { reason: (error as Error).message };
  }
}

function describeError(error: Error, where: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `${where} refused the datagram (ICMP port unreachable): nothing listens on that UDP port`;
  return `sending to ${where} failed: ${error.message}`;
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// STUN Binding

/**
 * One STUN Binding request over UDP to host:port; resolves with the reflexive address, rejects
 * with a clear Error on timeout (retransmit per RFC 5389 7.2.1: RTO 500 ms doubling, but cap the
 * total at `timeoutMs`, 5000 by default). `host` is an IPv4 or IPv6 literal or a name, resolved
 * with `family` when given. Servers that answer only MAPPED-ADDRESS (RFC 3489) are understood too.
 */
export async function stunBinding(
  host: string,
  port: number,
  options: { timeoutMs?: number; family?: 4 | 6 } = {},
): Promise<{ address: string; port: number }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const target = await resolveTarget(host, options.family);
  const transport = await Transport.open(target, port);
  const where = transport.describe(host, port);
  try {
    const transactionId = randomBytes(12);
    const request = encodeStunMessage({
      type: STUN.BINDING_REQUEST,
      transactionId,
      attributes: [{ type: STUN.SOFTWARE, value: text(SOFTWARE) }],
    });
    const outcome = await transport.exchange(request, transactionId, deadline);
    if (outcome.kind === 'timeout') {
      throw new Error(`no STUN Binding response from ${where} within ${timeoutMs} ms (${outcome.sent} requests sent)`);
    }
    if (outcome.kind === 'error') throw new Error(`STUN Binding: ${describeError(outcome.error, where)}`);
    const { message } = outcome;
    if (message.type !== STUN.BINDING_SUCCESS) {
      const { code, reason } = errorOf(message);
      throw new Error(`STUN Binding to ${where} failed: ${code ?? `type 0x${hex16(message.type)}`} ${reason}`);
    }
    const xor = attribute(message, STUN.XOR_MAPPED_ADDRESS);
    if (xor) return decodeXorAddress(xor, transactionId);
    const plain = attribute(message, STUN.MAPPED_ADDRESS);
    if (plain) return decodePlainAddress(plain);
    throw new Error(`STUN Binding response from ${where} carries no XOR-MAPPED-ADDRESS nor MAPPED-ADDRESS`);
  } finally {
    transport.close();
  }
}

// ---------------------------------------------------------------------------------------------
// TURN Allocate

/** What a TURN Allocate check found; `reason` is a sentence for the doctor's report. */
export type TurnAllocateResult =
  | {
      readonly ok: true;
      readonly relayed: { address: string; port: number };
      readonly mapped?: { address: string; port: number };
      readonly lifetimeSeconds?: number;
      readonly realm: string;
    }
  | {
      readonly ok: false;
      readonly stage: 'unreachable' | 'challenge' | 'authenticate';
      readonly code?: number;
      readonly reason: string;
    };

/**
 * A TURN Allocate over UDP with long-term credentials, as a WebRTC client does with the credentials
 * from XEP-0215 (time-limited REST credentials: username "expiry:user", password base64 HMAC): first an
 * unauthenticated Allocate (expects 401 with REALM and NONCE), then the authenticated one (handles one
 * 438 Stale Nonce retry), REQUESTED-TRANSPORT UDP (17). On success it releases the allocation at once
 * (Refresh with LIFETIME 0, authenticated), so the check leaves nothing behind. Never throws for
 * protocol outcomes: a 401 on the authenticated request is { ok: false, stage: 'authenticate', code: 401 } (this is what a shared-secret mismatch between Prosody and coturn looks like).
 *
 * Stages: 'unreachable' when no answer came at all (or the name does not resolve, or the port is
 * closed); 'challenge' when the first answer is not the expected 401 challenge, including a server
 * that allocates without credentials (an open relay, released at once and reported as a failure);
 * 'authenticate' for everything after the challenge. `timeoutMs` (5000 by default) bounds the whole
 * check, not each request; the release gets at least a second more, and its outcome does not
 * change the result (an unreleased allocation expires by itself after its lifetime).
 */
export async function turnAllocate(
  host: string,
  port: number,
  credentials: { username: string; password: string },
  options: { timeoutMs?: number; family?: 4 | 6 } = {},
): Promise<TurnAllocateResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let target: Target;
  let transport: Transport;
  try {
    target = await resolveTarget(host, options.family);
    transport = await Transport.open(target, port);
  } catch (error) {
    return { ok: false, stage: 'unreachable', reason: (error as Error).message };
  }
  const where = transport.describe(host, port);
  const send = (type: number, attributes: StunAttribute[], key?: Buffer) => {
    const transactionId = randomBytes(12);
    const request = encodeStunMessage({ type, transactionId, attributes }, { integrityKey: key });
    return transport.exchange(request, transactionId, deadline);
  };
  const allocateAttributes: StunAttribute[] = [
    // Protocol number, then 3 reserved bytes (RFC 5766 14.7).
    { type: STUN.REQUESTED_TRANSPORT, value: Buffer.from([PROTOCOL_UDP, 0, 0, 0]) },
    { type: STUN.SOFTWARE, value: text(SOFTWARE) },
  ];

  try {
    const challenge = await send(STUN.ALLOCATE_REQUEST, allocateAttributes);
    if (challenge.kind === 'timeout') {
      return { ok: false, stage: 'unreachable', reason: `no answer from ${where} within ${timeoutMs} ms (${challenge.sent} Allocate requests sent)` };
    }
    if (challenge.kind === 'error') return { ok: false, stage: 'unreachable', reason: describeError(challenge.error, where) };
    if (challenge.message.type === STUN.ALLOCATE_SUCCESS) {
      await release(transport, undefined, deadline);
      return { ok: false, stage: 'challenge', reason: `${where} allocated a relay without asking for credentials: it is an open relay` };
    }
    if (challenge.message.type !== STUN.ALLOCATE_ERROR) {
      return { ok: false, stage: 'challenge', reason: `${where} answered the Allocate with message type 0x${hex16(challenge.message.type)}` };
    }
    const refused = errorOf(challenge.message);
    if (refused.code !== 401) {
      const shown = refused.code === undefined ? refused.reason : `${refused.code} ${refused.reason}`;
      return failure('challenge', `${where} answered the unauthenticated Allocate with ${shown} instead of the 401 challenge`, refused.code);
    }
    const realm = attribute(challenge.message, STUN.REALM)?.toString('utf8');
    let nonce = attribute(challenge.message, STUN.NONCE);
    if (realm === undefined || !nonce) {
      return { ok: false, stage: 'challenge', code: 401, reason: `${where} sent a 401 challenge without REALM and NONCE` };
    }
    const key = longTermKey(credentials.username, realm, credentials.password);
    const auth = { username: credentials.username, realm, key, nonce };

    for (let attempt = 0; ; attempt++) {
      const outcome = await send(STUN.ALLOCATE_REQUEST, [...allocateAttributes, ...credentialAttributes({ ...auth, nonce })], key);
      if (outcome.kind === 'timeout') {
        return { ok: false, stage: 'authenticate', reason: `no answer to the authenticated Allocate from ${where} within ${timeoutMs} ms` };
      }
      if (outcome.kind === 'error') return { ok: false, stage: 'authenticate', reason: describeError(outcome.error, where) };
      const { message, raw } = outcome;
      if (message.type === STUN.ALLOCATE_ERROR) {
        const { code, reason } = errorOf(message);
        const newNonce = attribute(message, STUN.NONCE);
        if (code === 438 && attempt === 0 && newNonce) {
          nonce = newNonce;
          continue;
        }
        const shown = code === undefined ? reason : `${code} ${reason}`;
        return failure('authenticate', `${where} refused the authenticated Allocate: ${shown}`, code);
      }
      if (message.type !== STUN.ALLOCATE_SUCCESS) {
        return { ok: false, stage: 'authenticate', reason: `${where} answered the Allocate with message type 0x${hex16(message.type)}` };
      }
      await release(transport, { ...auth, nonce }, deadline);
      // A server that accepted our HMAC and signs with another key is not the server we spoke to.
      if (attribute(message, STUN.MESSAGE_INTEGRITY) && !verifyMessageIntegrity(raw, key)) {
        return { ok: false, stage: 'authenticate', reason: `the Allocate success from ${where} fails its MESSAGE-INTEGRITY check` };
      }
      return successOf(message, realm, where);
    }
  } finally {
    transport.close();
  }
}

/** Leaves `code` out rather than undefined, so a result prints and compares as what was received. */
function failure(stage: 'challenge' | 'authenticate', reason: string, code: number | undefined): TurnAllocateResult {
  return code === undefined ? { ok: false, stage, reason } : { ok: false, stage, code, reason };
}

interface Auth {
  readonly username: string;
  readonly realm: string;
  readonly key: Buffer;
  readonly nonce: Buffer;
}

function credentialAttributes(auth: Auth): StunAttribute[] {
  return [
    { type: STUN.USERNAME, value: text(auth.username) },
    { type: STUN.REALM, value: text(auth.realm) },
    { type: STUN.NONCE, value: auth.nonce },
  ];
}

function successOf(message: StunMessage, realm: string, where: string): TurnAllocateResult {
  const relayedValue = attribute(message, STUN.XOR_RELAYED_ADDRESS);
  if (!relayedValue) return { ok: false, stage: 'authenticate', reason: `the Allocate success from ${where} carries no XOR-RELAYED-ADDRESS` };
  try {
    const relayed = decodeXorAddress(relayedValue, message.transactionId);
    const mappedValue = attribute(message, STUN.XOR_MAPPED_ADDRESS);
    const lifetime = attribute(message, STUN.LIFETIME);
    return {
      ok: true,
      relayed,
      ...(mappedValue ? { mapped: decodeXorAddress(mappedValue, message.transactionId) } : {}),
      ...(lifetime && lifetime.length === 4 ? { lifetimeSeconds: lifetime.readUInt32BE(0) } : {}),
      realm,
    };
  } catch (error) {
    return { ok: false, stage: 'authenticate', reason: `the Allocate success from ${where} is malformed: ${(error as Error).message}` };
  }
}

/**
 * Refresh with LIFETIME 0 deletes the allocation (RFC 5766 7), so a check run every few minutes
 * does not pile up relays until coturn's quotas refuse real calls. Best effort: one 438 retry,
 * and whatever happens the check's result stands.
 */
async function release(transport: Transport, auth: Auth | undefined, deadline: number): Promise<void> {
  const releaseDeadline = Math.max(deadline, Date.now() + MIN_RELEASE_BUDGET_MS);
  let nonce = auth?.nonce;
  for (let attempt = 0; attempt < 2; attempt++) {
    const transactionId = randomBytes(12);
    const attributes: StunAttribute[] = [{ type: STUN.LIFETIME, value: u32(0) }];
    if (auth && nonce) attributes.push(...credentialAttributes({ ...auth, nonce }));
    const request = encodeStunMessage({ type: STUN.REFRESH_REQUEST, transactionId, attributes }, { integrityKey: auth?.key });
    const outcome = await transport.exchange(request, transactionId, releaseDeadline);
    if (outcome.kind !== 'response' || outcome.message.type !== STUN.REFRESH_ERROR) return;
    const { code } = errorOf(outcome.message);
    const newNonce = attribute(outcome.message, STUN.NONCE);
    if (code !== 438 || !newNonce || !auth) return;
    nonce = newNonce;
  }
}
