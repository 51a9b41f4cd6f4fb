// Pod volumes, PersistentVolume and PersistentVolumeClaim schemas (io.k8s.api.core.v1.*).
// Protobuf numbers follow k8s.io/api/core/v1/generated.proto; field order follows the Go structs.
//
// Volume inlines VolumeSource and PersistentVolumeSpec inlines PersistentVolumeSource: in JSON the
// source fields sit beside `name`/`capacity`, in protobuf they are nested in message field 2. The
// DSL cannot express that nesting, so inlined source fields carry no protobuf number. Rarely used
// in-tree sources are kept as free-form objects.
import { any, bool, field, int32, int64, list, map, quantity, ref, str, struct, time, type Field, type StructType } from '../schema/dsl.js';
import { LabelSelector, ObjectMeta, typeMetaFields } from './meta.js';
import {
  CORE,
  LocalObjectReference,
  NodeSelector,
  ObjectFieldSelector,
  ObjectReference,
  ResourceFieldSelector,
  SecretReference,
  TypedLocalObjectReference,
  TypedObjectReference,
  defaultIfAbsent,
  defaultPullPolicy,
  defaultString,
} from './core-pod-common.js';
import { POD_VOLUME_SOURCE_NAMES, validatePersistentVolumeClaimSpec, validatePersistentVolumeSpec } from './core-pod-volume-validation.js';
import { validateNodeSelector } from './core-pod-validation.js';
import { isObj } from './core-pod-checks.js';

/** 0644, the mode Kubernetes gives projected files by default. */
const DEFAULT_FILE_MODE = 420;

export const KeyToPath: StructType = struct(`${CORE}.KeyToPath`, 'Maps one key of a ConfigMap or Secret to a file path.', {
  key: field(str(), 1, 'Key to project.', { required: true }),
  path: field(str(), 2, 'Relative file path the key is written to.', { required: true }),
  mode: field(int32(), 3, 'File permission bits (0-0777); the volume default when unset.'),
});

export const HostPathVolumeSource: StructType = struct(
  `${CORE}.HostPathVolumeSource`,
  'A file or directory on the node, mounted into the pod.',
  {
    path: field(str(), 1, 'Path on the node.', { required: true }),
    type: field(str(), 2, 'What must exist at the path (Directory, File, ...); empty means no check.'),
  },
  { defaults: (o) => defaultIfAbsent(o, 'type', '') },
);

export const EmptyDirVolumeSource: StructType = struct(`${CORE}.EmptyDirVolumeSource`, 'A scratch directory that lives as long as the pod.', {
  medium: field(str(), 1, 'Storage medium: empty for the node default, or Memory.'),
  sizeLimit: field(quantity(), 2, 'Maximum amount of storage the directory may use.'),
});

export const SecretVolumeSource: StructType = struct(
  `${CORE}.SecretVolumeSource`,
  'Files populated from a Secret.',
  {
    secretName: field(str(), 1, 'Name of the Secret in the pod\'s namespace.'),
    items: field(list(ref(() => KeyToPath), { listType: 'atomic' }), 2, 'Keys to project; all keys when empty.'),
    defaultMode: field(int32(), 3, 'Permission bits for created files; defaults to 0644.'),
    optional: field(bool(), 4, 'Whether the Secret may be missing.'),
  },
  { defaults: (o) => defaultIfAbsent(o, 'defaultMode', DEFAULT_FILE_MODE) },
);

export const ConfigMapVolumeSource: StructType = struct(
  `${CORE}.ConfigMapVolumeSource`,
  'Files populated from a ConfigMap.',
  {
    name: field(str(), undefined, 'Name of the ConfigMap.'),
    items: field(list(ref(() => KeyToPath), { listType: 'atomic' }), 2, 'Keys to project; all keys when empty.'),
    defaultMode: field(int32(), 3, 'Permission bits for created files; defaults to 0644.'),
    optional: field(bool(), 4, 'Whether the ConfigMap may be missing.'),
  },
  { defaults: (o) => defaultIfAbsent(o, 'defaultMode', DEFAULT_FILE_MODE) },
);

