export * from './rules.ts';
export * from './policy.ts';
