/**
 * Peer addresses for probing a running coturn's deny list (the rehearsal, the real-coturn tests).
 */
import * as ipaddr from 'ipaddr.js';
import { DENIED_PEER_CIDRS } from '../../lib/core/turn';

/**
 * One address inside every block of DENIED_PEER_CIDRS that a TURN client could ask the relay to
 * reach: the block's second address (its only one for a /32 or /128), so never the all-zero
 * address, which coturn refuses before it reads the list. A few are refused by coturn itself too
 * (0.0.0.0/8 and, without allow-loopback-peers, loopback; multicast with no-multicast-peers), so
 * a 403 for those does not prove the list; their log line does ("denied in the range").
 *
 * IPv6 is in RFC 5952 form, IPv4-mapped addresses as ::ffff:a.b.c.d, IPv4-compatible ones in hex
 * (::1:1, not ::0.1.0.1 as coturn logs it): ipaddr.js reads the dotted form as IPv4-mapped.
 */
export function probeAddressesForDeniedBlocks(): { cidr: string; address: string }[] {
  return DENIED_PEER_CIDRS.map(({ cidr, range }) => {
    const [first, last] = range.split('-');
    const bytes = ipaddr.parse(first).toByteArray();
    // A CIDR block of two or more addresses starts on an even address, so this never carries.
    if (first !== last) bytes[bytes.length - 1] += 1;
    const address = ipaddr.fromByteArray(bytes);
    if (address.kind() === 'ipv4') return { cidr, address: address.toString() };
    const v6 = address as ipaddr.IPv6;
    return { cidr, address: v6.isIPv4MappedAddress() ? `::ffff:${v6.toIPv4Address().toString()}` : v6.toRFC5952String() };
  });
}
