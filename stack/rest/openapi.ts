// GET / : the OpenAPI 2.0 (Swagger) description of the exposed schema, in PostgREST's default
// `openapi-mode = follow-privileges`: only the tables and functions the requesting role may use.
// Checked against PostgREST/postgrest:src/library/PostgREST/Response/OpenAPI.hs (makePathItem, makeProperty,
// makeProcPathItem, postgrestSpec) and docs/references/api/openapi.rst.
import type { Column, Routine, SchemaCache, Table } from "./schema-cache.ts";

/** Swagger type and format of a column (OpenAPI.hs toSwaggerType). */
function swaggerType(type: string): { type: string; format: string; items?: { type: string } } {
  const base = type.replace(/\[\]$/, "");
  const isArray = type.endsWith("[]");
  const scalar = (t: string) => {
    if (["integer", "smallint", "bigint"].includes(t)) return "integer";
    if (["numeric", "real", "double precision"].includes(t)) return "number";
    if (t === "boolean") return "boolean";
    if (t === "json" || t === "jsonb") return "any";
    return "string";
  };
  if (isArray) return { type: "array", format: type, items: { type: scalar(base) } };
  const t = scalar(base);
  return t === "any" ? { type: "string", format: type } : { type: t, format: type };
}

function property(table: Table, col: Column): Record<string, unknown> {
  const prop: Record<string, unknown> = { ...swaggerType(col.type) };
  if (col.default !== undefined) prop.default = col.default;
  if (col.enum) prop.enum = col.enum;
  let description = col.description ?? "";
  if (table.pk.includes(col.name)) description = `${description ? `${description}\n\n` : ""}Note:\nThis is a Primary Key.<pk/>`;
  if (description) prop.description = description;
  return prop;
}

function definition(table: Table): Record<string, unknown> {
  const def: Record<string, unknown> = {
    type: "object",
    properties: Object.fromEntries(table.columns.map((c) => [c.name, property(table, c)])),
  };
  const required = table.columns.filter((c) => !c.nullable && c.default === undefined && !c.generated).map((c) => c.name);
  if (required.length) def.required = required;
  if (table.description) def.description = table.description;
  return def;
}

const ref = (name: string) => ({ $ref: `#/parameters/${name}` });

function tablePaths(table: Table): Record<string, unknown> {
  const tag = [table.name];
  const rowFilters = table.columns.map((c) => ({ $ref: `#/parameters/rowFilter.${table.name}.${c.name}` }));
  const ok = { description: "OK" };
  const item: Record<string, unknown> = {
    get: {
      tags: tag, summary: table.description,
      parameters: [...rowFilters, ref("select"), ref("order"), ref("range"), ref("rangeUnit"), ref("offset"), ref("limit"), ref("preferCount")],
      responses: { 200: { description: "OK", schema: { type: "array", items: { $ref: `#/definitions/${table.name}` } } }, 206: { description: "Partial Content" } },
    },
  };
  if (table.insertable) item.post = { tags: tag, parameters: [ref(`body.${table.name}`), ref("select"), ref("preferPost")], responses: { 201: { description: "Created" } } };
  if (table.updatable) item.patch = { tags: tag, parameters: [...rowFilters, ref(`body.${table.name}`), ref("preferReturn")], responses: { 204: { description: "No Content" } } };
  if (table.deletable) item.delete = { tags: tag, parameters: [...rowFilters, ref("preferReturn")], responses: { 204: { description: "No Content" } } };
  void ok;
  return item;
}

function routinePath(r: Routine): Record<string, unknown> {
  const args = r.args.filter((a) => a.name !== "");
  const schema = {
    type: "object",
    properties: Object.fromEntries(args.map((a) => [a.name, swaggerType(a.type)])),
    required: args.filter((a) => !a.hasDefault).map((a) => a.name),
  };
  const post = {
    tags: ["(rpc) " + r.name], summary: r.description,
    parameters: [{ required: true, schema, in: "body", name: "args" }, ref("preferParams")],
    produces: ["application/json", "application/vnd.pgrst.object+json;nulls=stripped", "application/vnd.pgrst.object+json"],
    responses: { 200: { description: "OK" } },
  };
  const item: Record<string, unknown> = { post };
  if (r.volatility !== "volatile") {
    item.get = {
      tags: ["(rpc) " + r.name], summary: r.description,
      parameters: args.map((a) => ({ in: "query", name: a.name, required: !a.hasDefault, ...swaggerType(a.type) })),
      responses: { 200: { description: "OK" } },
    };
  }
  return item;
}

