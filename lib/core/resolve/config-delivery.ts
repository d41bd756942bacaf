/** `configDelivery`: how configuration changes reach the droplet. */
import { DEFAULTS, defaultConfigBucket } from '../defaults';
import { checkBucketName, checkConfigChannel, checkSpacesRegion } from '../rules';
import { ConfigDeliverySpec, ResolvedConfigDelivery } from '../spec';
import { IssueCollector, section } from './collector';

export function resolveConfigDelivery(
  declared: ConfigDeliverySpec | undefined,
  droplet: { readonly name: string; readonly region: string },
  c: IssueCollector,
): ResolvedConfigDelivery {
  const delivery = { ...DEFAULTS.configDelivery, ...section<ConfigDeliverySpec>(declared) };
  c.check('configDelivery.channel', delivery.channel, checkConfigChannel(delivery.channel));
  if (delivery.channel !== 'spaces') {
    for (const field of ['spacesRegion', 'bucket'] as const) {
      if (delivery[field] !== undefined) {
        c.check(`configDelivery.${field}`, delivery[field], { problem: 'is used only with configDelivery.channel "spaces"', fix: `remove it, or set configDelivery.channel to "spaces"` });
      }
    }
    return { channel: 'user-data' };
  }
  const region = delivery.spacesRegion ?? droplet.region;
  c.check(delivery.spacesRegion === undefined ? 'droplet.region' : 'configDelivery.spacesRegion', region, checkSpacesRegion(region, delivery.spacesRegion === undefined));
  const bucket = delivery.bucket ?? defaultConfigBucket(droplet.name);
  c.check('configDelivery.bucket', bucket, checkBucketName(bucket));
  return { channel: 'spaces', region, bucket };
}
