/**
 * A diagnostic, with no target: the hand-written program with the floor's deep imports instead of
 * the provider's index. Over the floor, it is what cdktf itself costs to synthesize these resources,
 * with nothing rendered and no file beyond cdk.tf.json.
 */
import * as provider from '@cdktf/provider-digitalocean/lib/provider';
import * as volume from '@cdktf/provider-digitalocean/lib/volume';
import * as droplet from '@cdktf/provider-digitalocean/lib/droplet';
import * as reservedIp from '@cdktf/provider-digitalocean/lib/reserved-ip';
import * as reservedIpAssignment from '@cdktf/provider-digitalocean/lib/reserved-ip-assignment';
import * as firewall from '@cdktf/provider-digitalocean/lib/firewall';
import * as domain from '@cdktf/provider-digitalocean/lib/domain';
import * as record from '@cdktf/provider-digitalocean/lib/record';
import { reportPeakRss } from './domains';
import { synthesizeHandwritten } from './handwritten-stack';

synthesizeHandwritten({ provider, volume, droplet, reservedIp, reservedIpAssignment, firewall, domain, record }, Number(process.argv[2]), process.argv[3]);
reportPeakRss();
