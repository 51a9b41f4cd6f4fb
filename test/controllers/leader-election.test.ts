// Two controller managers on one store (two replicas of the control plane): only the Lease holder
// reconciles, so a ReplicaSet gets exactly its replicas, never twice; when the leader stops, the
// other takes over once the Lease expires and carries on.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/apiserver/logger.js';
import { ControllerManager } from '../../shared/controllers/runtime/manager.js';
import { replicaSetController } from '../../shared/controllers/workloads/replicaset.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
let second: ControllerManager | undefined;
afterEach(async () => {
  await second?.stop();
  await h?.close();
  h = undefined;
  second = undefined;
});

const election = (identity: string) => ({ identity, leaseDurationMs: 1000, renewIntervalMs: 100 });

describe('leader election', () => {
  it('two managers never both create the pods a ReplicaSet lacks; the follower takes over when the leader stops', async () => {
    h = await startHarness([replicaSetController], { leaderElection: election('one') });
    second = new ControllerManager({ store: h.store, registry: h.registry, rest: h.rest, namespaces: h.namespaces, log: createLogger('silent'), controllers: [replicaSetController], leaderElection: election('two') });
    await second.start();
    await h.waitFor(() => h!.manager.elector!.isLeader || second!.elector!.isLeader, 5000, 'a leader');
    expect(h.manager.elector!.isLeader && second.elector!.isLeader).toBe(false);

    const rs = (replicas: number) => ({
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await h.client.create('apps/replicasets', rs(5));
    const pods = () => h!.reader.list('core/pods', { namespace: 'default', labels: { app: 'web' } });
    await h.waitFor(async () => (await pods()).length === 5, 5000, '5 pods');
    await new Promise((r) => setTimeout(r, 300));
    expect(await pods()).toHaveLength(5);

    const [leader, follower] = h.manager.elector!.isLeader ? [h.manager, second] : [second, h.manager];
    await leader.stop();
    if (leader === second) second = undefined;
    await h.client.patch('apps/replicasets', 'default', 'web', 'merge', { spec: { replicas: 7 } });
    await h.waitFor(() => follower.elector!.isLeader, 5000, 'the follower to take over');
    await h.waitFor(async () => (await pods()).length === 7, 5000, '7 pods');
    const lease = await h.reader.get('coordination.k8s.io/leases', 'kube-system', 'kube-controller-manager');
    expect((lease!.spec as { leaseTransitions: number }).leaseTransitions).toBeGreaterThanOrEqual(1);
  });
});
