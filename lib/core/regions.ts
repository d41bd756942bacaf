/**
 * What DigitalOcean offers where, as data the planners consult.
 */

/**
 * The regions where DigitalOcean offers reserved IPv6 addresses (`digitalocean_reserved_ipv6`).
 *
 * Source, read on 2 December 2026: DigitalOcean's "Reserved IP Availability" page
 * (https://docs.digitalocean.com/products/networking/reserved-ips/details/availability/) says that
 * reserved IPv6 addresses are available in all datacenters, each bound to its region. The slugs are
 * the datacenter regions `@pulumi/digitalocean` 4.80 lists (its `Region` enum, as DigitalOcean's API
 * names them). A region missing here gets the documented fallback: AAAA records follow the droplet's
 * own IPv6 with a short TTL. When DigitalOcean opens a region, add its slug here.
 */
export const RESERVED_IPV6_REGIONS: readonly string[] = [
  'ams2', 'ams3', 'blr1', 'fra1', 'lon1', 'nyc1', 'nyc2', 'nyc3', 'sfo1', 'sfo2', 'sfo3', 'sgp1', 'syd1', 'tor1',
];

/** Whether DigitalOcean offers reserved IPv6 addresses in `region`. */
export function offersReservedIpv6(region: string): boolean {
  return RESERVED_IPV6_REGIONS.includes(region);
}

/**
 * The regions where DigitalOcean offers Spaces, as the DigitalOcean Terraform provider 2.71 validates
 * `region` on `digitalocean_spaces_bucket` (read on 2 December 2026). Droplet regions without Spaces
 * (nyc1, sfo1, ams2, …) need `configDelivery.spacesRegion`.
 */
export const SPACES_REGIONS: readonly string[] = ['ams3', 'atl1', 'blr1', 'fra1', 'lon1', 'nyc3', 'sfo2', 'sfo3', 'sgp1', 'syd1', 'tor1'];

/** Whether DigitalOcean offers Spaces in `region`. */
export function offersSpaces(region: string): boolean {
  return SPACES_REGIONS.includes(region);
}
