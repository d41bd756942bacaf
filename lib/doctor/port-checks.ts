/**
 * The planned public TCP ports answer at every address of their host, and Prosody's internal
 * ports do not. A port that should be closed may time out or be refused; both are fine.
 */
import type { DoctorPlan } from '../core/doctor-plan';
import { LOOPBACK_ONLY_TCP_PORTS } from '../core/listeners';
import { allAddresses, DoctorContext, probeTcp } from './net';
import { CheckResult } from './report';

export async function checkPorts(ctx: DoctorContext, plan: DoctorPlan): Promise<CheckResult[]> {
  const open = plan.openTcpPorts.map(async (port): Promise<CheckResult[]> => {
    const addresses = await allAddresses(ctx, port.host);
    const title = (address?: string) => `tcp ${port.port} (${port.purpose}) on ${port.host}${address ? ` at ${address}` : ''}`;
    if ('problem' in addresses) return [{ id: `ports:open:${port.host}:${port.port}`, group: 'ports', title: title(), status: 'fail', detail: addresses.problem, fix: 'see the DNS checks' }];
    return Promise.all(addresses.map(async (address): Promise<CheckResult> => {
      const outcome = await ctx.limit(() => probeTcp(address, port.port, ctx.timeoutMs));
      const id = `ports:open:${port.host}:${port.port}@${address}`;
      if (outcome === 'open') return { id, group: 'ports', title: title(address), status: 'pass', detail: 'open' };
      return {
        id, group: 'ports', title: title(address), status: 'fail', detail: outcome === 'refused' ? 'refused: nothing listens' : `${outcome}: no answer`,
        fix: outcome === 'refused'
          ? 'the service is not running: on the host, `systemctl --failed` and the journal show which one'
          : 'a firewall drops it: check the DigitalOcean cloud firewall attached to the droplet (tofu apply restores the planned rules)',
      };
    }));
  });
  const closed = plan.closedTcpPorts.map(async (port): Promise<CheckResult[]> => {
    const addresses = await allAddresses(ctx, port.host);
    const title = (address?: string) => `tcp ${port.port} closed on ${port.host}${address ? ` at ${address}` : ''}`;
    if ('problem' in addresses) return [{ id: `ports:closed:${port.host}:${port.port}`, group: 'ports', title: title(), status: 'skip', detail: addresses.problem }];
    return Promise.all(addresses.map(async (address): Promise<CheckResult> => {
      const outcome = await ctx.limit(() => probeTcp(address, port.port, ctx.timeoutMs));
      const id = `ports:closed:${port.host}:${port.port}@${address}`;
      if (outcome !== 'open') return { id, group: 'ports', title: title(address), status: 'pass', detail: outcome };
      return {
        id, group: 'ports', title: title(address), status: 'fail', detail: `something answers: ${port.purpose}`,
        fix: `close it: keep Prosody's ${LOOPBACK_ONLY_TCP_PORTS.includes(port.port) ? 'http_interfaces' : 'interfaces for this port'} on loopback (as the rendered prosody.cfg.lua does) and remove any firewall rule opening tcp ${port.port}`,
      };
    }));
  });
  return (await Promise.all([...open, ...closed])).flat();
}
