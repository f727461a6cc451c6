// Environment access for index.ts files: fail at boot with a message that names what is missing.

/** The value of a required environment variable, or an error that names it. */
export function requireEnv(name: string): string {
  const value = Deno.env.get(name);
  if (value === undefined || value === "") throw new Error(`environment variable ${name} is not set`);
  return value;
}
