/** Scenarios for file sharing, calls (TURN) and the web front (filled in by media.test.ts's author). */
import type { Scenario } from './scenarios';

export const mediaScenarios: { [name: string]: Scenario } = {};
