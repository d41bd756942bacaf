/** xmpp-constructs as users run it: review files written, as by default. */
import { reportPeakRss } from './domains';
import { synthesizeOurs } from './ours-stack';

synthesizeOurs(Number(process.argv[2]), process.argv[3], true);
reportPeakRss();
