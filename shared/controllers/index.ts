// Every built-in controller, in the order they start. Adding a controller is adding an entry.
import { namespaceController } from './namespace.js';
import type { ControllerDef } from './types.js';

export const builtinControllers: readonly ControllerDef[] = [namespaceController];

export type { ControllerDef, ControllerContext, ObjectRef, Reconcile, ReconcileResult, Resource, WatchSpec } from './types.js';
