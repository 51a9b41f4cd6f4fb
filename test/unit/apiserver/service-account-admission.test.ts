// The ServiceAccount admission plugin's mount rules as pure functions: which containers get the
// kube-api-access mount, when an existing volume is reused, and whose automount setting wins.
import { describe, expect, it } from 'vitest';
import { mountServiceAccountToken, SERVICE_ACCOUNT_MOUNT_PATH, shouldAutomount } from '../../../shared/apiserver/admission.js';

const fixed = () => 'abcde';

describe('mountServiceAccountToken', () => {
  it('reuses a kube-api-access-* volume the pod already has instead of adding another', () => {
    const spec = { volumes: [{ name: 'kube-api-access-old12' }], containers: [{ name: 'a' }] } as never as Parameters<typeof mountServiceAccountToken>[0];
    mountServiceAccountToken(spec, fixed);
    expect(spec.volumes).toEqual([{ name: 'kube-api-access-old12' }]);
    expect(spec.containers![0].volumeMounts).toEqual([{ name: 'kube-api-access-old12', readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
  });

  it('mounts init containers before regular ones and leaves ephemeral containers alone', () => {
    const spec = { initContainers: [{ name: 'i' }], containers: [{ name: 'a' }], ephemeralContainers: [{ name: 'e' }] } as never as Parameters<typeof mountServiceAccountToken>[0] & { ephemeralContainers: { volumeMounts?: unknown }[] };
    mountServiceAccountToken(spec, fixed);
    expect(spec.volumes!.map((v) => v.name)).toEqual(['kube-api-access-abcde']);
    expect(spec.initContainers![0].volumeMounts).toHaveLength(1);
    expect(spec.containers![0].volumeMounts).toHaveLength(1);
    expect(spec.ephemeralContainers[0].volumeMounts).toBeUndefined();
  });

  it('adds nothing to a pod without containers needing it', () => {
    const spec = { containers: [{ name: 'a', volumeMounts: [{ name: 'v', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }] } as never as Parameters<typeof mountServiceAccountToken>[0];
    mountServiceAccountToken(spec, fixed);
    expect(spec.volumes).toBeUndefined();
  });
});

describe('shouldAutomount', () => {
  it("takes the pod's setting, then the service account's, then mounts", () => {
    expect(shouldAutomount({ automountServiceAccountToken: false }, { automountServiceAccountToken: true })).toBe(false);
    expect(shouldAutomount({ automountServiceAccountToken: true }, { automountServiceAccountToken: false })).toBe(true);
    expect(shouldAutomount({}, { automountServiceAccountToken: false })).toBe(false);
    expect(shouldAutomount({}, {})).toBe(true);
    expect(shouldAutomount({}, undefined)).toBe(true);
  });
});
