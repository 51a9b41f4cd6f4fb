// Finishes deleting a Terminating namespace: removes its content, then the namespace. The API
// server starts this in the background when a namespace is deleted; on Lambda that background
// work may be frozen with the execution environment, so a controller finishes it too.
import { StoreError } from '../../store/contract.js';
import type { ControllerDef } from '../runtime/types.js';

export const namespaceController: ControllerDef = {
  name: 'namespace',
  resources: ['core/namespaces'],
  workers: 2,
  setup:
    ({ reader, namespaces }) =>
    async (ref) => {
      const ns = await reader.get('core/namespaces', undefined, ref.name);
      if (!ns?.metadata.deletionTimestamp) return;
      try {
        await namespaces.finalize(ref.name);
      } catch (e) {
        // The API server's own finalizer may have removed it first: then there is nothing left to do.
        if (!(e instanceof StoreError && e.code === 'NotFound')) throw e;
      }
    },
};
