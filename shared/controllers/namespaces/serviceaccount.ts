// The ServiceAccounts controller: every active namespace has a `default` ServiceAccount, made
// again when deleted. Namespaces that are terminating get nothing new.
import { ApiError } from '../../apiserver/errors.js';
import { isAlreadyExists, isNotFound } from '../runtime/client.js';
import type { ControllerDef } from '../runtime/types.js';

/** The ServiceAccounts every namespace is given, as kube-controller-manager's defaults. */
export const SERVICE_ACCOUNTS_TO_ENSURE: readonly string[] = ['default'];

const terminatingNamespace = (e: unknown): boolean =>
  e instanceof ApiError && e.code === 403 && !!e.status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');

export const serviceAccountController: ControllerDef = {
  name: 'serviceaccount-controller',
  resources: ['core/namespaces'],
  watches: [{ resource: 'core/serviceaccounts', map: (sa) => (sa.metadata.namespace ? [{ resource: 'core/namespaces', name: sa.metadata.namespace }] : []) }],
  workers: 2,
  setup:
    ({ reader, client }) =>
    async (ref) => {
      const ns = await reader.get('core/namespaces', undefined, ref.name);
      if (!ns) return;
      if ((ns.status as { phase?: string } | undefined)?.phase !== 'Active' || ns.metadata.deletionTimestamp) return;
      for (const name of SERVICE_ACCOUNTS_TO_ENSURE) {
        if (await reader.get('core/serviceaccounts', ref.name, name)) continue;
        try {
          await client.create('core/serviceaccounts', { metadata: { name, namespace: ref.name } });
        } catch (e) {
          if (isAlreadyExists(e) || terminatingNamespace(e) || isNotFound(e)) continue;
          throw e;
        }
      }
    },
};