export const PersistentVolumeClaimVolumeSource: StructType = struct(
  `${CORE}.PersistentVolumeClaimVolumeSource`,
  'Mounts the volume bound to a claim in the pod\'s namespace.',
  {
    claimName: field(str(), 1, 'Name of the PersistentVolumeClaim.', { required: true }),
    readOnly: field(bool(), 2, 'Mount read-only.'),
  },
);

export const NFSVolumeSource: StructType = struct(`${CORE}.NFSVolumeSource`, 'An NFS export mounted into the pod.', {
  server: field(str(), 1, 'Host name or IP of the NFS server.', { required: true }),
  path: field(str(), 2, 'Exported path.', { required: true }),
  readOnly: field(bool(), 3, 'Mount read-only.'),
});

export const DownwardAPIVolumeFile: StructType = struct(`${CORE}.DownwardAPIVolumeFile`, 'One file holding a pod field or container resource.', {
  path: field(str(), 1, 'Relative path of the file.', { required: true }),
  fieldRef: field(ref(() => ObjectFieldSelector), 2, 'Pod field to write.'),
  resourceFieldRef: field(ref(() => ResourceFieldSelector), 3, 'Container resource to write.'),
  mode: field(int32(), 4, 'File permission bits; the volume default when unset.'),
});

export const DownwardAPIVolumeSource: StructType = struct(
  `${CORE}.DownwardAPIVolumeSource`,
  'Files holding information about the pod itself.',
  {
    items: field(list(ref(() => DownwardAPIVolumeFile), { listType: 'atomic' }), 1, 'Files to create.'),
    defaultMode: field(int32(), 2, 'Permission bits for created files; defaults to 0644.'),
  },
  { defaults: (o) => defaultIfAbsent(o, 'defaultMode', DEFAULT_FILE_MODE) },
);

export const SecretProjection: StructType = struct(`${CORE}.SecretProjection`, 'Secret keys projected into a projected volume.', {
  name: field(str(), undefined, 'Name of the Secret.'),
  items: field(list(ref(() => KeyToPath), { listType: 'atomic' }), 2, 'Keys to project; all keys when empty.'),
  optional: field(bool(), 4, 'Whether the Secret may be missing.'),
});

export const ConfigMapProjection: StructType = struct(`${CORE}.ConfigMapProjection`, 'ConfigMap keys projected into a projected volume.', {
  name: field(str(), undefined, 'Name of the ConfigMap.'),
  items: field(list(ref(() => KeyToPath), { listType: 'atomic' }), 2, 'Keys to project; all keys when empty.'),
  optional: field(bool(), 4, 'Whether the ConfigMap may be missing.'),
});

export const DownwardAPIProjection: StructType = struct(`${CORE}.DownwardAPIProjection`, 'Downward API files in a projected volume.', {
  items: field(list(ref(() => DownwardAPIVolumeFile), { listType: 'atomic' }), 1, 'Files to create.'),
});

export const ServiceAccountTokenProjection: StructType = struct(
  `${CORE}.ServiceAccountTokenProjection`,
  'A service account token written into a projected volume.',
  {
    audience: field(str(), 1, 'Intended audience of the token; the API server by default.'),
    expirationSeconds: field(int64(), 2, 'Requested token lifetime; defaults to one hour.'),
    path: field(str(), 3, 'Relative path of the token file.', { required: true }),
  },
  { defaults: (o) => defaultIfAbsent(o, 'expirationSeconds', 3600) },
);

export const ClusterTrustBundleProjection: StructType = struct(`${CORE}.ClusterTrustBundleProjection`, 'ClusterTrustBundle certificates written into a projected volume.', {
  name: field(str(), 1, 'Select one bundle by name.'),
  signerName: field(str(), 2, 'Select all bundles of this signer.'),
  labelSelector: field(ref(() => LabelSelector), 3, 'Narrows the bundles selected by signer name.'),
  optional: field(bool(), 5, 'Whether missing bundles are tolerated.'),
  path: field(str(), 4, 'Relative path of the bundle file.', { required: true }),
});

