// protobufjs JSON descriptor for gnostic's openapi.v2 messages (google/gnostic-models
// openapiv2/OpenAPIv2.proto). Only the field numbers and types matter on the wire; field names
// here are the JSON-side spellings used by gnostic.ts.

type FieldDesc = { type: string; id: number; rule?: 'repeated' };
type MessageDesc = { fields: Record<string, FieldDesc> };

const one = (type: string, id: number): FieldDesc => ({ type, id });
const rep = (type: string, id: number): FieldDesc => ({ type, id, rule: 'repeated' });
const vendor = (id: number): FieldDesc => rep('NamedAny', id);
const named = (valueType: string): MessageDesc => ({ fields: { name: one('string', 1), value: one(valueType, 2) } });

/** Fields shared (with different numbers) by parameter sub-schemas, header and items objects. */
function primitiveFields(first: number, opts: { allowEmptyValue?: boolean } = {}): Record<string, FieldDesc> {
  const names: [string, string][] = [
    ['type', 'string'],
    ['format', 'string'],
    ['items', 'PrimitivesItems'],
    ['collectionFormat', 'string'],
    ['default', 'Any'],
    ['maximum', 'double'],
    ['exclusiveMaximum', 'bool'],
    ['minimum', 'double'],
    ['exclusiveMinimum', 'bool'],
    ['maxLength', 'int64'],
    ['minLength', 'int64'],
    ['pattern', 'string'],
    ['maxItems', 'int64'],
    ['minItems', 'int64'],
    ['uniqueItems', 'bool'],
  ];
  const out: Record<string, FieldDesc> = {};
  let id = first;
  if (opts.allowEmptyValue) out.allowEmptyValue = one('bool', id++);
  for (const [name, type] of names) out[name] = one(type, id++);
  out.enum = rep('Any', id++);
  out.multipleOf = one('double', id++);
  return out;
}

/** header/formData/query/path parameter sub-schemas: required, in, description, name, then the primitive fields. */
function parameterSubSchema(allowEmptyValue: boolean): MessageDesc {
  const common = { required: one('bool', 1), in: one('string', 2), description: one('string', 3), name: one('string', 4) };
  const prim = primitiveFields(5, { allowEmptyValue });
  const last = Math.max(...Object.values(prim).map((f) => f.id));
  return { fields: { ...common, ...prim, vendorExtension: vendor(last + 1) } };
}

