// scheduling.k8s.io/v1 PriorityClasses as a KindDef.
import { kindDef, type KindDef, type Printer } from '../kind.js';
import { age, ageColumn, col, nameColumn } from '../printers/common.js';
import type { FieldError } from '../schema/dsl.js';
import { forbidden, invalid } from '../schema/errors.js';
import { FIELD_IMMUTABLE } from '../types/apps.js';
import { PriorityClass, validatePriorityClass } from '../types/scheduling.js';

const priorityClassPrinter: Printer = {
  columns: [
    nameColumn,
    col('Value', 'integer', 'Priority pods of this class get.'),
    col('Global-Default', 'boolean', 'Whether pods without a class get this one.'),
    ageColumn,
    col('PreemptionPolicy', 'string', 'Whether pods of this class may preempt lower-priority pods.'),
  ],
  cells: (o, now) => [
    o.metadata.name,
    typeof o.value === 'number' ? o.value : 0,
    o.globalDefault === true,
    age(o.metadata.creationTimestamp, now),
    typeof o.preemptionPolicy === 'string' ? o.preemptionPolicy : '',
  ],
};

function validateUpdate(o: Record<string, unknown>, old: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  if ((o.value ?? 0) !== (old.value ?? 0)) errs.push(forbidden('value', 'may not be changed in an update.'));
  if (o.preemptionPolicy !== old.preemptionPolicy) errs.push(invalid('preemptionPolicy', o.preemptionPolicy ?? null, FIELD_IMMUTABLE));
  return errs;
}

export const kinds: KindDef[] = [
  kindDef({
    group: 'scheduling.k8s.io',
    version: 'v1',
    kind: 'PriorityClass',
    plural: 'priorityclasses',
    namespaced: false,
    shortNames: ['pc'],
    schema: PriorityClass,
    printer: priorityClassPrinter,
    validate: (o, old) => [...validatePriorityClass(o), ...(old ? validateUpdate(o, old) : [])],
  }),
];