export const VolumeProjection: StructType = struct(`${CORE}.VolumeProjection`, 'One source of a projected volume; exactly one field is set.', {
  secret: field(ref(() => SecretProjection), 1, 'Secret data to project.'),
  downwardAPI: field(ref(() => DownwardAPIProjection), 2, 'Downward API data to project.'),
  configMap: field(ref(() => ConfigMapProjection), 3, 'ConfigMap data to project.'),
  serviceAccountToken: field(ref(() => ServiceAccountTokenProjection), 4, 'Service account token to project.'),
  clusterTrustBundle: field(ref(() => ClusterTrustBundleProjection), 5, 'Trust bundle certificates to project.'),
});

export const ProjectedVolumeSource: StructType = struct(
  `${CORE}.ProjectedVolumeSource`,
  'Several sources merged into one directory.',
  {
    sources: field(list(ref(() => VolumeProjection), { listType: 'atomic' }), 1, 'The projected sources.'),
    defaultMode: field(int32(), 2, 'Permission bits for created files; defaults to 0644.'),
  },
  { defaults: (o) => defaultIfAbsent(o, 'defaultMode', DEFAULT_FILE_MODE) },
);

export const CSIVolumeSource: StructType = struct(`${CORE}.CSIVolumeSource`, 'An ephemeral volume provided by a CSI driver.', {
  driver: field(str(), 1, 'Name of the CSI driver.', { required: true }),
  readOnly: field(bool(), 2, 'Mount read-only.'),
  fsType: field(str(), 3, 'Filesystem type to mount.'),
  volumeAttributes: field(map(str()), 4, 'Driver-specific attributes.'),
  nodePublishSecretRef: field(ref(() => LocalObjectReference), 5, 'Secret passed to the driver when publishing.'),
});

export const VolumeResourceRequirements: StructType = struct(`${CORE}.VolumeResourceRequirements`, 'Storage a claim asks for.', {
  limits: field(map(quantity()), 1, 'Maximum amounts.'),
  requests: field(map(quantity()), 2, 'Minimum amounts, e.g. storage: 1Gi.'),
});

export const PersistentVolumeClaimSpec: StructType = struct(
  `${CORE}.PersistentVolumeClaimSpec`,
  'What a claim asks of its volume.',
  {
    accessModes: field(list(str(), { listType: 'atomic' }), 1, 'Access modes the volume must support.'),
    selector: field(ref(() => LabelSelector), 4, 'Labels a volume must carry to be bound.'),
    resources: field(ref(() => VolumeResourceRequirements), 2, 'Minimum resources, e.g. storage.', { default: {} }),
    volumeName: field(str(), 3, 'Name of the PersistentVolume bound to the claim.'),
    storageClassName: field(str(), 5, 'StorageClass the claim asks for.'),
    volumeMode: field(str(), 6, 'Filesystem or Block; defaults to Filesystem.'),
    dataSource: field(ref(() => TypedLocalObjectReference), 7, 'Existing object (snapshot or claim) to populate the volume from.'),
    dataSourceRef: field(ref(() => TypedObjectReference), 8, 'Object to populate the volume from, possibly in another namespace.'),
    volumeAttributesClassName: field(str(), 9, 'VolumeAttributesClass to apply to the volume.'),
  },
  {
    defaults: (o) => defaultIfAbsent(o, 'volumeMode', 'Filesystem'),
    validate: (o, path) => validatePersistentVolumeClaimSpec(o, path),
  },
);

export const PersistentVolumeClaimTemplate: StructType = struct(`${CORE}.PersistentVolumeClaimTemplate`, 'Template for the claim of an ephemeral volume.', {
  metadata: field(ref(() => ObjectMeta), 1, 'Labels and annotations copied to the claim.'),
  spec: field(ref(() => PersistentVolumeClaimSpec), 2, 'Spec copied to the claim.', { required: true }),
});

export const EphemeralVolumeSource: StructType = struct(`${CORE}.EphemeralVolumeSource`, 'A volume provisioned through a claim that lives as long as the pod.', {
  volumeClaimTemplate: field(ref(() => PersistentVolumeClaimTemplate), 1, 'Template for the claim created for the pod.'),
});

export const ImageVolumeSource: StructType = struct(
  `${CORE}.ImageVolumeSource`,
  'An OCI image or artifact mounted read-only.',
  {
    reference: field(str(), 1, 'Image or artifact reference.'),
    pullPolicy: field(str(), 2, 'Always, Never or IfNotPresent; derived from the tag when unset.'),
  },
  { defaults: (o) => defaultString(o, 'pullPolicy', defaultPullPolicy(o.reference)) },
);

