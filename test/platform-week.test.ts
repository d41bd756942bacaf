/**
 * The platform images follow Debian's archive week by week (test/support/platform.ts): the week is
 * ISO 8601's, so a year's last days may belong to the next year's first week and the other way round.
 */
import { archiveWeek } from './support/platform';

describe('archiveWeek', () => {
  it.each([
    ['2026-12-02T12:00:00Z', '2026-W49'],
    ['2026-11-30T00:00:00Z', '2026-W49'],
    ['2026-12-06T23:59:59Z', '2026-W49'],
    ['2026-12-07T00:00:00Z', '2026-W50'],
    ['2026-12-31T12:00:00Z', '2026-W53'],
    ['2027-01-01T12:00:00Z', '2026-W53'],
    ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2024-12-30T08:00:00Z', '2025-W01'],
    ['2021-01-03T08:00:00Z', '2020-W53'],
    ['2026-01-01T00:00:00Z', '2026-W01'],
  ])('GIVEN %s THEN the image of the week %s serves', (date, week) => {
    expect(archiveWeek(new Date(date))).toBe(week);
  });
});
