/**
 * What every check needs from the network: names resolved through one resolver (the system's, or
 * the one given with --resolver, so a check can ask an authoritative server before caches expire),
 * and TCP connections with a deadline.
 */
import { promises as dns } from 'dns';
import * as net from 'net';

export interface DoctorContext {
  readonly resolver: dns.Resolver;
  /** PEM certificates trusted besides the system's roots (--ca-file). */
  readonly extraCa: readonly string[];
  /** Per network operation. */
  readonly timeoutMs: number;
  /** A certificate expiring within this many days fails (Let's Encrypt renews 30 days before expiry). */
  readonly minValidDays: number;
  readonly now: () => Date;
  /** Runs a network operation when one of the limited slots is free (see `concurrencyLimit`). */
  readonly limit: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * At most `max` operations at a time, started in the order asked. A thousand domains are some
 * twenty thousand connections: all at once would run out of file descriptors here and look like
 * an attack there; and a deadline must time the operation, not its wait for a slot.
 */
export function concurrencyLimit(max: number): <T>(work: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(max) || max < 1) throw new Error(`concurrencyLimit: ${max} is not a positive integer`);
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

export interface Addresses {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
}

const addressCache = new WeakMap<DoctorContext, Map<string, Promise<Addresses>>>();

/** A and AAAA of `name` (CNAMEs followed), empty where the name has none. */
export function addressesOf(ctx: DoctorContext, name: string): Promise<Addresses> {
  const cache = addressCache.get(ctx) ?? new Map<string, Promise<Addresses>>();
  addressCache.set(ctx, cache);
  let found = cache.get(name);
  if (!found) {
    found = Promise.all([lookup(ctx, () => ctx.resolver.resolve4(name)), lookup(ctx, () => ctx.resolver.resolve6(name))]).then(([v4, v6]) => ({ v4, v6 }));
    cache.set(name, found);
  }
  return found;
}

/**
 * Every address of `name`, IPv4 first, or why there is none: the checks report that against the
 * name and point at the DNS checks, which say what is wrong with the records.
 */
export async function allAddresses(ctx: DoctorContext, name: string): Promise<string[] | { problem: string }> {
  try {
    const found = await addressesOf(ctx, name);
    const all = [...found.v4, ...found.v6];
    return all.length > 0 ? all : { problem: `${name} has no address` };
  } catch (error) {
    return { problem: `${name} does not resolve: ${message(error)}` };
  }
}

/** Answers of a query; empty for "no such name/record", rethrowing real failures (timeouts, refusals). */
export async function lookup<T>(ctx: DoctorContext, query: () => Promise<T[]>): Promise<T[]> {
  try {
    return await withDeadline(query(), ctx.timeoutMs, 'DNS query');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw error;
  }
}

export type TcpOutcome = 'open' | 'refused' | 'timeout' | 'unreachable';

/** Whether something accepts a TCP connection on address:port; the connection is closed at once. */
export function probeTcp(address: string, port: number, timeoutMs: number): Promise<TcpOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (outcome: TcpOutcome): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => done('open'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'unreachable'));
  });
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEOUT' })), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** `address` as it goes in "address:port" text. */
export function hostPort(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** An Error's message, or the value as text. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