const legacySource = (description: string): Field => field(any(), undefined, description);

/** Volume source fields (inlined into Volume), in Go struct order. */
const volumeSourceFields: Record<string, Field> = {
  hostPath: field(ref(() => HostPathVolumeSource), undefined, 'A directory or file on the node.'),
  emptyDir: field(ref(() => EmptyDirVolumeSource), undefined, 'A scratch directory that lives as long as the pod.'),
  gcePersistentDisk: legacySource('Deprecated GCE persistent disk source (free-form here).'),
  awsElasticBlockStore: legacySource('Deprecated AWS EBS source (free-form here).'),
  gitRepo: legacySource('Deprecated git repository source (free-form here).'),
  secret: field(ref(() => SecretVolumeSource), undefined, 'Files from a Secret.'),
  nfs: field(ref(() => NFSVolumeSource), undefined, 'An NFS export.'),
  iscsi: legacySource('iSCSI disk source (free-form here).'),
  glusterfs: legacySource('Deprecated GlusterFS source (free-form here).'),
  persistentVolumeClaim: field(ref(() => PersistentVolumeClaimVolumeSource), undefined, 'The volume bound to a claim.'),
  rbd: legacySource('Deprecated Ceph RBD source (free-form here).'),
  flexVolume: legacySource('Deprecated FlexVolume source (free-form here).'),
  cinder: legacySource('Deprecated Cinder source (free-form here).'),
  cephfs: legacySource('Deprecated CephFS source (free-form here).'),
  flocker: legacySource('Deprecated Flocker source (free-form here).'),
  downwardAPI: field(ref(() => DownwardAPIVolumeSource), undefined, 'Files describing the pod.'),
  fc: legacySource('Fibre Channel source (free-form here).'),
  azureFile: legacySource('Deprecated Azure File source (free-form here).'),
  configMap: field(ref(() => ConfigMapVolumeSource), undefined, 'Files from a ConfigMap.'),
  vsphereVolume: legacySource('Deprecated vSphere source (free-form here).'),
  quobyte: legacySource('Deprecated Quobyte source (free-form here).'),
  azureDisk: legacySource('Deprecated Azure Disk source (free-form here).'),
  photonPersistentDisk: legacySource('Deprecated Photon disk source (free-form here).'),
  projected: field(ref(() => ProjectedVolumeSource), undefined, 'Several sources merged into one directory.'),
  portworxVolume: legacySource('Deprecated Portworx source (free-form here).'),
  scaleIO: legacySource('Deprecated ScaleIO source (free-form here).'),
  storageos: legacySource('Deprecated StorageOS source (free-form here).'),
  csi: field(ref(() => CSIVolumeSource), undefined, 'An ephemeral volume from a CSI driver.'),
  ephemeral: field(ref(() => EphemeralVolumeSource), undefined, 'A claim-backed volume that lives as long as the pod.'),
  image: field(ref(() => ImageVolumeSource), undefined, 'An OCI image mounted read-only.'),
};

export const Volume: StructType = struct(
  `${CORE}.Volume`,
  'A named volume the pod\'s containers can mount; exactly one source is set.',
  {
    name: field(str(), 1, 'Volume name, a DNS label unique within the pod.', { required: true }),
    ...volumeSourceFields,
  },
  {
    defaults: (o) => {
      if (!POD_VOLUME_SOURCE_NAMES.some((k) => o[k] !== undefined && o[k] !== null)) o.emptyDir = {};
    },
  },
);

// ---- PersistentVolume ---------------------------------------------------------------------------

export const LocalVolumeSource: StructType = struct(`${CORE}.LocalVolumeSource`, 'Storage attached directly to one node.', {
  path: field(str(), 1, 'Path of the directory or block device on the node.', { required: true }),
  fsType: field(str(), 2, 'Filesystem type when the path is a block device.'),
});

