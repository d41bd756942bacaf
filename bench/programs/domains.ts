/** The domain names every benchmark program serves: `count` distinct customer domains. */
export function benchDomains(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `customer-${String(i).padStart(4, '0')}.example-hosting.net`);
}

/** Reports the program's peak resident memory to the runner, as its last line. */
export function reportPeakRss(): void {
  process.stdout.write(`PEAK_RSS_KB ${process.resourceUsage().maxRSS}\n`);
}
