// SaxonJS 2 ships no types; the worker uses these two calls.
declare module 'saxon-js' {
  const SaxonJS: {
    transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: unknown };
    XPath: { evaluate(expression: string, context: unknown, options: Record<string, unknown>): unknown };
  };
  export default SaxonJS;
}
