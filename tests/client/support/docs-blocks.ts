// The TypeScript code blocks of a Markdown page, each named by its heading and its place under that heading, so a
// test can run every block as written and notice a block that is new, moved or gone.
import ts from "typescript";

export interface DocBlock {
  /** "<heading> #<n>": the nearest heading above the block and the block's ordinal below it (1-based). */
  id: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

/** Every ```ts block (also indented ones inside lists), in page order. */
export function tsBlocks(markdown: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  let heading = "(top)";
  let ordinal = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) {
      heading = h[1]!.trim();
      ordinal = 0;
      continue;
    }
    const fence = /^(\s*)```(ts|typescript)\s*$/.exec(line);
    if (!fence) {
      // Skip other fenced blocks whole, so a "#" line inside them is not taken for a heading.
      const other = /^(\s*)```\S*\s*$/.exec(line);
      if (other) while (++i < lines.length && !/^\s*```\s*$/.test(lines[i]!));
      continue;
    }
    const indent = fence[1]!.length;
    const body: string[] = [];
    const start = i + 1;
    while (++i < lines.length && !/^\s*```\s*$/.test(lines[i]!)) body.push(lines[i]!.slice(indent));
    blocks.push({ id: `${heading} #${++ordinal}`, line: start, code: body.join("\n") });
  }
  return blocks;
}

/** The block as JavaScript: types erased, `import` lines removed (the test provides what they import). */
export function toJavaScript(code: string): string {
  const withoutImports = code
    .split("\n")
    .filter((l) => !/^\s*import\s/.test(l))
    .join("\n");
  return ts.transpileModule(withoutImports, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    reportDiagnostics: false,
  }).outputText;
}

type AsyncFn = (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => AsyncFn;

/**
 * Runs a block with `scope` as its free variables. The block runs in its own block scope, so it may declare names
 * the scope also provides (`const supabase = createClient(...)`).
 */
export async function runBlock(code: string, scope: Record<string, unknown>): Promise<void> {
  const names = Object.keys(scope);
  const fn = new AsyncFunction(...names, `{\n${toJavaScript(code)}\n}`);
  await fn(...names.map((n) => scope[n]));
}
