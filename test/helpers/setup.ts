// RxDB's open-core storage prints a notice on first use; it says nothing about the test.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('RxDB Open Core')) return;
  warn(...args);
};
