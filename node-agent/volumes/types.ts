// The pod volume shapes the node agent understands (core/v1 Volume and VolumeMount, the subset
// kubelet handles without storage plugins), where their data comes from, and how setup fails.
import type { PodObject } from '../cri/pod-config.js';

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface ObjectFieldSelector {
  fieldPath: string;
}

export interface ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

export interface DownwardAPIFile {
  path: string;
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  mode?: number;
}

export interface ConfigMapSource {
  name?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface SecretSource {
  secretName?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface ProjectionSource {
  configMap?: Omit<ConfigMapSource, 'defaultMode'>;
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIFile[] };
  serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number };
  clusterTrustBundle?: unknown;
}

export interface VolumeSpec {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string | number };
  hostPath?: { path: string; type?: string };
  configMap?: ConfigMapSource;
  secret?: SecretSource;
  downwardAPI?: { items?: DownwardAPIFile[]; defaultMode?: number };
  projected?: { sources?: ProjectionSource[]; defaultMode?: number };
}

export interface VolumeMountSpec {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
  subPathExpr?: string;
  mountPropagation?: string;
}

/** A ConfigMap or Secret as the API returns it. */
export interface DataObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** Where configMap, secret and downward API volumes read from; undefined means the object does not exist. */
export interface VolumeSources {
  configMap(namespace: string, name: string): Promise<DataObject | undefined>;
  secret(namespace: string, name: string): Promise<DataObject | undefined>;
  /** The pod's current object, so downward API files follow label and annotation changes. */
  pod?(namespace: string, name: string): Promise<Record<string, unknown> | undefined>;
  /** A token of the pod's service account bound to the pod (projected serviceAccountToken sources). */
  serviceAccountToken?(pod: PodObject, source: { audience?: string; expirationSeconds?: number }): Promise<string>;
}

/** Node resources that stand in for unset limits in resourceFieldRef files. */
export interface NodeAllocatable {
  cpu: string;
  memory: string;
  ephemeralStorage: string;
}

/** A volume could not be set up; the pod's containers are not created (kubelet's FailedMount). */
export class VolumeSetupError extends Error {
  readonly reason = 'FailedMount';
  constructor(
    readonly volume: string,
    readonly detail: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${detail}`);
    this.name = 'VolumeSetupError';
  }
}

/** File name of each volume plugin's directory, as kubelet lays them out under the pod directory. */
export const PLUGIN_DIRS = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;