export const CSIPersistentVolumeSource: StructType = struct(`${CORE}.CSIPersistentVolumeSource`, 'A persistent volume managed by a CSI driver.', {
  driver: field(str(), 1, 'Name of the CSI driver.', { required: true }),
  volumeHandle: field(str(), 2, 'Driver\'s identifier for the volume.', { required: true }),
  readOnly: field(bool(), 3, 'Publish read-only.'),
  fsType: field(str(), 4, 'Filesystem type to mount.'),
  volumeAttributes: field(map(str()), 5, 'Driver-specific attributes.'),
  controllerPublishSecretRef: field(ref(() => SecretReference), 6, 'Secret for ControllerPublish/Unpublish.'),
  nodeStageSecretRef: field(ref(() => SecretReference), 7, 'Secret for NodeStage/Unstage.'),
  nodePublishSecretRef: field(ref(() => SecretReference), 8, 'Secret for NodePublish/Unpublish.'),
  controllerExpandSecretRef: field(ref(() => SecretReference), 9, 'Secret for ControllerExpand.'),
  nodeExpandSecretRef: field(ref(() => SecretReference), 10, 'Secret for NodeExpand.'),
});

export const VolumeNodeAffinity: StructType = struct(
  `${CORE}.VolumeNodeAffinity`,
  'Nodes a persistent volume can be used from.',
  { required: field(ref(() => NodeSelector), 1, 'Node terms that must match.') },
  { validate: (o, path) => (isObj(o.required) ? validateNodeSelector(o.required, `${path}.required`) : []) },
);

/** PersistentVolumeSource fields (inlined into PersistentVolumeSpec), in Go struct order. */
const pvSourceFields: Record<string, Field> = {
  gcePersistentDisk: legacySource('Deprecated GCE persistent disk source (free-form here).'),
  awsElasticBlockStore: legacySource('Deprecated AWS EBS source (free-form here).'),
  hostPath: field(ref(() => HostPathVolumeSource), undefined, 'A directory on the node; for single-node testing.'),
  glusterfs: legacySource('Deprecated GlusterFS source (free-form here).'),
  nfs: field(ref(() => NFSVolumeSource), undefined, 'An NFS export.'),
  rbd: legacySource('Deprecated Ceph RBD source (free-form here).'),
  iscsi: legacySource('iSCSI disk source (free-form here).'),
  cinder: legacySource('Deprecated Cinder source (free-form here).'),
  cephfs: legacySource('Deprecated CephFS source (free-form here).'),
  fc: legacySource('Fibre Channel source (free-form here).'),
  flocker: legacySource('Deprecated Flocker source (free-form here).'),
  flexVolume: legacySource('Deprecated FlexVolume source (free-form here).'),
  azureFile: legacySource('Deprecated Azure File source (free-form here).'),
  vsphereVolume: legacySource('Deprecated vSphere source (free-form here).'),
  quobyte: legacySource('Deprecated Quobyte source (free-form here).'),
  azureDisk: legacySource('Deprecated Azure Disk source (free-form here).'),
  photonPersistentDisk: legacySource('Deprecated Photon disk source (free-form here).'),
  portworxVolume: legacySource('Deprecated Portworx source (free-form here).'),
  scaleIO: legacySource('Deprecated ScaleIO source (free-form here).'),
  local: field(ref(() => LocalVolumeSource), undefined, 'Storage attached to one node; needs nodeAffinity.'),
  storageos: legacySource('Deprecated StorageOS source (free-form here).'),
  csi: field(ref(() => CSIPersistentVolumeSource), undefined, 'A volume managed by a CSI driver.'),
};

export const PersistentVolumeSpec: StructType = struct(
  `${CORE}.PersistentVolumeSpec`,
  'What a persistent volume offers and how it is reclaimed.',
  {
    capacity: field(map(quantity()), 1, 'Capacity of the volume, e.g. storage: 10Gi.'),
    ...pvSourceFields,
    accessModes: field(list(str(), { listType: 'atomic' }), 3, 'Ways the volume can be mounted.'),
    claimRef: field(ref(() => ObjectReference), 4, 'The claim bound to this volume.'),
    persistentVolumeReclaimPolicy: field(str(), 5, 'Retain, Delete or Recycle once released; defaults to Retain.'),
    storageClassName: field(str(), 6, 'StorageClass the volume belongs to.'),
    mountOptions: field(list(str(), { listType: 'atomic' }), 7, 'Mount options, e.g. ro or soft.'),
    volumeMode: field(str(), 8, 'Filesystem or Block; defaults to Filesystem.'),
    nodeAffinity: field(ref(() => VolumeNodeAffinity), 9, 'Nodes the volume can be used from.'),
    volumeAttributesClassName: field(str(), 10, 'VolumeAttributesClass of the volume.'),
  },
  {
    defaults: (o) => {
      defaultString(o, 'persistentVolumeReclaimPolicy', 'Retain');
      defaultIfAbsent(o, 'volumeMode', 'Filesystem');
    },
    validate: (o, path) => validatePersistentVolumeSpec(o, path),
  },
);