export interface OpenApiOptions {
  schema: string;
  apiUrl: string;
  /** Tables and functions the role may use (follow-privileges). */
  visibleTables: Set<string>;
  visibleRoutines: Set<string>;
}

export function openApi(cache: SchemaCache, opts: OpenApiOptions): unknown {
  const tables = [...cache.tables.values()].filter((t) => t.schema === opts.schema && opts.visibleTables.has(t.name));
  const routines = [...cache.routines.values()].flat().filter((r) => r.schema === opts.schema && opts.visibleRoutines.has(r.name));
  const url = new URL(opts.apiUrl);
  const paths: Record<string, unknown> = { "/": { get: { tags: ["Introspection"], summary: "OpenAPI description (this document)", produces: ["application/openapi+json", "application/json"], responses: { 200: { description: "OK" } } } } };
  for (const t of tables) paths[`/${t.name}`] = tablePaths(t);
  for (const r of routines) paths[`/rpc/${r.name}`] = routinePath(r);
  const parameters: Record<string, unknown> = {
    preferParams: { name: "Prefer", description: "Preference", required: false, enum: ["params=single-object"], in: "header", type: "string" },
    preferReturn: { name: "Prefer", description: "Preference", required: false, enum: ["return=representation", "return=minimal", "return=none"], in: "header", type: "string" },
    preferCount: { name: "Prefer", description: "Preference", required: false, enum: ["count=none"], in: "header", type: "string" },
    preferPost: { name: "Prefer", description: "Preference", required: false, enum: ["return=representation", "return=minimal", "return=none", "resolution=ignore-duplicates", "resolution=merge-duplicates"], in: "header", type: "string" },
    select: { name: "select", description: "Filtering Columns", required: false, in: "query", type: "string" },
    on_conflict: { name: "on_conflict", description: "On Conflict", required: false, in: "query", type: "string" },
    order: { name: "order", description: "Ordering", required: false, in: "query", type: "string" },
    range: { name: "Range", description: "Limiting and Pagination", required: false, in: "header", type: "string" },
    rangeUnit: { name: "Range-Unit", description: "Limiting and Pagination", required: false, default: "items", in: "header", type: "string" },
    offset: { name: "offset", description: "Limiting and Pagination", required: false, in: "query", type: "string" },
    limit: { name: "limit", description: "Limiting and Pagination", required: false, in: "query", type: "string" },
  };
  for (const t of tables) {
    parameters[`body.${t.name}`] = { name: t.name, description: t.name, required: false, in: "body", schema: { $ref: `#/definitions/${t.name}` } };
    for (const c of t.columns) {
      parameters[`rowFilter.${t.name}.${c.name}`] = { name: c.name, required: false, format: c.type, in: "query", type: "string" };
    }
  }
  return {
    swagger: "2.0",
    info: { description: "", title: "standard public schema", version: "local-stack" },
    host: url.host,
    basePath: "/",
    schemes: [url.protocol.replace(":", "")],
    consumes: ["application/json", "application/vnd.pgrst.object+json;nulls=stripped", "application/vnd.pgrst.object+json", "text/csv"],
    produces: ["application/json", "application/vnd.pgrst.object+json;nulls=stripped", "application/vnd.pgrst.object+json", "text/csv"],
    paths,
    definitions: Object.fromEntries(tables.map((t) => [t.name, definition(t)])),
    parameters,
    externalDocs: { description: "PostgREST Documentation", url: "https://postgrest.org/en/latest/references/api.html" },
  };
}
