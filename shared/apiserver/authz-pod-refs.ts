// The Secrets and ConfigMaps a pod refers to (volumes, projected sources, env, envFrom, image pull
// secrets): the objects a node running the pod may read.
type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

// Volume sources that name a Secret through `secretRef` (or CSI's nodePublishSecretRef).
const SECRET_REF_VOLUMES = ['cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos'];

export interface PodReferences {
  secrets: Set<string>;
  configMaps: Set<string>;
}

export function podReferences(pod: Obj): PodReferences {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const add = (set: Set<string>, name: unknown) => {
    const n = str(name);
    if (n) set.add(n);
  };
  const spec = obj(pod.spec) ?? {};
  for (const ref of arr(spec.imagePullSecrets)) add(secrets, obj(ref)?.name);
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of arr(spec[list])) {
      for (const env of arr(obj(c)?.env)) {
        const from = obj(obj(env)?.valueFrom);
        add(secrets, obj(from?.secretKeyRef)?.name);
        add(configMaps, obj(from?.configMapKeyRef)?.name);
      }
      for (const src of arr(obj(c)?.envFrom)) {
        add(secrets, obj(obj(src)?.secretRef)?.name);
        add(configMaps, obj(obj(src)?.configMapRef)?.name);
      }
    }
  }
  for (const v of arr(spec.volumes)) {
    const vol = obj(v) ?? {};
    add(secrets, obj(vol.secret)?.secretName);
    add(secrets, obj(vol.azureFile)?.secretName);
    add(secrets, obj(obj(vol.csi)?.nodePublishSecretRef)?.name);
    for (const k of SECRET_REF_VOLUMES) add(secrets, obj(obj(vol[k])?.secretRef)?.name);
    add(configMaps, obj(vol.configMap)?.name);
    for (const s of arr(obj(vol.projected)?.sources)) {
      add(secrets, obj(obj(s)?.secret)?.name);
      add(configMaps, obj(obj(s)?.configMap)?.name);
    }
  }
  return { secrets, configMaps };
}
