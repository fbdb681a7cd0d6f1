// Generates src/generated/schema.ts (wire types) from the contract with openapi-typescript.
// Run by codegen/generate.py (see codegen/config/typescript.yaml): node generate-types.mjs CONTRACT OUTPUT HEADER
// Enums become open unions ("a" | "b" | (string & {})) so values added to the contract later still type-check
// and decode; the SDK never rejects an unknown enum value (docs/runtime-policy.md, lenient decoding).
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [contract, output, header] = process.argv.slice(2);
if (!contract || !output || !header) {
  console.error("usage: node generate-types.mjs CONTRACT OUTPUT HEADER");
  process.exit(2);
}

const { factory } = ts;

/** `(string & {})`: accepts any string while keeping editor completion for the known literals. */
const anyOtherString = factory.createParenthesizedType(
  factory.createIntersectionTypeNode([
    factory.createKeywordTypeNode(ts.SyntaxKind.StringKeyword),
    factory.createTypeLiteralNode([]),
  ]),
);

/** Named enum components (`#/components/schemas/EventStatus`). */
const isEnumComponent = (path) => /^#\/components\/schemas\/[^/]+$/.test(path ?? "");
/**
 * openapi-typescript turns a discriminator's `const` into a one-value enum and marks it in the description;
 * those must stay closed or `switch (target.kind)` could no longer narrow the union.
 */
const isDiscriminator = (schema) => String(schema.description ?? "").includes("enum property replaced by openapi-typescript");

const ast = await openapiTS(pathToFileURL(contract), {
  // Request fields with a server-side default stay optional for callers.
  defaultNonNullable: false,
  transform(schemaObject, metadata) {
    if (!isEnumComponent(metadata.path) || isDiscriminator(schemaObject)) return undefined;
    const values = schemaObject.enum;
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === "string")) return undefined;
    const members = values.map((v) => factory.createLiteralTypeNode(factory.createStringLiteral(v)));
    const types = [...members, anyOtherString];
    const nullable = Array.isArray(schemaObject.type) && schemaObject.type.includes("null");
    if (nullable) types.push(factory.createLiteralTypeNode(factory.createNull()));
    return factory.createUnionTypeNode(types);
  },
});

writeFileSync(output, `// ${header}\n// Wire types of openapi.yaml, produced by openapi-typescript (scripts/generate-types.mjs).\n\n${astToString(ast)}`);
