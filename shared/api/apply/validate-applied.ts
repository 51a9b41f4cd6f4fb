// Checks an applied configuration can be typed against the schema, as structured-merge-diff does before
// an apply: undeclared struct fields, list items without their key fields, and duplicate list items.
import type { TypeNode } from '../schema/dsl.js';
import { isObject } from '../patch/go-format.js';
import { childType, isDeclaredField, listSemantics, shapeOf } from '../patch/type-shape.js';
import { ItemNameError, listItemElement } from './list-items.js';
import { fieldElement, indexElement, printPath, type PathElement } from './path-element.js';

/** TypeMeta and ObjectMeta are always part of a kind's schema in Kubernetes. */
const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** The errors, each printed as "<path>: <message>" (empty when the object types cleanly). */
export function typingErrors(obj: unknown, type: TypeNode): string[] {
  const errors: string[] = [];
  check(obj, type, [], errors);
  return errors;
}

/** structured-merge-diff's ValidationErrors.Error(): one error as is, several under "errors:". */
export function formatTypingErrors(errors: string[]): string {
  return errors.length === 1 ? errors[0] : ['errors:', ...errors.map((e) => `  ${e}`)].join('\n');
}

function check(value: unknown, type: TypeNode | undefined, path: PathElement[], errors: string[]): void {
  const shape = shapeOf(type);
  if (shape.kind === 'list' && Array.isArray(value)) {
    const keyed = listSemantics(shape.list).kind !== 'atomic';
    const seen = new Set<PathElement>();
    for (let i = 0; i < value.length; i++) {
      let pe: PathElement = indexElement(i);
      if (keyed) {
        try {
          pe = listItemElement(shape.list, value[i]);
        } catch (e) {
          if (!(e instanceof ItemNameError)) throw e;
          errors.push(`${printPath(path)}: element ${i}: ${e.message}`);
          return;
        }
        if (seen.has(pe)) errors.push(`${printPath(path)}: duplicate entries for key ${printPath([pe])}`);
        seen.add(pe);
      }
      check(value[i], shape.list.items, [...path, pe], errors);
    }
    return;
  }
  if ((shape.kind === 'struct' || shape.kind === 'map') && isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, fieldElement(key)];
      if (shape.kind === 'struct' && !isDeclaredField(type, key) && !(path.length === 0 && ROOT_FIELDS.has(key))) {
        errors.push(`${printPath(childPath)}: field not declared in schema`);
        continue;
      }
      check(child, childType(type, key), childPath, errors);
    }
  }
}