export const PersistentVolumeStatus: StructType = struct(`${CORE}.PersistentVolumeStatus`, 'Observed state of a persistent volume.', {
  phase: field(str(), 1, 'Pending, Available, Bound, Released or Failed.'),
  message: field(str(), 2, 'Human-readable detail about the phase.'),
  reason: field(str(), 3, 'Short CamelCase reason for a failure.'),
  lastPhaseTransitionTime: field(time(), 4, 'When the phase last changed.'),
});

export const PersistentVolume: StructType = struct(
  `${CORE}.PersistentVolume`,
  'A piece of storage provisioned for the cluster.',
  {
    ...typeMetaFields,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => PersistentVolumeSpec), 2, 'What the volume offers.'),
    status: field(ref(() => PersistentVolumeStatus), 3, 'Observed state of the volume.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'PersistentVolume' }] },
);

// ---- PersistentVolumeClaim ----------------------------------------------------------------------

export const PersistentVolumeClaimCondition: StructType = struct(`${CORE}.PersistentVolumeClaimCondition`, 'One observed aspect of a claim, e.g. Resizing.', {
  type: field(str(), 1, 'Condition type.', { required: true }),
  status: field(str(), 2, 'True, False or Unknown.', { required: true }),
  lastProbeTime: field(time(), 3, 'When the condition was last probed.'),
  lastTransitionTime: field(time(), 4, 'When the status last changed.'),
  reason: field(str(), 5, 'Short CamelCase reason for the last transition.'),
  message: field(str(), 6, 'Human-readable detail about the last transition.'),
});

export const ModifyVolumeStatus: StructType = struct(`${CORE}.ModifyVolumeStatus`, 'Progress of a volume attributes change.', {
  targetVolumeAttributesClassName: field(str(), 1, 'VolumeAttributesClass being applied.'),
  status: field(str(), 2, 'Pending, InProgress or Infeasible.', { required: true }),
});

export const PersistentVolumeClaimStatus: StructType = struct(`${CORE}.PersistentVolumeClaimStatus`, 'Observed state of a claim.', {
  phase: field(str(), 1, 'Pending, Bound or Lost.'),
  accessModes: field(list(str(), { listType: 'atomic' }), 2, 'Access modes of the bound volume.'),
  capacity: field(map(quantity()), 3, 'Capacity of the bound volume.'),
  conditions: field(
    list(ref(() => PersistentVolumeClaimCondition), { listType: 'map', mapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' }),
    4,
    'Current conditions of the claim.',
  ),
  allocatedResources: field(map(quantity()), 5, 'Resources allocated to the claim, including pending expansion.'),
  allocatedResourceStatuses: field(map(str()), 7, 'Resize progress per resource.'),
  currentVolumeAttributesClassName: field(str(), 8, 'VolumeAttributesClass currently applied.'),
  modifyVolumeStatus: field(ref(() => ModifyVolumeStatus), 9, 'Progress of a pending attributes change.'),
});

export const PersistentVolumeClaim: StructType = struct(
  `${CORE}.PersistentVolumeClaim`,
  'A request for storage by a user.',
  {
    ...typeMetaFields,
    metadata: field(ref(() => ObjectMeta), 1, 'Standard object metadata.'),
    spec: field(ref(() => PersistentVolumeClaimSpec), 2, 'What the claim asks for.'),
    status: field(ref(() => PersistentVolumeClaimStatus), 3, 'Observed state of the claim.'),
  },
  { gvk: [{ group: '', version: 'v1', kind: 'PersistentVolumeClaim' }] },
);
