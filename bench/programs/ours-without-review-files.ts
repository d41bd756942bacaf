/**
 * A diagnostic, with no target: xmpp-constructs with `writeReviewFiles: false`. Its difference from
 * the default is what writing the review files costs on this disk.
 */
import { reportPeakRss } from './domains';
import { synthesizeOurs } from './ours-stack';

synthesizeOurs(Number(process.argv[2]), process.argv[3], false);
reportPeakRss();
