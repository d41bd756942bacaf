/** The hand-written program as users write it: the provider's index imported whole. */
import * as digitalocean from '@cdktf/provider-digitalocean';
import { reportPeakRss } from './domains';
import { synthesizeHandwritten } from './handwritten-stack';

synthesizeHandwritten(digitalocean, Number(process.argv[2]), process.argv[3]);
reportPeakRss();
