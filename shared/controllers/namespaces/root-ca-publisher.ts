// The root CA publisher: every namespace holds the ConfigMap kube-root-ca.crt with the cluster's
// CA bundle, so pods can verify the API server at kubernetes.default.svc. Edits to its data or
// description are reverted and a deleted one comes back.
import { ApiError } from '../../apiserver/errors.js';
import { deepEqual } from '../../apiserver/metadata.js';
import { isAlreadyExists, isNotFound } from '../runtime/client.js';
import type { ControllerDef } from '../runtime/types.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
/** The description Kubernetes puts on the ConfigMap, word for word. */
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

const terminatingNamespace = (e: unknown): boolean =>
  e instanceof ApiError && e.code === 403 && !!e.status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');

/** The publisher for the cluster CA `caCertPem` (PEM text, published as is under data["ca.crt"]). */
export function rootCaPublisher(caCertPem: string): ControllerDef {
  const data = { 'ca.crt': caCertPem };
  return {
    name: 'root-ca-cert-publisher',
    resources: ['core/namespaces'],
    watches: [
      {
        resource: 'core/configmaps',
        map: (cm) => (cm.metadata.name === ROOT_CA_CONFIGMAP && cm.metadata.namespace ? [{ resource: 'core/namespaces', name: cm.metadata.namespace }] : []),
      },
    ],
    workers: 2,
    setup:
      ({ reader, client }) =>
      async (ref) => {
        const ns = await reader.get('core/namespaces', undefined, ref.name);
        if (!ns) return;
        const cm = await reader.get('core/configmaps', ref.name, ROOT_CA_CONFIGMAP);
        if (!cm) {
          if (ns.metadata.deletionTimestamp) return;
          try {
            await client.create('core/configmaps', {
              metadata: { name: ROOT_CA_CONFIGMAP, namespace: ref.name, annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
              data,
            });
          } catch (e) {
            // Not there any more, being deleted, or created meanwhile: nothing to retry.
            if (isNotFound(e) || terminatingNamespace(e) || isAlreadyExists(e)) return;
            throw e;
          }
          return;
        }
        if (deepEqual(cm.data ?? {}, data) && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION]) return;
        const next = structuredClone(cm);
        next.data = { ...data };
        next.metadata.annotations = { ...next.metadata.annotations, [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION };
        await client.update('core/configmaps', next);
      },
  };
}
