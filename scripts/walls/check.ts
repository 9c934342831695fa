/**
 * Holds the code to the walls of scripts/walls/rules.ts and prints every breach, one a line.
 *
 * Imports are read with TypeScript's own pre-processor (`preProcessFile`), which sees static,
 * type-only, re-exported and `import()` imports and ignores import-shaped text inside strings.
 * dependency-cruiser was the first choice; it reads TypeScript only through the `typescript`
 * package below version 7 (this project builds with 7) and its swc parser cannot read TSX, so
 * TypeScript 5's parser is installed beside 7 under the name `typescript-5` for this check alone.
 *
 * `npm run walls` exits 1 when a wall is broken; test/walls.test.ts runs the same check.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript-5';
import { IMPORT_WALLS, NO_CIRCLES_IN, SOURCE_ROOTS, TEXT_WALLS, type ImportWall, type TextWall } from './rules.ts';

export interface Breach {
  wall: string;
  file: string;
  /** What broke it: the imported path or package, the literal, or the circle. */
  what: string;
}

export interface SourceFile {
  /** Repository-relative, forward slashes. */
  path: string;
  text: string;
}

const SOURCE_EXTENSIONS = /\.(ts|tsx|mts|mjs|js)$/;

/** Every product source file under the roots (no declaration files, no generated bundles). */
export function readSources(repoRoot: string, roots: readonly string[] = SOURCE_ROOTS): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(repoRoot, dir))) {
      if (entry === 'node_modules' || entry === 'dist') continue;
      const relative = `${dir}/${entry}`;
      if (statSync(path.join(repoRoot, relative)).isDirectory()) walk(relative);
      else if (SOURCE_EXTENSIONS.test(entry) && !entry.endsWith('.d.ts')) {
        files.push({ path: relative, text: readFileSync(path.join(repoRoot, relative), 'utf8') });
      }
    }
  };
  for (const root of roots) {
    try { walk(root); } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; }
  }
  return files;
}

/** What a file imports: repository paths for relative imports, package names for the rest. */
export function importsOf(file: SourceFile, known: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const { fileName } of ts.preProcessFile(file.text, true, true).importedFiles) {
    if (fileName.startsWith('.')) {
      const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), fileName));
      found.push(resolveRelative(joined, known));
    } else {
      found.push(fileName);
    }
  }
  return found;
}

function resolveRelative(joined: string, known: ReadonlySet<string>): string {
  if (known.has(joined)) return joined;
  for (const suffix of ['.ts', '.tsx', '/index.ts', '/index.tsx', '.mjs', '.js']) {
    if (known.has(joined + suffix)) return joined + suffix;
  }
  const asTs = joined.replace(/\.js$/, '.ts');
  return known.has(asTs) ? asTs : joined;
}

/** Every string literal and template text of a file, as written. */
export function literalsOf(file: SourceFile): string[] {
  const kind = file.path.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, kind);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      // Module specifiers are imports, which the import walls judge.
      if (!(node.parent && (ts.isImportDeclaration(node.parent) || ts.isExportDeclaration(node.parent)))) found.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function breaksImportWall(wall: ImportWall, from: string, to: string): boolean {
  if (!wall.from.test(from) || !wall.to.test(to)) return false;
  return !(wall.except ?? []).some((exception) => exception.path.test(from));
}

function breaksTextWall(wall: TextWall, file: string, literal: string): boolean {
  return wall.literal.test(literal) && !wall.allowedIn.test(file);
}

export function checkWalls(files: readonly SourceFile[], walls: { imports?: readonly ImportWall[]; texts?: readonly TextWall[]; circlesIn?: RegExp; definitions?: boolean } = {}): Breach[] {
  const importWalls = walls.imports ?? IMPORT_WALLS;
  const textWalls = walls.texts ?? TEXT_WALLS;
  const circlesIn = walls.circlesIn ?? NO_CIRCLES_IN;
  const known = new Set(files.map((file) => file.path));
  const breaches: Breach[] = [];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const imports = importsOf(file, known);
    graph.set(file.path, imports.filter((target) => known.has(target)));
    for (const target of imports) {
      for (const wall of importWalls) {
        if (breaksImportWall(wall, file.path, target)) breaches.push({ wall: wall.name, file: file.path, what: target });
      }
    }
    if (textWalls.length > 0) {
      for (const literal of literalsOf(file)) {
        for (const wall of textWalls) {
          if (breaksTextWall(wall, file.path, literal)) breaches.push({ wall: wall.name, file: file.path, what: JSON.stringify(literal) });
        }
      }
    }
  }
  if (walls.definitions !== false) breaches.push(...duplicateDefinitions(files.filter((file) => /^(client|server|shared|sw)\//.test(file.path))));
  for (const circle of circlesOf(graph, circlesIn)) {
    breaches.push({ wall: 'no-circles', file: circle[0]!, what: [...circle.slice(1), circle[0]].join(' -> ') });
  }
  return breaches;
}

/** Strongly connected groups of two or more files (Tarjan), each as a list of its files. */
function circlesOf(graph: ReadonlyMap<string, readonly string[]>, within: RegExp): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!within.test(next)) continue;
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) circles.push(group.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) {
    if (within.test(node) && !index.has(node)) connect(node);
  }
  return circles;
}

/**
 * Names exported by more than one product file. Two exported `actorOf`s (or two id recipes, two
 * time formatters) are one concept defined twice: the copies drift, and device and server, or two
 * routes, then disagree without a word. A name that means two different things is renamed.
 */
export function duplicateDefinitions(files: readonly SourceFile[]): Breach[] {
  const homes = new Map<string, string[]>();
  for (const file of files) {
    if (!/\.(ts|tsx|mts)$/.test(file.path)) continue;
    const kind = file.path.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
    const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, kind);
    for (const statement of source.statements) {
      const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (!exported) continue;
      const names: string[] = [];
      if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) names.push(statement.name.text);
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) if (ts.isIdentifier(declaration.name)) names.push(declaration.name.text);
      }
      for (const name of names) homes.set(name, [...(homes.get(name) ?? []), file.path]);
    }
  }
  return [...homes].filter(([, where]) => where.length > 1).sort(([a], [b]) => a.localeCompare(b))
    .map(([name, where]) => ({ wall: 'one-definition', file: name, what: where.sort().join(', ') }));
}

export function formatBreach(breach: Breach): string {
  return `${breach.wall}: ${breach.file} -> ${breach.what}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const breaches = checkWalls(readSources(repoRoot));
  for (const breach of breaches) console.log(formatBreach(breach));
  const why = new Map([...IMPORT_WALLS, ...TEXT_WALLS].map((wall) => [wall.name, wall.why]));
  for (const name of new Set(breaches.map((breach) => breach.wall))) console.log(`\n${name}: ${why.get(name) ?? (name === 'one-definition' ? 'an exported name defined in two files is one concept written twice: keep one home and import it.' : 'a circle of imports is one concept split over two places: split or merge the files.')}`);
  console.log(breaches.length === 0 ? 'walls: all hold' : `walls: ${breaches.length} breach(es)`);
  process.exit(breaches.length === 0 ? 0 : 1);
}
