/**
 * What a failed test prints about the parts it ran: each server, browser page or stand-in the
 * support code starts registers a description here, and the setup file (setup.ts) prints them
 * all when a test fails. A failure on a loaded CI machine that never happens here ("the panel
 * never showed") then says where things stood: the hook outbox, the last commits, each page.
 */
type Describe = () => Promise<string> | string;

const sources = new Set<{ label: string; describe: Describe }>();

/** Registers `describe` under `label` until the returned function is called. */
export function describeOnFailure(label: string, describe: Describe): () => void {
  const source = { label, describe };
  sources.add(source);
  return () => {
    sources.delete(source);
  };
}

/** Every registered description, each given at most `budgetMs` (a hung page must not hang the report). */
export async function describeAll(budgetMs = 5000): Promise<string> {
  const parts = await Promise.all([...sources].map(async ({ label, describe }) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve(`(no description within ${budgetMs} ms)`), budgetMs); });
    try {
      const text = await Promise.race([Promise.resolve().then(describe), late]);
      return `--- ${label}\n${text}`;
    } catch (error) {
      return `--- ${label}\n(could not be described: ${error instanceof Error ? error.message : String(error)})`;
    } finally {
      clearTimeout(timer);
    }
  }));
  return parts.join('\n');
}