const messages: Record<string, MessageDesc> = {
  AdditionalPropertiesItem: { fields: { schema: one('Schema', 1), boolean: one('bool', 2) } },
  Any: { fields: { value: one('GoogleAny', 1), yaml: one('string', 2) } },
  GoogleAny: { fields: { typeUrl: one('string', 1), value: one('bytes', 2) } },
  ApiKeySecurity: { fields: { type: one('string', 1), name: one('string', 2), in: one('string', 3), description: one('string', 4), vendorExtension: vendor(5) } },
  BasicAuthenticationSecurity: { fields: { type: one('string', 1), description: one('string', 2), vendorExtension: vendor(3) } },
  BodyParameter: {
    fields: {
      description: one('string', 1),
      name: one('string', 2),
      in: one('string', 3),
      required: one('bool', 4),
      schema: one('Schema', 5),
      vendorExtension: vendor(6),
    },
  },
  Contact: { fields: { name: one('string', 1), url: one('string', 2), email: one('string', 3), vendorExtension: vendor(4) } },
  Definitions: { fields: { additionalProperties: rep('NamedSchema', 1) } },
  Document: {
    fields: {
      swagger: one('string', 1),
      info: one('Info', 2),
      host: one('string', 3),
      basePath: one('string', 4),
      schemes: rep('string', 5),
      consumes: rep('string', 6),
      produces: rep('string', 7),
      paths: one('Paths', 8),
      definitions: one('Definitions', 9),
      parameters: one('ParameterDefinitions', 10),
      responses: one('ResponseDefinitions', 11),
      security: rep('SecurityRequirement', 12),
      securityDefinitions: one('SecurityDefinitions', 13),
      tags: rep('Tag', 14),
      externalDocs: one('ExternalDocs', 15),
      vendorExtension: vendor(16),
    },
  },
  Examples: { fields: { additionalProperties: rep('NamedAny', 1) } },
  ExternalDocs: { fields: { description: one('string', 1), url: one('string', 2), vendorExtension: vendor(3) } },
  FileSchema: {
    fields: {
      format: one('string', 1),
      title: one('string', 2),
      description: one('string', 3),
      default: one('Any', 4),
      required: rep('string', 5),
      type: one('string', 6),
      readOnly: one('bool', 7),
      externalDocs: one('ExternalDocs', 8),
      example: one('Any', 9),
      vendorExtension: vendor(10),
    },
  },
  FormDataParameterSubSchema: parameterSubSchema(true),
  Header: { fields: { ...primitiveFields(1), description: one('string', 18), vendorExtension: vendor(19) } },
  HeaderParameterSubSchema: parameterSubSchema(false),
  Headers: { fields: { additionalProperties: rep('NamedHeader', 1) } },
  Info: {
    fields: {
      title: one('string', 1),
      version: one('string', 2),
      description: one('string', 3),
      termsOfService: one('string', 4),
      contact: one('Contact', 5),
      license: one('License', 6),
      vendorExtension: vendor(7),
    },
  },
  ItemsItem: { fields: { schema: rep('Schema', 1) } },
  JsonReference: { fields: { xRef: one('string', 1), description: one('string', 2) } },
  License: { fields: { name: one('string', 1), url: one('string', 2), vendorExtension: vendor(3) } },
  NamedAny: named('Any'),
  NamedHeader: named('Header'),
  NamedParameter: named('Parameter'),
  NamedPathItem: named('PathItem'),
  NamedResponse: named('Response'),
  NamedResponseValue: named('ResponseValue'),
  NamedSchema: named('Schema'),
  NamedSecurityDefinitionsItem: named('SecurityDefinitionsItem'),
  NamedString: named('string'),
  NamedStringArray: named('StringArray'),
  NonBodyParameter: {
    fields: {
      headerParameterSubSchema: one('HeaderParameterSubSchema', 1),
      formDataParameterSubSchema: one('FormDataParameterSubSchema', 2),
      queryParameterSubSchema: one('QueryParameterSubSchema', 3),
      pathParameterSubSchema: one('PathParameterSubSchema', 4),
    },
  },
  Oauth2AccessCodeSecurity: {
    fields: {
      type: one('string', 1),
      flow: one('string', 2),
      scopes: one('Oauth2Scopes', 3),
      authorizationUrl: one('string', 4),
      tokenUrl: one('string', 5),
      description: one('string', 6),
      vendorExtension: vendor(7),
    },
  },
  Oauth2ApplicationSecurity: {
    fields: { type: one('string', 1), flow: one('string', 2), scopes: one('Oauth2Scopes', 3), tokenUrl: one('string', 4), description: one('string', 5), vendorExtension: vendor(6) },
  },
  Oauth2ImplicitSecurity: {
    fields: {
      type: one('string', 1),
      flow: one('string', 2),
      scopes: one('Oauth2Scopes', 3),
      authorizationUrl: one('string', 4),
      description: one('string', 5),
      vendorExtension: vendor(6),
    },
  },
  Oauth2PasswordSecurity: {
    fields: { type: one('string', 1), flow: one('string', 2), scopes: one('Oauth2Scopes', 3), tokenUrl: one('string', 4), description: one('string', 5), vendorExtension: vendor(6) },
  },
  Oauth2Scopes: { fields: { additionalProperties: rep('NamedString', 1) } },
  Operation: {
    fields: {
      tags: rep('string', 1),
      summary: one('string', 2),
      description: one('string', 3),
      externalDocs: one('ExternalDocs', 4),
      operationId: one('string', 5),
      produces: rep('string', 6),
      consumes: rep('string', 7),
      parameters: rep('ParametersItem', 8),
      responses: one('Responses', 9),
      schemes: rep('string', 10),
      deprecated: one('bool', 11),
      security: rep('SecurityRequirement', 12),
      vendorExtension: vendor(13),
    },
  },
  Parameter: { fields: { bodyParameter: one('BodyParameter', 1), nonBodyParameter: one('NonBodyParameter', 2) } },
  ParameterDefinitions: { fields: { additionalProperties: rep('NamedParameter', 1) } },
  ParametersItem: { fields: { parameter: one('Parameter', 1), jsonReference: one('JsonReference', 2) } },
  PathItem: {
    fields: {
      xRef: one('string', 1),
      get: one('Operation', 2),
      put: one('Operation', 3),
      post: one('Operation', 4),
      delete: one('Operation', 5),
      options: one('Operation', 6),
      head: one('Operation', 7),
      patch: one('Operation', 8),
      parameters: rep('ParametersItem', 9),
      vendorExtension: vendor(10),
    },
  },
  PathParameterSubSchema: parameterSubSchema(false),
  Paths: { fields: { vendorExtension: vendor(1), path: rep('NamedPathItem', 2) } },
  PrimitivesItems: { fields: { ...primitiveFields(1), vendorExtension: vendor(18) } },
  Properties: { fields: { additionalProperties: rep('NamedSchema', 1) } },
  QueryParameterSubSchema: parameterSubSchema(true),
  Response: {
    fields: { description: one('string', 1), schema: one('SchemaItem', 2), headers: one('Headers', 3), examples: one('Examples', 4), vendorExtension: vendor(5) },
  },
  ResponseDefinitions: { fields: { additionalProperties: rep('NamedResponse', 1) } },
  ResponseValue: { fields: { response: one('Response', 1), jsonReference: one('JsonReference', 2) } },
  Responses: { fields: { responseCode: rep('NamedResponseValue', 1), vendorExtension: vendor(2) } },
  Schema: {
    fields: {
      xRef: one('string', 1),
      format: one('string', 2),
      title: one('string', 3),
      description: one('string', 4),
      default: one('Any', 5),
      multipleOf: one('double', 6),
      maximum: one('double', 7),
      exclusiveMaximum: one('bool', 8),
      minimum: one('double', 9),
      exclusiveMinimum: one('bool', 10),
      maxLength: one('int64', 11),
      minLength: one('int64', 12),
      pattern: one('string', 13),
      maxItems: one('int64', 14),
      minItems: one('int64', 15),
      uniqueItems: one('bool', 16),
      maxProperties: one('int64', 17),
      minProperties: one('int64', 18),
      required: rep('string', 19),
      enum: rep('Any', 20),
      additionalProperties: one('AdditionalPropertiesItem', 21),
      type: one('TypeItem', 22),
      items: one('ItemsItem', 23),
      allOf: rep('Schema', 24),
      properties: one('Properties', 25),
      discriminator: one('string', 26),
      readOnly: one('bool', 27),
      xml: one('Xml', 28),
      externalDocs: one('ExternalDocs', 29),
      example: one('Any', 30),
      vendorExtension: vendor(31),
    },
  },
  SchemaItem: { fields: { schema: one('Schema', 1), fileSchema: one('FileSchema', 2) } },
  SecurityDefinitions: { fields: { additionalProperties: rep('NamedSecurityDefinitionsItem', 1) } },
  SecurityDefinitionsItem: {
    fields: {
      basicAuthenticationSecurity: one('BasicAuthenticationSecurity', 1),
      apiKeySecurity: one('ApiKeySecurity', 2),
      oauth2ImplicitSecurity: one('Oauth2ImplicitSecurity', 3),
      oauth2PasswordSecurity: one('Oauth2PasswordSecurity', 4),
      oauth2ApplicationSecurity: one('Oauth2ApplicationSecurity', 5),
      oauth2AccessCodeSecurity: one('Oauth2AccessCodeSecurity', 6),
    },
  },
  SecurityRequirement: { fields: { additionalProperties: rep('NamedStringArray', 1) } },
  StringArray: { fields: { value: rep('string', 1) } },
  Tag: { fields: { name: one('string', 1), description: one('string', 2), externalDocs: one('ExternalDocs', 3), vendorExtension: vendor(4) } },
  TypeItem: { fields: { value: rep('string', 1) } },
  Xml: {
    fields: {
      name: one('string', 1),
      namespace: one('string', 2),
      prefix: one('string', 3),
      attribute: one('bool', 4),
      wrapped: one('bool', 5),
      vendorExtension: vendor(6),
    },
  },
};

/** Root descriptor: package openapi.v2. */
export const GNOSTIC_OPENAPI_V2_DESCRIPTOR = { nested: { openapi: { nested: { v2: { nested: messages } } } } };
