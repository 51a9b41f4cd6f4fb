// The store's table definition (the single source of truth in shared/store/dynamodb/table.ts),
// translated into CDK table props so the deployed table can never drift from what the store expects.
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import {
  TABLE_ATTRIBUTE_DEFINITIONS,
  TABLE_BILLING_MODE,
  TABLE_KEY_SCHEMA,
  TABLE_STREAM_VIEW_TYPE,
  TTL_ATTRIBUTE,
} from '../shared/store/dynamodb/table.js';

export const TABLE_TTL_ATTRIBUTE: string = TTL_ATTRIBUTE;

const ATTRIBUTE_TYPES: Record<string, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

function keyAttribute(keyType: 'HASH' | 'RANGE'): dynamodb.Attribute | undefined {
  const element = TABLE_KEY_SCHEMA.find((k) => k.KeyType === keyType);
  if (!element) return undefined;
  const definition = TABLE_ATTRIBUTE_DEFINITIONS.find((d) => d.AttributeName === element.AttributeName);
  const type = definition && ATTRIBUTE_TYPES[definition.AttributeType as string];
  if (!type) {
    throw new Error(`store table definition: key attribute ${element.AttributeName} has no S/N/B attribute definition`);
  }
  return { name: element.AttributeName as string, type };
}

export function tableKeyProps(): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const partitionKey = keyAttribute('HASH');
  if (!partitionKey) throw new Error('store table definition: no HASH key');
  return { partitionKey, sortKey: keyAttribute('RANGE') };
}

export function tableStreamViewType(): dynamodb.StreamViewType {
  const view = Object.values(dynamodb.StreamViewType).find((v) => v === TABLE_STREAM_VIEW_TYPE);
  if (!view) throw new Error(`store table definition: unknown stream view type ${String(TABLE_STREAM_VIEW_TYPE)}`);
  return view;
}

export function tableBillingMode(): dynamodb.BillingMode {
  const mode = Object.values(dynamodb.BillingMode).find((m) => m === TABLE_BILLING_MODE);
  if (!mode) throw new Error(`store table definition: unknown billing mode ${String(TABLE_BILLING_MODE)}`);
  return mode;
}
