/**
 * The floor: a node process that only loads cdktf and the resource modules xmpp-constructs needs,
 * deep-imported, and synthesizes nothing. No program that synthesizes this stack can start faster.
 */
import 'cdktf';
import '@cdktf/provider-digitalocean/lib/provider';
import '@cdktf/provider-digitalocean/lib/domain';
import '@cdktf/provider-digitalocean/lib/record';
import '@cdktf/provider-digitalocean/lib/droplet';
import '@cdktf/provider-digitalocean/lib/volume';
import '@cdktf/provider-digitalocean/lib/project-resources';
import '@cdktf/provider-digitalocean/lib/reserved-ip';
import '@cdktf/provider-digitalocean/lib/reserved-ip-assignment';
import '@cdktf/provider-digitalocean/lib/firewall';
import { reportPeakRss } from './domains';

reportPeakRss();
