// Finding the runtime objects behind a streaming request through the labels kubelet puts on them.
import type { Container, CriClient, PodSandbox } from '../../cri/client.js';
import { CONTAINER_NAME_LABEL as CONTAINER_LABEL, POD_NAMESPACE_LABEL as NAMESPACE_LABEL, POD_NAME_LABEL as NAME_LABEL, POD_UID_LABEL as UID_LABEL } from '../../cri/pod-config.js';
import type { PodRef } from './request.js';

/** The pod or container does not exist on this node (HTTP 404). */
export class TargetNotFound extends Error {}

const newestFirst = <T extends { created_at: string }>(a: T, b: T) => (BigInt(b.created_at) > BigInt(a.created_at) ? 1 : BigInt(b.created_at) < BigInt(a.created_at) ? -1 : 0);

function podSelector(ref: PodRef): Record<string, string> {
  const sel: Record<string, string> = { [NAMESPACE_LABEL]: ref.namespace, [NAME_LABEL]: ref.pod };
  if (ref.uid) sel[UID_LABEL] = ref.uid;
  return sel;
}

/** The pod's ready sandbox (the newest, if a restarted pod left older ones). */
export async function findSandbox(cri: CriClient, ref: PodRef): Promise<PodSandbox> {
  const sandboxes = await cri.listPodSandbox({ label_selector: podSelector(ref), state: { state: 'SANDBOX_READY' } });
  const [sandbox] = sandboxes.sort(newestFirst);
  if (!sandbox) throw new TargetNotFound('pod does not exist');
  return sandbox;
}

/** The newest running instance of the pod's container. */
export async function findRunningContainer(cri: CriClient, ref: PodRef & { container: string }): Promise<Container> {
  const sandbox = await findSandbox(cri, ref);
  const containers = await cri.listContainers({ pod_sandbox_id: sandbox.id, label_selector: { [CONTAINER_LABEL]: ref.container }, state: { state: 'CONTAINER_RUNNING' } });
  const [container] = containers.sort(newestFirst);
  if (!container) throw new TargetNotFound(`container not found (${JSON.stringify(ref.container)})`);
  return container;
}
