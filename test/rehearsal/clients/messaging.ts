/** Scenarios for accounts, messaging, archives, group chat and discovery (filled in by messaging.test.ts's author). */
import type { Scenario } from './scenarios';

export const messagingScenarios: { [name: string]: Scenario } = {};
